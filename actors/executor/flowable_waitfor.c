/* WaitFor (KESTRA-model.md §6.1, io.kestra.plugin.core.flow.WaitFor): its `tasks` run sequentially; once all of them
 * succeeded the run's iterationCount goes up by one, and unless a maximum is reached the `condition` is rendered.
 * Not truthy: the run and the execution are PAUSED for checkFrequency.interval (a RESUME_FLOW timer), then the
 * iteration's direct children are removed and the run starts again as CREATED with the next `iteration` (Kestra's
 * ExecutionService.retryWaitFor). A maximum reached ends it FAILED with failOnMaxReached, else as a Sequential. */
#include "flow/model.h"
#include "actors/executor/step_int.h"
#include "time/duration.h"
#include "base/clock.h"
#include "base/dialect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KT_WAITFOR_MAX_ITERATIONS 100
#define KT_WAITFOR_MAX_DURATION_US (3600LL * 1000000)
#define KT_WAITFOR_INTERVAL_US 1000000LL

/* LoopUntil is WaitFor renamed (Kestra 0.22; flowable.c's kt_step_type_is gives it this machinery), with 0.23's
 * checkFrequency defaults: interval PT1M, no maximum (migration-guide/0.23.0/loop-until-defaults), in both dialects
 * (a 1.x addition). A WaitFor keeps the 0.21 defaults below in a 1.x flow and takes LoopUntil's in a 2.x flow, where
 * Kestra knows WaitFor only as LoopUntil's old name. */
#define KT_LOOPUNTIL_INTERVAL_US 60000000LL

static int kt_new_defaults(const kt_pass *p, const json_t *task)
{
    const char *type = kt_step_str(task, "type");
    return (type && strstr(type, "LoopUntil")) || kt_dialect_of_flow(p->f->flow) == KT_DIALECT_2X;
}

static const json_t *kt_freq(const json_t *task, const char *name)
{
    return json_object_get(json_object_get(task, "checkFrequency"), name);
}

/* A checkFrequency duration: dflt when absent, -1 when it does not parse. */
static int64_t kt_freq_duration(const json_t *task, const char *name, int64_t dflt)
{
    const json_t *v = kt_freq(task, name);
    int64_t us;
    if (!v || json_is_null(v))
        return dflt;
    if (!json_is_string(v) || kt_duration_parse(json_string_value(v), &us) || us < 0)
        return -1;
    return us;
}

static long kt_freq_int(const json_t *task, const char *name, long dflt)
{
    const json_t *v = kt_freq(task, name);
    if (json_is_integer(v))
        return (long)json_integer_value(v);
    if (json_is_string(v))
        return strtol(json_string_value(v), NULL, 10);
    return dflt;
}

static long kt_iteration_count(const json_t *run)
{
    const json_t *v = json_object_get(json_object_get(run, "outputs"), "iterationCount");
    return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

void kt_step_waitfor_outputs(const json_t *run, json_t *outputs)
{
    long n = kt_iteration_count(run);
    json_object_set_new(outputs, "iterationCount", json_integer(n > 0 ? n : 1));
}

long kt_step_child_iteration(kt_pass *p, const json_t *parent)
{
    const json_t *task = parent ? kt_step_task_of(p, kt_step_str(parent, "taskId")) : NULL;
    if (!task || !kt_step_type_is(task, "WaitFor"))
        return 0;
    return kt_step_waitfor_iteration(parent);
}

/* WaitFor.reachedMaximums: the count left by this iteration above maxIterations, or the run older than
 * maxDuration (from its first state, kept across iterations). */
static int kt_reached(kt_pass *p, const json_t *task, json_t *run)
{
    int fresh = kt_new_defaults(p, task);
    long max_it = kt_freq_int(task, "maxIterations", fresh ? -1 : KT_WAITFOR_MAX_ITERATIONS);
    if (max_it >= 0 && kt_iteration_count(run) > max_it) {
        kt_step_log(p, run, "WARN", "Max iterations reached");
        return 1;
    }
    int64_t max_us = kt_freq_duration(task, "maxDuration", fresh ? -1 : KT_WAITFOR_MAX_DURATION_US), created = p->now;
    const json_t *first = json_array_get(json_object_get(json_object_get(run, "state"), "histories"), 0);
    if (first)
        kt_time_parse(kt_step_str(first, "date"), &created);
    if (max_us >= 0 && created + max_us < p->now) {
        kt_step_log(p, run, "WARN", "Max duration reached");
        return 1;
    }
    return 0;
}

const char *kt_step_waitfor_state(kt_pass *p, const json_t *task, json_t *run, const kt_rlist *tasks, int *handled)
{
    *handled = 0;
    size_t n, ok = 0;
    json_t **runs = kt_step_runs_for(p, tasks, kt_step_str(run, "id"), &n);
    for (size_t i = 0; i < n; i++)
        ok += kt_step_streq(kt_state_current(runs[i]), KT_S(SUCCESS));
    if (!tasks->n || ok != tasks->n)
        return NULL; /* childTaskRunExecuted: not every child of this iteration succeeded (yet) */
    *handled = 1;
    json_t *outputs = json_object_get(run, "outputs");
    if (!json_is_object(outputs)) {
        outputs = json_object();
        json_object_set_new(run, "outputs", outputs);
    }
    json_object_set_new(outputs, "iterationCount", json_integer(kt_iteration_count(run) + 1));
    kt_step_touch(p, kt_step_index_of(p, run));
    if (kt_reached(p, task, run)) {
        if (kt_step_bool_prop(task, "failOnMaxReached", 0))
            return KT_S(FAILED);
        *handled = 0;
        return NULL;
    }
    char *v = NULL, err[512];
    if (kt_step_render_prop(p, task, run, "condition", &v, err, sizeof err)) {
        kt_step_log(p, run, "ERROR", "Unable to render the WaitFor condition: %s", err);
        return KT_S(FAILED);
    }
    int done = kt_step_truthy(v);
    free(v);
    if (done) {
        *handled = 0; /* the condition holds: it ends as a Sequential would, from its children */
        return NULL;
    }
    return KT_S(PAUSED);
}

void kt_step_waitfor_timer(kt_pass *p, const json_t *task, const json_t *run)
{
    int64_t us = kt_freq_duration(task, "interval", kt_new_defaults(p, task) ? KT_LOOPUNTIL_INTERVAL_US
                                                                              : KT_WAITFOR_INTERVAL_US),
            paused_at = p->now;
    if (us < 0) {
        kt_step_log(p, run, "ERROR", "Invalid checkFrequency.interval on WaitFor: the next iteration starts now");
        us = 0;
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(json_object_get(run, "state"), "histories"), i, e) if (
        kt_step_streq(kt_step_str(e, "state"), KT_S(PAUSED))) kt_time_parse(kt_step_str(e, "date"), &paused_at);
    if (kt_step_add_timer(p, run, KT_CMD_RESUME_FLOW, paused_at + us)) {
        kt_step_log(p, run, "ERROR", "WaitFor interval not armed: more than %d timers in one step; resume it through "
                    "the API", KT_EXEC_MAX_TIMERS);
        return;
    }
    /* tied to this iteration: once the API resumed it early, this timer must not end the next iteration's wait */
    p->fx->timers[p->fx->ntimers - 1].iteration = kt_step_waitfor_iteration(run);
}

long kt_step_waitfor_iteration(const json_t *run)
{
    const json_t *it = json_object_get(run, "iteration");
    return json_is_integer(it) && json_integer_value(it) > 0 ? (long)json_integer_value(it) : 1;
}

void kt_step_waitfor_next(kt_pass *p, json_t *run)
{
    json_t *runs = kt_step_runs(p);
    const char *id = kt_step_str(run, "id");
    /* ExecutionService.retryWaitFor drops only the direct children: their own descendants (a Sequential's tasks)
     * stay in taskRunList under a parent that is gone, terminal, found by no lookup (runs are looked up by parent),
     * and shadowed in `outputs` by the next iteration's runs, which come after them. */
    for (size_t i = 0; i < json_array_size(runs);) {
        if (kt_step_streq(kt_step_str(json_array_get(runs, i), "parentTaskRunId"), id))
            json_array_remove(runs, i);
        else
            i++;
    }
    /* TaskRun.resetAttempts + incrementIteration: CREATED with its first history only, no attempts */
    json_t *state = json_object_get(run, "state"), *hist = json_object_get(state, "histories");
    json_t *first = json_incref(json_array_get(hist, 0));
    json_array_clear(hist);
    if (first)
        json_array_append_new(hist, first);
    json_object_set_new(state, "current", json_string(KT_S(CREATED)));
    json_object_del(run, "attempts");
    json_object_set_new(run, "iteration", json_integer(kt_step_waitfor_iteration(run) + 1));
    /* removing shifts positions: the commit rewrites every row */
    p->fx->touched_all = 1;
    p->fx->changed = 1;
}
