/* The execution-updating tasks other than Labels (Kestra's ExecutionUpdatableTask, run by the executor, never by a
 * worker): Exit ends the execution with a chosen state, SetVariables and UnsetVariables change the variables later
 * tasks see as `vars.*`. Kestra 1.x additions, accepted in both dialects. The variables an execution changed live in
 * its document at variables.vars (Execution.variables, which the render context puts at the top level, so `vars` is
 * them), the flow's `variables` until a first change. */
#include "actors/executor/step_int.h"
#include "flow/model.h"
#include "flow/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The run ran in the executor: one attempt, RUNNING then state, outputs {}. */
static void kt_update_end(kt_pass *p, json_t *run, const char *state)
{
    json_t *attempt_state = kt_state_new(KT_S(CREATED), p->now);
    kt_state_set(attempt_state, KT_S(RUNNING), p->now);
    kt_state_set(attempt_state, state, p->now);
    json_object_set_new(run, "attempts", json_pack("[{s:o}]", "state", attempt_state));
    json_object_set_new(run, "outputs", json_object());
    kt_state_set(json_object_get(run, "state"), KT_S(RUNNING), p->now);
    kt_step_set_state(p, run, state);
}

static void kt_update_fail(kt_pass *p, json_t *run, const char *fmt, const char *a, const char *b)
{
    kt_step_log(p, run, "ERROR", fmt, a, b ? b : "");
    kt_update_end(p, run, KT_S(FAILED));
}

/* A property rendered as JSON (*out NULL when absent); -1 with err when it does not render. */
static int kt_update_render(kt_pass *p, const json_t *task, const json_t *run, const char *prop, json_t **out,
                            char *err, size_t cap)
{
    *out = NULL;
    json_t *v = json_object_get(task, prop);
    if (!v)
        return 0;
    json_t *ctx = kt_render_context(p->f->flow, p->ex, task, run);
    kt_expr_error e = {0};
    int rc = kt_expr_render_json_cached(p->f->templates, v, ctx, p->env, out, &e) ? -1 : 0;
    json_decref(ctx);
    if (rc)
        snprintf(err, cap, "%s", e.message);
    if (!rc && json_is_string(*out) && (json_is_array(v) || json_is_object(v)) == 0) {
        /* a whole-property expression rendering to JSON text (Kestra reads it with Jackson) */
        json_t *parsed = json_loads(json_string_value(*out), JSON_DECODE_ANY, NULL);
        if (parsed && (json_is_object(parsed) || json_is_array(parsed) || json_is_boolean(parsed))) {
            json_decref(*out);
            *out = parsed;
        } else {
            json_decref(parsed);
        }
    }
    return rc;
}

/* A boolean property, dflt when absent; -1 when it renders to something else. */
static int kt_update_bool(kt_pass *p, const json_t *task, const json_t *run, const char *prop, int dflt, char *err,
                          size_t cap)
{
    json_t *v = NULL;
    if (kt_update_render(p, task, run, prop, &v, err, cap))
        return -1;
    int r = dflt;
    if (json_is_boolean(v))
        r = json_is_true(v);
    else if (v && !json_is_null(v)) {
        snprintf(err, cap, "`%s` must be a boolean", prop);
        r = -1;
    }
    json_decref(v);
    return r;
}

/* ---- Exit ------------------------------------------------------------------------------------------ */

/* Exit.ExitState: 1.x names CANCELED, 2.x CANCELLED; both mean CANCELLED here (a 2.x flow naming CANCELED is the
 * validator's to refuse). */
static const char *kt_exit_state(const char *s)
{
    static const char *const ok[] = {"SUCCESS", "WARNING", "KILLED", "FAILED", "CANCELLED"};
    if (!s)
        return NULL;
    if (!strcmp(s, "CANCELED"))
        return KT_S(CANCELLED);
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (!strcmp(s, ok[i]))
            return ok[i];
    return NULL;
}

void kt_step_kill_all_runs(kt_pass *p)
{
    size_t i;
    json_t *tr;
    json_array_foreach(kt_step_runs(p), i, tr) {
        if (kt_state_is_terminated(kt_state_current(tr)))
            continue;
        size_t na = kt_taskrun_attempts(tr);
        if (na) {
            json_t *att = json_array_get(json_object_get(tr, "attempts"), na - 1);
            if (!kt_state_is_terminated(kt_state_current(att)))
                kt_state_set(json_object_get(att, "state"), KT_S(KILLED), p->now);
        }
        kt_step_set_state(p, tr, KT_S(KILLED));
    }
    p->fx->killed = 1;
}

/* Exit.update: KILLED kills the execution (every running task stops); any other state ends the Exit run and its
 * parents in that state and the execution with it, while tasks already running elsewhere are left to finish. In an
 * ended execution (afterExecution) the run only takes the state: nothing changes an ended execution's state. */
static void kt_run_exit(kt_pass *p, const json_t *task, json_t *run)
{
    char err[600] = "";
    json_t *v = NULL;
    if (kt_update_render(p, task, run, "state", &v, err, sizeof err)) {
        kt_update_fail(p, run, "Unable to render the exit state: %s%s", err, NULL);
        return;
    }
    const char *state = v ? kt_exit_state(json_string_value(v)) : KT_S(SUCCESS);
    if (!state) {
        char *got = json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY);
        json_decref(v);
        kt_update_fail(p, run,
                       "Invalid exit state '%s'%s: one of SUCCESS, WARNING, KILLED, FAILED, CANCELLED (or CANCELED)",
                       got ? got : "?", NULL);
        free(got);
        return;
    }
    json_decref(v);
    if (kt_state_is_terminated(kt_state_current(p->ex))) {
        kt_update_end(p, run, state);
        return;
    }
    kt_step_log(p, run, "INFO", "Exiting the execution with state %s%s", state, "");
    kt_update_end(p, run, state);
    if (!strcmp(state, KT_S(KILLED))) {
        kt_state_set(json_object_get(p->ex, "state"), KT_S(KILLING), p->now);
        kt_step_kill_all_runs(p);
    } else {
        kt_step_index_sync(p);
        for (const char *pid = kt_step_str(run, "parentTaskRunId"); pid;) {
            uintptr_t pos = (uintptr_t)kt_map_get(p->by_id, pid);
            json_t *parent = pos ? json_array_get(kt_step_runs(p), pos - 1) : NULL;
            if (!parent)
                break;
            if (!kt_state_is_terminated(kt_state_current(parent)))
                kt_step_set_state(p, parent, state);
            pid = kt_step_str(parent, "parentTaskRunId");
        }
    }
    kt_state_set(json_object_get(p->ex, "state"), state, p->now);
    p->fx->changed = p->fx->ended = 1;
    p->changed = 1;
}

/* ---- SetVariables / UnsetVariables --------------------------------------------------------------------- */

/* The variables as the execution sees them now (a copy): the ones it changed, else the flow's. */
static json_t *kt_vars_current(const kt_pass *p)
{
    const json_t *mine = json_object_get(json_object_get(p->ex, "variables"), "vars");
    if (json_is_object(mine))
        return json_deep_copy(mine);
    const json_t *flow_vars = json_object_get(p->f->flow, "variables");
    return json_is_object(flow_vars) ? json_deep_copy(flow_vars) : json_object();
}

static void kt_vars_store(kt_pass *p, json_t *vars)
{
    json_t *holder = json_object_get(p->ex, "variables");
    if (!json_is_object(holder)) {
        holder = json_object();
        json_object_set_new(p->ex, "variables", holder);
    }
    json_object_set_new(holder, "vars", vars);
    p->fx->touched_all = 1; /* the execution header changed: its row is always rewritten anyway */
    p->fx->changed = 1;
}

/* MapUtils.deepMerge: objects merge key by key, anything else replaces. */
static void kt_vars_merge(json_t *into, const json_t *from)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)from, k, v) {
        json_t *old = json_object_get(into, k);
        if (json_is_object(old) && json_is_object(v))
            kt_vars_merge(old, v);
        else
            json_object_set_new(into, k, json_deep_copy(v));
    }
}

static void kt_run_set_variables(kt_pass *p, const json_t *task, json_t *run)
{
    char err[600] = "";
    json_t *v = NULL;
    if (kt_update_render(p, task, run, "variables", &v, err, sizeof err)) {
        kt_update_fail(p, run, "Unable to render the variables: %s%s", err, NULL);
        return;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        kt_update_fail(p, run, "`variables` must be a map of variable names to values%s%s", "", NULL);
        return;
    }
    int overwrite = kt_update_bool(p, task, run, "overwrite", 1, err, sizeof err);
    if (overwrite < 0) {
        json_decref(v);
        kt_update_fail(p, run, "Invalid `overwrite`: %s%s", err, NULL);
        return;
    }
    json_t *vars = kt_vars_current(p);
    if (!overwrite) {
        char dup[400] = "";
        size_t used = 0;
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) if (json_object_get(vars, k) && used < sizeof dup) used +=
            (size_t)snprintf(dup + used, sizeof dup - used, "%s%s", used ? "," : "", k);
        if (dup[0]) {
            json_decref(v);
            json_decref(vars);
            kt_update_fail(p, run, "`overwrite` is set to false and the following variables already exist: %s%s", dup,
                           NULL);
            return;
        }
    }
    kt_vars_merge(vars, v);
    json_decref(v);
    kt_vars_store(p, vars);
    kt_update_end(p, run, KT_S(SUCCESS));
}

/* UnsetVariables.removeVar: a dotted name walks into nested maps; a missing last key is nothing to remove, a missing
 * map on the way an error unless ignoreMissing. */
static int kt_vars_unset(json_t *vars, const char *name, int ignore_missing)
{
    const char *dot = strchr(name, '.');
    if (!dot) {
        json_object_del(vars, name);
        return 0;
    }
    char head[256];
    snprintf(head, sizeof head, "%.*s", (int)(dot - name), name);
    json_t *inner = json_object_get(vars, head);
    if (!json_is_object(inner))
        return ignore_missing ? 0 : -1;
    return kt_vars_unset(inner, dot + 1, ignore_missing);
}

static void kt_run_unset_variables(kt_pass *p, const json_t *task, json_t *run)
{
    char err[600] = "";
    json_t *v = NULL;
    if (kt_update_render(p, task, run, "variables", &v, err, sizeof err)) {
        kt_update_fail(p, run, "Unable to render the variables: %s%s", err, NULL);
        return;
    }
    if (json_is_string(v)) { /* a single name */
        json_t *one = json_pack("[O]", v);
        json_decref(v);
        v = one;
    }
    if (!json_is_array(v)) {
        json_decref(v);
        kt_update_fail(p, run, "`variables` must be a list of variable names%s%s", "", NULL);
        return;
    }
    int ignore = kt_update_bool(p, task, run, "ignoreMissing", 0, err, sizeof err);
    if (ignore < 0) {
        json_decref(v);
        kt_update_fail(p, run, "Invalid `ignoreMissing`: %s%s", err, NULL);
        return;
    }
    json_t *vars = kt_vars_current(p);
    size_t i;
    json_t *name;
    json_array_foreach(v, i, name) {
        if (!json_is_string(name) || kt_vars_unset(vars, json_string_value(name), ignore)) {
            char *got = json_dumps(name, JSON_ENCODE_ANY);
            kt_step_log(p, run, "ERROR", "Unable to unset the variable %s: no such map", got ? got : "?");
            free(got);
            json_decref(v);
            json_decref(vars);
            kt_update_end(p, run, KT_S(FAILED));
            return;
        }
    }
    json_decref(v);
    kt_vars_store(p, vars);
    kt_update_end(p, run, KT_S(SUCCESS));
}

void kt_step_run_update(kt_pass *p, const json_t *task, json_t *run)
{
    if (kt_step_type_is(task, "Exit"))
        kt_run_exit(p, task, run);
    else if (kt_step_type_is(task, "SetVariables"))
        kt_run_set_variables(p, task, run);
    else if (kt_step_type_is(task, "UnsetVariables"))
        kt_run_unset_variables(p, task, run);
    else
        kt_update_fail(p, run, "Task type '%s' is not supported by this executor yet%s", kt_step_str(task, "type"),
                       NULL);
}
