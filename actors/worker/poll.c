/* Polling triggers evaluated on the worker (see poll.h, flow/poll.h). The evaluators' table maps each polling type
 * to the function that starts one evaluation; it ends with exactly one Reply to the scheduler.
 *
 * http.Trigger (Kestra's io.kestra.plugin.core.http.Trigger.evaluate): the trigger's request properties rendered in
 * the trigger's context (flow, envs, secret()), then run as an http.Request with allowFailed (the condition, not the
 * status, decides), on the worker's one curl multi (tasks_http.c: no second client). responseCondition (default
 * `{{ response.statusCode < 400 }}`) is rendered with response = {statusCode, body, headers} (the body decrypted
 * when encryptBody); when truthy, the answer carries Request's output {uri, code, headers, body | encryptedBody},
 * which becomes the execution's trigger variables. A request that fails (no answer, a bad property) is an
 * evaluation error: Kestra logs it and starts nothing. */
#include "actors/worker/poll.h"

#include "base/alloc.h"
#include "base/dialect.h"
#include "base/env.h"
#include "base/log.h"
#include "base/secrets.h"
#include "expr/expr.h"
#include "flow/poll.h"
#include "flow/render.h"
#include "flow/secret_inputs.h"
#include "flow/tasks.h"
#include "time/duration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct kt_poll_eval {
    kt_worker *w;
    char to[KT_ADDR_MAX];
    uint64_t corr;
    json_t *req;        /* the request body: {namespace, flowId, triggerId, revision, trigger, dialect?} */
    json_t *ctx;        /* the trigger's render context */
    char err[1024];     /* the last ERROR line of the evaluation's run */
    json_t *secrets;    /* the values secret() gave the render: masked in what the evaluation logs and answers */
} kt_poll_eval;

typedef void (*kt_poll_start_fn)(kt_poll_eval *e);

static void kt_poll_http_start(kt_poll_eval *e);

/* The flow's dialect the request names (a scheduler before it was sent says none: 1.x), for the renders. */
static kt_dialect kt_poll_dialect(const kt_poll_eval *e)
{
    kt_dialect d;
    return kt_dialect_parse(json_string_value(json_object_get(e->req, "dialect")), &d) ? KT_DIALECT_1X : d;
}

/* One row per polling type of flow/poll.c's table that this worker evaluates. */
static const struct {
    const char *type;
    kt_poll_start_fn start;
} kt_poll_evaluators[] = {
    {"io.kestra.plugin.core.http.Trigger", kt_poll_http_start},
};

static const json_t *kt_poll_def(const kt_poll_eval *e) { return json_object_get(e->req, "trigger"); }

/* The answer (data borrowed), then the evaluation is freed. */
static void kt_poll_end(kt_poll_eval *e, kt_status st, const char *message, const json_t *data)
{
    kt_worker_reply(e->w, e->to, e->corr, st, message, data);
    json_decref(e->req);
    json_decref(e->ctx);
    json_decref(e->secrets);
    free(e);
}

static kt_poll_start_fn kt_poll_evaluator(const char *type)
{
    const kt_poll_type *pt = kt_poll_type_of(type);
    for (size_t i = 0; pt && i < sizeof kt_poll_evaluators / sizeof *kt_poll_evaluators; i++)
        if (!strcmp(pt->type, kt_poll_evaluators[i].type))
            return kt_poll_evaluators[i].start;
    return NULL;
}

int kt_worker_poll_can_evaluate(const char *type) { return kt_poll_evaluator(type) != NULL; }

void kt_worker_poll_on_request(kt_worker *w, const kt_msg *m)
{
    kt_poll_eval *e = kt_xcalloc(1, sizeof *e);
    e->w = w;
    e->corr = m->corr;
    snprintf(e->to, sizeof e->to, "%s", m->from);
    if (kt_msg_decode_object(m->body, &e->req) != KT_OK) {
        kt_poll_end(e, KT_EINVAL, "malformed TriggerEvaluate request", NULL);
        return;
    }
    if (kt_worker_stopping(w)) {
        kt_poll_end(e, KT_ECLOSED, "the worker is stopping", NULL);
        return;
    }
    const char *ns = json_string_value(json_object_get(e->req, "namespace"));
    const char *fid = json_string_value(json_object_get(e->req, "flowId"));
    const char *type = json_string_value(json_object_get(kt_poll_def(e), "type"));
    kt_poll_start_fn start = kt_poll_evaluator(type);
    if (!ns || !fid || !json_is_object(kt_poll_def(e))) {
        kt_poll_end(e, KT_EINVAL, "malformed TriggerEvaluate request", NULL);
        return;
    }
    if (!start) {
        char msg[300];
        snprintf(msg, sizeof msg, "This worker cannot evaluate a trigger of type '%s'", type ? type : "(none)");
        kt_poll_end(e, KT_ENOTFOUND, msg, NULL);
        return;
    }
    /* the trigger's run context (Kestra's RunContext of a trigger: flow and trigger; envs and secret() come from the
     * render's environment) */
    e->ctx = json_pack("{s:{s:s, s:s, s:O?}, s:{s:O?, s:s?}}", "flow", "id", fid, "namespace", ns, "revision",
                       json_object_get(e->req, "revision"), "trigger", "id",
                       json_object_get(kt_poll_def(e), "id"), "type", type);
    if (!e->ctx) {
        kt_poll_end(e, KT_ENOMEM, "out of memory", NULL);
        return;
    }
    start(e);
}

/* ---- http.Trigger ------------------------------------------------------------------------------------------- */

static void kt_poll_on_log(void *data, const char *level, const char *msg, size_t len)
{
    kt_poll_eval *e = data;
    size_t n = len;
    char *masked = kt_mask_text(msg, len, e->secrets, &n); /* before any cut, as kt_task_log does */
    const char *text = masked ? masked : msg;
    if (!strcmp(level, "ERROR"))
        snprintf(e->err, sizeof e->err, "%.*s", (int)(n < sizeof e->err ? n : sizeof e->err - 1), text);
    KT_DEBUG("worker", "trigger %s.%s.%s: %s %.*s", json_string_value(json_object_get(e->req, "namespace")),
             json_string_value(json_object_get(e->req, "flowId")),
             json_string_value(json_object_get(e->req, "triggerId")), level, (int)n, text);
    free(masked);
}

/* The body the condition sees: the text, or the encrypted body opened again (Kestra: runContext.decrypt). */
static json_t *kt_poll_http_body(const json_t *out)
{
    const json_t *body = json_object_get(out, "body");
    if (json_is_string(body))
        return json_incref((json_t *)body);
    const json_t *enc = json_object_get(out, "encryptedBody");
    if (!enc)
        return json_null();
    kt_env env;
    kt_env_init_real(&env);
    const char *key = kt_secrets_key(env.secrets);
    const char *v = json_string_value(json_object_get(enc, "value"));
    char *plain = NULL, err[256];
    size_t n = 0;
    if (!key || !v) /* no key: the task kept the text as it was */
        return v ? json_string(v) : json_null();
    if (kt_expr_decrypt(key, v, &plain, &n, err, sizeof err))
        return json_null();
    json_t *j = json_stringn(plain, n);
    free(plain);
    return j ? j : json_null();
}

static void kt_poll_http_done(void *data, const char *state, json_t *outputs, int64_t started_us, int64_t ended_us)
{
    (void)started_us;
    (void)ended_us;
    kt_poll_eval *e = data;
    if (strcmp(state, KT_S(SUCCESS))) {
        char msg[1100];
        snprintf(msg, sizeof msg, "%s", e->err[0] ? e->err : "the request ended without an answer");
        json_decref(outputs);
        kt_poll_end(e, KT_EIO, msg, NULL);
        return;
    }
    json_t *response = json_pack("{s:O?, s:o, s:O?}", "statusCode", json_object_get(outputs, "code"), "body",
                                 kt_poll_http_body(outputs), "headers", json_object_get(outputs, "headers"));
    json_t *ctx = json_deep_copy(e->ctx);
    json_object_set_new(ctx, "response", response);
    const char *cond = json_string_value(json_object_get(kt_poll_def(e), "responseCondition"));
    if (!cond)
        cond = "{{ response.statusCode < 400 }}";
    kt_env env;
    kt_env_init_real(&env);
    env.dialect = kt_poll_dialect(e);
    char *rendered = NULL;
    kt_expr_error xe = {0};
    kt_status st = kt_expr_render_string(cond, ctx, &env, &rendered, &xe);
    json_decref(ctx);
    if (st) {
        char msg[700];
        snprintf(msg, sizeof msg, "responseCondition: %s", xe.message);
        json_decref(outputs);
        kt_poll_end(e, KT_EINVAL, msg, NULL);
        return;
    }
    int go = kt_poll_truthy(rendered);
    free(rendered);
    json_t *answer = json_pack("{s:b, s:o}", "execute", go, "variables", outputs ? outputs : json_object());
    kt_poll_end(e, KT_OK, NULL, answer);
    json_decref(answer);
}

/* The request properties of http.Trigger that http.Request has (Trigger.evaluate builds its Request from these). */
static const char *const kt_poll_http_props[] = {"uri",     "method",     "body",        "formData", "contentType",
                                                 "headers", "options",    "sslOptions",  "encryptBody", NULL};

static void kt_poll_http_start(kt_poll_eval *e)
{
    const json_t *def = kt_poll_def(e);
    json_t *task = json_pack("{s:O?, s:s}", "id", json_object_get(def, "id"), "type",
                             "io.kestra.plugin.core.http.Request");
    for (size_t i = 0; kt_poll_http_props[i]; i++) {
        const json_t *v = json_object_get(def, kt_poll_http_props[i]);
        if (v)
            json_object_set(task, kt_poll_http_props[i], (json_t *)v);
    }
    kt_env env;
    kt_env_init_real(&env);
    env.dialect = kt_poll_dialect(e);
    e->secrets = json_array();
    env.secrets_used = e->secrets;
    char err[1024] = "";
    json_t *rendered = kt_render_task_in(NULL, &env, e->ctx, task, err, sizeof err);
    json_decref(task);
    if (!rendered) {
        kt_poll_end(e, KT_EINVAL, err, NULL);
        return;
    }
    /* the condition decides, whatever the status; the evaluation is bounded so the scheduler's wait is */
    json_object_set_new(rendered, "allowFailed", json_true());
    char limit[32];
    kt_duration_format(KT_POLL_EVAL_LIMIT_US, limit, sizeof limit);
    json_object_set_new(rendered, "timeout", json_string(limit));
    json_t *run = json_pack("{s:O, s:O, s:O?, s:O?}", "namespace", json_object_get(e->req, "namespace"), "flowId",
                            json_object_get(e->req, "flowId"), "taskId", json_object_get(def, "id"), "triggerId",
                            json_object_get(def, "id"));
    kt_worker_run_detached(e->w, rendered, run, kt_poll_on_log, kt_poll_http_done, e);
}
