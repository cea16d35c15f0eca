/* Restart, replay, markAs and change-status (restart.h): Kestra's ExecutionService as pure transformations. Named
 * step_* so check-layers keeps clocks and system randomness out of it, as out of the step itself. */
#include "actors/executor/restart.h"

#include <stdio.h>
#include <string.h>

#include "actors/executor/step.h"
#include "base/id.h"
#include "base/partition.h"
#include "flow/flow.h"
#include "flow/model.h"
#include "flow/tasks.h"
#include "flow/loop.h"

#define KT_NO_TASK_TO_RESTART "No task found to restart execution from!"

static const char *kt_rs_str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static int kt_rs_same(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static const json_t *kt_rs_task(const json_t *flow, const json_t *run)
{
    const char *tid = kt_rs_str(run, "taskId");
    return tid ? kt_exec_find_task(flow, tid) : NULL;
}

static int kt_rs_flowable(const json_t *task)
{
    const kt_task_def *d = task ? kt_task_lookup(kt_rs_str(task, "type")) : NULL;
    return d && d->kind == KT_PLUGIN_FLOWABLE;
}

static int kt_rs_is_wd(const json_t *task)
{
    const kt_task_def *d = task ? kt_task_lookup(kt_rs_str(task, "type")) : NULL;
    return d && d->kind == KT_PLUGIN_FLOWABLE && d->to_worker;
}

/* The task's canonical type ends with ".name". */
static int kt_rs_type_is(const json_t *task, const char *name)
{
    const char *t = kt_task_canonical_type(kt_rs_str(task, "type"));
    size_t n = t ? strlen(t) : 0, m = strlen(name);
    return n > m && t[n - m - 1] == '.' && !strcmp(t + n - m, name);
}

/* The run with this id in list, or NULL. */
static json_t *kt_rs_find(const json_t *list, const char *id)
{
    size_t i;
    json_t *tr;
    json_array_foreach(list, i, tr) if (kt_rs_same(kt_rs_str(tr, "id"), id)) return tr;
    return NULL;
}

/* Adds run and all its ancestors to set (an object used as a set of ids). */
static void kt_rs_with_ancestors(const json_t *list, const json_t *run, json_t *set)
{
    for (int guard = 0; run && guard < 10000; guard++) {
        json_object_set_new(set, kt_rs_str(run, "id"), json_true());
        const char *pid = kt_rs_str(run, "parentTaskRunId");
        run = pid ? kt_rs_find(list, pid) : NULL;
    }
}

/* Every task id in an `errors` or `finally` list of the flow or of any flowable, and of the flow's afterExecution,
 * with all the tasks under them (Flow.allErrorsWithChildren, allFinallyWithChildren, afterExecution): a restart
 * runs them again from the start. */
static void kt_rs_collect(const json_t *tasks, int in_errors, json_t *ids);
static void kt_rs_collect_task(const json_t *t, int in_errors, json_t *ids)
{
    if (json_object_get(t, "task") && !json_object_get(t, "type")) /* a Dag entry */
        t = json_object_get(t, "task");
    if (in_errors && kt_rs_str(t, "id"))
        json_object_set_new(ids, kt_rs_str(t, "id"), json_true());
    static const char *const lists[] = {"tasks", "then", "else", "defaults"};
    for (size_t k = 0; k < sizeof lists / sizeof *lists; k++)
        kt_rs_collect(json_object_get(t, lists[k]), in_errors, ids);
    kt_rs_collect(json_object_get(t, "errors"), 1, ids);
    kt_rs_collect(json_object_get(t, "finally"), 1, ids);
    const char *ck;
    json_t *cv;
    json_object_foreach(json_object_get(t, "cases"), ck, cv) kt_rs_collect(cv, in_errors, ids);
}
static void kt_rs_collect(const json_t *tasks, int in_errors, json_t *ids)
{
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) kt_rs_collect_task(t, in_errors, ids);
}

/* Marks in `removed` every run whose parent is in `removed` or in `roots` (runs follow their parents in the list). */
static void kt_rs_descendants(const json_t *list, const json_t *roots, json_t *removed)
{
    size_t i;
    json_t *tr;
    json_array_foreach(list, i, tr) {
        const char *pid = kt_rs_str(tr, "parentTaskRunId");
        if (pid && (json_object_get(removed, pid) || json_object_get(roots, pid)))
            json_object_set_new(removed, kt_rs_str(tr, "id"), json_true());
    }
}

/* removeWorkerTask: the children of a restarted WorkingDirectory run again inside its job. */
static void kt_rs_wd_children(const json_t *flow, const json_t *list, const json_t *restart, json_t *removed)
{
    json_t *wds = json_object();
    size_t i;
    json_t *tr;
    json_array_foreach(list, i, tr) if (json_object_get(restart, kt_rs_str(tr, "id")) &&
                                        kt_rs_is_wd(kt_rs_task(flow, tr)))
        json_object_set_new(wds, kt_rs_str(tr, "id"), json_true());
    json_t *under = json_object();
    kt_rs_descendants(list, wds, under);
    const char *k;
    json_t *v;
    json_object_foreach(under, k, v) json_object_set(removed, k, v); /* even a failed child: the job runs them all */
    json_decref(under);
    json_decref(wds);
}

/* 1 when holder's state may become `to` (flow/state.h: the moves Kestra makes; the step asserts on the others). */
static int kt_rs_can(const json_t *holder, const char *to)
{
    return kt_state_can_move(kt_state_of(kt_state_current(holder)), kt_state_of(to));
}

/* The state mapTaskRun gives a restarted run: RESTARTED (runnable, WorkingDirectory, dynamic), RUNNING for a flowable
 * ancestor. */
static const char *kt_rs_altered(const json_t *flow, const json_t *run)
{
    const json_t *task = kt_rs_task(flow, run);
    int dynamic = json_is_true(json_object_get(run, "dynamic"));
    return dynamic || !kt_rs_flowable(task) || kt_rs_is_wd(task) ? KT_S(RESTARTED) : KT_S(RUNNING);
}

/* Every run of the set can take its new state; KT_EINVAL with why otherwise (e.g. a run that never started). */
static kt_status kt_rs_check(const json_t *flow, const json_t *list, const json_t *set, char *err, size_t errcap)
{
    size_t i;
    json_t *tr;
    json_array_foreach(list, i, tr) {
        if (!json_object_get(set, kt_rs_str(tr, "id")))
            continue;
        const char *to = kt_rs_altered(flow, tr);
        if (!kt_rs_can(tr, to)) {
            snprintf(err, errcap, "Task run '%s' (%s) in state %s cannot be restarted", kt_rs_str(tr, "id"),
                     kt_rs_str(tr, "taskId"), kt_state_current(tr));
            return KT_EINVAL;
        }
    }
    return KT_OK;
}

/* mapTaskRun: a restarted run gets RESTARTED (runnable, WorkingDirectory, dynamic), its flowable ancestors RUNNING. */
static void kt_rs_alter(const json_t *flow, json_t *run, int64_t now)
{
    kt_state_set(json_object_get(run, "state"), kt_rs_altered(flow, run), now);
}

/* The runs of the Loop iterations (flow/loop.h) that the restart does not touch, as a set of ids: Kestra runs each
 * iteration as a sub-execution, and a restart of the parent restarts the failed ones only, so the errors and finally
 * runs of the others stay as they are. An iteration is its Loop run and its index; it is touched when one of its
 * first-level runs is restarted (or is an ancestor of a restarted run). */
static json_t *kt_rs_loop_untouched(const json_t *list, const json_t *restart)
{
    json_t *touched = json_object(), *kept = json_object();
    size_t i;
    json_t *tr;
    char key[128];
    json_array_foreach(list, i, tr) {
        if (json_object_get(tr, KT_LOOP_ITEM_FIELD) && json_object_get(restart, kt_rs_str(tr, "id"))) {
            snprintf(key, sizeof key, "%s/%s", kt_rs_str(tr, "parentTaskRunId") ?: "", kt_rs_str(tr, "value") ?: "");
            json_object_set_new(touched, key, json_true());
        }
    }
    json_array_foreach(list, i, tr) {
        const json_t *a = tr;
        for (int guard = 0; a && !json_object_get(a, KT_LOOP_ITEM_FIELD) && guard < 10000; guard++)
            a = kt_rs_str(a, "parentTaskRunId") ? kt_rs_find(list, kt_rs_str(a, "parentTaskRunId")) : NULL;
        if (!a)
            continue;
        snprintf(key, sizeof key, "%s/%s", kt_rs_str(a, "parentTaskRunId") ?: "", kt_rs_str(a, "value") ?: "");
        if (!json_object_get(touched, key))
            json_object_set_new(kept, kt_rs_str(tr, "id"), json_true());
    }
    json_decref(touched);
    return kept;
}

/* The list without the runs in `removed` or whose task is in `drop_tasks` (may be NULL) unless `kept` (may be NULL)
 * names them; restarted runs altered; every id mapped to a new one when remap (parent links and executionId follow).
 * New reference. */
static json_t *kt_rs_rebuild(const json_t *flow, const json_t *list, const json_t *restart, const json_t *removed,
                             const json_t *drop_tasks, const json_t *kept, const char *exec_id, int remap, kt_env *env,
                             int64_t now)
{
    json_t *map = json_object();
    size_t i;
    json_t *tr;
    if (remap)
        json_array_foreach(list, i, tr) {
            char id[KT_ID_LEN + 1];
            kt_env_id(env, id);
            json_object_set_new(map, kt_rs_str(tr, "id"), json_string(id));
        }
    json_t *out = json_array();
    json_array_foreach(list, i, tr) {
        const char *id = kt_rs_str(tr, "id");
        if (json_object_get(removed, id) || (drop_tasks && json_object_get(drop_tasks, kt_rs_str(tr, "taskId")) &&
                                             !json_object_get(kept, id)))
            continue;
        json_t *copy = json_deep_copy(tr);
        if (json_object_get(restart, id))
            kt_rs_alter(flow, copy, now);
        if (remap) {
            json_object_set(copy, "id", json_object_get(map, id));
            const char *pid = kt_rs_str(tr, "parentTaskRunId");
            if (pid && json_object_get(map, pid))
                json_object_set(copy, "parentTaskRunId", json_object_get(map, pid));
        }
        if (exec_id)
            json_object_set_new(copy, "executionId", json_string(exec_id));
        json_array_append_new(out, copy);
    }
    json_decref(map);
    return out;
}

/* ExecutionMetadata.nextAttempt */
static void kt_rs_next_attempt(json_t *execution)
{
    json_t *md = json_object_get(execution, "metadata");
    if (!json_is_object(md)) {
        md = json_pack("{s:i}", "attemptNumber", 1);
        json_object_set_new(execution, "metadata", md);
    }
    json_int_t n = json_integer_value(json_object_get(md, "attemptNumber"));
    json_object_set_new(md, "attemptNumber", json_integer((n < 1 ? 1 : n) + 1));
}

/* The id of a new execution made from `execution` (restart as a new revision, replay): drawn from env, in its flow's
 * partition when the flow limits its concurrency (base/partition.h). Without the flow (a CREATE_NEW_EXECUTION retry
 * whose flow is gone), it stays in the partition of the execution it comes from, which is the flow's own when the
 * flow was limited. */
static void kt_rs_new_id(const json_t *flow, const json_t *execution, kt_env *env, char *out)
{
    const char *id = kt_rs_str(execution, "id");
    if (!flow && id)
        kt_exec_id_env_in(env, kt_exec_partition(id), out);
    else
        kt_exec_id_env(env, kt_rs_str(execution, "namespace"), kt_rs_str(execution, "flowId"),
                       flow && kt_flow_concurrency_limit(flow) > 0, out);
}

/* childExecution with a new id: parentId the source's, the same originalId. */
static void kt_rs_new_identity(json_t *execution, const char *new_id, int revision)
{
    const char *old = kt_rs_str(execution, "id");
    json_object_set_new(execution, "parentId", json_string(old));
    if (!json_object_get(execution, "originalId"))
        json_object_set_new(execution, "originalId", json_string(old));
    json_object_set_new(execution, "id", json_string(new_id));
    if (revision > 0)
        json_object_set_new(execution, "flowRevision", json_integer(revision));
}

kt_status kt_exec_restart(const json_t *flow, json_t *execution, int revision, kt_env *env, int64_t now, char *err,
                          size_t errcap)
{
    const char *cur = kt_state_current(execution);
    if (!kt_state_is_terminated(cur) && !kt_rs_same(cur, KT_S(PAUSED))) {
        snprintf(err, errcap, "Execution must be terminated to be restarted, current state is '%s' !", cur ? cur : "");
        return KT_ECONFLICT;
    }
    const json_t *list = json_object_get(execution, "taskRunList");
    json_t *restart = json_object(), *removed = json_object(), *errors = json_object();
    size_t i;
    json_t *tr;
    json_array_foreach(list, i, tr) {
        const char *s = kt_state_current(tr);
        if (kt_rs_same(s, KT_S(FAILED)) || kt_rs_same(s, KT_S(PAUSED)))
            kt_rs_with_ancestors(list, tr, restart);
    }
    if (!json_object_size(restart)) {
        snprintf(err, errcap, "%s", KT_NO_TASK_TO_RESTART);
        json_decref(restart), json_decref(removed), json_decref(errors);
        return KT_EINVAL;
    }
    if (kt_rs_check(flow, list, restart, err, errcap)) {
        json_decref(restart), json_decref(removed), json_decref(errors);
        return KT_EINVAL;
    }
    kt_rs_wd_children(flow, list, restart, removed);
    kt_rs_collect(json_object_get(flow, "tasks"), 0, errors);
    kt_rs_collect(json_object_get(flow, "errors"), 1, errors);
    kt_rs_collect(json_object_get(flow, "finally"), 1, errors);
    kt_rs_collect(json_object_get(flow, "afterExecution"), 1, errors);
    char new_id[KT_ID_LEN + 1] = "";
    if (revision > 0)
        kt_rs_new_id(flow, execution, env, new_id);
    json_t *kept = kt_rs_loop_untouched(list, restart);
    json_t *runs = kt_rs_rebuild(flow, list, restart, removed, errors, kept, revision > 0 ? new_id : NULL,
                                 revision > 0, env, now);
    json_decref(kept);
    json_object_set_new(execution, "taskRunList", runs);
    kt_state_set(json_object_get(execution, "state"), KT_S(RESTARTED), now);
    kt_rs_next_attempt(execution);
    if (revision > 0)
        kt_rs_new_identity(execution, new_id, revision);
    json_decref(restart), json_decref(removed), json_decref(errors);
    return KT_OK;
}

/* How the graph orders the children of a run (NULL: the flow's top level): 1 when one follows another (Sequential,
 * EachSequential, a ForEach one value at a time...), 0 when they all start together (Parallel, EachParallel, a
 * concurrent ForEach, Dag) or only one branch runs (If, Switch). */
static int kt_rs_sequential_children(const json_t *parent_task)
{
    if (!parent_task)
        return 1;
    static const char *const together[] = {"Parallel", "EachParallel", "If", "Switch", "Dag"};
    for (size_t k = 0; k < sizeof together / sizeof *together; k++)
        if (kt_rs_type_is(parent_task, together[k]))
            return 0;
    if (kt_rs_type_is(parent_task, "ForEach")) {
        const json_t *c = json_object_get(parent_task, "concurrencyLimit");
        return json_is_integer(c) && json_integer_value(c) == 1;
    }
    return 1;
}

/* Position of task_id in the parent's `tasks` (the flow's when parent_task is NULL), -1 when not there (errors...). */
static long kt_rs_task_index(const json_t *flow, const json_t *parent_task, const char *task_id)
{
    const json_t *tasks = json_object_get(parent_task ? parent_task : flow, "tasks");
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) if (kt_rs_same(kt_rs_str(t, "id"), task_id)) return (long)i;
    return -1;
}

/* GraphUtils.successors of run at position pos: the runs after it in its sequential containers, level by level up to
 * the top (the graph links a cluster's end to what follows it), and everything under them and under the run. */
static void kt_rs_successors(const json_t *flow, const json_t *list, const json_t *target, const json_t *restart,
                             json_t *removed)
{
    for (const json_t *x = target; x;) {
        const char *pid = kt_rs_str(x, "parentTaskRunId");
        const json_t *parent = pid ? kt_rs_find(list, pid) : NULL;
        const json_t *ptask = parent ? kt_rs_task(flow, parent) : NULL;
        if (!pid || (parent && ptask && kt_rs_sequential_children(ptask))) {
            long ix = kt_rs_task_index(flow, ptask, kt_rs_str(x, "taskId"));
            int after_x = 0;
            size_t i;
            json_t *y;
            json_array_foreach(list, i, y) {
                if (y == x) {
                    after_x = 1;
                    continue;
                }
                if (!kt_rs_same(kt_rs_str(y, "parentTaskRunId"), pid) || json_object_get(restart, kt_rs_str(y, "id")))
                    continue;
                long iy = kt_rs_task_index(flow, ptask, kt_rs_str(y, "taskId"));
                if (ix >= 0 && iy >= 0 && (iy > ix || (iy == ix && after_x)))
                    json_object_set_new(removed, kt_rs_str(y, "id"), json_true());
            }
        }
        x = parent;
    }
    json_t *roots = json_pack("{s:b}", kt_rs_str(target, "id"), 1);
    kt_rs_descendants(list, roots, removed);
    json_decref(roots);
}

kt_status kt_exec_replay(const json_t *flow, const json_t *src, const char *taskrun_id, int revision, kt_env *env,
                         int64_t now, json_t **out, char *err, size_t errcap)
{
    *out = NULL;
    const json_t *list = json_object_get(src, "taskRunList");
    const json_t *target = taskrun_id ? kt_rs_find(list, taskrun_id) : NULL;
    if (taskrun_id && !target) {
        snprintf(err, errcap, "%s", KT_NO_TASK_TO_RESTART);
        return KT_EINVAL;
    }
    if (target && !kt_rs_can(src, KT_S(RESTARTED))) {
        snprintf(err, errcap, "An execution in state %s cannot be replayed from a task run", kt_state_current(src));
        return KT_EINVAL;
    }
    json_t *restart = json_object();
    if (target) {
        kt_rs_with_ancestors(list, target, restart);
        if (kt_rs_check(flow, list, restart, err, errcap)) {
            json_decref(restart);
            return KT_EINVAL;
        }
    }
    char new_id[KT_ID_LEN + 1];
    kt_rs_new_id(flow, src, env, new_id);
    json_t *ex = json_deep_copy(src);
    if (!target) {
        json_object_del(ex, "taskRunList");
        json_object_set_new(ex, "state", kt_state_new(KT_S(CREATED), now));
    } else {
        json_t *removed = json_object();
        kt_rs_successors(flow, list, target, restart, removed);
        kt_rs_wd_children(flow, list, restart, removed);
        json_object_set_new(ex, "taskRunList",
                            kt_rs_rebuild(flow, list, restart, removed, NULL, NULL, new_id, 1, env, now));
        kt_state_set(json_object_get(ex, "state"), KT_S(RESTARTED), now);
        json_decref(removed);
    }
    json_decref(restart);
    kt_rs_next_attempt(ex);
    kt_rs_new_identity(ex, new_id, revision);
    *out = ex;
    return KT_OK;
}

kt_status kt_exec_mark_as(const json_t *flow, json_t *execution, const char *taskrun_id, const char *state,
                          int64_t now, char *err, size_t errcap)
{
    if (!state || !kt_state_is_valid(state)) {
        snprintf(err, errcap, "Unknown state '%s'", state ? state : "");
        return KT_EINVAL;
    }
    json_t *list = json_object_get(execution, "taskRunList");
    json_t *target = taskrun_id ? kt_rs_find(list, taskrun_id) : NULL;
    if (!target) {
        snprintf(err, errcap, "%s", KT_NO_TASK_TO_RESTART);
        return KT_EINVAL;
    }
    json_t *set = json_object();
    kt_rs_with_ancestors(list, target, set);
    size_t i;
    json_t *tr;
    int paused_left = 0;
    json_array_foreach(list, i, tr) { /* first whether every change is one Kestra makes (nothing changed on refusal) */
        int in = json_object_get(set, kt_rs_str(tr, "id")) != NULL;
        const char *to = in && kt_rs_flowable(kt_rs_task(flow, tr)) && tr != target ? KT_S(RUNNING) : state;
        paused_left |= kt_rs_same(in ? to : kt_state_current(tr), KT_S(PAUSED));
        if (in && !kt_rs_can(tr, to)) {
            snprintf(err, errcap, "Task run '%s' in state %s cannot be marked %s", kt_rs_str(tr, "id"),
                     kt_state_current(tr), to);
            json_decref(set);
            return KT_EINVAL;
        }
    }
    if (!paused_left && !kt_rs_can(execution, KT_S(RESTARTED))) {
        snprintf(err, errcap, "An execution in state %s cannot be restarted", kt_state_current(execution));
        json_decref(set);
        return KT_EINVAL;
    }
    json_array_foreach(list, i, tr) {
        if (!json_object_get(set, kt_rs_str(tr, "id")))
            continue;
        const json_t *task = kt_rs_task(flow, tr);
        if (kt_rs_flowable(task) && tr != target) {
            kt_state_set(json_object_get(tr, "state"), KT_S(RUNNING), now);
            continue;
        }
        kt_state_set(json_object_get(tr, "state"), state, now);
        if (task && kt_rs_type_is(task, "Pause") && !json_array_size(json_object_get(task, "tasks")) &&
            !strcmp(state, KT_S(RUNNING)))
            kt_state_set(json_object_get(tr, "state"), KT_S(SUCCESS), now);
        size_t na = kt_taskrun_attempts(tr);
        if (na)
            kt_state_set(json_object_get(json_array_get(json_object_get(tr, "attempts"), na - 1), "state"), state, now);
    }
    json_decref(set);
    json_array_foreach(list, i, tr) if (kt_rs_same(kt_state_current(tr), KT_S(PAUSED))) return KT_OK;
    kt_state_set(json_object_get(execution, "state"), KT_S(RESTARTED), now);
    return KT_OK;
}

kt_status kt_exec_change_status(json_t *execution, const char *status, int64_t now, char *err, size_t errcap)
{
    if (!status || !kt_state_is_terminated(status)) {
        snprintf(err, errcap, "You can only change the status of an execution to a terminal state.");
        return KT_EINVAL;
    }
    if (!kt_state_is_terminated(kt_state_current(execution))) {
        snprintf(err, errcap, "You can only change the status of a terminated execution.");
        return KT_EINVAL;
    }
    kt_state_set(json_object_get(execution, "state"), status, now);
    return KT_OK;
}
