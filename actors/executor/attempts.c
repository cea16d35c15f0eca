/* The workers' attempts as the executor sees them (executor_int.h says what each function does).
 *
 * A result names its attempt and the lease epoch of the job it answers: one that is not the task run's current
 * attempt, or whose epoch is not the one the attempt was sent (or adopted) under, is dropped here, before the step.
 *
 * An executor that loads an execution (a restart, a partition taken over from a dead or leaving executor) finds the
 * attempts its previous owner dispatched still RUNNING. Their workers may still run them: Kestra's executor does not
 * resubmit a task because an executor died, only because its worker did (JdbcExecutor.reEmitWorkerJobsForWorkers,
 * called by the liveness coordinator for the dead workers' jobs). So such an attempt is in doubt: the workers are
 * asked which of them they run (KT_MSG_WORKER_ATTEMPTS), and an attempt a worker runs is adopted (its result, sent to
 * the owner of the execution's partition, is accepted here). An attempt no live worker runs is declared lost
 * (KT_EV_LOST: the task runs again as a new attempt, Kestra's resubmission) once every live worker answered and this
 * executor has been up long enough to know every live worker (a liveness timeout), or at the latest a liveness
 * timeout after it was put in doubt. A worker declared dead later takes its adopted attempts with it, as before. */
#include "actors/executor/executor_int.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "flow/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void kt_attempts_count_stale(const char *reason)
{
    const char *labels[] = {"reason", reason, NULL};
    kt_metric_inc(kt_metrics_counter("kestra_executor_worker_result_stale_count_total",
                                     "Worker results dropped: not the task run's current attempt, or sent under "
                                     "another lease of its partition",
                                     labels),
                  1);
}

int kt_executor_result_stale(kt_executor *ex, const kt_job *j, const kt_msg_worker_result *r)
{
    kt_run *run = kt_map_get(ex->runs, r->execution_id);
    const json_t *tr = run ? kt_taskrun_find(run->execution, r->taskrun_id) : NULL;
    size_t n = tr ? kt_taskrun_attempts(tr) : 0;
    const kt_part *part = &ex->parts[kt_exec_partition(r->execution_id)];
    const char *reason = NULL;
    char why[160];
    if (tr && (!n || r->attempt != n - 1)) {
        reason = "attempt";
        snprintf(why, sizeof why, "the current attempt is %lld", (long long)n - 1);
    } else if (part->held && r->epoch > part->epoch) {
        reason = "epoch"; /* sent by a newer owner of the partition: ours is over, the fence will tell */
        snprintf(why, sizeof why, "the lease held here is of epoch %lld", (long long)part->epoch);
    } else if (j && j->attempt == r->attempt && j->epoch && r->epoch != j->epoch) {
        reason = "epoch";
        snprintf(why, sizeof why, "the attempt was sent under epoch %lld", (long long)j->epoch);
    }
    if (!reason)
        return 0;
    KT_DEBUG("executor", "stale result of task run %s attempt %u (epoch %lld, %s) of execution %s dropped: %s",
             r->taskrun_id, r->attempt, (long long)r->epoch, r->state ? r->state : "?", r->execution_id, why);
    kt_attempts_count_stale(reason);
    return 1;
}

/* ---- attempts in doubt ----------------------------------------------------------------------------- */

int kt_executor_doubt(kt_executor *ex, kt_run *run, const json_t *tr)
{
    if (!tr)
        return 1;
    size_t n = kt_taskrun_attempts(tr);
    const char *trid = json_string_value(json_object_get(tr, "id"));
    const char *eid = json_string_value(json_object_get(run->execution, "id"));
    if (!ex->remote_workers || !n || !trid || !eid || strlen(trid) > KT_ID_LEN)
        return 1;
    kt_executor_drop_job(ex, trid);
    kt_job *j = kt_xcalloc(1, sizeof *j);
    snprintf(j->execution_id, sizeof j->execution_id, "%s", eid);
    snprintf(j->taskrun_id, sizeof j->taskrun_id, "%s", trid);
    j->attempt = (uint32_t)(n - 1);
    j->phase = KT_JOB_DOUBT;
    j->worker = -1;
    j->doubt_us = kt_now_us();
    j->doubt_round = ex->round + 1; /* asked first by the next round (kt_executor_doubt_ask, after the resume) */
    kt_map_put(ex->jobs, j->taskrun_id, j, NULL);
    ex->ndoubt++;
    return 0;
}

static void kt_attempts_on_timer(uv_timer_t *t);

void kt_executor_doubt_ask(kt_executor *ex, int worker)
{
    if (!ex->ndoubt || ex->stopping)
        return;
    if (worker < 0)
        ex->round++;
    json_t *list = json_array();
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(ex->jobs, &pos, &key, &val)) {
        const kt_job *j = val;
        if (j->phase == KT_JOB_DOUBT)
            json_array_append_new(list, json_pack("[s,s,I]", j->execution_id, j->taskrun_id, (json_int_t)j->attempt));
    }
    json_t *body = json_pack("{s:I, s:o}", "round", (json_int_t)ex->round, "attempts", list);
    kt_node *node = kt_actor_node(ex->self);
    for (size_t i = 0; i < ex->nworkers; i++) {
        if (!ex->workers[i].alive || (worker >= 0 && (size_t)worker != i))
            continue;
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_WORKER_ATTEMPTS, ex->workers[i].address, kt_actor_address(ex->self), 0);
        kt_msg_encode_object(&o, body);
        kt_status st = kt_node_send(node, ex->workers[i].address, &o);
        if (st) /* asked again at the next tick */
            KT_DEBUG("executor", "%s not asked about %zu attempt(s) in doubt: %s", ex->workers[i].address,
                     json_array_size(list), kt_strerror(st));
    }
    json_decref(body);
    if (!uv_is_active((uv_handle_t *)&ex->doubt_timer)) {
        /* asked again a few times within the liveness timeout: an answer refused by a full mailbox is not lost */
        uint64_t every = (uint64_t)(ex->lease_ttl_us / 4000);
        uv_timer_start(&ex->doubt_timer, kt_attempts_on_timer, every ? every : 1, every ? every : 1);
    }
}

/* The index of the worker at address, added (with slots) when it is not known yet; -1 when address is no worker's. */
static int kt_attempts_worker(kt_executor *ex, const char *address, uint32_t slots)
{
    for (size_t i = 0; i < ex->nworkers; i++)
        if (!strcmp(ex->workers[i].address, address))
            return ex->workers[i].alive ? (int)i : -1;
    const char *at = strchr(address, '@');
    if (!at || strncmp(address, KT_WORKER_ACTOR "@", (size_t)(at - address) + 1))
        return -1;
    kt_executor_add_worker(ex, address, at + 1, slots);
    return (int)ex->nworkers - 1;
}

void kt_executor_on_attempts(kt_executor *ex, const kt_msg *m)
{
    json_t *a = NULL;
    if (kt_msg_decode_object(m->body, &a) != KT_OK || !json_is_array(json_object_get(a, "running"))) {
        KT_WARN("executor", "malformed WorkerAttempts from %s", m->from);
        json_decref(a);
        return;
    }
    json_int_t slots = json_integer_value(json_object_get(a, "slots"));
    int w = kt_attempts_worker(ex, m->from, slots > 0 && slots <= UINT32_MAX ? (uint32_t)slots : 1);
    if (w < 0) {
        json_decref(a);
        return;
    }
    json_int_t round = json_integer_value(json_object_get(a, "round"));
    if (round > 0 && (uint64_t)round > ex->workers[w].answered)
        ex->workers[w].answered = (uint64_t)round;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(a, "running"), i, r) {
        const char *eid = json_string_value(json_array_get(r, 0)), *trid = json_string_value(json_array_get(r, 1));
        kt_job *j = trid ? kt_map_get(ex->jobs, trid) : NULL;
        if (!j || j->phase != KT_JOB_DOUBT || !eid || strcmp(j->execution_id, eid) ||
            json_integer_value(json_array_get(r, 2)) != (json_int_t)j->attempt)
            continue;
        /* it runs there: its result comes to the partition's owner, us, and is accepted under its epoch */
        j->phase = KT_JOB_SENT;
        j->worker = w;
        j->epoch = json_integer_value(json_array_get(r, 3));
        ex->workers[w].inflight++;
        ex->ndoubt--;
        KT_INFO("executor", "task run %s attempt %u of execution %s still runs on %s: adopted", j->taskrun_id,
                j->attempt, j->execution_id, m->from);
    }
    json_decref(a);
    kt_executor_doubt_check(ex);
}

/* 1 when the attempt in doubt j can no longer be running on a live worker. */
static int kt_attempts_gone(const kt_executor *ex, const kt_job *j, int64_t now)
{
    if (now - j->doubt_us >= ex->lease_ttl_us)
        return 1; /* a live worker would have answered one of the rounds by now */
    if (now - ex->started_us < ex->lease_ttl_us)
        return 0; /* a live worker may not have reached this executor yet */
    for (size_t i = 0; i < ex->nworkers; i++)
        if (ex->workers[i].alive && ex->workers[i].answered < j->doubt_round)
            return 0;
    return 1; /* every live worker was asked about it and does not run it */
}

void kt_executor_doubt_check(kt_executor *ex)
{
    if (!ex->ndoubt || ex->stopping)
        return;
    int64_t now = kt_now_us();
    json_t *lost = json_array();
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(ex->jobs, &pos, &key, &val)) {
        const kt_job *j = val;
        if (j->phase == KT_JOB_DOUBT && kt_attempts_gone(ex, j, now))
            json_array_append_new(lost, json_pack("[s,s,I]", j->execution_id, j->taskrun_id, (json_int_t)j->attempt));
    }
    size_t i;
    json_t *l;
    json_array_foreach(lost, i, l) {
        const char *trid = json_string_value(json_array_get(l, 1));
        kt_run *run = kt_map_get(ex->runs, json_string_value(json_array_get(l, 0)));
        kt_executor_drop_job(ex, trid);
        KT_WARN("executor", "task run %s attempt %d was running when its execution was loaded and no live worker "
                            "runs it: resubmitted as a new attempt",
                trid, (int)json_integer_value(json_array_get(l, 2)));
        if (run) {
            kt_exec_event ev = {.kind = KT_EV_LOST, .now_us = now, .taskrun_id = trid};
            kt_executor_apply(ex, run, &ev);
        }
    }
    json_decref(lost);
}

static void kt_attempts_on_timer(uv_timer_t *t)
{
    kt_executor *ex = t->data;
    /* Not under a batch in flight (commit.c): a LOST step applied now would be released by its callback as if it
     * were committed (its new attempt sent, the run marked clean) though the batch was built before it. The timer
     * repeats: the next tick checks. */
    if (ex->stopping || ex->committing)
        return;
    kt_executor_doubt_check(ex);
    if (!ex->ndoubt)
        uv_timer_stop(t);
    else
        kt_executor_doubt_ask(ex, -1);
    kt_executor_flush(ex->self); /* a timer is no drain: what the losses changed is committed here */
}

void kt_executor_doubt_init(kt_executor *ex, uv_loop_t *loop)
{
    ex->started_us = kt_now_us();
    uv_timer_init(loop, &ex->doubt_timer);
    ex->doubt_timer.data = ex;
}
