#include "actors/executor/executor.h"
#include "actors/executor/model.h"
#include "actors/executor/render.h"
#include "actors/executor/step.h"
#include "flow/expr.h"
#include "flow/flow.h"
#include "flow/inputs.h"
#include "flow/tasks.h"
#include "runtime/clock.h"
#include "runtime/id.h"
#include "runtime/log.h"
#include "runtime/map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A flow revision the executor runs: parsed once, its templates compiled once. */
typedef struct kt_flow_entry {
    kt_flow *flow;
    kt_tmpl_cache *templates;
    kt_map *tasks; /* task id -> task */
} kt_flow_entry;

typedef struct kt_run {
    json_t *execution;
    kt_exec_flow flow; /* borrowed from the flow cache */
    int dirty;
    int all_runs_dirty; /* new to this process: write every task run */
    size_t *dirty_runs; /* positions in taskRunList changed since the last commit */
    size_t ndirty_runs, capdirty_runs;
    char waiter[KT_ADDR_MAX]; /* who asked to hear about the end (API wait=true), "" if nobody */
    uint64_t waiter_corr;
} kt_run;

static void kt_run_free(kt_run *run)
{
    json_decref(run->execution);
    free(run->dirty_runs);
    free(run);
}

static void kt_run_touch(kt_run *run, size_t index)
{
    for (size_t i = 0; i < run->ndirty_runs; i++)
        if (run->dirty_runs[i] == index)
            return;
    if (run->ndirty_runs == run->capdirty_runs) {
        size_t cap = run->capdirty_runs ? run->capdirty_runs * 2 : 8;
        size_t *n = realloc(run->dirty_runs, cap * sizeof *n);
        if (!n) {
            run->all_runs_dirty = 1;
            return;
        }
        run->dirty_runs = n;
        run->capdirty_runs = cap;
    }
    run->dirty_runs[run->ndirty_runs++] = index;
}

typedef enum kt_job_phase { KT_JOB_FRESH, KT_JOB_WAITING, KT_JOB_SENT } kt_job_phase;

/* One task attempt handed (or to be handed) to a worker. Keyed by taskrun id in ex->jobs. */
typedef struct kt_job {
    char execution_id[KT_ID_LEN + 1];
    char taskrun_id[KT_ID_LEN + 1];
    uint32_t attempt;
    json_t *task; /* rendered */
    json_t *run;
    kt_job_phase phase;
    int worker; /* index in ex->workers when SENT */
    struct kt_job *next; /* FRESH / WAITING lists */
} kt_job;

typedef struct kt_worker_ref {
    char address[KT_ADDR_MAX];
    char node_id[64];
    uint32_t slots, inflight;
    int alive;
} kt_worker_ref;

typedef struct kt_pending_reply {
    char to[KT_ADDR_MAX];
    uint64_t corr;
    kt_status status;
    char *message;
} kt_pending_reply;

struct kt_executor {
    kt_actor *self;
    kt_store *store;
    kt_map *runs;  /* execution id -> kt_run */
    kt_map *flows; /* "ns\x1fid\x1frev" -> kt_flow */
    kt_map *jobs;  /* taskrun id -> kt_job */
    kt_job *fresh, **fresh_tail;     /* created this turn: sent only after the commit */
    kt_job *waiting, **waiting_tail; /* committed, waiting for a free worker slot */
    kt_worker_ref *workers;
    size_t nworkers;
    kt_pending_reply *replies;
    size_t nreplies, capreplies;
    json_t *logs;
    kt_run **dirty;
    size_t ndirty, capdirty;
    uv_timer_t retry;
    uint64_t commits;
    kt_executor_observer observer;
    void *observer_ud;
    /* delays produced this turn (retries): armed only once their transition is committed */
    struct kt_pending_timer {
        char execution_id[KT_ID_LEN + 1];
        char taskrun_id[32];
        char command[16];
        int64_t at_us;
    } *timers;
    size_t ntimers, captimers;
};

static void kt_executor_idgen(char *out) { kt_id_new(out); }

/* ---- flows --------------------------------------------------------------------------------------- */

static kt_flow_entry *kt_executor_flow(kt_executor *ex, const char *ns, const char *id, int rev)
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
    kt_status st = kt_flow_parse(row.source, strlen(row.source), "flow", &f, &d);
    if (st) {
        char *msg = kt_diags_format(&d);
        KT_ERROR("executor", "flow %s.%s revision %d no longer parses: %s", ns, id, rev, msg ? msg : "?");
        free(msg);
    }
    kt_diags_clear(&d);
    kt_flow_row_clear(&row);
    if (st)
        return NULL;
    fe = calloc(1, sizeof *fe);
    if (!fe) {
        kt_flow_free(f);
        return NULL;
    }
    fe->flow = f;
    fe->templates = kt_tmpl_cache_new();
    fe->tasks = kt_exec_index_tasks(kt_flow_json(f));
    kt_map_put(ex->flows, key, fe, NULL);
    return fe;
}

/* ---- logs ---------------------------------------------------------------------------------------- */

static void kt_executor_log(kt_executor *ex, const json_t *execution, const json_t *tr, uint32_t attempt,
                            const char *level, const char *message)
{
    char ts[48];
    int64_t now = kt_now_us();
    kt_time_format(now - now % 1000, ts, sizeof ts); /* milliseconds, as Kestra stores log timestamps */
    json_array_append_new(
        ex->logs, json_pack("{s:O, s:O, s:O?, s:O, s:O?, s:i, s:s, s:s, s:s, s:s, s:b}", "namespace",
                            json_object_get(execution, "namespace"), "flowId", json_object_get(execution, "flowId"),
                            "taskId", json_object_get(tr, "taskId"), "executionId", json_object_get(execution, "id"),
                            "taskRunId", json_object_get(tr, "id"), "attemptNumber", (int)attempt, "timestamp", ts,
                            "level", level, "thread", "executor", "message", message, "deleted", 0));
}

/* ---- transitions --------------------------------------------------------------------------------- */

static void kt_executor_mark_dirty(kt_executor *ex, kt_run *run)
{
    if (run->dirty)
        return;
    if (ex->ndirty == ex->capdirty) {
        size_t cap = ex->capdirty ? ex->capdirty * 2 : 64;
        kt_run **n = realloc(ex->dirty, cap * sizeof *n);
        if (!n) {
            KT_ERROR("executor", "out of memory tracking dirty executions");
            return;
        }
        ex->dirty = n;
        ex->capdirty = cap;
    }
    ex->dirty[ex->ndirty++] = run;
    run->dirty = 1;
}

static void kt_job_free(kt_job *j)
{
    json_decref(j->task);
    json_decref(j->run);
    free(j);
}

static void kt_executor_drop_job(kt_executor *ex, const char *taskrun_id)
{
    kt_job *j = kt_map_del(ex->jobs, taskrun_id);
    if (!j)
        return;
    if (j->phase == KT_JOB_SENT) {
        if (j->worker >= 0 && (size_t)j->worker < ex->nworkers && ex->workers[j->worker].inflight)
            ex->workers[j->worker].inflight--;
        kt_job_free(j);
        return;
    }
    /* FRESH or WAITING: it is still linked in a list; mark it so the list walk frees it. */
    j->phase = KT_JOB_SENT;
    j->worker = -2;
}

/* errorLogs() (KESTRA-expressions.md): the execution's ERROR logs, oldest first, at most 25, for a task that uses the
 * function; written ones from the store, this turn's from memory. NULL when the task does not use it. */
static json_t *kt_executor_error_logs_for(kt_executor *ex, kt_run *run, const json_t *task)
{
    char *text = task ? json_dumps(task, JSON_COMPACT) : NULL;
    int uses = text && strstr(text, "errorLogs");
    free(text);
    if (!uses)
        return NULL;
    const char *eid = json_string_value(json_object_get(run->execution, "id"));
    kt_log_filter f = {.min_level = "ERROR", .attempt = -1};
    json_t *logs = NULL;
    if (kt_store_logs_get(ex->store, eid, &f, &logs) != KT_OK)
        logs = json_array();
    size_t i;
    json_t *l;
    json_array_foreach(ex->logs, i, l) {
        const char *lid = json_string_value(json_object_get(l, "executionId"));
        const char *lvl = json_string_value(json_object_get(l, "level"));
        if (lid && lvl && !strcmp(lid, eid) && !strcmp(lvl, "ERROR"))
            json_array_append(logs, l);
    }
    while (json_array_size(logs) > 25)
        json_array_remove(logs, json_array_size(logs) - 1);
    json_t *extra = json_object();
    json_object_set_new(extra, KT_RENDER_ERROR_LOGS, logs);
    return extra;
}

static void kt_executor_apply(kt_executor *ex, kt_run *run, const kt_exec_event *ev);
static void kt_executor_prepare_job(kt_executor *ex, kt_run *run, const kt_exec_dispatch *d);

/* Renders the task for a dispatch and queues the job; a render error fails the attempt right away, as
 * Kestra's worker does when a property does not render. */
static void kt_executor_prepare_job(kt_executor *ex, kt_run *run, const kt_exec_dispatch *d)
{
    json_t *tr = kt_taskrun_find(run->execution, d->taskrun_id);
    const json_t *task = run->flow.tasks ? kt_map_get(run->flow.tasks, d->task_id) : kt_exec_find_task(run->flow.flow, d->task_id);
    char err[1024] = "";
    json_t *extra = kt_executor_error_logs_for(ex, run, task);
    json_t *rendered = task ? kt_render_task_with(run->flow.flow, run->flow.templates, run->execution, task, tr, extra,
                                                  err, sizeof err)
                            : NULL;
    json_decref(extra);
    if (!rendered) {
        if (!task)
            snprintf(err, sizeof err, "task '%s' is not in flow revision", d->task_id);
        kt_executor_log(ex, run->execution, tr, d->attempt, "ERROR", err);
        int64_t now = kt_now_us();
        kt_exec_event fail = {.kind = KT_EV_RESULT, .now_us = now, .taskrun_id = d->taskrun_id, .attempt = d->attempt,
                              .state = "FAILED", .started_us = now, .ended_us = now};
        char trid[KT_ID_LEN + 1];
        snprintf(trid, sizeof trid, "%s", d->taskrun_id); /* d points into the execution we are about to change */
        fail.taskrun_id = trid;
        kt_executor_apply(ex, run, &fail);
        return;
    }
    kt_executor_drop_job(ex, d->taskrun_id); /* a previous attempt's job, if any */
    kt_job *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(rendered);
        return;
    }
    snprintf(j->execution_id, sizeof j->execution_id, "%s", json_string_value(json_object_get(run->execution, "id")));
    snprintf(j->taskrun_id, sizeof j->taskrun_id, "%s", d->taskrun_id);
    j->attempt = d->attempt;
    j->task = rendered;
    j->run = json_pack("{s:O, s:O, s:s, s:O, s:s}", "namespace", json_object_get(run->execution, "namespace"),
                       "flowId", json_object_get(run->execution, "flowId"), "taskId", d->task_id, "executionId",
                       json_object_get(run->execution, "id"), "taskRunId", d->taskrun_id);
    j->phase = KT_JOB_FRESH;
    j->worker = -1;
    kt_map_put(ex->jobs, j->taskrun_id, j, NULL);
    *ex->fresh_tail = j;
    ex->fresh_tail = &j->next;
}

/* A killed execution: the workers running its attempts stop them; attempts not sent yet are dropped. */
static void kt_executor_kill_jobs(kt_executor *ex, const char *execution_id)
{
    size_t pos = 0, n = 0;
    const char *key;
    void *val;
    char (*ids)[KT_ID_LEN + 1] = calloc(kt_map_size(ex->jobs) + 1, sizeof *ids);
    if (!ids)
        return;
    while (kt_map_next(ex->jobs, &pos, &key, &val)) {
        kt_job *j = val;
        if (strcmp(j->execution_id, execution_id))
            continue;
        if (j->phase == KT_JOB_SENT && j->worker >= 0 && (size_t)j->worker < ex->nworkers) {
            kt_outmsg o;
            const char *to = ex->workers[j->worker].address;
            kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, to, kt_actor_address(ex->self), 0);
            kt_msg_exec_command body = {.execution_id = j->execution_id, .taskrun_id = j->taskrun_id, .command = "KILL"};
            kt_msg_encode_exec_command(&o, &body);
            kt_node_send(kt_actor_node(ex->self), to, &o);
        }
        memcpy(ids[n++], j->taskrun_id, sizeof ids[0]);
    }
    for (size_t i = 0; i < n; i++)
        kt_executor_drop_job(ex, ids[i]);
    free(ids);
}

/* After a step that could not list all its dispatches: every RUNNING attempt of a runnable task without a job. */
static void kt_executor_rescan(kt_executor *ex, kt_run *run)
{
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(run->execution, "taskRunList"), i, tr) {
        const char *id = json_string_value(json_object_get(tr, "id"));
        size_t n = kt_taskrun_attempts(tr);
        kt_job *j = kt_map_get(ex->jobs, id);
        if (!n || !kt_state_is_running(kt_state_current(tr)) || (j && j->attempt == n - 1))
            continue;
        kt_exec_dispatch d = {.taskrun_id = id, .task_id = json_string_value(json_object_get(tr, "taskId")),
                              .attempt = (uint32_t)(n - 1)};
        kt_executor_prepare_job(ex, run, &d);
    }
}

static void kt_executor_apply(kt_executor *ex, kt_run *run, const kt_exec_event *ev)
{
    kt_exec_effects fx;
    kt_status st = kt_exec_step(&run->flow, run->execution, ev, kt_executor_idgen, &fx);
    if (st) {
        KT_WARN("executor", "execution %s: event %d not applied: %s",
                json_string_value(json_object_get(run->execution, "id")), ev->kind, kt_strerror(st));
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
    for (size_t i = 0; i < fx.ntimers; i++) {
        if (ex->ntimers == ex->captimers) {
            size_t cap = ex->captimers ? ex->captimers * 2 : 16;
            struct kt_pending_timer *n = realloc(ex->timers, cap * sizeof *n);
            if (!n)
                break;
            ex->timers = n;
            ex->captimers = cap;
        }
        struct kt_pending_timer *t = &ex->timers[ex->ntimers++];
        snprintf(t->execution_id, sizeof t->execution_id, "%s", json_string_value(json_object_get(run->execution, "id")));
        snprintf(t->taskrun_id, sizeof t->taskrun_id, "%s", fx.timers[i].taskrun_id);
        snprintf(t->command, sizeof t->command, "%s", fx.timers[i].command);
        t->at_us = fx.timers[i].at_us;
    }
    if (fx.killed)
        kt_executor_kill_jobs(ex, json_string_value(json_object_get(run->execution, "id")));
    /* Children are created on the next drain pass, after this transition's commit. */
    for (size_t i = 0; i < fx.nsubflows; i++) {
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, kt_actor_address(ex->self), kt_actor_address(ex->self), 0);
        kt_msg_exec_command body = {.execution_id = (char *)json_string_value(json_object_get(run->execution, "id")),
                                    .taskrun_id = fx.subflows[i].taskrun_id, .command = "SUBFLOW_CREATE",
                                    .data = fx.subflows[i].spec};
        kt_msg_encode_exec_command(&o, &body);
        kt_node_send(kt_actor_node(ex->self), kt_actor_address(ex->self), &o);
        json_decref(fx.subflows[i].spec);
    }
    for (size_t i = 0; i < fx.ndispatch; i++)
        kt_executor_prepare_job(ex, run, &fx.dispatch[i]);
    if (fx.dispatch_overflow)
        kt_executor_rescan(ex, run);
}

static kt_run *kt_executor_adopt(kt_executor *ex, json_t *execution, char *err, size_t errcap)
{
    const char *ns = json_string_value(json_object_get(execution, "namespace"));
    const char *fid = json_string_value(json_object_get(execution, "flowId"));
    json_int_t rev = json_integer_value(json_object_get(execution, "flowRevision"));
    const char *id = json_string_value(json_object_get(execution, "id"));
    if (!ns || !fid || !id || rev < 1) {
        snprintf(err, errcap, "execution without id, namespace, flowId or flowRevision");
        return NULL;
    }
    kt_flow_entry *flow = kt_executor_flow(ex, ns, fid, (int)rev);
    if (!flow) {
        snprintf(err, errcap, "Unable to find revision %d on flow %s.%s", (int)rev, ns, fid);
        return NULL;
    }
    kt_run *run = calloc(1, sizeof *run);
    if (!run)
        return NULL;
    run->execution = json_incref(execution);
    run->flow.flow = kt_flow_json(flow->flow);
    run->flow.templates = flow->templates;
    run->flow.tasks = flow->tasks;
    run->all_runs_dirty = 1;
    kt_map_put(ex->runs, id, run, NULL);
    return run;
}

/* ---- sending (after the commit) ------------------------------------------------------------------ */

static int kt_executor_pick_worker(kt_executor *ex)
{
    int best = -1;
    for (size_t i = 0; i < ex->nworkers; i++) {
        kt_worker_ref *w = &ex->workers[i];
        if (!w->alive || w->inflight >= w->slots)
            continue;
        if (best < 0 || w->inflight * ex->workers[best].slots < ex->workers[best].inflight * w->slots)
            best = (int)i;
    }
    return best;
}

static void kt_executor_pump(kt_executor *ex)
{
    while (ex->waiting) {
        kt_job *j = ex->waiting;
        if (j->worker == -2) { /* dropped while waiting */
            ex->waiting = j->next;
            kt_job_free(j);
            continue;
        }
        int w = kt_executor_pick_worker(ex);
        if (w < 0)
            break;
        ex->waiting = j->next;
        j->next = NULL;
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_WORKER_JOB, ex->workers[w].address, kt_actor_address(ex->self), 0);
        kt_msg_worker_job body = {.execution_id = j->execution_id, .taskrun_id = j->taskrun_id,
                                  .attempt = j->attempt, .task = j->task, .run = j->run};
        kt_msg_encode_worker_job(&o, &body);
        kt_status st = kt_node_send(kt_actor_node(ex->self), ex->workers[w].address, &o);
        j->phase = KT_JOB_SENT;
        j->worker = w;
        ex->workers[w].inflight++;
        if (st)
            KT_WARN("executor", "job %s for %s not sent: %s (resubmitted when the worker is declared dead)",
                    j->taskrun_id, ex->workers[w].address, kt_strerror(st));
    }
    if (!ex->waiting)
        ex->waiting_tail = &ex->waiting;
}

static void kt_executor_send_replies(kt_executor *ex)
{
    for (size_t i = 0; i < ex->nreplies; i++) {
        kt_pending_reply *r = &ex->replies[i];
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_REPLY, r->to, kt_actor_address(ex->self), r->corr);
        kt_msg_reply body = {.status = (uint32_t)r->status, .message = r->message};
        kt_msg_encode_reply(&o, &body);
        kt_node_send(kt_actor_node(ex->self), r->to, &o);
        free(r->message);
    }
    ex->nreplies = 0;
}

/* Delays become messages to ourselves (kt_node_send_after): the loop's timers, not a polling thread. */
static void kt_executor_arm_timers(kt_executor *ex)
{
    int64_t now = kt_now_us();
    for (size_t i = 0; i < ex->ntimers; i++) {
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, kt_actor_address(ex->self), kt_actor_address(ex->self), 0);
        kt_msg_exec_command body = {.execution_id = ex->timers[i].execution_id, .taskrun_id = ex->timers[i].taskrun_id,
                                    .command = ex->timers[i].command};
        kt_msg_encode_exec_command(&o, &body);
        int64_t delay = ex->timers[i].at_us > now ? (ex->timers[i].at_us - now + 999) / 1000 : 0;
        kt_node_send_after(kt_actor_node(ex->self), kt_actor_address(ex->self), &o, (uint64_t)delay);
    }
    ex->ntimers = 0;
}

static void kt_executor_queue_reply(kt_executor *ex, const kt_msg *m, kt_status st, const char *message)
{
    if (ex->nreplies == ex->capreplies) {
        size_t cap = ex->capreplies ? ex->capreplies * 2 : 16;
        kt_pending_reply *n = realloc(ex->replies, cap * sizeof *n);
        if (!n)
            return;
        ex->replies = n;
        ex->capreplies = cap;
    }
    kt_pending_reply *r = &ex->replies[ex->nreplies++];
    snprintf(r->to, sizeof r->to, "%s", m->from);
    r->corr = m->corr;
    r->status = st;
    r->message = message ? strdup(message) : NULL;
}

static void kt_executor_notify_parent(kt_executor *ex, const json_t *child);

/* ---- the turn ------------------------------------------------------------------------------------ */

static void kt_executor_on_retry(uv_timer_t *t);

static void kt_executor_flush(kt_actor *a)
{
    kt_executor *ex = kt_actor_state(a);
    if (!ex->ndirty && !json_array_size(ex->logs) && !ex->fresh && !ex->nreplies) {
        kt_executor_pump(ex);
        return;
    }
    if (ex->ndirty || json_array_size(ex->logs)) {
        kt_status st = kt_store_begin(ex->store);
        for (size_t i = 0; st == KT_OK && i < ex->ndirty; i++)
            st = kt_store_execution_put(ex->store, ex->dirty[i]->execution,
                                        ex->dirty[i]->all_runs_dirty ? NULL : ex->dirty[i]->dirty_runs,
                                        ex->dirty[i]->ndirty_runs);
        if (st == KT_OK && json_array_size(ex->logs))
            st = kt_store_logs_append(ex->store, ex->logs);
        if (st == KT_OK)
            st = kt_store_commit(ex->store);
        else
            kt_store_rollback(ex->store);
        if (st) {
            /* Nothing is sent: the effects wait until their transitions are durable. */
            KT_ERROR("executor", "commit failed (%s: %s); retrying", kt_strerror(st), kt_store_errmsg(ex->store));
            uv_timer_start(&ex->retry, kt_executor_on_retry, 100, 0);
            return;
        }
        ex->commits++;
        json_array_clear(ex->logs);
    }
    for (size_t i = 0; i < ex->ndirty; i++) {
        kt_run *run = ex->dirty[i];
        run->dirty = 0;
        run->all_runs_dirty = 0;
        run->ndirty_runs = 0;
        if (kt_state_is_terminated(kt_state_current(run->execution))) {
            if (ex->observer)
                ex->observer(ex->observer_ud, run->execution);
            kt_executor_notify_parent(ex, run->execution);
            if (run->waiter[0]) {
                kt_outmsg o;
                kt_outmsg_begin(&o, KT_MSG_REPLY, run->waiter, kt_actor_address(ex->self), run->waiter_corr);
                kt_msg_reply body = {.status = KT_OK, .data = run->execution};
                kt_msg_encode_reply(&o, &body);
                kt_node_send(kt_actor_node(ex->self), run->waiter, &o);
            }
            kt_map_del(ex->runs, json_string_value(json_object_get(run->execution, "id")));
            kt_run_free(run);
        }
    }
    ex->ndirty = 0;
    /* Committed: the jobs of this turn may leave. */
    *ex->waiting_tail = ex->fresh;
    if (ex->fresh) {
        ex->waiting_tail = ex->fresh_tail;
        for (kt_job *j = ex->fresh; j; j = j->next)
            if (j->phase == KT_JOB_FRESH)
                j->phase = KT_JOB_WAITING;
    }
    ex->fresh = NULL;
    ex->fresh_tail = &ex->fresh;
    kt_executor_send_replies(ex);
    kt_executor_arm_timers(ex);
    kt_executor_pump(ex);
}

static void kt_executor_on_retry(uv_timer_t *t)
{
    kt_executor *ex = t->data;
    kt_executor_flush(ex->self);
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
    if (!id || kt_map_get(ex->runs, id))
        snprintf(err, sizeof err, "execution id missing or already running");
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
    kt_exec_event ev = {.kind = KT_EV_START, .now_us = kt_now_us()};
    kt_executor_apply(ex, run, &ev);
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
    if (j && j->attempt == r.attempt)
        kt_executor_drop_job(ex, r.taskrun_id);
    kt_run *run = kt_map_get(ex->runs, r.execution_id);
    if (run) {
        kt_exec_event ev = {.kind = KT_EV_RESULT, .now_us = kt_now_us(), .taskrun_id = r.taskrun_id,
                            .attempt = r.attempt, .state = r.state, .outputs = r.outputs,
                            .started_us = r.started_us, .ended_us = r.ended_us};
        kt_executor_apply(ex, run, &ev);
    }
    kt_msg_worker_result_clear(&r);
}

/* A child execution started by a Subflow task ended: tell the parent (as a message, so the parent's transition has
 * a drain pass and a commit of its own). */
static void kt_executor_notify_parent(kt_executor *ex, const json_t *child)
{
    const json_t *trig = json_object_get(child, "trigger");
    const char *type = json_string_value(json_object_get(trig, "type"));
    const char *parent = json_string_value(json_object_get(json_object_get(trig, "variables"), "executionId"));
    if (!parent || !type || strcmp(kt_task_canonical_type(type), "io.kestra.plugin.core.flow.Subflow"))
        return;
    json_t *data = json_pack("{s:O, s:O}", "executionId", json_object_get(child, "id"), "state",
                             json_object_get(json_object_get(child, "state"), "current"));
    if (json_object_get(child, "outputs")) {
        json_object_set(data, "outputs", json_object_get(child, "outputs"));
    } else {
        /* No flow outputs: the Subflow task's (deprecated) `outputs` map, rendered in the child's context. */
        kt_run *prun = kt_map_get(ex->runs, parent);
        kt_run *crun = kt_map_get(ex->runs, json_string_value(json_object_get(child, "id")));
        const json_t *task = NULL;
        size_t i;
        json_t *tr;
        json_array_foreach(prun ? json_object_get(prun->execution, "taskRunList") : NULL, i, tr) {
            const char *eid = json_string_value(json_object_get(json_object_get(tr, "outputs"), "executionId"));
            if (eid && !strcmp(eid, json_string_value(json_object_get(child, "id"))))
                task = kt_map_get(prun->flow.tasks, json_string_value(json_object_get(tr, "taskId")));
        }
        json_t *spec = json_object_get(task, "outputs");
        if (spec && crun) {
            json_t *ctx = kt_render_context(crun->flow.flow, child, NULL, NULL), *out = NULL;
            kt_expr_error e = {0};
            if (kt_expr_render_json_cached(crun->flow.templates, spec, ctx, &out, &e) == KT_OK)
                json_object_set_new(data, "outputs", out);
            else
                json_object_set_new(data, "outputsError", json_string(e.message));
            json_decref(ctx);
        }
    }
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, kt_actor_address(ex->self), kt_actor_address(ex->self), 0);
    kt_msg_exec_command body = {.execution_id = (char *)parent, .taskrun_id = "", .command = "SUBFLOW_ENDED",
                                .data = data};
    kt_msg_encode_exec_command(&o, &body);
    kt_node_send(kt_actor_node(ex->self), kt_actor_address(ex->self), &o);
    json_decref(data);
}

static void kt_executor_subflow_result(kt_executor *ex, kt_run *run, const char *taskrun_id, const char *state,
                                       json_t *outputs)
{
    kt_exec_event ev = {.kind = KT_EV_SUBFLOW, .now_us = kt_now_us(), .taskrun_id = taskrun_id, .state = state,
                        .outputs = outputs};
    kt_executor_apply(ex, run, &ev);
}

/* Subflow (KESTRA-execution.md §2.16): the child execution of a parent's Subflow run. */
static void kt_executor_create_child(kt_executor *ex, kt_run *parent, const char *taskrun_id, const json_t *spec)
{
    const char *ns = json_string_value(json_object_get(spec, "namespace"));
    const char *fid = json_string_value(json_object_get(spec, "flowId"));
    json_t *revj = json_object_get(spec, "revision");
    int rev = json_is_integer(revj) ? (int)json_integer_value(revj) : json_is_string(revj) ? atoi(json_string_value(revj)) : 0;
    json_t *tr = kt_taskrun_find(parent->execution, taskrun_id);
    char err[1024] = "";
    kt_flow_row row;
    kt_flow_entry *fe = NULL;
    json_t *inputs = NULL, *labels = NULL, *child = NULL;
    kt_diags d;
    kt_diags_init(&d);
    if (!ns || !fid || kt_store_flow_get(ex->store, ns, fid, rev, &row) != KT_OK) {
        snprintf(err, sizeof err, "Unable to find flow '%s'.'%s' with revision '%d'", ns ? ns : "", fid ? fid : "", rev);
        goto fail;
    }
    int actual = row.revision;
    kt_flow_row_clear(&row);
    fe = kt_executor_flow(ex, ns, fid, actual);
    if (!fe) {
        snprintf(err, sizeof err, "Cannot execute an invalid flow: %s.%s", ns, fid);
        goto fail;
    }
    if (kt_flow_disabled(fe->flow)) {
        snprintf(err, sizeof err, "Cannot execute a flow which is disabled");
        goto fail;
    }
    json_t *raw = json_object_get(spec, "inputs");
    if (kt_inputs_resolve(kt_flow_inputs(fe->flow), json_is_object(raw) ? raw : NULL, &inputs, &d) != KT_OK) {
        snprintf(err, sizeof err, "%s", d.count ? d.items[0].message : "invalid inputs");
        goto fail;
    }
    /* labels: the parent's system.* ones (or all with inheritLabels), then the task's */
    labels = json_array();
    int inherit = json_is_true(json_object_get(spec, "inheritLabels"));
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(parent->execution, "labels"), i, l) {
        const char *k = json_string_value(json_object_get(l, "key"));
        if (k && (inherit || !strncmp(k, "system.", 7)))
            json_array_append(labels, l);
    }
    json_t *own = kt_labels_normalize(json_object_get(spec, "labels"), err, sizeof err);
    if (!own)
        goto fail;
    json_array_extend(labels, own);
    json_decref(own);
    char cid[KT_ID_LEN + 1];
    kt_id_new(cid);
    child = kt_execution_new(cid, ns, fid, actual, inputs, json_object_get(kt_flow_json(fe->flow), "labels"), labels,
                             kt_now_us());
    json_object_set_new(child, "trigger",
                        json_pack("{s:O, s:O, s:{s:O, s:O, s:O, s:O}}", "id", json_object_get(spec, "taskId"), "type",
                                  json_object_get(spec, "taskType"), "variables", "executionId",
                                  json_object_get(parent->execution, "id"), "namespace",
                                  json_object_get(parent->execution, "namespace"), "flowId",
                                  json_object_get(parent->execution, "flowId"), "flowRevision",
                                  json_object_get(parent->execution, "flowRevision")));
    kt_run *crun = kt_executor_adopt(ex, child, err, sizeof err);
    if (!crun)
        goto fail;
    kt_executor_mark_dirty(ex, crun);
    kt_exec_event start = {.kind = KT_EV_START, .now_us = kt_now_us()};
    kt_executor_apply(ex, crun, &start);
    char msg[512];
    snprintf(msg, sizeof msg, "Created new execution [[link execution=\"%s\" flowId=\"%s\" namespace=\"%s\"]]", cid,
             fid, ns);
    kt_executor_log(ex, parent->execution, tr, 0, "INFO", msg);
    int wait = !json_is_false(json_object_get(spec, "wait"));
    json_t *out = json_pack("{s:s}", "executionId", cid);
    if (!wait)
        json_object_set_new(out, "state", json_string("CREATED"));
    kt_executor_subflow_result(ex, parent, taskrun_id, wait ? "RUNNING" : "SUCCESS", out);
    json_decref(out);
    goto done;
fail:
    kt_executor_log(ex, parent->execution, tr, 0, "ERROR", err);
    kt_executor_subflow_result(ex, parent, taskrun_id, "FAILED", NULL);
done:
    kt_diags_clear(&d);
    json_decref(inputs);
    json_decref(labels);
    json_decref(child);
}

/* The parent's Subflow run waiting for this child: the RUNNING one whose outputs name it. */
static void kt_executor_child_ended(kt_executor *ex, kt_run *parent, const json_t *data)
{
    const char *cid = json_string_value(json_object_get(data, "executionId"));
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(parent->execution, "taskRunList"), i, tr) {
        const char *eid = json_string_value(json_object_get(json_object_get(tr, "outputs"), "executionId"));
        if (!cid || !eid || strcmp(eid, cid) || !kt_state_is_running(kt_state_current(tr)))
            continue;
        const char *oerr = json_string_value(json_object_get(data, "outputsError"));
        if (oerr) {
            char msg[700];
            snprintf(msg, sizeof msg, "Failed to extract outputs with the error: '%s'", oerr);
            kt_executor_log(ex, parent->execution, tr, 0, "WARN", msg);
        }
        json_t *outputs = json_pack("{s:O, s:O}", "executionId", json_object_get(data, "executionId"), "state",
                                    json_object_get(data, "state"));
        json_object_set_new(outputs, "outputs",
                            json_object_get(data, "outputs") ? json_incref(json_object_get(data, "outputs")) : json_object());
        char trid[64];
        snprintf(trid, sizeof trid, "%s", json_string_value(json_object_get(tr, "id")));
        kt_executor_subflow_result(ex, parent, trid, oerr ? "FAILED" : json_string_value(json_object_get(data, "state")),
                                   outputs);
        json_decref(outputs);
        return;
    }
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
    int known = 1;
    if (!strcmp(c.command, "SUBFLOW_CREATE") || !strcmp(c.command, "SUBFLOW_ENDED")) {
        if (run && !strcmp(c.command, "SUBFLOW_CREATE"))
            kt_executor_create_child(ex, run, c.taskrun_id, c.data);
        else if (run)
            kt_executor_child_ended(ex, run, c.data);
        kt_msg_exec_command_clear(&c);
        return;
    }
    if (!strcmp(c.command, "KILL")) {
        ev.kind = KT_EV_KILL;
    } else if (!strcmp(c.command, "RETRY")) {
        ev.kind = KT_EV_RETRY;
    } else if (!strcmp(c.command, "RESUME") || !strcmp(c.command, "RESUME_FLOW")) {
        ev.kind = KT_EV_RESUME;
        ev.state = "RUNNING";
        ev.outputs = c.data;
    } else if (!strcmp(c.command, "PAUSE_TIMEOUT")) {
        ev.kind = KT_EV_RESUME;
        ev.state = "FAILED";
    } else {
        known = 0;
        KT_WARN("executor", "unknown command %s from %s", c.command, m->from);
    }
    if (known && run)
        kt_executor_apply(ex, run, &ev);
    kt_msg_exec_command_clear(&c);
}

static void kt_executor_receive(kt_actor *a, const kt_msg *m)
{
    kt_executor *ex = kt_actor_state(a);
    switch (m->type) {
    case KT_MSG_EXECUTION_CREATE: kt_executor_on_create(ex, m); break;
    case KT_MSG_WORKER_RESULT: kt_executor_on_result(ex, m); break;
    case KT_MSG_EXEC_COMMAND: kt_executor_on_command(ex, m); break;
    case KT_MSG_LOG_BATCH: {
        kt_msg_log_batch b;
        if (kt_msg_decode_log_batch(m->body, &b) == KT_OK) {
            json_array_extend(ex->logs, b.entries);
            kt_msg_log_batch_clear(&b);
        }
        break;
    }
    default: KT_DEBUG("executor", "ignored %s from %s", kt_msg_type_name(m->type), m->from); break;
    }
}

/* ---- workers come and go ------------------------------------------------------------------------- */

void kt_executor_add_worker(kt_executor *ex, const char *address, const char *node_id, uint32_t slots)
{
    kt_worker_ref *w = NULL;
    for (size_t i = 0; i < ex->nworkers; i++)
        if (!strcmp(ex->workers[i].address, address))
            w = &ex->workers[i];
    if (!w) {
        kt_worker_ref *n = realloc(ex->workers, (ex->nworkers + 1) * sizeof *n);
        if (!n)
            return;
        ex->workers = n;
        w = &ex->workers[ex->nworkers++];
        memset(w, 0, sizeof *w);
    }
    snprintf(w->address, sizeof w->address, "%s", address);
    snprintf(w->node_id, sizeof w->node_id, "%s", node_id);
    w->slots = slots ? slots : 1;
    w->alive = 1;
    kt_executor_pump(ex);
}

static void kt_executor_peer_up(kt_actor *a, const kt_peer_info *p)
{
    kt_executor *ex = kt_actor_state(a);
    const char *s = p->actors;
    int has_worker = 0;
    for (const char *q = s; (q = strstr(q, "worker"));) {
        if ((q == s || q[-1] == ',') && (q[6] == 0 || q[6] == ','))
            has_worker = 1;
        q += 6;
    }
    if (!has_worker)
        return;
    char addr[KT_ADDR_MAX];
    snprintf(addr, sizeof addr, "worker@%s", p->node_id);
    kt_executor_add_worker(ex, addr, p->node_id, p->slots);
}

static void kt_executor_peer_down(kt_actor *a, const char *node_id)
{
    kt_executor *ex = kt_actor_state(a);
    int idx = -1;
    for (size_t i = 0; i < ex->nworkers; i++)
        if (!strcmp(ex->workers[i].node_id, node_id)) {
            ex->workers[i].alive = 0;
            ex->workers[i].inflight = 0;
            idx = (int)i;
        }
    if (idx < 0)
        return;
    /* Every attempt that worker held runs again elsewhere (Kestra resubmits a dead worker's tasks). */
    size_t pos = 0;
    const char *key;
    void *val;
    char (*lost)[KT_ID_LEN + 1] = NULL;
    char (*lost_ex)[KT_ID_LEN + 1] = NULL;
    size_t nlost = 0;
    while (kt_map_next(ex->jobs, &pos, &key, &val)) {
        kt_job *j = val;
        if (j->phase != KT_JOB_SENT || j->worker != idx)
            continue;
        lost = realloc(lost, (nlost + 1) * sizeof *lost);
        lost_ex = realloc(lost_ex, (nlost + 1) * sizeof *lost_ex);
        memcpy(lost[nlost], j->taskrun_id, sizeof lost[nlost]);
        memcpy(lost_ex[nlost], j->execution_id, sizeof lost_ex[nlost]);
        nlost++;
    }
    for (size_t i = 0; i < nlost; i++) {
        kt_run *run = kt_map_get(ex->runs, lost_ex[i]);
        KT_WARN("executor", "task run %s was on dead worker %s: resubmitted as a new attempt", lost[i], node_id);
        kt_executor_drop_job(ex, lost[i]);
        if (run) {
            kt_exec_event ev = {.kind = KT_EV_LOST, .now_us = kt_now_us(), .taskrun_id = lost[i]};
            kt_executor_apply(ex, run, &ev);
        }
    }
    free(lost);
    free(lost_ex);
    kt_executor_flush(a);
}

/* ---- lifecycle ----------------------------------------------------------------------------------- */

static void kt_executor_on_timer_closed(uv_handle_t *h)
{
    kt_executor *ex = h->data;
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(ex->runs, &pos, &key, &val))
        kt_run_free(val);
    kt_map_free(ex->runs);
    pos = 0;
    while (kt_map_next(ex->flows, &pos, &key, &val)) {
        kt_flow_entry *fe = val;
        kt_flow_free(fe->flow);
        kt_tmpl_cache_free(fe->templates);
        kt_map_free(fe->tasks);
        free(fe);
    }
    kt_map_free(ex->flows);
    pos = 0;
    while (kt_map_next(ex->jobs, &pos, &key, &val))
        kt_job_free(val);
    kt_map_free(ex->jobs);
    for (kt_job *j = ex->fresh, *n; j; j = n) { /* dropped jobs still linked (worker == -2) */
        n = j->next;
        if (j->worker == -2)
            kt_job_free(j);
    }
    for (kt_job *j = ex->waiting, *n; j; j = n) {
        n = j->next;
        if (j->worker == -2)
            kt_job_free(j);
    }
    for (size_t i = 0; i < ex->nreplies; i++)
        free(ex->replies[i].message);
    free(ex->replies);
    free(ex->workers);
    free(ex->timers);
    free(ex->dirty);
    json_decref(ex->logs);
    free(ex);
}

static void kt_executor_stop(kt_actor *a)
{
    kt_executor *ex = kt_actor_state(a);
    if (ex->ndirty || json_array_size(ex->logs))
        kt_executor_flush(a); /* last chance to make this turn durable */
    uv_close((uv_handle_t *)&ex->retry, kt_executor_on_timer_closed);
}

static const kt_actor_ops kt_executor_ops = {
    .receive = kt_executor_receive,
    .flush = kt_executor_flush,
    .peer_up = kt_executor_peer_up,
    .peer_down = kt_executor_peer_down,
    .stop = kt_executor_stop,
};

/* A Subflow run that was waiting when the previous process stopped: its child may have ended meanwhile (its end
 * notice was lost with the process), or never been created. */
static void kt_executor_resume_subflow(kt_executor *ex, kt_run *run, json_t *tr)
{
    const char *cid = json_string_value(json_object_get(json_object_get(tr, "outputs"), "executionId"));
    char trid[64];
    snprintf(trid, sizeof trid, "%s", json_string_value(json_object_get(tr, "id")));
    if (!cid) {
        kt_executor_log(ex, run->execution, tr, 0, "ERROR", "the subflow execution was not created before a restart");
        kt_executor_subflow_result(ex, run, trid, "FAILED", NULL);
        return;
    }
    json_t *child;
    if (kt_store_execution_get(ex->store, cid, &child) != KT_OK)
        return;
    if (kt_state_is_terminated(kt_state_current(child)))
        kt_executor_notify_parent(ex, child);
    json_decref(child);
}

/* Executions left unfinished by a previous process: attempts that were running are lost with it, so they run
 * again as new attempts; the rest continue where they stopped. */
static void kt_executor_resume(kt_executor *ex)
{
    json_t *list;
    if (kt_store_executions_unfinished(ex->store, &list) != KT_OK) {
        KT_ERROR("executor", "cannot read unfinished executions: %s", kt_store_errmsg(ex->store));
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        char err[256];
        kt_run *run = kt_executor_adopt(ex, e, err, sizeof err);
        if (!run) {
            KT_ERROR("executor", "cannot resume execution %s: %s", json_string_value(json_object_get(e, "id")), err);
            continue;
        }
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
            if (!def || def->kind == KT_PLUGIN_RUNNABLE) /* flowables resolve from their children */
                json_array_append(running, json_object_get(tr, "id"));
        }
        json_array_foreach(running, k, tr) {
            kt_exec_event ev = {.kind = KT_EV_LOST, .now_us = kt_now_us(), .taskrun_id = json_string_value(tr)};
            kt_executor_apply(ex, run, &ev);
        }
        json_decref(running);
        /* Retry delays lived in the previous process's timers: those retries run now. */
        json_t *retrying = json_array();
        json_array_foreach(json_object_get(run->execution, "taskRunList"), k, tr) {
            const char *st = kt_state_current(tr);
            if (st && !strcmp(st, "RETRYING"))
                json_array_append(retrying, json_object_get(tr, "id"));
        }
        json_array_foreach(retrying, k, tr) {
            kt_exec_event ev = {.kind = KT_EV_RETRY, .now_us = kt_now_us(), .taskrun_id = json_string_value(tr)};
            kt_executor_apply(ex, run, &ev);
        }
        json_decref(retrying);
        kt_exec_event ev = {.kind = KT_EV_START, .now_us = kt_now_us()};
        kt_executor_apply(ex, run, &ev);
    }
    if (json_array_size(list))
        KT_INFO("executor", "resumed %zu unfinished execution(s)", json_array_size(list));
    json_decref(list);
}

kt_status kt_executor_start(kt_node *node, kt_store *store, kt_executor **out)
{
    kt_render_register_functions();
    kt_executor *ex = calloc(1, sizeof *ex);
    if (!ex)
        return KT_ENOMEM;
    ex->store = store;
    ex->runs = kt_map_new();
    ex->flows = kt_map_new();
    ex->jobs = kt_map_new();
    ex->logs = json_array();
    ex->fresh_tail = &ex->fresh;
    ex->waiting_tail = &ex->waiting;
    uv_timer_init(kt_node_loop(node), &ex->retry);
    ex->retry.data = ex;
    kt_status st = kt_node_spawn(node, KT_EXECUTOR_ACTOR, &kt_executor_ops, ex, &ex->self);
    if (st) {
        ex->self = NULL;
        uv_close((uv_handle_t *)&ex->retry, kt_executor_on_timer_closed);
        return st;
    }
    kt_executor_resume(ex);
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
