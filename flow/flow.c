/* Flow parsing and save-time validation (KESTRA-model.md §1-4). Everything is checked in one walk so a user
 * sees all the errors of a file at once, each at the line:col of the node it is about: the value for a bad
 * value, the key for an unknown property, the enclosing map for a missing one. */
#include "flow/flow.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/duration.h"
#include "flow/inputs.h"
#include "flow/tasks.h"

struct kt_flow {
    json_t *json;
    const char *id, *ns; /* borrowed from json */
    int disabled;
};

typedef struct vctx {
    const kt_yaml_doc *doc; /* NULL when validating plain JSON */
    const char *file;
    kt_diags *diags;
    int errors;
    json_t *task_ids;        /* id -> first path */
    const json_t *defaults;  /* pluginDefaults + taskDefaults entries, borrowed */
    const char *flow_id, *flow_ns;
} vctx;

/* Reports at the position of pos_path (key position when at_key), with diag path `path`. When pos_path is
 * not in the document (a missing property), its parents are tried so the error lands on the enclosing map. */
static void verr(vctx *c, const char *pos_path, int at_key, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void verr(vctx *c, const char *pos_path, int at_key, const char *path, const char *fmt, ...)
{
    int line, col;
    kt_yaml_doc_locate(c->doc, pos_path, at_key, &line, &col);
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    kt_diags_add(c->diags, c->file, line, col, path, "%s", msg ? msg : "out of memory");
    free(msg);
    c->errors++;
}

static char *child(const char *path, const char *key)
{
    char *s = NULL;
    if (asprintf(&s, "%s%s%s", path, *path ? "." : "", key) < 0)
        return NULL;
    return s;
}

static char *item(const char *path, size_t i)
{
    char *s = NULL;
    if (asprintf(&s, "%s[%zu]", path, i) < 0)
        return NULL;
    return s;
}

/* Short printable form of a scalar for messages. */
static char *show(const json_t *v)
{
    if (json_is_string(v))
        return strdup(json_string_value(v));
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

static int has_expr(const json_t *v)
{
    return json_is_string(v) && strstr(json_string_value(v), "{{") != NULL;
}

static int match_id(const char *s, int allow_dot, int lower_only)
{
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (!lower_only && ch >= 'A' && ch <= 'Z');
        if (p != s)
            ok = ok || ch == '_' || ch == '-' || (allow_dot && ch == '.');
        if (!ok)
            return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- cron */

static const char *const cron_months[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const cron_days[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

/* One number or name of a field; returns -1 when not one. */
static int cron_atom(const char **p, const char *const *names, int name_base)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        int v = 0;
        while (isdigit((unsigned char)*s) && v < 1000)
            v = v * 10 + (*s++ - '0');
        *p = s;
        return v;
    }
    for (int i = 0; names && names[i]; i++) {
        if (strncasecmp(s, names[i], 3) == 0) {
            *p = s + 3;
            return i + name_base;
        }
    }
    return -1;
}

static int cron_field(const char *f, size_t n, int lo, int hi, int qmark, const char *const *names, int name_base)
{
    char buf[128];
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, f, n);
    buf[n] = 0;
    char *save = NULL;
    for (char *part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        const char *s = part;
        int a = lo, b = hi;
        if (*s == '*' || (qmark && *s == '?')) {
            s++;
        } else {
            if ((a = cron_atom(&s, names, name_base)) < 0)
                return -1;
            b = a;
            if (*s == '-') {
                s++;
                if ((b = cron_atom(&s, names, name_base)) < 0)
                    return -1;
            }
        }
        if (*s == '/') {
            s++;
            int step = cron_atom(&s, NULL, 0);
            if (step <= 0)
                return -1;
        }
        if (*s || a < lo || b > hi || a > b)
            return -1;
    }
    return 0;
}

int kt_flow_check_cron(const char *expr, int with_seconds, char *reason, size_t cap)
{
    char field[64];
    static const char *const nick[] = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight",
                                       "@hourly", NULL};
    const char *why = NULL;
    if (!expr || !*expr) {
        why = "Empty cron expression";
        goto out;
    }
    if (expr[0] == '@') {
        for (int i = 0; nick[i]; i++)
            if (strcmp(expr, nick[i]) == 0)
                return 0;
        why = "Unknown nickname";
        goto out;
    }
    const char *f[8];
    size_t len[8];
    int nf = 0;
    for (const char *p = expr; *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        if (nf == 8) {
            why = "Too many fields";
            goto out;
        }
        f[nf] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        len[nf] = (size_t)(p - f[nf]);
        nf++;
    }
    int want = with_seconds ? 6 : 5;
    if (nf != want) {
        why = with_seconds ? "expected 6 fields (second minute hour day-of-month month day-of-week) with withSeconds"
                           : "expected 5 fields (minute hour day-of-month month day-of-week)";
        goto out;
    }
    static const int lo[] = {0, 0, 0, 1, 1, 0}, hi[] = {59, 59, 23, 31, 12, 7};
    static const char *const what[] = {"second", "minute", "hour", "day of month", "month", "day of week"};
    for (int i = 0; i < nf; i++) {
        int k = i + (with_seconds ? 0 : 1);
        const char *const *names = k == 4 ? cron_months : k == 5 ? cron_days : NULL;
        if (cron_field(f[i], len[i], lo[k], hi[k], k == 3 || k == 5, names, k == 4 ? 1 : 0)) {
            snprintf(field, sizeof(field), "%.*s", (int)(len[i] < 40 ? len[i] : 40), f[i]);
            if (reason)
                snprintf(reason, cap, "invalid %s field '%s' (values %d-%d)", what[k], field, lo[k], hi[k]);
            return -1;
        }
    }
    return 0;
out:
    if (reason)
        snprintf(reason, cap, "%s", why);
    return -1;
}

/* ---------------------------------------------------------------- values */

static void check_tasks(vctx *c, const json_t *v, const char *path, int nonempty);
static void check_task(vctx *c, const json_t *t, const char *path);
static void check_object(vctx *c, const json_t *o, const char *path, const char *cls, const kt_prop *const *tables,
                         const char *pd_type);
static void check_input_list(vctx *c, const json_t *v, const char *path);

static int is_scalar(const json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

static void check_plugin(vctx *c, const json_t *v, const char *path, int kind, const char *what);

static void check_labels(vctx *c, const json_t *v, const char *path, int allow_readonly)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            char *p = child(path, k);
            char *s = show(x);
            if (!is_scalar(x))
                verr(c, p, 0, p, "Unsupported type for key: %s, value: %s", k, s ? s : "");
            else if (strncmp(k, "system.", 7) == 0 && !(allow_readonly && strcmp(k, "system.readOnly") == 0))
                verr(c, p, 1, p, "System labels can only be set by Kestra itself, offending label: %s=%s", k, s);
            free(s);
            free(p);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            char *p = item(path, i);
            const json_t *k = json_object_get(x, "key");
            if (!json_is_object(x) || !is_scalar(k) || !is_scalar(json_object_get(x, "value"))) {
                verr(c, p, 0, p, "a label must be {key, value}");
            } else if (json_is_string(k) && strncmp(json_string_value(k), "system.", 7) == 0 &&
                       !(allow_readonly && strcmp(json_string_value(k), "system.readOnly") == 0)) {
                char *s = show(json_object_get(x, "value"));
                verr(c, p, 0, p, "System labels can only be set by Kestra itself, offending label: %s=%s",
                     json_string_value(k), s);
                free(s);
            }
            free(p);
        }
    } else {
        verr(c, path, 0, path, "Unable to deserialize value as it's neither an object neither an array");
    }
}

static const char *const retry_types[] = {"constant", "exponential", "random", NULL};
static const char *const retry_behaviors[] = {"RETRY_FAILED_TASK", "CREATE_NEW_EXECUTION", NULL};
static const kt_prop retry_common[] = {
    {"type", KT_P_STR, KT_PF_REQ, NULL, NULL},   {"maxAttempt", KT_P_INT, 0, NULL, NULL},
    {"maxDuration", KT_P_DUR, 0, NULL, NULL},    {"warningOnRetry", KT_P_BOOL, 0, NULL, NULL},
    {"behavior", KT_P_ENUM, 0, retry_behaviors, NULL}, {NULL, 0, 0, NULL, NULL},
};
static const kt_prop retry_constant[] = {{"interval", KT_P_DUR, KT_PF_REQ, NULL, NULL}, {NULL, 0, 0, NULL, NULL}};
static const kt_prop retry_expo[] = {{"interval", KT_P_DUR, KT_PF_REQ, NULL, NULL},
                                     {"maxInterval", KT_P_DUR, KT_PF_REQ, NULL, NULL},
                                     {"delayFactor", KT_P_NUM, 0, NULL, NULL},
                                     {NULL, 0, 0, NULL, NULL}};
static const kt_prop retry_random[] = {{"minInterval", KT_P_DUR, KT_PF_REQ, NULL, NULL},
                                       {"maxInterval", KT_P_DUR, KT_PF_REQ, NULL, NULL},
                                       {NULL, 0, 0, NULL, NULL}};

static int dur_of(const json_t *o, const char *k, int64_t *us)
{
    const json_t *v = json_object_get(o, k);
    return v && kt_duration_from_json(v, us) == 0;
}

/* "'a' must be less than 'b' but is <a>" when both are set and b <= a. */
static void retry_order(vctx *c, const json_t *o, const char *path, const char *a, const char *b)
{
    int64_t x, y;
    if (dur_of(o, a, &x) && dur_of(o, b, &y) && y <= x) {
        char buf[KT_DURATION_BUFSZ];
        kt_duration_format(x, buf, sizeof(buf));
        char *p = child(path, a);
        verr(c, p, 0, p, "'%s' must be less than '%s' but is %s", a, b, buf);
        free(p);
    }
}

static void check_retry(vctx *c, const json_t *v, const char *path)
{
    if (!json_is_object(v)) {
        verr(c, path, 0, path, "retry must be an object with a type");
        return;
    }
    const json_t *t = json_object_get(v, "type");
    const char *ts = json_string_value(t);
    int k = -1;
    for (int i = 0; ts && retry_types[i]; i++)
        if (strcmp(ts, retry_types[i]) == 0)
            k = i;
    if (k < 0) {
        char *p = child(path, "type"), *s = t ? show(t) : NULL;
        verr(c, t ? p : path, 0, p, "Invalid type: %s", t ? s : "<null>");
        free(s);
        free(p);
        return;
    }
    const kt_prop *tables[] = {retry_common, k == 0 ? retry_constant : k == 1 ? retry_expo : retry_random, NULL};
    check_object(c, v, path, ts, tables, NULL);
    const json_t *ma = json_object_get(v, "maxAttempt");
    if (json_is_integer(ma) && json_integer_value(ma) < 1) {
        char *p = child(path, "maxAttempt");
        verr(c, p, 0, p, "must be greater than or equal to 1");
        free(p);
    }
    if (k == 0 || k == 1)
        retry_order(c, v, path, "interval", "maxDuration");
    if (k == 1)
        retry_order(c, v, path, "interval", "maxInterval");
    if (k == 2) {
        retry_order(c, v, path, "minInterval", "maxDuration");
        retry_order(c, v, path, "maxInterval", "maxDuration");
        retry_order(c, v, path, "minInterval", "maxInterval");
    }
}

static int in_enum(const char *const *e, const json_t *v)
{
    for (; json_is_string(v) && e && *e; e++)
        if (strcmp(*e, json_string_value(v)) == 0)
            return 1;
    return 0;
}

static void enum_err(vctx *c, const char *path, const json_t *v, const char *const *e)
{
    char list[512];
    size_t n = 0;
    list[0] = 0;
    for (; *e && n < sizeof(list) - 32; e++)
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "", *e);
    char *s = show(v);
    verr(c, path, 0, path, "Cannot deserialize value \"%s\": not one of the values accepted: [%s]", s ? s : "", list);
    free(s);
}

static void check_value(vctx *c, const kt_prop *p, const json_t *v, const char *path, const json_t *parent)
{
    if (json_is_null(v))
        return; /* same as absent; required-ness was checked by the caller */
    if ((p->flags & KT_PF_DYN) && has_expr(v))
        return;
    size_t i;
    json_t *x;
    switch ((kt_prop_kind)p->kind) {
    case KT_P_ANY:
        return;
    case KT_P_STR:
        if (!is_scalar(v))
            verr(c, path, 0, path, "must be a string, not %s", json_is_array(v) ? "a list" : "an object");
        else if ((p->flags & KT_PF_NONEMPTY) && json_is_string(v) && !*json_string_value(v))
            verr(c, path, 0, path, "must not be blank");
        return;
    case KT_P_BOOL:
        if (!json_is_boolean(v) &&
            !(json_is_string(v) && (!strcmp(json_string_value(v), "true") || !strcmp(json_string_value(v), "false"))))
            verr(c, path, 0, path, "must be a boolean (true or false)");
        return;
    case KT_P_INT:
    case KT_P_NUM: {
        int ok = p->kind == KT_P_INT ? json_is_integer(v) : json_is_number(v);
        if (json_is_string(v)) {
            char *end;
            const char *s = json_string_value(v);
            if (p->kind == KT_P_INT)
                (void)strtoll(s, &end, 10);
            else
                (void)strtod(s, &end);
            ok = *s && !*end;
        }
        if (!ok)
            verr(c, path, 0, path, "must be %s", p->kind == KT_P_INT ? "an integer" : "a number");
        return;
    }
    case KT_P_DUR: {
        int64_t us;
        if (kt_duration_from_json(v, &us)) {
            char *s = show(v);
            verr(c, path, 0, path, "invalid duration '%s': Text cannot be parsed to a Duration", s ? s : "");
            free(s);
        }
        return;
    }
    case KT_P_ENUM:
        if (!in_enum(p->enums, v))
            enum_err(c, path, v, p->enums);
        return;
    case KT_P_ENUM_LIST:
        if (!json_is_array(v)) {
            verr(c, path, 0, path, "must be a list");
            return;
        }
        json_array_foreach(v, i, x) {
            if (!in_enum(p->enums, x)) {
                char *ip = item(path, i);
                enum_err(c, ip, x, p->enums);
                free(ip);
            }
        }
        return;
    case KT_P_MAP:
        if (!json_is_object(v))
            verr(c, path, 0, path, "must be a map");
        return;
    case KT_P_LIST:
    case KT_P_STR_LIST:
    case KT_P_STR_OR_LIST:
        if (p->kind == KT_P_STR_OR_LIST && is_scalar(v))
            goto nonempty_str;
        if (!json_is_array(v)) {
            verr(c, path, 0, path, "must be a list");
            return;
        }
        if ((p->flags & KT_PF_NONEMPTY) && json_array_size(v) == 0)
            verr(c, path, 0, path, "must not be empty");
        if (p->kind != KT_P_LIST) {
            json_array_foreach(v, i, x) {
                if (!is_scalar(x) && !json_is_null(x)) {
                    char *ip = item(path, i);
                    verr(c, ip, 0, ip, "must be a string");
                    free(ip);
                }
            }
        }
        return;
    nonempty_str:
        if ((p->flags & KT_PF_NONEMPTY) && json_is_string(v) && !*json_string_value(v))
            verr(c, path, 0, path, "must not be blank");
        return;
    case KT_P_STR_OR_MAP:
        if (!is_scalar(v) && !json_is_object(v))
            verr(c, path, 0, path, "must be a string or a map");
        return;
    case KT_P_LABELS:
        check_labels(c, v, path, 0);
        return;
    case KT_P_OBJ: {
        if (!json_is_object(v)) {
            verr(c, path, 0, path, "must be an object");
            return;
        }
        const kt_prop *t[] = {p->sub, NULL};
        check_object(c, v, path, p->name, t, NULL);
        return;
    }
    case KT_P_OBJ_LIST: {
        if (!json_is_array(v)) {
            verr(c, path, 0, path, "must be a list");
            return;
        }
        const kt_prop *t[] = {p->sub, NULL};
        json_array_foreach(v, i, x) {
            char *ip = item(path, i);
            if (!json_is_object(x))
                verr(c, ip, 0, ip, "must be an object");
            else
                check_object(c, x, ip, p->name, t, NULL);
            free(ip);
        }
        return;
    }
    case KT_P_TASKS:
        check_tasks(c, v, path, p->flags & KT_PF_NONEMPTY);
        return;
    case KT_P_CASES: {
        if (!json_is_object(v)) {
            verr(c, path, 0, path, "must be a map of task lists");
            return;
        }
        const char *k;
        json_object_foreach((json_t *)v, k, x) {
            char *cp = child(path, k);
            check_tasks(c, x, cp, 0);
            free(cp);
        }
        return;
    }
    case KT_P_DAG: {
        if (!json_is_array(v)) {
            verr(c, path, 0, path, "must be a list");
            return;
        }
        if (json_array_size(v) == 0)
            verr(c, path, 0, path, "No task defined");
        static const kt_prop dag_item[] = {{"task", KT_P_ANY, KT_PF_REQ, NULL, NULL},
                                           {"dependsOn", KT_P_STR_LIST, 0, NULL, NULL},
                                           {NULL, 0, 0, NULL, NULL}};
        const kt_prop *t[] = {dag_item, NULL};
        json_array_foreach(v, i, x) {
            char *ip = item(path, i);
            if (!json_is_object(x)) {
                verr(c, ip, 0, ip, "must be an object {task, dependsOn}");
            } else {
                check_object(c, x, ip, "DagTask", t, NULL);
                if (json_object_get(x, "task")) {
                    char *tp = child(ip, "task");
                    check_task(c, json_object_get(x, "task"), tp);
                    free(tp);
                }
            }
            free(ip);
        }
        return;
    }
    case KT_P_RETRY:
        check_retry(c, v, path);
        return;
    case KT_P_CONDS:
        if (!json_is_array(v)) {
            verr(c, path, 0, path, "must be a list");
            return;
        }
        if ((p->flags & KT_PF_NONEMPTY) && json_array_size(v) == 0)
            verr(c, path, 0, path, "must not be empty");
        json_array_foreach(v, i, x) {
            char *ip = item(path, i);
            check_plugin(c, x, ip, KT_PLUGIN_CONDITION, "condition");
            free(ip);
        }
        return;
    case KT_P_COND_MAP: {
        if (!json_is_object(v)) {
            verr(c, path, 0, path, "must be a map of conditions");
            return;
        }
        const char *k;
        json_object_foreach((json_t *)v, k, x) {
            char *cp = child(path, k);
            check_plugin(c, x, cp, KT_PLUGIN_CONDITION, "condition");
            free(cp);
        }
        return;
    }
    case KT_P_RUNNER:
        check_plugin(c, v, path, KT_PLUGIN_TASK_RUNNER, "task runner");
        return;
    case KT_P_INPUTS:
        check_input_list(c, v, path);
        return;
    case KT_P_CRON: {
        char why[128] = "not a string";
        const json_t *ws = json_object_get(parent, "withSeconds");
        int with_s = json_is_true(ws) || (json_is_string(ws) && !strcmp(json_string_value(ws), "true"));
        if (!json_is_string(v) || kt_flow_check_cron(json_string_value(v), with_s, why, sizeof(why))) {
            char *s = show(v);
            verr(c, path, 0, path, "invalid cron expression '%s': %s", s ? s : "", why);
            free(s);
        }
        return;
    }
    }
}

/* Does a plugin default (flow pluginDefaults) give `prop` to plugins of `type`? Kestra applies defaults
 * before bean validation, so a required property may legitimately come from there. */
static int default_provides(vctx *c, const char *type, const char *prop)
{
    size_t i;
    json_t *d;
    if (!type)
        return 0;
    const char *canon = kt_task_canonical_type(type);
    json_array_foreach((json_t *)c->defaults, i, d) {
        const char *t = json_string_value(json_object_get(d, "type"));
        if (!t)
            continue;
        const char *tc = kt_task_canonical_type(t);
        int match = !strncmp(type, t, strlen(t)) || !strncmp(canon, tc, strlen(tc));
        if (match && json_object_get(json_object_get(d, "values"), prop))
            return 1;
    }
    return 0;
}

static void check_object(vctx *c, const json_t *o, const char *path, const char *cls, const kt_prop *const *tables,
                         const char *pd_type)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        const kt_prop *p = NULL;
        for (int t = 0; tables[t] && !p; t++)
            p = kt_prop_find(tables[t], k);
        char *cp = child(path, k);
        if (!p)
            verr(c, cp, 1, cp, "Unrecognized field \"%s\" (class %s), not marked as ignorable", k, cls);
        else
            check_value(c, p, v, cp, o);
        free(cp);
    }
    for (int t = 0; tables[t]; t++) {
        for (const kt_prop *p = tables[t]; p->name; p++) {
            const json_t *v2 = json_object_get(o, p->name);
            int shadowed = 0; /* a later table entry with the same name (Pause.timeout) is handled once */
            for (int u = 0; u < t; u++)
                shadowed |= kt_prop_find(tables[u], p->name) != NULL;
            if (shadowed || !(p->flags & KT_PF_REQ) || !json_is_null(v2 ? v2 : json_null()))
                continue;
            if (pd_type && default_provides(c, pd_type, p->name))
                continue;
            char *cp = child(path, p->name);
            verr(c, path, 0, cp, "must not be null");
            free(cp);
        }
    }
}

/* Checks an object that names its class with `type` (condition, task runner, trigger). */
static void check_plugin(vctx *c, const json_t *v, const char *path, int kind, const char *what)
{
    if (!json_is_object(v)) {
        verr(c, path, 0, path, "a %s must be a mapping with a type", what);
        return;
    }
    const json_t *t = json_object_get(v, "type");
    const kt_task_def *d = kt_task_lookup(json_string_value(t));
    char *tp = child(path, "type");
    if (!d || d->kind != kind) {
        char *s = t ? show(t) : NULL;
        verr(c, t ? tp : path, 0, tp, "Invalid type: %s", s ? s : "<null>");
        free(s);
        free(tp);
        return;
    }
    free(tp);
    static const kt_prop type_only[] = {{"type", KT_P_STR, KT_PF_REQ, NULL, NULL}, {NULL, 0, 0, NULL, NULL}};
    const kt_prop *tables[] = {kind == KT_PLUGIN_TRIGGER ? kt_task_trigger_common_props() : type_only, d->props, NULL};
    check_object(c, v, path, d->type, tables, json_string_value(t));
}

/* ---------------------------------------------------------------- tasks */

static void check_tasks(vctx *c, const json_t *v, const char *path, int nonempty)
{
    if (!json_is_array(v)) {
        verr(c, path, 0, path, "must be a list of tasks");
        return;
    }
    if (nonempty && json_array_size(v) == 0)
        verr(c, path, 0, path, "must not be empty");
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t) {
        char *ip = item(path, i);
        check_task(c, t, ip);
        free(ip);
    }
}

static void check_dag(vctx *c, const json_t *task, const char *path)
{
    const json_t *items = json_object_get(task, "tasks");
    size_t i, j;
    json_t *x, *dep;
    char *tp = child(path, "tasks");
    json_array_foreach(items, i, x) {
        json_array_foreach(json_object_get(x, "dependsOn"), j, dep) {
            int found = 0;
            size_t k;
            json_t *y;
            json_array_foreach(items, k, y)
                found |= json_equal(json_object_get(json_object_get(y, "task"), "id"), dep);
            if (!found) {
                char *ip = item(tp, i), *dp = child(ip, "dependsOn");
                verr(c, dp, 0, path, "Not existing task id in dependency: %s", json_string_value(dep));
                free(ip);
                free(dp);
            }
        }
    }
    /* Cycle detection: repeatedly remove nodes whose dependencies are all removed; leftovers are cyclic. */
    size_t n = json_array_size(items);
    char *done = calloc(n ? n : 1, 1);
    for (int progress = 1; progress && done;) {
        progress = 0;
        json_array_foreach(items, i, x) {
            if (done[i])
                continue;
            int ready = 1;
            json_array_foreach(json_object_get(x, "dependsOn"), j, dep) {
                size_t k;
                json_t *y;
                json_array_foreach(items, k, y)
                    if (!done[k] && json_equal(json_object_get(json_object_get(y, "task"), "id"), dep))
                        ready = 0;
            }
            if (ready)
                done[i] = 1, progress = 1;
        }
    }
    char ids[512];
    size_t m = 0;
    ids[0] = 0;
    json_array_foreach(items, i, x) {
        const char *id = json_string_value(json_object_get(json_object_get(x, "task"), "id"));
        if (done && !done[i] && id && m < sizeof(ids) - 2)
            m += (size_t)snprintf(ids + m, sizeof(ids) - m, "%s%s", m ? ", " : "", id);
    }
    if (m)
        verr(c, tp, 0, path, "Cyclic dependency detected: %s", ids);
    free(done);
    free(tp);
}

static void check_task(vctx *c, const json_t *t, const char *path)
{
    if (!json_is_object(t)) {
        verr(c, path, 0, path, "a task must be a mapping with an id and a type");
        return;
    }
    const json_t *id = json_object_get(t, "id");
    char *ip = child(path, "id");
    if (json_is_string(id)) {
        const char *s = json_string_value(id);
        const json_t *first = json_object_get(c->task_ids, s);
        if (!match_id(s, 0, 0))
            verr(c, ip, 0, ip, "must match \"^[a-zA-Z0-9][a-zA-Z0-9_-]*\"");
        else if (first)
            verr(c, ip, 0, ip, "Duplicate task id with name [%s] (first defined at %s)", s, json_string_value(first));
        else
            json_object_set_new(c->task_ids, s, json_string(ip));
    }
    free(ip);

    const json_t *type = json_object_get(t, "type");
    const kt_task_def *d = kt_task_lookup(json_string_value(type));
    if (!d || d->kind > KT_PLUGIN_EXEC_UPDATE) {
        char *tp = child(path, "type"), *s = type ? show(type) : NULL;
        verr(c, type ? tp : path, 0, tp, "Invalid type: %s", s && !json_is_null(type) ? s : "<null>");
        free(s);
        free(tp);
        if (!id || json_is_null(id)) { /* the type is unknown, but a missing id is still worth saying */
            char *p2 = child(path, "id");
            verr(c, path, 0, p2, "must not be null");
            free(p2);
        }
        return;
    }
    const kt_prop *tables[4] = {d->props, kt_task_common_props(), NULL, NULL};
    if (d->kind == KT_PLUGIN_FLOWABLE)
        tables[2] = kt_task_flowable_props();
    check_object(c, t, path, d->type, tables, json_string_value(type));

    const char *canon = d->type + strlen("io.kestra.plugin.core.");
    if (!strcmp(canon, "flow.Dag")) {
        check_dag(c, t, path);
    } else if (!strcmp(canon, "flow.Switch")) {
        if (json_object_size(json_object_get(t, "cases")) == 0 && json_array_size(json_object_get(t, "defaults")) == 0)
            verr(c, path, 0, path, "No task defined, neither cases or default have any tasks");
    } else if (!strcmp(canon, "flow.WorkingDirectory")) {
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(t, "tasks"), i, x) {
            const kt_task_def *cd = kt_task_lookup(json_string_value(json_object_get(x, "type")));
            if (cd && cd->kind != KT_PLUGIN_RUNNABLE) {
                char *tp = child(path, "tasks"), *xp = item(tp, i);
                verr(c, xp, 0, path, "Only runnable tasks are allowed as children of a WorkingDirectory task");
                free(xp);
                free(tp);
            }
        }
    } else if (!strcmp(canon, "flow.Subflow") || !strcmp(canon, "flow.ForEachItem")) {
        const char *ns = json_string_value(json_object_get(t, "namespace"));
        const char *fid = json_string_value(json_object_get(t, "flowId"));
        if (ns && fid && c->flow_ns && c->flow_id && !strcmp(ns, c->flow_ns) && !strcmp(fid, c->flow_id))
            verr(c, path, 0, path, "Recursive call to flow [%s.%s]", ns, fid);
    }
    const json_t *wg = json_object_get(json_object_get(t, "workerGroup"), "key");
    if (wg && !json_is_null(wg)) {
        char *wp = child(path, "workerGroup");
        verr(c, wp, 0, wp, "Worker Group is an Enterprise Edition functionality");
        free(wp);
    }
}

/* ---------------------------------------------------------------- inputs, outputs, triggers */

static void check_input_list(vctx *c, const json_t *v, const char *path)
{
    c->errors += kt_inputs_check_defs(v, c->doc, c->file, path, c->diags);
}

/* Input/output ids share one pattern; dots nest the value in the execution's inputs map. */
static void check_outputs(vctx *c, const json_t *v)
{
    if (!v || json_is_null(v))
        return;
    if (!json_is_array(v)) {
        verr(c, "outputs", 0, "outputs", "must be a list");
        return;
    }
    static const kt_prop out_props[] = {{"id", KT_P_STR, KT_PF_REQ, NULL, NULL},
                                        {"type", KT_P_ENUM, KT_PF_REQ, kt_enum_input_types, NULL},
                                        {"value", KT_P_ANY, KT_PF_REQ, NULL, NULL},
                                        {"description", KT_P_STR, 0, NULL, NULL},
                                        {"displayName", KT_P_STR, 0, NULL, NULL},
                                        {"required", KT_P_BOOL, 0, NULL, NULL},
                                        {NULL, 0, 0, NULL, NULL}};
    const kt_prop *tables[] = {out_props, NULL};
    json_t *seen = json_object();
    size_t i;
    json_t *o;
    json_array_foreach(v, i, o) {
        char *ip = item("outputs", i);
        if (!json_is_object(o)) {
            verr(c, ip, 0, ip, "must be an object {id, type, value}");
            free(ip);
            continue;
        }
        check_object(c, o, ip, "io.kestra.core.models.flows.Output", tables, NULL);
        const char *id = json_string_value(json_object_get(o, "id"));
        char *idp = child(ip, "id");
        if (id && !match_id(id, 1, 0))
            verr(c, idp, 0, idp, "must match \"^[a-zA-Z0-9][.a-zA-Z0-9_-]*\"");
        else if (id && json_object_get(seen, id))
            verr(c, idp, 0, idp, "Duplicate output with name [%s]", id);
        else if (id)
            json_object_set_new(seen, id, json_true());
        free(idp);
        free(ip);
    }
    json_decref(seen);
}

static void check_triggers(vctx *c, const json_t *v)
{
    if (!v || json_is_null(v))
        return;
    if (!json_is_array(v)) {
        verr(c, "triggers", 0, "triggers", "must be a list");
        return;
    }
    json_t *seen = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t) {
        char *ip = item("triggers", i);
        check_plugin(c, t, ip, KT_PLUGIN_TRIGGER, "trigger");
        const char *id = json_string_value(json_object_get(t, "id"));
        char *idp = child(ip, "id");
        if (id && !match_id(id, 0, 0))
            verr(c, idp, 0, idp, "must match \"^[a-zA-Z0-9][a-zA-Z0-9_-]*\"");
        else if (id && json_object_get(seen, id))
            verr(c, idp, 0, idp, "Duplicate trigger id with name [%s]", id);
        else if (id)
            json_object_set_new(seen, id, json_true());
        free(idp);
        const kt_task_def *d = kt_task_lookup(json_string_value(json_object_get(t, "type")));
        size_t j;
        json_t *cond;
        if (d && !strcmp(d->type, "io.kestra.plugin.core.trigger.Webhook")) {
            json_array_foreach(json_object_get(t, "conditions"), j, cond) {
                const kt_task_def *cd = kt_task_lookup(json_string_value(json_object_get(cond, "type")));
                if (cd && strstr(cd->type, "MultipleCondition"))
                    verr(c, ip, 0, ip, "invalid webhook: conditions of type MultipleCondition are not supported");
            }
        }
        free(ip);
    }
    json_decref(seen);
}

static void check_slas(vctx *c, const json_t *v)
{
    if (!v || json_is_null(v))
        return;
    if (!json_is_array(v)) {
        verr(c, "sla", 0, "sla", "must be a list");
        return;
    }
    static const char *const sla_types[] = {"MAX_DURATION", "EXECUTION_ASSERTION", NULL};
    static const char *const sla_behaviors[] = {"FAIL", "CANCEL", "NONE", NULL};
    static const kt_prop sla_common[] = {{"id", KT_P_STR, KT_PF_REQ | KT_PF_NONEMPTY, NULL, NULL},
                                         {"type", KT_P_ENUM, KT_PF_REQ, sla_types, NULL},
                                         {"behavior", KT_P_ENUM, KT_PF_REQ, sla_behaviors, NULL},
                                         {"labels", KT_P_LABELS, 0, NULL, NULL},
                                         {NULL, 0, 0, NULL, NULL}};
    static const kt_prop sla_max[] = {{"duration", KT_P_DUR, KT_PF_REQ, NULL, NULL}, {NULL, 0, 0, NULL, NULL}};
    static const kt_prop sla_assert[] = {{"assert", KT_P_STR, KT_PF_REQ | KT_PF_NONEMPTY, NULL, NULL},
                                         {NULL, 0, 0, NULL, NULL}};
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s) {
        char *ip = item("sla", i);
        const char *t = json_string_value(json_object_get(s, "type"));
        if (!json_is_object(s)) {
            verr(c, ip, 0, ip, "must be an object");
        } else if (!t || !in_enum(sla_types, json_object_get(s, "type"))) {
            char *tp = child(ip, "type");
            verr(c, t ? tp : ip, 0, tp, "Invalid type: %s", t ? t : "<null>");
            free(tp);
        } else {
            const kt_prop *tables[] = {sla_common, !strcmp(t, "MAX_DURATION") ? sla_max : sla_assert, NULL};
            check_object(c, s, ip, t, tables, NULL);
        }
        free(ip);
    }
}

/* ---------------------------------------------------------------- the flow */

static const char *const conc_behaviors[] = {"QUEUE", "CANCEL", "FAIL", NULL};
static const kt_prop concurrency_props[] = {{"limit", KT_P_INT, KT_PF_REQ, NULL, NULL},
                                            {"behavior", KT_P_ENUM, 0, conc_behaviors, NULL},
                                            {NULL, 0, 0, NULL, NULL}};
static const kt_prop listener_props[] = {{"description", KT_P_STR, 0, NULL, NULL},
                                         {"conditions", KT_P_CONDS, 0, NULL, NULL},
                                         {"tasks", KT_P_TASKS, KT_PF_REQ | KT_PF_NONEMPTY, NULL, NULL},
                                         {NULL, 0, 0, NULL, NULL}};
static const kt_prop plugin_default_props[] = {{"type", KT_P_STR, KT_PF_REQ, NULL, NULL},
                                               {"forced", KT_P_BOOL, 0, NULL, NULL},
                                               {"values", KT_P_MAP, KT_PF_REQ, NULL, NULL},
                                               {NULL, 0, 0, NULL, NULL}};
static const kt_prop flow_props[] = {
    {"id", KT_P_STR, KT_PF_REQ, NULL, NULL},
    {"namespace", KT_P_STR, KT_PF_REQ, NULL, NULL},
    {"revision", KT_P_INT, 0, NULL, NULL},
    {"description", KT_P_STR, 0, NULL, NULL},
    {"labels", KT_P_ANY, 0, NULL, NULL}, /* checked below: system.readOnly is allowed here */
    {"inputs", KT_P_INPUTS, 0, NULL, NULL},
    {"outputs", KT_P_ANY, 0, NULL, NULL},
    {"variables", KT_P_MAP, 0, NULL, NULL},
    {"tasks", KT_P_TASKS, KT_PF_REQ | KT_PF_NONEMPTY, NULL, NULL},
    {"errors", KT_P_TASKS, 0, NULL, NULL},
    {"finally", KT_P_TASKS, 0, NULL, NULL},
    {"afterExecution", KT_P_TASKS, 0, NULL, NULL},
    {"listeners", KT_P_OBJ_LIST, 0, NULL, listener_props},
    {"triggers", KT_P_ANY, 0, NULL, NULL},
    {"pluginDefaults", KT_P_OBJ_LIST, 0, NULL, plugin_default_props},
    {"taskDefaults", KT_P_OBJ_LIST, 0, NULL, plugin_default_props},
    {"concurrency", KT_P_OBJ, 0, NULL, concurrency_props},
    {"retry", KT_P_RETRY, 0, NULL, NULL},
    {"sla", KT_P_ANY, 0, NULL, NULL},
    {"disabled", KT_P_BOOL, 0, NULL, NULL},
    {"deleted", KT_P_BOOL, 0, NULL, NULL},
    {"tenantId", KT_P_STR, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};

static void collect_defaults(json_t *acc, const json_t *list)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
        if (json_is_object(x))
            json_array_append(acc, x);
}

static void check_flow(vctx *c, const json_t *root)
{
    if (!json_is_object(root)) {
        verr(c, "", 0, "", "a flow must be a mapping (id, namespace, tasks...)");
        return;
    }
    const json_t *id = json_object_get(root, "id"), *ns = json_object_get(root, "namespace");
    c->flow_id = json_string_value(id);
    c->flow_ns = json_string_value(ns);
    json_t *defs = json_array();
    collect_defaults(defs, json_object_get(root, "pluginDefaults"));
    collect_defaults(defs, json_object_get(root, "taskDefaults"));
    c->defaults = defs;
    const kt_prop *tables[] = {flow_props, NULL};
    check_object(c, root, "", "io.kestra.core.models.flows.Flow", tables, NULL);
    if (c->flow_id && (!match_id(c->flow_id, 1, 0) || strlen(c->flow_id) > 100))
        verr(c, "id", 0, "id",
             strlen(c->flow_id) > 100 ? "size must be between 1 and 100" : "must match \"^[a-zA-Z0-9][a-zA-Z0-9._-]*\"");
    if (c->flow_ns && (!match_id(c->flow_ns, 1, 1) || strlen(c->flow_ns) > 150))
        verr(c, "namespace", 0, "namespace",
             strlen(c->flow_ns) > 150 ? "size must be between 1 and 150" : "must match \"^[a-z0-9][a-z0-9._-]*\"");
    const json_t *limit = json_object_get(json_object_get(root, "concurrency"), "limit");
    if (json_is_integer(limit) && json_integer_value(limit) <= 0)
        verr(c, "concurrency.limit", 0, "concurrency.limit", "must be greater than 0");
    if (json_object_get(root, "labels"))
        check_labels(c, json_object_get(root, "labels"), "labels", 1);
    check_outputs(c, json_object_get(root, "outputs"));
    check_triggers(c, json_object_get(root, "triggers"));
    check_slas(c, json_object_get(root, "sla"));
    c->defaults = NULL;
    json_decref(defs);
}

static int diag_cmp(const void *a, const void *b)
{
    const kt_diag *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    int p = strcmp(x->path, y->path);
    return p ? p : strcmp(x->message, y->message);
}

static kt_status build(const json_t *root, const kt_yaml_doc *doc, const char *file, kt_flow **out, kt_diags *diags)
{
    *out = NULL;
    vctx c = {.doc = doc, .file = file, .diags = diags, .task_ids = json_object()};
    if (!c.task_ids)
        return KT_ENOMEM;
    size_t first = diags ? diags->count : 0;
    check_flow(&c, root);
    json_decref(c.task_ids);
    /* The walk visits flow-level checks last; a reader wants the file's errors top to bottom. */
    if (diags && doc && diags->count > first + 1)
        qsort(diags->items + first, diags->count - first, sizeof(kt_diag), diag_cmp);
    if (c.errors)
        return KT_EINVAL;
    kt_flow *f = calloc(1, sizeof(*f));
    json_t *j = json_deep_copy(root);
    if (!f || !j) {
        free(f);
        json_decref(j);
        return KT_ENOMEM;
    }
    if (!json_object_get(j, "disabled"))
        json_object_set_new(j, "disabled", json_false());
    if (!json_object_get(j, "deleted"))
        json_object_set_new(j, "deleted", json_false());
    /* Booleans written as "true" strings are coerced by Jackson; keep the typed form in the model. */
    const json_t *dis = json_object_get(j, "disabled");
    if (json_is_string(dis))
        json_object_set_new(j, "disabled", json_boolean(!strcmp(json_string_value(dis), "true")));
    size_t i;
    json_t *in;
    json_array_foreach(json_object_get(j, "inputs"), i, in)
        if (!json_object_get(in, "id") && json_is_string(json_object_get(in, "name")))
            json_object_set(in, "id", json_object_get(in, "name"));
    f->json = j;
    f->id = json_string_value(json_object_get(j, "id"));
    f->ns = json_string_value(json_object_get(j, "namespace"));
    f->disabled = json_is_true(json_object_get(j, "disabled"));
    *out = f;
    return KT_OK;
}

kt_status kt_flow_parse(const char *src, size_t len, const char *file, kt_flow **out, kt_diags *diags)
{
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    *out = NULL;
    kt_status st = kt_yaml_load(src, len, file, &docs, &n, diags);
    if (st != KT_OK)
        return st;
    if (n != 1) {
        int line = 0, col = 0;
        if (n > 1)
            kt_yaml_doc_pos(docs[1], "", &line, &col);
        kt_diags_add(diags, file, line, col, "",
                     n ? "a flow file must contain exactly one YAML document" : "empty flow: id, namespace and tasks are required");
        kt_yaml_docs_free(docs, n);
        return KT_EINVAL;
    }
    st = build(kt_yaml_doc_root(docs[0]), docs[0], file, out, diags);
    kt_yaml_docs_free(docs, n);
    return st;
}

kt_status kt_flow_from_json(const json_t *root, const char *file, kt_flow **out, kt_diags *diags)
{
    return build(root, NULL, file, out, diags);
}

void kt_flow_free(kt_flow *f)
{
    if (!f)
        return;
    json_decref(f->json);
    free(f);
}

const char *kt_flow_id(const kt_flow *f) { return f->id; }
const char *kt_flow_namespace(const kt_flow *f) { return f->ns; }
int kt_flow_disabled(const kt_flow *f) { return f->disabled; }
const json_t *kt_flow_json(const kt_flow *f) { return f->json; }
const json_t *kt_flow_tasks(const kt_flow *f) { return json_object_get(f->json, "tasks"); }
const json_t *kt_flow_inputs(const kt_flow *f) { return json_object_get(f->json, "inputs"); }
const json_t *kt_flow_triggers(const kt_flow *f) { return json_object_get(f->json, "triggers"); }
