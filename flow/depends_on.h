/* Kestra 2.0's Flow-trigger `dependsOn`, `window`, `mode`, `minSatisfied` and `onMiss` (migration guide
 * "trigger-conditions-redesign"), normalised into the multiple-condition shape `preconditions` already has
 * (flow/condition.h kt_cond_multiples), so the windows are stored, claimed and reset exactly as the preconditions' are
 * (state survives restarts; two schedulers never overwrite each other's results):
 *   {"id": "dependsOn_<triggerId>",          the stored window's conditionId
 *    "dependsOn": true,
 *    "timeWindow": window.deadline          -> DAILY_TIME_DEADLINE {deadline}
 *                  window.from + to         -> DAILY_TIME_WINDOW {startTime, endTime}
 *                  window.every (+ offset)  -> DURATION_WINDOW {window, windowAdvance}
 *                  window.lookback          -> SLIDING_WINDOW {window}
 *                  no window                -> DURATION_WINDOW P1D (the preconditions' default)
 *    "resetOnSuccess": true,                 the state resets after firing
 *    "mode": "ALL" | "ANY" | "AT_LEAST", "minSatisfied": n (AT_LEAST),
 *    "onMiss": {behavior, labels}            when given
 *    "conditions": {<key>: {"type": KT_COND_TYPE_UPSTREAM_FLOW, namespace, flowId, states, labels, when}}}
 * Entries are keyed by namespace + flowId ("company.team.flow_a", "*" for a missing part, "#2".. for repeats), so the
 * order of the entries does not matter. An entry without `states` gets the 2.0 default, every terminated state and
 * PAUSED (the shipped code's default per the research notes; the 2.0 plugin page Kite could read is silent and the
 * guide's [SUCCESS, WARNING] is called a documentation bug there), unless the trigger has its own `states`, which then
 * filters first. A `when` of an entry renders in kt_trigger_when_flow_vars (flow/trigger_when.h). `onMiss` needs a
 * `window.deadline`; the scheduler watches each deadline and fails a missed one (actors/scheduler/onmiss.c).
 * Prefix kt_depends_on. */
#ifndef KT_FLOW_DEPENDS_ON_H
#define KT_FLOW_DEPENDS_ON_H

#include <stddef.h>

#include <jansson.h>

#include "flow/validate.h"

/* 0 when the trigger has none of the properties (*out NULL); 1 with *out (a new reference); -1 when malformed: err
 * says why and where (a path under the trigger, e.g. "window" or "dependsOn[1].states") the problem is. */
int kt_depends_on_normalize(const json_t *trigger, json_t **out, char *where, size_t wcap, char *err, size_t errcap);

/* The save-time check of a trigger at `path` (triggers[i]): the first problem kt_depends_on_normalize finds,
 * reported at its location. */
void kt_depends_on_check(kt_validate_ctx *c, const json_t *trigger, const char *path);

/* 1 when the multiple condition (an element of kt_cond_multiples) came from `dependsOn`. */
int kt_depends_on_is(const json_t *multiple);

#endif
