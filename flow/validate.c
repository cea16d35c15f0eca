/* Save-time validation of a flow's values against the property tables of flow/tasks.h (KESTRA-model.md §2-4):
 * objects, values of each kind, plugins, tasks and task lists, recursively. See flow/validate.h. */
#include "flow/validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "time/duration.h"
#include "flow/defaults.h"
#include "flow/flow.h"
#include "flow/inputs.h"
#include "flow/poll.h"
#include "base/strfmt.h"

void kt_validate_err(kt_validate_ctx *c, const char *pos_path, int at_key, const char *path, const char *fmt, ...)
{
    int line, col;
    kt_yaml_doc_locate(c->doc, pos_path, at_key, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    char *msg = kt_strfmt_v(fmt, ap);
    va_end(ap);
    kt_diags_add(c->diags, c->file, line, col, path, "%s", msg ? msg : "out of memory");
    free(msg);
    c->errors++;
}

char *kt_validate_child(const char *path, const char *key)
{
    return kt_strfmt("%s%s%s", path, *path ? "." : "", key);
}

char *kt_validate_item(const char *path, size_t i)
{
    return kt_strfmt("%s[%zu]", path, i);
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

int kt_validate_match_id(const char *s, int allow_dot, int lower_only)
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

/* ---------------------------------------------------------------- values */

static void check_tasks(kt_validate_ctx *c, const json_t *v, const char *path, int nonempty);
static void check_task(kt_validate_ctx *c, const json_t *t, const char *path);
static void check_input_list(kt_validate_ctx *c, const json_t *v, const char *path);

static int is_scalar(const json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

void kt_validate_labels(kt_validate_ctx *c, const json_t *v, const char *path, int allow_readonly)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            char *p = kt_validate_child(path, k);
            char *s = show(x);
            if (!is_scalar(x))
                kt_validate_err(c, p, 0, p, "Unsupported type for key: %s, value: %s", k, s ? s : "");
            else if (strncmp(k, "system.", 7) == 0 && !(allow_readonly && strcmp(k, "system.readOnly") == 0))
                kt_validate_err(c, p, 1, p, "System labels can only be set by Kestra itself, offending label: %s=%s",
                                k, s);
            free(s);
            free(p);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            char *p = kt_validate_item(path, i);
            const json_t *k = json_object_get(x, "key");
            if (!json_is_object(x) || !is_scalar(k) || !is_scalar(json_object_get(x, "value"))) {
                kt_validate_err(c, p, 0, p, "a label must be {key, value}");
            } else if (json_is_string(k) && strncmp(json_string_value(k), "system.", 7) == 0 &&
                       !(allow_readonly && strcmp(json_string_value(k), "system.readOnly") == 0)) {
                char *s = show(json_object_get(x, "value"));
                kt_validate_err(c, p, 0, p, "System labels can only be set by Kestra itself, offending label: %s=%s",
                                json_string_value(k), s);
                free(s);
            }
            free(p);
        }
    } else {
        kt_validate_err(c, path, 0, path, "Unable to deserialize value as it's neither an object neither an array");
    }
}

static const char *const retry_types[] = {"constant", "exponential", "random", NULL};
static const char *const retry_behaviors[] = {"RETRY_FAILED_TASK", "CREATE_NEW_EXECUTION", NULL};
static const kt_prop retry_common[] = {
    {"type", KT_P_STR, KT_PF_REQ, NULL, NULL},   {"maxAttempt", KT_P_INT, 0, NULL, NULL},
    {"maxAttempts", KT_P_INT, 0, NULL, NULL}, /* its name since 0.24, both dialects (flow/dialect.h) */
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
static void retry_order(kt_validate_ctx *c, const json_t *o, const char *path, const char *a, const char *b)
{
    int64_t x, y;
    if (dur_of(o, a, &x) && dur_of(o, b, &y) && y <= x) {
        char buf[KT_DURATION_BUFSZ];
        kt_duration_format(x, buf, sizeof(buf));
        char *p = kt_validate_child(path, a);
        kt_validate_err(c, p, 0, p, "'%s' must be less than '%s' but is %s", a, b, buf);
        free(p);
    }
}

static void check_retry(kt_validate_ctx *c, const json_t *v, const char *path)
{
    if (!json_is_object(v)) {
        kt_validate_err(c, path, 0, path, "retry must be an object with a type");
        return;
    }
    const json_t *t = json_object_get(v, "type");
    const char *ts = json_string_value(t);
    int k = -1;
    for (int i = 0; ts && retry_types[i]; i++)
        if (strcmp(ts, retry_types[i]) == 0)
            k = i;
    if (k < 0) {
        char *p = kt_validate_child(path, "type"), *s = t ? show(t) : NULL;
        kt_validate_err(c, t ? p : path, 0, p, "Invalid type: %s", t ? s : "<null>");
        free(s);
        free(p);
        return;
    }
    const kt_prop *tables[] = {retry_common, k == 0 ? retry_constant : k == 1 ? retry_expo : retry_random, NULL};
    kt_validate_object(c, v, path, ts, tables, NULL);
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "maxAttempts" : "maxAttempt";
        const json_t *ma = json_object_get(v, name);
        if (json_is_integer(ma) && json_integer_value(ma) < 1) {
            char *p = kt_validate_child(path, name);
            kt_validate_err(c, p, 0, p, "must be greater than or equal to 1");
            free(p);
        }
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

int kt_validate_in_enum(const char *const *e, const json_t *v)
{
    for (; json_is_string(v) && e && *e; e++)
        if (strcmp(*e, json_string_value(v)) == 0)
            return 1;
    return 0;
}

static void enum_err(kt_validate_ctx *c, const char *path, const json_t *v, const char *const *e)
{
    char list[512];
    size_t n = 0;
    list[0] = 0;
    for (; *e && n < sizeof(list) - 32; e++)
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "", *e);
    char *s = show(v);
    kt_validate_err(c, path, 0, path, "Cannot deserialize value \"%s\": not one of the values accepted: [%s]",
                    s ? s : "", list);
    free(s);
}

/* One check per property kind (kt_prop_kind); check_value calls it for a value that is neither null nor a
 * dynamic property's expression. parent is the object holding the value (the cron check reads withSeconds). */
#define VALUE_CHECK(name) \
    static void name(kt_validate_ctx *c, const kt_prop *p, const json_t *v, const char *path, const json_t *parent)

/* Fails with "must be a list" unless v is an array. */
static int is_list(kt_validate_ctx *c, const json_t *v, const char *path)
{
    if (json_is_array(v))
        return 1;
    kt_validate_err(c, path, 0, path, "must be a list");
    return 0;
}

VALUE_CHECK(value_str)
{
    if (!is_scalar(v))
        kt_validate_err(c, path, 0, path, "must be a string, not %s", json_is_array(v) ? "a list" : "an object");
    else if ((p->flags & KT_PF_NONEMPTY) && json_is_string(v) && !*json_string_value(v))
        kt_validate_err(c, path, 0, path, "must not be blank");
}

VALUE_CHECK(value_bool)
{
    if (!json_is_boolean(v) &&
        !(json_is_string(v) && (!strcmp(json_string_value(v), "true") || !strcmp(json_string_value(v), "false"))))
        kt_validate_err(c, path, 0, path, "must be a boolean (true or false)");
}

/* KT_P_INT and KT_P_NUM: a JSON number or a string holding one */
VALUE_CHECK(value_number)
{
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
        kt_validate_err(c, path, 0, path, "must be %s", p->kind == KT_P_INT ? "an integer" : "a number");
}

VALUE_CHECK(value_duration)
{
    int64_t us;
    if (kt_duration_from_json(v, &us)) {
        char *s = show(v);
        kt_validate_err(c, path, 0, path, "invalid duration '%s': Text cannot be parsed to a Duration", s ? s : "");
        free(s);
    }
}

VALUE_CHECK(value_enum)
{
    if (!kt_validate_in_enum(p->enums, v))
        enum_err(c, path, v, p->enums);
}

VALUE_CHECK(value_enum_list)
{
    if (!is_list(c, v, path))
        return;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        if (!kt_validate_in_enum(p->enums, x)) {
            char *ip = kt_validate_item(path, i);
            enum_err(c, ip, x, p->enums);
            free(ip);
        }
    }
}

VALUE_CHECK(value_map)
{
    if (!json_is_object(v))
        kt_validate_err(c, path, 0, path, "must be a map");
}

/* KT_P_LIST, KT_P_STR_LIST and KT_P_STR_OR_LIST (which also takes a single scalar) */
VALUE_CHECK(value_list)
{
    if (p->kind == KT_P_STR_OR_LIST && is_scalar(v)) {
        value_str(c, p, v, path, parent);
        return;
    }
    if (!is_list(c, v, path))
        return;
    if ((p->flags & KT_PF_NONEMPTY) && json_array_size(v) == 0)
        kt_validate_err(c, path, 0, path, "must not be empty");
    if (p->kind == KT_P_LIST)
        return;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        if (!is_scalar(x) && !json_is_null(x)) {
            char *ip = kt_validate_item(path, i);
            kt_validate_err(c, ip, 0, ip, "must be a string");
            free(ip);
        }
    }
}

VALUE_CHECK(value_str_or_map)
{
    if (!is_scalar(v) && !json_is_object(v))
        kt_validate_err(c, path, 0, path, "must be a string or a map");
}

VALUE_CHECK(value_labels) { kt_validate_labels(c, v, path, 0); }

VALUE_CHECK(value_obj)
{
    if (!json_is_object(v)) {
        kt_validate_err(c, path, 0, path, "must be an object");
        return;
    }
    const kt_prop *t[] = {p->sub, NULL};
    kt_validate_object(c, v, path, p->name, t, NULL);
}

VALUE_CHECK(value_obj_list)
{
    if (!is_list(c, v, path))
        return;
    const kt_prop *t[] = {p->sub, NULL};
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        char *ip = kt_validate_item(path, i);
        if (!json_is_object(x))
            kt_validate_err(c, ip, 0, ip, "must be an object");
        else
            kt_validate_object(c, x, ip, p->name, t, NULL);
        free(ip);
    }
}

VALUE_CHECK(value_tasks) { check_tasks(c, v, path, p->flags & KT_PF_NONEMPTY); }

/* Switch's cases: a map of task lists */
VALUE_CHECK(value_cases)
{
    if (!json_is_object(v)) {
        kt_validate_err(c, path, 0, path, "must be a map of task lists");
        return;
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
        char *cp = kt_validate_child(path, k);
        check_tasks(c, x, cp, 0);
        free(cp);
    }
}

/* Dag's tasks: a list of {task, dependsOn} */
VALUE_CHECK(value_dag)
{
    if (!is_list(c, v, path))
        return;
    if (json_array_size(v) == 0)
        kt_validate_err(c, path, 0, path, "No task defined");
    static const kt_prop dag_item[] = {{"task", KT_P_ANY, KT_PF_REQ, NULL, NULL},
                                       {"dependsOn", KT_P_STR_LIST, 0, NULL, NULL},
                                       {NULL, 0, 0, NULL, NULL}};
    const kt_prop *t[] = {dag_item, NULL};
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        char *ip = kt_validate_item(path, i);
        if (!json_is_object(x)) {
            kt_validate_err(c, ip, 0, ip, "must be an object {task, dependsOn}");
        } else {
            kt_validate_object(c, x, ip, "DagTask", t, NULL);
            if (json_object_get(x, "task")) {
                char *tp = kt_validate_child(ip, "task");
                check_task(c, json_object_get(x, "task"), tp);
                free(tp);
            }
        }
        free(ip);
    }
}

VALUE_CHECK(value_retry) { check_retry(c, v, path); }

VALUE_CHECK(value_conditions)
{
    if (!is_list(c, v, path))
        return;
    if ((p->flags & KT_PF_NONEMPTY) && json_array_size(v) == 0)
        kt_validate_err(c, path, 0, path, "must not be empty");
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        char *ip = kt_validate_item(path, i);
        kt_validate_plugin(c, x, ip, KT_PLUGIN_CONDITION, "condition");
        free(ip);
    }
}

/* MultipleCondition's conditions: a map of id to condition */
VALUE_CHECK(value_condition_map)
{
    if (!json_is_object(v)) {
        kt_validate_err(c, path, 0, path, "must be a map of conditions");
        return;
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
        char *cp = kt_validate_child(path, k);
        kt_validate_plugin(c, x, cp, KT_PLUGIN_CONDITION, "condition");
        free(cp);
    }
}

VALUE_CHECK(value_runner) { kt_validate_plugin(c, v, path, KT_PLUGIN_TASK_RUNNER, "task runner"); }

VALUE_CHECK(value_inputs) { check_input_list(c, v, path); }

/* A cron expression, read with the sibling withSeconds */
VALUE_CHECK(value_cron)
{
    char why[128] = "not a string";
    const json_t *ws = json_object_get(parent, "withSeconds");
    int with_s = json_is_true(ws) || (json_is_string(ws) && !strcmp(json_string_value(ws), "true"));
    if (!json_is_string(v) || kt_flow_check_cron(json_string_value(v), with_s, why, sizeof(why))) {
        char *s = show(v);
        kt_validate_err(c, path, 0, path, "invalid cron expression '%s': %s", s ? s : "", why);
        free(s);
    }
}

typedef void (*value_check)(kt_validate_ctx *c, const kt_prop *p, const json_t *v, const char *path,
                            const json_t *parent);

static const value_check k_value_checks[] = {
    [KT_P_ANY] = NULL, /* anything goes */
    [KT_P_STR] = value_str,
    [KT_P_BOOL] = value_bool,
    [KT_P_INT] = value_number,
    [KT_P_NUM] = value_number,
    [KT_P_DUR] = value_duration,
    [KT_P_ENUM] = value_enum,
    [KT_P_MAP] = value_map,
    [KT_P_LIST] = value_list,
    [KT_P_STR_LIST] = value_list,
    [KT_P_ENUM_LIST] = value_enum_list,
    [KT_P_STR_OR_LIST] = value_list,
    [KT_P_STR_OR_MAP] = value_str_or_map,
    [KT_P_LABELS] = value_labels,
    [KT_P_OBJ] = value_obj,
    [KT_P_OBJ_LIST] = value_obj_list,
    [KT_P_TASKS] = value_tasks,
    [KT_P_CASES] = value_cases,
    [KT_P_DAG] = value_dag,
    [KT_P_RETRY] = value_retry,
    [KT_P_CONDS] = value_conditions,
    [KT_P_COND_MAP] = value_condition_map,
    [KT_P_RUNNER] = value_runner,
    [KT_P_INPUTS] = value_inputs,
    [KT_P_CRON] = value_cron,
};

static void check_value(kt_validate_ctx *c, const kt_prop *p, const json_t *v, const char *path, const json_t *parent)
{
    if (json_is_null(v))
        return; /* same as absent; required-ness was checked by the caller */
    if ((p->flags & KT_PF_DYN) && has_expr(v))
        return;
    value_check check = (size_t)p->kind < sizeof k_value_checks / sizeof *k_value_checks ? k_value_checks[p->kind] : NULL;
    if (check)
        check(c, p, v, path, parent);
}

/* Does a plugin default (flow pluginDefaults) give `prop` to plugins of `type`? Kestra applies defaults
 * before bean validation, so a required property may legitimately come from there. The match is the one the
 * executor applies (flow/defaults.h): the type as written, or the canonical name of a default named by an alias. */
static int default_provides(kt_validate_ctx *c, const char *type, const char *prop)
{
    size_t i;
    json_t *d;
    if (!type)
        return 0;
    json_array_foreach((json_t *)c->defaults, i, d) {
        const char *t = json_string_value(json_object_get(d, "type"));
        if (!t)
            continue;
        int match = kt_defaults_match(t, type) || kt_defaults_match(kt_task_canonical_type(t), type);
        if (match && json_object_get(json_object_get(d, "values"), prop))
            return 1;
    }
    return 0;
}

void kt_validate_object(kt_validate_ctx *c, const json_t *o, const char *path, const char *cls,
                        const kt_prop *const *tables, const char *pd_type)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        const kt_prop *p = NULL;
        for (int t = 0; tables[t] && !p; t++)
            p = kt_prop_find(tables[t], k);
        char *cp = kt_validate_child(path, k);
        if (!p)
            kt_validate_err(c, cp, 1, cp, "Unrecognized field \"%s\" (class %s), not marked as ignorable", k, cls);
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
            char *cp = kt_validate_child(path, p->name);
            kt_validate_err(c, path, 0, cp, "must not be null");
            free(cp);
        }
    }
}

void kt_validate_plugin(kt_validate_ctx *c, const json_t *v, const char *path, int kind, const char *what)
{
    if (!json_is_object(v)) {
        kt_validate_err(c, path, 0, path, "a %s must be a mapping with a type", what);
        return;
    }
    const json_t *t = json_object_get(v, "type");
    const kt_task_def *d = kt_task_lookup(json_string_value(t));
    char *tp = kt_validate_child(path, "type");
    if (!d || d->kind != kind) {
        char *s = t ? show(t) : NULL;
        kt_validate_err(c, t ? tp : path, 0, tp, "Invalid type: %s", s ? s : "<null>");
        free(s);
        free(tp);
        return;
    }
    free(tp);
    static const kt_prop type_only[] = {{"type", KT_P_STR, KT_PF_REQ, NULL, NULL}, {NULL, 0, 0, NULL, NULL}};
    const kt_prop *tables[] = {kind == KT_PLUGIN_TRIGGER ? kt_task_trigger_common_props() : type_only, d->props, NULL};
    int before = c->errors;
    kt_validate_object(c, v, path, d->type, tables, json_string_value(t));
    if (kind == KT_PLUGIN_TRIGGER && c->errors == before) { /* a polling trigger's interval and uri, which its worker would only refuse later */
        const char *prop = NULL;
        char err[512];
        if (kt_poll_check(v, &prop, err, sizeof err)) {
            char *pp = kt_validate_child(path, prop);
            int present = json_object_get(v, prop) != NULL;
            kt_validate_err(c, present ? pp : path, 0, pp, "%s", err);
            free(pp);
        }
    }
}

/* ---------------------------------------------------------------- tasks */

static void check_tasks(kt_validate_ctx *c, const json_t *v, const char *path, int nonempty)
{
    if (!json_is_array(v)) {
        kt_validate_err(c, path, 0, path, "must be a list of tasks");
        return;
    }
    if (nonempty && json_array_size(v) == 0)
        kt_validate_err(c, path, 0, path, "must not be empty");
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t) {
        char *ip = kt_validate_item(path, i);
        check_task(c, t, ip);
        free(ip);
    }
}

static void check_dag(kt_validate_ctx *c, const json_t *task, const char *path)
{
    const json_t *items = json_object_get(task, "tasks");
    size_t i, j;
    json_t *x, *dep;
    char *tp = kt_validate_child(path, "tasks");
    json_array_foreach(items, i, x) {
        json_array_foreach(json_object_get(x, "dependsOn"), j, dep) {
            int found = 0;
            size_t k;
            json_t *y;
            json_array_foreach(items, k, y)
                found |= json_equal(json_object_get(json_object_get(y, "task"), "id"), dep);
            if (!found) {
                char *ip = kt_validate_item(tp, i), *dp = kt_validate_child(ip, "dependsOn");
                kt_validate_err(c, dp, 0, path, "Not existing task id in dependency: %s", json_string_value(dep));
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
        kt_validate_err(c, tp, 0, path, "Cyclic dependency detected: %s", ids);
    free(done);
    free(tp);
}

static void check_task(kt_validate_ctx *c, const json_t *t, const char *path)
{
    if (!json_is_object(t)) {
        kt_validate_err(c, path, 0, path, "a task must be a mapping with an id and a type");
        return;
    }
    const json_t *id = json_object_get(t, "id");
    char *ip = kt_validate_child(path, "id");
    if (json_is_string(id)) {
        const char *s = json_string_value(id);
        const json_t *first = json_object_get(c->task_ids, s);
        if (!kt_validate_match_id(s, 0, 0))
            kt_validate_err(c, ip, 0, ip, "must match \"^[a-zA-Z0-9][a-zA-Z0-9_-]*\"");
        else if (first)
            kt_validate_err(c, ip, 0, ip, "Duplicate task id with name [%s] (first defined at %s)", s,
                            json_string_value(first));
        else
            json_object_set_new(c->task_ids, s, json_string(ip));
    }
    free(ip);

    const json_t *type = json_object_get(t, "type");
    const kt_task_def *d = kt_task_lookup(json_string_value(type));
    if (!d || d->kind > KT_PLUGIN_EXEC_UPDATE) {
        char *tp = kt_validate_child(path, "type"), *s = type ? show(type) : NULL;
        kt_validate_err(c, type ? tp : path, 0, tp, "Invalid type: %s", s && !json_is_null(type) ? s : "<null>");
        free(s);
        free(tp);
        if (!id || json_is_null(id)) { /* the type is unknown, but a missing id is still worth saying */
            char *p2 = kt_validate_child(path, "id");
            kt_validate_err(c, path, 0, p2, "must not be null");
            free(p2);
        }
        return;
    }
    const kt_prop *tables[4] = {d->props, kt_task_common_props(), NULL, NULL};
    if (d->kind == KT_PLUGIN_FLOWABLE)
        tables[2] = kt_task_flowable_props();
    kt_validate_object(c, t, path, d->type, tables, json_string_value(type));

    const char *canon = d->type + strlen("io.kestra.plugin.core.");
    if (!strcmp(canon, "flow.Dag")) {
        check_dag(c, t, path);
    } else if (!strcmp(canon, "flow.Switch")) {
        if (json_object_size(json_object_get(t, "cases")) == 0 && json_array_size(json_object_get(t, "defaults")) == 0)
            kt_validate_err(c, path, 0, path, "No task defined, neither cases or default have any tasks");
    } else if (!strcmp(canon, "flow.WorkingDirectory")) {
        /* @WorkingDirectoryTaskValidation: the first rule broken, one message on the task */
        const json_t *tasks = json_object_get(t, "tasks");
        int not_runnable = 0, worker_group = 0;
        size_t i;
        json_t *x;
        json_array_foreach(tasks, i, x) {
            const kt_task_def *cd = kt_task_lookup(json_string_value(json_object_get(x, "type")));
            not_runnable |= cd && cd->kind != KT_PLUGIN_RUNNABLE;
            worker_group |= json_object_get(x, "workerGroup") && !json_is_null(json_object_get(x, "workerGroup"));
        }
        if (json_is_array(tasks) && !json_array_size(tasks))
            kt_validate_err(c, path, 0, path, "The 'tasks' property cannot be empty");
        else if (not_runnable)
            kt_validate_err(c, path, 0, path, "Only runnable tasks are allowed as children of a WorkingDirectory task");
        else if (worker_group)
            kt_validate_err(c, path, 0, path, "Cannot set a Worker Group in any WorkingDirectory sub-tasks, it is only "
                                              "supported at the WorkingDirectory level");
    } else if (!strcmp(canon, "kv.PurgeKV")) { /* PurgeTask.findNamespaces, KvVersionBehaviorValidator: when written */
        const json_t *nss = json_object_get(t, "namespaces"), *pat = json_object_get(t, "namespacePattern");
        const json_t *b = json_object_get(t, "behavior");
        if (json_array_size(nss) && json_is_string(pat) && *json_string_value(pat))
            kt_validate_err(c, path, 0, path, "Properties `namespaces` and `namespacePattern` can't be used at the "
                                              "same time — use one or the other.");
        if (json_is_object(b) && json_object_get(b, "before") && json_object_get(b, "keepAmount"))
            kt_validate_err(c, path, 0, path, "Cannot set both 'before' and 'keepAmount' properties");
    } else if (!strcmp(canon, "flow.Subflow") || !strcmp(canon, "flow.ForEachItem")) {
        const char *ns = json_string_value(json_object_get(t, "namespace"));
        const char *fid = json_string_value(json_object_get(t, "flowId"));
        if (ns && fid && c->flow_ns && c->flow_id && !strcmp(ns, c->flow_ns) && !strcmp(fid, c->flow_id))
            kt_validate_err(c, path, 0, path, "Recursive call to flow [%s.%s]", ns, fid);
    }
    const json_t *ttl = json_object_get(json_object_get(t, "taskCache"), "ttl"); /* Cache.java's @DurationMin(1 ms) */
    int64_t ttl_us;
    if (ttl && !kt_duration_from_json(ttl, &ttl_us) && ttl_us < 1000) {
        char *tc = kt_validate_child(path, "taskCache"), *tp = kt_validate_child(tc, "ttl");
        kt_validate_err(c, tp, 0, tp, "must be a positive duration");
        free(tp);
        free(tc);
    }
    const json_t *wg = json_object_get(json_object_get(t, "workerGroup"), "key");
    if (wg && !json_is_null(wg)) {
        char *wp = kt_validate_child(path, "workerGroup");
        kt_validate_err(c, wp, 0, wp, "Worker Group is an Enterprise Edition functionality");
        free(wp);
    }
}

/* ---------------------------------------------------------------- inputs (definitions: flow/inputs.h) */

static void check_input_list(kt_validate_ctx *c, const json_t *v, const char *path)
{
    c->errors += kt_inputs_check_defs(v, c->doc, c->file, path, c->diags);
}
