#include "conf/conf.h"
#include "flow/defaults.h"
#include "flow/yaml.h"
#include "store/store.h"
#include "time/duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* SIZE: bytes, as an integer or Micronaut's "10MB" / "64KB" / "1GB"; DURATION: milliseconds, as an integer or
 * "500ms" / "30s" / "5m" / "1h" / ISO "PT30S"; LIST: a YAML list of strings (or one comma-separated string) kept
 * comma-separated. */
typedef enum kt_conf_kind { KT_CONF_STR, KT_CONF_INT, KT_CONF_BOOL, KT_CONF_SIZE, KT_CONF_DURATION, KT_CONF_LIST } kt_conf_kind;

typedef struct kt_conf_key {
    const char *section, *name;
    kt_conf_kind kind;
    size_t offset, size; /* into kt_conf; size of the char array, or of the integer */
    long min, max;
} kt_conf_key;

#define KT_STR(sec, nm, field) {sec, nm, KT_CONF_STR, offsetof(kt_conf, field), sizeof(((kt_conf *)0)->field), 0, 0}
#define KT_INT(sec, nm, field, lo, hi) {sec, nm, KT_CONF_INT, offsetof(kt_conf, field), sizeof(((kt_conf *)0)->field), lo, hi}
#define KT_BOOL(sec, nm, field) {sec, nm, KT_CONF_BOOL, offsetof(kt_conf, field), sizeof(int), 0, 1}
#define KT_SIZE(sec, nm, field, lo, hi) {sec, nm, KT_CONF_SIZE, offsetof(kt_conf, field), sizeof(uint64_t), lo, hi}
#define KT_DURATION(sec, nm, field, lo, hi) {sec, nm, KT_CONF_DURATION, offsetof(kt_conf, field), sizeof(uint32_t), lo, hi}
#define KT_LIST(sec, nm, field) {sec, nm, KT_CONF_LIST, offsetof(kt_conf, field), sizeof(((kt_conf *)0)->field), 0, 0}

static const kt_conf_key kt_conf_keys[] = {
    KT_STR("server", "host", host),
    KT_INT("server", "port", port, 0, 65535),
    KT_SIZE("server", "max-request-size", max_request_size, 1024, 1L << 30),
    KT_DURATION("server", "read-idle-timeout", read_idle_timeout_ms, 100, 86400000),
    KT_BOOL("server.basic-auth", "enabled", basic_auth_enabled),
    KT_STR("server.basic-auth", "username", basic_auth_username),
    KT_STR("server.basic-auth", "password", basic_auth_password),
    KT_STR("server.basic-auth", "realm", basic_auth_realm),
    KT_LIST("server.basic-auth", "open-urls", basic_auth_open_urls),
    KT_INT("endpoints.all", "port", management_port, 0, 65535),
    KT_STR("environment", "name", environment_name),
    KT_STR("environment", "color", environment_color),
    KT_STR("data", "dir", data_dir),
    KT_STR("store", "url", store_url),
    KT_BOOL("store", "sync-full", sync_full),
    KT_INT("store", "readers", store_readers, 0, 64),
    KT_STR("store", "log-index", store_log_index),
    KT_INT("worker", "slots", slots, 0, 100000),
    KT_STR("worker.python", "find-links", python_find_links),
    KT_STR("worker.python", "venvs", python_venvs),
    KT_STR("cluster", "listen", listen),
    KT_STR("cluster", "join", join),
    KT_STR("cluster", "node-id", node_id),
    KT_INT("cluster", "heartbeat", heartbeat_ms, 10, 3600000),
    KT_INT("cluster", "liveness-timeout", liveness_ms, 50, 86400000),
    KT_STR("log", "level", log_level),
    KT_STR("flows", "dialect", flows_dialect),
    KT_STR("scheduler", "timezone", scheduler_timezone),
    KT_STR("scheduler", "recover-missed-schedules", scheduler_recover),
    KT_DURATION("scheduler", "reconcile-interval", scheduler_reconcile_ms, 100, 86400000),
    /* the internal storage, under Kestra's names (kestra.storage.*) */
    KT_STR("storage", "type", storage_type),
    KT_STR("storage.local", "base-path", storage_base_path),
    KT_STR("storage.s3", "endpoint", s3_endpoint),
    KT_STR("storage.s3", "region", s3_region),
    KT_STR("storage.s3", "bucket", s3_bucket),
    KT_STR("storage.s3", "access-key", s3_access_key),
    KT_STR("storage.s3", "secret-key", s3_secret_key),
    KT_STR("storage.s3", "prefix", s3_prefix),
    KT_BOOL("storage.s3", "force-path-style", s3_force_path_style),
    KT_INT("storage.s3", "part-size", s3_part_size, 5L << 20, 2147483647L),
    /* secrets and envs (base/secrets.h), under Kestra's names */
    KT_STR("variables", "env-vars-prefix", env_vars_prefix),
    KT_STR("encryption", "secret-key", encryption_key),
};
#define KT_CONF_NKEYS (sizeof kt_conf_keys / sizeof *kt_conf_keys)

void kt_conf_defaults(kt_conf *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->host, sizeof c->host, "0.0.0.0");
    c->port = 8080;
    snprintf(c->data_dir, sizeof c->data_dir, "./kite-data");
    c->heartbeat_ms = 1000;
    c->liveness_ms = 10000;
    snprintf(c->log_level, sizeof c->log_level, "info");
    snprintf(c->flows_dialect, sizeof c->flows_dialect, "1.x");
    snprintf(c->env_vars_prefix, sizeof c->env_vars_prefix, "ENV_");
    snprintf(c->scheduler_recover, sizeof c->scheduler_recover, "ALL");
    c->scheduler_reconcile_ms = 60000;
    snprintf(c->storage_type, sizeof c->storage_type, "local");
    snprintf(c->s3_region, sizeof c->s3_region, "us-east-1");
    c->s3_part_size = 8u << 20;
    c->max_request_size = 64u << 20; /* bodies are buffered whole: Kestra's 10GB does not fit in memory */
    c->read_idle_timeout_ms = 60u * 60 * 1000; /* Kestra's 60m: long SSE and wait=true requests */
    snprintf(c->basic_auth_realm, sizeof c->basic_auth_realm, "Kestra");
    snprintf(c->basic_auth_open_urls, sizeof c->basic_auth_open_urls, "/ping,/api/v1/executions/webhook/");
}

/* "10MB" -> 10485760 (Micronaut's readable sizes: KB, MB, GB, binary multiples); a plain integer is bytes. */
static int kt_conf_size(const char *text, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *text == '-')
        return -1;
    unsigned long long mult = 1;
    if (!strcasecmp(end, "kb") || !strcasecmp(end, "k"))
        mult = 1ull << 10;
    else if (!strcasecmp(end, "mb") || !strcasecmp(end, "m"))
        mult = 1ull << 20;
    else if (!strcasecmp(end, "gb") || !strcasecmp(end, "g"))
        mult = 1ull << 30;
    else if (*end && strcasecmp(end, "b"))
        return -1;
    if (v > ~0ull / mult)
        return -1;
    *out = v * mult;
    return 0;
}

/* "30s" / "5m" / "1h" / "500ms" / "2d" / ISO-8601 "PT30S"; a plain integer is milliseconds. */
static int kt_conf_duration(const char *text, unsigned long long *out)
{
    if ((text[0] == 'P' || text[0] == 'p')) {
        int64_t us;
        if (kt_duration_parse(text, &us) || us < 0)
            return -1;
        *out = (unsigned long long)(us / 1000);
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *text == '-')
        return -1;
    unsigned long long mult;
    if (!*end || !strcmp(end, "ms"))
        mult = 1;
    else if (!strcmp(end, "s"))
        mult = 1000;
    else if (!strcmp(end, "m"))
        mult = 60000;
    else if (!strcmp(end, "h"))
        mult = 3600000;
    else if (!strcmp(end, "d"))
        mult = 86400000;
    else
        return -1;
    if (v > ~0ull / mult)
        return -1;
    *out = v * mult;
    return 0;
}

void kt_conf_clear(kt_conf *c)
{
    json_decref(c->plugin_defaults);
    c->plugin_defaults = NULL;
}

/* plugins.defaults: not a scalar like the table's keys but a list, checked entry by entry. Returns a message on
 * error (where gets the path below the key, e.g. "[0].values.k"); an empty list means none. */
static const char *kt_conf_set_defaults(kt_conf *c, const json_t *v, char *where, size_t wherecap, char *msg,
                                        size_t msgcap)
{
    if (json_is_null(v)) {
        kt_conf_clear(c);
        return NULL;
    }
    if (kt_defaults_check(v, where, wherecap, msg, msgcap))
        return msg;
    kt_conf_clear(c);
    if (json_array_size(v))
        c->plugin_defaults = json_deep_copy(v);
    return NULL;
}

/* Stores text as the key's type; returns a message on error. */
static const char *kt_conf_set(kt_conf *c, const kt_conf_key *k, const char *text)
{
    char *field = (char *)c + k->offset;
    if (k->kind == KT_CONF_STR) {
        if (strlen(text) >= k->size)
            return "value too long";
        snprintf(field, k->size, "%s", text);
        return NULL;
    }
    if (k->kind == KT_CONF_BOOL) {
        if (!strcmp(text, "true") || !strcmp(text, "1"))
            *(int *)field = 1;
        else if (!strcmp(text, "false") || !strcmp(text, "0"))
            *(int *)field = 0;
        else
            return "expected true or false";
        return NULL;
    }
    if (k->kind == KT_CONF_LIST) {
        if (strlen(text) >= k->size)
            return "value too long";
        snprintf(field, k->size, "%s", text);
        return NULL;
    }
    if (k->kind == KT_CONF_SIZE || k->kind == KT_CONF_DURATION) {
        unsigned long long u;
        if ((k->kind == KT_CONF_SIZE ? kt_conf_size(text, &u) : kt_conf_duration(text, &u)) ||
            u < (unsigned long long)k->min || u > (unsigned long long)k->max)
            return k->kind == KT_CONF_SIZE ? "expected a size in range (bytes, or with KB, MB, GB)"
                                           : "expected a duration in range (ms, or with ms, s, m, h, d, or PT...)";
        if (k->size == sizeof(uint64_t))
            *(uint64_t *)field = u;
        else
            *(uint32_t *)field = (uint32_t)u;
        return NULL;
    }
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < k->min || v > k->max)
        return "expected an integer in range";
    if (k->size == sizeof(int))
        *(int *)field = (int)v;
    else
        *(uint32_t *)field = (uint32_t)v;
    return NULL;
}

/* Micronaut reads camelCase keys as kebab-case ones (accessKey = access-key): so does Kite. */
static void kt_conf_kebab(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = name; *p && n + 2 < cap; p++) {
        if (isupper((unsigned char)*p)) {
            if (p != name)
                out[n++] = '-';
            out[n++] = (char)tolower((unsigned char)*p);
        } else {
            out[n++] = *p;
        }
    }
    out[n] = 0;
}

/* A YAML list of strings as "a,b,c" (the form the environment variable takes too). */
static const char *kt_conf_join(const json_t *list, char *out, size_t cap)
{
    size_t n = 0, i;
    const json_t *e;
    out[0] = 0;
    json_array_foreach(list, i, e) {
        if (!json_is_string(e))
            return "expected a list of strings";
        const char *s = json_string_value(e);
        if (strchr(s, ','))
            return "a list entry cannot hold a comma";
        int w = snprintf(out + n, cap - n, "%s%s", i ? "," : "", s);
        if (w < 0 || (size_t)w >= cap - n)
            return "value too long";
        n += (size_t)w;
    }
    return NULL;
}

static int kt_conf_is_section(const char *sec)
{
    for (size_t i = 0; i < KT_CONF_NKEYS; i++)
        if (!strcmp(kt_conf_keys[i].section, sec))
            return 1;
    return 0;
}

/* The settings of one section (sec: "server", or "storage.s3" for a map inside a section). */
static kt_status kt_conf_section(kt_conf *c, kt_yaml_doc *doc, const char *path, const char *sec, json_t *sv,
                                 char *err, size_t errcap)
{
    int line = 0, col = 0;
    const char *raw;
    json_t *v;
    json_object_foreach(sv, raw, v) {
        char keypath[256], rawpath[256], name[128];
        kt_conf_kebab(raw, name, sizeof name);
        snprintf(keypath, sizeof keypath, "%s.%s", sec, name);
        snprintf(rawpath, sizeof rawpath, "%s.%s", sec, raw);
        if (!strcmp(keypath, "plugins.defaults")) {
            char where[128], why[256], at[512];
            if (kt_conf_set_defaults(c, v, where, sizeof where, why, sizeof why)) {
                snprintf(at, sizeof at, "%s%s", rawpath, where);
                kt_yaml_doc_locate(doc, at, 0, &line, &col);
                snprintf(err, errcap, "%s:%d:%d %s: %s", path, line, col, at, why);
                return KT_EINVAL;
            }
            continue;
        }
        if (json_is_object(v) && kt_conf_is_section(keypath)) { /* storage: {s3: {...}} */
            kt_status st = kt_conf_section(c, doc, path, keypath, v, err, errcap);
            if (st)
                return st;
            continue;
        }
        const kt_conf_key *k = NULL;
        for (size_t i = 0; i < KT_CONF_NKEYS; i++)
            if (!strcmp(kt_conf_keys[i].section, sec) && !strcmp(kt_conf_keys[i].name, name))
                k = &kt_conf_keys[i];
        const char *msg = NULL;
        char text[1024];
        if (!k)
            msg = "unknown setting (see conf/kite.yml)";
        else if (json_is_string(v))
            snprintf(text, sizeof text, "%s", json_string_value(v));
        else if (json_is_integer(v))
            snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
        else if (json_is_boolean(v))
            snprintf(text, sizeof text, "%s", json_is_true(v) ? "true" : "false");
        else if (json_is_null(v))
            text[0] = 0;
        else if (k && k->kind == KT_CONF_LIST && json_is_array(v))
            msg = kt_conf_join(v, text, sizeof text);
        else
            msg = "expected a scalar";
        if (!msg && k && (k->kind == KT_CONF_INT || k->kind == KT_CONF_BOOL) && (json_is_string(v) || json_is_null(v)))
            msg = k->kind == KT_CONF_BOOL ? "expected true or false" : "expected an integer";
        if (!msg && k)
            msg = kt_conf_set(c, k, text);
        if (msg) {
            if (k)
                kt_yaml_doc_pos(doc, rawpath, &line, &col);
            else
                kt_yaml_doc_key_pos(doc, rawpath, &line, &col);
            snprintf(err, errcap, "%s:%d:%d %s: %s", path, line, col, rawpath, msg);
            return KT_EINVAL;
        }
    }
    return KT_OK;
}

static kt_status kt_conf_file(kt_conf *c, const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return KT_EIO;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return KT_ENOMEM;
            }
            buf = nb;
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    kt_diags d;
    kt_diags_init(&d);
    kt_yaml_doc **docs = NULL;
    size_t ndocs = 0;
    kt_status st = kt_yaml_load(buf ? buf : "", len, path, &docs, &ndocs, &d);
    free(buf);
    if (st) {
        char *msg = kt_diags_format(&d);
        snprintf(err, errcap, "%s", msg ? msg : path);
        free(msg);
        kt_diags_clear(&d);
        return KT_EINVAL;
    }
    kt_diags_clear(&d);
    st = KT_OK;
    json_t *root = ndocs ? kt_yaml_doc_root(docs[0]) : NULL;
    int line = 0, col = 0;
    if (root && !json_is_object(root) && !json_is_null(root)) {
        snprintf(err, errcap, "%s:1:1: the configuration must be a map of sections", path);
        st = KT_EINVAL;
        goto done;
    }
    const char *sec;
    json_t *sv;
    json_object_foreach(root, sec, sv) {
        if (!json_is_object(sv)) {
            kt_yaml_doc_pos(docs[0], sec, &line, &col);
            snprintf(err, errcap, "%s:%d:%d %s: expected a map of settings", path, line, col, sec);
            st = KT_EINVAL;
            goto done;
        }
        if ((st = kt_conf_section(c, docs[0], path, sec, sv, err, errcap)))
            goto done;
    }
done:
    kt_yaml_docs_free(docs, ndocs);
    return st;
}

/* KITE_PLUGINS_DEFAULTS: the list as YAML (or JSON) text. */
static kt_status kt_conf_env_defaults(kt_conf *c, const char *text, char *err, size_t errcap)
{
    kt_diags d;
    kt_diags_init(&d);
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    kt_status st = kt_yaml_load(text, strlen(text), "KITE_PLUGINS_DEFAULTS", &docs, &n, &d);
    if (st) {
        char *msg = kt_diags_format(&d);
        snprintf(err, errcap, "environment %s", msg ? msg : "KITE_PLUGINS_DEFAULTS: not YAML");
        free(msg);
    } else {
        char where[128], why[256];
        if (kt_conf_set_defaults(c, n ? kt_yaml_doc_root(docs[0]) : json_null(), where, sizeof where, why, sizeof why)) {
            snprintf(err, errcap, "environment KITE_PLUGINS_DEFAULTS%s: %s", where, why);
            st = KT_EINVAL;
        }
    }
    kt_diags_clear(&d);
    kt_yaml_docs_free(docs, n);
    return st;
}

/* KITE_SERVER_PORT style names for every key. */
static kt_status kt_conf_env(kt_conf *c, char *err, size_t errcap)
{
    const char *defaults = getenv("KITE_PLUGINS_DEFAULTS");
    if (defaults && kt_conf_env_defaults(c, defaults, err, errcap))
        return KT_EINVAL;
    for (size_t i = 0; i < KT_CONF_NKEYS; i++) {
        const kt_conf_key *k = &kt_conf_keys[i];
        char name[128];
        int n = snprintf(name, sizeof name, "KITE_%s_%s", k->section, k->name);
        for (int j = 0; j < n; j++)
            name[j] = name[j] == '-' || name[j] == '.' ? '_' : (char)toupper((unsigned char)name[j]);
        const char *v = getenv(name);
        if (!v)
            continue;
        const char *msg = kt_conf_set(c, k, v);
        if (msg) {
            /* a password or key is never printed, even a wrong one; nor the password inside a URL */
            int secret = strstr(k->name, "password") || strstr(k->name, "secret") || strstr(k->name, "key");
            char shown[200]; /* cut: the message must still say what is wrong */
            kt_store_redact(v, shown, sizeof shown);
            snprintf(err, errcap, "environment %s=%s: %s", name, secret ? "******" : shown, msg);
            return KT_EINVAL;
        }
    }
    return KT_OK;
}

kt_status kt_conf_load(kt_conf *c, const char *path, char *err, size_t errcap)
{
    kt_status st = path && *path ? kt_conf_file(c, path, err, errcap) : KT_OK;
    return st ? st : kt_conf_env(c, err, errcap);
}
