/* Polling triggers (Kestra's PollingTriggerInterface, KESTRA-execution.md §5): triggers the scheduler evaluates every
 * `interval` by asking a worker to look at something outside (an HTTP endpoint for io.kestra.plugin.core.http.Trigger)
 * and that start an execution when the worker says so. This is their pure part: which types poll, their properties
 * checked as Kestra's bean validation would refuse them at save, and the trigger row's rules (when the next poll is
 * due, what an evaluation in flight, its result or its loss does to the row), as AbstractScheduler keeps them:
 *
 *   new row or changed definition: date = now, nextExecutionDate = now (a polling trigger is due at once)
 *   due:       enabled, not locked by a running execution, no evaluation in flight, nextExecutionDate <= now
 *   started:   date = now, evaluateRunningDate = now (at most one evaluation in flight), stopAfter from the definition
 *   finished:  evaluateRunningDate cleared, nextExecutionDate = now + interval; with an execution, executionId set
 *              (the lock: the next poll waits for its end, when stopAfter may disable the trigger)
 *   skipped:   the trigger's `conditions` are false: nextExecutionDate = now + interval
 *   lost:      no answer within kt_poll_eval_timeout of evaluateRunningDate (the worker died, the reply was lost):
 *              treated as a failed evaluation, so the trigger never stalls
 *
 * No clock: `now` is an argument. The scheduler (actors/scheduler/poll.c) arms its timers from kt_poll_due and commits
 * the rows; the worker (actors/worker/poll.c) evaluates. Prefix kt_poll. */
#ifndef KT_FLOW_POLL_H
#define KT_FLOW_POLL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/status.h"
#include "flow/trigger.h"

/* How long a worker may spend on one evaluation: the worker stops it past this (a request that hangs), and the
 * scheduler takes an evaluation without an answer KT_POLL_REPLY_GRACE_US later as lost. */
#define KT_POLL_EVAL_LIMIT_US (300LL * 1000000)
#define KT_POLL_REPLY_GRACE_US (30LL * 1000000)

typedef struct kt_poll_type {
    const char *type;            /* canonical class name */
    int64_t default_interval_us; /* `interval` when the trigger does not say */
} kt_poll_type;

/* The polling type of `type` (canonical or alias), NULL when it does not poll. */
const kt_poll_type *kt_poll_type_of(const char *type);

/* The trigger's `interval` (ISO-8601 duration or seconds), its type's default when absent. KT_EINVAL with err
 * ("interval: ...") when it does not parse or is not positive. */
kt_status kt_poll_interval(const json_t *def, int64_t *us, char *err, size_t errcap);

/* Save-time checks of a polling trigger beyond the property kinds: a positive interval, and for http.Trigger a `uri`
 * (when not an expression) that is an absolute http or https URI. Returns 0, or -1 with *prop the property at fault
 * ("interval", "uri") and err the message. */
int kt_poll_check(const json_t *def, const char **prop, char *err, size_t errcap);

/* The row of a polling trigger created, or whose definition changed, at now (previous: the stored row of the
 * previous definition or NULL; its `disabled` and execution lock are kept, as for a Schedule). *out is
 * overwritten. */
kt_status kt_poll_init_state(const json_t *def, const char *ns, const char *flow_id, int64_t now_us,
                             const kt_trig_state *previous, kt_trig_state *out);

typedef enum kt_poll_verdict {
    KT_POLL_WAIT,  /* nothing to do now: look again at *due_us (0: only when something changes) */
    KT_POLL_START, /* send an evaluation to a worker (kt_poll_started first) */
    KT_POLL_LOST,  /* the evaluation in flight is over its time: kt_poll_finished(.., NULL), then look again */
} kt_poll_verdict;

/* What the row asks at now; an evaluation in flight longer than lost_after_us is lost (0: the default,
 * KT_POLL_EVAL_LIMIT_US + KT_POLL_REPLY_GRACE_US). */
kt_poll_verdict kt_poll_due(const kt_trig_state *t, int64_t now_us, int64_t lost_after_us, int64_t *due_us);

/* An evaluation starts at now (date, evaluateRunningDate, stopAfter from def). */
kt_status kt_poll_started(const json_t *def, kt_trig_state *t, int64_t now_us);
/* An evaluation ended at now (or was lost, or the trigger's conditions were false): next poll at now + interval;
 * execution_id (may be NULL) is the execution it started, which locks the trigger until it ends. */
kt_status kt_poll_finished(kt_trig_state *t, int64_t now_us, int64_t interval_us, const char *execution_id);

/* Kestra's TruthUtils on a rendered condition: NULL, "", "false", "0" and "-0" are false. */
int kt_poll_truthy(const char *rendered);

#endif
