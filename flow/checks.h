/* Flow `checks` (Kestra 1.x, both dialects; docs/dialects.md): conditions on the inputs, evaluated when an execution
 * is asked for through the API, before it is created (Kestra's ExecutionController.create with
 * FlowService.getFailedChecks and Check.resolveBehavior). Each check has `condition` (1.x) or `when` (2.0's name,
 * `condition` kept as its alias: either is read in both dialects), a `message`, a `style` for the UI (ERROR,
 * SUCCESS, WARNING, INFO: INFO by default) and a `behavior` when its condition is not true: BLOCK_EXECUTION (the
 * default: no execution, the creation answers an error), FAIL_EXECUTION (created FAILED), CREATE_EXECUTION
 * (created as usual). */
#ifndef KT_FLOW_CHECKS_H
#define KT_FLOW_CHECKS_H

#include <jansson.h>

#include "base/env.h"
#include "base/status.h"
#include "flow/tasks.h"
#include "flow/yaml.h"

/* The flow_props row's property table (flow/flow.c). */
extern const kt_prop kt_check_props[];

/* What the failed checks ask, strongest first (Check.Behavior's order: the lowest one wins). */
typedef enum kt_check_behavior {
    KT_CHECK_BLOCK = 0,  /* BLOCK_EXECUTION */
    KT_CHECK_FAIL = 1,   /* FAIL_EXECUTION */
    KT_CHECK_CREATE = 2, /* CREATE_EXECUTION, or no check failed */
} kt_check_behavior;

/* Save-time rules the property table cannot say: a check needs `when` or `condition` (not both: one is the
 * other's alias). Returns the number of errors added to diags (paths checks[i]...). */
int kt_checks_validate(const json_t *checks, const kt_yaml_doc *doc, const char *file, kt_diags *diags);

/* Evaluates flow's checks with the typed inputs (the variables flow, inputs and vars, as Kestra's RunContext of the
 * flow with its inputs). A check fails when its condition does not render to the boolean true (renderTyped: the
 * text "true" is not); one that cannot be rendered fails as a BLOCK_EXECUTION check whose message is "Failed to
 * evaluate check condition. Cause: <error>" (style ERROR). *failed (may be NULL) gets a new array of the failed
 * checks as Kestra's ApiCheckFailure, {message, style, behavior} with the defaults filled, in declaration order.
 * Returns the behavior the failed checks resolve to (KT_CHECK_CREATE when none failed). */
kt_check_behavior kt_checks_evaluate(const json_t *flow, const json_t *inputs, kt_env *env, json_t **failed);

/* Kestra's text for a blocked creation, the IllegalArgumentException's message (the API answers 422 "Illegal
 * argument: " + it): "Flow execution blocked: one or more condition checks evaluated to false.\nFailed checks: "
 * and the failed checks' messages (kt_checks_evaluate's *failed) joined with ", ". Malloc'ed. */
char *kt_checks_blocked_message(const json_t *failed);

#endif
