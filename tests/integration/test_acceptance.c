/* Acceptance: Kestra's own test flows (core/src/test/resources/flows/valids at 58c1ca2, copied unchanged into
 * ../shared/kestra-acceptance/flows) run through a real `kite server local` over HTTP; the end state of each
 * execution is checked against what Kestra's tests assert for it (acceptance_cases.h, one row per Kestra test).
 *
 * One server for the whole run; every flow file is POSTed first (some reference others), then each case runs
 * sequentially: POST /api/v1/executions/{ns}/{id} with the case's inputs, wait for a terminal state, compare. A
 * row whose flow uses a type that does not run yet (the catalogue, flow/tasks.h) is skipped with that reason; its
 * flow must have been refused with 422.
 * Every mismatch is printed (expected vs actual, with the task runs) before the test fails; the last line is
 * "acceptance: N run, P passed, F failed, S skipped".
 *
 * Environment:
 *   KITE_ACCEPTANCE_FLOWS=DIR   the flows folder (default KITE_SOURCE_DIR/../shared/kestra-acceptance/flows)
 *   KITE_ACCEPTANCE_ONLY=TEXT   only the cases whose file or Kestra test contains TEXT
 *   KITE_ACCEPTANCE_ALL=1       also run the skipped cases and say which would pass now (never fails on them)
 *   KITE_ACCEPTANCE_TIMEOUT_MS  per-case wait for a terminal state (default 20000)
 *   KITE_ACCEPTANCE_LOG=1       print the server log when a case fails
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow/tasks.h"
#include "flow/yaml.h"
#include "harness.h"

#include "acceptance_cases.h"

#define ACC_MAX_FLOWS 256

typedef struct acc_flow {
    char file[128];  /* relative to the flows folder, e.g. "dag.yaml" or "derived/timeout-sleep.yaml" */
    char ns[128];
    char id[128];
    long status;     /* HTTP status of the last POST */
    char error[512]; /* its body when not 200 */
    /* "" or "not supported yet: T1, T2": the types it uses that do not run yet, from the catalogue
     * (kt_task_unsupported_in_flow); its rows are skipped for that reason until they all run */
    char unsupported[400];
} acc_flow;

typedef struct fixture {
    char dir[256];
    char flows_dir[512];
    int port;
    kt_it_proc server;
    acc_flow flows[ACC_MAX_FLOWS];
    size_t nflows;
} fixture;

/* ------------------------------------------------------------------------------------------------ small helpers */

/* a, or b when a is NULL */
static const char *acc_or(const char *a, const char *b) { return a ? a : b; }

static int acc_port; /* the server's, for the checks that read more than the execution (logs) */

static char *acc_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = 0;
    fclose(f);
    return b;
}

/* `key: value` at column 0 (id / namespace), quotes stripped: the fallback when the server rejected the flow. */
static void acc_top_key(const char *src, const char *key, char *out, size_t cap)
{
    out[0] = 0;
    size_t kl = strlen(key);
    for (const char *l = src; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, kl) || l[kl] != ':')
            continue;
        const char *v = l + kl + 1;
        while (*v == ' ' || *v == '"' || *v == '\'')
            v++;
        size_t n = 0;
        while (v[n] && v[n] != '\n' && v[n] != '"' && v[n] != '\'' && v[n] != ' ' && v[n] != '\r' && n + 1 < cap)
            n++;
        memcpy(out, v, n);
        out[n] = 0;
        return;
    }
}

static int acc_cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static const char *acc_state(const json_t *o)
{
    return json_string_value(json_object_get(json_object_get(o, "state"), "current"));
}

/* A JSON value as text: strings as they are, the rest compact JSON. malloc'ed. */
static char *acc_text(const json_t *v)
{
    if (!v)
        return strdup("<missing>");
    if (json_is_null(v))
        return strdup("<null>");
    if (json_is_string(v))
        return strdup(json_string_value(v));
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    return s ? s : strdup("?");
}

/* "a.b.0.c" into objects and arrays. */
static json_t *acc_path(json_t *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save)) {
        if (json_is_array(v)) {
            char *end;
            long i = strtol(k, &end, 10);
            v = *end ? NULL : json_array_get(v, i < 0 ? json_array_size(v) + (size_t)i : (size_t)i);
        } else
            v = json_object_get(v, k);
    }
    return v;
}

/* Selector: "#i" (index in taskRunList, negative from the end), "taskId" (its first run) or "taskId[value]". */
static json_t *acc_select(json_t *ex, const char *sel, size_t len)
{
    json_t *list = json_object_get(ex, "taskRunList");
    char s[160];
    if (len >= sizeof s)
        return NULL;
    memcpy(s, sel, len);
    s[len] = 0;
    if (s[0] == '#') {
        long i = strtol(s + 1, NULL, 10);
        return json_array_get(list, i < 0 ? json_array_size(list) + (size_t)i : (size_t)i);
    }
    char *br = strchr(s, '[');
    const char *value = NULL;
    if (br) {
        *br = 0;
        value = br + 1;
        char *e = strchr(value, ']');
        if (e)
            *e = 0;
    }
    size_t i;
    json_t *tr;
    json_array_foreach(list, i, tr) {
        if (strcmp(acc_or(json_string_value(json_object_get(tr, "taskId")), ""), s))
            continue;
        if (value && strcmp(acc_or(json_string_value(json_object_get(tr, "value")), ""), value))
            continue;
        return tr;
    }
    return NULL;
}

static size_t acc_sel_len(const char *s)
{
    size_t n = 0;
    if (s[0] == '#') {
        n = 1;
        while (s[n] == '-' || (s[n] >= '0' && s[n] <= '9'))
            n++;
        return n;
    }
    while (s[n] && s[n] != '.' && s[n] != '[' && !strchr("=~^>%", s[n]))
        n++;
    if (s[n] == '[') {
        const char *e = strchr(s + n, ']');
        n = e ? (size_t)(e - s) + 1 : strlen(s);
    }
    return n;
}

typedef struct acc_report {
    char *buf;
    size_t len;
} acc_report;

static void acc_say(acc_report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[2048];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    char *nb = realloc(r->buf, r->len + (size_t)n + 1);
    if (!nb)
        return;
    r->buf = nb;
    memcpy(r->buf + r->len, line, (size_t)n + 1);
    r->len += (size_t)n;
}

/* Compares actual (text) with the expectation; op is one of = ~ ^ >= % (POSIX extended regex). */
static int acc_match(const char *op, const char *actual, const char *expected)
{
    if (!strcmp(op, "%")) {
        regex_t re;
        if (regcomp(&re, expected, REG_EXTENDED | REG_NOSUB))
            return 0;
        int ok = regexec(&re, actual, 0, NULL, 0) == 0;
        regfree(&re);
        return ok;
    }
    if (!strcmp(op, "="))
        return !strcmp(actual, expected);
    if (!strcmp(op, "~"))
        return strstr(actual, expected) != NULL;
    if (!strcmp(op, "^"))
        return !strncmp(actual, expected, strlen(expected));
    if (!strcmp(op, ">="))
        return strtod(actual, NULL) >= strtod(expected, NULL);
    return 0;
}

/* One parsed check of the DSL: kind:target<op>expected. */
typedef struct acc_chk {
    char kind[32];
    char tgt[256];
    char op[3];
    const char *expected;
} acc_chk;

/* A check kind yields the actual text (malloc'ed) that acc_check_one compares with the expectation, or decides
 * the check itself: it then returns NULL with the number of mismatches in *verdict. */
typedef char *(*acc_kind_fn)(json_t *ex, const acc_chk *c, acc_report *r, int *verdict);

/* taskrun, attempts, taskid, output: one field of the task run the target's selector picks */
static char *acc_kind_run(json_t *ex, const acc_chk *c, acc_report *r, int *verdict)
{
    size_t sl = acc_sel_len(c->tgt);
    json_t *tr = acc_select(ex, c->tgt, sl);
    if (!tr)
        return strdup("<no such task run>");
    if (!strcmp(c->kind, "taskrun"))
        return strdup(acc_or(acc_state(tr), "<no state>"));
    if (!strcmp(c->kind, "taskid"))
        return acc_text(json_object_get(tr, "taskId"));
    if (!strcmp(c->kind, "attempts")) {
        char n[32];
        snprintf(n, sizeof n, "%zu", json_array_size(json_object_get(tr, "attempts")));
        return strdup(n);
    }
    json_t *outs = json_object_get(tr, "outputs");
    return acc_text(c->tgt[sl] == '.' ? acc_path(outs, c->tgt + sl + 1) : outs);
}

/* count (task runs of a task id), nstate (task runs in a state) */
static char *acc_kind_count(json_t *ex, const acc_chk *c, acc_report *r, int *verdict)
{
    size_t i, n = 0;
    json_t *tr;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) {
        const char *v = !strcmp(c->kind, "count") ? json_string_value(json_object_get(tr, "taskId")) : acc_state(tr);
        n += v && !strcmp(v, c->tgt);
    }
    char b[32];
    snprintf(b, sizeof b, "%zu", n);
    return strdup(b);
}

static char *acc_kind_flowoutput(json_t *ex, const acc_chk *c, acc_report *r, int *verdict)
{
    json_t *outs = json_object_get(ex, "outputs");
    if (json_is_object(outs) && json_object_size(outs) == 0 && !c->tgt[0])
        outs = NULL; /* Kestra's getOutputs() is null when there is none */
    if (!c->tgt[0] && !outs)
        return strdup("<null>");
    return acc_text(c->tgt[0] ? acc_path(outs, c->tgt) : outs);
}

/* any run of the task whose output at path matches (nested loops: the innermost value is not enough) */
static char *acc_kind_anyoutput(json_t *ex, const acc_chk *c, acc_report *r, int *verdict)
{
    size_t sl = acc_sel_len(c->tgt), i;
    json_t *tr;
    char *actual = NULL;
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) {
        const char *tid = acc_or(json_string_value(json_object_get(tr, "taskId")), "");
        if (strlen(tid) != sl || strncmp(tid, c->tgt, sl))
            continue;
        json_t *outs = json_object_get(tr, "outputs");
        char *t = acc_text(c->tgt[sl] == '.' ? acc_path(outs, c->tgt + sl + 1) : outs);
        if (acc_match(c->op, t, c->expected)) {
            free(t);
            free(actual);
            *verdict = 0;
            return NULL;
        }
        if (!actual)
            actual = strdup("");
        size_t al = strlen(actual);
        char *na = realloc(actual, al + strlen(t) + 4);
        if (na) {
            actual = na;
            snprintf(actual + al, strlen(t) + 4, "%s'%s'", al ? ", " : "", t);
        }
        free(t);
    }
    return actual ? actual : strdup("<no such task run>");
}

/* log:~text (some log line of the execution contains text); logcount:text>=N */
static char *acc_kind_log(json_t *ex, const acc_chk *c, acc_report *r, int *verdict)
{
    int is_log = !strcmp(c->kind, "log");
    char p[200], b[32];
    snprintf(p, sizeof p, "/api/v1/logs/%s", acc_or(json_string_value(json_object_get(ex, "id")), ""));
    json_t *logs = NULL;
    size_t n = 0, i;
    json_t *l;
    for (int tries = 0; tries < 20; tries++) { /* logs may trail the terminal state a little */
        json_decref(logs);
        logs = NULL;
        kt_it_http_json("GET", acc_port, p, NULL, NULL, &logs);
        n = 0;
        json_array_foreach(logs, i, l) {
            const char *m = acc_or(json_string_value(json_object_get(l, "message")), "");
            n += is_log ? acc_match(c->op, m, c->expected) : strstr(m, c->tgt) != NULL;
        }
        snprintf(b, sizeof b, "%zu", n);
        if (is_log ? n > 0 : acc_match(c->op, b, c->expected))
            break;
        kt_it_sleep_ms(100);
    }
    size_t total = json_array_size(logs);
    json_decref(logs);
    if (is_log) {
        if (!n)
            acc_say(r, "    log: no log line %s '%s' (%zu lines)\n", c->op, c->expected, total);
        *verdict = !n;
        return NULL;
    }
    return strdup(b); /* the count of the last try */
}

/* nlabels, nflowoutputs */
static char *acc_kind_size(json_t *ex, const acc_chk *c, acc_report *r, int *verdict)
{
    json_t *v = json_object_get(ex, !strcmp(c->kind, "nlabels") ? "labels" : "outputs");
    char b[32];
    snprintf(b, sizeof b, "%zu", json_is_array(v) ? json_array_size(v) : json_object_size(v));
    return strdup(b);
}

/* label:key: the first label with that key whose value matches, else the last one's value */
static char *acc_kind_label(json_t *ex, const acc_chk *c, acc_report *r, int *verdict)
{
    char *actual = NULL;
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(ex, "labels"), i, l) {
        if (!strcmp(acc_or(json_string_value(json_object_get(l, "key")), ""), c->tgt)) {
            free(actual);
            actual = acc_text(json_object_get(l, "value"));
            if (acc_match(c->op, actual, c->expected))
                break;
        }
    }
    return actual ? actual : strdup("<no such label>");
}

static const struct acc_kind {
    const char *name;
    acc_kind_fn fn;
    int selector; /* the target starts with a task-run selector (acc_sel_len) */
} k_acc_kinds[] = {
    {"taskrun", acc_kind_run, 1},
    {"attempts", acc_kind_run, 1},
    {"taskid", acc_kind_run, 1},
    {"output", acc_kind_run, 1},
    {"anyoutput", acc_kind_anyoutput, 1},
    {"count", acc_kind_count, 0},
    {"nstate", acc_kind_count, 0},
    {"flowoutput", acc_kind_flowoutput, 0},
    {"log", acc_kind_log, 0},
    {"logcount", acc_kind_log, 0},
    {"nlabels", acc_kind_size, 0},
    {"nflowoutputs", acc_kind_size, 0},
    {"label", acc_kind_label, 0},
};

/* Splits chk into kind, target, operator and expectation; NULL kind entry when the kind is unknown. Returns -1
 * (reported) when the check is malformed. */
static int acc_parse_check(const char *chk, acc_chk *c, const struct acc_kind **kind, acc_report *r)
{
    const char *colon = strchr(chk, ':');
    if (!colon) {
        acc_say(r, "    bad check '%s'\n", chk);
        return -1;
    }
    snprintf(c->kind, sizeof c->kind, "%.*s", (int)(colon - chk), chk);
    *kind = NULL;
    for (size_t i = 0; i < sizeof k_acc_kinds / sizeof *k_acc_kinds; i++)
        if (!strcmp(c->kind, k_acc_kinds[i].name))
            *kind = &k_acc_kinds[i];
    const char *target = colon + 1;
    size_t tl = strcspn(target, "=~^>%");
    /* For outputs the target is selector.path: the path may not hold op characters, the selector's [value] may. */
    if (*kind && (*kind)->selector) {
        size_t sl = acc_sel_len(target);
        tl = sl + strcspn(target + sl, "=~^>%");
    }
    const char *opp = target + tl;
    size_t ol = !strncmp(opp, ">=", 2) ? 2 : *opp ? 1 : 0;
    if (!ol) {
        acc_say(r, "    bad check '%s' (no operator)\n", chk);
        return -1;
    }
    snprintf(c->op, sizeof c->op, "%.*s", (int)ol, opp);
    c->expected = opp + ol;
    snprintf(c->tgt, sizeof c->tgt, "%.*s", (int)tl, target);
    return 0;
}

/* One check of the DSL (see acceptance_cases.h). Appends a line per mismatch; returns the number of mismatches. */
static int acc_check_one(json_t *ex, const char *chk, acc_report *r)
{
    acc_chk c;
    const struct acc_kind *kind;
    if (acc_parse_check(chk, &c, &kind, r))
        return 1;
    if (!kind) {
        acc_say(r, "    bad check kind '%s'\n", c.kind);
        return 1;
    }
    int verdict = 0;
    char *actual = kind->fn(ex, &c, r, &verdict);
    if (!actual)
        return verdict;
    int ok = acc_match(c.op, actual, c.expected);
    if (!ok)
        acc_say(r, "    %s:%s expected %s '%s', got '%s'\n", c.kind, c.tgt, c.op, c.expected, actual);
    free(actual);
    return !ok;
}

static void acc_dump_taskruns(json_t *ex, acc_report *r)
{
    size_t i;
    json_t *tr;
    acc_say(r, "    task runs (%zu):", json_array_size(json_object_get(ex, "taskRunList")));
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) {
        const char *v = json_string_value(json_object_get(tr, "value"));
        acc_say(r, " %s%s%s%s=%s", acc_or(json_string_value(json_object_get(tr, "taskId")), "?"), v ? "[" : "",
                acc_or(v, ""), v ? "]" : "", acc_or(acc_state(tr), "?"));
    }
    acc_say(r, "\n");
}

/* Percent-encodes a query value. */
static void acc_urlenc(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (; *in && o + 4 < cap; in++) {
        unsigned char c = (unsigned char)*in;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~:", c))
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", c);
    }
    out[o] = 0;
}

/* ------------------------------------------------------------------------------------------------ server */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    const char *fd = getenv("KITE_ACCEPTANCE_FLOWS");
    if (fd && *fd)
        snprintf(f->flows_dir, sizeof f->flows_dir, "%s", fd);
    else
        snprintf(f->flows_dir, sizeof f->flows_dir, "%s/../shared/kestra-acceptance/flows", KITE_SOURCE_DIR);
    kt_it_tmpdir(f->dir, sizeof f->dir);
    f->port = kt_it_free_port();
    acc_port = f->port;
    char port[16], data[300];
    snprintf(port, sizeof port, "%d", f->port);
    snprintf(data, sizeof data, "%s/data", f->dir);
    const char *args[] = {"server", "local", "--host", "127.0.0.1", "--port", port, "--data", data, NULL};
    f->server = kt_it_spawn(f->dir, "server", args);
    if (kt_it_wait_healthy(f->port)) {
        kt_it_dump_log(&f->server);
        fail_msg("server did not become healthy");
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->server.pid) {
        int rc = kt_it_stop(&f->server, SIGTERM);
        if (rc != 0)
            kt_it_dump_log(&f->server);
        assert_int_equal(rc, 0); /* orderly shutdown */
    }
    kt_it_rmdir(f->dir);
    free(f);
    return 0;
}

/* The *.yaml / *.yml files of dir (and of dir/derived), sorted. */
static void acc_list_flows(fixture *f)
{
    const char *subs[] = {"", "derived/"};
    for (size_t s = 0; s < 2; s++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", f->flows_dir, subs[s]);
        DIR *d = opendir(path);
        if (!d) {
            if (s == 0)
                fail_msg("cannot open the flows folder %s (set KITE_ACCEPTANCE_FLOWS)", path);
            continue;
        }
        char *names[ACC_MAX_FLOWS];
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d)) && n < ACC_MAX_FLOWS) {
            size_t l = strlen(e->d_name);
            if ((l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) || (l > 4 && !strcmp(e->d_name + l - 4, ".yml")))
                names[n++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof *names, acc_cmp_str);
        for (size_t i = 0; i < n; i++) {
            if (f->nflows < ACC_MAX_FLOWS)
                snprintf(f->flows[f->nflows++].file, sizeof f->flows[0].file, "%s%s", subs[s], names[i]);
            free(names[i]);
        }
    }
}

/* What the catalogue says about the types the flow uses (fl->unsupported). */
static void acc_unsupported(acc_flow *fl, const char *src)
{
    static const char prefix[] = "not supported yet: ";
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    kt_diags dg;
    kt_diags_init(&dg);
    fl->unsupported[0] = 0;
    if (kt_yaml_load(src, strlen(src), fl->file, &docs, &n, &dg) == KT_OK && n == 1) {
        char list[sizeof fl->unsupported - sizeof prefix];
        if (kt_task_unsupported_in_flow(kt_yaml_doc_root(docs[0]), list, sizeof list))
            snprintf(fl->unsupported, sizeof fl->unsupported, "%s%s", prefix, list);
    }
    kt_yaml_docs_free(docs, n);
    kt_diags_clear(&dg);
}

static void acc_post_flow(fixture *f, acc_flow *fl)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s", f->flows_dir, fl->file);
    char *src = acc_read_file(path);
    if (!src) {
        fl->status = 0;
        snprintf(fl->error, sizeof fl->error, "cannot read %.480s", path);
        return;
    }
    acc_top_key(src, "namespace", fl->ns, sizeof fl->ns);
    acc_top_key(src, "id", fl->id, sizeof fl->id);
    acc_unsupported(fl, src);
    char *body = NULL;
    fl->status = kt_it_http("POST", f->port, "/api/v1/flows", "application/x-yaml", src, &body);
    fl->error[0] = 0;
    if (fl->status == 200) {
        json_t *j = json_loads(body ? body : "", 0, NULL);
        if (json_string_value(json_object_get(j, "namespace")))
            snprintf(fl->ns, sizeof fl->ns, "%s", json_string_value(json_object_get(j, "namespace")));
        if (json_string_value(json_object_get(j, "id")))
            snprintf(fl->id, sizeof fl->id, "%s", json_string_value(json_object_get(j, "id")));
        json_decref(j);
    } else
        snprintf(fl->error, sizeof fl->error, "%s", body ? body : "");
    free(body);
    free(src);
}

static acc_flow *acc_flow_of(fixture *f, const char *file)
{
    for (size_t i = 0; i < f->nflows; i++)
        if (!strcmp(f->flows[i].file, file))
            return &f->flows[i];
    return NULL;
}

/* Why a row does not run, NULL when it does: the catalogue's reason when its flow uses a type that does not run
 * yet (so the row runs as soon as the type does), else the table's. */
static const char *acc_skip_of(fixture *f, const acc_case *c)
{
    acc_flow *fl = acc_flow_of(f, c->file);
    return fl && fl->unsupported[0] ? fl->unsupported : c->skip;
}

/* Runs one case; returns 1 when everything Kestra asserts holds, else appends why to r. */
static int acc_run_case(fixture *f, const acc_case *c, int timeout_ms, acc_report *r)
{
    acc_flow *fl = acc_flow_of(f, c->file);
    if (!fl) {
        acc_say(r, "    no such flow file in %s\n", f->flows_dir);
        return 0;
    }
    if (fl->status != 200) {
        acc_say(r, "    flow not accepted: POST /api/v1/flows -> %ld %.300s\n", fl->status, fl->error);
        return 0;
    }
    /* inputs: name,value pairs; a name starting with '?' is a query parameter (e.g. "?labels", "k:v"). */
    const char *fields[34];
    size_t nf = 0;
    char query[1024] = "";
    for (size_t i = 0; c->inputs[i] && i + 1 < 16; i += 2) {
        if (c->inputs[i][0] == '?') {
            char enc[400];
            acc_urlenc(c->inputs[i + 1], enc, sizeof enc);
            size_t ql = strlen(query);
            snprintf(query + ql, sizeof query - ql, "%s%s=%s", ql ? "&" : "?", c->inputs[i] + 1, enc);
        } else {
            fields[nf++] = c->inputs[i];
            fields[nf++] = c->inputs[i + 1];
        }
    }
    fields[nf] = NULL;
    char path[1500];
    snprintf(path, sizeof path, "/api/v1/executions/%s/%s%s", fl->ns, fl->id, query);
    json_t *created = NULL;
    long st = kt_it_post_form(f->port, path, fields, &created);
    const char *exid = json_string_value(json_object_get(created, "id"));
    if (st != 200 || !exid) {
        char *t = created ? json_dumps(created, JSON_COMPACT) : NULL;
        acc_say(r, "    POST %s -> %ld %.300s\n", path, st, t ? t : "");
        free(t);
        json_decref(created);
        return 0;
    }
    char id[128];
    snprintf(id, sizeof id, "%s", exid);
    json_decref(created);
    json_t *ex = kt_it_wait_execution(f->port, id, timeout_ms);
    if (!ex) {
        char p[200];
        snprintf(p, sizeof p, "/api/v1/executions/%s", id);
        json_t *cur = NULL;
        kt_it_http_json("GET", f->port, p, NULL, NULL, &cur);
        acc_say(r, "    execution %s not terminal after %d ms (state %s); expected %s\n", id, timeout_ms,
                acc_or(acc_state(cur), "?"), c->state ? c->state : "-");
        if (cur)
            acc_dump_taskruns(cur, r);
        json_decref(cur);
        return 0;
    }
    int bad = 0;
    const char *state = acc_state(ex);
    if (c->state && strcmp(acc_or(state, ""), c->state)) {
        acc_say(r, "    state: expected %s, got %s\n", c->state, acc_or(state, "?"));
        bad++;
    }
    size_t ntr = json_array_size(json_object_get(ex, "taskRunList"));
    if (c->taskruns >= 0 && ntr != (size_t)c->taskruns) {
        acc_say(r, "    taskRunList size: expected %d, got %zu\n", c->taskruns, ntr);
        bad++;
    }
    if (c->checks) {
        char *all = strdup(c->checks), *save = NULL;
        for (char *chk = strtok_r(all, ";", &save); chk; chk = strtok_r(NULL, ";", &save)) {
            while (*chk == ' ')
                chk++;
            if (*chk)
                bad += acc_check_one(ex, chk, r);
        }
        free(all);
    }
    if (bad) {
        acc_say(r, "    execution %s\n", id);
        acc_dump_taskruns(ex, r);
    }
    json_decref(ex);
    return !bad;
}

/* ------------------------------------------------------------------------------------------------ the test */

static void test_acceptance(void **state)
{
    /* The flows live beside the project (../shared), not in it. Without an explicit KITE_ACCEPTANCE_FLOWS, a
     * checkout that has no such folder skips the suite (and says so) instead of failing. */
    {
        fixture *fx = *state;
        struct stat sb;
        const char *fd = getenv("KITE_ACCEPTANCE_FLOWS");
        if ((!fd || !*fd) && stat(fx->flows_dir, &sb) != 0) {
            fprintf(stderr, "acceptance: %s not found: suite skipped (set KITE_ACCEPTANCE_FLOWS)\n", fx->flows_dir);
            skip();
        }
    }
    fixture *f = *state;
    acc_list_flows(f);
    assert_true(f->nflows > 0);

    /* Every flow first; the rejected ones once more at the end (a flow may reference one posted later). */
    for (size_t i = 0; i < f->nflows; i++)
        acc_post_flow(f, &f->flows[i]);
    for (size_t i = 0; i < f->nflows; i++)
        if (f->flows[i].status != 200)
            acc_post_flow(f, &f->flows[i]);

    /* A flow using a type that does not run yet is refused when saved, naming the type. */
    int accepted_unsupported = 0;
    for (size_t i = 0; i < f->nflows; i++) {
        const acc_flow *fl = &f->flows[i];
        if (fl->unsupported[0] && (fl->status != 422 || !strstr(fl->error, "is not supported yet by Kite"))) {
            fprintf(stderr, "acceptance: %s uses types that do not run yet (%s) but POST answered %ld %.300s\n",
                    fl->file, fl->unsupported, fl->status, fl->error);
            accepted_unsupported++;
        }
    }

    /* Every flow file has at least one row: the table is the to-do list. */
    int missing = 0;
    for (size_t i = 0; i < f->nflows; i++) {
        int found = 0;
        for (size_t k = 0; k < sizeof acc_cases / sizeof *acc_cases && !found; k++)
            found = !strcmp(acc_cases[k].file, f->flows[i].file);
        if (!found) {
            fprintf(stderr, "acceptance: %s has no row in acceptance_cases.h\n", f->flows[i].file);
            missing++;
        }
    }

    const char *only = getenv("KITE_ACCEPTANCE_ONLY");
    const char *all_env = getenv("KITE_ACCEPTANCE_ALL");
    int all = all_env && *all_env && strcmp(all_env, "0");
    const char *to = getenv("KITE_ACCEPTANCE_TIMEOUT_MS");
    int timeout_ms = to && atoi(to) > 0 ? atoi(to) : 20000;

    int run = 0, passed = 0, failed = 0, skipped = 0, xpass = 0;
    for (size_t k = 0; k < sizeof acc_cases / sizeof *acc_cases; k++) {
        const acc_case *c = &acc_cases[k];
        const char *skip = acc_skip_of(f, c);
        if (only && *only && !strstr(c->file, only) && !(c->kestra_test && strstr(c->kestra_test, only)))
            continue;
        if (skip && !all) {
            skipped++;
            continue;
        }
        acc_report r = {0};
        int ok = acc_run_case(f, c, timeout_ms, &r);
        if (skip) {
            skipped++;
            if (ok) {
                xpass++;
                fprintf(stderr, "acceptance: SKIPPED CASE NOW PASSES %s [%s] (skip: %s)\n", c->file,
                        acc_or(c->kestra_test, ""), skip);
            } else
                fprintf(stderr, "acceptance: skipped case still fails %s [%s] (skip: %s)\n%s", c->file,
                        acc_or(c->kestra_test, ""), skip, r.buf ? r.buf : "");
        } else {
            run++;
            if (ok)
                passed++;
            else {
                failed++;
                fprintf(stderr, "acceptance: FAIL %s [%s]\n%s", c->file, acc_or(c->kestra_test, ""),
                        acc_or(r.buf, ""));
            }
        }
        free(r.buf);
    }
    /* the skipped rows by reason ("KNOWN FAIL: ..." counted as one reason) */
    const char *reasons[64];
    int counts[64], nr = 0;
    for (size_t k = 0; k < sizeof acc_cases / sizeof *acc_cases; k++) {
        const char *sk = acc_skip_of(f, &acc_cases[k]);
        if (!sk || (only && *only && !strstr(acc_cases[k].file, only) &&
                    !(acc_cases[k].kestra_test && strstr(acc_cases[k].kestra_test, only))))
            continue;
        if (!strncmp(sk, "KNOWN FAIL", 10))
            sk = "KNOWN FAIL";
        else if (!strncmp(sk, "not reachable over the API", 26))
            sk = "not reachable over the API";
        int j = 0;
        while (j < nr && strcmp(reasons[j], sk))
            j++;
        if (j == nr && nr < 64) {
            reasons[nr] = sk;
            counts[nr++] = 0;
        }
        if (j < nr)
            counts[j]++;
    }
    for (int j = 0; j < nr; j++)
        fprintf(stderr, "acceptance: skipped %2d  %s\n", counts[j], reasons[j]);
    fprintf(stderr, "acceptance: %d run, %d passed, %d failed, %d skipped%s\n", run, passed, failed, skipped,
            all ? "" : " (KITE_ACCEPTANCE_ALL=1 tries the skipped ones)");
    if (all)
        fprintf(stderr, "acceptance: %d skipped case(s) would pass now\n", xpass);
    const char *lg = getenv("KITE_ACCEPTANCE_LOG");
    if (failed && lg && *lg && strcmp(lg, "0"))
        kt_it_dump_log(&f->server);
    assert_int_equal(missing, 0);
    assert_int_equal(accepted_unsupported, 0);
    assert_int_equal(failed, 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_acceptance, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
