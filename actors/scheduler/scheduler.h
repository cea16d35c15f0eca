/* The scheduler actor (KESTRA-execution.md §5): it starts executions from Schedule and ScheduleOnDates triggers at
 * their dates, and from Flow triggers when another execution changes state. It owns no state of its own: the
 * trigger rows and the multiple-condition windows are in the store, and it keeps only what makes them fast to
 * act on (the flows' latest revisions with their compiled triggers, and one loop timer for the earliest due
 * trigger, over a heap of due dates: no polling).
 *
 * Exactly once: a tick's execution (CREATED) and the trigger row that moves past the tick and locks it with the
 * execution's id are written in one transaction, and only then is the executor told. A crash before the commit
 * leaves the tick due (fired after the restart, as recoverMissedSchedules says); after it, the executor resumes the
 * CREATED execution from the store and the lock keeps the tick from firing again. The lock is released when the
 * executor reports the execution's end (KT_MSG_EXECUTION_CHANGED), or at start when the execution is found ended.
 * Flow-trigger executions are written in the same transaction as the windows their evaluation changed. */
#ifndef KT_SCHEDULER_H
#define KT_SCHEDULER_H

#include <stdint.h>

#include <jansson.h>

#include "actors/names.h"
#include "flow/trigger.h"
#include "runtime/node.h"
#include "store/store.h"


typedef struct kt_scheduler kt_scheduler;

typedef struct kt_scheduler_options {
    const json_t *plugin_defaults;  /* the configuration's plugins.defaults (may be NULL); the scheduler keeps a ref */
    const char *default_zone;       /* the zone of a Schedule without `timezone` (NULL: UTC, as Kestra's image) */
    kt_sched_recover recover;       /* recoverMissedSchedules when a trigger does not say (Kestra: ALL) */
    int64_t poll_lost_after_us;     /* a polling trigger's evaluation unanswered this long is given up (flow/poll.h;
                                       0: the default, 5 min 30 s; tests shorten it) */
    int64_t reconcile_interval_us;  /* how often the flows' revisions are compared with the store's, for a flow change
                                       whose message was lost (0: the default, 60 s; negative: never) */
} kt_scheduler_options;

/* Spawns the actor: loads every flow's latest revision, creates, updates and deletes trigger rows to match them,
 * releases locks whose execution has ended, applies recoverMissedSchedules, and arms the first due date. */
kt_status kt_scheduler_start(kt_node *node, kt_store *store, const kt_scheduler_options *opts, kt_scheduler **out);

/* Counters for tests and benchmarks: executions started (ticks and Flow triggers), trigger evaluations. */
uint64_t kt_scheduler_started(const kt_scheduler *s);
uint64_t kt_scheduler_evaluations(const kt_scheduler *s);

#endif
