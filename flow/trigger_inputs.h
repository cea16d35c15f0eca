/* Kestra 2.0's save-time rule (inventory B7, migration guide "inputs"): an automatic trigger must supply every input
 * that has no `defaults`, else the flow is refused with Kestra's words
 *   Missing inputs for Schedule Trigger '<triggerId>', missing inputs: '<inputId>'[, '<inputId>'...]
 * (the input's `prefill` or `required: false` does not exempt it; an input gated by an input `dependsOn` is exempt).
 * Applied to Schedule and ScheduleOnDates triggers of a 2.x flow; 1.x accepts the flow (0.21: such an execution
 * fails at run time). Prefix kt_trigger_inputs. */
#ifndef KT_FLOW_TRIGGER_INPUTS_H
#define KT_FLOW_TRIGGER_INPUTS_H

#include <jansson.h>

#include "flow/validate.h"

/* Reports each offending trigger of the flow root at triggers[i].inputs (or the trigger when it has none). */
void kt_trigger_inputs_check(kt_validate_ctx *c, const json_t *root);

#endif
