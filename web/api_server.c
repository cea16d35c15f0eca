/* What the server says about itself, and who may ask: GET /ping, /api/v1/configs, /api/v1/version, /health (and the
 * management port's /health, /health/liveness, /health/readiness, /version), and Kestra OSS's basic auth
 * (KESTRA-system.md §1 "Basic auth", webserver/filter/AuthenticationFilter.java): when enabled, every request but
 * the open URLs' (path prefixes) and the management port's needs `Authorization: Basic base64(user:password)`,
 * else 401 with `WWW-Authenticate: Basic realm=<realm>` and no body. */
#include "base/alloc.h"
#include "base/base64.h"
#include "base/clock.h"
#include "web/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

/* Kestra refuses to start when the configured username is not an e-mail address (BasicAuthService): the check is
 * the same shape, something@something.something. */
static int kt_api_looks_like_email(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@'))
        return 0;
    const char *dot = strrchr(at + 1, '.');
    return dot && dot > at + 1 && dot[1];
}

kt_status kt_api_auth_init(kt_webserver *w, const kt_webserver_config *cfg, char *err, size_t errcap)
{
    if (!cfg || !cfg->basic_auth_enabled)
        return KT_OK;
    const char *u = cfg->basic_auth_username, *p = cfg->basic_auth_password;
    if (!u || !*u || !p || !*p) {
        snprintf(err, errcap, "server.basic-auth: enabled without a username and a password");
        return KT_EINVAL;
    }
    if (!kt_api_looks_like_email(u)) {
        snprintf(err, errcap, "server.basic-auth.username: Invalid username for Basic Authentication. Please provide a "
                              "valid email address.");
        return KT_EINVAL;
    }
    size_t n = strlen(u) + strlen(p) + 2;
    char *pair = kt_xmalloc(n);
    snprintf(pair, n, "%s:%s", u, p);
    w->auth_expected = kt_base64_encode(pair, strlen(pair)); /* what a correct header carries after "Basic " */
    memset(pair, 0, n);
    free(pair);
    if (!w->auth_expected)
        return KT_ENOMEM;
    snprintf(w->auth_challenge, sizeof w->auth_challenge, "Basic realm=%s",
             cfg->basic_auth_realm && *cfg->basic_auth_realm ? cfg->basic_auth_realm : "Kestra");
    w->auth_open_urls = kt_xstrdup(cfg->basic_auth_open_urls ? cfg->basic_auth_open_urls : "");
    return KT_OK;
}

void kt_api_auth_free(kt_webserver *w)
{
    if (w->auth_expected)
        memset(w->auth_expected, 0, strlen(w->auth_expected));
    free(w->auth_expected);
    free(w->auth_open_urls);
    w->auth_expected = w->auth_open_urls = NULL;
}

/* Compares every byte whatever the first difference, so the answer time does not tell how much of a guess was right. */
static int kt_api_secret_equal(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < blen; i++)
        diff |= (unsigned char)((i < alen ? (unsigned char)a[i] : 0) ^ (unsigned char)b[i]);
    return diff == 0;
}

static int kt_api_open_url(const kt_webserver *w, const char *path)
{
    for (const char *p = w->auth_open_urls; p && *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l && !strncmp(path, p, l))
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

int kt_api_auth_guard(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    if (!w->auth_expected)
        return 0;
    const char *path = kt_http_path(r);
    /* /health is a management endpoint in Kestra, never behind auth: Kite serves it on the main port too */
    if (!path || kt_api_open_url(w, path) || !strcmp(path, "/health") || !strncmp(path, "/health/", 8))
        return 0;
    const char *h = kt_http_header(r, "authorization");
    if (h && !strncasecmp(h, "Basic ", 6)) {
        const char *cred = h + 6;
        while (*cred == ' ')
            cred++;
        size_t len = strlen(cred);
        while (len && cred[len - 1] == ' ')
            len--;
        if (kt_api_secret_equal(cred, len, w->auth_expected))
            return 0;
    }
    kt_http_add_header(r, "WWW-Authenticate", w->auth_challenge);
    kt_http_send_empty(r, 401);
    return 1;
}

/* ---- /ping, /api/v1/configs, /api/v1/version ------------------------------------------------------------------- */

void kt_api_ping(kt_http_req *r, void *ud)
{
    (void)ud;
    kt_http_send(r, 200, "text/plain", "pong", 4);
}

void kt_api_configs(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    json_t *c = json_pack("{s:s, s:s, s:b, s:b, s:b, s:b, s:{s:i, s:i}, s:b, s:s, s:[s,s]}", "uuid", w->instance_uuid,
                          "version", KT_API_KESTRA_VERSION, "isCustomDashboardsEnabled", 0, "isTaskRunEnabled", 0,
                          "isAnonymousUsageEnabled", 0, "isTemplateEnabled", 0, "preview", "initial", 100, "max", 5000,
                          "isBasicAuthEnabled", w->auth_expected != NULL, "systemNamespace", "system",
                          "hiddenLabelsPrefixes", "system.", "internal.");
    json_object_set_new(c, "commitId", json_string(KT_API_COMMIT));
    if (w->env_name[0] || w->env_color[0]) {
        json_t *e = json_object();
        if (w->env_name[0])
            json_object_set_new(e, "name", json_string(w->env_name));
        if (w->env_color[0])
            json_object_set_new(e, "color", json_string(w->env_color));
        json_object_set_new(c, "environment", e);
    }
    kt_http_send_json(r, 200, c);
}

/* Kestra's VersionEndpoint: {"version", "commit", "commitDate", "type"}; Kite says which server type it is. */
void kt_api_version(kt_http_req *r, void *ud)
{
    (void)ud;
    kt_http_send_json(r, 200, json_pack("{s:s, s:s, s:s, s:s}", "version", KT_API_KESTRA_VERSION "-oss", "commit",
                                        KT_API_COMMIT, "type", "STANDALONE", "implementation", "kite " KT_API_KITE_VERSION));
}

/* ---- /health ------------------------------------------------------------------------------------------------- */

/* Micronaut's health answer: {"name": "kestra", "status", "details": {indicator: {"name", "status", "details"}}},
 * 503 when an indicator is DOWN. Indicators: the repository (it answers a query) and the disk space under the data
 * directory (Micronaut's diskSpace: DOWN under 10 MiB free). */
static json_t *kt_api_health_body(kt_webserver *w, kt_status st, const char *err, int *down)
{
    json_t *details = json_object();
    json_t *repo = json_pack("{s:s, s:s}", "name", "kestra", "status", st ? "DOWN" : "UP");
    if (st)
        json_object_set_new(repo, "details", json_pack("{s:s}", "error", err));
    json_object_set_new(details, "repository", repo);
    *down = st != KT_OK;
    struct statvfs v;
    if (w->data_dir[0] && statvfs(w->data_dir, &v) == 0) {
        unsigned long long free_b = (unsigned long long)v.f_bavail * v.f_frsize,
                           total = (unsigned long long)v.f_blocks * v.f_frsize, threshold = 10ull << 20;
        int low = free_b < threshold;
        *down |= low;
        json_object_set_new(details, "diskSpace",
                            json_pack("{s:s, s:s, s:{s:I, s:I, s:I}}", "name", "kestra", "status", low ? "DOWN" : "UP",
                                      "details", "total", (json_int_t)total, "free", (json_int_t)free_b, "threshold",
                                      (json_int_t)threshold));
    }
    return json_pack("{s:s, s:s, s:o}", "name", "kestra", "status", *down ? "DOWN" : "UP", "details", details);
}

/* How old the repository indicator may be before /health starts a new probe. */
#define KT_API_HEALTH_TTL_US 1000000

typedef struct kt_api_health_probe {
    kt_webserver *w;
    char err[256];
} kt_api_health_probe;

/* The ids of a namespace that cannot exist: one cheap query that says the repository answers. */
static kt_status kt_api_health_probe_run(kt_store *s, void *ud)
{
    kt_api_health_probe *p = ud;
    json_t *rows = NULL;
    kt_status st = kt_store_flow_ids(s, "\x01health", &rows);
    json_decref(rows);
    if (st)
        snprintf(p->err, sizeof p->err, "%s", kt_store_errmsg(s));
    return st;
}

static void kt_api_health_probe_done(kt_status st, void *ud)
{
    kt_api_health_probe *p = ud;
    kt_webserver *w = p->w;
    w->health_probing = 0;
    if (st != KT_ECLOSED) { /* a pool closing says nothing of the repository */
        w->health_st = st;
        snprintf(w->health_err, sizeof w->health_err, "%s", st ? p->err : "");
        w->health_at_us = kt_now_us();
    }
    free(p);
}

/* Micronaut's health endpoint answers from its indicators without queueing behind the application's work; here the
 * repository indicator is the last probe's result (UP before the first: the store answered when the node opened it),
 * answered at once, and a stale one starts a probe through the read pool for the next request. A pool too busy to
 * take it keeps the last result: a saturated pool is not a repository down, and probes that read it DOWN would
 * restart a server that only has work to do. Without a pool the probe runs here. */
void kt_api_health(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    int64_t now = kt_now_us();
    if (!w->pool) {
        kt_api_health_probe p = {.w = w};
        w->health_st = kt_api_health_probe_run(w->store, &p);
        snprintf(w->health_err, sizeof w->health_err, "%s", p.err);
        w->health_at_us = now;
    } else if (!w->health_probing && (!w->health_at_us || now - w->health_at_us >= KT_API_HEALTH_TTL_US)) {
        kt_api_health_probe *p = kt_xcalloc(1, sizeof *p);
        p->w = w;
        if (kt_db_read(w->pool, kt_api_health_probe_run, kt_api_health_probe_done, p) == KT_OK)
            w->health_probing = 1;
        else
            free(p);
    }
    int down = 0;
    json_t *b = kt_api_health_body(w, w->health_st, w->health_err, &down);
    kt_http_send_json(r, down ? 503 : 200, b);
}

/* liveness: the process answers (its loop turns); readiness: as /health */
void kt_api_health_liveness(kt_http_req *r, void *ud)
{
    (void)ud;
    kt_http_send_json(r, 200, json_pack("{s:s, s:s}", "name", "kestra", "status", "UP"));
}

/* ---- GET /api/v1/cluster/nodes ---------------------------------------------------------------------------------- */

/* The nodes this server's node knows (itself and its live peers): id, actors, address, worker slots, state and the
 * date of the last heartbeat heard. Kestra OSS has no such route (its service list is an Enterprise one). */
void kt_api_cluster_nodes(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    json_t *nodes = kt_node_members(kt_actor_node(w->self));
    int64_t now = kt_now_us();
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n) {
        char at[48];
        kt_time_format(now - json_integer_value(json_object_get(n, "lastHeartbeatAgeMs")) * 1000, at, sizeof at);
        json_object_set_new(n, "lastHeartbeatDate", json_string(at));
        json_object_del(n, "lastHeartbeatAgeMs");
    }
    kt_http_send_json(r, 200, nodes);
}
