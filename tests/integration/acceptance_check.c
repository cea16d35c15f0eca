/* The acceptance checks (the DSL of acceptance_cases.h: kind:target<op>expected) evaluated on an execution
 * document, for test_acceptance.c: selectors of task runs, output paths, the comparison operators, and one
 * function per check kind. */
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acceptance_check.h"
#include "harness.h"

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

json_t *acc_select_run(json_t *ex, const char *sel) { return acc_select(ex, sel, strlen(sel)); }

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

void acc_say(acc_report *r, const char *fmt, ...)
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
    int port; /* the server's, for the kinds that read more than the execution (logs) */
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
        return strdup(acc_or(kt_it_state(tr), "<no state>"));
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
        const char *v = !strcmp(c->kind, "count") ? json_string_value(json_object_get(tr, "taskId")) : kt_it_state(tr);
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
        kt_it_http_json("GET", c->port, p, NULL, NULL, &logs);
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

int acc_check_one(json_t *ex, const char *chk, int port, acc_report *r)
{
    acc_chk c;
    const struct acc_kind *kind;
    if (acc_parse_check(chk, &c, &kind, r))
        return 1;
    c.port = port;
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

void acc_dump_taskruns(json_t *ex, acc_report *r)
{
    size_t i;
    json_t *tr;
    acc_say(r, "    task runs (%zu):", json_array_size(json_object_get(ex, "taskRunList")));
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) {
        const char *v = json_string_value(json_object_get(tr, "value"));
        acc_say(r, " %s%s%s%s=%s", acc_or(json_string_value(json_object_get(tr, "taskId")), "?"), v ? "[" : "",
                acc_or(v, ""), v ? "]" : "", acc_or(kt_it_state(tr), "?"));
    }
    acc_say(r, "\n");
}
