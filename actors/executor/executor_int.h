/* Internals of the executor actor (executor.h), shared by its files and included by nothing else:
 *   executor.c  the actor itself: the loop turn (apply a step, commit, then send), messages in, start and stop;
 *   dispatch.c  worker jobs: rendering a dispatched attempt, queueing it until its commit, handing it to the least
 *               loaded live worker, killing it, and workers joining or dying;
 *   subflow.c   Subflow tasks: building the child execution, telling the parent when it ends, and picking up
 *               waiting Subflow runs after a restart;
 *   concurrency.c flow concurrency's facts: how many executions of a flow hold a slot, whose turn it is;
 *   task_requests.c what worker tasks ask of the executor, whose node holds the store: logs, resume...
 *   lines.c     log lines: the executor's own, the workers' that reach it, the ERROR ones kept for errorLogs();
 *   attempts.c  the workers' results checked against the attempt and lease they answer, and the attempts a previous
 *               owner dispatched adopted from the workers still running them;
 * The actor gathers facts and applies effects; every change of an execution's state is the step's (step.h).
 * All of it runs on the loop thread; nothing here locks. */
#ifndef KT_EXECUTOR_INT_H
#define KT_EXECUTOR_INT_H

#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "actors/executor/executor.h"
#include "actors/executor/step.h"
#include "flow/flow.h"
#include "base/env.h"
#include "base/id.h"
#include "base/limits.h"
#include "base/map.h"
#include "base/partition.h"
#include "runtime/node.h"
#include "store/db.h"
#include "store/storage_env.h"

/* A flow revision the executor runs: parsed once, plugin defaults applied once, its templates compiled once. */
typedef struct kt_flow_entry {
    kt_flow *flow; /* as written: the stored source parsed */
    json_t *json;  /* the flow the executor runs: kt_flow_json(flow) with the plugin defaults applied */
    kt_tmpl_cache *templates;
    kt_map *tasks;      /* task id -> task */
    kt_map *error_logs; /* ids of the tasks whose templates call errorLogs() (decided once, when the entry is built) */
} kt_flow_entry;

typedef struct kt_run {
    json_t *execution;
    kt_exec_flow flow; /* borrowed from the flow cache */
    const kt_flow_entry *entry; /* the same revision in the cache */
    int dirty;
    int unqueue_sent; /* QUEUED, and its UNQUEUE is on its way: it holds a slot of the flow's concurrency limit */
    int all_runs_dirty; /* new to this process: write every task run */
    size_t *dirty_runs; /* positions in taskRunList changed since the last commit */
    size_t ndirty_runs, capdirty_runs;
    char waiter[KT_ADDR_MAX]; /* who asked to hear about the end (API wait=true), "" if nobody */
    uint64_t waiter_corr;
    char notified[16]; /* the state the scheduler last heard of (KT_MSG_EXECUTION_CHANGED), "" before the first */
    int notice;        /* this turn's commit holds a notice for the scheduler: send it after the commit */
    /* errorLogs(): the first KT_ERROR_LOGS_MAX ERROR lines of the execution this executor has seen since it took the
     * run in (the workers' copies, its own), kept only when the flow calls the function (entry->error_logs); NULL
     * before the first. The indexer may not have written them yet at the next dispatch (dispatch.c). */
    json_t *error_lines;
} kt_run;
typedef enum kt_job_phase {
    KT_JOB_FRESH,   /* in ex->fresh: its transition is not committed yet */
    KT_JOB_WAITING, /* in ex->waiting: committed, waiting for a worker slot */
    KT_JOB_SENT,    /* in no list: on workers[worker] */
    KT_JOB_DROPPED, /* forgotten (no longer in ex->jobs) while still linked in fresh or waiting: the walk frees it */
    KT_JOB_DOUBT,   /* in no list: dispatched by a previous owner of the partition (or process), perhaps still running
                       on a worker; the workers are asked (attempts.c). Never sent again: adopted (SENT) when a worker
                       says it runs it, declared lost when none does */
} kt_job_phase;

/* One task attempt handed (or to be handed) to a worker. Keyed by taskrun id in ex->jobs. */
typedef struct kt_job {
    char execution_id[KT_ID_LEN + 1];
    char taskrun_id[KT_ID_LEN + 1];
    uint32_t attempt;
    int64_t epoch; /* the lease epoch it was sent under (the partition's, or the one a worker said for an adopted
                      job): its result echoes it. 0 while in doubt: not known */
    int64_t doubt_us; /* KT_JOB_DOUBT: since when */
    uint64_t doubt_round; /* KT_JOB_DOUBT: the first round of questions that asked about it */
    json_t *task; /* rendered (NULL while in doubt: never sent again) */
    json_t *run;
    json_t *context; /* a WorkingDirectory's: {flow, execution} (runtime/msg.h kt_msg_worker_job), else NULL */
    char *cache_key; /* taskCache enabled: the entry's key (task_cache.h), else NULL */
    json_t *cached;  /* a cache hit's outputs: answered here when its turn comes, never sent to a worker */
    kt_job_phase phase;
    int worker; /* index in ex->workers when SENT (workers are never removed, so it stays valid); -1 before */
    struct kt_job *next; /* FRESH / WAITING lists */
} kt_job;

typedef struct kt_worker_ref {
    char address[KT_ADDR_MAX];
    char node_id[64];
    uint32_t slots, inflight;
    int alive;
    uint64_t answered; /* the last round of questions about attempts in doubt it answered (attempts.c) */
} kt_worker_ref;

typedef struct kt_pending_reply {
    char to[KT_ADDR_MAX];
    char execution_id[KT_ID_LEN + 1]; /* what the request was about (ex->msg_exec), "" when nothing */
    uint64_t corr;
    kt_status status;
    char *message;
    json_t *data; /* owned, may be NULL */
} kt_pending_reply;

typedef struct kt_items_write kt_items_write;
typedef struct kt_loop_write kt_loop_write;

/* A message for a partition whose lease this executor does not hold yet, re-encoded to be received again once it
 * does (or passed on to the partition's owner when the membership says another executor is): leases.c. */
typedef struct kt_parked {
    kt_msg_type type;
    uint64_t corr;
    char from[KT_ADDR_MAX];
    char *body; /* the body's msgpack bytes (the envelope is made again when it is sent) */
    size_t len;
    struct kt_parked *next;
} kt_parked;

/* One partition of the executions (base/partition.h) as this executor holds it (leases.c). */
typedef struct kt_part {
    int held;      /* the lease is ours at epoch: its executions are in ex->runs, and its commits are fenced */
    int64_t epoch;
    int rescans;   /* passes left over its stored CREATED executions (leases.c, kt_lease_rescan) */
    kt_parked *parked, **parked_tail; /* oldest first */
} kt_part;

struct kt_executor {
    kt_actor *self;
    /* Seeds each event's environment: seeded once from the system, so an event costs no getrandom call. */
    kt_env seeds;
    kt_store *store;
    struct kt_storage *storage; /* may be NULL */
    kt_env_files files;         /* read() and its kin through storage; unused when storage is NULL */
    kt_items_write *items_writes; /* ForEachItem children's outputs being stored (items.c) */
    kt_loop_write *loop_writes;   /* Loop iterations' outputs being stored, fetchType STORE (loop.c) */
    kt_map *items_tallies;        /* `_items` run id -> the batches already counted (items.c) */
    kt_map *runs;  /* execution id -> kt_run */
    kt_map *flows; /* "ns\x1fid\x1frev" -> kt_flow_entry */
    json_t *plugin_defaults; /* the configuration's plugins.defaults (an array), or NULL */
    kt_map *jobs;  /* taskrun id -> kt_job */
    kt_job *fresh, **fresh_tail;     /* created this turn: sent only after the commit */
    kt_job *waiting, **waiting_tail; /* committed, waiting for a free worker slot */
    kt_worker_ref *workers;
    size_t nworkers;
    kt_pending_reply *replies;
    size_t nreplies, capreplies;
    /* Log lines and task metrics (MetricEntry) to be written: the executor's own, and the workers' when they found no
     * indexer. Sent to the indexer after this turn's commit, or written in it when no indexer is reachable or the node
     * is stopping (kt_executor_flush). */
    json_t *logs;
    json_t *metrics;
    int stopping; /* the stop hook runs: nothing can be sent any more */
    json_t *notices_pending; /* executions whose ExecutionChanged a full mailbox refused, oldest first */
    int scheduler_seen;      /* a scheduler was reachable once: notices are written from then on (notice_due) */
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
        kt_cmd command;
        int64_t at_us;
        long iteration; /* kt_exec_timer.iteration: sent as the command's data {"iteration": n} */
    } *timers;
    size_t ntimers, captimers;
    /* partitions and their leases (leases.c) */
    kt_part parts[KT_PARTITIONS];
    size_t nparked;             /* over every partition, at most KT_EXEC_PARKED_CAP */
    uv_timer_t lease_timer;     /* renews, takes and gives back, every lease_ttl_us / 3 */
    int64_t lease_ttl_us;
    int lease_force;            /* a store only this process opens (SQLite): take every lease whoever held it */
    char msg_exec[KT_ID_LEN + 1]; /* the execution the message being received is about ("" when none) */
    /* the commit (commit.c): the executor's writer, and what waits while its batch is in flight */
    kt_db_writer *writer;
    int committing;            /* a batch is in flight: the mailbox is held, nothing changes the state */
    int commit_lines, commit_write_lines; /* the turn in flight held lines; they are in its batch */
    int flush_due, tick_due;   /* a flush, a lease tick asked for meanwhile */
    json_t *peers_down;        /* node ids whose peer_down came meanwhile, in order */
    /* [parent id, execution] of the executions made here for partitions another executor holds (a limited flow's
     * Subflow child): sent to their owners as ExecutionCreate after the commit of the change that made them */
    json_t *handoffs;
    /* attempts in doubt (attempts.c) */
    int remote_workers;     /* kt_executor_options.remote_workers */
    int64_t started_us;     /* when this executor started: its view of the workers is whole a liveness timeout later */
    uint64_t round;         /* the last round of questions sent to the workers */
    size_t ndoubt;          /* jobs in KT_JOB_DOUBT */
    uv_timer_t doubt_timer; /* asks again, and declares lost what no worker claimed in time */
};

/* ---- executor.c --------------------------------------------------------------------------------- */

/* The parsed flow revision ns.id@rev, from the cache or the store; NULL (logged) when it is gone or no longer
 * parses. */
kt_flow_entry *kt_executor_flow(kt_executor *ex, const char *ns, const char *id, int rev);
/* An executor-made log line for the task run tr (NULL: the execution), sent to the indexer after this turn's commit
 * (or written in it, see ex->logs); an ERROR line is kept for errorLogs() too (kt_executor_keep_error). */
/* taskCache (task_cache.h, dispatch.c): a result of a job whose task is cached leaves its outputs for the next ones. */
void kt_executor_cache_result(kt_executor *ex, const kt_job *j, const kt_msg_worker_result *r);
void kt_executor_log(kt_executor *ex, const json_t *execution, const json_t *tr, uint32_t attempt, const char *level,
                     const char *message);
/* Prometheus (base/metrics.h): kestra_executor_execution_{started,end}_count_total by flow and state, as Kestra's
 * ExecutorService counts them, and the ended execution's duration. */
void kt_executor_count_started(const json_t *execution);
/* The run's execution is written by this turn's commit. */
void kt_executor_mark_dirty(kt_executor *ex, kt_run *run);

/* concurrency.c: an execution is taken in (KT_EV_ADMIT), with the count of its flow's executions holding a slot when
 * the flow has a concurrency limit; the step runs it, or makes it QUEUED, CANCELLED or FAILED. */
void kt_executor_admit(kt_executor *ex, kt_run *run);
/* An execution of a flow ended (or the executor resumed): the oldest QUEUED executions of that flow are sent an
 * UNQUEUE command while the limit allows. */
void kt_executor_concurrency_release(kt_executor *ex, const json_t *execution);
/* One step of the state machine for run, and its effects queued: logs, timers, jobs, kills, child creations; then
 * the FAILED result of each dispatched attempt whose task did not render, as steps of their own. */
void kt_executor_apply(kt_executor *ex, kt_run *run, const kt_exec_event *ev);
/* Remembers a dispatched attempt that did not render: *failed is a list of [taskrun id, attempt], made on first use. */
void kt_executor_failed_push(json_t **failed, const char *taskrun_id, uint32_t attempt);
/* Takes an execution in (a new kt_run in ex->runs), with its flow revision; NULL with err when that is missing. */
kt_run *kt_executor_adopt(kt_executor *ex, json_t *execution, char *err, size_t errcap);
/* A reply to m, sent after this turn's commit; data (may be NULL) is stolen. */
void kt_executor_reply(kt_executor *ex, const kt_msg *m, kt_status st, const char *message, json_t *data);
/* The same to an address and correlation id kept from an earlier message (about execution_id, may be NULL). */
void kt_executor_reply_to(kt_executor *ex, const char *to, uint64_t corr, const char *execution_id, kt_status st,
                          const char *message, json_t *data);
/* The end of a loop turn: commit what changed, then send what the commit allows (the actor's flush hook; commit.c). */
void kt_executor_flush(kt_actor *a);
/* commit.c: the executor's writer opened (kt_executor_start), and at stop drained and closed. */
kt_status kt_executor_writer_open(kt_executor *ex, kt_node *node);
void kt_executor_writer_stop(kt_executor *ex);
/* executor.c: Prometheus's count and duration of an ended execution (after its commit). */
void kt_executor_count_ended(const json_t *execution);

/* ---- lines.c ------------------------------------------------------------------------------------ */

/* A log line (LogEntry) the executor saw: when it is an ERROR line of a live run whose flow calls errorLogs(), the run
 * keeps it (kt_run.error_lines) until the run ends. */
void kt_executor_keep_error(kt_executor *ex, json_t *line);
/* A LogBatch from a worker: its ERROR lines kept, and its lines taken to be written unless it is a copy. */
void kt_executor_on_lines(kt_executor *ex, const kt_msg *m);
/* After the commit: ex->logs and ex->metrics to the indexer in one message (1). 0 when the indexer has no room (full
 * or paused) or is gone: the lines stay, in order, for a later turn. */
int kt_executor_send_lines(kt_executor *ex);

/* ---- dispatch.c --------------------------------------------------------------------------------- */

void kt_executor_job_free(kt_job *j);
/* Forgets the job of taskrun_id (freeing its worker slot); a job still linked in fresh/waiting is freed by the walk. */
void kt_executor_drop_job(kt_executor *ex, const char *taskrun_id);
/* Renders the task for a dispatch and queues the job (sent after the commit): 0. When the task does not render, the
 * error is logged and -1 returned: the caller applies the attempt's FAILED result (as Kestra's worker reports it). */
int kt_executor_prepare_job(kt_executor *ex, kt_run *run, const kt_exec_dispatch *d);
/* errorLogs() support (KESTRA-expressions.md): the ids of the flow's tasks that call it in one of their templates. */
kt_map *kt_executor_error_logs_tasks(const kt_map *tasks, kt_tmpl_cache *templates);
/* A killed execution: the workers running its attempts stop them; attempts not sent yet are dropped. */
/* Kills the unfinished Subflow children of an execution that was killed (subflow.c). */
void kt_executor_kill_children(kt_executor *ex, const char *parent_id);
/* The flows.purge task request (flow_purge.c): old revisions of the flows a PurgeFlows task chose, deleted. */
kt_status kt_executor_purge_flows(kt_executor *ex, const json_t *req, json_t **out, char *err, size_t cap);
/* The metrics.purge task request (flow_purge.c): metric.PurgeMetrics' deletion. */
kt_status kt_executor_purge_metrics(kt_executor *ex, const json_t *req, json_t **out, char *err, size_t cap);
void kt_executor_kill_jobs(kt_executor *ex, const char *execution_id);
/* After a step that could not list all its dispatches: every RUNNING attempt of a runnable task without a job; the
 * ones that did not render are added to *failed (kt_executor_failed_push) for the caller to apply. */
/* Whether a task run is a worker's job (a runnable task, an unknown type, or a WorkingDirectory whose job is out), not
 * a flowable or a Subflow. */
int kt_executor_on_worker(const kt_run *run, const json_t *tr);
void kt_executor_rescan(kt_executor *ex, kt_run *run, json_t **failed);
/* Hands waiting jobs to workers with a free slot. */
void kt_executor_pump(kt_executor *ex);
/* The actor's peer hooks: a node with a worker joined; a node was declared dead (its attempts run again). */
void kt_executor_peer_up(kt_actor *a, const kt_peer_info *p);
void kt_executor_peer_down(kt_actor *a, const char *node_id);

/* ---- subflow.c ---------------------------------------------------------------------------------- */

/* After the commit that ended child: if a Subflow task started it, its parent hears of it (SUBFLOW_ENDED). */
void kt_executor_notify_parent(kt_executor *ex, const json_t *child);
/* Subflow children (subflow.c), shared with ForEachItem's (items.c): a child built for spec with raw_inputs
 * (trigger_extra joins its trigger's variables; NULL with err on failure), taken in (written with the parent's change;
 * the caller admits it), the parent run told it was built (child NULL: error says why), a child's end sent to the
 * parent as a message. */
json_t *kt_executor_build_child(kt_executor *ex, kt_run *parent, const json_t *spec, const json_t *raw_inputs,
                                const json_t *trigger_extra, char *err, size_t errcap);
kt_run *kt_executor_take_child(kt_executor *ex, json_t *child, char *err, size_t errcap);
void kt_executor_child_created(kt_executor *ex, kt_run *parent, const char *taskrun_id, const json_t *child,
                               const char *error);
void kt_executor_send_ended(kt_executor *ex, const char *parent, json_t *data);
/* ForEachItem's `_items` runs in the actor (items.c): their children built from the batches' list, a child's end
 * (outputs stored, then the parent told), the parent hearing it (counted once per batch), the count rebuilt from the
 * store after a restart, and what is dropped when the executor stops. */
void kt_executor_items_create(kt_executor *ex, kt_run *parent, const char *taskrun_id, const json_t *spec);
void kt_executor_items_notify(kt_executor *ex, const json_t *child, const char *parent);
void kt_executor_items_child_ended(kt_executor *ex, kt_run *parent, const json_t *data);
void kt_executor_items_recover(kt_executor *ex, kt_run *run, const json_t *tr);
void kt_executor_items_stop(kt_executor *ex);
/* Loop's fetchType STORE (loop.c): an ended iteration's outputs written as a file (spec {loopStore, iteration, item,
 * outputs} from the step), the parent told its URI (data {loopRunId, iteration, item, uri | error}), and the writes in
 * flight dropped when the executor stops. */
void kt_executor_loop_store(kt_executor *ex, kt_run *parent, const char *taskrun_id, const json_t *spec);
void kt_executor_loop_stored(kt_executor *ex, kt_run *parent, const json_t *data);
void kt_executor_loop_stop(kt_executor *ex);
/* SUBFLOW_CREATE: the child execution of parent's Subflow run taskrun_id, built from the rendered spec and taken in
 * like any other (flow concurrency included); the parent hears of it as KT_EV_CHILD_CREATED. */
void kt_executor_create_child(kt_executor *ex, kt_run *parent, const char *taskrun_id, const json_t *spec);
/* SUBFLOW_ENDED: the parent's Subflow run waiting for the child named in data ends. */
void kt_executor_child_ended(kt_executor *ex, kt_run *parent, const json_t *data);
/* At start-up, a Subflow run that was waiting when the previous process stopped. */
void kt_executor_resume_subflow(kt_executor *ex, kt_run *run, json_t *tr);
/* SUBFLOW_CHECK: the child (data: {executionId}) of the waiting Subflow run taskrun_id was missing from the store at
 * resume; still missing two liveness timeouts later, it is made again under its id. */
void kt_executor_subflow_check(kt_executor *ex, kt_run *run, const char *taskrun_id, const json_t *data);

/* manual.c: the API's restart, replay, markAs and change-status (KT_CF_API commands with a reply), applied with the
 * pure transformations of restart.h. */
void kt_executor_manual(kt_executor *ex, const kt_msg *m, const kt_msg_exec_command *c);
/* CREATE_NEW_EXECUTION's delay is over (KT_CMD_RETRY_FLOW): the RETRIED execution is replayed as a new one. */
void kt_executor_retry_flow(kt_executor *ex, const char *execution_id);
/* At start-up, or when partitions are taken: the RETRIED executions of the partitions in mask (nonzero) whose new
 * execution the previous process did not make (the delay lived in its timers) are replayed now. */
void kt_executor_retry_flow_recover(kt_executor *ex, const unsigned char *mask);

/* ---- leases.c: the partitions this executor owns (docs/store-async-design.md §4.1) ---------------------------

 * Every live executor computes the same owner for each partition (rendezvous hashing over the members hosting the
 * executor, kt_node_partition_owner) and takes the leases of the partitions it owns; the store's epochs and the
 * fence keep a second owner from committing. With one executor it owns them all. */

/* At start: the leases of the partitions this executor owns are taken and their unfinished executions loaded
 * (kt_executor_resume); the timer that renews, rebalances and takes is armed. */
void kt_executor_leases_start(kt_executor *ex, const kt_executor_options *opts);
/* Graceful stop: the held leases are given back (after the stop's last commit), so the next owner need not wait for
 * their expiry. */
void kt_executor_leases_stop(kt_executor *ex);
/* The membership changed (a peer with an executor came or went): partitions move now rather than at the next
 * tick. */
void kt_executor_leases_rebalance(kt_executor *ex);
/* 1 when the partition of execution id is held. */
int kt_executor_holds(const kt_executor *ex, const char *id);
/* Before a message is handled: ex->msg_exec is set to the execution it concerns. 0: handle it here. 1: it was
 * taken care of (parked until the partition's lease is ours, passed on to the partition's owner, or, sent by this
 * executor to itself for a partition it lost, dropped: the new owner rebuilds it from the store). */
int kt_executor_route(kt_executor *ex, const kt_msg *m);
/* The flush's batch, before its writes: fences every held partition the dirty executions belong to (a lost one comes
 * back in the batch's result as KT_EFENCED). */
kt_status kt_executor_fence(kt_executor *ex, kt_db_batch *b);
/* The lease tick now (renew, give back, take and load), then a flush when it changed something; while a commit is in
 * flight it is only noted (tick_due) and runs after it. */
void kt_executor_leases_tick(kt_executor *ex);
/* A partition whose lease moved (renew or fence said so): its executions, jobs, timers and replies are dropped
 * (replies answer KT_EAGAIN: the request was not committed), its parked messages go to its owner. */
void kt_executor_partition_lost(kt_executor *ex, int p);

/* An execution made for a partition this executor does not hold (parent_id: the execution whose change made it):
 * sent to that partition's owner once this turn is committed (kt_executor_send_handoffs, from the flush). */
void kt_executor_handoff(kt_executor *ex, const char *parent_id, const json_t *execution);
/* After a commit: the handoffs to their owners. 1 when some cannot leave yet (no room, the lease not taken by anyone
 * yet): they wait for a later flush, which the caller arranges. */
int kt_executor_send_handoffs(kt_executor *ex);
/* An ExecutionCreate of an execution already known: running here (a pass over the store took it in first, or it was
 * sent twice), or, when the sender says the store may hold it (body->stored), stored past CREATED (run here or by a
 * previous owner, perhaps ended). Answered KT_OK without running it again: 1. 0: take it in. */
int kt_executor_create_known(kt_executor *ex, const kt_msg *m, const kt_msg_execution_create *body);
/* The parked messages freed (the executor's last close). */
void kt_executor_leases_free(kt_executor *ex);
/* executor.c: a run forgotten (not in ex->runs any more). */
void kt_executor_run_free(kt_run *run);
/* executor.c: the unfinished executions of the partitions in mask[KT_PARTITIONS] (nonzero: load) taken in, those
 * not already running here. */
void kt_executor_resume(kt_executor *ex, const unsigned char *mask);

/* ---- attempts.c: results and the attempts in doubt ------------------------------------------------------- */

/* 1 when a worker's result is stale and must be dropped (logged at DEBUG and counted): its attempt is not the task
 * run's current one, or its epoch is not the one the attempt was sent (or adopted) under, or is newer than the lease
 * held (the partition moved on without us). j: the task run's job here, or NULL. */
int kt_executor_result_stale(kt_executor *ex, const kt_job *j, const kt_msg_worker_result *r);
/* At resume: the RUNNING attempt of tr, which a previous owner dispatched, is in doubt until a worker says it runs
 * it (adopted) or none does (KT_EV_LOST). Without remote workers (a node alone) it is lost at once: 1, and the
 * caller applies the loss. */
int kt_executor_doubt(kt_executor *ex, kt_run *run, const json_t *tr);
/* After the resume that made attempts in doubt, or when a worker joins (worker: its index, or -1 for every live
 * worker): the workers are asked which of them they run. */
void kt_executor_doubt_ask(kt_executor *ex, int worker);
/* A worker's answer (KT_MSG_WORKER_ATTEMPTS). */
void kt_executor_on_attempts(kt_executor *ex, const kt_msg *m);
/* The attempts in doubt that no live worker can hold any more (everyone answered, or the liveness timeout passed)
 * are lost: KT_EV_LOST. */
void kt_executor_doubt_check(kt_executor *ex);
void kt_executor_doubt_init(kt_executor *ex, uv_loop_t *loop);

/* task_requests.c: answers a worker task's KT_MSG_TASK_ASK (log.Fetch, execution.Resume...). */
void kt_executor_task_ask(kt_executor *ex, const kt_msg *m);

#endif
