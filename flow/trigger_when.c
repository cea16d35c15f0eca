/* Trigger `when` (flow/trigger_when.h): the expression as an Expression condition where a condition context exists,
 * and the Flow trigger's own variables for an upstream execution. */
#include "flow/trigger_when.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr.h"
#include "flow/model.h"

#define EXPRESSION_TYPE "io.kestra.plugin.core.condition.Expression"

json_t *kt_trigger_when_condition(const json_t *trigger)
{
    const json_t *when = json_object_get(trigger, "when");
    if (!when || json_is_null(when))
        return NULL;
    /* a YAML boolean or number (`when: true`) is its text, as Kestra reads a String property */
    json_t *text;
    if (json_is_string(when)) {
        text = json_incref((json_t *)when);
    } else {
        char *d = json_dumps(when, JSON_ENCODE_ANY);
        text = json_string(d ? d : "");
        free(d);
    }
    return json_pack("{s:s, s:o}", "type", EXPRESSION_TYPE, "expression", text);
}

kt_cond_result kt_trigger_when_test(const json_t *trigger, const kt_cond_ctx *ctx, char *err, size_t errcap)
{
    json_t *c = kt_trigger_when_condition(trigger);
    if (!c)
        return KT_COND_TRUE;
    kt_cond_result r = kt_cond_test(c, ctx, err, errcap);
    json_decref(c);
    if (r == KT_COND_ERROR) {
        char why[256];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errcap, "when: %s", why);
    }
    return r;
}

kt_cond_result kt_trigger_conditions_test(const json_t *trigger, const kt_cond_ctx *ctx, char *err, size_t errcap)
{
    kt_cond_result r = kt_cond_all(json_object_get(trigger, "conditions"), ctx, err, errcap);
    return r == KT_COND_TRUE ? kt_trigger_when_test(trigger, ctx, err, errcap) : r;
}

/* The Expression condition's truth: the rendering, not blank and not "false" once trimmed. */
static int rendered_true(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return n && !(n == 5 && !strncmp(s, "false", 5));
}

kt_cond_result kt_trigger_when_eval(const char *when, const json_t *vars, const kt_env *env, char *err,
                                    size_t errcap)
{
    kt_env copy;
    if (env)
        copy = *env; /* every render of an evaluation draws the same now()/uuid() */
    char *out = NULL;
    kt_expr_error e = {0};
    if (kt_expr_render_string(when, vars, env ? &copy : NULL, &out, &e) != KT_OK) {
        snprintf(err, errcap, "when: %s", e.message[0] ? e.message : "cannot render the expression");
        return KT_COND_ERROR;
    }
    kt_cond_result r = rendered_true(out) ? KT_COND_TRUE : KT_COND_FALSE;
    free(out);
    return r;
}

static json_t *labels_map(const json_t *labels)
{
    json_t *m = json_object();
    size_t i;
    json_t *l;
    json_array_foreach(labels, i, l) {
        const char *k = json_string_value(json_object_get(l, "key"));
        if (k && json_object_get(l, "value") && !json_object_get(m, k))
            json_object_set(m, k, json_object_get(l, "value"));
    }
    return m;
}

static int has_retry_attempt(const json_t *up)
{
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(up, "taskRunList"), i, tr) {
        if (json_array_size(json_object_get(tr, "attempts")) > 1)
            return 1;
    }
    return 0;
}

json_t *kt_trigger_when_flow_vars(const json_t *flow, const json_t *up)
{
    json_t *v = json_object();
    const json_t *outputs = json_object_get(up, "outputs");
    json_t *labels = labels_map(json_object_get(up, "labels"));
    json_t *state = json_object_get(json_object_get(up, "state"), "current");
    static const char *const ids[] = {"namespace", "flowId"};
    for (size_t i = 0; i < 2; i++)
        if (json_object_get(up, ids[i]))
            json_object_set(v, ids[i], json_object_get(up, ids[i]));
    if (json_object_get(up, "id"))
        json_object_set(v, "executionId", json_object_get(up, "id"));
    if (state)
        json_object_set(v, "state", state);
    json_object_set(v, "labels", labels);
    json_object_set_new(v, "outputs", json_is_object(outputs) ? json_deep_copy(outputs) : json_object());
    json_object_set_new(v, "hasRetryAttempt", json_boolean(has_retry_attempt(up)));
    json_t *t = json_deep_copy(v);
    json_object_del(t, "hasRetryAttempt");
    if (json_object_get(up, "flowRevision"))
        json_object_set(t, "flowRevision", json_object_get(up, "flowRevision"));
    json_object_set_new(v, "trigger", t);
    json_t *e = json_object();
    if (json_object_get(up, "id"))
        json_object_set(e, "id", json_object_get(up, "id"));
    if (state)
        json_object_set(e, "state", state);
    json_object_set_new(v, "execution", e);
    if (flow) {
        json_t *f = json_object();
        static const char *const fk[] = {"id", "namespace", "revision"};
        for (size_t i = 0; i < 3; i++)
            if (json_object_get(flow, fk[i]))
                json_object_set(f, fk[i], json_object_get(flow, fk[i]));
        json_object_set_new(v, "flow", f);
        if (json_object_get(flow, "variables"))
            json_object_set(v, "vars", json_object_get(flow, "variables"));
    }
    json_decref(labels);
    return v;
}
