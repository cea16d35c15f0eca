/* io.kestra.plugin.core.execution.Kill (Kestra 2.0's Kill.java, an ExecutionUpdatableTask run by the executor): kills
 * the execution it runs in. Kestra emits a kill request for the execution and ends the Kill run KILLED (its
 * resolveState); the kill then ends every run still going KILLED and the execution KILLED, as the kill API does
 * (KESTRA-execution.md §2.13). Kite applies that kill in the same step, as step.c's kill event does, so nothing
 * after the Kill task starts. propagateKill (default false, unlike the API's cascade) also kills the unfinished
 * Subflow children (isOnKillCascade), through the executor once the step is committed. runIf is honoured (the
 * page's examples rely on it). In an execution that has already ended (an afterExecution task) the kill has nothing
 * to stop: the run alone ends KILLED. */
#include "actors/executor/step_int.h"
#include "flow/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A run the executor ran itself: one attempt, RUNNING then state, outputs {} (as step_update.c's). */
static void kt_kill_end_run(kt_pass *p, json_t *run, const char *state)
{
    json_t *attempt_state = kt_state_new(KT_S(CREATED), p->now);
    kt_state_set(attempt_state, KT_S(RUNNING), p->now);
    kt_state_set(attempt_state, state, p->now);
    json_object_set_new(run, "attempts", json_pack("[{s:o}]", "state", attempt_state));
    json_object_set_new(run, "outputs", json_object());
    kt_state_set(json_object_get(run, "state"), KT_S(RUNNING), p->now);
    kt_step_set_state(p, run, state);
}

/* A boolean property rendered: dflt when absent, -1 with err when it is not a boolean. */
static int kt_kill_flag(kt_pass *p, const json_t *task, const json_t *run, const char *prop, int dflt, char *err,
                        size_t cap)
{
    if (!json_object_get(task, prop))
        return dflt;
    char *v = NULL;
    if (kt_step_render_prop(p, task, run, prop, &v, err, cap))
        return -1;
    int r = -1;
    if (v && (!strcmp(v, "true") || !strcmp(v, "false")))
        r = !strcmp(v, "true");
    else
        snprintf(err, cap, "`%s` must be a boolean, got '%s'", prop, v ? v : "");
    free(v);
    return r;
}

void kt_step_run_kill(kt_pass *p, const json_t *task, json_t *run)
{
    char err[600] = ""; /* runIf was checked by kt_start_run (step.c) */
    int propagate = kt_kill_flag(p, task, run, "propagateKill", 0, err, sizeof err);
    if (propagate < 0) {
        kt_step_log(p, run, "ERROR", "Invalid `propagateKill`: %s", err);
        kt_kill_end_run(p, run, KT_S(FAILED));
        return;
    }
    if (kt_state_is_terminated(kt_state_current(p->ex))) {
        kt_kill_end_run(p, run, KT_S(KILLED));
        return;
    }
    kt_step_log(p, run, "INFO", "Killing the execution%s", propagate ? " and its subflow executions" : "");
    kt_kill_end_run(p, run, KT_S(KILLED));
    kt_state_set(json_object_get(p->ex, "state"), KT_S(KILLING), p->now);
    kt_step_kill_all_runs(p);
    kt_state_set(json_object_get(p->ex, "state"), KT_S(KILLED), p->now);
    p->fx->changed = p->fx->ended = 1;
    p->fx->kill_children = propagate;
    p->changed = 1;
}
