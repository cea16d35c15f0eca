/* The API's manual changes of an execution (KESTRA-execution.md §2.15): restart, replay, markAs and change-status.
 * The webserver sends them as ExecutionCommands with a correlation id; the change itself is a pure transformation
 * (restart.h) of the live execution, or of the stored one when it has ended; the result is taken in like any other
 * execution (committed with this turn, then processed: a RESTARTED execution runs again from its RESTARTED runs) and
 * the reply, sent after the commit, carries the execution as the transformation left it (Kestra answers the document
 * it emitted, before the executor processed it). */
#include "actors/executor/executor_int.h"
#include "actors/executor/restart.h"
#include "base/clock.h"
#include "base/log.h"
#include "flow/model.h"

#include <stdio.h>
#include <string.h>

/* The execution as it is now: the live one (borrowed into *run) or the stored one (a new reference in *stored). */
static kt_status kt_manual_load(kt_executor *ex, const char *id, kt_run **run, json_t **stored)
{
    *stored = NULL;
    *run = kt_map_get(ex->runs, id);
    if (*run)
        return KT_OK;
    return kt_store_execution_get(ex->store, id, stored);
}

/* Takes a changed execution in: written with this turn's commit, then processed (ADMIT: a CREATED replay passes flow
 * concurrency first; a RESTARTED one runs again). doc is stolen. */
static kt_status kt_manual_take(kt_executor *ex, json_t *doc, char *err, size_t errcap)
{
    const char *id = json_string_value(json_object_get(doc, "id"));
    if (id && !kt_executor_holds(ex, id)) {
        /* a new execution (replay, restart as new, a retry's) in a partition another executor owns: it goes there
         * after this turn's commit and is taken in like any creation (leases.c) */
        kt_executor_handoff(ex, ex->msg_exec[0] ? ex->msg_exec : id, doc);
        json_decref(doc);
        return KT_OK;
    }
    kt_run *run = kt_executor_adopt(ex, doc, err, errcap);
    json_decref(doc);
    if (!run)
        return KT_EINVAL;
    kt_executor_mark_dirty(ex, run);
    kt_executor_admit(ex, run);
    return KT_OK;
}

void kt_executor_manual(kt_executor *ex, const kt_msg *m, const kt_msg_exec_command *c)
{
    kt_run *run;
    json_t *stored;
    char err[512] = "";
    kt_status st = kt_manual_load(ex, c->execution_id, &run, &stored);
    if (st) {
        kt_executor_reply(ex, m, st, st == KT_ENOTFOUND ? "execution not found" : "store error", NULL);
        return;
    }
    const json_t *cur = run ? run->execution : stored;
    const kt_flow_entry *fe = run ? run->entry
                                  : kt_executor_flow(ex, json_string_value(json_object_get(cur, "namespace")),
                                                     json_string_value(json_object_get(cur, "flowId")),
                                                     (int)json_integer_value(json_object_get(cur, "flowRevision")));
    if (!fe) {
        snprintf(err, sizeof err, "Unable to find revision %d on flow %s.%s",
                 (int)json_integer_value(json_object_get(cur, "flowRevision")),
                 json_string_value(json_object_get(cur, "namespace")), json_string_value(json_object_get(cur, "flowId")));
        kt_executor_reply(ex, m, KT_ENOTFOUND, err, NULL);
        json_decref(stored);
        return;
    }
    int revision = (int)json_integer_value(json_object_get(c->data, "revision"));
    int64_t now = kt_now_us();
    kt_env env; /* the transformations are pure: their clock reading and ids come from here */
    kt_env_init(&env, now, kt_env_next(&ex->seeds));
    env.dialect = kt_dialect_of_flow(fe->json);
    json_t *result = NULL; /* the new document, to take in (NULL: changed in place) */
    json_t *work = run ? json_deep_copy(run->execution) : json_incref(stored);
    switch (c->command) {
    case KT_CMD_RESTART:
        st = kt_exec_restart(fe->json, work, revision, &env, now, err, sizeof err);
        break;
    case KT_CMD_REPLAY:
        st = kt_exec_replay(fe->json, work, json_string_value(json_object_get(c->data, "taskRunId")), revision, &env,
                            now, &result, err, sizeof err);
        break;
    case KT_CMD_MARK_AS:
        st = kt_exec_mark_as(fe->json, work, c->taskrun_id, json_string_value(json_object_get(c->data, "state")), now,
                             err, sizeof err);
        break;
    case KT_CMD_CHANGE_STATUS:
        st = kt_exec_change_status(work, json_string_value(json_object_get(c->data, "status")), now, err, sizeof err);
        break;
    default: st = KT_EINVAL; snprintf(err, sizeof err, "not a manual change"); break;
    }
    if (st) {
        kt_executor_reply(ex, m, st, err, NULL);
        goto done;
    }
    if (!result && c->command == KT_CMD_RESTART && revision > 0) { /* a new execution: the old one stays as it is */
        result = work;
        work = NULL;
    }
    json_t *answer = json_deep_copy(result ? result : work);
    if (result) {
        st = kt_manual_take(ex, result, err, sizeof err);
    } else if (run) { /* the live execution (PAUSED, or any state for markAs) changes in place, then runs on */
        json_decref(run->execution);
        run->execution = work;
        work = NULL;
        run->all_runs_dirty = 1; /* restart and markAs may drop or change any run */
        kt_executor_mark_dirty(ex, run);
        if (c->command != KT_CMD_CHANGE_STATUS) {
            kt_exec_event ev = {.kind = KT_EV_START, .now_us = now};
            kt_executor_apply(ex, run, &ev);
        }
    } else {
        st = kt_manual_take(ex, work, err, sizeof err);
        work = NULL;
    }
    if (st) {
        json_decref(answer);
        kt_executor_reply(ex, m, st, err, NULL);
        goto done;
    }
    KT_INFO("executor", "execution %s: %s -> %s (%s)", c->execution_id, kt_cmd_name(c->command),
            json_string_value(json_object_get(answer, "id")), kt_state_current(answer));
    kt_executor_reply(ex, m, KT_OK, NULL, answer);
done:
    json_decref(work);
    json_decref(stored);
}

/* ExecutionDelay RESTART_FAILED_FLOW: ExecutionService.replay(execution, null, null), a new execution from the start
 * (parentId the RETRIED one, the same originalId, labels, inputs and trigger, metadata.attemptNumber + 1). Nothing
 * when the execution is no longer RETRIED (restarted by hand meanwhile). */
void kt_executor_retry_flow(kt_executor *ex, const char *execution_id)
{
    kt_run *run;
    json_t *stored;
    if (kt_manual_load(ex, execution_id, &run, &stored) != KT_OK)
        return;
    const json_t *cur = run ? run->execution : stored;
    if (strcmp(kt_state_current(cur) ? kt_state_current(cur) : "", KT_S(RETRIED))) {
        json_decref(stored);
        return;
    }
    int64_t now = kt_now_us();
    kt_env env;
    kt_env_init(&env, now, kt_env_next(&ex->seeds));
    json_t *next = NULL;
    char err[512] = "";
    /* the flow only decides the new id's partition here (a limited flow's executions share one) */
    const kt_flow_entry *fe = run ? run->entry
                                  : kt_executor_flow(ex, json_string_value(json_object_get(cur, "namespace")),
                                                     json_string_value(json_object_get(cur, "flowId")),
                                                     (int)json_integer_value(json_object_get(cur, "flowRevision")));
    env.dialect = kt_dialect_of_flow(fe ? fe->json : NULL);
    kt_status st = kt_exec_replay(fe ? fe->json : NULL, cur, NULL, 0, &env, now, &next, err, sizeof err);
    if (st == KT_OK) {
        KT_INFO("executor", "execution %s RETRIED: retried as execution %s", execution_id,
                json_string_value(json_object_get(next, "id")));
        st = kt_manual_take(ex, next, err, sizeof err);
    }
    if (st)
        KT_ERROR("executor", "execution %s: its retry could not be created: %s", execution_id, err);
    json_decref(stored);
}

/* 1 when one of the execution's task runs is RETRIED: the mark CREATE_NEW_EXECUTION leaves (a status changed by hand
 * to RETRIED leaves none). */
static int kt_manual_retried_by_policy(const json_t *execution)
{
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(execution, "taskRunList"), i, tr) {
        const char *s = kt_state_current(tr);
        if (s && !strcmp(s, KT_S(RETRIED)))
            return 1;
    }
    return 0;
}

/* Adds to parents (an object used as a set) the parentId of every execution of flow ns.fid. */
static void kt_manual_parents_of_flow(kt_executor *ex, const char *ns, const char *fid, json_t *parents)
{
    for (int page = 1;; page++) {
        kt_exec_query q = {.namespace_ = ns, .flow_id = fid, .page = page, .size = 500};
        json_t *rows = NULL;
        int64_t total = 0;
        if (kt_store_executions_search(ex->store, &q, &rows, &total) != KT_OK)
            return;
        size_t i;
        json_t *e;
        json_array_foreach(rows, i, e) {
            const char *pid = json_string_value(json_object_get(e, "parentId"));
            if (pid)
                json_object_set_new(parents, pid, json_true());
        }
        size_t n = json_array_size(rows);
        json_decref(rows);
        if (n < 500)
            return;
    }
}

void kt_executor_retry_flow_recover(kt_executor *ex, const unsigned char *mask)
{
    const char *const states[] = {KT_S(RETRIED)};
    json_t *due = json_array(), *seen_flows = json_object(), *parents = json_object();
    for (int page = 1;; page++) {
        kt_exec_query q = {.states = states, .nstates = 1, .page = page, .size = 500};
        json_t *rows = NULL;
        int64_t total = 0;
        if (kt_store_executions_search(ex->store, &q, &rows, &total) != KT_OK) {
            KT_ERROR("executor", "cannot list RETRIED executions: %s", kt_store_errmsg(ex->store));
            break;
        }
        size_t i;
        json_t *e;
        json_array_foreach(rows, i, e) {
            const char *id = json_string_value(json_object_get(e, "id"));
            if (id && mask[kt_exec_partition(id)] && kt_manual_retried_by_policy(e))
                json_array_append(due, e);
        }
        size_t n = json_array_size(rows);
        json_decref(rows);
        if (n < 500)
            break;
    }
    size_t i;
    json_t *e;
    json_array_foreach(due, i, e) {
        const char *ns = json_string_value(json_object_get(e, "namespace"));
        const char *fid = json_string_value(json_object_get(e, "flowId"));
        char key[600];
        snprintf(key, sizeof key, "%s\x1f%s", ns ? ns : "", fid ? fid : "");
        if (!json_object_get(seen_flows, key)) {
            json_object_set_new(seen_flows, key, json_true());
            kt_manual_parents_of_flow(ex, ns, fid, parents);
        }
        const char *id = json_string_value(json_object_get(e, "id"));
        if (id && !json_object_get(parents, id)) /* its timer died with the previous process: retried now */
            kt_executor_retry_flow(ex, id);
    }
    json_decref(due);
    json_decref(seen_flows);
    json_decref(parents);
}
