/* The executor's state machine: kt_exec_step(flow tasks, execution, event) changes the execution in place and
 * says what must happen next. Pure: no I/O, no clock (the event carries "now"), no randomness except the ids the
 * caller hands in through the id generator. It is what the executor actor, the unit tests and (later) the
 * simulation drive.
 *
 * Semantics follow Kestra's ExecutorService (KESTRA-execution.md §2): top-level tasks run in order; a task run
 * that ends FAILED ends the execution FAILED (unless allowFailure turns it into WARNING); the execution's final
 * state is Kestra's guessFinalState over the top-level runs. */
#ifndef KT_STEP_H
#define KT_STEP_H

#include <jansson.h>
#include <stdint.h>

#include "runtime/status.h"

typedef enum kt_exec_event_kind {
    KT_EV_START,       /* a CREATED execution is taken in (or resumed after a restart) */
    KT_EV_RESULT,      /* a worker reports the end of an attempt */
    KT_EV_LOST,        /* the attempt's worker is gone: run the task again as a new attempt */
} kt_exec_event_kind;

typedef struct kt_exec_event {
    kt_exec_event_kind kind;
    int64_t now_us;
    const char *taskrun_id; /* RESULT, LOST */
    uint32_t attempt;       /* RESULT: 0-based attempt index the result is for */
    const char *state;      /* RESULT: SUCCESS, WARNING, FAILED, KILLED */
    const json_t *outputs;  /* RESULT: may be NULL */
    int64_t started_us, ended_us;
} kt_exec_event;

/* One task attempt to hand to a worker. */
typedef struct kt_exec_dispatch {
    const char *taskrun_id; /* borrowed from the execution */
    const char *task_id;
    uint32_t attempt;
} kt_exec_dispatch;

#define KT_EXEC_MAX_DISPATCH 64
#define KT_EXEC_MAX_TOUCHED 64

typedef struct kt_exec_effects {
    int changed;                 /* the execution must be persisted */
    int ended;                   /* the execution reached a terminal state */
    int stale;                   /* the event did not apply (duplicate or old attempt) */
    size_t ndispatch;
    kt_exec_dispatch dispatch[KT_EXEC_MAX_DISPATCH];
    /* Positions in taskRunList of the task runs this step created or changed (so a commit writes only those);
     * touched_all when there were too many to list. */
    size_t ntouched;
    size_t touched[KT_EXEC_MAX_TOUCHED];
    int touched_all;
} kt_exec_effects;

typedef void (*kt_exec_idgen)(char *out); /* writes a new id (KT_ID_LEN + 1 bytes) */

/* tasks: the flow's top-level task list (objects with id, type, allowFailure...). */
kt_status kt_exec_step(const json_t *tasks, json_t *execution, const kt_exec_event *ev, kt_exec_idgen idgen,
                       kt_exec_effects *fx);

#endif
