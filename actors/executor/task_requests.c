/* The executor's side of KT_MSG_TASK_ASK (runtime/msg.h): tasks that read or change executions and logs run on a
 * worker, which has no store; the store is on the executor's node (the executor writes executions and logs at each
 * turn's commit), so the worker asks here. One op per request:
 *   logs.fetch        {executionId, namespace, flowId, minLevel, tasksId?} -> {entries: [LogEntry], truncated}: the
 *                     stored lines plus this turn's uncommitted ones, filtered as Kestra's LogRepository
 *                     findByExecutionId / findByExecutionIdAndTaskId (task by task when tasksId is given), read
 *                     page by page up to the reply's budget (log_fetch.c)
 *   execution.resume  {executionId, inputs?} -> null: checked as the API's resume (web/api_executions.c), then the
 *                     same KT_CMD_RESUME command the API sends, to this executor
 *   executions.count  {flows?: [{namespace, flowId}], namespaces?: [ns], states?, fromUs, toUs?} -> {results:
 *                     [{namespace, flowId, count}]}: one per flow given, or per live flow of each namespace
 *   logs.purge        {namespace?, flowId?, levels?, fromUs?, toUs} -> {count}
 *   flows.namespaces  {} -> {namespaces: [ns]}: the live flows' distinct namespaces (kv.PurgeKV's candidates, as
 *                     Kestra's FlowRepository.findDistinctNamespace)
 *   executions.purge  {namespace?, flowId?, states?, fromUs?, toUs, purgeExecution, purgeLog, purgeMetric} ->
 *                     {executionsCount, logsCount, metricsCount, executions: [{id, namespace, flowId}]}: the worker
 *                     then deletes their files.
 *                     Executions this executor still runs are left alone (a purge never pulls the rows from under
 *                     a live execution, the purging task's own included).
 *   flows.purge       {namespace?, flowId?, namespaces?, namespacePattern?, includeChildNamespaces, flowPattern?,
 *                     keep, beforeUs} -> {size}: old revisions of the live flows chosen (flow.PurgeFlows, flow_purge.c)
 *   metrics.purge     {namespace?, flowId?, fromUs, toUs} -> {count} (metric.PurgeMetrics, flow_purge.c) */
#include "actors/executor/executor_int.h"
#include "actors/executor/log_fetch.h"
#include "base/json.h"
#include "base/clock.h"
#include "base/env.h"
#include "base/log.h"
#include "flow/inputs.h"
#include "flow/secret_inputs.h"
#include "flow/model.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A reply stays well under the link's message cap (KT_LINK_MAX_MSG): beyond this many bytes of messages the
 * answer is cut and says so (the task logs a warning). */
#define KT_LOG_FETCH_MAX_BYTES (24u << 20)

/* ExecutionService.resume as the Resume task calls it: a PAUSED execution of this executor, its first PAUSED run's
 * onResume inputs checked, then KT_CMD_RESUME to this actor (applied in its turn, as the API's). */
static kt_status kt_tr_resume(kt_executor *ex, const json_t *req, char *err, size_t cap)
{
    const char *id = json_string_value(json_object_get(req, "executionId"));
    if (!id || !*id) {
        snprintf(err, cap, "malformed resume request");
        return KT_EINVAL;
    }
    kt_run *run = kt_map_get(ex->runs, id);
    json_t *stored = NULL;
    if (!run && kt_store_execution_get(ex->store, id, &stored) == KT_ENOTFOUND) {
        snprintf(err, cap, "No execution found for execution id %s", id);
        return KT_ENOTFOUND;
    }
    json_decref(stored);
    if (!run || strcmp(kt_state_current(run->execution), KT_S(PAUSED))) {
        snprintf(err, cap, "The execution is not paused");
        return KT_ECONFLICT;
    }
    const char *paused_run = "";
    const json_t *defs = NULL;
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(run->execution, "taskRunList"), i, tr) {
        if (!strcmp(kt_state_current(tr), KT_S(PAUSED))) {
            paused_run = json_string_value(json_object_get(tr, "id"));
            const json_t *task = kt_exec_find_task(run->flow.flow, json_string_value(json_object_get(tr, "taskId")));
            defs = json_object_get(task, "onResume");
            break;
        }
    }
    json_t *typed = NULL;
    kt_diags d;
    kt_diags_init(&d);
    kt_status st = kt_inputs_resolve(defs, json_object_get(req, "inputs"), &typed, &d);
    if (st) {
        snprintf(err, cap, "%s", d.count ? d.items[0].message : "Invalid inputs");
        kt_diags_clear(&d);
        return KT_EINVAL;
    }
    kt_diags_clear(&d);
    kt_env env; /* SECRET onResume inputs sealed, as the API's resume seals them */
    kt_env_init(&env, kt_now_us(), kt_env_next(&ex->seeds));
    if (kt_secret_inputs_seal(defs, typed, &env, err, cap)) {
        json_decref(typed);
        return KT_EINVAL;
    }
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, kt_actor_address(ex->self), kt_actor_address(ex->self), 0);
    kt_msg_exec_command body = {.execution_id = (char *)id, .taskrun_id = (char *)paused_run,
                                .command = KT_CMD_RESUME, .data = typed};
    kt_msg_encode_exec_command(&o, &body);
    st = kt_node_send(kt_actor_node(ex->self), kt_actor_address(ex->self), &o);
    json_decref(typed);
    if (st)
        snprintf(err, cap, "Unable to resume execution %s: %s", id, kt_strerror(st));
    return st;
}

/* The query fields shared by the count and purge ops; list is the comma-joined `key` array (levels as ranks). */
static int kt_tr_query(const json_t *req, const char *key, int levels, kt_store_purge_query *q, char **list)
{
    memset(q, 0, sizeof *q);
    *list = NULL;
    q->namespace_ = json_string_value(json_object_get(req, "namespace"));
    q->flow_id = json_string_value(json_object_get(req, "flowId"));
    q->from_us = json_integer_value(json_object_get(req, "fromUs"));
    q->to_us = json_integer_value(json_object_get(req, "toUs"));
    const json_t *arr = json_object_get(req, key);
    if (!json_array_size(arr))
        return 0;
    kt_buf b = {0};
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *t = json_string_value(v);
        if (!t || (levels && kt_store_level_rank(t) < 0) || strchr(t, ',')) {
            free(kt_buf_take(&b));
            return -1;
        }
        if (i)
            kt_buf_putc(&b, ',');
        if (levels)
            kt_buf_printf(&b, "%d", kt_store_level_rank(t));
        else
            kt_buf_puts(&b, t);
    }
    q->list = *list = kt_buf_take(&b);
    return 0;
}

static kt_status kt_tr_count_one(kt_executor *ex, kt_store_purge_query *q, json_t *results)
{
    int64_t n = 0;
    kt_status st = kt_store_executions_count(ex->store, q, &n);
    if (!st)
        json_array_append_new(results, json_pack("{s:s, s:s, s:I}", "namespace", q->namespace_, "flowId", q->flow_id,
                                                 "count", (json_int_t)n));
    return st;
}

static kt_status kt_tr_count(kt_executor *ex, const json_t *req, json_t **out, char *err, size_t cap)
{
    kt_store_purge_query q;
    char *list = NULL;
    if (kt_tr_query(req, "states", 0, &q, &list)) {
        snprintf(err, cap, "malformed count request");
        return KT_EINVAL;
    }
    json_t *results = json_array();
    kt_status st = KT_OK;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(req, "flows"), i, v) {
        q.namespace_ = json_string_value(json_object_get(v, "namespace"));
        q.flow_id = json_string_value(json_object_get(v, "flowId"));
        if (q.namespace_ && q.flow_id && !st)
            st = kt_tr_count_one(ex, &q, results);
    }
    json_array_foreach(json_object_get(req, "namespaces"), i, v) {
        json_t *ids = NULL;
        q.namespace_ = json_string_value(v);
        if (!q.namespace_ || st || (st = kt_store_flow_ids(ex->store, q.namespace_, &ids)))
            continue;
        size_t k;
        json_t *id;
        json_array_foreach(ids, k, id) {
            q.flow_id = json_string_value(id);
            if (!st)
                st = kt_tr_count_one(ex, &q, results);
        }
        json_decref(ids);
    }
    free(list);
    if (st) {
        snprintf(err, cap, "Unable to count executions: %s", kt_store_errmsg(ex->store));
        json_decref(results);
        return st;
    }
    *out = json_pack("{s:o}", "results", results);
    return KT_OK;
}

static kt_status kt_tr_purge_logs(kt_executor *ex, const json_t *req, json_t **out, char *err, size_t cap)
{
    kt_store_purge_query q;
    char *list = NULL;
    if (kt_tr_query(req, "levels", 1, &q, &list)) {
        snprintf(err, cap, "malformed log purge request");
        return KT_EINVAL;
    }
    int64_t n = 0;
    kt_status st = kt_store_logs_purge(ex->store, &q, &n);
    free(list);
    if (st) {
        snprintf(err, cap, "Unable to purge logs: %s", kt_store_errmsg(ex->store));
        return st;
    }
    *out = json_pack("{s:I}", "count", (json_int_t)n);
    return KT_OK;
}

static kt_status kt_tr_purge_executions(kt_executor *ex, const json_t *req, json_t **out, char *err, size_t cap)
{
    kt_store_purge_query q;
    char *list = NULL;
    if (kt_tr_query(req, "states", 0, &q, &list)) {
        snprintf(err, cap, "malformed execution purge request");
        return KT_EINVAL;
    }
    int rows = !json_is_false(json_object_get(req, "purgeExecution"));
    int logs = !json_is_false(json_object_get(req, "purgeLog"));
    int metrics = !json_is_false(json_object_get(req, "purgeMetric"));
    json_t *found = NULL, *purged = json_array();
    int64_t nlogs = 0, nmetrics = 0;
    kt_status st = kt_store_executions_match(ex->store, &q, &found);
    free(list);
    if (!st)
        st = kt_store_begin(ex->store);
    size_t i;
    json_t *e;
    json_array_foreach(found, i, e) {
        const char *id = json_string_value(json_object_get(e, "id"));
        if (st || kt_map_get(ex->runs, id))
            continue;
        int64_t n = 0;
        if (metrics && !(st = kt_store_metrics_delete(ex->store, id, &n)))
            nmetrics += n;
        if (!st)
            st = kt_store_execution_purge(ex->store, id, rows, logs, &nlogs);
        if (!st)
            json_array_append_new(purged, json_pack("{s:O, s:O, s:O}", "id", json_object_get(e, "id"), "namespace",
                                                    json_object_get(e, "namespace"), "flowId",
                                                    json_object_get(e, "flowId")));
    }
    if (found && !st)
        st = kt_store_commit(ex->store);
    else if (found)
        kt_store_rollback(ex->store);
    json_decref(found);
    if (st) {
        snprintf(err, cap, "Unable to purge executions: %s", kt_store_errmsg(ex->store));
        json_decref(purged);
        return st;
    }
    *out = json_pack("{s:I, s:I, s:I, s:o}", "executionsCount", (json_int_t)(rows ? json_array_size(purged) : 0),
                     "logsCount", (json_int_t)nlogs, "metricsCount", (json_int_t)nmetrics, "executions", purged);
    return KT_OK;
}

void kt_executor_task_ask(kt_executor *ex, const kt_msg *m)
{
    json_t *req = NULL, *data = NULL;
    char err[512] = "";
    kt_status st = kt_msg_decode_object(m->body, &req);
    const char *op = json_string_value(json_object_get(req, "op"));
    if (st || !op) {
        snprintf(err, sizeof err, "malformed task request from %s", m->from);
        st = KT_EINVAL;
    } else if (!strcmp(op, "logs.fetch")) {
        st = kt_log_fetch(ex->store, ex->logs, req, KT_LOG_FETCH_MAX_BYTES, &data, err, sizeof err);
    } else if (!strcmp(op, "execution.resume")) {
        st = kt_tr_resume(ex, req, err, sizeof err);
    } else if (!strcmp(op, "executions.count")) {
        st = kt_tr_count(ex, req, &data, err, sizeof err);
    } else if (!strcmp(op, "logs.purge")) {
        st = kt_tr_purge_logs(ex, req, &data, err, sizeof err);
    } else if (!strcmp(op, "executions.purge")) {
        st = kt_tr_purge_executions(ex, req, &data, err, sizeof err);
    } else if (!strcmp(op, "flows.namespaces")) {
        json_t *ns = NULL;
        if (!(st = kt_store_flow_namespaces(ex->store, &ns)))
            data = json_pack("{s:o}", "namespaces", ns);
        else
            snprintf(err, sizeof err, "Unable to list the namespaces: %s", kt_store_errmsg(ex->store));
    } else if (!strcmp(op, "flows.purge")) {
        st = kt_executor_purge_flows(ex, req, &data, err, sizeof err);
    } else if (!strcmp(op, "metrics.purge")) {
        st = kt_executor_purge_metrics(ex, req, &data, err, sizeof err);
    } else {
        snprintf(err, sizeof err, "unknown task request '%s' (this executor is older than the worker?)", op);
        st = KT_EINVAL;
    }
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_REPLY, m->from, kt_actor_address(ex->self), m->corr);
    kt_msg_reply rep = {.status = (uint32_t)st, .message = st ? err : NULL, .data = data};
    kt_msg_encode_reply(&o, &rep);
    kt_status sent = kt_node_send(kt_actor_node(ex->self), m->from, &o);
    if (sent)
        KT_WARN("executor", "the reply to a task request of %s was not delivered (%s): its task times out", m->from,
                kt_strerror(sent));
    json_decref(data);
    json_decref(req);
}
