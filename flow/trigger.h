/* The scheduler's pure part: the stored trigger state (Kestra's Trigger entity, KESTRA-execution.md §5.2) and
 * the Schedule / ScheduleOnDates rules (§5.3-5.5): which occurrence is due, its trigger variables, the next
 * evaluation date, recoverMissedSchedules, lateMaximumDelay, backfill. No clock and no I/O: `now` is an argument
 * and expressions render with a kt_env, so every decision is a function of (trigger definition, state, now) and
 * is unit-tested with an injected clock. The scheduler actor (actors/scheduler) arms timers and commits.
 *
 * Dates are UTC microseconds, 0 meaning "none". Prefix kt_trig (state) and kt_sched (Schedule rules).
 *
 * The actor's cycle for one stored trigger (the state is the store's row):
 *   new trigger:        kt_sched_init_state(s, ..., NULL, &t)            -> write the row
 *   flow revision:      same definition (kt_sched_same_definition) -> keep the row as it is;
 *                       else kt_sched_init_state(s, ..., &old_row, &t)   -> write the row
 *   scheduler start:    kt_sched_recover_missed(s, flow, &t, now, env)          -> write the row if it changed
 *   timer / change:     v = kt_sched_evaluate(s, flow, &t, now, env, &fire, &due)
 *                       WAIT: arm a timer at due (none when due == 0)
 *                       FIRE: kt_sched_advance(...); t.execution_id = the new execution's id; commit the
 *                             execution and the row together; then evaluate again (ALL: missed ticks follow)
 *                       SKIP / FAIL: kt_sched_advance(...) (FAIL: also commit the FAILED execution) and
 *                             evaluate again
 *   execution ended:    kt_trig_reset_execution(&t, final_state)         -> write the row
 * A trigger with execution_id set (a running execution), disabled, or whose flow or definition is disabled is
 * not evaluated: the actor checks that before calling kt_sched_evaluate. */
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
    int64_t next_us;             /* nextExecutionDate: when to evaluate next (0: none) */
    kt_trig_backfill *backfill;  /* owned, NULL when none */
    json_t *stop_after;          /* owned array of state names, NULL when unset */
    int disabled;
    char *execution_id;          /* owned; the execution it started and that has not ended yet (a lock) */
    int64_t updated_us;
    int64_t evaluate_running_us;
    char *worker_id;             /* owned */
} kt_trig_state;

void kt_trig_state_clear(kt_trig_state *t);
void kt_trig_backfill_free(kt_trig_backfill *bf);
/* A deep copy of src into *dst (dst is overwritten, not cleared first). KT_ENOMEM leaves *dst cleared. */
kt_status kt_trig_state_copy(kt_trig_state *dst, const kt_trig_state *src);
/* Kestra's Trigger JSON (§5.2, KESTRA-system.md "Trigger"), members in Trigger.java's order: dates as ISO-8601
 * UTC `Z` strings (fraction only when not whole seconds), absent members for 0/NULL, `disabled` always present,
 * backfill `paused` always present, backfill labels as a list of {key, value}. NULL only when out of memory. */
json_t *kt_trig_state_json(const kt_trig_state *t);
/* The inverse, for rows read back and for PUT /api/v1/triggers bodies: dates with any offset, an optional
 * `[Zone]` suffix (ZonedDateTime.toString) or epoch seconds as a number; unknown members ignored. KT_EINVAL with
 * err naming the member when a date does not parse, a member has the wrong type, or namespace/flowId/triggerId
 * is missing; *out is then cleared. */
kt_status kt_trig_state_from_json(const json_t *j, kt_trig_state *out, char *err, size_t errcap);
/* `namespace_flowId_triggerId` (IdUtils.fromParts without tenant): the row key. Returns a malloc'ed string. */
char *kt_trig_uid(const char *ns, const char *flow_id, const char *trigger_id);

/* Trigger.resetExecution (the execution the trigger started ended in final_state, a state name): clears
 * execution_id, updated and worker_id (evaluate_running kept); when stop_after is set, disabled becomes
 * "final_state is in stop_after" (so it may also re-enable, as in Kestra). */
void kt_trig_reset_execution(kt_trig_state *t, const char *final_state);
/* Trigger.unlock (POST .../unlock): clears execution_id, updated, evaluate_running and worker_id. Returns 1 when
 * the trigger was locked (execution_id or evaluate_running set), 0 when not (Kestra's 409 "Trigger is not
 * locked"). */
int kt_trig_unlock(kt_trig_state *t);
/* POST /api/v1/triggers/backfill/delete: next_us restored to the backfill's prev_next_us, backfill removed.
 * Returns 0, or -1 when there is no backfill ("No backfill found"). */
int kt_trig_backfill_delete(kt_trig_state *t);

/* ---- which triggers the scheduler evaluates ---- */

typedef enum kt_trig_kind {
    KT_TRIG_OTHER = 0,        /* Webhook, Flow, unknown: no stored state */
    KT_TRIG_SCHEDULE,         /* io.kestra.plugin.core.trigger.Schedule and its alias */
    KT_TRIG_SCHEDULE_ON_DATES,
    KT_TRIG_POLLING,          /* a polling trigger (flow/poll.h: io.kestra.plugin.core.http.Trigger): evaluated by a
                                 worker every `interval` */
} kt_trig_kind;
kt_trig_kind kt_trig_kind_of(const char *type);

/* ---- Schedule and ScheduleOnDates ---- */

typedef enum kt_sched_recover { KT_SCHED_RECOVER_ALL, KT_SCHED_RECOVER_LAST, KT_SCHED_RECOVER_NONE } kt_sched_recover;
/* "ALL", "LAST", "NONE" (exact) -> 0 and *out; -1 otherwise (for the configuration default). */
int kt_sched_recover_of(const char *name, kt_sched_recover *out);

typedef struct kt_sched kt_sched; /* a compiled trigger definition (cron parsed, zone resolved, dates rendered) */

/* Compiles one trigger of a flow (the trigger's JSON after plugin defaults; a deep copy is kept, so the caller
 * may free it). default_zone: the server's default time zone (NULL: UTC); it is the zone of a trigger without
 * `timezone`, and the zone the dates given to schedule conditions are written in (Kestra renders them with the
 * server's zone, whatever the trigger's). default_recover: the configured recoverMissedSchedules default.
 * flow: the flow JSON (ScheduleOnDates renders `dates` in the flow's context). KT_EINVAL with err when the type
 * is not a Schedule/ScheduleOnDates, or the cron, the zone, lateMaximumDelay or a date does not compile. */
kt_status kt_sched_compile(const json_t *trigger, const json_t *flow, const char *default_zone,
                           kt_sched_recover default_recover, const kt_env *env, kt_sched **out, char *err,
                           size_t errcap);
void kt_sched_free(kt_sched *s);
kt_trig_kind kt_sched_kind(const kt_sched *s);
kt_sched_recover kt_sched_recover_mode(const kt_sched *s);
const char *kt_sched_zone(const kt_sched *s); /* the zone dates are expressed in */
const char *kt_sched_id(const kt_sched *s);   /* the trigger's id */
const json_t *kt_sched_definition(const kt_sched *s); /* the trigger JSON it was compiled from */

/* 1 when two trigger definitions are the same (FlowService.findUpdatedTrigger's equality: every property
 * equal). A flow revision whose trigger is the same keeps the stored state untouched. */
int kt_sched_same_definition(const json_t *a, const json_t *b);

/* nextExecutionDate of a trigger seen for the first time at now (§5.2): the next occurrence strictly after now;
 * for ScheduleOnDates the earliest date (now when there is none). 0 when the cron has no occurrence. */
kt_status kt_sched_first(const kt_sched *s, int64_t now_us, int64_t *next_us);

/* The state of a trigger created, or whose definition changed, at now (Trigger.of(flow, trigger, ctx, last)):
 * ids from (ns, flow_id, the sched's id), date = now (whole seconds), next = kt_sched_first, stopAfter from the
 * definition, no backfill. previous: the stored row of the previous definition, or NULL: its `disabled` is kept,
 * and its execution_id too (Kite keeps the lock so the new definition never overlaps a running execution;
 * Kestra drops it). *out is overwritten. */
kt_status kt_sched_init_state(const kt_sched *s, const char *ns, const char *flow_id, int64_t now_us,
                              const kt_trig_state *previous, kt_trig_state *out);

/* Applied to a stored state when the scheduler starts (§5.4): LAST moves next_us to the latest past occurrence
 * (nearest one satisfying the schedule conditions) when it is after date_us, NONE to the next occurrence after
 * now, ALL keeps it. A state without next_us gets nextEvaluationDate from its date. Returns 1 when *t changed. */
int kt_sched_recover_missed(const kt_sched *s, const json_t *flow, kt_trig_state *t, int64_t now_us,
                            const kt_env *env);

/* PUT /api/v1/triggers (TriggerController.update + Trigger.update) on the stored *t: `disabled` is the new
 * value; re-enabling applies recoverMissedSchedules (LAST: latest past occurrence, NONE: next after now, ALL:
 * next occurrence after date_us); bf (may be NULL; heap-allocated, t takes it as kt_sched_backfill_start does) starts
 * a backfill: current = start, end defaults to now, the current next_us saved as prev_next_us; then next_us =
 * nextEvaluationDate (from the backfill's current date, or date_us). Disabled: next_us = 0. */
kt_status kt_sched_update(const kt_sched *s, const json_t *flow, kt_trig_state *t, int disabled,
                          kt_trig_backfill *bf, int64_t now_us, const kt_env *env);

/* What one evaluation at now decides (AbstractScheduler.handle + Schedule.evaluate). */
typedef enum kt_sched_verdict {
    KT_SCHED_WAIT,  /* nothing due: arm a timer for *due_us (0: none, e.g. a paused backfill: wait for a change) */
    KT_SCHED_FIRE,  /* start an execution for this occurrence (fire->*) */
    KT_SCHED_SKIP,  /* due but not started (conditions false, late, render error): just move to the next date */
    KT_SCHED_FAIL,  /* a condition could not be evaluated: a FAILED execution is emitted (fire->error, labels) */
} kt_sched_verdict;

typedef struct kt_sched_fire {
    int64_t date_us;      /* the occurrence evaluated (0 when none was reached) */
    json_t *vars;         /* owned: FIRE: trigger variables {date, next, previous} (next/previous absent when none)
                             as ISO strings with the zone's offset, `2024-12-20T10:00:00+01:00` (`Z` for UTC), as
                             Kestra's execution shows them; the execution's `variables` are {"schedule": vars}.
                             {} for ScheduleOnDates. */
    json_t *labels;       /* owned list of {key, value}: FIRE and FAIL: the trigger's rendered labels, then the
                             backfill's (the flow's non-system labels go first, added by the caller); [] when the
                             FAIL comes from the trigger's pre-check (`precheck`) */
    json_t *inputs;       /* owned map: FIRE: the trigger's `inputs` rendered, overridden by the backfill's; not
                             typed (the caller adds the flow's defaults and types them like execution inputs) */
    int64_t schedule_date_us; /* ScheduleOnDates: the execution's scheduleDate; 0 otherwise */
    int precheck;         /* FAIL: the trigger's `conditions` failed before the schedule was looked at (Kestra's
                             "Unable to evaluate the trigger '<id>'") */
    int backfill;         /* FIRE: the occurrence comes from a backfill */
    char error[256];      /* FAIL, and SKIP after a render error: why, for the trigger's log */
} kt_sched_fire;
void kt_sched_fire_clear(kt_sched_fire *f);

/* Evaluates the state at now (flow: the flow JSON, for the conditions' context; env: now() and randomness for
 * the renders). Candidates are next_us <= now; an occurrence more than 1 s after now is never fired. The
 * trigger's `conditions` are checked first with trigger = {date: nextExecutionDate} (false: SKIP, error: FAIL
 * precheck); then the occurrence d (backfill: its current date; paused backfill: WAIT 0) is the first cron time
 * >= d - 1 s; lateMaximumDelay (no backfill) skips it when older than now - delay; the schedule conditions are
 * checked with trigger = schedule = {date, next, previous} (false: SKIP, error: FAIL) and then next/previous are
 * the nearest occurrences satisfying them (searched within +-10 years and 10 000 occurrences). *fire is
 * initialised here (clear it after). */
kt_sched_verdict kt_sched_evaluate(const kt_sched *s, const json_t *flow, const kt_trig_state *t, int64_t now_us,
                                   const kt_env *env, kt_sched_fire *fire, int64_t *due_us);

/* After an evaluation that was not WAIT (nextEvaluationDate + checkBackfill, §5.4): date_us becomes the evaluated
 * occurrence (the old next_us during a backfill), next_us the next one (the first later occurrence satisfying
 * the conditions; else the next occurrence, then lateMaximumDelay applied), a backfill's current date advances,
 * and a backfill whose next date is past its end is removed with next_us restored. A precheck FAIL restarts
 * from now. FAIL also resets the execution (kt_trig_reset_execution with FAILED: stopAfter applies). The
 * locks (execution_id, evaluate_running, worker_id) are cleared, updated_us = now: on FIRE the caller then sets
 * execution_id. */
kt_status kt_sched_advance(const kt_sched *s, const json_t *flow, kt_trig_state *t, kt_sched_verdict verdict,
                           const kt_sched_fire *fire, int64_t now_us, const kt_env *env);

/* Starts a backfill on t (Trigger.initBackfill): current = start, end defaults to now, the current next_us saved
 * as prev_next_us. bf (heap-allocated, e.g. the one kt_trig_state_from_json read from a PUT body, detached from
 * that state) becomes t->backfill; a previous backfill is freed. Does not recompute next_us (kt_sched_update does). */
void kt_sched_backfill_start(kt_trig_state *t, kt_trig_backfill *bf, int64_t now_us);

#endif
