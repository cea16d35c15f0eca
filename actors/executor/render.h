/* What a task sees when its properties are rendered: Kestra's run context (KESTRA-execution.md §3.2), built
 * from the execution, and the rendering of a task's properties with it. */
#ifndef KT_RENDER_H
#define KT_RENDER_H

#include <jansson.h>
#include <stddef.h>

#include "flow/expr.h"
#include "flow/flow.h"

/* The variables for a task run: flow, execution, inputs, outputs, labels, vars, task, taskrun, envs, globals.
 * task and taskrun may be NULL (flow-level rendering). New reference. */
json_t *kt_render_context(const kt_flow *flow, const json_t *execution, const json_t *task, const json_t *taskrun);
/* The task with every property rendered except id, type and nested task lists, templates compiled through
 * cache (one per flow revision; may be NULL). NULL with err on failure. */
json_t *kt_render_task(const kt_flow *flow, kt_tmpl_cache *cache, const json_t *execution, const json_t *task,
                       const json_t *taskrun, char *err, size_t errcap);
/* Depth-first search of a task list (and nested tasks, errors, finally, then/else, cases) by id. */
const json_t *kt_render_find_task(const json_t *tasks, const char *id);

#endif
