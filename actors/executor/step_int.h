/* Internals of the executor's state machine (step.h), shared by its files and included by nothing else:
 *   step.c      the events and Kestra's `process` pass: starting CREATED runs, the end, results, retries, resume;
 *   step_events.c the events from outside the execution's runs: flow concurrency (admit, unqueue), Subflow children;
 *   step_runs.c the step's view of taskRunList (an index and a memo of lookups) and the changes that record effects;
 *   flowable.c  the task tree and the flowable tasks: their children, their next runs and their state, Pause;
 *   step_retry.c retries of failed runs (RETRY_FAILED_TASK, CREATE_NEW_EXECUTION);
 *   step_restart.c restart, replay, markAs, change-status (restart.h: called by the actor, not by the step);
 *   step_manual.c the execution-level events of the API and timers: pause, force-run, scheduleDate, SLA deadlines;
 *   step_wd.c   WorkingDirectory: one worker job whose children the worker reports, never created by the step.
 * Everything here lives for one kt_exec_step call: the pass is built, used and freed inside it. */
#ifndef KT_STEP_INT_H
#define KT_STEP_INT_H

#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "actors/executor/step.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "flow/tasks.h"
#include "base/map.h"

/* A task as the executor resolves it: for loops, one per (task, value). */
typedef struct kt_res {
    const json_t *task;
    const char *value; /* NULL outside loops */
} kt_res;

typedef struct kt_rlist {
    kt_res *v;
    size_t n, cap;
    int absent;   /* no list at all (Switch without match nor defaults): Kestra's `current == null` */
    json_t *hold; /* keeps loop value strings alive */
} kt_rlist;

typedef struct kt_pass {
    const kt_exec_flow *f;
    json_t *ex;
    kt_env *env; /* the clock reading and random source of rendering and of new ids (base/env.h) */
    kt_exec_effects *fx;
    int64_t now;
    int changed;
    /* Index of taskRunList for the whole step (runs are only ever appended): lookups cost O(matches), so a step
     * stays O(runs) instead of O(runs x tasks). */
    kt_map *by_task; /* taskId -> kt_bucket (all parents: a task has one run per parent run and loop value) */
    kt_map *by_id;   /* taskrun id -> position + 1 */
    size_t indexed;
    /* The same (list, parent) is asked for several times per pass (depending, end check, next): remember the
     * answers until a run is appended. */
    struct kt_memo {
        uint64_t sig;
        size_t indexed;
        json_t **runs;
        size_t n;
    } memo[8];
    unsigned memo_next;
} kt_pass;

/* ---- small helpers (inline: they are one line each and used everywhere) ------------------------- */

static inline const char *kt_step_str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}
static inline json_t *kt_step_runs(const kt_pass *p) { return json_object_get(p->ex, "taskRunList"); }
static inline int kt_step_streq(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

/* ---- step_runs.c: resolved lists, the taskRunList index, effects --------------------------------- */

void kt_step_rl_push(kt_rlist *l, const json_t *task, const char *value);
void kt_step_rl_free(kt_rlist *l);

/* Records that the run at `index` of taskRunList changed (fx->touched) and that the pass changed something. */
void kt_step_touch(kt_pass *p, size_t index);
/* Adds the runs appended since the last call to the index. */
void kt_step_index_sync(kt_pass *p);
/* Frees the index and the memo (kt_exec_step's last act). */
void kt_step_index_free(kt_pass *p);
/* Position of run in taskRunList, (size_t)-1 if it has none. */
size_t kt_step_index_of(kt_pass *p, const json_t *run);
/* A log line for the run (NULL: the execution) in fx->logs; once KT_EXEC_MAX_LOGS are there it is counted in
 * fx->logs_dropped instead (base/limits.h says why that is not an error). */
void kt_step_log(kt_pass *p, const json_t *run, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The run takes state (no-op when it is current already) and is touched. */
void kt_step_set_state(kt_pass *p, json_t *run, const char *state);
/* A delayed event for the caller (fx->timers), a KT_CF_TIMER command. -1 when KT_EXEC_MAX_TIMERS are there already
 * (the caller decides what that means for its run). */
int kt_step_add_timer(kt_pass *p, const json_t *run, kt_cmd command, int64_t at);

/* FNV-1a step over a string (NULL hashes as empty); seed with 1469598103934665603ULL. */
uint64_t kt_step_sig_str(uint64_t h, const char *s);
/* The last run of (task, value) under parent_id (NULL: top level), or NULL. */
json_t *kt_step_run_for(kt_pass *p, const kt_res *r, const char *parent_id);
/* The runs of a resolved list under a parent, in taskRunList order, memoised for the pass: the array belongs to the
 * pass (do not free it). */
json_t **kt_step_runs_for(kt_pass *p, const kt_rlist *l, const char *parent_id, size_t *n);
int kt_step_created(const char *s); /* CREATED or RESTARTED: a run still to start */
/* Execution.isTerminated(tasks, parent): as many terminated runs as tasks. */
int kt_step_all_terminated(kt_pass *p, const kt_rlist *l, const char *parent_id);
int kt_step_any_in_state(kt_pass *p, const kt_rlist *l, const char *parent_id, const char *state);
int kt_step_any_run(kt_pass *p, const kt_rlist *l, const char *parent_id);
/* Execution.guessFinalState: KILLED, FAILED, WARNING, PAUSED else SUCCESS; then allowFailure / allowWarning. */
const char *kt_step_guess_final(kt_pass *p, const kt_rlist *l, const char *parent_id, int allow_failure,
                                int allow_warning);
/* Execution.findTaskDependingFlowState: the finally list once it began; the errors list once a task failed (until
 * they are over, with a finally); the finally list once the tasks ended; else the tasks (fin may be NULL; out: free
 * it). */
void kt_step_depending(kt_pass *p, const kt_rlist *tasks, const kt_rlist *errors, const kt_rlist *fin,
                       const char *parent_id, kt_rlist *out);

/* ---- flowable.c: the task tree and the flowable tasks ------------------------------------------- */

/* The task of a task id in this flow revision (through kt_exec_flow.tasks when there is one), or NULL. */
const json_t *kt_step_task_of(const kt_pass *p, const char *task_id);
const kt_task_def *kt_step_def(const json_t *task); /* NULL for an unknown type */
int kt_step_is_flowable(const json_t *task);
/* The task's canonical type ends with "." short_name ("If", "ForEach"...). */
int kt_step_type_is(const json_t *task, const char *short_name);
/* Plain resolution: every enabled task of the list, no value. */
void kt_step_resolve_plain(const json_t *tasks, kt_rlist *out);
/* FlowableUtils.resolveSequentialNexts; parent NULL for the top level. */
void kt_step_next_sequential(kt_pass *p, const kt_rlist *cur, const json_t *parent);
/* task.resolveNexts for a running flowable run. */
void kt_step_flowable_nexts(kt_pass *p, const json_t *task, json_t *run);
/* task.resolveState for a running flowable run: a state, or NULL while children are still going. */
const char *kt_step_flowable_state(kt_pass *p, const json_t *task, json_t *run);
/* The Pause's delay (resume) or else timeout (fail) timer, from the date it paused. */
void kt_step_pause_timers(kt_pass *p, const json_t *task, const json_t *run);

/* ---- flowable_waitfor.c: WaitFor's loop ------------------------------------------------------------ */

/* The outputs a WaitFor run starts an iteration with: {iterationCount} (1, or the count its last iteration left). */
void kt_step_waitfor_outputs(const json_t *run, json_t *outputs);
/* resolveState of a running WaitFor once every child of this iteration succeeded (handleChildWorkerTaskResult's
 * WaitFor case): PAUSED until the next iteration (the caller arms the interval), FAILED at a maximum with
 * failOnMaxReached, or NULL to resolve it as a Sequential. `*handled` says whether it applied. */
const char *kt_step_waitfor_state(kt_pass *p, const json_t *task, json_t *run, const kt_rlist *tasks, int *handled);
/* The interval timer of a PAUSED WaitFor run. */
void kt_step_waitfor_timer(kt_pass *p, const json_t *task, const json_t *run);
/* The run's `iteration` (1 before the first next). */
long kt_step_waitfor_iteration(const json_t *run);
/* ExecutionService.retryWaitFor: the direct children of the iteration are removed (not their descendants, as in
 * Kestra), the run is CREATED
 * again with its next `iteration`. Call before anything reads the step's index. */
void kt_step_waitfor_next(kt_pass *p, json_t *run);
/* The `iteration` a child of parent gets (WaitFor: the parent's, 1 at first), 0 when none. */
long kt_step_child_iteration(kt_pass *p, const json_t *parent);

/* A timer for a subject that is not a run (KT_CMD_SLA: the SLA's index); -1 when the step's timers are full. */
int kt_step_add_timer_for(kt_pass *p, const char *subject, kt_cmd command, int64_t at);

/* ---- sla.c: flow SLAs ---------------------------------------------------------------------------- */

/* Arms the MAX_DURATION monitors of a non-terminated execution taken in (new, or after a restart). */
void kt_step_sla_arm(kt_pass *p);
/* The MAX_DURATION SLA numbered `which` is due: checked and acted on; 1 when it ended the execution. */
int kt_step_sla_due(kt_pass *p, const char *which);
/* The EXECUTION_ASSERTION SLAs of a non-terminated execution, at each of its events; 1 when one ended it. */
int kt_step_sla_changed(kt_pass *p);

/* ---- step.c ------------------------------------------------------------------------------------- */

/* What applying an event leaves to do: run Kestra's passes until the execution settles, or nothing (the event
 * decided everything itself, or did not apply: fx->stale). */
typedef enum kt_after_event { KT_SETTLE, KT_DONE } kt_after_event;
/* An execution taken in (START, or ADMIT once concurrency let it run): the delays of a previous process armed again. */
void kt_step_start(kt_pass *p);
/* KT_EV_RESUME: the paused run (or, without one, an execution paused through the API) goes on in ev->state. */
kt_status kt_step_resume(kt_pass *p, const kt_exec_event *ev);

/* ---- step_manual.c: execution-level events from the API and timers ------------------------------------------- */

/* A CREATED execution whose scheduleDate is ahead: its SCHEDULED timer armed, 1 (it waits). */
int kt_step_scheduled_later(kt_pass *p);
kt_status kt_step_ev_pause(kt_pass *p, const kt_exec_event *ev, kt_after_event *after);
kt_status kt_step_ev_scheduled(kt_pass *p, const kt_exec_event *ev, kt_after_event *after);
kt_status kt_step_ev_force_run(kt_pass *p, const kt_exec_event *ev, kt_after_event *after);
kt_status kt_step_ev_sla(kt_pass *p, const kt_exec_event *ev, kt_after_event *after);

/* A failed run (a runnable's attempt, or a Subflow's child) under a retry policy (§2.7, its own, an ancestor's or the
 * flow's): 1 when a retry was scheduled — RETRY_FAILED_TASK: the run and the execution RETRYING until KT_CMD_RETRY;
 * CREATE_NEW_EXECUTION: the run, its ancestors and the execution RETRIED until KT_CMD_RETRY_FLOW —, 0 when there is
 * none (the caller ends the run). The run's last attempt has ended already. */
int kt_step_retry_failed(kt_pass *p, json_t *tr, size_t index, const json_t *task);
/* The retry policy of a failed run: its task's own (*own = 1), else the nearest ancestor flowable's, else the
 * flow's; NULL when none. */
const json_t *kt_step_retry_policy(kt_pass *p, const json_t *run, const json_t *task, int *own);
/* A deterministic draw in [0, 1) for random retry intervals (a function of the run's id and attempts). */
double kt_step_retry_draw(const json_t *run);

/* Renders one property of a task in the run's context: *out is NULL when the task has no such property (free it);
 * -1 with err on a rendering error. */
int kt_step_render_prop(kt_pass *p, const json_t *task, const json_t *run, const char *prop, char **out, char *err,
                        size_t cap);
/* Kestra's TruthUtils: null, "false", "0", "-0" and "" are false. */
int kt_step_truthy(const char *s);
/* A boolean task property (true/false, or the strings "true"/"false"), dflt when absent. */
int kt_step_bool_prop(const json_t *task, const char *name, int dflt);

/* ---- step_wd.c ----------------------------------------------------------------------------------- */

/* The task is a WorkingDirectory (flowable, sent to a worker). */
int kt_step_is_wd(const json_t *task);
/* The run is one of a WorkingDirectory's children (its `tasks`, not its errors): part of the parent's job. */
int kt_step_wd_is_child(kt_pass *p, const json_t *run);
/* The run's job is on a worker: it has an attempt that has not ended. */
int kt_step_wd_on_worker(const json_t *run);
/* WD_CHILD: a child task run the worker reports is appended under its WorkingDirectory run, or replaces the one
 * reported before. KT_EINVAL for a document that is not such a child; stale when the job is not the current one. */
kt_status kt_step_wd_child(kt_pass *p, const kt_exec_event *ev);
/* The job's end (its attempt already ended with `state`): FAILED or KILLED end the run; otherwise its attempt is
 * dropped and the passes resolve it from its children. */
void kt_step_wd_end(kt_pass *p, json_t *run, size_t index, const char *state);
/* A lost job runs again whole: the children it reported are removed first. */
void kt_step_wd_prune(kt_pass *p, const json_t *run);
/* resolveState of a WorkingDirectory run (tasks, errors and finally resolved): NULL while its job is out or its
 * errors or finally branch runs. */
const char *kt_step_wd_state(kt_pass *p, const json_t *task, const json_t *run, const kt_rlist *tasks,
                             const kt_rlist *errors, const kt_rlist *fin);

/* ---- step_after.c: afterExecution ------------------------------------------------------------------ */

/* The flow has an afterExecution list and the execution has ended (not RETRIED): its passes run that list. */
int kt_step_after_applies(const kt_pass *p);
/* The events an ended execution still takes while its afterExecution runs are not over. */
int kt_step_after_event(kt_exec_event_kind kind);

/* ---- step_update.c: Exit, SetVariables, UnsetVariables ----------------------------------------------- */

/* A CREATED run of one of those task types runs here, in the executor, to its end. */
void kt_step_run_update(kt_pass *p, const json_t *task, json_t *run);
/* execution.Kill (step_kill.c): kills the execution it runs in. */
void kt_step_run_kill(kt_pass *p, const json_t *task, json_t *run);
/* Every run not terminated ends KILLED, its running attempt too (the execution's kill, KESTRA-execution.md §2.13), and
 * the effects say so (fx->killed): Exit KILLED and the Kill task (step_update.c). */
void kt_step_kill_all_runs(kt_pass *p);

/* ---- step_events.c ------------------------------------------------------------------------------ */

/* ADMIT of a CREATED execution: 1 when flow concurrency refused it (QUEUED, CANCELLED or FAILED: no pass), 0 when it
 * runs. */
int kt_step_admit(kt_pass *p, const kt_exec_event *ev);
/* UNQUEUE: QUEUED -> RUNNING and 0; -1 (fx->stale) when the execution is not QUEUED. */
int kt_step_unqueue(kt_pass *p);
/* CHILD_CREATED: the Subflow run records its child (wait), ends SUCCESS (no wait), or fails without one. */
kt_status kt_step_child_created(kt_pass *p, const kt_exec_event *ev);
/* SUBFLOW: the child's end becomes the Subflow run's state (ExecutableUtils.guessState). */
kt_status kt_step_subflow_ended(kt_pass *p, const kt_exec_event *ev);
/* ForEachItem's `_items` run (step_items.c): started (asks for its children), its children built, one of them
 * ended. */
int kt_step_is_items_run(const kt_pass *p, const json_t *run);
void kt_step_items_start(kt_pass *p, const json_t *task, json_t *run);
kt_status kt_step_items_created(kt_pass *p, json_t *run, size_t index, const kt_exec_event *ev);
kt_status kt_step_items_ended(kt_pass *p, json_t *run, size_t index, const kt_exec_event *ev);

#endif
