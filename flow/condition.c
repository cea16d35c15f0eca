/* Trigger conditions (KESTRA-execution.md §5.9): the type table, the render context, the execution and flow
 * conditions, Expression/ExecutionOutputs, Not/Or and the list evaluators. The date conditions live in
 * condition_date.c, the multiple conditions and their windows in condition_multiple.c. Each test follows the
 * Java class of the same name under io.kestra.plugin.core.condition. */
#include "flow/condition.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr.h"
#include "flow/condition_int.h"
#include "flow/model.h"
#include "flow/tasks.h"

#define CORE_COND "io.kestra.plugin.core.condition."

static const struct {
    const char *name; /* canonical class name after io.kestra.plugin.core.condition. */
    kc_kind kind;
    int schedule; /* implements ScheduleCondition */
} kinds[] = {
    {"ExecutionFlow", KC_EXECUTION_FLOW, 0},       {"ExecutionNamespace", KC_EXECUTION_NAMESPACE, 0},
    {"ExecutionStatus", KC_EXECUTION_STATUS, 0},   {"ExecutionLabels", KC_EXECUTION_LABELS, 0},
    {"ExecutionOutputs", KC_EXECUTION_OUTPUTS, 1}, {"HasRetryAttempt", KC_HAS_RETRY_ATTEMPT, 0},
    {"Expression", KC_EXPRESSION, 1},              {"FlowCondition", KC_FLOW, 0},
    {"FlowNamespaceCondition", KC_FLOW_NAMESPACE, 0}, {"Not", KC_NOT, 1},
    {"Or", KC_OR, 1},                              {"DateTimeBetween", KC_DATE_TIME_BETWEEN, 1},
    {"TimeBetween", KC_TIME_BETWEEN, 1},           {"DayWeek", KC_DAY_WEEK, 1},
    {"DayWeekInMonth", KC_DAY_WEEK_IN_MONTH, 1},   {"Weekend", KC_WEEKEND, 1},
    {"PublicHoliday", KC_PUBLIC_HOLIDAY, 1},       {"MultipleCondition", KC_MULTIPLE, 0},
};

kc_kind kc_kind_of(const char *type)
{
    if (!type)
        return KC_UNKNOWN;
    if (!strcmp(type, KT_COND_TYPE_UPSTREAM_FLOW))
        return KC_UPSTREAM_FLOW;
    if (!strcmp(type, KT_COND_TYPE_FILTER))
        return KC_FILTER;
    /* the catalogue maps every legacy alias to its canonical name */
    const char *canon = kt_task_canonical_type(type);
    if (strncmp(canon, CORE_COND, strlen(CORE_COND)))
        return KC_UNKNOWN;
    canon += strlen(CORE_COND);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].name, canon))
            return kinds[i].kind;
    return KC_UNKNOWN;
}

int kt_cond_is_schedule(const char *type)
{
    kc_kind k = kc_kind_of(type);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].kind == k)
            return kinds[i].schedule;
    return 0;
}

int kt_cond_is_multiple(const char *type) { return kc_kind_of(type) == KC_MULTIPLE; }

int kt_cond_is_known(const char *type)
{
    kc_kind k = kc_kind_of(type);
    return k != KC_UNKNOWN && k != KC_UPSTREAM_FLOW && k != KC_FILTER;
}

/* ---------------------------------------------------------------- helpers */

char *kc_scalar_string(const json_t *v)
{
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v))
        return json_dumps(v, JSON_ENCODE_ANY);
    return NULL;
}

int kc_states_contain(const json_t *list, const char *s)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) if (s && json_is_string(x) && !strcmp(json_string_value(x), s)) return 1;
    return 0;
}

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* Kestra's Expression/ExecutionOutputs truth: the rendering, not blank and not "false" once trimmed. */
static int rendered_true(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return n && !(n == 5 && !strncmp(s, "false", 5));
}

/* ---------------------------------------------------------------- the render context */

/* Task outputs by task id, a run with a loop value nested under it (RunVariables' outputs). */
static json_t *outputs_of(const json_t *execution)
{
    json_t *all = json_object();
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(execution, "taskRunList"), i, tr) {
        const char *tid = str(tr, "taskId"), *value = str(tr, "value");
        json_t *o = json_object_get(tr, "outputs");
        if (!tid || !json_object_size(o))
            continue;
        if (!value) {
            json_object_set(all, tid, o);
            continue;
        }
        json_t *byv = json_object_get(all, tid);
        if (!json_is_object(byv)) {
            byv = json_object();
            json_object_set_new(all, tid, byv);
        }
        json_object_set(byv, value, o);
    }
    return all;
}

static json_t *build_vars(const kt_cond_ctx *ctx)
{
    json_t *vars = json_object();
    const json_t *flow = ctx->flow, *ex = ctx->execution;
    if (flow) {
        json_t *f = json_object();
        json_object_set(f, "id", json_object_get(flow, "id"));
        json_object_set(f, "namespace", json_object_get(flow, "namespace"));
        if (json_object_get(flow, "revision"))
            json_object_set(f, "revision", json_object_get(flow, "revision"));
        json_object_set_new(vars, "flow", f);
        if (json_object_get(flow, "variables"))
            json_object_set(vars, "vars", json_object_get(flow, "variables"));
    }
    if (ex) {
        json_t *e = json_object();
        json_object_set(e, "id", json_object_get(ex, "id"));
        json_t *hist = json_array_get(json_object_get(json_object_get(ex, "state"), "histories"), 0);
        if (json_object_get(hist, "date"))
            json_object_set(e, "startDate", json_object_get(hist, "date"));
        json_object_set(e, "state", json_object_get(json_object_get(ex, "state"), "current"));
        if (json_object_get(ex, "originalId"))
            json_object_set(e, "originalId", json_object_get(ex, "originalId"));
        json_object_set_new(vars, "execution", e);
        json_t *labels = json_object();
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(ex, "labels"), i, l) {
            const char *k = str(l, "key");
            if (k && json_object_get(l, "value") && !json_object_get(labels, k))
                json_object_set(labels, k, json_object_get(l, "value"));
        }
        json_object_set_new(vars, "labels", labels);
        if (json_object_size(json_object_get(ex, "inputs")))
            json_object_set(vars, "inputs", json_object_get(ex, "inputs"));
        json_object_set_new(vars, "outputs", outputs_of(ex));
    }
    /* trigger: the caller's, else what the execution's own trigger carried (Kestra's of(flow, execution)) */
    const json_t *trigger = ctx->trigger;
    if (!trigger && ex)
        trigger = json_object_get(json_object_get(ex, "trigger"), "variables");
    if (trigger)
        json_object_set(vars, "trigger", (json_t *)trigger);
    if (ctx->trigger && !ex)
        json_object_set(vars, "schedule", (json_t *)ctx->trigger);
    return vars;
}

const json_t *kc_vars(kc_eval *ev)
{
    if (!ev->vars)
        ev->vars = build_vars(ev->ctx);
    return ev->vars;
}

int kc_render(kc_eval *ev, const char *src, const json_t *extra, char **out, char *err, size_t errcap)
{
    json_t *merged = NULL;
    const json_t *vars = kc_vars(ev);
    if (extra) {
        merged = json_deep_copy(vars);
        json_object_update_recursive(merged, (json_t *)extra);
        vars = merged;
    }
    /* a copy of the caller's environment: every render of an evaluation draws the same, and ctx stays const */
    kt_env env;
    kt_env *envp = NULL;
    if (ev->ctx->env) {
        env = *ev->ctx->env;
        envp = &env;
    }
    kt_expr_error e = {0};
    kt_status st = kt_expr_render_string(src, vars, envp, out, &e);
    json_decref(merged);
    if (st != KT_OK) {
        snprintf(err, errcap, "%s", e.message[0] ? e.message : "cannot render the expression");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- the conditions */

#define NEED_EXECUTION(ev, err, errcap)                                                                          \
    do {                                                                                                         \
        if (!(ev)->ctx->execution) {                                                                             \
            snprintf(err, errcap, "Invalid condition with null execution");                                      \
            return KT_COND_ERROR;                                                                                \
        }                                                                                                        \
    } while (0)

static kt_cond_result required_string(const json_t *cond, const char *prop, const char **out, char *err,
                                      size_t errcap)
{
    *out = str(cond, prop);
    if (!*out) {
        snprintf(err, errcap, "%s: must not be null", prop);
        return KT_COND_ERROR;
    }
    return KT_COND_TRUE;
}

static kt_cond_result test_execution_flow(kc_eval *ev, const json_t *cond, char *err, size_t errcap)
{
    const char *ns, *id;
    if (required_string(cond, "namespace", &ns, err, errcap) < 0 || required_string(cond, "flowId", &id, err, errcap) < 0)
        return KT_COND_ERROR;
    NEED_EXECUTION(ev, err, errcap);
    const char *ens = str(ev->ctx->execution, "namespace"), *eid = str(ev->ctx->execution, "flowId");
    return ens && eid && !strcmp(ens, ns) && !strcmp(eid, id) ? KT_COND_TRUE : KT_COND_FALSE;
}

static kt_cond_result test_execution_namespace(kc_eval *ev, const json_t *cond, char *err, size_t errcap)
{
    const char *ns;
    if (required_string(cond, "namespace", &ns, err, errcap) < 0)
        return KT_COND_ERROR;
    NEED_EXECUTION(ev, err, errcap);
    const char *cmp = str(cond, "comparison");
    if (!cmp)
        cmp = json_is_true(json_object_get(cond, "prefix")) ? "PREFIX" : "EQUALS";
    const char *ens = str(ev->ctx->execution, "namespace");
    if (!ens)
        return KT_COND_FALSE;
    size_t n = strlen(ns), en = strlen(ens);
    if (!strcmp(cmp, "EQUALS"))
        return !strcmp(ens, ns) ? KT_COND_TRUE : KT_COND_FALSE;
    if (!strcmp(cmp, "PREFIX"))
        return !strncmp(ens, ns, n) ? KT_COND_TRUE : KT_COND_FALSE;
    if (!strcmp(cmp, "SUFFIX"))
        return en >= n && !strcmp(ens + en - n, ns) ? KT_COND_TRUE : KT_COND_FALSE;
    snprintf(err, errcap, "comparison: must be one of EQUALS, PREFIX, SUFFIX, not '%s'", cmp);
    return KT_COND_ERROR;
}

/* `in` / `notIn` of ExecutionStatus and HasRetryAttempt: s in `in` (when set) and not in `notIn` (when set). */
static int in_not_in(const json_t *cond, const char *s)
{
    const json_t *in = json_object_get(cond, "in"), *not_in = json_object_get(cond, "notIn");
    if (json_is_array(in) && !kc_states_contain(in, s))
        return 0;
    if (json_is_array(not_in) && kc_states_contain(not_in, s))
        return 0;
    return 1;
}

static kt_cond_result test_execution_status(kc_eval *ev, const json_t *cond, char *err, size_t errcap)
{
    NEED_EXECUTION(ev, err, errcap);
    return in_not_in(cond, kt_state_current(ev->ctx->execution)) ? KT_COND_TRUE : KT_COND_FALSE;
}

static kt_cond_result test_has_retry_attempt(kc_eval *ev, const json_t *cond, char *err, size_t errcap)
{
    NEED_EXECUTION(ev, err, errcap);
    size_t i, j;
    json_t *tr, *at;
    json_array_foreach(json_object_get(ev->ctx->execution, "taskRunList"), i, tr) {
        const json_t *attempts = json_object_get(tr, "attempts");
        if (json_array_size(attempts) <= 1)
            continue;
        json_array_foreach(attempts, j, at) if (in_not_in(cond, kt_state_current(at))) return KT_COND_TRUE;
    }
    return KT_COND_FALSE;
}

static int execution_has_label(const json_t *execution, const char *k, const char *v)
{
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(execution, "labels"), i, l) {
        const char *lk = str(l, "key"), *lv = str(l, "value");
        if (lk && lv && !strcmp(lk, k) && !strcmp(lv, v))
            return 1;
    }
    return 0;
}

static kt_cond_result test_execution_labels(kc_eval *ev, const json_t *cond, char *err, size_t errcap)
{
    const json_t *spec = json_object_get(cond, "labels");
    if (!spec || json_is_null(spec)) {
        snprintf(err, errcap, "labels: must not be null");
        return KT_COND_ERROR;
    }
    NEED_EXECUTION(ev, err, errcap);
    char why[256];
    json_t *labels = kt_labels_normalize(spec, why, sizeof why);
    if (!labels) {
        snprintf(err, errcap, "labels: %s", why);
        return KT_COND_ERROR;
    }
    kt_cond_result r = KT_COND_TRUE;
    size_t i;
    json_t *l;
    json_array_foreach(labels, i, l) {
        if (!execution_has_label(ev->ctx->execution, str(l, "key"), str(l, "value"))) {
            r = KT_COND_FALSE;
            break;
        }
    }
    json_decref(labels);
    return r;
}

static kt_cond_result test_expression(kc_eval *ev, const json_t *cond, const json_t *extra, char *err,
                                      size_t errcap)
{
    const char *expr;
    if (required_string(cond, "expression", &expr, err, errcap) < 0)
        return KT_COND_ERROR;
    char *out = NULL;
    if (kc_render(ev, expr, extra, &out, err, errcap))
        return KT_COND_ERROR;
    kt_cond_result r = rendered_true(out) ? KT_COND_TRUE : KT_COND_FALSE;
    free(out);
    return r;
}

static kt_cond_result test_execution_outputs(kc_eval *ev, const json_t *cond, char *err, size_t errcap)
{
    NEED_EXECUTION(ev, err, errcap);
    /* the execution's flow outputs; none: false without rendering */
    json_t *outputs = json_object_get(ev->ctx->execution, "outputs");
    if (!json_object_size(outputs))
        return KT_COND_FALSE;
    json_t *extra = json_pack("{s:{s:O}}", "trigger", "outputs", outputs);
    kt_cond_result r = test_expression(ev, cond, extra, err, errcap);
    json_decref(extra);
    return r;
}

static kt_cond_result test_flow(kc_eval *ev, const json_t *cond, int namespace_only, char *err, size_t errcap)
{
    const char *ns, *id = NULL;
    if (required_string(cond, "namespace", &ns, err, errcap) < 0 ||
        (!namespace_only && required_string(cond, "flowId", &id, err, errcap) < 0))
        return KT_COND_ERROR;
    if (!ev->ctx->flow) {
        snprintf(err, errcap, "Invalid condition with null flow");
        return KT_COND_ERROR;
    }
    const char *fns = str(ev->ctx->flow, "namespace"), *fid = str(ev->ctx->flow, "id");
    if (!fns || !fid)
        return KT_COND_FALSE;
    if (!namespace_only)
        return !strcmp(fns, ns) && !strcmp(fid, id) ? KT_COND_TRUE : KT_COND_FALSE;
    if (json_is_true(json_object_get(cond, "prefix")))
        return !strncmp(fns, ns, strlen(ns)) ? KT_COND_TRUE : KT_COND_FALSE;
    return !strcmp(fns, ns) ? KT_COND_TRUE : KT_COND_FALSE;
}

/* Not: none holds; Or: one holds. An error in a member is the error of the whole (Java's throwPredicate). */
static kt_cond_result test_not_or(kc_eval *ev, const json_t *cond, int is_or, char *err, size_t errcap)
{
    const json_t *list = json_object_get(cond, "conditions");
    if (!json_is_array(list)) {
        snprintf(err, errcap, "conditions: must not be null");
        return KT_COND_ERROR;
    }
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c) {
        kt_cond_result r = kc_test(ev, c, err, errcap);
        if (r == KT_COND_ERROR)
            return r;
        if (r == KT_COND_TRUE)
            return is_or ? KT_COND_TRUE : KT_COND_FALSE;
    }
    return is_or ? KT_COND_FALSE : KT_COND_TRUE;
}

kt_cond_result kc_test(kc_eval *ev, const json_t *cond, char *err, size_t errcap)
{
    if (!json_is_object(cond)) {
        snprintf(err, errcap, "a condition must be an object with a type");
        return KT_COND_ERROR;
    }
    const char *type = str(cond, "type");
    kc_kind k = kc_kind_of(type);
    switch (k) {
    case KC_EXECUTION_FLOW:
        return test_execution_flow(ev, cond, err, errcap);
    case KC_EXECUTION_NAMESPACE:
        return test_execution_namespace(ev, cond, err, errcap);
    case KC_EXECUTION_STATUS:
        return test_execution_status(ev, cond, err, errcap);
    case KC_EXECUTION_LABELS:
        return test_execution_labels(ev, cond, err, errcap);
    case KC_EXECUTION_OUTPUTS:
        return test_execution_outputs(ev, cond, err, errcap);
    case KC_HAS_RETRY_ATTEMPT:
        return test_has_retry_attempt(ev, cond, err, errcap);
    case KC_EXPRESSION:
        return test_expression(ev, cond, NULL, err, errcap);
    case KC_FLOW:
        return test_flow(ev, cond, 0, err, errcap);
    case KC_FLOW_NAMESPACE:
        return test_flow(ev, cond, 1, err, errcap);
    case KC_NOT:
    case KC_OR:
        return test_not_or(ev, cond, k == KC_OR, err, errcap);
    case KC_DATE_TIME_BETWEEN:
    case KC_TIME_BETWEEN:
    case KC_DAY_WEEK:
    case KC_DAY_WEEK_IN_MONTH:
    case KC_WEEKEND:
    case KC_PUBLIC_HOLIDAY:
        return kc_test_date(ev, k, cond, err, errcap);
    case KC_UPSTREAM_FLOW:
        return kc_test_upstream(ev, cond, err, errcap);
    case KC_FILTER:
        return kc_test_filter(ev, cond, err, errcap);
    case KC_MULTIPLE:
        snprintf(err, errcap, "a MultipleCondition is read from its window, not tested alone");
        return KT_COND_ERROR;
    default:
        snprintf(err, errcap, "Unknown condition type '%s'", type ? type : "(none)");
        return KT_COND_ERROR;
    }
}

kt_cond_result kt_cond_test(const json_t *cond, const kt_cond_ctx *ctx, char *err, size_t errcap)
{
    kc_eval ev = {ctx, NULL};
    kt_cond_result r = kc_test(&ev, cond, err, errcap);
    json_decref(ev.vars);
    return r;
}

static kt_cond_result all_of(const json_t *conds, const kt_cond_ctx *ctx, int schedule_only, char *err,
                             size_t errcap)
{
    if (!conds || json_is_null(conds))
        return KT_COND_TRUE;
    if (!json_is_array(conds)) {
        snprintf(err, errcap, "conditions: must be a list");
        return KT_COND_ERROR;
    }
    kc_eval ev = {ctx, NULL};
    kt_cond_result r = KT_COND_TRUE;
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        const char *type = str(c, "type");
        if (kt_cond_is_multiple(type) || (schedule_only && !kt_cond_is_schedule(type)))
            continue;
        r = kc_test(&ev, c, err, errcap);
        if (r != KT_COND_TRUE)
            break;
    }
    json_decref(ev.vars);
    return r;
}

kt_cond_result kt_cond_all(const json_t *conds, const kt_cond_ctx *ctx, char *err, size_t errcap)
{
    return all_of(conds, ctx, 0, err, errcap);
}

kt_cond_result kt_cond_all_schedule(const json_t *conds, const kt_cond_ctx *ctx, char *err, size_t errcap)
{
    return all_of(conds, ctx, 1, err, errcap);
}
