/* What a task sees when its properties are rendered: Kestra's run context (KESTRA-execution.md §3.2), built from
 * the execution, and the rendering of a task's properties with it. Pure: no I/O. In flow/ (not the executor) because
 * two actors render: the executor every task it dispatches, the worker a WorkingDirectory's children, each when it
 * runs, with the outputs of the ones before it (docs/architecture.md). */
#ifndef KT_RENDER_H
#define KT_RENDER_H

#include <jansson.h>
#include <stddef.h>

#include "expr/expr.h"

/* The variables for a task run: flow, execution, inputs, outputs (keyed by loop values), tasks, labels, vars, task,
 * taskrun, parents/parent, globals. flow is the Flow JSON; task and taskrun may be NULL (flow level). `envs` is not
 * here: the engine finds it in the render's environment (kt_env.secrets). SECRET inputs, stored sealed, are opened
 * with the process's configured key (kt_secrets_installed: configuration, constant for the process). */
json_t *kt_render_context(const json_t *flow, const json_t *execution, const json_t *task, const json_t *taskrun);
/* The task with every property rendered except id, type, control properties, nested task lists and the properties
 * the catalogue flags KT_PF_RAW (flow/tasks.h: the task renders them itself, per record), templates
 * compiled through cache (one per flow revision; may be NULL), now() and the random functions reading env
 * (expr/expr.h). NULL with err on failure. */
json_t *kt_render_task(const json_t *flow, kt_tmpl_cache *cache, kt_env *env, const json_t *execution,
                       const json_t *task, const json_t *taskrun, char *err, size_t errcap);
/* Adds the values of the execution's SECRET-type inputs (the flow's `inputs` of type SECRET) to `used` (a JSON
 * array, kt_mask_add): what the run masks in its logs and outputs, as Kestra's RunVariables hands SECRET inputs to
 * the logger (usedSecret). */
void kt_render_secret_inputs(const json_t *flow, const json_t *execution, json_t *used);
/* The name under which a context carries the execution's ERROR logs for errorLogs() (see kt_render_error_logs). */
#define KT_RENDER_ERROR_LOGS "__kite_error_logs"
/* Registers errorLogs(): it returns the list found under KT_RENDER_ERROR_LOGS in the context being rendered
 * ([] when absent). Call once at start-up. */
void kt_render_register_functions(void);
/* Same as kt_render_task, with extra variables merged into the context (may be NULL). */
json_t *kt_render_task_with(const json_t *flow, kt_tmpl_cache *cache, kt_env *env, const json_t *execution,
                            const json_t *task, const json_t *taskrun, const json_t *extra, char *err, size_t errcap);

/* The same in a context the caller built (kt_render_context, then amended: a WorkingDirectory's child sees its parent's
 * loop value, `workerTaskrun` and `workingDir`). */
json_t *kt_render_task_in(kt_tmpl_cache *cache, kt_env *env, const json_t *ctx, const json_t *task, char *err,
                          size_t errcap);

#endif
