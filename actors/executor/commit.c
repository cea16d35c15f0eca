/* The executor's commit (executor_int.h): the end of a loop turn writes every changed execution, its notices and,
 * when no indexer takes them, its lines, as one batch of the executor's writer (store/db.h), fenced by the leases of
 * the partitions it touches; only once the batch is committed do the effects leave (lines to the indexer, the
 * scheduler's notices, ended runs, jobs, replies, handoffs, timers).
 *
 * While a batch is in flight (PostgreSQL: its own connection, the loop not blocked) the executor holds its mailbox
 * (kt_actor_hold) and every other source of change waits too (the lease tick, peer hooks, the retry timer: they
 * note that they are due and run after the callback), so the state the batch was built from cannot move under it
 * and the step stays deterministic; what arrived meanwhile is handled in the next turn, and committed together. On
 * SQLite the writer calls back inside the submit (KT_DB_WRITER_INLINE): the turn runs as it always did. */
#include "actors/executor/executor_int.h"
#include "flow/model.h"
#include "base/clock.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long a stop waits for the commit in flight, and for its own last one. */
#define KT_EXECUTOR_DRAIN_MS 5000

static void kt_executor_on_retry(uv_timer_t *t);

static void kt_executor_send_replies(kt_executor *ex)
{
    for (size_t i = 0; i < ex->nreplies; i++) {
        kt_pending_reply *r = &ex->replies[i];
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_REPLY, r->to, kt_actor_address(ex->self), r->corr);
        kt_msg_reply body = {.status = (uint32_t)r->status, .message = r->message, .data = r->data};
        kt_msg_encode_reply(&o, &body);
        kt_node_send(kt_actor_node(ex->self), r->to, &o);
        free(r->message);
        json_decref(r->data);
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
        json_t *data = ex->timers[i].iteration ? json_pack("{s:I}", "iteration", (json_int_t)ex->timers[i].iteration)
                                               : NULL;
        kt_msg_exec_command body = {.execution_id = ex->timers[i].execution_id, .taskrun_id = ex->timers[i].taskrun_id,
                                    .command = ex->timers[i].command, .data = data};
        kt_msg_encode_exec_command(&o, &body);
        json_decref(data);
        /* rounded up, plus the millisecond libuv's clock truncates: the command never arrives before at_us */
        int64_t delay = ex->timers[i].at_us > now ? (ex->timers[i].at_us - now + 999) / 1000 + 1 : 0;
        kt_node_send_after(kt_actor_node(ex->self), kt_actor_address(ex->self), &o, (uint64_t)delay);
    }
    ex->ntimers = 0;
}


/* The scheduler evaluates Flow triggers on every committed change of an execution's state (Kestra's executor does it
 * on each state change, KESTRA-execution.md §5.6) and releases a Schedule's lock when its execution ends. Only once a
 * scheduler has been reachable, so a node without one pays nothing; never for CREATED (Kestra's Flow trigger cannot
 * listen to it). The change is written as a notice in the commit that makes it (kt_store_notice_add), so a crash before
 * the scheduler has acted on it loses nothing: it replays the notices left at its start. Hence the notices go on while
 * the cluster's schedulers are away (their processes restarting): the one that comes back replays them. */
static int kt_executor_notice_due(kt_executor *ex, const kt_run *run)
{
    const char *cur = kt_state_current(run->execution);
    if (kt_node_reachable(kt_actor_node(ex->self), KT_SCHEDULER_ACTOR))
        ex->scheduler_seen = 1;
    return cur && strcmp(cur, run->notified) && strcmp(cur, KT_S(CREATED)) && ex->scheduler_seen;
}

static kt_status kt_executor_send_notice(kt_executor *ex, const json_t *execution)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXECUTION_CHANGED, KT_SCHEDULER_ACTOR, kt_actor_address(ex->self), 0);
    /* without the task runs: encoding a long execution twice per run costs more than the scheduler's rare need of
     * them (a Flow trigger's conditions or inputs), for which it reads the execution from the store */
    kt_msg_encode_object_except(&o, execution, "taskRunList");
    return kt_node_send(kt_actor_node(ex->self), KT_SCHEDULER_ACTOR, &o);
}

/* After the commit: the message. A full mailbox keeps a copy for a later turn (the notice is durable anyway). */
static void kt_executor_notify_scheduler(kt_executor *ex, kt_run *run)
{
    if (!run->notice)
        return;
    run->notice = 0;
    snprintf(run->notified, sizeof run->notified, "%s", kt_state_current(run->execution));
    kt_status st = json_array_size(ex->notices_pending) ? KT_EAGAIN : kt_executor_send_notice(ex, run->execution);
    if (st == KT_EAGAIN) {
        json_array_append_new(ex->notices_pending, json_deep_copy(run->execution));
        if (!uv_is_active((uv_handle_t *)&ex->retry))
            uv_timer_start(&ex->retry, kt_executor_on_retry, KT_NODE_TIMER_RETRY_MS, 0);
    } else if (st == KT_ENOTFOUND) { /* no scheduler now: its notice waits for the next one's start */
        KT_DEBUG("executor", "execution %s: no scheduler for its %s state; replayed at a scheduler's start",
                 json_string_value(json_object_get(run->execution, "id")), run->notified);
    } else if (st != KT_OK) {
        KT_WARN("executor", "execution %s: the scheduler did not get its %s state (%s); it replays it at its start",
                json_string_value(json_object_get(run->execution, "id")), run->notified, kt_strerror(st));
    }
}

/* The notices a full mailbox refused, in order, until it refuses again. */
static void kt_executor_resend_notices(kt_executor *ex)
{
    while (json_array_size(ex->notices_pending)) {
        kt_status st = kt_executor_send_notice(ex, json_array_get(ex->notices_pending, 0));
        if (st == KT_EAGAIN) {
            if (!uv_is_active((uv_handle_t *)&ex->retry))
                uv_timer_start(&ex->retry, kt_executor_on_retry, KT_NODE_TIMER_RETRY_MS, 0);
            return;
        }
        json_array_remove(ex->notices_pending, 0);
    }
}

/* ---- the turn ------------------------------------------------------------------------------------ */

/* After the commit (or with nothing to commit): the effects of this turn leave. lines: the turn held lines;
 * write_lines: they were in the commit (else they go to the indexer now). */
static void kt_executor_release(kt_executor *ex, int lines, int write_lines)
{
    if (lines && !write_lines && !kt_executor_send_lines(ex) && !uv_is_active((uv_handle_t *)&ex->retry))
        uv_timer_start(&ex->retry, kt_executor_on_retry, KT_NODE_TIMER_RETRY_MS, 0); /* the indexer had no room */
    for (size_t i = 0; i < ex->ndirty; i++) {
        kt_run *run = ex->dirty[i];
        kt_executor_notify_scheduler(ex, run);
        run->dirty = 0;
        run->all_runs_dirty = 0;
        run->ndirty_runs = 0;
        /* over: ended, and its afterExecution tasks too (until then the actor keeps it for their results) */
        if (kt_state_is_terminated(kt_state_current(run->execution)) && !kt_exec_after_pending(&run->flow, run->execution)) {
            kt_executor_count_ended(run->execution);
            if (ex->observer)
                ex->observer(ex->observer_ud, run->execution);
            kt_executor_notify_parent(ex, run->execution);
            kt_executor_concurrency_release(ex, run->execution);
            if (run->waiter[0]) {
                kt_outmsg o;
                kt_outmsg_begin(&o, KT_MSG_REPLY, run->waiter, kt_actor_address(ex->self), run->waiter_corr);
                kt_msg_reply body = {.status = KT_OK, .data = run->execution};
                kt_msg_encode_reply(&o, &body);
                kt_node_send(kt_actor_node(ex->self), run->waiter, &o);
            }
            kt_map_del(ex->runs, json_string_value(json_object_get(run->execution, "id")));
            kt_executor_run_free(run);
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
    if (kt_executor_send_handoffs(ex) && !uv_is_active((uv_handle_t *)&ex->retry))
        uv_timer_start(&ex->retry, kt_executor_on_retry, 100, 0); /* (leases.c) */
    kt_executor_arm_timers(ex);
    kt_executor_pump(ex);
}

/* The batch of this turn: the fences of the held partitions its executions belong to, each execution with its
 * notice when one is due, and the lines when they are written here. */
static kt_status kt_executor_batch(kt_executor *ex, kt_db_batch *b, int write_lines)
{
    kt_status st = kt_executor_fence(ex, b); /* each partition written is still ours (leases.c) */
    for (size_t i = 0; st == KT_OK && i < ex->ndirty; i++) {
        kt_run *run = ex->dirty[i];
        const char *id = json_string_value(json_object_get(run->execution, "id"));
        int p = kt_executor_holds(ex, id) ? kt_exec_partition(id) : -1; /* (a child of another's partition) */
        st = kt_db_batch_execution_put(b, p, run->execution, run->all_runs_dirty ? NULL : run->dirty_runs,
                                       run->ndirty_runs);
        run->notice = st == KT_OK && kt_executor_notice_due(ex, run);
        if (run->notice)
            st = kt_db_batch_notice_add(b, p, id, kt_state_current(run->execution));
    }
    if (st == KT_OK && write_lines && json_array_size(ex->logs))
        st = kt_db_batch_logs_append(b, ex->logs);
    if (st == KT_OK && write_lines && json_array_size(ex->metrics))
        st = kt_db_batch_metrics_append(b, ex->metrics);
    return st;
}

/* What waited for the commit: the peers that went, the lease tick, a flush asked for meanwhile. */
static void kt_executor_catch_up(kt_executor *ex)
{
    int again = ex->flush_due;
    ex->flush_due = 0;
    while (json_array_size(ex->peers_down)) {
        json_t *id = json_incref(json_array_get(ex->peers_down, 0));
        json_array_remove(ex->peers_down, 0);
        kt_executor_peer_down(ex->self, json_string_value(id));
        json_decref(id);
        again = 1;
    }
    if (ex->tick_due && !ex->stopping) {
        ex->tick_due = 0;
        kt_executor_leases_tick(ex); /* flushes by itself when it changed something */
    }
    if (again && !ex->committing && !ex->stopping)
        kt_executor_flush(ex->self);
}

static void kt_executor_after(kt_actor *a, void *ud)
{
    const kt_db_result *r = ud;
    kt_executor *ex = kt_actor_state(a);
    ex->committing = 0;
    kt_actor_hold(a, 0);
    if (r->status == KT_ECLOSED) /* the writer closed at stop before it could commit: nothing is released */
        return;
    if (r->status != KT_OK && r->status != KT_EFENCED) {
        /* Nothing is sent: the effects wait until their transitions are durable (SQLite: built again then). */
        KT_ERROR("executor", "commit failed (%s: %s); retrying", kt_strerror(r->status), kt_store_errmsg(ex->store));
        uv_timer_start(&ex->retry, kt_executor_on_retry, 100, 0);
        kt_executor_catch_up(ex);
        return;
    }
    /* another executor took those partitions: their executions are left to it, the rest is committed */
    for (size_t i = 0; i < r->nfenced; i++)
        kt_executor_partition_lost(ex, r->fenced[i]);
    ex->commits++;
    if (ex->commit_write_lines) {
        json_array_clear(ex->logs);
        json_array_clear(ex->metrics);
    }
    kt_executor_release(ex, ex->commit_lines, ex->commit_write_lines);
    kt_executor_catch_up(ex);
}

static void kt_executor_committed(const kt_db_result *r, void *ud)
{
    kt_executor *ex = ud;
    /* as the executor's own code: its sends to itself (a parent told its child ended, a queued execution's turn)
     * always fit, as from its flush */
    kt_actor_call(ex->self, kt_executor_after, (void *)(uintptr_t)r);
}

void kt_executor_flush(kt_actor *a)
{
    kt_executor *ex = kt_actor_state(a);
    if (ex->committing) { /* the callback ends the turn in flight; this one comes after it */
        ex->flush_due = 1;
        return;
    }
    kt_executor_resend_notices(ex);
    int lines = json_array_size(ex->logs) || json_array_size(ex->metrics);
    /* Lines go to the indexer once the transitions they tell of are committed, so none is read before its state (and
     * a worker's lines, which went to the indexer before its result came here, keep their place before ours). They
     * are written in this commit instead when no indexer is reachable (a node or a cluster without one), and at stop,
     * when nothing can be sent any more (the indexer, spawned after the executor, has stopped first and written what
     * it held: cmd/node.c). */
    int write_lines = lines && (ex->stopping || !kt_node_reachable(kt_actor_node(a), KT_INDEXER_ACTOR));
    if (!ex->ndirty && !lines && !ex->fresh && !ex->nreplies) {
        /* an event may arm a timer and change nothing (an execution taken in again waits for its scheduleDate, an
         * SLA monitor is re-armed): nothing to commit first */
        kt_executor_arm_timers(ex);
        kt_executor_pump(ex);
        if (kt_executor_send_handoffs(ex) && !uv_is_active((uv_handle_t *)&ex->retry))
            uv_timer_start(&ex->retry, kt_executor_on_retry, 100, 0);
        return;
    }
    if (!ex->ndirty && !write_lines) {
        kt_executor_release(ex, lines, 0);
        return;
    }
    kt_db_batch *b = kt_db_batch_new(ex->writer);
    kt_status st = b ? kt_executor_batch(ex, b, write_lines) : KT_ENOMEM;
    if (st) {
        KT_ERROR("executor", "commit failed (%s: %s); retrying", kt_strerror(st), kt_store_errmsg(ex->store));
        kt_db_batch_discard(b);
        uv_timer_start(&ex->retry, kt_executor_on_retry, 100, 0);
        return;
    }
    ex->committing = 1;
    ex->commit_lines = lines;
    ex->commit_write_lines = write_lines;
    kt_actor_hold(a, 1); /* nothing changes the state the batch was built from until its callback */
    if (kt_db_batch_submit(b, kt_executor_committed, ex) != KT_OK) { /* the writer is closed: the node stops */
        ex->committing = 0;
        kt_actor_hold(a, 0);
    } else if (!kt_db_writer_has_room(ex->writer)) {
        /* a turn bigger than the writer's bound (KT_DB_WRITE_QUEUE_BYTES): new work is refused at the mailbox
         * (senders get KT_EAGAIN and keep it) until the writer is under half of it again */
        kt_actor_pause(a, 1);
    }
}

static void kt_executor_on_room(void *ud)
{
    kt_executor *ex = ud;
    kt_actor_pause(ex->self, 0);
}

static void kt_executor_on_retry(uv_timer_t *t)
{
    kt_executor *ex = t->data;
    kt_executor_flush(ex->self);
}

/* ---- the writer ---------------------------------------------------------------------------------- */

kt_status kt_executor_writer_open(kt_executor *ex, kt_node *node)
{
    char name[128];
    snprintf(name, sizeof name, "%.100s/executor", kt_node_id(node));
    kt_db_writer_options o = {.name = name, .flags = KT_DB_WRITER_INLINE};
    kt_status st = kt_db_writer_new(kt_node_loop(node), ex->store, &o, &ex->writer);
    if (st == KT_OK)
        kt_db_writer_on_room(ex->writer, kt_executor_on_room, ex);
    return st;
}

/* At stop: the commit in flight waited for (its effects then leave, as far as the stopping node lets them), the
 * last turn's changes committed, then the writer closed. */
void kt_executor_writer_stop(kt_executor *ex)
{
    if (ex->committing)
        kt_db_writer_drain(ex->writer, KT_EXECUTOR_DRAIN_MS);
    if (!ex->committing && (ex->ndirty || json_array_size(ex->logs) || json_array_size(ex->metrics)))
        kt_executor_flush(ex->self); /* last chance to make this turn durable */
    if (ex->committing && kt_db_writer_drain(ex->writer, KT_EXECUTOR_DRAIN_MS) != KT_OK)
        KT_ERROR("executor", "stopped before the store confirmed the last commit: its effects were not released");
    kt_db_writer_close(ex->writer);
    ex->writer = NULL;
}
