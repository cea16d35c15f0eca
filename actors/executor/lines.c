/* The executor's log lines (executor_int.h): the ones it makes, the workers' that reach it, the ERROR lines it keeps
 * for errorLogs() (dispatch.c reads them), and the message that takes its lines to the indexer after a commit. The
 * indexer writes task log lines (actors/indexer/indexer.h); the executor writes them itself only when none is
 * reachable or the node stops (kt_executor_flush decides). */
#include "actors/executor/executor_int.h"
#include "base/clock.h"
#include "base/limits.h"
#include "base/log.h"
#include "flow/model.h"

#include <string.h>

void kt_executor_log(kt_executor *ex, const json_t *execution, const json_t *tr, uint32_t attempt, const char *level,
                     const char *message)
{
    char ts[48];
    int64_t now = kt_now_us();
    kt_time_format(now - now % 1000, ts, sizeof ts); /* milliseconds, as Kestra stores log timestamps */
    json_t *line = json_pack("{s:O, s:O, s:O?, s:O, s:O?, s:i, s:s, s:s, s:s, s:s, s:b}", "namespace",
                             json_object_get(execution, "namespace"), "flowId", json_object_get(execution, "flowId"),
                             "taskId", json_object_get(tr, "taskId"), "executionId", json_object_get(execution, "id"),
                             "taskRunId", json_object_get(tr, "id"), "attemptNumber", (int)attempt, "timestamp", ts,
                             "level", level, "thread", "executor", "message", message, "deleted", 0);
    if (!line)
        return;
    kt_executor_keep_error(ex, line);
    json_array_append_new(ex->logs, line);
}

void kt_executor_keep_error(kt_executor *ex, json_t *line)
{
    const char *level = json_string_value(json_object_get(line, "level"));
    const char *eid = json_string_value(json_object_get(line, "executionId"));
    if (!level || strcmp(level, "ERROR") || !eid)
        return;
    kt_run *run = kt_map_get(ex->runs, eid);
    if (!run || !run->entry || !run->entry->error_logs) /* ended, or its flow never calls errorLogs() */
        return;
    if (!run->error_lines)
        run->error_lines = json_array();
    if (json_array_size(run->error_lines) < KT_ERROR_LOGS_MAX) /* errorLogs() gives the first ones only */
        json_array_append(run->error_lines, line);
}

/* A worker's lines: a copy of the ERROR ones it sent the indexer (read for errorLogs(), never written), or all of
 * them when it found no indexer (written with this turn's commit, or passed on to an indexer that has appeared
 * since). A copy comes before the result of its attempt (the worker sends lines first), so the ERROR lines are kept
 * by the time that result makes the next task run. */
void kt_executor_on_lines(kt_executor *ex, const kt_msg *m)
{
    kt_msg_log_batch b;
    if (kt_msg_decode_log_batch(m->body, &b) != KT_OK) {
        KT_WARN("executor", "malformed LogBatch from %s: dropped", m->from);
        return;
    }
    size_t i;
    json_t *line;
    json_array_foreach(b.entries, i, line) kt_executor_keep_error(ex, line);
    if (!b.copy) {
        json_array_extend(ex->logs, b.entries);
        if (b.metrics)
            json_array_extend(ex->metrics, b.metrics);
    }
    kt_msg_log_batch_clear(&b);
}

int kt_executor_send_lines(kt_executor *ex)
{
    kt_node *node = kt_actor_node(ex->self);
    if (!kt_node_has_room(node, KT_INDEXER_ACTOR))
        return 0;
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_LOG_BATCH, KT_INDEXER_ACTOR, kt_actor_address(ex->self), 0);
    kt_msg_log_batch b = {.entries = ex->logs, .metrics = ex->metrics};
    kt_msg_encode_log_batch(&o, &b);
    if (kt_node_send(node, KT_INDEXER_ACTOR, &o) != KT_OK)
        return 0; /* gone since (its node died): the next turn writes them in its commit */
    json_array_clear(ex->logs);
    json_array_clear(ex->metrics);
    return 1;
}
