/* Polling triggers on the scheduler's side (flow/poll.h, Kestra's AbstractScheduler for a PollingTriggerInterface):
 * at the row's nextExecutionDate the trigger's `conditions` are checked here, then one evaluation is sent to a worker
 * (KT_MSG_TRIGGER_EVALUATE) and marked in the row (evaluateRunningDate: at most one in flight per trigger). The
 * worker's Reply ends it: the next poll is armed at now + interval, and when the worker says so an execution starts
 * with the trigger's output as its trigger variables, committed with the row that it locks (as a Schedule's). No
 * reply within the evaluation's limit: the evaluation is taken as lost and the trigger polls on. */
#include "actors/scheduler/scheduler_int.h"

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "flow/trigger_when.h"
#include "flow/condition.h"
#include "flow/inputs.h"
#include "flow/secret_inputs.h"
#include "flow/model.h"
#include "flow/poll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A failed commit or send is tried again after this long. */
#define KT_SCH_POLL_RETRY_US (1000LL * 1000)

void kt_sch_poll_forget(kt_scheduler *s, const char *key)
{
    uintptr_t corr = (uintptr_t)kt_map_del(s->poll_corr, key);
    if (!corr)
        return;
    char ck[24];
    snprintf(ck, sizeof ck, "%llu", (unsigned long long)corr);
    free(kt_map_del(s->polls, ck));
}

void kt_sch_poll_free(kt_scheduler *s)
{
    size_t pos = 0;
    const char *k;
    void *v;
    while (kt_map_next(s->polls, &pos, &k, &v))
        free(v);
    kt_map_free(s->polls);
    kt_map_free(s->poll_corr);
}

/* Writes the row alone, in its own transaction, if it still holds *basis (kt_sch_put_state: another scheduler may
 * poll the same trigger); *basis then becomes what was written, for the evaluation's next write. */
static kt_status kt_sch_poll_write(kt_scheduler *s, json_t **basis, const kt_trig_state *ts)
{
    kt_status st = kt_store_begin(s->store);
    if (st == KT_OK)
        st = kt_sch_put_state(s, *basis, ts);
    if (st == KT_OK)
        st = kt_store_commit(s->store);
    else
        kt_store_rollback(s->store);
    if (st == KT_OK) {
        json_decref(*basis);
        *basis = kt_trig_state_json(ts);
    }
    if (st && st != KT_ECONFLICT)
        KT_ERROR("scheduler", "trigger %s.%s.%s not written: %s", ts->namespace_, ts->flow_id, ts->trigger_id,
                 kt_store_errmsg(s->store));
    return st;
}

/* Commits the execution (may be NULL) and the row together if the row still holds basis, then hands the execution
 * over (the reference taken). */
static kt_status kt_sch_poll_commit(kt_scheduler *s, const json_t *basis, const kt_trig_state *ts, json_t *ex)
{
    kt_status st = kt_store_begin(s->store);
    int began = st == KT_OK;
    if (st == KT_OK)
        st = kt_sch_put_state(s, basis, ts);
    if (st == KT_OK && ex)
        st = kt_store_execution_put(s->store, ex, NULL, 0);
    if (st == KT_OK)
        st = kt_store_commit(s->store);
    else if (began)
        kt_store_rollback(s->store);
    if (st) { /* a conflict: another scheduler moved the row (this evaluation's answer is stale) */
        if (st != KT_ECONFLICT)
            KT_ERROR("scheduler", "trigger %s.%s.%s not fired (%s: %s)", ts->namespace_, ts->flow_id, ts->trigger_id,
                     kt_strerror(st), kt_store_errmsg(s->store));
        json_decref(ex);
        return st;
    }
    if (ex) {
        s->started++;
        kt_sch_send(s, ex);
    }
    return KT_OK;
}

/* The trigger's `conditions` failed to evaluate: Kestra emits a FAILED execution (the flow's labels) so the failure
 * is seen, and moves the trigger on (resetExecution(FAILED): stopAfter applies). */
static void kt_sch_poll_condition_failed(kt_scheduler *s, const kt_sch_flow *f, const kt_sch_trigger *t,
                                         const json_t *basis, kt_trig_state *ts, const char *why, int64_t now)
{
    KT_WARN("scheduler", "Unable to evaluate the trigger '%s' of %s.%s: %s", t->id, f->ns, f->id, why);
    char err[256];
    json_t *ex = kt_sch_execution_new(s, f, NULL, NULL, NULL, NULL, now, err, sizeof err);
    if (ex)
        kt_state_set(json_object_get(ex, "state"), KT_S(FAILED), now);
    kt_trig_reset_execution(ts, KT_S(FAILED));
    kt_poll_finished(ts, now, t->interval_us, NULL);
    kt_sch_poll_commit(s, basis, ts, ex);
}

/* Sends the evaluation; KT_OK when a worker has it. */
static kt_status kt_sch_poll_send(kt_scheduler *s, const kt_sch_flow *f, const kt_sch_trigger *t, const char *key)
{
    uint64_t corr = ++s->corr;
    json_t *body = json_pack("{s:s, s:s, s:s, s:i, s:O, s:s}", "namespace", f->ns, "flowId", f->id, "triggerId",
                             t->id, "revision", f->revision, "trigger", t->def, "dialect",
                             kt_dialect_name(kt_dialect_of_flow(f->json)));
    if (!body)
        return KT_ENOMEM;
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_TRIGGER_EVALUATE, KT_WORKER_ACTOR, kt_actor_address(s->self), corr);
    kt_msg_encode_object(&o, body);
    json_decref(body);
    kt_status st = kt_node_send(kt_actor_node(s->self), KT_WORKER_ACTOR, &o);
    if (st)
        return st;
    char ck[24];
    snprintf(ck, sizeof ck, "%llu", (unsigned long long)corr);
    kt_sch_poll_forget(s, key);
    kt_map_put(s->polls, ck, kt_xstrdup(key), NULL);
    kt_map_put(s->poll_corr, key, (void *)(uintptr_t)corr, NULL);
    return KT_OK;
}

/* The conditions, then the evaluation sent and the row marked; otherwise the next poll. */
static void kt_sch_poll_start(kt_scheduler *s, const kt_sch_flow *f, const kt_sch_trigger *t, json_t **basis,
                              kt_trig_state *ts, const char *key, int64_t now)
{
    const json_t *conds = json_object_get(t->def, "conditions");
    if (json_array_size(conds) || json_object_get(t->def, "when")) {
        char date[48], why[512] = "";
        kt_time_format(ts->next_us ? ts->next_us : now, date, sizeof date);
        json_t *vars = json_pack("{s:s}", "date", date);
        kt_env env;
        kt_sch_env(s, &env, now);
        env.dialect = kt_dialect_of_flow(f->json);
        kt_cond_ctx c = {.flow = f->json, .trigger = vars, .zone = s->default_zone, .env = &env};
        kt_cond_result r = kt_trigger_conditions_test(t->def, &c, why, sizeof why); /* conditions, then `when` */
        json_decref(vars);
        if (r == KT_COND_ERROR) {
            kt_sch_poll_condition_failed(s, f, t, *basis, ts, why, now);
            kt_sch_arm(s, key, ts->next_us);
            return;
        }
        if (r == KT_COND_FALSE) { /* not now: the next poll */
            ts->date_us = now - now % 1000000;
            kt_poll_finished(ts, now, t->interval_us, NULL);
            kt_sch_arm(s, key, kt_sch_poll_write(s, basis, ts) ? now + KT_SCH_POLL_RETRY_US : ts->next_us);
            return;
        }
    }
    kt_poll_started(t->def, ts, now);
    if (kt_sch_poll_write(s, basis, ts)) { /* a conflict: another scheduler started this poll */
        kt_sch_arm(s, key, now + KT_SCH_POLL_RETRY_US);
        return;
    }
    s->evaluations++;
    kt_status st = kt_sch_poll_send(s, f, t, key);
    if (st) {
        /* no worker (or its mailbox is full): this poll is skipped, the next one comes at its date */
        KT_WARN("scheduler", "trigger '%s' of %s.%s not evaluated: no worker took it (%s)", t->id, f->ns, f->id,
                kt_strerror(st));
        kt_poll_finished(ts, now, t->interval_us, NULL);
        kt_sch_arm(s, key, kt_sch_poll_write(s, basis, ts) ? now + KT_SCH_POLL_RETRY_US : ts->next_us);
        return;
    }
    int64_t due = 0;
    kt_poll_due(ts, now, s->poll_lost_after_us, &due); /* the date past which the evaluation counts as lost */
    kt_sch_arm(s, key, due);
}

void kt_sch_poll_evaluate(kt_scheduler *s, const kt_sch_flow *f, const kt_sch_trigger *t, const char *key)
{
    json_t *row = NULL, *basis = NULL;
    kt_trig_state ts = {0};
    char err[256];
    int64_t now = kt_now_us();
    kt_status got = kt_store_trigger_get(s->store, f->ns, f->id, t->id, &row);
    if (got == KT_ENOTFOUND)
        return; /* the reconcile makes it, then evaluates */
    if (got != KT_OK) {
        KT_WARN("scheduler", "trigger %s.%s.%s not read (%s); trying again", f->ns, f->id, t->id,
                kt_store_errmsg(s->store));
        kt_sch_arm(s, key, now + KT_SCH_POLL_RETRY_US);
        return;
    }
    if (kt_trig_state_from_json(row, &ts, err, sizeof err) != KT_OK) {
        KT_WARN("scheduler", "trigger %s.%s.%s: stored state unreadable: %s", f->ns, f->id, t->id, err);
        json_decref(row);
        return;
    }
    json_decref(row);
    basis = kt_trig_state_json(&ts);
    if (kt_sch_release_if_ended(s, &ts, now) && kt_sch_poll_write(s, &basis, &ts)) {
        kt_sch_arm(s, key, now + KT_SCH_POLL_RETRY_US);
        goto done;
    }
    int64_t due = 0;
    kt_poll_verdict v = kt_poll_due(&ts, now, s->poll_lost_after_us, &due);
    if (v == KT_POLL_LOST) {
        KT_WARN("scheduler", "trigger '%s' of %s.%s: no answer to its evaluation started at %lld s, polling on", t->id,
                f->ns, f->id, (long long)(ts.evaluate_running_us / 1000000));
        kt_sch_poll_forget(s, key); /* a late answer is dropped */
        kt_poll_finished(&ts, now, t->interval_us, NULL);
        kt_sch_arm(s, key, kt_sch_poll_write(s, &basis, &ts) ? now + KT_SCH_POLL_RETRY_US : ts.next_us);
    } else if (v == KT_POLL_START) {
        kt_sch_poll_start(s, f, t, &basis, &ts, key, now);
    } else if (due) {
        kt_sch_arm(s, key, due);
    }
done:
    json_decref(basis);
    kt_trig_state_clear(&ts);
}

/* The execution a positive evaluation starts (TriggerService.generateExecution): the flow's labels without system
 * ones and the trigger's rendered ones, no inputs in a 1.x flow (Kestra 0.21), a 2.x flow's defaults (rendered, its
 * dynamic ones: docs/dialects.md A11) as its other creations have them, `trigger` = {id, type, variables: the
 * worker's output}. NULL with err when the labels or a 2.x flow's inputs do not resolve (logged, nothing started). */
static json_t *kt_sch_poll_execution(kt_scheduler *s, const kt_sch_flow *f, const kt_sch_trigger *t,
                                     const json_t *vars, int64_t now, char *err, size_t errcap)
{
    json_t *inputs = NULL;
    if (kt_dialect_of_flow(f->json) == KT_DIALECT_2X) {
        kt_env env;
        kt_sch_env(s, &env, now);
        env.dialect = KT_DIALECT_2X;
        kt_diags d;
        kt_diags_init(&d);
        kt_status st = kt_inputs_resolve_in(json_object_get(f->json, "inputs"), NULL, f->json, &env, &inputs, &d);
        if (st != KT_OK)
            snprintf(err, errcap, "Invalid inputs of the trigger '%s': %s", t->id,
                     d.count ? d.items[0].message : kt_strerror(st));
        kt_diags_clear(&d);
        char serr[400]; /* SECRET inputs stored sealed, as a Schedule's */
        if (st == KT_OK && kt_secret_inputs_seal(json_object_get(f->json, "inputs"), inputs, &env, serr, sizeof serr)) {
            snprintf(err, errcap, "Invalid inputs of the trigger '%s': %s", t->id, serr);
            st = KT_EINVAL;
        }
        if (st != KT_OK) {
            json_decref(inputs);
            return NULL;
        }
    }
    json_t *ctx = json_pack("{s:{s:s, s:s, s:i}, s:O}", "flow", "id", f->id, "namespace", f->ns, "revision",
                            f->revision, "trigger", vars);
    json_t *ex = kt_sch_execution_new(s, f, t->def, inputs, NULL, ctx, now, err, errcap);
    json_decref(inputs);
    json_decref(ctx);
    if (ex)
        json_object_set_new(ex, "trigger", json_pack("{s:s, s:O, s:O}", "id", t->id, "type",
                                                     json_object_get(t->def, "type"), "variables", vars));
    return ex;
}

int kt_sch_poll_on_reply(kt_scheduler *s, const kt_msg *m)
{
    char ck[24];
    snprintf(ck, sizeof ck, "%llu", (unsigned long long)m->corr);
    char *key = kt_map_del(s->polls, ck);
    if (!key)
        return 0;
    kt_map_del(s->poll_corr, key);
    kt_msg_reply r = {0};
    int decoded = kt_msg_decode_reply(m->body, &r) == KT_OK;
    json_t *row = NULL;
    kt_trig_state ts = {0};
    char err[512] = "";
    char *ns = key, *fid = strchr(ns, '\x1f'), *tid = fid ? strchr(fid + 1, '\x1f') : NULL;
    if (!fid || !tid)
        goto done;
    char *full = kt_xstrdup(key);
    *fid++ = '\0';
    *tid++ = '\0';
    const kt_sch_flow *f = kt_sch_flow_get(s, ns, fid);
    const kt_sch_trigger *t = kt_sch_flow_trigger(f, tid);
    int64_t now = kt_now_us();
    if (!t || !t->poll || kt_store_trigger_get(s->store, ns, fid, tid, &row) != KT_OK ||
        kt_trig_state_from_json(row, &ts, err, sizeof err) != KT_OK || !ts.evaluate_running_us) {
        free(full); /* the trigger changed or went meanwhile: its new definition polls afresh */
        goto done;
    }
    json_t *ex = NULL, *basis = kt_trig_state_json(&ts);
    if (!decoded || r.status != KT_OK) {
        char date[48];
        kt_time_format(ts.date_us, date, sizeof date);
        KT_WARN("scheduler", "trigger '%s' of %s.%s: [date: %s] Trigger evaluation failed in the worker with error: %s",
                tid, ns, fid, date, decoded && r.message ? r.message : kt_strerror(decoded ? r.status : KT_EPROTO));
    } else if (json_is_true(json_object_get(r.data, "execute")) &&
               (f->disabled || ts.disabled || json_is_true(json_object_get(t->def, "disabled")))) {
        KT_INFO("scheduler", "trigger '%s' of %s.%s was disabled during its evaluation: nothing started", tid, ns,
                fid);
    } else if (json_is_true(json_object_get(r.data, "execute"))) {
        const json_t *vars = json_object_get(r.data, "variables");
        ex = kt_sch_poll_execution(s, f, t, json_is_object(vars) ? vars : NULL, now, err, sizeof err);
        if (!ex)
            KT_WARN("scheduler", "trigger '%s' of %s.%s: no execution: %s", tid, ns, fid, err);
    } else {
        KT_DEBUG("scheduler", "trigger '%s' of %s.%s: Empty evaluation", tid, ns, fid);
    }
    kt_poll_finished(&ts, now, t->interval_us, ex ? json_string_value(json_object_get(ex, "id")) : NULL);
    if (ex) {
        char at[48], started[48];
        kt_time_format(ts.date_us, at, sizeof at);
        kt_time_format(now, started, sizeof started);
        KT_INFO("scheduler", "Scheduled execution %s at '%s' started at '%s'",
                json_string_value(json_object_get(ex, "id")), at, started);
    }
    kt_status committed = kt_sch_poll_commit(s, basis, &ts, ex);
    json_decref(basis);
    if (committed)
        kt_sch_arm(s, full, now + KT_SCH_POLL_RETRY_US);
    else if (!ts.execution_id)
        kt_sch_arm(s, full, ts.next_us);
    else
        kt_sch_disarm(s, full); /* locked: the execution's end evaluates it again */
    free(full);
done:
    kt_trig_state_clear(&ts);
    json_decref(row);
    if (decoded)
        kt_msg_reply_clear(&r);
    free(key);
    return 1;
}
