/* The scheduler's pure part: the stored trigger state (Kestra's Trigger entity, KESTRA-execution.md §5.2) and
 * the Schedule / ScheduleOnDates rules (§5.3-5.5): which occurrence is due, its trigger variables, the next
 * evaluation date, recoverMissedSchedules, lateMaximumDelay, backfill. No clock and no I/O: `now` is an argument
 * and expressions render with a kt_env, so every decision is a function of (trigger definition, state, now) and
 * is unit-tested with an injected clock. The scheduler actor (actors/scheduler) arms timers and commits.
 *
 * Dates are UTC microseconds, 0 meaning "none". Prefix kt_trig (state) and kt_sched (Schedule rules). */
#ifndef KT_FLOW_TRIGGER_H
#define KT_FLOW_TRIGGER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/env.h"
#include "base/status.h"

/* ---- the stored trigger state ---- */

typedef struct kt_trig_backfill {
    int64_t start_us, end_us, current_us; /* end: 0 = until now (filled in when the backfill starts) */
    int64_t prev_next_us;                 /* nextExecutionDate before the backfill, restored after it */
    int paused;
    json_t *inputs; /* owned, may be NULL */
    json_t *labels; /* owned, may be NULL (list of {key, value} or map, as given) */
} kt_trig_backfill;

typedef struct kt_trig_state {
    char *namespace_, *flow_id, *trigger_id; /* owned */
    int64_t date_us;             /* last evaluation (or creation) date */
    int64_t next_us;             /* nextExecutionDate: when to evaluate next */
    kt_trig_backfill *backfill;  /* owned, NULL when none */
    json_t *stop_after;          /* owned array of state names, NULL when unset */
    int disabled;
    char *execution_id;          /* owned; the execution it started and that has not ended yet (a lock) */
    int64_t updated_us;
    int64_t evaluate_running_us;
    char *worker_id;             /* owned */
} kt_trig_state;

void kt_trig_state_clear(kt_trig_state *t);
/* Kestra's Trigger JSON (§5.2, KESTRA-system.md "Trigger"): dates as ISO-8601 UTC `Z` strings to the second
 * (or as Kestra prints them), absent members for 0/NULL, `disabled` always present. */
json_t *kt_trig_state_json(const kt_trig_state *t);
/* The inverse, for rows read back and for PUT /api/v1/triggers bodies (any offset accepted). KT_EINVAL with err
 * naming the member when a date does not parse or namespace/flowId/triggerId is missing. */
kt_status kt_trig_state_from_json(const json_t *j, kt_trig_state *out, char *err, size_t errcap);
/* `namespace_flowId_triggerId` (IdUtils.fromParts without tenant): the row key. Returns a malloc'ed string. */
char *kt_trig_uid(const char *ns, const char *flow_id, const char *trigger_id);

/* ---- which triggers the scheduler evaluates ---- */

typedef enum kt_trig_kind {
    KT_TRIG_OTHER = 0,        /* Webhook, Flow, unknown: no stored state */
    KT_TRIG_SCHEDULE,         /* io.kestra.plugin.core.trigger.Schedule and its alias */
    KT_TRIG_SCHEDULE_ON_DATES,
} kt_trig_kind;
kt_trig_kind kt_trig_kind_of(const char *type);

/* ---- Schedule and ScheduleOnDates ---- */

typedef enum kt_sched_recover { KT_SCHED_RECOVER_ALL, KT_SCHED_RECOVER_LAST, KT_SCHED_RECOVER_NONE } kt_sched_recover;

typedef struct kt_sched kt_sched; /* a compiled trigger definition (cron parsed, zone resolved, dates rendered) */

/* Compiles one trigger of a flow (the trigger's JSON after plugin defaults). default_zone: the server's default
 * time zone (NULL: UTC); default_recover: the configured recoverMissedSchedules default. flow: the flow JSON
 * (ScheduleOnDates renders `dates` in the flow's context). KT_EINVAL with err when the cron, the zone or a date
 * does not compile. */
kt_status kt_sched_compile(const json_t *trigger, const json_t *flow, const char *default_zone,
                           kt_sched_recover default_recover, const kt_env *env, kt_sched **out, char *err,
                           size_t errcap);
void kt_sched_free(kt_sched *s);
kt_trig_kind kt_sched_kind(const kt_sched *s);
kt_sched_recover kt_sched_recover_mode(const kt_sched *s);
const char *kt_sched_zone(const kt_sched *s); /* the zone dates are expressed in */

/* nextExecutionDate of a trigger seen for the first time at now (§5.2): the next occurrence after now, the
 * earliest date for ScheduleOnDates. */
kt_status kt_sched_first(const kt_sched *s, int64_t now_us, int64_t *next_us);

/* Applied to a stored state when the scheduler starts, and when a trigger is re-enabled (§5.4): LAST moves
 * next_us to the latest past occurrence if after date_us, NONE to the next occurrence after now, ALL keeps it. */
void kt_sched_recover(const kt_sched *s, kt_trig_state *t, int64_t now_us);

/* What one evaluation at now decides (Schedule.evaluate + AbstractScheduler.handle). */
typedef enum kt_sched_verdict {
    KT_SCHED_WAIT,  /* nothing due yet: arm a timer for *due_us */
    KT_SCHED_FIRE,  /* start an execution for this occurrence (fire->vars, fire->date_us) */
    KT_SCHED_SKIP,  /* due but not started (conditions false, backfill paused): just move to the next date */
    KT_SCHED_FAIL,  /* a condition or render error: a FAILED execution is emitted with fire->error */
} kt_sched_verdict;

typedef struct kt_sched_fire {
    int64_t date_us;      /* the occurrence fired */
    json_t *vars;         /* owned: trigger variables {date, next, previous} as ISO strings with the zone's
                             offset (Schedule); {} for ScheduleOnDates */
    int64_t schedule_date_us; /* ScheduleOnDates: the execution's scheduleDate; 0 otherwise */
    char error[256];      /* KT_SCHED_FAIL: "Unable to evaluate the Schedule trigger '<id>'..." */
} kt_sched_fire;
void kt_sched_fire_clear(kt_sched_fire *f);

/* Evaluates the state at now. `flow` gives the conditions their context. On FIRE, SKIP and FAIL the caller
 * then calls kt_sched_advance. *due_us (WAIT) is when to look again. */
kt_sched_verdict kt_sched_evaluate(const kt_sched *s, const json_t *trigger_def, const json_t *flow,
                                   const kt_trig_state *t, int64_t now_us, const kt_env *env, kt_sched_fire *fire,
                                   int64_t *due_us);

/* After an evaluation that was not WAIT (nextEvaluationDate, §5.4): date_us becomes the evaluated occurrence,
 * next_us the next one (conditions and lateMaximumDelay applied), a backfill's current date advances, and a
 * backfill past its end is removed with next_us restored. */
kt_status kt_sched_advance(const kt_sched *s, const json_t *trigger_def, const json_t *flow, kt_trig_state *t,
                           int64_t now_us, const kt_env *env);

/* Starts a backfill (PUT /api/v1/triggers with `backfill`): current = start, end defaults to now, the current
 * next_us saved as prev_next_us. bf is taken over (its owned members move into t). */
void kt_sched_backfill_start(kt_trig_state *t, kt_trig_backfill *bf, int64_t now_us);

#endif
