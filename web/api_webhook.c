/* The Webhook trigger's endpoint (KESTRA-execution.md §5.7), out of web/api_executions.c: GET|POST|PUT
 * /api/v1/executions/webhook/{namespace}/{id}/{key} finds the flow's Webhook trigger whose rendered key matches and
 * starts an execution carrying the request as trigger variables, unless its conditions reject it (204). */
#include "base/clock.h"
#include "base/dialect.h"
#include "base/env.h"
#include "base/id.h"
#include "base/log.h"
#include "base/partition.h"
#include "expr/expr.h"
#include "flow/condition.h"
#include "flow/defaults.h"
#include "flow/flow.h"
#include "flow/inputs.h"
#include "flow/secret_inputs.h"
#include "flow/model.h"
#include "flow/tasks.h"
#include "flow/trigger_when.h"
#include "web/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Blanks around a rendered value, as Java's trim() drops them; returns the start, cuts the end in place. */
static char *kt_api_trim(char *s)
{
    char *e = s + strlen(s);
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = 0;
    return s;
}

/* A Webhook trigger's conditions, every one of them (flow/condition.h), evaluated against the execution it would
 * start as Kestra's ConditionService.isValid does: flow = the webhook's flow, execution = the new one, trigger =
 * its variables (body, headers, parameters). A condition that cannot be evaluated counts as false, with a warning
 * as Kestra logs one ("Evaluate Condition Failed"). */
static int kt_api_webhook_conditions_hold(const json_t *trigger, const kt_flow_row *row, const kt_flow *f,
                                          const json_t *ex)
{
    json_t *flow = json_pack("{s:s, s:s, s:i}", "id", row->id, "namespace", row->namespace_, "revision",
                             row->revision);
    const json_t *vars = json_object_get(kt_flow_json(f), "variables");
    if (vars)
        json_object_set(flow, "variables", (json_t *)vars);
    kt_env env;
    kt_env_init_real(&env);
    env.dialect = kt_dialect_of_flow(kt_flow_json(f));
    kt_cond_ctx ctx = {flow, ex, json_object_get(json_object_get(ex, "trigger"), "variables"), NULL, &env};
    char err[512];
    kt_cond_result r = kt_trigger_conditions_test(trigger, &ctx, err, sizeof err);
    if (r == KT_COND_ERROR)
        KT_WARN("webhook", "[namespace: %s] [flow: %s] [trigger: %s] Evaluate Condition Failed with error '%s'",
                row->namespace_, row->id, json_string_value(json_object_get(trigger, "id")), err);
    json_decref(flow);
    return r == KT_COND_TRUE;
}

/* A 2.x flow's inputs, as its other creations have them: typed, with its dynamic defaults rendered (docs/dialects.md
 * A11); one that does not render answers 422 with the reason (Kestra's invalid-request-body problem: "a webhook
 * trigger's inputs could not be rendered from the request that fired it"). A 1.x flow's webhook execution has no
 * inputs, as Kestra 0.21's. 1 when the execution may start. */
static int kt_api_webhook_inputs(kt_http_req *r, const kt_flow *f, json_t *ex)
{
    if (kt_dialect_of_flow(kt_flow_json(f)) != KT_DIALECT_2X)
        return 1;
    kt_env env;
    kt_env_init_real(&env);
    env.dialect = KT_DIALECT_2X;
    json_t *typed = NULL;
    kt_diags d;
    kt_diags_init(&d);
    char msg[768], serr[512];
    int ok = kt_inputs_resolve_in(kt_flow_inputs(f), NULL, kt_flow_json(f), &env, &typed, &d) == KT_OK;
    if (!ok)
        snprintf(msg, sizeof msg, "Invalid request body: %s", d.count ? d.items[0].message : "inputs could not render");
    else if (kt_secret_inputs_seal(kt_flow_inputs(f), typed, &env, serr, sizeof serr)) {
        snprintf(msg, sizeof msg, "Invalid request body: %s", serr);
        ok = 0;
    }
    kt_diags_clear(&d);
    if (!ok) {
        json_decref(typed);
        kt_http_send_error(r, 422, msg, NULL);
        return 0;
    }
    json_object_set_new(ex, "inputs", typed);
    return 1;
}

void kt_api_webhook_answer(kt_webserver *w, kt_http_req *r, const json_t *ex, const json_t *webhook)
{
    if (json_is_true(json_object_get(webhook, "returnOutputs"))) {
        /* the flow outputs, in responseContentType (Kestra: application/json or text/plain; the JSON text either way) */
        const char *ct = json_string_value(json_object_get(webhook, "responseContentType"));
        const json_t *outputs = json_object_get(ex, "outputs");
        json_t *body = json_is_object(outputs) ? json_incref((json_t *)outputs) : json_object();
        char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(body);
        kt_http_send(r, 200, ct && *ct ? ct : "application/json", text ? text : "{}", text ? strlen(text) : 2);
        free(text);
        return;
    }
    json_t *out = kt_execution_present(ex, kt_now_us());
    char url[1024];
    snprintf(url, sizeof url, "%s/ui/executions/%s/%s/%s", w->public_url,
             json_string_value(json_object_get(out, "namespace")), json_string_value(json_object_get(out, "flowId")),
             json_string_value(json_object_get(out, "id")));
    json_object_set_new(out, "url", json_string(url));
    kt_http_send_json(r, 200, out);
}

/* GET|POST|PUT /api/v1/executions/webhook/{namespace}/{id}/{key} (KESTRA-execution.md §5.7): a Webhook trigger
 * whose rendered key matches starts an execution carrying the request as trigger variables, unless its
 * conditions reject it (204). */
void kt_api_execution_webhook(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *ns = kt_http_param(r, "namespace"), *id = kt_http_param(r, "id"), *key = kt_http_param(r, "key");
    kt_flow_row row;
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *f = NULL;
    int st = kt_api_flow_load_or_answer(w, r, ns, id, 0, "Not Found: Flow not found", &row, &f, &d);
    if (st < 0)
        return;
    const json_t *trigger = NULL;
    json_t *applied = NULL; /* the flow with plugin defaults applied: a trigger's key may come from one */
    if (kt_api_refuse_unrunnable(r, st, f, &d, "Conflict: Cannot execute an invalid flow: ",
                                 "Conflict: Cannot execute a disabled flow"))
        goto done;
    /* the key is rendered with the flow's identity only (Kestra: of(flow, trigger)), then trimmed */
    json_t *ctx = json_pack("{s:{s:s, s:s, s:i}}", "flow", "id", row.id, "namespace", row.namespace_, "revision",
                            row.revision);
    size_t i;
    json_t *t;
    applied = kt_defaults_apply(kt_flow_json(f), w->plugin_defaults);
    json_array_foreach(json_object_get(applied ? applied : kt_flow_json(f), "triggers"), i, t) {
        const char *type = json_string_value(json_object_get(t, "type"));
        const char *k = json_string_value(json_object_get(t, "key"));
        if (!type || !k || strcmp(kt_task_canonical_type(type), "io.kestra.plugin.core.trigger.Webhook") ||
            json_is_true(json_object_get(t, "disabled")))
            continue;
        char *rendered = NULL;
        kt_expr_error e = {0};
        kt_env env;
        kt_env_init_real(&env);
        env.dialect = kt_dialect_of_flow(kt_flow_json(f));
        if (kt_expr_render_string(k, ctx, &env, &rendered, &e) != KT_OK)
            continue;
        int match = !strcmp(kt_api_trim(rendered), key);
        free(rendered);
        if (match) {
            trigger = t;
            break;
        }
    }
    json_decref(ctx);
    if (!trigger) {
        kt_http_send_error(r, 404, "Not Found: Webhook not found", NULL);
        goto done;
    }
    json_t *vars = json_object();
    size_t blen;
    const char *body = kt_http_body(r, &blen);
    if (blen) {
        json_t *parsed = json_loadb(body, blen, JSON_DECODE_ANY, NULL);
        if (json_is_object(parsed) || json_is_array(parsed))
            json_object_set_new(vars, "body", parsed);
        else {
            json_decref(parsed);
            json_object_set_new(vars, "body", json_stringn(body, blen));
        }
    }
    json_object_set_new(vars, "headers", kt_http_headers_json(r));
    json_object_set_new(vars, "parameters", kt_http_query_json(r));
    char exid[KT_ID_LEN + 1];
    kt_exec_id_for(row.namespace_, row.id, kt_flow_concurrency_limit(kt_flow_json(f)) > 0, exid);
    json_t *ex = kt_execution_new(exid, row.namespace_, row.id, row.revision, NULL,
                                  json_object_get(kt_flow_json(f), "labels"), NULL, kt_now_us());
    /* a webhook execution carries the flow's non-system labels only: no correlation id (Kestra builds it directly) */
    json_t *labels = json_object_get(ex, "labels");
    for (size_t k = json_array_size(labels); k-- > 0;) {
        const char *lk = json_string_value(json_object_get(json_array_get(labels, k), "key"));
        if (lk && !strncmp(lk, "system.", 7))
            json_array_remove(labels, k);
    }
    json_object_set_new(ex, "trigger", json_pack("{s:O, s:O, s:o}", "id", json_object_get(trigger, "id"), "type",
                                                 json_object_get(trigger, "type"), "variables", vars));
    if (!kt_api_webhook_conditions_hold(trigger, &row, f, ex)) {
        json_decref(ex);
        kt_http_send_empty(r, 204);
        goto done;
    }
    if (!kt_api_webhook_inputs(r, f, ex)) {
        json_decref(ex);
        goto done;
    }
    /* wait (1.x addition, both dialects): the answer comes when the execution ends (kt_api_webhook_answer) */
    int wait = json_is_true(json_object_get(trigger, "wait"));
    if (kt_api_execution_submit(w, r, ex, wait) && wait) {
        char corr[32];
        snprintf(corr, sizeof corr, "%llu", (unsigned long long)w->next_corr);
        kt_pending *p = kt_map_get(w->pending, corr);
        if (p)
            p->webhook = json_deep_copy(trigger);
    }
done:
    json_decref(applied);
    kt_diags_clear(&d);
    kt_flow_free(f);
    kt_flow_row_clear(&row);
}
