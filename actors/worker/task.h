/* The contract between the worker and task implementations. A task's start function runs on the loop; it
 * finishes synchronously (Log, Return) or later from a loop callback (scripts), by calling kt_task_finish
 * exactly once. */
#ifndef KT_TASK_H
#define KT_TASK_H

#include <jansson.h>
#include <stddef.h>
#include <uv.h>

#include "flow/state.h" /* KT_S(): the states a task ends in */

typedef struct kt_task_run kt_task_run;

typedef struct kt_task_impl {
    const char *type; /* canonical Kestra type */
    void (*start)(kt_task_run *r);
    void (*kill)(kt_task_run *r); /* optional: stop early (shutdown, kill); must still finish */
} kt_task_impl;

const json_t *kt_task_props(const kt_task_run *r);     /* the rendered task */
const char *kt_task_prop_string(const kt_task_run *r, const char *name);
uv_loop_t *kt_task_loop(const kt_task_run *r);
const char *kt_task_tmp_dir(const kt_task_run *r);
void kt_task_set_data(kt_task_run *r, void *data);
void *kt_task_data(const kt_task_run *r);
/* Appends one line to the attempt's logs (level: TRACE DEBUG INFO WARN ERROR). */
void kt_task_log(kt_task_run *r, const char *level, const char *msg, size_t len);
void kt_task_logf(kt_task_run *r, const char *level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Ends the attempt: state SUCCESS, WARNING, FAILED or KILLED; outputs (stolen, may be NULL). */
void kt_task_finish(kt_task_run *r, const char *state, json_t *outputs);

/* The implementation of a task type (canonical or alias); NULL when this worker cannot run it. The catalogue's
 * KT_SUPPORT_RUNS flag (flow/tasks.h) must say the same: tests/unit/actors/test_catalogue.c checks it. */
const kt_task_impl *kt_worker_find_impl(const char *type);
/* 1 when script tasks can run with this taskRunner type (only the Process runner). */
int kt_task_runner_available(const char *runner_type);

/* Task families (one file each). */
extern const kt_task_impl kt_task_log_impl, kt_task_return_impl, kt_task_output_values_impl, kt_task_echo_impl;
extern const kt_task_impl kt_task_fail_impl, kt_task_sleep_impl;
extern const kt_task_impl kt_task_shell_commands_impl, kt_task_shell_script_impl;
extern const kt_task_impl kt_task_python_commands_impl, kt_task_python_script_impl;

#endif
