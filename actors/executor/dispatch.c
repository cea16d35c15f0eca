/* The executor's worker jobs: a dispatched attempt becomes a job with its task rendered (a render error fails the
 * attempt at once), waits in `fresh` until the commit of its transition, then in `waiting` until a live worker has a
 * free slot; the least loaded one gets it. Jobs of a killed execution are stopped on their workers, and a dead
 * worker's attempts run again as new ones. Kept apart from executor.c, which decides when; this decides to whom. */
#include "actors/executor/executor_int.h"
#include "actors/executor/task_cache.h"
#include "base/secrets.h"
#include "flow/foreachitem.h"
#include "flow/model.h"
#include "flow/tasks.h"
#include "flow/render.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "base/clock.h"
#include "base/env.h"
#include "base/limits.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- jobs ---------------------------------------------------------------------------------------- */

void kt_executor_job_free(kt_job *j)
{
    json_decref(j->task);
    json_decref(j->run);
    json_decref(j->context);
    json_decref(j->cached);
    free(j->cache_key);
    free(j);
}

void kt_executor_drop_job(kt_executor *ex, const char *taskrun_id)
{
    kt_job *j = kt_map_del(ex->jobs, taskrun_id);
    if (!j)
        return;
    if (j->phase == KT_JOB_SENT) {
        KT_ASSERT(j->worker >= 0 && (size_t)j->worker < ex->nworkers);
        if (ex->workers[j->worker].inflight) /* zero already when the worker was declared dead */
            ex->workers[j->worker].inflight--;
        kt_executor_job_free(j);
        return;
    }
    if (j->phase == KT_JOB_DOUBT) { /* in no list (attempts.c) */
        ex->ndoubt--;
        kt_executor_job_free(j);
        return;
    }
    /* FRESH or WAITING: it is still linked in a list; the list walk frees it. */
    KT_ASSERT(j->phase == KT_JOB_FRESH || j->phase == KT_JOB_WAITING);
    j->phase = KT_JOB_DROPPED;
}

/* ---- errorLogs() --------------------------------------------------------------------------------- */

static int kt_str_calls_error_logs(const char *s, kt_tmpl_cache *templates)
{
    const kt_tmpl *t;
    kt_expr_error e;
    /* a template that does not compile renders to its error later: it needs no logs */
    return kt_expr_is_template(s) && kt_tmpl_cache_get(templates, s, &t, &e) == KT_OK && kt_tmpl_calls(t, "errorLogs");
}

/* 1 when a template in v (a task's JSON: strings and map keys, as rendering sees them) calls errorLogs(). */
static int kt_json_calls_error_logs(const json_t *v, kt_tmpl_cache *templates)
{
    if (json_is_string(v))
        return kt_str_calls_error_logs(json_string_value(v), templates);
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_array(v))
        json_array_foreach(v, i, x) if (kt_json_calls_error_logs(x, templates)) return 1;
    if (json_is_object(v))
        json_object_foreach((json_t *)v, k, x) if (kt_str_calls_error_logs(k, templates) ||
                                                    kt_json_calls_error_logs(x, templates)) return 1;
    return 0;
}

kt_map *kt_executor_error_logs_tasks(const kt_map *tasks, kt_tmpl_cache *templates)
{
    kt_map *uses = NULL;
    size_t pos = 0;
    const char *id;
    void *task;
    while (templates && kt_map_next(tasks, &pos, &id, &task)) {
        if (!kt_json_calls_error_logs(task, templates))
            continue;
        if (!uses)
            uses = kt_map_new();
        kt_map_put(uses, id, (void *)1, NULL);
    }
    return uses;
}

/* errorLogs() (KESTRA-expressions.md): the execution's first KT_ERROR_LOGS_MAX ERROR lines, oldest first, for a task
 * that uses the function (known from its flow revision, see kt_executor_error_logs_tasks); NULL when it does not.
 *
 * The indexer writes the lines, and it may not have written the latest yet: the lines of the attempt whose result
 * makes this task run reach it in the same turn as that result reaches us, and are committed at the end of that turn
 * at the earliest. So the answer is the lines already in the store, then the lines this executor has seen for the run
 * (run->error_lines: the workers' copies and its own) that the store does not have yet, each stored line standing
 * for one equal line seen. The store supplies what came before the run was taken in here (a resumed or restarted
 * execution); what was seen supplies what the indexer still holds. */
static json_t *kt_executor_error_logs_for(kt_executor *ex, kt_run *run, const char *task_id)
{
    if (!run->entry || !run->entry->error_logs || !kt_map_get(run->entry->error_logs, task_id))
        return NULL;
    const char *eid = json_string_value(json_object_get(run->execution, "id"));
    kt_log_filter f = {.min_level = "ERROR", .attempt = -1};
    json_t *logs = NULL;
    if (kt_store_logs_get(ex->store, eid, &f, &logs) != KT_OK)
        logs = json_array();
    while (json_array_size(logs) > KT_ERROR_LOGS_MAX)
        json_array_remove(logs, json_array_size(logs) - 1);
    size_t nstored = json_array_size(logs), i;
    char matched[KT_ERROR_LOGS_MAX] = {0};
    json_t *l;
    json_array_foreach(run->error_lines, i, l) {
        if (json_array_size(logs) >= KT_ERROR_LOGS_MAX)
            break;
        size_t k = 0;
        while (k < nstored && (matched[k] || !json_equal(json_array_get(logs, k), l)))
            k++;
        if (k < nstored)
            matched[k] = 1;
        else
            json_array_append(logs, l);
    }
    json_t *extra = json_object();
    json_object_set_new(extra, KT_RENDER_ERROR_LOGS, logs);
    return extra;
}

/* Both absent, or the same string. */
static int same_text(const json_t *a, const json_t *b)
{
    return (!a && !b) || (a && b && json_equal(a, b));
}

/* ForEachItem's `_merge` reads where its `_items` sibling's children left their outputs (ForEachItemMergeOutputs
 * extracts it from the sibling's outputs, which the worker does not have): given to it as a property. */
static void kt_executor_merge_base(const kt_run *run, const json_t *tr, json_t *rendered)
{
    char sid[512];
    if (!kt_foreachitem_sibling(json_string_value(json_object_get(tr, "taskId")), KT_FOREACHITEM_ITEMS_SUFFIX, sid,
                                sizeof sid))
        return;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(run->execution, "taskRunList"), i, s) {
        const char *base = json_string_value(json_object_get(json_object_get(s, "outputs"), "subflowOutputsBaseUri"));
        if (base && !strcmp(json_string_value(json_object_get(s, "taskId")), sid) &&
            same_text(json_object_get(s, "parentTaskRunId"), json_object_get(tr, "parentTaskRunId")) &&
            same_text(json_object_get(s, "value"), json_object_get(tr, "value")))
            json_object_set_new(rendered, "subflowOutputsBaseUri", json_string(base));
    }
}

/* ---- taskCache (task_cache.h) -------------------------------------------------------------------- */

/* A runnable task with taskCache enabled: its key into the job, and the earlier outputs when there is a live entry
 * (the job then never goes to a worker: kt_executor_pump answers it). A store failure is logged and the task runs,
 * as Kestra's worker does when it cannot read the cache. */
static void kt_executor_cache_check(kt_executor *ex, const kt_run *run, const json_t *tr, kt_job *j, int64_t ttl_us)
{
    char key[65];
    const json_t *value = json_object_get(tr, "value");
    char *v = json_is_string(value) || !value || json_is_null(value) ? NULL : json_dumps(value, JSON_ENCODE_ANY);
    kt_task_cache_key(j->task, json_is_string(value) ? json_string_value(value) : v, key);
    free(v);
    j->cache_key = kt_xstrdup(key);
    const char *ns = json_string_value(json_object_get(run->execution, "namespace"));
    const char *fid = json_string_value(json_object_get(run->execution, "flowId"));
    const char *id = json_string_value(json_object_get(j->task, "id"));
    char msg[512];
    kt_status st = kt_task_cache_lookup(ex->store, ns, fid, key, ttl_us, kt_now_us(), &j->cached);
    if (st == KT_OK)
        snprintf(msg, sizeof msg, "Skipping task execution for task '%s' as there is an existing cache entry for it",
                 id ? id : "");
    else if (st != KT_ENOTFOUND)
        snprintf(msg, sizeof msg, "Unexpected exception while loading the cache for task '%s', the task will be "
                                  "executed instead: %s", id ? id : "", kt_store_errmsg(ex->store));
    if (st != KT_ENOTFOUND)
        kt_executor_log(ex, run->execution, tr, j->attempt, st ? "ERROR" : "INFO", msg);
}

void kt_executor_cache_result(kt_executor *ex, const kt_job *j, const kt_msg_worker_result *r)
{
    kt_run *run = kt_map_get(ex->runs, j->execution_id);
    if (j->cached || !run || !r->state || (strcmp(r->state, KT_S(SUCCESS)) && strcmp(r->state, KT_S(WARNING))))
        return;
    const json_t *tr = kt_taskrun_find(run->execution, j->taskrun_id);
    const char *id = json_string_value(json_object_get(j->task, "id"));
    char msg[512];
    snprintf(msg, sizeof msg, "Uploading a cache entry for task '%s'", id ? id : "");
    kt_executor_log(ex, run->execution, tr, j->attempt, "INFO", msg);
    if (kt_task_cache_store(ex->store, json_string_value(json_object_get(run->execution, "namespace")),
                            json_string_value(json_object_get(run->execution, "flowId")), j->cache_key, r->outputs,
                            kt_now_us())) {
        snprintf(msg, sizeof msg, "Unexpected exception while uploading the cache entry for task '%s', the task not "
                                  "be cached: %s", id ? id : "", kt_store_errmsg(ex->store));
        kt_executor_log(ex, run->execution, tr, j->attempt, "ERROR", msg);
    }
}

/* A cache hit's turn: its result, SUCCESS with the cached outputs, sent to this executor as a worker's would be. */
static void kt_executor_cache_answer(kt_executor *ex, kt_job *j)
{
    int64_t now = kt_now_us();
    kt_outmsg o;
    const char *self = kt_actor_address(ex->self);
    kt_outmsg_begin(&o, KT_MSG_WORKER_RESULT, self, self, 0);
    kt_msg_worker_result body = {.execution_id = j->execution_id, .taskrun_id = j->taskrun_id, .attempt = j->attempt,
                                 .epoch = j->epoch, .state = (char *)KT_S(SUCCESS), .outputs = j->cached,
                                 .started_us = now, .ended_us = now};
    kt_msg_encode_worker_result(&o, &body);
    kt_status st = kt_node_send(kt_actor_node(ex->self), self, &o);
    if (st)
        KT_WARN("executor", "cached result of %s not delivered: %s (it runs again when resumed)", j->taskrun_id,
                kt_strerror(st));
    kt_map_del(ex->jobs, j->taskrun_id);
    kt_executor_job_free(j);
}

/* ---- jobs (continued) ----------------------------------------------------------------------------- */

/* Renders the task for a dispatch and queues the job; a render error is logged and reported (-1) for the caller to
 * fail the attempt, as Kestra's worker does when a property does not render. */
int kt_executor_prepare_job(kt_executor *ex, kt_run *run, const kt_exec_dispatch *d)
{
    json_t *tr = kt_taskrun_find(run->execution, d->taskrun_id);
    const json_t *task = run->flow.tasks ? kt_map_get(run->flow.tasks, d->task_id) : kt_exec_find_task(run->flow.flow, d->task_id);
    char err[1024] = "";
    json_t *extra = task ? kt_executor_error_logs_for(ex, run, d->task_id) : NULL;
    kt_env env; /* the task's properties see the real clock at dispatch, as Kestra's worker does when it renders */
    kt_env_init(&env, kt_now_us(), kt_env_next(&ex->seeds));
    env.dialect = kt_dialect_of_flow(run->flow.flow);
    env.files = ex->storage ? &ex->files : NULL;
    /* the values secret() gives and the SECRET inputs: the worker masks them in what the attempt logs and outputs */
    json_t *secrets = json_array();
    env.secrets_used = secrets;
    kt_render_secret_inputs(run->flow.flow, run->execution, secrets);
    json_t *rendered = task ? kt_render_task_with(run->flow.flow, run->flow.templates, &env, run->execution, task, tr,
                                                  extra, err, sizeof err)
                            : NULL;
    json_decref(extra);
    if (rendered && !strcmp(kt_task_canonical_type(json_string_value(json_object_get(task, "type"))),
                            KT_FOREACHITEM_MERGE_TYPE))
        kt_executor_merge_base(run, tr, rendered);
    if (!rendered) {
        if (!task)
            snprintf(err, sizeof err, "task '%s' is not in flow revision", d->task_id);
        char *masked = kt_mask_text(err, strlen(err), secrets, NULL);
        kt_executor_log(ex, run->execution, tr, d->attempt, "ERROR", masked);
        free(masked);
        json_decref(secrets);
        return -1;
    }
    kt_executor_drop_job(ex, d->taskrun_id); /* a previous attempt's job, if any */
    kt_job *j = kt_xcalloc(1, sizeof *j);
    snprintf(j->execution_id, sizeof j->execution_id, "%s", json_string_value(json_object_get(run->execution, "id")));
    snprintf(j->taskrun_id, sizeof j->taskrun_id, "%s", d->taskrun_id);
    j->attempt = d->attempt;
    j->epoch = kt_executor_holds(ex, j->execution_id) ? ex->parts[kt_exec_partition(j->execution_id)].epoch : 0;
    j->task = rendered;
    j->run = json_pack("{s:O, s:O, s:s, s:O, s:s}", "namespace", json_object_get(run->execution, "namespace"),
                       "flowId", json_object_get(run->execution, "flowId"), "taskId", d->task_id, "executionId",
                       json_object_get(run->execution, "id"), "taskRunId", d->taskrun_id);
    json_object_set_new(j->run, "secrets", secrets);
    /* the flow's dialect, for a task that renders expressions itself (jq/Pebble filters, maps); optional: a worker
     * reads its absence as 1.x */
    json_object_set_new(j->run, "dialect", json_string(kt_dialect_name(kt_dialect_of_flow(run->flow.flow))));
    const kt_task_def *def = kt_task_lookup(json_string_value(json_object_get(task, "type")));
    if (def && ((def->kind == KT_PLUGIN_FLOWABLE && def->to_worker) ||
                !strcmp(def->type, "io.kestra.plugin.core.execution.Count") ||
                !strcmp(def->type, "io.kestra.plugin.core.execution.Assert"))) {
        /* A WorkingDirectory: the worker renders each child when it runs (after the previous one's outputs), so it
         * gets what the render context is made of; an execution.Count renders its `expression` once the counts are
         * known, in the task's context plus `count` (Count.java); an execution.Assert renders each condition itself
         * (Assert.java logs a failed one as written). The execution is encoded when the job leaves, not
         * copied now. */
        j->context = json_pack("{s:O, s:O}", "flow", run->flow.flow, "execution", run->execution);
    }
    int64_t ttl_us;
    if (def && def->kind == KT_PLUGIN_RUNNABLE && ex->store && kt_task_cache_enabled(rendered, &ttl_us))
        kt_executor_cache_check(ex, run, tr, j, ttl_us);
    j->phase = KT_JOB_FRESH;
    j->worker = -1;
    kt_map_put(ex->jobs, j->taskrun_id, j, NULL);
    *ex->fresh_tail = j;
    ex->fresh_tail = &j->next;
    return 0;
}

/* A killed execution: the workers running its attempts stop them; attempts not sent yet are dropped. */
void kt_executor_kill_jobs(kt_executor *ex, const char *execution_id)
{
    size_t pos = 0, n = 0;
    const char *key;
    void *val;
    char (*ids)[KT_ID_LEN + 1] = kt_xcalloc(kt_map_size(ex->jobs) + 1, sizeof *ids);
    while (kt_map_next(ex->jobs, &pos, &key, &val)) {
        kt_job *j = val;
        if (strcmp(j->execution_id, execution_id))
            continue;
        if (j->phase == KT_JOB_DOUBT) {
            /* which worker runs it (if one does) is not known yet: every worker hears the kill, the others have
             * nothing of that name to stop */
            kt_outmsg o;
            kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, KT_WORKER_ACTOR, kt_actor_address(ex->self), 0);
            kt_msg_exec_command body = {.execution_id = j->execution_id, .taskrun_id = j->taskrun_id,
                                        .command = KT_CMD_KILL};
            kt_msg_encode_exec_command(&o, &body);
            kt_node_send_all(kt_actor_node(ex->self), KT_WORKER_ACTOR, &o);
        }
        if (j->phase == KT_JOB_SENT) {
            KT_ASSERT(j->worker >= 0 && (size_t)j->worker < ex->nworkers);
            kt_outmsg o;
            const char *to = ex->workers[j->worker].address;
            kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, to, kt_actor_address(ex->self), 0);
            kt_msg_exec_command body = {.execution_id = j->execution_id, .taskrun_id = j->taskrun_id,
                                        .command = KT_CMD_KILL};
            kt_msg_encode_exec_command(&o, &body);
            if (kt_node_send(kt_actor_node(ex->self), to, &o) == KT_EAGAIN) {
                /* the worker's mailbox or link is full: a timer message keeps trying until it has room */
                kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, to, kt_actor_address(ex->self), 0);
                kt_msg_encode_exec_command(&o, &body);
                kt_node_send_after(kt_actor_node(ex->self), to, &o, KT_NODE_TIMER_RETRY_MS);
            }
        }
        memcpy(ids[n++], j->taskrun_id, sizeof ids[0]);
    }
    for (size_t i = 0; i < n; i++)
        kt_executor_drop_job(ex, ids[i]);
    free(ids);
}

static const json_t *kt_executor_task_of(const kt_run *run, const json_t *tr)
{
    const char *task_id = json_string_value(json_object_get(tr, "taskId"));
    return run->flow.tasks ? kt_map_get(run->flow.tasks, task_id) : kt_exec_find_task(run->flow.flow, task_id);
}

/* tr is one of the `tasks` of a WorkingDirectory run (not of its errors branch): the worker runs it in its parent's
 * job, never as a job of its own. */
static int kt_executor_wd_child(const kt_run *run, const json_t *tr)
{
    const char *parent_id = json_string_value(json_object_get(tr, "parentTaskRunId"));
    const json_t *parent = parent_id ? kt_taskrun_find(run->execution, parent_id) : NULL;
    const json_t *ptask = parent ? kt_executor_task_of(run, parent) : NULL;
    const kt_task_def *pdef = ptask ? kt_task_lookup(json_string_value(json_object_get(ptask, "type"))) : NULL;
    if (!pdef || pdef->kind != KT_PLUGIN_FLOWABLE || !pdef->to_worker)
        return 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(ptask, "tasks"), i, t) {
        const char *a = json_string_value(json_object_get(t, "id")), *b = json_string_value(json_object_get(tr, "taskId"));
        if (a && b && !strcmp(a, b))
            return 1;
    }
    return 0;
}

int kt_executor_on_worker(const kt_run *run, const json_t *tr)
{
    const json_t *task = kt_executor_task_of(run, tr);
    const kt_task_def *def = task ? kt_task_lookup(json_string_value(json_object_get(task, "type"))) : NULL;
    if (kt_executor_wd_child(run, tr))
        return 0;
    if (def && def->kind == KT_PLUGIN_FLOWABLE && def->to_worker) { /* a WorkingDirectory while its job is out */
        size_t n = kt_taskrun_attempts(tr);
        return n && !kt_state_is_terminated(kt_state_current(json_array_get(json_object_get(tr, "attempts"), n - 1)));
    }
    return !def || def->kind == KT_PLUGIN_RUNNABLE; /* unknown types too: the worker says it cannot run them */
}

/* After a step that could not list all its dispatches: every RUNNING attempt of a runnable task without a job
 * (a RUNNING Subflow run has an attempt too, but its child does the work: never a worker's job). */
void kt_executor_rescan(kt_executor *ex, kt_run *run, json_t **failed)
{
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(run->execution, "taskRunList"), i, tr) {
        const char *id = json_string_value(json_object_get(tr, "id"));
        size_t n = kt_taskrun_attempts(tr);
        kt_job *j = kt_map_get(ex->jobs, id);
        if (!n || !kt_state_is_running(kt_state_current(tr)) || (j && j->attempt == n - 1) ||
            !kt_executor_on_worker(run, tr))
            continue;
        kt_exec_dispatch d = {.taskrun_id = id, .task_id = json_string_value(json_object_get(tr, "taskId")),
                              .attempt = (uint32_t)(n - 1)};
        if (kt_executor_prepare_job(ex, run, &d))
            kt_executor_failed_push(failed, id, d.attempt);
    }
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

void kt_executor_pump(kt_executor *ex)
{
    while (ex->waiting) {
        kt_job *j = ex->waiting;
        if (j->phase == KT_JOB_DROPPED) {
            ex->waiting = j->next;
            kt_executor_job_free(j);
            continue;
        }
        if (j->cached) { /* a taskCache hit: no worker needed */
            if (!kt_node_has_room(kt_actor_node(ex->self), kt_actor_address(ex->self)))
                break;
            ex->waiting = j->next;
            kt_executor_cache_answer(ex, j);
            continue;
        }
        int w = kt_executor_pick_worker(ex);
        /* No free slot, or the worker's mailbox or link is full: the job stays first in line for the next pump
         * (every flush pumps), so back-pressure delays it but never loses it. */
        if (w < 0 || !kt_node_has_room(kt_actor_node(ex->self), ex->workers[w].address))
            break;
        ex->waiting = j->next;
        j->next = NULL;
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_WORKER_JOB, ex->workers[w].address, kt_actor_address(ex->self), 0);
        kt_msg_worker_job body = {.execution_id = j->execution_id, .taskrun_id = j->taskrun_id,
                                  .attempt = j->attempt, .epoch = j->epoch, .task = j->task, .run = j->run,
                                  .context = j->context};
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

/* ---- workers come and go ------------------------------------------------------------------------- */

void kt_executor_add_worker(kt_executor *ex, const char *address, const char *node_id, uint32_t slots)
{
    kt_worker_ref *w = NULL;
    for (size_t i = 0; i < ex->nworkers; i++)
        if (!strcmp(ex->workers[i].address, address))
            w = &ex->workers[i];
    if (!w) {
        ex->workers = kt_xrealloc(ex->workers, (ex->nworkers + 1) * sizeof *ex->workers);
        w = &ex->workers[ex->nworkers++];
        memset(w, 0, sizeof *w);
    }
    snprintf(w->address, sizeof w->address, "%s", address);
    snprintf(w->node_id, sizeof w->node_id, "%s", node_id);
    w->slots = slots ? slots : 1;
    w->alive = 1;
    w->answered = 0; /* a new process, perhaps: it is asked about the attempts in doubt like the others were */
    kt_executor_doubt_ask(ex, (int)(w - ex->workers));
    kt_executor_pump(ex);
}

void kt_executor_peer_up(kt_actor *a, const kt_peer_info *p)
{
    kt_executor *ex = kt_actor_state(a);
    if (kt_node_actors_has(p->actors, KT_EXECUTOR_ACTOR, strlen(KT_EXECUTOR_ACTOR)))
        kt_executor_leases_rebalance(ex); /* another executor: some partitions are its now (leases.c) */
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

void kt_executor_peer_down(kt_actor *a, const char *node_id)
{
    kt_executor *ex = kt_actor_state(a);
    if (ex->committing) { /* its LOST steps wait for the batch in flight (commit.c) */
        json_array_append_new(ex->peers_down, json_string(node_id));
        return;
    }
    kt_executor_leases_rebalance(ex); /* if it was an executor, its partitions are someone else's now */
    int idx = -1;
    for (size_t i = 0; i < ex->nworkers; i++)
        if (!strcmp(ex->workers[i].node_id, node_id)) {
            ex->workers[i].alive = 0;
            ex->workers[i].inflight = 0;
            idx = (int)i;
        }
    if (idx < 0)
        return;
    kt_executor_doubt_check(ex); /* the live workers that are left may all have answered */
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
        lost = kt_xrealloc(lost, (nlost + 1) * sizeof *lost);
        lost_ex = kt_xrealloc(lost_ex, (nlost + 1) * sizeof *lost_ex);
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
    /* the node flushes every actor after its peer hooks: the LOST steps are committed before their jobs leave */
}
