/* Trigger conditions (KESTRA-execution.md §5.9), evaluated as Kestra's ConditionService does, and the
 * multiple-condition windows of a Flow trigger (§5.6, §5.8). Pure: the clock and randomness come in through
 * the kt_env, so the scheduler's decisions can be replayed. Every canonical type
 * (io.kestra.plugin.core.condition.*) and every legacy alias of the catalogue (flow/tasks.c) is understood.
 *
 * Render context of a condition (Kestra's `of(flow, execution)` plus the trigger's variables):
 *   flow      {id, namespace, revision}         the flow whose trigger is evaluated
 *   execution {id, startDate, state, originalId} the execution looked at (absent for a Schedule)
 *   labels, inputs, outputs (task outputs by task id) of that execution, when there is one
 *   vars      the flow's `variables`
 *   trigger   ctx->trigger (Schedule: {date, next, previous}; Flow: {executionId, namespace, flowId,
 *             flowRevision, state}; Webhook: {body, headers, parameters}); when NULL, the variables of the
 *             execution's own trigger, as Kestra's of(flow, execution) gives them
 *   schedule  the same map as trigger, when there is a trigger and no execution (a Schedule)
 * Date conditions render `date` (default "{{ trigger.date }}") in that context. Each render works on a copy of
 * *ctx->env, so an evaluation draws the same now()/uuid() every time and ctx stays const.
 * Errors carry Kestra's words where Kestra has some ("Invalid condition with null execution", "Invalid condition
 * with no before nor after", "Text '...' could not be parsed at index N", the Pebble message of a render).
 *
 * Prefix kt_cond. */
#ifndef KT_FLOW_CONDITION_H
#define KT_FLOW_CONDITION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/env.h"
#include "base/status.h"

typedef enum kt_cond_result {
    KT_COND_ERROR = -1, /* cannot be evaluated: a render error, a bad property, an execution condition without
                           an execution ("Invalid condition with null execution"); err says why */
    KT_COND_FALSE = 0,
    KT_COND_TRUE = 1,
} kt_cond_result;

typedef struct kt_cond_ctx {
    const json_t *flow;      /* the flow being triggered (its JSON; namespace, id, revision, labels are read) */
    const json_t *execution; /* the execution the condition looks at (Kestra's Execution JSON), NULL: none */
    const json_t *trigger;   /* the `trigger` variable (see above), NULL: none */
    const char *zone;        /* zone for the day-based windows and PublicHoliday's "today"; NULL: UTC */
    const kt_env *env;       /* clock and seed for now()/uuid() in expressions; required */
} kt_cond_ctx;

/* Tests one condition (canonical type or alias). A MultipleCondition is not tested here (its truth lives in
 * a stored window, see below): it answers KT_COND_ERROR. */
kt_cond_result kt_cond_test(const json_t *cond, const kt_cond_ctx *ctx, char *err, size_t errcap);

/* Every condition of a `conditions` list, skipping MultipleCondition entries: KT_COND_TRUE when all hold
 * (also for NULL or []), KT_COND_FALSE at the first that does not, KT_COND_ERROR at the first error. */
kt_cond_result kt_cond_all(const json_t *conds, const kt_cond_ctx *ctx, char *err, size_t errcap);

/* Only the ScheduleCondition entries of a list (the ones a Schedule re-checks for each occurrence: the (S)
 * types of §5.9), the others skipped. */
kt_cond_result kt_cond_all_schedule(const json_t *conds, const kt_cond_ctx *ctx, char *err, size_t errcap);

/* 1 when `type` (canonical or alias) is a ScheduleCondition, a MultipleCondition, or any condition type Kite
 * knows (the internal sub-condition types below are not "known": no flow may name them). */
int kt_cond_is_schedule(const char *type);
int kt_cond_is_multiple(const char *type);
int kt_cond_is_known(const char *type);

/* ---- multiple conditions: legacy MultipleCondition entries and Flow-trigger `preconditions` ---- */

/* The multiple conditions of a Flow trigger, normalized: a JSON array of
 *   {"id": <conditionId as Kestra stores the window under>,
 *    "timeWindow": {"type": "DURATION_WINDOW"|"SLIDING_WINDOW"|"DAILY_TIME_WINDOW"|"DAILY_TIME_DEADLINE",
 *                   "window": <ISO duration>, "windowAdvance": <ISO duration>, "startTime", "endTime",
 *                   "deadline": <HH:MM:SS>},   (only the members that apply; defaults filled in)
 *    "resetOnSuccess": bool,
 *    "conditions": {<sub-condition id>: <condition>}}
 * in the order Kestra evaluates them (legacy entries of `conditions` first, then `preconditions`).
 * `preconditions.flows[i]` becomes sub-condition "condition_<n>" and `where[j]` "condition_<n>_<id>", as
 * Kestra numbers them; they are conditions of internal types this module tests like the others. Returns an
 * empty array when the trigger has none; NULL with err set when one is malformed. */
json_t *kt_cond_multiples(const json_t *trigger, char *err, size_t errcap);

/* The internal types of the preconditions' sub-conditions (Kestra's Flow.UpstreamFlowCondition and
 * Flow.FilterCondition), as kt_cond_multiples writes them:
 *   {"type": KT_COND_TYPE_UPSTREAM_FLOW, "namespace", "flowId", "states", "labels"}  (flows[i] as written)
 *   {"type": KT_COND_TYPE_FILTER, "id", "operand", "filters"}                       (where[j], operand filled in)
 * Both need an execution; an EXPRESSION filter renders its `value` in the condition context. */
#define KT_COND_TYPE_UPSTREAM_FLOW "io.kestra.plugin.core.trigger.Flow$UpstreamFlowCondition"
#define KT_COND_TYPE_FILTER "io.kestra.plugin.core.trigger.Flow$FilterCondition"

/* Step 2 of §5.6 for one multiple condition (an element of kt_cond_multiples) and the execution of ctx: every
 * sub-condition is tested (an error counts as false, as ConditionService.isValid does) and the true ones are set
 * to true in `results` (the window's {subConditionId: true} object, changed in place): once true, a sub-condition
 * stays true for the window. Returns how many sub-conditions were true this time. */
int kt_cond_multiple_eval(const json_t *multiple, const kt_cond_ctx *ctx, json_t *results);

/* MultipleCondition.test on a stored window: 1 when every sub-condition id of `multiple` is true in `results`
 * (so also for a multiple condition without sub-conditions), else 0. results may be NULL (no window). */
int kt_cond_multiple_holds(const json_t *multiple, const json_t *results);

/* The window a multiple condition (an element of kt_cond_multiples) opens at now_us: [start, end] in UTC
 * microseconds, computed as MultipleConditionStorageInterface.getOrCreate does (§5.8) from now (nanos dropped)
 * in `zone` (NULL: UTC, the zone of Kestra's image): a DURATION_WINDOW of a day or more starts at local
 * midnight, of an hour or more at the hour, of a minute or more at the window-sized slot of the hour, then
 * `windowAdvance` is added and end = start + window - 1 ms; SLIDING_WINDOW is [now, now + window];
 * DAILY_TIME_WINDOW and DAILY_TIME_DEADLINE count their times of day from local midnight (elapsed seconds, so
 * on a DST day 06:00 lands at 07:00 or 05:00 wall time, as in Kestra). KT_EINVAL for an unknown zone or a
 * malformed timeWindow. A window is valid at now when start < now < end. */
kt_status kt_cond_window(const json_t *multiple, int64_t now_us, const char *zone, int64_t *start_us,
                         int64_t *end_us, char *err, size_t errcap);

#endif
