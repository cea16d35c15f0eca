/* The executor actor (see executor.h): the loop turn. Messages become events for the pure state machine
 * (kt_executor_apply), whose effects are queued; flush commits every changed execution and this turn's logs in one
 * transaction and only then lets the effects out (jobs, replies, timers, ends). Start and stop are here too: start
 * resumes what a previous process left unfinished. Worker jobs are in dispatch.c, Subflow children in subflow.c;
 * executor_int.h has what the three share. */
#include "actors/executor/executor.h"
#include "actors/executor/executor_int.h"
#include "flow/model.h"
#include "flow/render.h"
#include "actors/executor/step.h"
#include "expr/expr.h"
#include "flow/defaults.h"
#include "flow/flow.h"
#include "flow/foreachitem.h"
#include "flow/tasks.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "base/clock.h"
#include "base/env.h"
#include "base/id.h"
#include "base/log.h"
#include "base/secrets.h"
#include "base/map.h"
#include "base/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kt_executor_run_free(kt_run *run)
{
    json_decref(run->execution);
    json_decref(run->error_lines);
    free(run->dirty_runs);
    free(run);
}

static void kt_run_touch(kt_run *run, size_t index)
{
    for (size_t i = 0; i < run->ndirty_runs; i++)
        if (run->dirty_runs[i] == index)
            return;
    if (run->ndirty_runs == run->capdirty_runs) {
        run->capdirty_runs = run->capdirty_runs ? run->capdirty_runs * 2 : 8;
        run->dirty_runs = kt_xrealloc(run->dirty_runs, run->capdirty_runs * sizeof *run->dirty_runs);
    }
    run->dirty_runs[run->ndirty_runs++] = index;
}

/* ---- flows --------------------------------------------------------------------------------------- */

kt_flow_entry *kt_executor_flow(kt_executor *ex, const char *ns, const char *id, int rev)
{
    char key[512];
    snprintf(key, sizeof key, "%s\x1f%s\x1f%d", ns, id, rev);
    kt_flow_entry *fe = kt_map_get(ex->flows, key);
    if (fe)
        return fe;
    kt_flow *f;
    kt_flow_row row;
    if (kt_store_flow_get(ex->store, ns, id, rev, &row) != KT_OK)
        return NULL;
    kt_diags d;
    kt_diags_init(&d);
    kt_status st = kt_flow_parse_pinned(row.source, strlen(row.source), "flow", ex->plugin_defaults, row.dialect, &f, &d);
    if (st) {
        char *msg = kt_diags_format(&d);
        KT_ERROR("executor", "flow %s.%s revision %d no longer parses: %s", ns, id, rev, msg ? msg : "?");
        free(msg);
    }
    kt_diags_clear(&d);
    kt_flow_row_clear(&row);
    if (st)
        return NULL;
    fe = kt_xcalloc(1, sizeof *fe);
    fe->flow = f;
    /* Kestra injects the defaults into the flow it runs, before anything is rendered; the stored source stays
     * as written. Once per revision: every execution of it shares the result. */
    fe->json = kt_defaults_apply(kt_flow_json(f), ex->plugin_defaults);
    if (!fe->json) {
        KT_ERROR("executor", "flow %s.%s revision %d: plugin defaults not applied (out of memory)", ns, id, rev);
        fe->json = json_incref((json_t *)kt_flow_json(f));
    }
    /* ForEachItem runs as the Sequential of the three tasks Kestra generates for it: they get task runs of their
     * own, so they are part of the tree the step walks. fe->json is this executor's own parse of the revision (the
     * stored source is unchanged). */
    kt_foreachitem_expand(fe->json);
    fe->templates = kt_tmpl_cache_new();
    fe->tasks = kt_exec_index_tasks(fe->json);
    /* from the flow as it runs: a default can bring an errorLogs() call too */
    fe->error_logs = kt_executor_error_logs_tasks(fe->tasks, fe->templates);
    kt_map_put(ex->flows, key, fe, NULL);
    return fe;
}

/* ---- Prometheus ---------------------------------------------------------------------------------- */

/* Kestra's MetricRegistry.tags(Execution): flow_id, namespace_id, state */
static kt_metric *kt_executor_meter(const char *name, const char *help, const json_t *execution, int histogram)
{
    const char *labels[] = {"flow_id", json_string_value(json_object_get(execution, "flowId")), "namespace_id",
                            json_string_value(json_object_get(execution, "namespace")), "state",
                            kt_state_current(execution), NULL};
    if (histogram)
        return kt_metrics_histogram(name, help, labels, kt_metrics_duration_buckets, kt_metrics_duration_nbuckets);
    return kt_metrics_counter(name, help, labels);
}

void kt_executor_count_started(const json_t *execution)
{
    kt_metric_inc(kt_executor_meter("kestra_executor_execution_started_count_total",
                                    "Executions started by the executor", execution, 0), 1);
}

void kt_executor_count_ended(const json_t *execution)
{
    kt_metric_inc(kt_executor_meter("kestra_executor_execution_end_count_total", "Executions ended", execution, 0),
                  1);
    /* State.getDuration(): from the first history to the last */
    const json_t *h = json_object_get(json_object_get(execution, "state"), "histories");
    int64_t start = 0, end = 0;
    if (json_array_size(h) &&
        !kt_time_parse(json_string_value(json_object_get(json_array_get(h, 0), "date")), &start) &&
        !kt_time_parse(json_string_value(json_object_get(json_array_get(h, json_array_size(h) - 1), "date")), &end) &&
        end >= start)
        kt_metric_observe(kt_executor_meter("kestra_executor_execution_duration_seconds",
                                            "Duration of the ended executions", execution, 1),
                          (double)(end - start) / 1e6);
}

/* ---- transitions --------------------------------------------------------------------------------- */

void kt_executor_mark_dirty(kt_executor *ex, kt_run *run)
{
    if (run->dirty)
        return;
    if (ex->ndirty == ex->capdirty) {
        ex->capdirty = ex->capdirty ? ex->capdirty * 2 : 64;
        ex->dirty = kt_xrealloc(ex->dirty, ex->capdirty * sizeof *ex->dirty);
    }
    ex->dirty[ex->ndirty++] = run;
    run->dirty = 1;
}

/* One step and its effects; the dispatched attempts whose task did not render go to *failed. */
static void kt_executor_apply_one(kt_executor *ex, kt_run *run, const kt_exec_event *ev, json_t **failed)
{
    kt_exec_effects fx;
    /* The step is pure: its clock reading (the event's) and its randomness (a fresh seed, drawn from the
     * executor's own generator) are handed to it here. */
    kt_env env;
    kt_env_init(&env, ev->now_us, kt_env_next(&ex->seeds));
    env.dialect = kt_dialect_of_flow(run->flow.flow);
    env.files = ex->storage ? &ex->files : NULL;
    /* what the step's renders obtain from secret() (runIf, If/Switch, WaitFor conditions, loop values, flow outputs)
     * and the SECRET inputs: the step masks them in the lines it logs (kt_step_log) and the engine in its error
     * messages, each before anything is cut, as the worker masks its tasks' lines */
    json_t *secrets = json_array();
    env.secrets_used = secrets;
    kt_render_secret_inputs(run->flow.flow, run->execution, secrets);
    kt_status st = kt_exec_step(&run->flow, run->execution, ev, &env, &fx);
    if (st) {
        KT_WARN("executor", "execution %s: event %d not applied: %s",
                json_string_value(json_object_get(run->execution, "id")), ev->kind, kt_strerror(st));
        json_decref(secrets);
        return;
    }
    if (fx.changed)
        kt_executor_mark_dirty(ex, run);
    if (fx.touched_all)
        run->all_runs_dirty = 1;
    for (size_t i = 0; i < fx.ntouched; i++)
        kt_run_touch(run, fx.touched[i]);
    for (size_t i = 0; i < fx.nlogs; i++) {
        json_t *tr = kt_taskrun_find(run->execution, fx.logs[i].taskrun_id);
        kt_executor_log(ex, run->execution, tr, tr && kt_taskrun_attempts(tr) ? (uint32_t)kt_taskrun_attempts(tr) - 1 : 0,
                        fx.logs[i].level, fx.logs[i].message);
    }
    if (fx.logs_dropped) { /* KT_EXEC_MAX_LOGS (base/limits.h): the loss shows where the lines would have been */
        char msg[160];
        snprintf(msg, sizeof msg, "%zu more executor log line(s) of this step were dropped (at most %d per event)",
                 fx.logs_dropped, KT_EXEC_MAX_LOGS);
        kt_executor_log(ex, run->execution, NULL, 0, "WARN", msg);
    }
    for (size_t i = 0; i < fx.ntimers; i++) {
        if (ex->ntimers == ex->captimers) {
            ex->captimers = ex->captimers ? ex->captimers * 2 : 16;
            ex->timers = kt_xrealloc(ex->timers, ex->captimers * sizeof *ex->timers);
        }
        struct kt_pending_timer *t = &ex->timers[ex->ntimers++];
        snprintf(t->execution_id, sizeof t->execution_id, "%s", json_string_value(json_object_get(run->execution, "id")));
        snprintf(t->taskrun_id, sizeof t->taskrun_id, "%s", fx.timers[i].taskrun_id);
        t->command = fx.timers[i].command;
        t->at_us = fx.timers[i].at_us;
        t->iteration = fx.timers[i].iteration;
    }
    if (fx.killed)
        kt_executor_kill_jobs(ex, json_string_value(json_object_get(run->execution, "id")));
    if (fx.kill_children) /* execution.Kill with propagateKill */
        kt_executor_kill_children(ex, json_string_value(json_object_get(run->execution, "id")));
    /* Children are created on the next drain pass, after this transition's commit. */
    for (size_t i = 0; i < fx.nsubflows; i++) {
        /* what the step's render of the child's inputs obtained from secret(): masked in the error a failed creation
         * logs (an input refused quotes the value it received), and given to a ForEachItem batch's input render */
        if (json_array_size(secrets))
            json_object_set(fx.subflows[i].spec, "secrets", secrets);
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, kt_actor_address(ex->self), kt_actor_address(ex->self), 0);
        kt_msg_exec_command body = {.execution_id = (char *)json_string_value(json_object_get(run->execution, "id")),
                                    .taskrun_id = fx.subflows[i].taskrun_id, .command = KT_CMD_SUBFLOW_CREATE,
                                    .data = fx.subflows[i].spec};
        kt_msg_encode_exec_command(&o, &body);
        kt_node_send(kt_actor_node(ex->self), kt_actor_address(ex->self), &o);
        json_decref(fx.subflows[i].spec);
    }
    json_decref(secrets);
    for (size_t i = 0; i < fx.ndispatch; i++)
        if (kt_executor_prepare_job(ex, run, &fx.dispatch[i]))
            kt_executor_failed_push(failed, fx.dispatch[i].taskrun_id, fx.dispatch[i].attempt);
    if (fx.dispatch_overflow)
        kt_executor_rescan(ex, run, failed);
}

void kt_executor_failed_push(json_t **failed, const char *taskrun_id, uint32_t attempt)
{
    if (!*failed)
        *failed = json_array();
    json_array_append_new(*failed, json_pack("[s,i]", taskrun_id, (json_int_t)attempt));
}

/* A task that does not render fails its attempt, as Kestra's worker reports it; that result is one more step, taken
 * here in turn (a loop, not a step inside a step: a chain of such failures cannot grow the stack). */
void kt_executor_apply(kt_executor *ex, kt_run *run, const kt_exec_event *ev)
{
    json_t *failed = NULL;
    kt_executor_apply_one(ex, run, ev, &failed);
    while (json_array_size(failed)) {
        char trid[KT_ID_LEN + 1];
        json_t *f = json_array_get(failed, 0);
        snprintf(trid, sizeof trid, "%s", json_string_value(json_array_get(f, 0)));
        uint32_t attempt = (uint32_t)json_integer_value(json_array_get(f, 1));
        json_array_remove(failed, 0);
        int64_t now = kt_now_us();
        kt_exec_event fail = {.kind = KT_EV_RESULT, .now_us = now, .taskrun_id = trid, .attempt = attempt,
                              .state = KT_S(FAILED), .started_us = now, .ended_us = now};
        kt_executor_apply_one(ex, run, &fail, &failed);
    }
    json_decref(failed);
}

kt_run *kt_executor_adopt(kt_executor *ex, json_t *execution, char *err, size_t errcap)
{
    const char *ns = json_string_value(json_object_get(execution, "namespace"));
    const char *fid = json_string_value(json_object_get(execution, "flowId"));
    json_int_t rev = json_integer_value(json_object_get(execution, "flowRevision"));
    const char *id = json_string_value(json_object_get(execution, "id"));
    if (!ns || !fid || !id || rev < 1) {
        snprintf(err, errcap, "execution without id, namespace, flowId or flowRevision");
        return NULL;
    }
    if (kt_execution_check(execution, err, errcap)) /* stepping asserts on states that are not Kestra's */
        return NULL;
    kt_flow_entry *flow = kt_executor_flow(ex, ns, fid, (int)rev);
    if (!flow) {
        snprintf(err, errcap, "Unable to find revision %d on flow %s.%s", (int)rev, ns, fid);
        return NULL;
    }
    kt_run *run = kt_xcalloc(1, sizeof *run);
    run->execution = json_incref(execution);
    run->flow.flow = flow->json;
    run->flow.templates = flow->templates;
    run->flow.tasks = flow->tasks;
    run->entry = flow;
    run->all_runs_dirty = 1;
    kt_map_put(ex->runs, id, run, NULL);
    return run;
}

/* ---- sending (after the commit) ------------------------------------------------------------------ */


static void kt_executor_queue_reply(kt_executor *ex, const kt_msg *m, kt_status st, const char *message)
{
    kt_executor_reply(ex, m, st, message, NULL);
}

void kt_executor_reply(kt_executor *ex, const kt_msg *m, kt_status st, const char *message, json_t *data)
{
    kt_executor_reply_to(ex, m->from, m->corr, ex->msg_exec, st, message, data);
}

void kt_executor_reply_to(kt_executor *ex, const char *to, uint64_t corr, const char *execution_id, kt_status st,
                          const char *message, json_t *data)
{
    if (ex->nreplies == ex->capreplies) {
        ex->capreplies = ex->capreplies ? ex->capreplies * 2 : 16;
        ex->replies = kt_xrealloc(ex->replies, ex->capreplies * sizeof *ex->replies);
    }
    kt_pending_reply *r = &ex->replies[ex->nreplies++];
    snprintf(r->to, sizeof r->to, "%s", to);
    snprintf(r->execution_id, sizeof r->execution_id, "%s", execution_id ? execution_id : "");
    r->corr = corr;
    r->status = st;
    r->message = message ? kt_xstrdup(message) : NULL;
    r->data = data;
}


static void kt_executor_on_create(kt_executor *ex, const kt_msg *m)
{
    kt_msg_execution_create body;
    if (kt_msg_decode_execution_create(m->body, &body)) {
        kt_executor_queue_reply(ex, m, KT_EPROTO, "malformed ExecutionCreate");
        return;
    }
    const char *id = json_string_value(json_object_get(body.execution, "id"));
    char err[256] = "";
    kt_run *run = NULL;
    if (kt_executor_create_known(ex, m, &body)) { /* a create received twice is answered twice, run once */
        kt_msg_execution_create_clear(&body);
        return;
    }
    if (!id)
        snprintf(err, sizeof err, "execution id missing");
    else
        run = kt_executor_adopt(ex, body.execution, err, sizeof err);
    if (!run) {
        kt_executor_queue_reply(ex, m, KT_EINVAL, err);
        kt_msg_execution_create_clear(&body);
        return;
    }
    kt_executor_mark_dirty(ex, run); /* the CREATED state is committed before the reply, even if START fails */
    if (body.wait) {
        snprintf(run->waiter, sizeof run->waiter, "%s", m->from);
        run->waiter_corr = m->corr;
    }
    kt_executor_admit(ex, run);
    kt_executor_queue_reply(ex, m, KT_OK, NULL);
    kt_msg_execution_create_clear(&body);
}

static void kt_executor_on_result(kt_executor *ex, const kt_msg *m)
{
    kt_msg_worker_result r;
    if (kt_msg_decode_worker_result(m->body, &r)) {
        KT_WARN("executor", "malformed WorkerResult from %s", m->from);
        return;
    }
    kt_job *j = kt_map_get(ex->jobs, r.taskrun_id);
    kt_run *run = kt_map_get(ex->runs, r.execution_id);
    if (kt_executor_result_stale(ex, j, &r)) { /* an attempt replaced, or sent under another lease (attempts.c) */
        kt_msg_worker_result_clear(&r);
        return;
    }
    if (r.taskrun) {
        /* a WorkingDirectory's child, from the worker holding its job (one that lost the job is not heard) */
        if (run && j && j->attempt == r.attempt && j->phase == KT_JOB_SENT && j->worker >= 0 &&
            !strcmp(ex->workers[j->worker].address, m->from)) {
            kt_exec_event ev = {.kind = KT_EV_WD_CHILD, .now_us = kt_now_us(), .taskrun_id = r.taskrun_id,
                                .attempt = r.attempt, .taskrun = r.taskrun};
            kt_executor_apply(ex, run, &ev);
        }
        kt_msg_worker_result_clear(&r);
        return;
    }
    if (j && j->attempt == r.attempt && j->cache_key)
        kt_executor_cache_result(ex, j, &r);
    if (j && j->attempt == r.attempt)
        kt_executor_drop_job(ex, r.taskrun_id);
    if (run) {
        kt_exec_event ev = {.kind = KT_EV_RESULT, .now_us = kt_now_us(), .taskrun_id = r.taskrun_id,
                            .attempt = r.attempt, .state = r.state, .outputs = r.outputs,
                            .started_us = r.started_us, .ended_us = r.ended_us};
        kt_executor_apply(ex, run, &ev);
    }
    kt_msg_worker_result_clear(&r);
}

/* Kill, resume, and the delays that come back as messages (retries, Pause delay and timeout). */
static void kt_executor_on_command(kt_executor *ex, const kt_msg *m)
{
    kt_msg_exec_command c;
    if (kt_msg_decode_exec_command(m->body, &c) != KT_OK) {
        KT_WARN("executor", "malformed ExecutionCommand from %s", m->from);
        return;
    }
    kt_run *run = kt_map_get(ex->runs, c.execution_id);
    kt_exec_event ev = {.now_us = kt_now_us(), .taskrun_id = *c.taskrun_id ? c.taskrun_id : NULL};
    switch (c.command) { /* every command of runtime/command.h: the compiler says when one is missing */
    case KT_CMD_SUBFLOW_CREATE:
        if (run)
            kt_executor_create_child(ex, run, c.taskrun_id, c.data);
        run = NULL;
        break;
    case KT_CMD_SUBFLOW_ENDED:
        if (run)
            kt_executor_child_ended(ex, run, c.data);
        run = NULL;
        break;
    case KT_CMD_SUBFLOW_CHECK:
        if (run)
            kt_executor_subflow_check(ex, run, c.taskrun_id, c.data);
        run = NULL;
        break;
    case KT_CMD_UNQUEUE: /* a queued execution's turn came (concurrency.c) */
        if (run)
            run->unqueue_sent = 0;
        ev.kind = KT_EV_UNQUEUE;
        break;
    case KT_CMD_KILL: ev.kind = KT_EV_KILL; break;
    case KT_CMD_RETRY: ev.kind = KT_EV_RETRY; break;
    case KT_CMD_RESUME:
        ev.kind = KT_EV_RESUME;
        ev.state = KT_S(RUNNING);
        ev.outputs = c.data;
        break;
    case KT_CMD_RESUME_FLOW: /* a timer: its data is the WaitFor iteration it was armed for, never onResume inputs */
        ev.kind = KT_EV_RESUME;
        ev.state = KT_S(RUNNING);
        if (json_is_integer(json_object_get(c.data, "iteration")))
            ev.iteration = (long)json_integer_value(json_object_get(c.data, "iteration"));
        break;
    case KT_CMD_PAUSE_TIMEOUT:
        ev.kind = KT_EV_RESUME;
        ev.state = KT_S(FAILED);
        break;
    case KT_CMD_SLA: ev.kind = KT_EV_SLA; break;
    case KT_CMD_PAUSE: ev.kind = KT_EV_PAUSE; break;
    case KT_CMD_FORCE_RUN:
        if (run)
            run->unqueue_sent = 0;
        ev.kind = KT_EV_FORCE_RUN;
        break;
    case KT_CMD_SCHEDULED: ev.kind = KT_EV_SCHEDULED; break;
    case KT_CMD_RETRY_FLOW:
        kt_executor_retry_flow(ex, c.execution_id);
        run = NULL;
        break;
    case KT_CMD_RESTART:
    case KT_CMD_REPLAY:
    case KT_CMD_MARK_AS:
    case KT_CMD_CHANGE_STATUS:
        kt_executor_manual(ex, m, &c);
        run = NULL;
        break;
    case KT_CMD_NONE:
    case KT_CMD_COUNT: KT_ASSERTF(0, "command %d decoded", (int)c.command); /* the decoder refuses those */
    }
    if (run)
        kt_executor_apply(ex, run, &ev);
    /* The kill cascades to the Subflow children unless the API said isOnKillCascade=false ({"cascade": false}),
     * also when the parent had already ended (Kestra emits the kill whatever the parent's state). */
    if (c.command == KT_CMD_KILL && !json_is_false(json_object_get(c.data, "cascade")))
        kt_executor_kill_children(ex, c.execution_id);
    kt_msg_exec_command_clear(&c);
}

static void kt_executor_receive(kt_actor *a, const kt_msg *m)
{
    kt_executor *ex = kt_actor_state(a);
    if (kt_executor_route(ex, m)) { /* its partition is not held here (leases.c) */
        ex->msg_exec[0] = 0;
        return;
    }
    switch (m->type) {
    case KT_MSG_EXECUTION_CREATE: kt_executor_on_create(ex, m); break;
    case KT_MSG_WORKER_RESULT: kt_executor_on_result(ex, m); break;
    case KT_MSG_EXEC_COMMAND: kt_executor_on_command(ex, m); break;
    case KT_MSG_TASK_ASK: kt_executor_task_ask(ex, m); break;
    case KT_MSG_LOG_BATCH: kt_executor_on_lines(ex, m); break;
    case KT_MSG_WORKER_ATTEMPTS: kt_executor_on_attempts(ex, m); break;
    default: KT_DEBUG("executor", "ignored %s from %s", kt_msg_type_name(m->type), m->from); break;
    }
    ex->msg_exec[0] = 0;
}

/* ---- lifecycle ----------------------------------------------------------------------------------- */

static void kt_executor_on_timer_closed(uv_handle_t *h)
{
    kt_executor *ex = h->data;
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(ex->runs, &pos, &key, &val))
        kt_executor_run_free(val);
    kt_map_free(ex->runs);
    pos = 0;
    while (kt_map_next(ex->flows, &pos, &key, &val)) {
        kt_flow_entry *fe = val;
        kt_flow_free(fe->flow);
        json_decref(fe->json);
        kt_tmpl_cache_free(fe->templates);
        kt_map_free(fe->tasks);
        kt_map_free(fe->error_logs);
        free(fe);
    }
    kt_map_free(ex->flows);
    /* the lists first: their dropped jobs are in no map, and the others are freed with ex->jobs just after (read
     * after that, their phase would be freed memory) */
    for (kt_job *j = ex->fresh, *n; j; j = n) {
        n = j->next;
        if (j->phase == KT_JOB_DROPPED)
            kt_executor_job_free(j);
    }
    for (kt_job *j = ex->waiting, *n; j; j = n) {
        n = j->next;
        if (j->phase == KT_JOB_DROPPED)
            kt_executor_job_free(j);
    }
    pos = 0;
    while (kt_map_next(ex->jobs, &pos, &key, &val))
        kt_executor_job_free(val);
    kt_map_free(ex->jobs);
    for (size_t i = 0; i < ex->nreplies; i++) {
        free(ex->replies[i].message);
        json_decref(ex->replies[i].data);
    }
    free(ex->replies);
    free(ex->workers);
    free(ex->timers);
    free(ex->dirty);
    json_decref(ex->logs);
    json_decref(ex->metrics);
    json_decref(ex->notices_pending);
    json_decref(ex->plugin_defaults);
    json_decref(ex->handoffs);
    json_decref(ex->peers_down);
    kt_executor_leases_free(ex);
    free(ex);
}

/* The lease timer closes first, then the doubt timer, then the retry timer, whose close frees the executor. */
static void kt_executor_on_doubt_closed(uv_handle_t *h)
{
    kt_executor *ex = h->data;
    uv_close((uv_handle_t *)&ex->retry, kt_executor_on_timer_closed);
}

static void kt_executor_on_lease_closed(uv_handle_t *h)
{
    kt_executor *ex = h->data;
    uv_close((uv_handle_t *)&ex->doubt_timer, kt_executor_on_doubt_closed);
}

static void kt_executor_stop(kt_actor *a)
{
    kt_executor *ex = kt_actor_state(a);
    ex->stopping = 1; /* the flush writes the lines it holds itself */
    kt_executor_writer_stop(ex); /* the commit in flight and this turn's made durable, then the writer closed */
    kt_executor_items_stop(ex);
    kt_executor_loop_stop(ex);
    kt_executor_leases_stop(ex);
    uv_close((uv_handle_t *)&ex->lease_timer, kt_executor_on_lease_closed);
}

static const kt_actor_ops kt_executor_ops = {
    .receive = kt_executor_receive,
    .flush = kt_executor_flush,
    .peer_up = kt_executor_peer_up,
    .peer_down = kt_executor_peer_down,
    .stop = kt_executor_stop,
};

/* Executions left unfinished by a previous process (or by the previous owner of a partition taken now): attempts
 * that were running may still run on a worker, which is asked (attempts.c); those no live worker runs are lost and
 * run again as new attempts; the rest continue where they stopped. */
void kt_executor_resume(kt_executor *ex, const unsigned char *mask)
{
    json_t *list;
    if (kt_store_executions_unfinished(ex->store, &list) != KT_OK) {
        KT_ERROR("executor", "cannot read unfinished executions: %s", kt_store_errmsg(ex->store));
        return;
    }
    size_t i;
    json_t *e, *queued = json_array(), *created = json_array();
    size_t resumed = 0;
    json_array_foreach(list, i, e) {
        char err[256];
        const char *eid = json_string_value(json_object_get(e, "id"));
        if (!eid || !mask[kt_exec_partition(eid)] || kt_map_get(ex->runs, eid))
            continue;
        resumed++;
        kt_run *run = kt_executor_adopt(ex, e, err, sizeof err);
        if (!run) {
            KT_ERROR("executor", "cannot resume execution %s: %s", json_string_value(json_object_get(e, "id")), err);
            continue;
        }
        /* its state as stored was told already, or is in a notice the scheduler replays at its start */
        snprintf(run->notified, sizeof run->notified, "%s", kt_state_current(run->execution) ? kt_state_current(run->execution) : "");
        size_t k;
        json_t *tr;
        json_t *running = json_array();
        json_array_foreach(json_object_get(run->execution, "taskRunList"), k, tr) {
            if (!kt_state_is_running(kt_state_current(tr)))
                continue;
            const json_t *task = kt_map_get(run->flow.tasks, json_string_value(json_object_get(tr, "taskId")));
            const kt_task_def *def = task ? kt_task_lookup(json_string_value(json_object_get(task, "type"))) : NULL;
            if (def && def->kind == KT_PLUGIN_EXECUTABLE) {
                kt_executor_resume_subflow(ex, run, tr);
                continue;
            }
            if (kt_executor_on_worker(run, tr)) /* flowables resolve from their children */
                json_array_append(running, json_object_get(tr, "id"));
        }
        json_array_foreach(running, k, tr) {
            if (!kt_executor_doubt(ex, run, kt_taskrun_find(run->execution, json_string_value(tr))))
                continue; /* the workers are asked first */
            kt_exec_event ev = {.kind = KT_EV_LOST, .now_us = kt_now_us(), .taskrun_id = json_string_value(tr)};
            kt_executor_apply(ex, run, &ev);
        }
        json_decref(running);
        /* Retry and Pause delays lived in the previous process's timers: taking the execution in (ADMIT, below)
         * arms them again from the stored dates (kt_start in step.c). */
        const char *cur = kt_state_current(run->execution);
        if (cur && !strcmp(cur, KT_S(QUEUED))) /* still waiting for its turn; it may have come while we were down */
            json_array_append(queued, json_object_get(run->execution, "id"));
        else if (cur && !strcmp(cur, KT_S(CREATED))) /* never taken in: admitted once every other one is known */
            json_array_append(created, json_object_get(run->execution, "id"));
        else
            kt_executor_admit(ex, run);
    }
    /* the oldest queued executions first (their turn comes before a new one's), then the ones never taken in */
    json_array_foreach(queued, i, e) {
        kt_run *run = kt_map_get(ex->runs, json_string_value(e));
        if (run)
            kt_executor_concurrency_release(ex, run->execution);
    }
    json_array_foreach(created, i, e) {
        kt_run *run = kt_map_get(ex->runs, json_string_value(e));
        if (run)
            kt_executor_admit(ex, run);
    }
    json_decref(queued);
    json_decref(created);
    kt_executor_retry_flow_recover(ex, mask);
    kt_executor_doubt_ask(ex, -1);
    if (resumed)
        KT_INFO("executor", "resumed %zu unfinished execution(s)", resumed);
    json_decref(list);
}

kt_status kt_executor_start(kt_node *node, kt_store *store, const kt_executor_options *opts, kt_executor **out)
{
    kt_render_register_functions();
    kt_executor *ex = calloc(1, sizeof *ex);
    if (!ex)
        return KT_ENOMEM;
    kt_env_init_real(&ex->seeds);
    ex->store = store;
    if (opts && opts->storage) {
        ex->storage = opts->storage;
        kt_storage_env_files(ex->storage, &ex->files);
    }
    if (opts && json_array_size(opts->plugin_defaults))
        ex->plugin_defaults = json_incref((json_t *)opts->plugin_defaults);
    ex->runs = kt_map_new();
    ex->flows = kt_map_new();
    ex->jobs = kt_map_new();
    ex->logs = json_array();
    ex->metrics = json_array();
    ex->notices_pending = json_array();
    ex->handoffs = json_array();
    ex->peers_down = json_array();
    ex->fresh_tail = &ex->fresh;
    ex->waiting_tail = &ex->waiting;
    uv_timer_init(kt_node_loop(node), &ex->retry);
    ex->retry.data = ex;
    uv_timer_init(kt_node_loop(node), &ex->lease_timer);
    ex->lease_timer.data = ex;
    kt_executor_doubt_init(ex, kt_node_loop(node));
    ex->remote_workers = opts && opts->remote_workers;
    for (int p = 0; p < KT_PARTITIONS; p++)
        ex->parts[p].parked_tail = &ex->parts[p].parked;
    kt_status st = kt_executor_writer_open(ex, node);
    if (st == KT_OK)
        st = kt_node_spawn(node, KT_EXECUTOR_ACTOR, &kt_executor_ops, ex, &ex->self);
    if (st) {
        ex->self = NULL;
        kt_db_writer_close(ex->writer);
        uv_close((uv_handle_t *)&ex->lease_timer, kt_executor_on_lease_closed);
        return st;
    }
    kt_executor_leases_start(ex, opts); /* the partitions' leases, and their executions resumed */
    kt_executor_flush(ex->self); /* commit what resuming changed; its jobs leave as soon as a worker is known */
    *out = ex;
    return KT_OK;
}

uint64_t kt_executor_commits(const kt_executor *ex) { return ex->commits; }

void kt_executor_observe(kt_executor *ex, kt_executor_observer fn, void *ud)
{
    ex->observer = fn;
    ex->observer_ud = ud;
}
