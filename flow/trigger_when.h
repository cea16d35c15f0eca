/* Kestra 2.0's trigger `when` (migration guide "trigger-conditions-redesign"): a Pebble expression on every trigger
 * type that replaces the `conditions` list; the trigger fires when it renders true and is skipped when not. Truth is
 * the Expression condition's (not blank, not "false" once trimmed), so a `when` migrated from an Expression
 * condition answers as the condition did. Where it is evaluated, per trigger type:
 *   Schedule, ScheduleOnDates  per candidate date, as a schedule condition (flow/schedule.c appends it to the
 *                              trigger's conditions): a false date is skipped and the next occurrence tried;
 *                              context trigger = schedule = {date, next, previous}
 *   Webhook                    with the execution it would start (trigger.body, trigger.headers, trigger.parameters);
 *                              false: 204, as conditions
 *   polling (http.Trigger)     with the conditions, before the poll
 *   Flow                       the trigger's `when` and each `dependsOn` entry's, in kt_trigger_when_flow_vars
 * A flow using `when` is 2.x (flow/dialect.c); the construct itself works the same in both dialects.
 * Prefix kt_trigger_when. */
#ifndef KT_FLOW_TRIGGER_WHEN_H
#define KT_FLOW_TRIGGER_WHEN_H

#include <stddef.h>

#include <jansson.h>

#include "base/env.h"
#include "flow/condition.h"

/* The trigger's `when` as an Expression condition (a new reference), NULL when it has none. */
json_t *kt_trigger_when_condition(const json_t *trigger);

/* The trigger's `when` in a condition context (flow/condition.h's variables): KT_COND_TRUE when absent. */
kt_cond_result kt_trigger_when_test(const json_t *trigger, const kt_cond_ctx *ctx, char *err, size_t errcap);

/* The trigger's `conditions`, then its `when`: what a Webhook or a polling trigger checks. */
kt_cond_result kt_trigger_conditions_test(const json_t *trigger, const kt_cond_ctx *ctx, char *err, size_t errcap);

/* A `when` rendered in vars (env may be NULL): KT_COND_TRUE / FALSE, or ERROR with the engine's message. */
kt_cond_result kt_trigger_when_eval(const char *when, const json_t *vars, const kt_env *env, char *err,
                                    size_t errcap);

/* The variables of a Flow trigger's `when` (top level and `dependsOn` entries) for the upstream execution up
 * (Kestra's Execution JSON, task runs included when known), in the triggered flow `flow`. The guide's bare names
 * and the `trigger.` prefix Kestra's own rewrite of flow-condition-not uses are both there:
 *   namespace, flowId, executionId, state, labels ({key: value}), outputs (the upstream flow outputs, {} when none),
 *   hasRetryAttempt (a task run with more than one attempt)
 *   trigger   {executionId, namespace, flowId, flowRevision, state, labels, outputs}
 *   execution {id, state} of the upstream, flow {id, namespace, revision} of the triggered flow, vars (its variables)
 * A new reference. */
json_t *kt_trigger_when_flow_vars(const json_t *flow, const json_t *up);

#endif
