/* The tasks that act on executions (KESTRA-model.md §6.2). The worker has no store: each asks the executor
 * (KT_MSG_TASK_ASK, actors/executor/task_requests.c).
 *   execution.Resume          resumes a PAUSED execution (named by executionId: the current one cannot be paused
 *                             while its task runs); the executor checks it and its onResume inputs as the API's
 *                             resume does and resumes it with the same command.
 *   execution.Count           counts executions per flow in a date range and keeps the flows whose `expression`,
 *                             rendered with `count`, is exactly `true` (rendered here, in the task's render context
 *                             plus `count` as Count.java's runContext.render(expression, {count}): the executor
 *                             leaves it unrendered, KT_PF_RAW, and sends the context's parts with the job).
 *   log.PurgeLogs             deletes log lines in a date range, by namespace/flow/levels (executor).
 *   execution.PurgeExecutions deletes matching executions' rows, logs and metrics (executor), then their
 *                             internal-storage folders (here, one after the other). */
#include "actors/worker/tasks_ask.h"
#include "actors/worker/tasks_storage.h"
#include "base/clock.h"
#include "expr/expr.h"
#include "flow/model.h"
#include "flow/render.h"
#include "store/storage.h"
#include "store/storage_env.h"

#include <stdlib.h>
#include <string.h>

/* An ISO zoned date-time property into *us: 0 when absent and not required, -1 logged when it does not parse. */
static int kt_date_prop(kt_task_run *r, const char *name, int required, int64_t *us)
{
    const char *v = kt_task_prop_string(r, name);
    *us = 0;
    if (!v || !*v) {
        if (required)
            kt_task_logf(r, "ERROR", "%s: must not be null", name);
        return required ? -1 : 0;
    }
    if (kt_time_parse(v, us)) {
        kt_task_logf(r, "ERROR", "%s: '%s' is not an ISO 8601 date-time with a zone", name, v);
        return -1;
    }
    if (*us == 0)
        *us = 1; /* the epoch itself: 0 means "open" to the store */
    return 0;
}

static int kt_bool_prop(kt_task_run *r, const char *name, int dflt)
{
    const json_t *v = json_object_get(kt_task_props(r), name);
    const char *s = json_string_value(v);
    return json_is_boolean(v) ? json_is_true(v) : s ? !strcmp(s, "true") : dflt;
}

/* The common query fields of Count and the purges; -1 logged when one is wrong. */
static int kt_query_body(kt_task_run *r, json_t *body, int start_required, const char *list_prop,
                         const char *list_key)
{
    int64_t from, to;
    if (kt_date_prop(r, "startDate", start_required, &from) || kt_date_prop(r, "endDate", !start_required, &to))
        return -1;
    json_object_set_new(body, "fromUs", json_integer(from));
    json_object_set_new(body, "toUs", json_integer(to));
    const json_t *list = json_object_get(kt_task_props(r), list_prop);
    if (list && !json_is_null(list)) {
        if (!json_is_array(list)) {
            kt_task_logf(r, "ERROR", "%s: must be a list", list_prop);
            return -1;
        }
        json_object_set(body, list_key, (json_t *)list);
    }
    return 0;
}

static void kt_resume_replied(kt_task_run *r, const kt_msg_reply *rep)
{
    kt_task_finish(r, kt_ask_failed(r, rep) ? KT_S(FAILED) : KT_S(SUCCESS), NULL); /* VoidOutput */
}

static void kt_resume_start(kt_task_run *r)
{
    const char *ns, *flow_id, *exec_id;
    const json_t *inputs = json_object_get(kt_task_props(r), "inputs");
    if (kt_ask_target(r, &ns, &flow_id, &exec_id)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (inputs && !json_is_null(inputs) && !json_is_object(inputs)) {
        kt_task_logf(r, "ERROR", "inputs: must be a map");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    json_t *body = json_pack("{s:s, s:s}", "op", "execution.resume", "executionId", exec_id ? exec_id : "");
    if (json_is_object(inputs))
        json_object_set(body, "inputs", (json_t *)inputs);
    int bad = kt_ask_executor(r, body, kt_resume_replied);
    json_decref(body);
    if (bad)
        kt_task_finish(r, KT_S(FAILED), NULL);
}

/* A kill while waiting: the attempt ends now; the executor's late reply is dropped (the change may still happen). */
static void kt_ask_kill(kt_task_run *r) { kt_task_finish(r, KT_S(KILLED), NULL); }

/* ---- Count ---- */

/* The task run's render context (kt_render_context) from the job's {flow, execution}; {} without them (an executor
 * that sends none). */
static json_t *kt_count_context(kt_task_run *r)
{
    const json_t *ctx = kt_task_context(r), *flow = json_object_get(ctx, "flow");
    json_t *exec = json_object_get(ctx, "execution");
    const char *id = json_string_value(json_object_get(kt_task_run_info(r), "taskRunId"));
    json_t *run = json_is_object(exec) && id ? kt_taskrun_find(exec, id) : NULL;
    if (!json_is_object(flow) || !run)
        return json_object();
    json_t *task = json_pack("{s:O, s:O}", "id", json_object_get(kt_task_props(r), "id"), "type",
                             json_object_get(kt_task_props(r), "type"));
    json_t *out = kt_render_context(flow, exec, task, run);
    json_decref(task);
    return out;
}

static void kt_count_replied(kt_task_run *r, const kt_msg_reply *rep)
{
    if (kt_ask_failed(r, rep)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    const char *src = kt_task_prop_string(r, "expression");
    kt_tmpl *t = NULL;
    kt_expr_error e = {0};
    if (kt_tmpl_compile(src, strlen(src), &t, &e)) {
        kt_task_logf(r, "ERROR", "expression: %s", e.message);
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    json_t *kept = json_array();
    json_int_t total = 0;
    size_t i;
    json_t *res;
    kt_env env;
    kt_env_init_real(&env);
    env.dialect = kt_dialect_of_flow(json_object_get(kt_task_context(r), "flow"));
    env.secrets_used = kt_task_secrets(r); /* a secret() value shows masked in the attempt's lines */
    kt_env_files files;
    if (kt_task_storage(r)) { /* read(), kv() reach the same storage as the executor's renders */
        kt_storage_env_files(kt_task_storage(r), &files);
        env.files = &files;
    }
    json_t *ctx = kt_count_context(r);
    json_array_foreach(json_object_get(rep->data, "results"), i, res) {
        json_object_set(ctx, "count", json_object_get(res, "count"));
        char *out = NULL;
        size_t n = 0;
        kt_status st = kt_tmpl_render(t, ctx, &env, &out, &n, &e);
        if (st) {
            kt_task_logf(r, "ERROR", "expression: %s", e.message);
            free(out);
            json_decref(ctx);
            json_decref(kept);
            kt_tmpl_free(t);
            kt_task_finish(r, KT_S(FAILED), NULL);
            return;
        }
        if (!strcmp(out, "true")) {
            json_array_append(kept, res);
            total += json_integer_value(json_object_get(res, "count"));
        }
        free(out);
    }
    json_decref(ctx);
    kt_tmpl_free(t);
    kt_task_finish(r, KT_S(SUCCESS), json_pack("{s:o, s:I}", "results", kept, "total", total));
}

static void kt_count_start(kt_task_run *r)
{
    const json_t *props = kt_task_props(r);
    const json_t *flows = json_object_get(props, "flows"), *nss = json_object_get(props, "namespaces");
    if (!json_array_size(flows) && !json_array_size(nss)) {
        kt_task_logf(r, "ERROR", "You must provide a list of flows or namespaces");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (!kt_task_prop_string(r, "expression")) {
        kt_task_logf(r, "ERROR", "expression: must not be null");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    json_t *body = json_pack("{s:s}", "op", "executions.count");
    if (json_is_array(flows))
        json_object_set(body, "flows", (json_t *)flows);
    if (json_is_array(nss))
        json_object_set(body, "namespaces", (json_t *)nss);
    int bad = kt_query_body(r, body, 1, "states", "states") || kt_ask_executor(r, body, kt_count_replied);
    json_decref(body);
    if (bad)
        kt_task_finish(r, KT_S(FAILED), NULL);
}

/* ---- PurgeExecutions ---- */

typedef struct kt_purge {
    kt_task_run *r;
    json_t *executions; /* what the executor purged: their storage folders go next */
    size_t next;
    int killed;
    json_t *out;
    json_int_t files;
} kt_purge;

static void kt_purge_next(kt_purge *p);

static void kt_purge_end(kt_purge *p, const char *state)
{
    kt_task_run *r = p->r;
    json_t *out = NULL;
    if (!strcmp(state, KT_S(SUCCESS))) {
        out = p->out;
        p->out = NULL;
        json_object_set_new(out, "storagesCount", json_integer(p->files));
    }
    json_decref(p->executions);
    json_decref(p->out);
    free(p);
    kt_task_set_data(r, NULL);
    kt_task_finish(r, state, out);
}

static void kt_purge_deleted(kt_status st, size_t count, const char *err, void *data)
{
    kt_purge *p = data;
    if (st && !p->killed) {
        kt_task_logf(p->r, "ERROR", "Unable to purge the files of execution %s: %s",
                     json_string_value(json_object_get(json_array_get(p->executions, p->next - 1), "id")),
                     err && *err ? err : kt_strerror(st));
        kt_purge_end(p, KT_S(FAILED));
        return;
    }
    p->files += (json_int_t)count;
    kt_purge_next(p);
}

static void kt_purge_next(kt_purge *p)
{
    kt_storage *s = kt_task_storage(p->r);
    json_t *e = json_array_get(p->executions, p->next++);
    if (p->killed || !e || !s) {
        kt_purge_end(p, p->killed ? KT_S(KILLED) : KT_S(SUCCESS));
        return;
    }
    char uri[KT_ST_URI], err[512] = "";
    if (kt_suri_execution_root(json_string_value(json_object_get(e, "namespace")),
                               json_string_value(json_object_get(e, "flowId")),
                               json_string_value(json_object_get(e, "id")), uri, sizeof uri) ||
        kt_storage_delete_prefix(s, uri, kt_purge_deleted, p, err, sizeof err)) {
        kt_task_logf(p->r, "ERROR", "Unable to purge the files of execution %s%s%s",
                     json_string_value(json_object_get(e, "id")), err[0] ? ": " : "", err);
        kt_purge_end(p, KT_S(FAILED));
    }
}

static void kt_purge_replied(kt_task_run *r, const kt_msg_reply *rep)
{
    if (kt_ask_failed(r, rep)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_purge *p = calloc(1, sizeof *p);
    if (!p) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    p->r = r;
    p->out = json_pack("{s:O, s:O, s:I}", "executionsCount", json_object_get(rep->data, "executionsCount"),
                       "logsCount", json_object_get(rep->data, "logsCount"), "metricsCount",
                       json_integer_value(json_object_get(rep->data, "metricsCount")));
    p->executions = kt_bool_prop(r, "purgeStorage", 1) ? json_incref(json_object_get(rep->data, "executions"))
                                                        : json_array();
    kt_task_set_data(r, p);
    kt_purge_next(p);
}

static void kt_purge_exec_start(kt_task_run *r)
{
    json_t *body = json_pack("{s:s, s:s?, s:s?, s:b, s:b, s:b}", "op", "executions.purge", "namespace",
                             kt_task_prop_string(r, "namespace"), "flowId", kt_task_prop_string(r, "flowId"),
                             "purgeExecution", kt_bool_prop(r, "purgeExecution", 1), "purgeLog",
                             kt_bool_prop(r, "purgeLog", 1), "purgeMetric", kt_bool_prop(r, "purgeMetric", 1));
    int bad = kt_query_body(r, body, 0, "states", "states") || kt_ask_executor(r, body, kt_purge_replied);
    json_decref(body);
    if (bad)
        kt_task_finish(r, KT_S(FAILED), NULL);
}

/* A kill while the folders are deleted: the attempt ends at once; the delete in flight ends on its own. */
static void kt_purge_kill(kt_task_run *r)
{
    kt_purge *p = kt_task_data(r);
    if (!p) {
        kt_task_finish(r, KT_S(KILLED), NULL);
        return;
    }
    p->killed = 1; /* the delete in flight ends, then its callback ends the attempt KILLED */
}

/* ---- PurgeLogs ---- */

static void kt_purge_logs_replied(kt_task_run *r, const kt_msg_reply *rep)
{
    if (kt_ask_failed(r, rep)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_task_finish(r, KT_S(SUCCESS), json_pack("{s:O}", "count", json_object_get(rep->data, "count")));
}

static void kt_purge_logs_start(kt_task_run *r)
{
    const char *ns = kt_task_prop_string(r, "namespace"), *flow_id = kt_task_prop_string(r, "flowId");
    json_t *body = json_pack("{s:s, s:s?, s:s?}", "op", "logs.purge", "namespace", ns, "flowId", flow_id);
    int bad = kt_query_body(r, body, 0, "logLevels", "levels") || kt_ask_executor(r, body, kt_purge_logs_replied);
    json_decref(body);
    if (bad)
        kt_task_finish(r, KT_S(FAILED), NULL);
}

const kt_task_impl kt_task_log_purge_impl = {.type = "io.kestra.plugin.core.log.PurgeLogs",
                                             .start = kt_purge_logs_start, .kill = kt_ask_kill};
const kt_task_impl kt_task_exec_count_impl = {.type = "io.kestra.plugin.core.execution.Count",
                                              .start = kt_count_start, .kill = kt_ask_kill};
const kt_task_impl kt_task_exec_purge_impl = {.type = "io.kestra.plugin.core.execution.PurgeExecutions",
                                              .start = kt_purge_exec_start, .kill = kt_purge_kill};

const kt_task_impl kt_task_exec_resume_impl = {.type = "io.kestra.plugin.core.execution.Resume",
                                               .start = kt_resume_start, .kill = kt_ask_kill};
