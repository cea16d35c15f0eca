/* The executor's state machine: kt_exec_step(flow, execution, event, env) changes the execution in place and says
 * what must happen next. Pure: no I/O, no clock, no system randomness. The event carries "now" for the states it
 * sets; the environment (base/env.h) is the clock reading now() sees and the seeded random source of new task-run ids,
 * uuid(), id() and randomInt(), so the same (flow, execution, event, env) always gives byte-identical results.
 *
 * It follows Kestra's ExecutorService (KESTRA-execution.md §2): apply the event, then repeat Kestra's `process`
 * pass until nothing changes — end of the execution when the current top-level list (tasks, or errors after a
 * failure) is terminated; next runs of the top level and of every running flowable (Sequential, Parallel, If,
 * Switch, ForEach, EachSequential, EachParallel, Dag, AllowFailure); CREATED runs started (runIf, workers for
 * runnables, RUNNING for flowables, Labels applied here); flowable parents resolved from their children
 * (guessFinalState, errors branches, allowFailure/allowWarning). */
#ifndef KT_STEP_H
#define KT_STEP_H

#include <jansson.h>
#include <stdint.h>

#include "base/env.h"
#include "base/limits.h" /* KT_EXEC_MAX_*: what each capacity does when reached */
#include "base/status.h"
#include "expr/expr.h"
#include "runtime/command.h"

typedef enum kt_exec_event_kind {
    KT_EV_START,  /* a CREATED execution is taken in (or resumed after a restart) */
    KT_EV_RESULT, /* a worker reports the end of an attempt */
    KT_EV_LOST,   /* the RUNNING attempt's worker is gone (dead worker, restart): the task runs again as a new attempt */
    KT_EV_RETRY,  /* a retry delay is over: the RETRYING task run runs again as a new attempt */
    KT_EV_KILL,   /* kill requested: everything not terminated ends KILLED */
    KT_EV_RESUME, /* resume a PAUSED task run (API, Pause delay) to `state` RUNNING, or FAILED (Pause timeout) */
    KT_EV_SUBFLOW, /* a Subflow run's child ended: `state` is the child's state, `outputs` the task outputs, `error`
                      (may be NULL) why its outputs could not be extracted */
    /* The events below are the changes the actor used to make itself: it now only gathers the facts they carry. */
    KT_EV_ADMIT,   /* an execution is taken in: a CREATED one passes flow concurrency first (`running` executions of
                      its flow hold a slot), and is QUEUED, CANCELLED or FAILED when the limit is reached; any other
                      one goes on as with START */
    KT_EV_UNQUEUE, /* a QUEUED execution's turn came: it runs, without a new check */
    KT_EV_CHILD_CREATED, /* the caller built the child execution of Subflow run `taskrun_id`: `child` is it, or NULL
                            with `error` saying why it could not be built */
    KT_EV_WD_CHILD, /* a worker reports `taskrun`, a child task run of WorkingDirectory run `taskrun_id` whose job is
                       attempt `attempt`: appended, or replacing the one it reported before */
    KT_EV_SLA,      /* the deadline of MAX_DURATION SLA number `taskrun_id` (its index in the flow's `sla`) is due */
    KT_EV_PAUSE,    /* the API pauses a RUNNING execution: PAUSED, no task run changes (resumed as any pause) */
    KT_EV_FORCE_RUN, /* the API forces it to run now: CREATED (waiting for its scheduleDate) starts, QUEUED leaves the
                        queue, PAUSED resumes; none of them passes flow concurrency (Kestra's forceRun) */
    KT_EV_SCHEDULED, /* the scheduleDate of a CREATED execution came: it starts (RUNNING, without concurrency) */
} kt_exec_event_kind;

typedef struct kt_exec_event {
    kt_exec_event_kind kind;
    int64_t now_us;
    const char *taskrun_id; /* RESULT, LOST */
    uint32_t attempt;       /* RESULT: 0-based attempt index the result is for */
    const char *state;      /* RESULT: SUCCESS, WARNING, FAILED, KILLED; RESUME: RUNNING or FAILED */
    const json_t *outputs;  /* RESULT: may be NULL; RESUME: the typed onResume inputs, may be NULL */
    int64_t started_us, ended_us;
    long running;          /* ADMIT: executions of the same flow RUNNING or PAUSED, this one excluded */
    const json_t *child;   /* CHILD_CREATED: the child execution (borrowed), NULL when it could not be built */
    const char *error;     /* CHILD_CREATED without child, SUBFLOW: the reason, logged on the run */
    size_t batches;        /* CHILD_CREATED of a ForEachItem `_items` run: how many children were built (child NULL;
                              outputs {subflowOutputsBaseUri}) */
    const json_t *taskrun; /* WD_CHILD: the child task run (borrowed) */
    long iteration;        /* RESUME from a WaitFor interval timer: the iteration it was armed for (0: any) */
} kt_exec_event;

/* The flow revision an execution runs. */
typedef struct kt_exec_flow {
    const json_t *flow;        /* Kestra Flow JSON: tasks, errors, outputs, variables... */
    kt_tmpl_cache *templates;  /* compiled expressions of this revision (may be NULL) */
    const struct kt_map *tasks; /* task id -> task, from kt_exec_index_tasks (may be NULL: searched each time) */
} kt_exec_flow;

/* One task attempt to hand to a worker. */
typedef struct kt_exec_dispatch {
    const char *taskrun_id; /* borrowed from the execution */
    const char *task_id;
    uint32_t attempt;
} kt_exec_dispatch;

/* A line for the task run's logs, produced by the executor itself (runIf, flowable errors...). */
/* A delayed event the caller must deliver back at at_us (Kestra's ExecutionDelay), a KT_CF_TIMER command:
 * KT_CMD_RETRY (KT_EV_RETRY), KT_CMD_RESUME_FLOW (KT_EV_RESUME to RUNNING) or KT_CMD_PAUSE_TIMEOUT (KT_EV_RESUME to
 * FAILED), for taskrun_id; KT_CMD_SLA (KT_EV_SLA), for the SLA whose index taskrun_id holds; KT_CMD_SCHEDULED
 * (KT_EV_SCHEDULED), taskrun_id empty. */
typedef struct kt_exec_timer {
    char taskrun_id[32];
    kt_cmd command;
    int64_t at_us;
    long iteration; /* a WaitFor interval: the iteration it ends, carried back as kt_exec_event.iteration (else 0) */
} kt_exec_timer;

typedef struct kt_exec_log {
    char taskrun_id[32];
    char level[8];
    char message[512];
} kt_exec_log;

typedef struct kt_exec_effects {
    int changed;          /* the execution must be persisted */
    int ended;            /* the execution reached a terminal state */
    int stale;            /* the event did not apply (duplicate or old attempt) */
    int killed;           /* the execution was killed: workers must stop its running attempts */
    int kill_children;    /* ... and its unfinished Subflow children too (execution.Kill's propagateKill) */
    size_t ndispatch;
    int dispatch_overflow; /* more runs than fit: the caller must look for RUNNING runnable attempts itself */
    kt_exec_dispatch dispatch[KT_EXEC_MAX_DISPATCH];
    /* Positions in taskRunList of the task runs created or changed (so a commit writes only those);
     * touched_all when there were too many to list. */
    size_t ntouched;
    size_t touched[KT_EXEC_MAX_TOUCHED];
    int touched_all;
    size_t nlogs;
    kt_exec_log logs[KT_EXEC_MAX_LOGS];
    size_t logs_dropped; /* lines beyond KT_EXEC_MAX_LOGS: the caller says how many in the execution's logs */
    size_t ntimers;
    kt_exec_timer timers[KT_EXEC_MAX_TIMERS];
    /* Subflow runs started: the caller builds each child execution and answers with KT_EV_CHILD_CREATED. spec is
     * {namespace, flowId, revision?, inputs, labels, wait, inheritLabels, taskId, taskType} (owned: decref it).
     * A ForEachItem `_items` run's spec also has forEachItem: true and splits (the URI of the file listing the
     * batches), and its inputs are still to render per batch (step_items.c). */
    size_t nsubflows;
    struct {
        char taskrun_id[32];
        json_t *spec;
    } subflows[KT_EXEC_MAX_SUBFLOWS];
} kt_exec_effects;

/* env is drawn from during the step (rendering, new ids): a replay must start from the same env (kt_env_init with
 * the same clock reading and seed). The executor gives it the event's now_us as its clock reading. */
kt_status kt_exec_step(const kt_exec_flow *flow, json_t *execution, const kt_exec_event *ev, kt_env *env,
                       kt_exec_effects *fx);

/* A Subflow task's child as the task asks for it (KESTRA-execution.md §2.16): its dynamic properties (namespace,
 * flowId, revision, inputs, labels, scheduleDate) rendered for the task run, plus wait, inheritLabels, taskId and
 * taskType; NULL with err when one does not render. What the step hands to the actor when the run starts, and what
 * the actor renders again for a child whose row went missing (subflow.c). */
json_t *kt_exec_subflow_spec(const kt_exec_flow *f, const json_t *execution, const json_t *task, const json_t *run,
                             kt_env *env, char *err, size_t errcap);

/* The execution has ended (not RETRIED) and some task of the flow's afterExecution list has no terminated run yet:
 * it is not over — its actor keeps it, takes the results of those runs, and tells its end (waiters, parent,
 * concurrency) once they are (step_after.c). The scheduler hears of the terminal state at once. */
int kt_exec_after_pending(const kt_exec_flow *flow, const json_t *execution);

/* Subflow restartBehavior: 1 when a Subflow run restarted by hand restarts its failed child (RETRY_FAILED), 0 when it
 * makes a new one (NEW_EXECUTION). Unset: RETRY_FAILED in a 2.x flow (Kestra's default since 0.21), NEW_EXECUTION in a
 * 1.x flow (the 0.21 source Kite follows has no restartBehavior: a restart made a new child). subflow.c. */
int kt_exec_subflow_restarts(const json_t *flow, const json_t *task);

/* The flow's `concurrency.limit` (KESTRA-execution.md §2.14), 0 when it has none: how many of its executions may be
 * RUNNING or PAUSED at once. The actor uses it to decide when a slot is free for a QUEUED one. */
long kt_exec_concurrency_limit(const json_t *flow);

/* Every task of the flow by id (nested ones included), for kt_exec_flow.tasks; free with kt_map_free. */
struct kt_map *kt_exec_index_tasks(const json_t *flow);
/* Depth-first search of a task tree (tasks, errors, then, else, cases, defaults, Dag entries) by id. */
const json_t *kt_exec_find_task(const json_t *flow, const char *task_id);

#endif
