/* WorkingDirectory in the executor's step (KESTRA-model.md "WorkingDirectory", KESTRA-execution.md §2.1, §2.5).
 * The task is flowable but runs on ONE worker as ONE job: the worker makes the shared directory and runs the children
 * one after another in it, so the step never creates them. It starts the run (RUNNING, one attempt: the job), appends
 * each child task run the worker reports (ExecutorService.addDynamicTaskRun: "if the task run is unknown and its
 * parent is a WorkingDirectory, append it"), and takes the job's end: the worker's own failure (namespace files,
 * inputFiles, outputFiles) fails the run at once, as Kestra's `workerTask.fail()`; otherwise the run's attempt is
 * dropped (Kestra's WorkingDirectory run has none) and its state comes from its children like a Sequential's, its
 * `errors` branch included. While its job is out (an attempt not terminated) the run does not resolve. */
#include "flow/model.h"
#include "actors/executor/step_int.h"
#include "base/id.h"

#include <stdio.h>
#include <string.h>

int kt_step_is_wd(const json_t *task)
{
    const kt_task_def *d = kt_step_def(task);
    return d && d->kind == KT_PLUGIN_FLOWABLE && d->to_worker;
}

int kt_step_wd_on_worker(const json_t *run)
{
    size_t n = kt_taskrun_attempts(run);
    return n && !kt_state_is_terminated(kt_state_current(json_array_get(json_object_get(run, "attempts"), n - 1)));
}

/* The WorkingDirectory's direct child task named task_id, when it is one of its enabled `tasks`. */
static const json_t *kt_wd_child_task(const json_t *wd_task, const char *task_id)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(wd_task, "tasks"), i, t) {
        if (kt_step_streq(kt_step_str(t, "id"), task_id) && !json_is_true(json_object_get(t, "disabled")))
            return t;
    }
    return NULL;
}

/* The worker's child document is outside input: its states must be Kestra's (kt_execution_check on a wrapper). */
static int kt_wd_child_valid(const json_t *execution, const json_t *child, char *err, size_t cap)
{
    json_t *wrap = json_pack("{s:O, s:O, s:[O]}", "id", json_object_get(execution, "id"), "state",
                             json_object_get(execution, "state"), "taskRunList", (json_t *)child);
    int ok = wrap && kt_execution_check(wrap, err, cap) == KT_OK;
    json_decref(wrap);
    json_t *att = json_object_get(child, "attempts");
    json_t *out = json_object_get(child, "outputs");
    return ok && (!att || json_is_array(att)) && (!out || json_is_object(out) || json_is_null(out));
}

int kt_step_wd_is_child(kt_pass *p, const json_t *run)
{
    const char *pid = kt_step_str(run, "parentTaskRunId");
    const json_t *parent = pid ? kt_taskrun_find(p->ex, pid) : NULL;
    const json_t *ptask = parent ? kt_step_task_of(p, kt_step_str(parent, "taskId")) : NULL;
    return ptask && kt_step_is_wd(ptask) && kt_wd_child_task(ptask, kt_step_str(run, "taskId"));
}

kt_status kt_step_wd_child(kt_pass *p, const kt_exec_event *ev)
{
    size_t wd_index;
    json_t *wd = kt_taskrun_find_at(p->ex, ev->taskrun_id, &wd_index);
    if (!wd)
        return KT_ENOTFOUND;
    const json_t *task = kt_step_task_of(p, kt_step_str(wd, "taskId"));
    size_t n = kt_taskrun_attempts(wd);
    /* a late report of a job that was replaced (lost worker) or of a run that ended (killed) */
    if (!task || !kt_step_is_wd(task) || !kt_state_is_running(kt_state_current(wd)) || !kt_step_wd_on_worker(wd) ||
        ev->attempt != n - 1) {
        p->fx->stale = 1;
        return KT_OK;
    }
    const json_t *in = ev->taskrun;
    const char *id = kt_step_str(in, "id"), *task_id = kt_step_str(in, "taskId");
    char err[256] = "";
    if (!json_is_object(in) || !id || !*id || strlen(id) > KT_ID_LEN ||
        !kt_wd_child_task(task, task_id) || !kt_step_streq(kt_step_str(in, "parentTaskRunId"), ev->taskrun_id) ||
        !kt_wd_child_valid(p->ex, in, err, sizeof err))
        return KT_EINVAL;
    size_t index;
    json_t *tr = kt_taskrun_find_at(p->ex, id, &index);
    if (tr) {
        if (!kt_step_streq(kt_step_str(tr, "parentTaskRunId"), ev->taskrun_id) ||
            !kt_step_streq(kt_step_str(tr, "taskId"), task_id))
            return KT_EINVAL;
        const char *from = kt_state_current(tr), *to = kt_state_current(in);
        if (kt_state_is_terminated(from) || (!kt_step_streq(from, to) &&
                                             !kt_state_can_move(kt_state_of(from), kt_state_of(to)))) {
            p->fx->stale = 1;
            return KT_OK;
        }
    } else {
        /* Kestra's WorkingDirectory.workerTask: no value on the child (its render context has the parent's) */
        tr = kt_taskrun_add(p->ex, id, task_id, ev->taskrun_id, NULL, ev->now_us);
        index = json_array_size(kt_step_runs(p)) - 1;
    }
    json_object_set_new(tr, "outputs", json_deep_copy(json_object_get(in, "outputs") ? json_object_get(in, "outputs")
                                                                                     : json_null()));
    json_object_set_new(tr, "state", json_deep_copy(json_object_get(in, "state")));
    if (json_object_get(in, "attempts"))
        json_object_set_new(tr, "attempts", json_deep_copy(json_object_get(in, "attempts")));
    kt_step_touch(p, index);
    return KT_OK;
}

void kt_step_wd_end(kt_pass *p, json_t *run, size_t index, const char *state)
{
    if (!strcmp(state, KT_S(FAILED)) || !strcmp(state, KT_S(KILLED))) {
        kt_state_set(json_object_get(run, "state"), state, p->now);
    } else {
        json_object_del(run, "attempts"); /* the children path: the passes resolve it from them */
        p->changed = 1;
    }
    kt_step_touch(p, index);
}

void kt_step_wd_prune(kt_pass *p, const json_t *run)
{
    const char *id = kt_step_str(run, "id");
    json_t *runs = kt_step_runs(p);
    /* removing shifts positions: the commit rewrites every row (and the step's index is built after this) */
    for (size_t i = json_array_size(runs); i-- > 0;) {
        if (kt_step_streq(kt_step_str(json_array_get(runs, i), "parentTaskRunId"), id)) {
            json_array_remove(runs, i);
            p->fx->touched_all = 1;
            p->fx->changed = 1;
        }
    }
}

const char *kt_step_wd_state(kt_pass *p, const json_t *task, const json_t *run, const kt_rlist *tasks,
                             const kt_rlist *errors, const kt_rlist *fin)
{
    if (kt_taskrun_attempts(run))
        return NULL; /* its job is still on the worker */
    const char *id = kt_step_str(run, "id");
    int allow_failure = json_is_true(json_object_get(task, "allowFailure"));
    int allow_warning = json_is_true(json_object_get(task, "allowWarning"));
    kt_rlist cur;
    kt_step_depending(p, tasks, errors, fin, id, &cur);
    int on_errors = cur.n && ((errors->n && cur.v[0].task == errors->v[0].task) ||
                              (fin && fin->n && cur.v[0].task == fin->v[0].task));
    const char *st = NULL;
    /* the worker ran what it would (it stops at the first failure): only an errors or finally branch is waited for */
    if (!on_errors || kt_step_all_terminated(p, &cur, id))
        st = kt_step_guess_final(p, tasks, id, allow_failure, allow_warning);
    kt_step_rl_free(&cur);
    return st;
}
