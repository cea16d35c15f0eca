#include "actors/worker/worker.h"
#include "base/secrets.h"
#include "actors/executor/executor.h"
#include "actors/worker/task.h"
#include "actors/worker/http_loop.h"
#include "actors/worker/poll.h"
#include "actors/worker/recent.h"
#include "time/duration.h"
#include "flow/flow.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/map.h"
#include "base/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where results and logs go. Logs go to the indexer when one is reachable, with a copy of their ERROR lines to the
 * executor (errorLogs(): the indexer may not have written them when the next task is dispatched); otherwise to the
 * executor, which writes them itself (a node or cluster without an indexer). */
#define KT_WORKER_RESULT_TO KT_EXECUTOR_ACTOR

/* The task's `timeout` (KESTRA-execution.md §2.8): a timer that kills the attempt and makes it FAILED. It lives
 * apart from the run because closing a uv handle outlasts the run. */
typedef struct kt_task_timeout {
    uv_timer_t timer;
    kt_task_run *r; /* NULL once the run has finished */
    int64_t us;
} kt_task_timeout;

struct kt_task_run {
    kt_task_timeout *timeout;
    kt_task_timeout *request;   /* the reply wait of kt_task_request (its timer), NULL when none is pending */
    uint64_t request_corr;      /* the pending request's corr id */
    kt_task_reply_fn on_reply;
    int timed_out;
    kt_worker *w;
    const kt_task_impl *impl;
    kt_msg_worker_job job;
    char reply_to[KT_ADDR_MAX];
    char key[2 * KT_ADDR_MAX]; /* taskrun id / attempt */
    int64_t started_us;
    void *data;
    int finished;
    int nmetrics; /* recorded by this attempt (KT_TASK_METRICS_MAX) */
    /* A WorkingDirectory's child (kt_task_child_start): it runs in the parent's directory and ends through done,
     * never with a result of its own; the parent reports it. */
    const char *workdir; /* borrowed from the parent, NULL for a job */
    kt_task_child_done_fn child_done;
    void *child_data;
    /* A detached run (kt_worker_run_detached, a polling trigger's request): ends through child_done too, logs to
     * log_hook, and is stopped by the worker's stop like a job */
    kt_task_log_hook log_hook;
    int detached;
    /* A job holds one of the worker's slots while it runs; one that came when all were busy waits in the queue
     * (queued: in the map, so a duplicate, a kill or an executor's question finds it, but not started) */
    int slot, queued;
    kt_task_run *qnext;
};

struct kt_worker {
    kt_actor *self;
    uv_loop_t *loop;
    uint32_t slots;
    char tmp_dir[1024];
    char python_venvs[1100], python_find_links[1024]; /* kt_worker_config's (pydeps.h) */
    kt_storage *storage; /* borrowed, may be NULL */
    kt_map *running; /* key -> kt_task_run */
    json_t *logs;    /* entries waiting for the end of the turn */
    json_t *metrics; /* MetricEntry objects waiting for the end of the turn (sent with the logs) */
    kt_outmsg *results;
    char (*result_keys)[64]; /* each result's execution id: the owner of its partition gets it (kt_worker_flush) */
    size_t nresults, capresults;
    uv_idle_t pending_flush; /* flushes what task callbacks produced outside a drain pass (idle: the loop must not block first) */
    uv_timer_t room_retry;   /* flushes again a little later when the executor had no room (a timer: an idle would spin) */
    uint64_t next_corr;      /* corr ids of the tasks' requests (kt_task_request) */
    kt_hl *http;             /* the worker's one curl multi on the loop (http tasks), made on first use */
    kt_metric *slots_gauge, *running_gauge; /* kestra_worker_job_thread / _running (callback gauges) */
    kt_recent *recent; /* the results sent lately, sent again when an executor asks (kt_worker_on_attempts) */
    /* Jobs run at most slots at once. Each executor counts the worker's slots as its own, so with several executors
     * more may come: they wait here, oldest first, started as slots free up (Kestra's workers take from the queue
     * as many as their threads). Bounded by the executors' own counts: at most slots per executor. */
    uint32_t busy;
    kt_task_run *queue, **queue_tail;
    size_t nqueued;
    int stopping;
};

static void kt_worker_on_pending(uv_idle_t *h);
static void kt_worker_on_room_retry(uv_timer_t *t);

/* The executor's mailbox or link is full: try again after KT_NODE_TIMER_RETRY_MS, not on every loop turn. */
static void kt_worker_wait_for_room(kt_worker *w)
{
    if (!w->stopping && !uv_is_active((uv_handle_t *)&w->room_retry))
        uv_timer_start(&w->room_retry, kt_worker_on_room_retry, KT_NODE_TIMER_RETRY_MS, 0);
}

static void kt_worker_pending(kt_worker *w)
{
    if (!w->stopping && !uv_is_active((uv_handle_t *)&w->pending_flush))
        uv_idle_start(&w->pending_flush, kt_worker_on_pending);
}

static const kt_task_impl *const kt_task_impls[] = {
    &kt_task_log_impl,  &kt_task_return_impl, &kt_task_output_values_impl, &kt_task_echo_impl,
    &kt_task_fail_impl, &kt_task_sleep_impl,  &kt_task_shell_commands_impl, &kt_task_shell_script_impl,
    &kt_task_python_commands_impl, &kt_task_python_script_impl, &kt_task_toggle_impl,
    &kt_task_node_commands_impl, &kt_task_node_script_impl,
    &kt_task_log_fetch_impl, &kt_task_exec_resume_impl, &kt_task_exec_count_impl, &kt_task_log_purge_impl,
    &kt_task_exec_purge_impl,
    &kt_task_storage_size_impl, &kt_task_storage_delete_impl, &kt_task_storage_concat_impl,
    &kt_task_storage_reverse_impl, &kt_task_storage_split_impl, &kt_task_foreach_item_split_impl,
    &kt_task_foreach_item_merge_impl, &kt_task_storage_purge_files_impl, &kt_task_storage_filter_items_impl,
    &kt_task_storage_dedup_items_impl, &kt_task_ns_upload_files_impl, &kt_task_ns_download_files_impl,
    &kt_task_ns_delete_files_impl,
    &kt_task_kv_set_impl, &kt_task_kv_get_impl, &kt_task_kv_get_keys_impl, &kt_task_kv_delete_impl,
    &kt_task_kv_purge_impl, &kt_task_assert_impl, &kt_task_storage_write_impl, /* Kestra 1.x additions */
    &kt_task_local_files_impl, &kt_task_working_directory_impl, &kt_task_templated_impl,
    &kt_task_http_request_impl, &kt_task_http_download_impl,
    &kt_task_kv_put_impl, &kt_task_http_sse_impl, &kt_task_metric_publish_impl, &kt_task_purge_flows_impl,
    &kt_task_metric_purge_impl,
};

const kt_task_impl *kt_worker_find_impl(const char *type)
{
    const char *canonical = kt_task_canonical_type(type);
    for (size_t i = 0; i < sizeof kt_task_impls / sizeof *kt_task_impls; i++)
        if (!strcmp(kt_task_impls[i]->type, canonical))
            return kt_task_impls[i];
    return NULL;
}

/* ---- the task API -------------------------------------------------------------------------------- */

const json_t *kt_task_props(const kt_task_run *r) { return r->job.task; }
const json_t *kt_task_context(const kt_task_run *r) { return r->job.context; }
const char *kt_task_workdir(const kt_task_run *r) { return r->workdir; }
const char *kt_task_prop_string(const kt_task_run *r, const char *name)
{
    return json_string_value(json_object_get(r->job.task, name));
}
uv_loop_t *kt_task_loop(const kt_task_run *r) { return r->w->loop; }
const char *kt_task_tmp_dir(const kt_task_run *r) { return r->w->tmp_dir; }
const char *kt_task_python_venvs(const kt_task_run *r) { return r->w->python_venvs; }
const char *kt_task_python_find_links(const kt_task_run *r) { return r->w->python_find_links; }
kt_storage *kt_task_storage(const kt_task_run *r) { return r->w->storage; }
struct kt_hl *kt_task_http(kt_task_run *r)
{
    if (!r->w->http && !r->w->stopping)
        r->w->http = kt_hl_new(r->w->loop);
    return r->w->http;
}
void kt_task_set_data(kt_task_run *r, void *data) { r->data = data; }
void *kt_task_data(const kt_task_run *r) { return r->data; }

void kt_task_log(kt_task_run *r, const char *level, const char *msg, size_t len)
{
    if (r->log_hook) {
        r->log_hook(r->child_data, level, msg, len);
        return;
    }
    char ts[48];
    int64_t now = kt_now_us();
    kt_time_format(now - now % 1000, ts, sizeof ts); /* milliseconds, as Kestra stores log timestamps */
    json_t *run = r->job.run;
    json_t *e = json_pack("{s:O, s:O, s:O, s:O, s:O, s:i, s:s, s:s, s:s, s:s%, s:b}", "namespace",
                          json_object_get(run, "namespace"), "flowId", json_object_get(run, "flowId"), "taskId",
                          json_object_get(run, "taskId"), "executionId", json_object_get(run, "executionId"),
                          "taskRunId", json_object_get(run, "taskRunId"), "attemptNumber", (int)r->job.attempt,
                          "timestamp", ts, "level", level, "thread", "worker", "message", msg, len, "deleted", 0);
    kt_mask_json(json_object_get(e, "message"), json_object_get(run, "secrets"));
    if (e)
        json_array_append_new(r->w->logs, e);
    kt_worker_pending(r->w);
}

void kt_task_logf(kt_task_run *r, const char *level, const char *fmt, ...)
{
    /* formatted whole, so kt_task_log masks the secrets before anything is cut: a cut first could leave the start
     * of a secret that no longer matches in full */
    char *buf = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    kt_task_log(r, level, buf, (size_t)n);
    free(buf);
}

/* Kestra's tags are a Map<String, String>: scalars are written as text, null and nested values left out. */
static json_t *kt_metric_tags(const json_t *tags)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)tags, k, v) {
        if (json_is_string(v)) {
            json_object_set(out, k, v);
        } else if (json_is_integer(v)) {
            json_object_set_new(out, k, json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v)));
        } else if (json_is_real(v)) {
            char d[64];
            kt_fmt_double(json_real_value(v), d, sizeof d);
            json_object_set_new(out, k, json_string(d));
        } else if (json_is_boolean(v)) {
            json_object_set_new(out, k, json_string(json_is_true(v) ? "true" : "false"));
        }
    }
    return out;
}

static void kt_task_metric(kt_task_run *r, const char *type, const char *name, double value, const json_t *tags)
{
    if (r->nmetrics == KT_TASK_METRICS_MAX) {
        kt_task_logf(r, "WARN", "More than %d metrics: the rest are dropped", KT_TASK_METRICS_MAX);
    }
    if (r->nmetrics++ >= KT_TASK_METRICS_MAX || !name)
        return;
    char ts[48];
    kt_time_format(kt_now_us(), ts, sizeof ts);
    json_t *run = r->job.run;
    json_t *e = json_pack("{s:O, s:O, s:O?, s:O?, s:O?, s:s, s:s, s:f, s:s, s:o, s:b}", "namespace",
                          json_object_get(run, "namespace"), "flowId", json_object_get(run, "flowId"), "taskId",
                          json_object_get(run, "taskId"), "executionId", json_object_get(run, "executionId"),
                          "taskRunId", json_object_get(run, "taskRunId"), "type", type, "name", name, "value", value,
                          "timestamp", ts, "tags", kt_metric_tags(tags), "deleted", 0);
    if (e)
        json_array_append_new(r->w->metrics, e);
    kt_worker_pending(r->w);
}

void kt_task_counter(kt_task_run *r, const char *name, double value, const json_t *tags)
{
    kt_task_metric(r, "counter", name, value, tags);
}

void kt_task_timer(kt_task_run *r, const char *name, int64_t us, const json_t *tags)
{
    kt_task_metric(r, "timer", name, (double)(us / 1000), tags); /* Duration.toMillis: whole milliseconds */
}

void kt_task_gauge(kt_task_run *r, const char *name, double value, const json_t *tags)
{
    kt_task_metric(r, "gauge", name, value, tags);
}

static void kt_worker_free_run(kt_task_run *r)
{
    kt_msg_worker_job_clear(&r->job);
    free(r);
}

static void kt_timeout_closed(uv_handle_t *h) { free(h->data); }

/* Java's DurationFormatUtils.formatDurationHMS: HH:mm:ss.SSS */
static void kt_format_hms(int64_t us, char *buf, size_t cap)
{
    int64_t ms = us / 1000;
    snprintf(buf, cap, "%02lld:%02lld:%02lld.%03lld", (long long)(ms / 3600000), (long long)(ms / 60000 % 60),
             (long long)(ms / 1000 % 60), (long long)(ms % 1000));
}

static void kt_timeout_fire(uv_timer_t *t)
{
    kt_task_timeout *to = t->data;
    kt_task_run *r = to->r;
    if (!r || r->finished)
        return;
    char hms[32];
    kt_format_hms(to->us, hms, sizeof hms);
    /* Kestra logs the exception's message, then the exception itself as a second entry (RunContextLogger) */
    kt_task_logf(r, "ERROR", "Timeout after %s", hms);
    kt_task_logf(r, "ERROR", "io.kestra.core.exceptions.TimeoutExceededException: Timeout after %s", hms);
    r->timed_out = 1;
    if (r->impl && r->impl->kill)
        r->impl->kill(r); /* finishes the run later, as KILLED, turned into FAILED below */
}

/* Stops and releases a timer of the run (its handle outlives the run while it closes). */
static void kt_task_timer_drop(kt_task_timeout **slot)
{
    if (!*slot)
        return;
    (*slot)->r = NULL;
    uv_timer_stop(&(*slot)->timer);
    uv_close((uv_handle_t *)&(*slot)->timer, kt_timeout_closed);
    *slot = NULL;
}

const json_t *kt_task_run_info(const kt_task_run *r) { return r->job.run; }

json_t *kt_task_secrets(kt_task_run *r)
{
    json_t *s = json_object_get(r->job.run, "secrets");
    if (!json_is_array(s)) {
        s = json_array();
        json_object_set_new(r->job.run, "secrets", s);
    }
    return s;
}

/* The pending request's answer (or its timeout): on_reply once, then the wait is over. */
static void kt_task_reply(kt_task_run *r, const kt_msg_reply *rep)
{
    kt_task_reply_fn fn = r->on_reply;
    kt_task_timer_drop(&r->request);
    r->request_corr = 0;
    r->on_reply = NULL;
    if (fn && !r->finished)
        fn(r, rep);
}

static void kt_task_request_timeout(uv_timer_t *t)
{
    kt_task_timeout *to = t->data;
    if (!to->r)
        return;
    kt_msg_reply rep = {.status = KT_ETIMEDOUT, .message = "no reply in time"};
    kt_task_reply(to->r, &rep);
}

kt_status kt_task_request(kt_task_run *r, const char *to, kt_msg_type type, const json_t *body, uint64_t timeout_ms,
                          kt_task_reply_fn on_reply)
{
    kt_worker *w = r->w;
    if (r->request)
        return KT_EINTERNAL; /* one at a time: a task's bug */
    uint64_t corr = ++w->next_corr;
    kt_outmsg o;
    kt_outmsg_begin(&o, type, to, kt_actor_address(w->self), corr);
    kt_msg_encode_object(&o, body);
    kt_status st = kt_node_send(kt_actor_node(w->self), to, &o);
    if (st)
        return st;
    r->request_corr = corr;
    r->on_reply = on_reply;
    r->request = kt_xcalloc(1, sizeof *r->request);
    r->request->r = r;
    uv_timer_init(w->loop, &r->request->timer);
    r->request->timer.data = r->request;
    uv_timer_start(&r->request->timer, kt_task_request_timeout, timeout_ms, 0);
    return KT_OK;
}

/* A Reply to a task's request: to the run waiting for that corr id (none: the attempt has ended, dropped). */
static void kt_worker_on_reply(kt_worker *w, const kt_msg *m)
{
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(w->running, &pos, &key, &val)) {
        kt_task_run *r = val;
        if (!r->request || r->request_corr != m->corr)
            continue;
        kt_msg_reply rep;
        if (kt_msg_decode_reply(m->body, &rep) != KT_OK) {
            KT_WARN("worker", "malformed Reply from %s", m->from);
            rep = (kt_msg_reply){.status = KT_EPROTO, .message = strdup("malformed reply")};
        }
        kt_task_reply(r, &rep);
        kt_msg_reply_clear(&rep);
        return;
    }
}

static void kt_worker_queue_result(kt_worker *w, const char *to, const kt_msg_worker_result *body);

/* Prometheus (base/metrics.h), as Kestra's Worker: kestra_worker_started_count_total and _ended_count_total,
 * kestra_worker_ended_duration_seconds, tagged with MetricRegistry.tags(WorkerTask) (task_type, namespace_id,
 * flow_id; the ended count also by state). */
static void kt_worker_meter_started(kt_task_run *r)
{
    const json_t *run = r->job.run;
    const char *labels[] = {"task_type", json_string_value(json_object_get(r->job.task, "type")), "namespace_id",
                            json_string_value(json_object_get(run, "namespace")), "flow_id",
                            json_string_value(json_object_get(run, "flowId")), NULL};
    kt_metric_inc(kt_metrics_counter("kestra_worker_started_count_total", "Task attempts started by the worker",
                                     labels), 1);
}

static void kt_worker_meter_ended(kt_task_run *r, const char *state, int64_t ended_us)
{
    const json_t *run = r->job.run;
    const char *labels[] = {"task_type", json_string_value(json_object_get(r->job.task, "type")), "namespace_id",
                            json_string_value(json_object_get(run, "namespace")), "flow_id",
                            json_string_value(json_object_get(run, "flowId")), "state", state, NULL};
    kt_metric_inc(kt_metrics_counter("kestra_worker_ended_count_total", "Task attempts ended on the worker", labels),
                  1);
    labels[6] = NULL; /* the duration is not split by state */
    kt_metric_observe(kt_metrics_histogram("kestra_worker_ended_duration_seconds", "Duration of the task attempts",
                                           labels, kt_metrics_duration_buckets, kt_metrics_duration_nbuckets),
                      (double)(ended_us - r->started_us) / 1e6);
}

/* A queued job is taken out of the queue (killed, or the worker stops); a running one gives its slot back, and the
 * oldest queued job starts at the end of the turn (kt_worker_start_queued: not from inside a task's callback). */
static void kt_worker_slot_release(kt_task_run *r)
{
    kt_worker *w = r->w;
    if (r->queued) {
        for (kt_task_run **pp = &w->queue; *pp; pp = &(*pp)->qnext)
            if (*pp == r) {
                *pp = r->qnext;
                if (!*pp)
                    w->queue_tail = pp;
                break;
            }
        r->queued = 0;
        w->nqueued--;
        if (!r->started_us)
            r->started_us = kt_now_us(); /* (its result's start: it never ran) */
        return;
    }
    if (!r->slot)
        return;
    r->slot = 0;
    w->busy--;
    if (w->queue)
        kt_worker_pending(w);
}

static double kt_worker_slots_read(void *ud) { return (double)((kt_worker *)ud)->slots; }
static double kt_worker_running_read(void *ud)
{
    const kt_worker *w = ud;
    return (double)(kt_map_size(w->running) - w->nqueued); /* the queued jobs hold no slot */
}

void kt_task_finish(kt_task_run *r, const char *state, json_t *outputs)
{
    if (r->finished) {
        json_decref(outputs);
        return;
    }
    r->finished = 1;
    kt_worker_slot_release(r);
    /* outputs are not masked: Kestra masks log lines only, and a later task reading an output (InputsTest reads a
     * SECRET input back through a Return) gets the value in clear, as in Kestra */
    if (r->timed_out)
        state = KT_S(FAILED);
    kt_task_timer_drop(&r->timeout);
    kt_task_timer_drop(&r->request);
    kt_worker *w = r->w;
    int64_t ended = kt_now_us();
    kt_worker_meter_ended(r, state, ended);
    if (r->child_done) {
        kt_task_child_done_fn done = r->child_done;
        void *data = r->child_data;
        int64_t started = r->started_us;
        kt_map_del(w->running, r->key);
        kt_worker_free_run(r);
        done(data, state, outputs, started, ended);
        return;
    }
    kt_worker_queue_result(w, r->reply_to, &(kt_msg_worker_result){
        .execution_id = r->job.execution_id, .taskrun_id = r->job.taskrun_id, .attempt = r->job.attempt,
        .epoch = r->job.epoch, .state = (char *)state, .outputs = outputs, .started_us = r->started_us,
        .ended_us = ended});
    json_decref(outputs);
    kt_map_del(w->running, r->key);
    kt_worker_free_run(r);
}

/* A result (or a WorkingDirectory child's report) waits for the end of the turn (kt_worker_flush). */
static void kt_worker_queue_result(kt_worker *w, const char *to, const kt_msg_worker_result *body)
{
    if (w->nresults == w->capresults) {
        w->capresults = w->capresults ? w->capresults * 2 : 32;
        w->results = kt_xrealloc(w->results, w->capresults * sizeof *w->results);
        w->result_keys = kt_xrealloc(w->result_keys, w->capresults * sizeof *w->result_keys);
    }
    snprintf(w->result_keys[w->nresults], sizeof *w->result_keys, "%s", body->execution_id ? body->execution_id : "");
    kt_outmsg *o = &w->results[w->nresults++];
    /* addressed to no executor in particular, as it is sent (KT_WORKER_RESULT_TO): the executor that gets it passes
     * it on to the owner of the execution's partition, which may not be the one that dispatched the job (several
     * executors, or a partition moved since: actors/executor/leases.c) */
    (void)to;
    kt_outmsg_begin(o, KT_MSG_WORKER_RESULT, KT_WORKER_RESULT_TO, kt_actor_address(w->self), 0);
    kt_msg_encode_worker_result(o, body);
    kt_recent_put(w->recent, body);
    kt_worker_pending(w);
}

void kt_task_report_child(kt_task_run *parent, const json_t *taskrun)
{
    if (parent->finished)
        return;
    kt_worker_queue_result(parent->w, parent->reply_to, &(kt_msg_worker_result){
        .execution_id = parent->job.execution_id, .taskrun_id = parent->job.taskrun_id,
        .attempt = parent->job.attempt, .epoch = parent->job.epoch, .state = (char *)KT_S(RUNNING),
        .taskrun = (json_t *)taskrun});
}

/* ---- the actor ----------------------------------------------------------------------------------- */

static void kt_worker_run_start(kt_worker *w, kt_task_run *r);

static void kt_worker_on_job(kt_worker *w, const kt_msg *m)
{
    kt_task_run *r = kt_xcalloc(1, sizeof *r);
    if (kt_msg_decode_worker_job(m->body, &r->job)) {
        KT_WARN("worker", "malformed WorkerJob from %s", m->from);
        free(r);
        return;
    }
    r->w = w;
    snprintf(r->reply_to, sizeof r->reply_to, "%s", m->from);
    snprintf(r->key, sizeof r->key, "%s/%u", r->job.taskrun_id, r->job.attempt);
    if (kt_map_get(w->running, r->key)) { /* at-least-once delivery: the same attempt twice runs once */
        kt_worker_free_run(r);
        return;
    }
    kt_map_put(w->running, r->key, r, NULL);
    if (w->busy >= w->slots || w->queue) {
        r->queued = 1;
        *w->queue_tail = r;
        w->queue_tail = &r->qnext;
        w->nqueued++;
        KT_DEBUG("worker", "job %s from %s waits for a slot (%u busy, %zu waiting)", r->key, m->from, w->busy,
                 w->nqueued);
        return;
    }
    r->slot = 1;
    w->busy++;
    kt_worker_run_start(w, r);
}

/* The queued jobs, oldest first, while slots are free (from the turn's flush). */
static void kt_worker_start_queued(kt_worker *w)
{
    while (!w->stopping && w->queue && w->busy < w->slots) {
        kt_task_run *r = w->queue;
        w->queue = r->qnext;
        if (!w->queue)
            w->queue_tail = &w->queue;
        w->nqueued--;
        r->queued = 0;
        r->qnext = NULL;
        r->slot = 1;
        w->busy++;
        kt_worker_run_start(w, r); /* it may end at once: its slot is free again for the next */
    }
}

/* The attempt's timeout armed and its implementation started (a job's or a WorkingDirectory child's). */
static void kt_worker_run_start(kt_worker *w, kt_task_run *r)
{
    r->started_us = kt_now_us();
    const char *type = json_string_value(json_object_get(r->job.task, "type"));
    if (kt_task_is_templated(type)) { /* the task its spec describes runs in its place */
        char err[1024];
        json_t *inner = kt_task_templated_resolve(r->job.task, err, sizeof err);
        if (!inner) {
            kt_task_log(r, "ERROR", err, strlen(err));
            kt_task_finish(r, KT_S(FAILED), NULL);
            return;
        }
        json_decref(r->job.task);
        r->job.task = inner;
        type = json_string_value(json_object_get(r->job.task, "type"));
    }
    r->impl = type ? kt_worker_find_impl(type) : NULL;
    kt_worker_meter_started(r);
    json_t *timeout = json_object_get(r->job.task, "timeout");
    int64_t us = 0;
    if (timeout && (kt_duration_from_json(timeout, &us) || us <= 0)) {
        kt_task_logf(r, "ERROR", "Invalid timeout '%s'", json_string_value(timeout) ? json_string_value(timeout) : "?");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    /* a WorkingDirectory's own timeout is not enforced (Kestra's Worker.handleTask runs it without one); each child's
     * is */
    if (us > 0 && r->impl && r->impl->kill && r->impl != &kt_task_working_directory_impl) {
        r->timeout = kt_xcalloc(1, sizeof *r->timeout);
        r->timeout->r = r;
        r->timeout->us = us;
        uv_timer_init(w->loop, &r->timeout->timer);
        r->timeout->timer.data = r->timeout;
        uv_timer_start(&r->timeout->timer, kt_timeout_fire, (uint64_t)((us + 999) / 1000), 0);
    }
    if (!r->impl) {
        kt_task_logf(r, "ERROR", "Task type '%s' is not supported by this worker", type ? type : "(none)");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    r->impl->start(r);
}

void kt_task_child_start(kt_task_run *parent, json_t *task, const char *taskrun_id, const char *workdir,
                         const char *error, kt_task_child_done_fn done, void *data, kt_task_run **out)
{
    kt_task_run *r = kt_xcalloc(1, sizeof *r);
    r->w = parent->w;
    r->job.execution_id = kt_xstrdup(parent->job.execution_id);
    r->job.taskrun_id = kt_xstrdup(taskrun_id);
    r->job.task = task;
    r->job.run = json_deep_copy(parent->job.run);
    json_object_set(r->job.run, "taskId", json_object_get(task, "id"));
    json_object_set_new(r->job.run, "taskRunId", json_string(taskrun_id));
    snprintf(r->reply_to, sizeof r->reply_to, "%s", parent->reply_to);
    snprintf(r->key, sizeof r->key, "%s/0", taskrun_id);
    r->workdir = workdir;
    r->child_done = done;
    r->child_data = data;
    /* in the map like a job, so a reply to its request (Toggle) finds it; the worker's stop leaves it to its parent */
    kt_map_put(r->w->running, r->key, r, NULL);
    *out = r;
    if (error) { /* its properties did not render: it fails before it starts, as Kestra's worker reports it */
        r->started_us = kt_now_us();
        kt_task_log(r, "ERROR", error, strlen(error));
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_worker_run_start(r->w, r);
}

void kt_worker_run_detached(kt_worker *w, json_t *task, json_t *run, kt_task_log_hook log, kt_task_child_done_fn done,
                            void *data)
{
    kt_task_run *r = kt_xcalloc(1, sizeof *r);
    char id[KT_ID_LEN + 1];
    kt_id_new(id);
    r->w = w;
    r->job.execution_id = kt_xstrdup("");
    r->job.taskrun_id = kt_xstrdup(id);
    r->job.task = task;
    r->job.run = run;
    snprintf(r->key, sizeof r->key, "detached/%s", id);
    r->child_done = done;
    r->child_data = data;
    r->log_hook = log;
    r->detached = 1;
    kt_map_put(w->running, r->key, r, NULL);
    kt_worker_run_start(w, r);
}

void kt_worker_reply(kt_worker *w, const char *to, uint64_t corr, kt_status status, const char *message,
                     const json_t *data)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_REPLY, to, kt_actor_address(w->self), corr);
    kt_msg_reply rep = {.status = (uint32_t)status, .message = (char *)message, .data = (json_t *)data};
    kt_msg_encode_reply(&o, &rep);
    kt_status st = kt_node_send(kt_actor_node(w->self), to, &o);
    if (st)
        KT_WARN("worker", "reply to %s not sent: %s", to, kt_strerror(st));
}

int kt_worker_stopping(const kt_worker *w) { return w->stopping; }

void kt_task_child_kill(kt_task_run *child)
{
    if (child && !child->finished && child->impl && child->impl->kill)
        child->impl->kill(child);
}

/* Kill: the attempt named stops (its process group gets SIGKILL) and ends KILLED. */
static void kt_worker_on_kill(kt_worker *w, const kt_msg *m)
{
    kt_msg_exec_command k;
    if (kt_msg_decode_exec_command(m->body, &k) != KT_OK)
        return;
    if (!(kt_cmd_flags(k.command) & KT_CF_WORKER)) { /* KILL is the only command a worker takes */
        KT_WARN("worker", "command %s from %s ignored: not a worker's", kt_cmd_name(k.command), m->from);
        kt_msg_exec_command_clear(&k);
        return;
    }
    size_t pos = 0;
    const char *key;
    void *val;
    kt_task_run *victim = NULL;
    while (kt_map_next(w->running, &pos, &key, &val)) {
        kt_task_run *r = val;
        if (!strcmp(r->job.taskrun_id, k.taskrun_id) && !strcmp(r->job.execution_id, k.execution_id))
            victim = r;
    }
    if (victim) {
        kt_task_log(victim, "WARN", "Killed by request", 17);
        if (victim->queued) /* never started: it ends KILLED where it waits */
            kt_task_finish(victim, KT_S(KILLED), NULL);
        else if (victim->impl && victim->impl->kill)
            victim->impl->kill(victim);
    }
    kt_msg_exec_command_clear(&k);
}

/* An executor that took partitions over asks which of their attempts run here (actors/executor/attempts.c): it is
 * told the ones that do (they are its now: their results go to their partition's owner), and the results of the ones
 * that ended lately are sent to it again, since they may have gone to the previous owner as it died. */
static void kt_worker_on_attempts(kt_worker *w, const kt_msg *m)
{
    json_t *q = NULL;
    if (kt_msg_decode_object(m->body, &q) != KT_OK || !json_is_array(json_object_get(q, "attempts"))) {
        KT_WARN("worker", "malformed WorkerAttempts from %s", m->from);
        json_decref(q);
        return;
    }
    kt_node *node = kt_actor_node(w->self);
    json_t *running = json_array();
    size_t i, resent = 0;
    json_t *a;
    json_array_foreach(json_object_get(q, "attempts"), i, a) {
        const char *eid = json_string_value(json_array_get(a, 0)), *trid = json_string_value(json_array_get(a, 1));
        json_int_t attempt = json_integer_value(json_array_get(a, 2));
        if (!eid || !trid || attempt < 0 || attempt > UINT32_MAX)
            continue;
        char key[2 * KT_ADDR_MAX];
        snprintf(key, sizeof key, "%s/%u", trid, (uint32_t)attempt);
        kt_task_run *r = kt_map_get(w->running, key);
        if (r && !r->finished && !r->child_done && !strcmp(r->job.execution_id, eid)) {
            json_array_append_new(running, json_pack("[s,s,I,I]", eid, trid, attempt, (json_int_t)r->job.epoch));
            continue;
        }
        size_t len;
        const char *body = kt_recent_get(w->recent, eid, trid, (uint32_t)attempt, &len);
        if (!body)
            continue;
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_WORKER_RESULT, m->from, kt_actor_address(w->self), 0);
        msgpack_sbuffer_write(&o.sb, body, len); /* the envelope's last field */
        if (kt_node_send(node, m->from, &o) == KT_OK)
            resent++;
    }
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_WORKER_ATTEMPTS, m->from, kt_actor_address(w->self), 0);
    json_t *answer = json_pack("{s:O?, s:I, s:o}", "round", json_object_get(q, "round"), "slots", (json_int_t)w->slots,
                               "running", running);
    kt_msg_encode_object(&o, answer);
    json_decref(answer);
    kt_status st = kt_node_send(node, m->from, &o);
    KT_DEBUG("worker", "%s asked about %zu attempt(s): %zu run here, %zu result(s) sent again%s%s", m->from,
             json_array_size(json_object_get(q, "attempts")), json_array_size(running), resent,
             st ? "; answer not sent: " : "", st ? kt_strerror(st) : "");
    json_decref(q);
}

static void kt_worker_receive(kt_actor *a, const kt_msg *m)
{
    kt_worker *w = kt_actor_state(a);
    if (m->type == KT_MSG_WORKER_JOB && !w->stopping)
        kt_worker_on_job(w, m);
    else if (m->type == KT_MSG_EXEC_COMMAND)
        kt_worker_on_kill(w, m);
    else if (m->type == KT_MSG_REPLY)
        kt_worker_on_reply(w, m);
    else if (m->type == KT_MSG_TRIGGER_EVALUATE)
        kt_worker_poll_on_request(w, m);
    else if (m->type == KT_MSG_WORKER_ATTEMPTS)
        kt_worker_on_attempts(w, m);
}

/* The ERROR lines of a batch (a new array), or NULL when it has none. */
static json_t *kt_worker_error_lines(const json_t *logs)
{
    json_t *out = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(logs, i, e) {
        const char *level = json_string_value(json_object_get(e, "level"));
        if (!level || strcmp(level, "ERROR"))
            continue;
        if (!out)
            out = json_array();
        json_array_append(out, e);
    }
    return out;
}

static void kt_worker_send_batch(kt_node *node, kt_actor *a, const char *to, json_t *logs, json_t *metrics, int copy)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_LOG_BATCH, to, kt_actor_address(a), 0);
    kt_msg_log_batch b = {.entries = logs, .metrics = metrics, .copy = copy};
    kt_msg_encode_log_batch(&o, &b);
    kt_status st = kt_node_send(node, to, &o);
    if (st)
        KT_WARN("worker", "%zu log line(s) for %s not delivered: %s", json_array_size(logs), to, kt_strerror(st));
}

/* The executor's copies of the ERROR lines (errorLogs()), each execution's to the executor owning its partition
 * (kt_node_send_keyed), the one that keeps its live run and reads them. */
static void kt_worker_send_copies(kt_node *node, kt_actor *a, json_t *errors)
{
    json_t *by = json_object();
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e) {
        const char *id = json_string_value(json_object_get(e, "executionId"));
        json_t *lines = json_object_get(by, id ? id : "");
        if (!lines)
            json_object_set_new(by, id ? id : "", lines = json_array());
        json_array_append(lines, e);
    }
    const char *id;
    json_t *lines;
    json_object_foreach(by, id, lines) {
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_LOG_BATCH, KT_WORKER_RESULT_TO, kt_actor_address(a), 0);
        kt_msg_log_batch b = {.entries = lines, .copy = 1};
        kt_msg_encode_log_batch(&o, &b);
        kt_status st = kt_node_send_keyed(node, KT_WORKER_RESULT_TO, id, &o);
        if (st)
            KT_WARN("worker", "%zu ERROR line(s) of execution %s not copied to its executor: %s",
                    json_array_size(lines), id, kt_strerror(st));
    }
    json_decref(by);
}

/* End of turn: logs first, so a result never overtakes the lines of its attempt (nor the executor's copy of their
 * ERROR lines, which errorLogs() reads when the result makes the next task run). A full mailbox or link on the way
 * (kt_node_has_room) keeps the rest for a later turn: back-pressure, nothing dropped (KT_MAILBOX_CAP); a paused
 * indexer (KT_INDEXER_MAX_BYTES) holds the results back with the lines. */
static void kt_worker_flush(kt_actor *a)
{
    kt_worker *w = kt_actor_state(a);
    kt_node *node = kt_actor_node(a);
    kt_worker_start_queued(w); /* before the sends: one that ends at once has its result in this turn */
    int batch = json_array_size(w->logs) || json_array_size(w->metrics);
    const char *log_to = KT_WORKER_RESULT_TO;
    json_t *errors = NULL;
    if (batch && kt_node_reachable(node, KT_INDEXER_ACTOR)) {
        log_to = KT_INDEXER_ACTOR;
        errors = kt_worker_error_lines(w->logs);
    }
    if (batch && (!kt_node_has_room(node, log_to) || (errors && !kt_node_has_room(node, KT_WORKER_RESULT_TO)))) {
        json_decref(errors);
        kt_worker_wait_for_room(w);
        return;
    }
    if (batch) {
        kt_worker_send_batch(node, a, log_to, w->logs, w->metrics, 0);
        if (errors)
            kt_worker_send_copies(node, a, errors);
        json_decref(errors);
        json_array_clear(w->logs);
        json_array_clear(w->metrics);
    }
    size_t sent = 0;
    for (; sent < w->nresults; sent++) {
        /* straight to the owner of the execution's partition, as this node sees it (any executor passes it on when
         * the partition moved): through another executor it would be lost with that one if it died with the result
         * in its socket, and the owner, alive, would wait for it for ever (the chaos test, test_chaos.c) */
        char to[KT_ADDR_MAX];
        if (!w->result_keys[sent][0] ||
            kt_node_keyed_address(node, KT_WORKER_RESULT_TO, w->result_keys[sent], to, sizeof to) != KT_OK)
            snprintf(to, sizeof to, "%s", KT_WORKER_RESULT_TO);
        if (!kt_node_has_room(node, to))
            break;
        kt_status st = kt_node_send(node, to, &w->results[sent]);
        if (st)
            KT_WARN("worker", "result not delivered (%s): the executor resubmits the attempt", kt_strerror(st));
    }
    if (sent && sent < w->nresults) {
        memmove(w->results, w->results + sent, (w->nresults - sent) * sizeof *w->results);
        memmove(w->result_keys, w->result_keys + sent, (w->nresults - sent) * sizeof *w->result_keys);
    }
    w->nresults -= sent;
    if (w->nresults)
        kt_worker_wait_for_room(w);
}

void kt_worker_flush_now(kt_worker *w) { kt_worker_flush(w->self); }

static void kt_worker_on_pending(uv_idle_t *h)
{
    kt_worker *w = h->data;
    uv_idle_stop(h);
    kt_worker_flush(w->self);
}

static void kt_worker_on_room_retry(uv_timer_t *t)
{
    kt_worker *w = t->data;
    kt_worker_flush(w->self);
}

static void kt_worker_stop(kt_actor *a)
{
    kt_worker *w = kt_actor_state(a);
    w->stopping = 1;
    size_t pos = 0;
    const char *key;
    void *val;
    /* Killing ends each run through kt_task_finish, which deletes it from the map: iterate over a copy. */
    kt_task_run **runs = calloc(kt_map_size(w->running) + 1, sizeof *runs);
    size_t n = 0;
    while (runs && kt_map_next(w->running, &pos, &key, &val))
        if (!((kt_task_run *)val)->child_done || ((kt_task_run *)val)->detached) /* a child is stopped by its parent
                                                                                        (it may be freed meanwhile) */
            runs[n++] = val;
    for (size_t i = 0; i < n; i++) {
        if (runs[i]->impl && runs[i]->impl->kill)
            runs[i]->impl->kill(runs[i]);
        else
            kt_task_finish(runs[i], KT_S(KILLED), NULL);
    }
    free(runs);
    kt_hl_close(w->http); /* after the kills: they took their transfers out */
    w->http = NULL;
    kt_worker_flush(a);
    uv_idle_stop(&w->pending_flush);
    uv_close((uv_handle_t *)&w->pending_flush, NULL);
    uv_timer_stop(&w->room_retry);
    uv_close((uv_handle_t *)&w->room_retry, NULL);
}

static const kt_actor_ops kt_worker_ops = {.receive = kt_worker_receive, .flush = kt_worker_flush, .stop = kt_worker_stop};

kt_status kt_worker_start(kt_node *node, const kt_worker_config *cfg, kt_worker **out)
{
    kt_worker *w = calloc(1, sizeof *w);
    if (!w)
        return KT_ENOMEM;
    w->loop = kt_node_loop(node);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    w->slots = cfg && cfg->slots ? cfg->slots : (uint32_t)(cores > 0 ? cores * 4 : 4);
    const char *tmp = cfg && cfg->tmp_dir ? cfg->tmp_dir : getenv("TMPDIR");
    snprintf(w->tmp_dir, sizeof w->tmp_dir, "%s", tmp && *tmp ? tmp : "/tmp");
    /* absolute: a task's shell runs in its own working directory */
    char cwd[512] = "";
    const char *venvs = cfg && cfg->python_venvs && *cfg->python_venvs ? cfg->python_venvs : NULL;
    const char *links = cfg && cfg->python_find_links ? cfg->python_find_links : "";
    if (((venvs && *venvs != '/') || (*links && *links != '/')) && !getcwd(cwd, sizeof cwd))
        cwd[0] = 0;
    if (venvs)
        snprintf(w->python_venvs, sizeof w->python_venvs, "%s%s%s", *venvs == '/' ? "" : cwd,
                 *venvs == '/' ? "" : "/", venvs);
    else
        snprintf(w->python_venvs, sizeof w->python_venvs, "%s/kite-python-venvs", w->tmp_dir);
    snprintf(w->python_find_links, sizeof w->python_find_links, "%s%s%s", *links && *links != '/' ? cwd : "",
             *links && *links != '/' ? "/" : "", links);
    w->storage = cfg ? cfg->storage : NULL;
    w->running = kt_map_new();
    w->queue_tail = &w->queue;
    w->logs = json_array();
    w->metrics = json_array();
    w->recent = kt_recent_new();
    uv_idle_init(w->loop, &w->pending_flush);
    w->pending_flush.data = w;
    uv_timer_init(w->loop, &w->room_retry);
    w->room_retry.data = w;
    kt_status st = kt_node_spawn(node, KT_WORKER_ACTOR, &kt_worker_ops, w, &w->self);
    if (st) {
        /* the idle and timer handles are closed with the loop's other handles by the caller's shutdown walk */
        w->stopping = 1;
        return st;
    }
    const char *labels[] = {"worker", kt_actor_address(w->self), NULL};
    w->slots_gauge = kt_metrics_gauge_fn("kestra_worker_job_thread", "Worker slots (task attempts run at once)", labels,
                                         kt_worker_slots_read, w);
    w->running_gauge = kt_metrics_gauge_fn("kestra_worker_job_running", "Worker slots busy (task attempts running)",
                                           labels, kt_worker_running_read, w);
    *out = w;
    return KT_OK;
}

/* Called by main after the loop has closed. */
void kt_worker_free(kt_worker *w)
{
    if (!w)
        return;
    kt_metric_release(w->slots_gauge, w); /* they read w */
    kt_metric_release(w->running_gauge, w);
    for (size_t i = 0; i < w->nresults; i++)
        kt_outmsg_destroy(&w->results[i]);
    free(w->results);
    free(w->result_keys);
    kt_map_free(w->running);
    kt_recent_free(w->recent);
    json_decref(w->logs);
    json_decref(w->metrics);
    free(w);
}

uint32_t kt_worker_slots(const kt_worker *w) { return w->slots; }
uint32_t kt_worker_running(const kt_worker *w) { return (uint32_t)(kt_map_size(w->running) - w->nqueued); }
uint32_t kt_worker_queued(const kt_worker *w) { return (uint32_t)w->nqueued; }
