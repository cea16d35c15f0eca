/* The contract between the worker and task implementations. A task's start function runs on the loop; it
 * finishes synchronously (Log, Return) or later from a loop callback (scripts), by calling kt_task_finish
 * exactly once. */
#ifndef KT_TASK_H
#define KT_TASK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "flow/state.h" /* KT_S(): the states a task ends in */
#include "runtime/msg.h"

typedef struct kt_task_run kt_task_run;

typedef struct kt_task_impl {
    const char *type; /* canonical Kestra type */
    void (*start)(kt_task_run *r);
    void (*kill)(kt_task_run *r); /* optional: stop early (shutdown, kill); must still finish */
} kt_task_impl;

const json_t *kt_task_props(const kt_task_run *r);     /* the rendered task */
const char *kt_task_prop_string(const kt_task_run *r, const char *name);
uv_loop_t *kt_task_loop(const kt_task_run *r);
const char *kt_task_tmp_dir(const kt_task_run *r);
/* The worker's python dependency settings (kt_worker_config.python_venvs, python_find_links; "" = pip's index). */
const char *kt_task_python_venvs(const kt_task_run *r);
const char *kt_task_python_find_links(const kt_task_run *r);
/* The worker's internal storage (store/storage.h), NULL when it was given none. */
struct kt_storage *kt_task_storage(const kt_task_run *r);
/* The worker's curl multi on its loop (actors/worker/http_loop.h), made on first use; NULL once the worker stops. */
struct kt_hl *kt_task_http(kt_task_run *r);
void kt_task_set_data(kt_task_run *r, void *data);
void *kt_task_data(const kt_task_run *r);
/* Appends one line to the attempt's logs (level: TRACE DEBUG INFO WARN ERROR). */
void kt_task_log(kt_task_run *r, const char *level, const char *msg, size_t len);
void kt_task_logf(kt_task_run *r, const char *level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records a task metric (Kestra's RunContext.metric; a MetricEntry of the run, stored by the executor with the
 * turn's logs): a counter's value as is, a timer's duration (us) as whole milliseconds, as Kestra's MetricEntry
 * keeps it. tags: NULL or an object whose scalar members become string tags. At most KT_TASK_METRICS_MAX per
 * attempt; the ones after are dropped with one WARN line. */
#define KT_TASK_METRICS_MAX 1000
void kt_task_counter(kt_task_run *r, const char *name, double value, const json_t *tags);
void kt_task_timer(kt_task_run *r, const char *name, int64_t us, const json_t *tags);
/* A gauge (Kestra 1.x's Gauge metric entry: the value as is). */
void kt_task_gauge(kt_task_run *r, const char *name, double value, const json_t *tags);
/* Ends the attempt: state SUCCESS, WARNING, FAILED or KILLED; outputs (stolen, may be NULL). */
void kt_task_finish(kt_task_run *r, const char *state, json_t *outputs);

/* The run's identity from the executor: {namespace, flowId, taskId, executionId, taskRunId, secrets, dialect?}. */
const json_t *kt_task_run_info(const kt_task_run *r);
/* The secret values this attempt masks in its log lines and outputs (a JSON array the executor sent with the job;
 * a WorkingDirectory adds the ones its children's renders obtain): pass it as kt_env.secrets_used. */
json_t *kt_task_secrets(kt_task_run *r);

/* ---- WorkingDirectory (tasks_workdir.c) ---- */

/* The job's render context, {flow, execution}, sent with a WorkingDirectory's job; NULL otherwise. */
const json_t *kt_task_context(const kt_task_run *r);
/* The directory a WorkingDirectory's child runs in (shared with the children before and after it: a task must
 * neither make its own nor remove it); NULL for a job, which makes its own. */
const char *kt_task_workdir(const kt_task_run *r);
/* A child's end: state and outputs (stolen, may be NULL) as it finished, and when it ran. The child is freed. */
typedef void (*kt_task_child_done_fn)(void *data, const char *state, json_t *outputs, int64_t started_us,
                                      int64_t ended_us);
/* Runs task (rendered, stolen) as the child task run taskrun_id of parent in workdir (borrowed: it must outlive the
 * child), with its own logs, timeout and kill; error (may be NULL) fails it at once with that ERROR line (its
 * properties did not render). *out is set before it starts, and done runs exactly once, maybe before this call
 * returns (a task that finishes in its start). */
void kt_task_child_start(kt_task_run *parent, json_t *task, const char *taskrun_id, const char *workdir,
                         const char *error, kt_task_child_done_fn done, void *data, kt_task_run **out);
/* Stops a running child (it still ends, KILLED, through done). */
void kt_task_child_kill(kt_task_run *child);
/* Tells the executor about a child task run (Kestra's TaskRun JSON) of the WorkingDirectory job parent: the executor
 * appends it, or replaces the one reported before. Sent at the end of the turn, in order with the parent's result. */
void kt_task_report_child(kt_task_run *parent, const json_t *taskrun);

/* A task that needs another actor (the Toggle task asks the scheduler): sends a request of `type` whose body is the
 * one JSON object `body` (runtime/msg.h kt_msg_encode_object) to actor `to`, and calls on_reply on the loop with
 * the Reply, or with status KT_ETIMEDOUT when none came within timeout_ms. The task finishes in on_reply (or its
 * kill hook). A reply after the attempt finished is dropped. One request at a time per attempt. Returns KT_OK, or
 * why the request could not be sent (nobody hosts `to`: KT_ENOTFOUND; a full mailbox: KT_EAGAIN), and then
 * on_reply is not called. */
typedef void (*kt_task_reply_fn)(kt_task_run *r, const kt_msg_reply *reply);
kt_status kt_task_request(kt_task_run *r, const char *to, kt_msg_type type, const json_t *body, uint64_t timeout_ms,
                          kt_task_reply_fn on_reply);

/* The implementation of a task type (canonical or alias); NULL when this worker cannot run it. The catalogue's
 * KT_SUPPORT_RUNS flag (flow/tasks.h) must say the same: tests/unit/actors/test_catalogue.c checks it. */
const kt_task_impl *kt_worker_find_impl(const char *type);
/* 1 when script tasks can run with this taskRunner type (only the Process runner). */
int kt_task_runner_available(const char *runner_type);

/* Task families (one file each). */
extern const kt_task_impl kt_task_log_impl, kt_task_return_impl, kt_task_output_values_impl, kt_task_echo_impl;
extern const kt_task_impl kt_task_fail_impl, kt_task_sleep_impl;
extern const kt_task_impl kt_task_shell_commands_impl, kt_task_shell_script_impl;
extern const kt_task_impl kt_task_python_commands_impl, kt_task_python_script_impl;
extern const kt_task_impl kt_task_node_commands_impl, kt_task_node_script_impl;
/* Toggle (tasks_trigger.c): asks the scheduler, so it runs once a scheduler answers KT_MSG_TRIGGER_TOGGLE; it joins
 * kt_task_impls together with its catalogue flag (flow/tasks.c) then. */
extern const kt_task_impl kt_task_toggle_impl;
/* Internal-storage tasks (tasks_storage.c). */
extern const kt_task_impl kt_task_storage_size_impl, kt_task_storage_delete_impl, kt_task_storage_concat_impl,
    kt_task_storage_reverse_impl;
/* Split, ForEachItem's internal _split and _merge, PurgeCurrentExecutionFiles (tasks_split.c); FilterItems and
 * DeduplicateItems (tasks_items.c); namespace files (tasks_nsfiles.c). */
extern const kt_task_impl kt_task_storage_split_impl, kt_task_foreach_item_split_impl,
    kt_task_foreach_item_merge_impl, kt_task_storage_purge_files_impl;
extern const kt_task_impl kt_task_storage_filter_items_impl, kt_task_storage_dedup_items_impl;
extern const kt_task_impl kt_task_ns_upload_files_impl, kt_task_ns_download_files_impl, kt_task_ns_delete_files_impl;
/* The KV store (tasks_kv.c). */
extern const kt_task_impl kt_task_kv_set_impl, kt_task_kv_get_impl, kt_task_kv_get_keys_impl, kt_task_kv_delete_impl;
/* Kestra 1.x additions: kv.PurgeKV (tasks_kv.c, asks the executor for the flows' namespaces), execution.Assert
 * (tasks_core.c), storage.Write (tasks_storage.c). */
extern const kt_task_impl kt_task_kv_purge_impl, kt_task_assert_impl, kt_task_storage_write_impl;
/* LocalFiles and WorkingDirectory (tasks_workdir.c). */
extern const kt_task_impl kt_task_local_files_impl, kt_task_working_directory_impl;

/* Tasks that ask the executor, whose node holds the store (KT_MSG_TASK_ASK, tasks_ask.h): log.Fetch (tasks_logs.c);
 * execution.Resume, execution.Count, log.PurgeLogs, execution.PurgeExecutions (tasks_executions.c). */
extern const kt_task_impl kt_task_log_fetch_impl, kt_task_exec_resume_impl, kt_task_exec_count_impl,
    kt_task_log_purge_impl, kt_task_exec_purge_impl;
/* http.Request and http.Download (tasks_http.c), on the worker's curl multi. */
extern const kt_task_impl kt_task_http_request_impl, kt_task_http_download_impl;

/* Kestra 1.x/2.0 core types (WP8): kv.Put (tasks_kv_put.c), http.SseRequest (tasks_sse.c), metric.Publish
 * and metric.PurgeMetrics (tasks_metric.c), flow.PurgeFlows (tasks_purge_flows.c); the purges ask the executor. */
extern const kt_task_impl kt_task_kv_put_impl, kt_task_http_sse_impl, kt_task_metric_publish_impl,
    kt_task_purge_flows_impl, kt_task_metric_purge_impl;

/* TemplatedTask (tasks_templated.c): whether type names it, and the task its rendered `spec` describes, under the
 * TemplatedTask's id and timeout (NULL with err saying why, in Kestra's words, when it is not a runnable task). */
int kt_task_is_templated(const char *type);
extern const kt_task_impl kt_task_templated_impl;
json_t *kt_task_templated_resolve(const json_t *outer, char *err, size_t errcap);

#endif
