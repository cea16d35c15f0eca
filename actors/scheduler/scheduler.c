/* The scheduler actor (see scheduler.h): the flow cache, the trigger rows kept in step with the flows, and Schedule
 * ticks. The heap of due dates behind one loop timer is in due.c, Flow triggers in flow_trigger.c, execution building
 * in fire.c, polling triggers in poll.c, catching up with what went unheard in resync.c. */
#include "actors/scheduler/scheduler_int.h"
#include "actors/scheduler/toggle.h"

#include "base/alloc.h"
#include "base/assert.h"
#include "base/clock.h"
#include "base/log.h"
#include "flow/defaults.h"
#include "flow/inputs.h"
#include "flow/model.h"
#include "flow/poll.h"
#include "flow/secret_inputs.h"
#include "flow/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A trigger evaluation handles at most this many due occurrences in a row (a long downtime with ALL and conditions
 * that keep refusing): past it, the rest is taken on the next loop turn so the loop never stalls. */
#define KT_SCH_EVAL_BURST 1000

char *kt_sch_key(const char *ns, const char *flow_id, const char *trigger_id)
{
    size_t n = strlen(ns) + strlen(flow_id) + (trigger_id ? strlen(trigger_id) + 1 : 0) + 2;
    char *k = kt_xmalloc(n);
    if (trigger_id)
        snprintf(k, n, "%s\x1f%s\x1f%s", ns, flow_id, trigger_id);
    else
        snprintf(k, n, "%s\x1f%s", ns, flow_id);
    return k;
}

void kt_sch_env(kt_scheduler *s, kt_env *env, int64_t now_us) { kt_env_init(env, now_us, kt_env_next(&s->seeds)); }

/* ---- the flow cache ------------------------------------------------------------------------------ */

static void kt_sch_flow_free(kt_sch_flow *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->ntriggers; i++)
        kt_sched_free(f->triggers[i].sched);
    free(f->triggers);
    json_decref(f->json);
    free(f->ns);
    free(f->id);
    free(f->key);
    free(f);
}

kt_sch_flow *kt_sch_flow_get(kt_scheduler *s, const char *ns, const char *id)
{
    char *key = kt_sch_key(ns, id, NULL);
    kt_sch_flow *f = kt_map_get(s->flows, key);
    free(key);
    return f;
}

const kt_sch_trigger *kt_sch_flow_trigger(const kt_sch_flow *f, const char *id)
{
    for (size_t i = 0; f && i < f->ntriggers; i++)
        if (!strcmp(f->triggers[i].id, id))
            return &f->triggers[i];
    return NULL;
}

/* The latest live revision of ns.id parsed and its triggers compiled; NULL when deleted, absent, without a trigger
 * the scheduler acts on, or not parsing any more (logged: its triggers stop, as Kestra skips an invalid flow). */
static kt_sch_flow *kt_sch_flow_load(kt_scheduler *s, const char *ns, const char *id, int *revision)
{
    kt_flow_row row;
    *revision = -1;
    if (kt_store_flow_get(s->store, ns, id, 0, &row) != KT_OK)
        return NULL;
    if (!row.deleted)
        *revision = row.revision;
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *flow = NULL;
    kt_status st = row.deleted ? KT_ENOTFOUND
                               : kt_flow_parse_pinned(row.source, strlen(row.source), "flow", s->plugin_defaults,
                                                      row.dialect, &flow, &d);
    if (st && !row.deleted) {
        char *msg = kt_diags_format(&d);
        KT_WARN("scheduler", "flow %s.%s revision %d does not parse, its triggers are idle: %s", ns, id, row.revision,
                msg ? msg : "?");
        free(msg);
    }
    kt_diags_clear(&d);
    if (st) {
        kt_flow_row_clear(&row);
        return NULL;
    }
    kt_sch_flow *f = kt_xcalloc(1, sizeof *f);
    f->key = kt_sch_key(ns, id, NULL);
    f->ns = kt_xstrdup(ns);
    f->id = kt_xstrdup(id);
    f->revision = row.revision;
    f->disabled = kt_flow_disabled(flow);
    f->json = kt_defaults_apply(kt_flow_json(flow), s->plugin_defaults);
    if (!f->json)
        f->json = json_deep_copy(kt_flow_json(flow));
    kt_flow_free(flow);
    kt_flow_row_clear(&row);
    const json_t *triggers = json_object_get(f->json, "triggers");
    f->triggers = kt_xcalloc(json_array_size(triggers) + 1, sizeof *f->triggers);
    size_t i;
    json_t *t;
    json_array_foreach(triggers, i, t) {
        const char *type = json_string_value(json_object_get(t, "type"));
        const char *tid = json_string_value(json_object_get(t, "id"));
        if (!type || !tid)
            continue;
        if (!strcmp(kt_task_canonical_type(type), "io.kestra.plugin.core.trigger.Flow")) {
            if (!json_is_true(json_object_get(t, "disabled")))
                f->flow_triggers = 1;
            if (!json_is_true(json_object_get(t, "disabled")) && kt_sch_onmiss_watches(t)) {
                kt_sch_trigger *om = &f->triggers[f->ntriggers++]; /* its deadlines are due dates (onmiss.c) */
                om->id = tid;
                om->def = t;
                om->onmiss = 1;
            }
            continue;
        }
        if (kt_trig_kind_of(type) == KT_TRIG_OTHER)
            continue;
        kt_sch_trigger *st_ = &f->triggers[f->ntriggers++];
        st_->id = tid;
        st_->def = t;
        if (kt_trig_kind_of(type) == KT_TRIG_POLLING) {
            char perr[256] = "";
            if (kt_poll_interval(t, &st_->interval_us, perr, sizeof perr) == KT_OK)
                st_->poll = kt_poll_type_of(type);
            else
                KT_WARN("scheduler", "flow %s.%s trigger %s is idle: %s", ns, id, tid, perr);
            continue;
        }
        kt_env env;
        kt_sch_env(s, &env, kt_now_us());
        env.dialect = kt_dialect_of_flow(f->json);
        char err[256] = "";
        if (kt_sched_compile(t, f->json, s->default_zone, s->recover, &env, &st_->sched, err, sizeof err) != KT_OK) {
            st_->sched = NULL;
            KT_WARN("scheduler", "flow %s.%s trigger %s is idle: %s", ns, id, tid, err);
        }
    }
    if (!f->ntriggers && !f->flow_triggers) { /* most flows: nothing for the scheduler to hold */
        kt_sch_flow_free(f);
        return NULL;
    }
    return f;
}

/* ---- trigger rows in step with a flow -------------------------------------------------------------- */

/* A definition's fingerprint (FNV-1a of its JSON with sorted keys): equal definitions, equal fingerprints. */
static void kt_sch_fingerprint(const json_t *def, char out[17])
{
    char *text = json_dumps(def, JSON_COMPACT | JSON_SORT_KEYS);
    snprintf(out, 17, "%016llx", (unsigned long long)kt_env_seed_of(text ? text : ""));
    free(text);
}

static int kt_sch_row_matches(const json_t *row, const char *tid)
{
    const char *r = json_string_value(json_object_get(row, "triggerId"));
    return r && !strcmp(r, tid);
}

/* At start only: a lock whose execution ended (or vanished) while no scheduler was listening. */
int kt_sch_release_if_ended(kt_scheduler *s, kt_trig_state *st, int64_t now_us)
{
    if (!st->execution_id)
        return 0;
    json_t *ex = NULL;
    kt_status got = kt_store_execution_get(s->store, st->execution_id, &ex);
    const char *cur = ex ? kt_state_current(ex) : NULL;
    int ended = got == KT_ENOTFOUND || (cur && kt_state_is_terminated(cur));
    if (ended)
        kt_trig_reset_execution(st, cur ? cur : KT_S(FAILED));
    (void)now_us;
    json_decref(ex);
    return ended;
}

/* Several schedulers run side by side over one store, each arming every trigger: the row decides. Whoever writes a
 * row claims it first (held until the commit) and checks it still holds the state the new one was computed from;
 * another scheduler that fired the same tick, or the API, has moved it otherwise, and the writer rolls back and
 * starts again from the row as it now is. So a tick fires once, however many schedulers reached it. */
kt_status kt_sch_put_state(kt_scheduler *s, const json_t *basis, const kt_trig_state *st)
{
    json_t *j = kt_trig_state_json(st);
    kt_status r;
    if (!basis) { /* made from nothing: written only if nobody made it meanwhile */
        r = kt_store_trigger_insert(s->store, j);
        json_decref(j);
        if (r == KT_ECONFLICT)
            KT_DEBUG("scheduler", "trigger %s.%s.%s was created meanwhile (another scheduler): evaluated again",
                     st->namespace_, st->flow_id, st->trigger_id);
        return r;
    }
    json_t *row = NULL, *now_j = NULL;
    kt_trig_state cur = {0};
    char err[256];
    kt_status got = kt_store_trigger_claim(s->store, st->namespace_, st->flow_id, st->trigger_id, &row);
    if (got == KT_OK && kt_trig_state_from_json(row, &cur, err, sizeof err) == KT_OK)
        now_j = kt_trig_state_json(&cur);
    /* the state as read, or (a row that did not read) the row itself */
    int same = (now_j && json_equal(now_j, basis)) || (row && json_equal(row, basis));
    kt_trig_state_clear(&cur);
    json_decref(row);
    json_decref(now_j);
    if (got != KT_OK && got != KT_ENOTFOUND) {
        json_decref(j);
        return got;
    }
    if (!same) {
        KT_DEBUG("scheduler", "trigger %s.%s.%s moved meanwhile (another scheduler, or the API): evaluated again",
                 st->namespace_, st->flow_id, st->trigger_id);
        json_decref(j);
        return KT_ECONFLICT;
    }
    r = kt_store_trigger_put(s->store, j);
    json_decref(j);
    return r;
}

/* Makes the rows of flow ns.id match its latest revision `now_f` (NULL: deleted) given the revision seen before
 * (`old`, NULL at start): new triggers get a row, removed ones lose theirs, a changed definition recomputes its next
 * date, an unchanged one keeps its state. At start (`starting`), locks of ended executions are released and
 * recoverMissedSchedules is applied. One transaction. */
static kt_status kt_sch_reconcile_once(kt_scheduler *s, const char *ns, const char *id, const kt_sch_flow *old,
                                       const kt_sch_flow *now_f, int starting)
{
    json_t *rows = NULL;
    if (kt_store_triggers_list(s->store, ns, id, &rows) != KT_OK) {
        KT_ERROR("scheduler", "cannot read the triggers of %s.%s: %s", ns, id, kt_store_errmsg(s->store));
        return KT_EDB;
    }
    int64_t now = kt_now_us();
    kt_status st = kt_store_begin(s->store);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *tid = json_string_value(json_object_get(row, "triggerId"));
        if (st == KT_OK && tid && !kt_sch_flow_trigger(now_f, tid)) {
            st = kt_store_trigger_delete(s->store, ns, id, tid);
            char *key = kt_sch_key(ns, id, tid);
            kt_sch_disarm(s, key);
            kt_sch_poll_forget(s, key);
            free(key);
        }
    }
    for (size_t k = 0; st == KT_OK && now_f && k < now_f->ntriggers; k++) {
        const kt_sch_trigger *t = &now_f->triggers[k];
        if (!t->sched && !t->poll)
            continue;
        json_t *found = NULL;
        json_array_foreach(rows, i, row) {
            if (kt_sch_row_matches(row, t->id))
                found = row;
        }
        const kt_sch_trigger *before = kt_sch_flow_trigger(old, t->id);
        kt_trig_state ts = {0}, prev = {0};
        char err[256] = "";
        int write = 1, readable = found && kt_trig_state_from_json(found, &prev, err, sizeof err) == KT_OK;
        /* what the row held when read (an unreadable one as it is; none: it is made only if still absent) */
        json_t *basis = readable ? kt_trig_state_json(&prev) : found ? json_incref(found) : NULL;
        if (found && !readable)
            KT_WARN("scheduler", "trigger %s.%s.%s: stored state unreadable (%s), recreated", ns, id, t->id, err);
        kt_env env;
        kt_sch_env(s, &env, now);
        env.dialect = kt_dialect_of_flow(now_f->json);
        /* changed: against the revision seen before, or, at start, against the fingerprint the row was computed
         * from (a revision saved while no scheduler ran); a row without one (older store) is taken as unchanged */
        char fp[17], *stored = NULL;
        kt_sch_fingerprint(t->def, fp);
        if (readable && kt_store_trigger_fingerprint(s->store, ns, id, t->id, &stored) == KT_EDB)
            st = KT_EDB;
        int changed = before ? !kt_sched_same_definition(before->def, t->def) : stored && strcmp(stored, fp);
        if (changed && before && stored && !strcmp(stored, fp))
            changed = 0; /* another scheduler reconciled the row to this very definition first: its dates stand */
        if (st == KT_OK && (!readable || changed)) {
            /* new, or its definition changed: a fresh next date (the lock and `disabled` are kept) */
            st = t->poll ? kt_poll_init_state(t->def, ns, id, now, readable ? &prev : NULL, &ts)
                         : kt_sched_init_state(t->sched, ns, id, now, readable ? &prev : NULL, &ts);
            kt_trig_state_clear(&prev);
        } else {
            ts = prev;
            write = 0;
            if (starting) {
                write = kt_sch_release_if_ended(s, &ts, now);
                if (t->sched)
                    write |= kt_sched_recover_missed(t->sched, now_f->json, &ts, now, &env);
                else if (ts.evaluate_running_us) { /* no evaluation outlives the process that asked for it */
                    ts.evaluate_running_us = 0;
                    write = 1;
                }
            }
        }
        if (st == KT_OK && write) {
            ts.updated_us = now;
            st = kt_sch_put_state(s, basis, &ts);
        }
        if (st == KT_OK && (!stored || strcmp(stored, fp)))
            st = kt_store_trigger_set_fingerprint(s->store, ns, id, t->id, fp);
        free(stored);
        json_decref(basis);
        kt_trig_state_clear(&ts);
    }
    if (st == KT_OK)
        st = kt_store_commit(s->store);
    else
        kt_store_rollback(s->store);
    if (st && st != KT_ECONFLICT)
        KT_ERROR("scheduler", "triggers of %s.%s not updated: %s", ns, id, kt_store_errmsg(s->store));
    json_decref(rows);
    return st;
}

/* A row that another scheduler moved between the read and the write is read again (a few times: each retry follows
 * a commit of someone else's, so they do not go on for long). */
static void kt_sch_reconcile(kt_scheduler *s, const char *ns, const char *id, const kt_sch_flow *old,
                             const kt_sch_flow *now_f, int starting)
{
    for (int i = 0; i < 5; i++)
        if (kt_sch_reconcile_once(s, ns, id, old, now_f, starting) != KT_ECONFLICT)
            return;
    /* each evaluation reads its row afresh, so the triggers still fire right; only their rows wait for the next change */
    KT_WARN("scheduler", "triggers of %s.%s not reconciled: their rows kept moving under other schedulers", ns, id);
}

void kt_sch_flow_changed(kt_scheduler *s, const char *ns, const char *id, int starting)
{
    char *key = kt_sch_key(ns, id, NULL);
    kt_sch_flow *old = kt_map_get(s->flows, key);
    int revision;
    kt_sch_flow *now_f = kt_sch_flow_load(s, ns, id, &revision);
    if (revision >= 0) /* the revision acted on, trigger or not (kt_sch_resync compares the store's with it) */
        json_object_set_new(s->seen, key, json_integer(revision));
    else
        json_object_del(s->seen, key);
    kt_sch_reconcile(s, ns, id, old, now_f, starting);
    kt_map_del(s->flows, key);
    kt_map_del(s->listeners, key);
    if (now_f)
        kt_map_put(s->flows, key, now_f, NULL);
    if (now_f && now_f->flow_triggers)
        kt_map_put(s->listeners, key, now_f, NULL);
    /* timers of the old revision's triggers go: each trigger of the new one is evaluated afresh */
    for (size_t i = 0; old && i < old->ntriggers; i++) {
        char *tk = kt_sch_key(ns, id, old->triggers[i].id);
        kt_sch_disarm(s, tk);
        free(tk);
    }
    kt_sch_flow_free(old);
    for (size_t i = 0; now_f && i < now_f->ntriggers; i++)
        kt_sch_evaluate(s, ns, id, now_f->triggers[i].id);
    free(key);
}

/* ---- Schedule ticks ------------------------------------------------------------------------------ */

/* The execution a Schedule or ScheduleOnDates occurrence starts (KESTRA-execution.md §5.4): the rendered inputs
 * (flow/trigger.c renders them with the trigger's variables) typed like the API's with the flow's defaults, the
 * trigger's and the backfill's labels, `trigger` and `variables.schedule`. NULL with err when the inputs do not type
 * (the caller emits a FAILED one). */
static json_t *kt_sch_tick_execution(kt_scheduler *s, const kt_sch_flow *f, const kt_sch_trigger *t,
                                     const kt_sched_fire *fire, int64_t now, char *err, size_t errcap)
{
    json_t *typed = NULL;
    kt_diags d;
    kt_diags_init(&d);
    json_t *raw = fire->inputs ? json_incref(fire->inputs) : json_object();
    kt_env env;
    kt_sch_env(s, &env, now);
    env.dialect = kt_dialect_of_flow(f->json);
    /* a 2.x flow's dynamic defaults render here as the API's do (docs/dialects.md A11); one that does not render is
     * an input error like any other: the occurrence's FAILED execution says why */
    kt_status st = kt_inputs_resolve_in(json_object_get(f->json, "inputs"), raw, f->json, &env, &typed, &d);
    json_decref(raw);
    if (st == KT_OK) { /* SECRET inputs are stored sealed with the configured key */
        char serr[512];
        if (kt_secret_inputs_seal(json_object_get(f->json, "inputs"), typed, &env, serr, sizeof serr)) {
            snprintf(err, errcap, "Invalid inputs of the trigger '%s': %.300s", t->id, serr);
            json_decref(typed);
            kt_diags_clear(&d);
            return NULL;
        }
    }
    if (st != KT_OK) {
        char *msg = kt_diags_format(&d);
        snprintf(err, errcap, "Invalid inputs of the trigger '%s': %s", t->id, msg ? msg : "?");
        free(msg);
        kt_diags_clear(&d);
        return NULL;
    }
    kt_diags_clear(&d);
    json_t *ex = kt_sch_execution_new(s, f, NULL, typed, fire->labels, NULL, now, err, errcap);
    json_decref(typed);
    if (!ex)
        return NULL;
    json_t *vars = fire->vars ? json_incref(fire->vars) : json_object();
    json_object_set_new(ex, "trigger", json_pack("{s:s, s:O, s:O}", "id", t->id, "type",
                                                 json_object_get(t->def, "type"), "variables", vars));
    if (kt_sched_kind(t->sched) == KT_TRIG_SCHEDULE)
        json_object_set_new(ex, "variables", json_pack("{s:O}", "schedule", vars));
    json_decref(vars);
    if (fire->schedule_date_us) {
        char buf[48];
        kt_time_format(fire->schedule_date_us, buf, sizeof buf);
        json_object_set_new(ex, "scheduleDate", json_string(buf));
    }
    return ex;
}

/* A FAILED execution standing for an occurrence that could not start (Kestra emits one so the failure is seen),
 * with the reason as its log line; appended to logs for the same commit. */
static json_t *kt_sch_failed_execution(kt_scheduler *s, const kt_sch_flow *f, const kt_sch_trigger *t,
                                       const kt_sched_fire *fire, const char *why, int64_t now, json_t *logs)
{
    char err[256];
    json_t *ex = kt_sch_execution_new(s, f, NULL, NULL, fire->labels, NULL, now, err, sizeof err);
    if (!ex)
        return NULL;
    kt_state_set(json_object_get(ex, "state"), KT_S(FAILED), now);
    char ts[48];
    kt_time_format(now - now % 1000, ts, sizeof ts);
    json_array_append_new(logs, json_pack("{s:O, s:O, s:O, s:s, s:s, s:s, s:s, s:s, s:b}", "namespace",
                                          json_object_get(ex, "namespace"), "flowId", json_object_get(ex, "flowId"),
                                          "executionId", json_object_get(ex, "id"), "triggerId", t->id, "timestamp",
                                          ts, "level", "ERROR", "thread", "scheduler", "message", why, "deleted", 0));
    return ex;
}

/* Before an evaluation, what Kestra's scheduler checks on each pass: a lock whose execution has ended (or is gone)
 * is released, in case its end was not heard (the notice replay covers a crash; this covers an execution the
 * executor could not take), and an enabled trigger without a next date (disabled through the API, then enabled
 * again by the end of its execution and stopAfter) gets one. The row is written when it changed. */
static kt_status kt_sch_refresh(kt_scheduler *s, const kt_sch_flow *f, const kt_sch_trigger *t, kt_trig_state *ts)
{
    int64_t now = kt_now_us();
    json_t *basis = kt_trig_state_json(ts);
    int changed = kt_sch_release_if_ended(s, ts, now);
    if (!ts->disabled && !ts->execution_id && !ts->next_us) {
        kt_env env;
        kt_sch_env(s, &env, now);
        env.dialect = kt_dialect_of_flow(f->json);
        changed |= kt_sched_recover_missed(t->sched, f->json, ts, now, &env);
    }
    kt_status st = KT_OK;
    if (changed && (st = kt_store_begin(s->store)) == KT_OK) {
        st = kt_sch_put_state(s, basis, ts);
        if (st == KT_OK)
            st = kt_store_commit(s->store);
        else
            kt_store_rollback(s->store);
    }
    json_decref(basis);
    return st;
}

/* A locked trigger is released by its execution's end (the executor's message, or the notice replayed). If that
 * message went to a scheduler that died with it, or the execution never reached an executor and was ended otherwise,
 * nothing else would evaluate the trigger again: it is looked at every lock_check_us (its refresh releases a lock whose
 * execution has ended, as Kestra's scheduler checks on each pass), so a lost end only delays the next tick. */
static void kt_sch_arm_lock_check(kt_scheduler *s, const char *key, const kt_trig_state *ts)
{
    if (ts->execution_id && !ts->disabled && s->lock_check_us > 0)
        kt_sch_arm(s, key, kt_now_us() + s->lock_check_us);
}

void kt_sch_evaluate(kt_scheduler *s, const char *ns, const char *flow_id, const char *trigger_id)
{
    char *key = kt_sch_key(ns, flow_id, trigger_id);
    kt_sch_disarm(s, key);
    kt_sch_flow *f = kt_sch_flow_get(s, ns, flow_id);
    const kt_sch_trigger *t = kt_sch_flow_trigger(f, trigger_id);
    json_t *row = NULL;
    kt_trig_state ts = {0};
    char err[256] = "";
    if (t && t->onmiss) {
        kt_sch_onmiss_evaluate(s, f, t, key);
        goto done;
    }
    if (t && t->poll && !f->disabled && !json_is_true(json_object_get(t->def, "disabled"))) {
        kt_sch_poll_evaluate(s, f, t, key);
        goto done;
    }
    if (!t || !t->sched || f->disabled || json_is_true(json_object_get(t->def, "disabled")))
        goto done;
    kt_status got = kt_store_trigger_get(s->store, ns, flow_id, trigger_id, &row);
    if (got == KT_ENOTFOUND)
        goto done; /* no row yet: the flow's reconcile makes it, then evaluates */
    if (got != KT_OK) { /* the store failed: look again later rather than let the trigger die */
        KT_WARN("scheduler", "trigger %s.%s.%s not read (%s); trying again", ns, flow_id, trigger_id,
                kt_store_errmsg(s->store));
        kt_sch_arm(s, key, kt_now_us() + KT_SCH_COMMIT_RETRY_MS * 1000);
        goto done;
    }
    if (kt_trig_state_from_json(row, &ts, err, sizeof err) != KT_OK) {
        KT_WARN("scheduler", "trigger %s.%s.%s: stored state unreadable: %s", ns, flow_id, trigger_id, err);
        goto done;
    }
    kt_status refreshed = kt_sch_refresh(s, f, t, &ts);
    if (refreshed == KT_ECONFLICT) {
        kt_sch_arm(s, key, kt_now_us()); /* moved meanwhile: evaluated again from the row as it is */
    } else if (refreshed != KT_OK) { /* the store failed: as for a row not read, look again rather than let it die */
        KT_WARN("scheduler", "trigger %s.%s.%s not refreshed (%s: %s); trying again", ns, flow_id, trigger_id,
                kt_strerror(refreshed), kt_store_errmsg(s->store));
        kt_sch_arm(s, key, kt_now_us() + KT_SCH_COMMIT_RETRY_MS * 1000);
    }
    if (refreshed != KT_OK)
        goto done;
    if (ts.disabled || ts.execution_id) {
        kt_sch_arm_lock_check(s, key, &ts);
        goto done; /* disabled, or its execution still runs: re-evaluated when that ends (the lock) */
    }
    for (int n = 0; n < KT_SCH_EVAL_BURST; n++) {
        s->evaluations++;
        int64_t now = kt_now_us();
        json_t *basis = kt_trig_state_json(&ts); /* the state this occurrence is decided from */
        kt_env env;
        kt_sch_env(s, &env, now);
        env.dialect = kt_dialect_of_flow(f->json);
        kt_sched_fire fire = {0};
        int64_t due = 0;
        kt_sched_verdict v = kt_sched_evaluate(t->sched, f->json, &ts, now, &env, &fire, &due);
        if (v == KT_SCHED_WAIT) {
            kt_sched_fire_clear(&fire);
            json_decref(basis);
            if (due > 0)
                kt_sch_arm(s, key, due);
            goto done;
        }
        json_t *ex = NULL, *logs = json_array();
        char why[512] = "";
        if (v == KT_SCHED_SKIP && fire.error[0])
            KT_WARN("scheduler", "trigger '%s' of %s.%s skipped an occurrence: %s", trigger_id, ns, flow_id, fire.error);
        if (v == KT_SCHED_FIRE && !(ex = kt_sch_tick_execution(s, f, t, &fire, now, why, sizeof why)))
            v = KT_SCHED_FAIL;
        else if (v == KT_SCHED_FAIL)
            snprintf(why, sizeof why, "%s", fire.error);
        if (v == KT_SCHED_FAIL) {
            KT_WARN("scheduler", "Unable to evaluate the trigger '%s' of %s.%s: %s", trigger_id, ns, flow_id, why);
            ex = kt_sch_failed_execution(s, f, t, &fire, why, now, logs);
        }
        kt_status st = kt_sched_advance(t->sched, f->json, &ts, v, &fire, now, &env);
        if (st == KT_OK && ex && v == KT_SCHED_FIRE)
            ts.execution_id = kt_xstrdup(json_string_value(json_object_get(ex, "id")));
        ts.updated_us = now;
        int began = 0;
        if (st == KT_OK)
            began = (st = kt_store_begin(s->store)) == KT_OK;
        if (st == KT_OK && ex)
            st = kt_store_execution_put(s->store, ex, NULL, 0);
        if (st == KT_OK && json_array_size(logs))
            st = kt_store_logs_append(s->store, logs);
        if (st == KT_OK)
            st = kt_sch_put_state(s, basis, &ts);
        json_decref(basis);
        if (st == KT_OK)
            st = kt_store_commit(s->store);
        else if (began)
            kt_store_rollback(s->store);
        json_decref(logs);
        if (st == KT_ECONFLICT) { /* another scheduler took this occurrence: nothing of ours was written */
            json_decref(ex);
            kt_sched_fire_clear(&fire);
            kt_sch_arm(s, key, kt_now_us());
            goto done;
        }
        if (st != KT_OK) {
            KT_ERROR("scheduler", "trigger %s.%s.%s not fired (%s: %s); trying again", ns, flow_id, trigger_id,
                     kt_strerror(st), kt_store_errmsg(s->store));
            json_decref(ex);
            kt_sched_fire_clear(&fire);
            kt_sch_arm(s, key, now + KT_SCH_COMMIT_RETRY_MS * 1000);
            goto done;
        }
        if (ex && v == KT_SCHED_FIRE) {
            char at[48], started[48];
            kt_time_format(fire.date_us, at, sizeof at);
            kt_time_format(now, started, sizeof started);
            KT_INFO("scheduler", "Scheduled execution %s at '%s' started at '%s'",
                    json_string_value(json_object_get(ex, "id")), at, started);
            s->started++;
            kt_sch_send(s, ex); /* takes the reference */
        } else {
            json_decref(ex);
        }
        kt_sched_fire_clear(&fire);
        if (ts.execution_id || ts.disabled) {
            kt_sch_arm_lock_check(s, key, &ts);
            goto done; /* locked until its execution ends */
        }
    }
    kt_sch_arm(s, key, kt_now_us()); /* a long run of skipped occurrences: go on next turn */
done:
    kt_trig_state_clear(&ts);
    json_decref(row);
    free(key);
}

/* ---- messages ------------------------------------------------------------------------------------ */

/* An execution started by a Schedule ended: its trigger is free again (and may be disabled by stopAfter). */
static void kt_sch_execution_ended(kt_scheduler *s, const json_t *ex)
{
    const json_t *trig = json_object_get(ex, "trigger");
    const char *tid = json_string_value(json_object_get(trig, "id"));
    const char *ns = json_string_value(json_object_get(ex, "namespace"));
    const char *fid = json_string_value(json_object_get(ex, "flowId"));
    const char *id = json_string_value(json_object_get(ex, "id"));
    if (!tid || !ns || !fid || !id || kt_trig_kind_of(json_string_value(json_object_get(trig, "type"))) == KT_TRIG_OTHER)
        return;
    json_t *row = NULL;
    kt_trig_state ts = {0};
    char err[256];
    if (kt_store_trigger_get(s->store, ns, fid, tid, &row) != KT_OK ||
        kt_trig_state_from_json(row, &ts, err, sizeof err) != KT_OK || !ts.execution_id ||
        strcmp(ts.execution_id, id))
        goto done;
    json_t *basis = kt_trig_state_json(&ts);
    kt_trig_reset_execution(&ts, kt_state_current(ex));
    kt_status st = kt_store_begin(s->store);
    if (st == KT_OK)
        st = kt_sch_put_state(s, basis, &ts);
    json_decref(basis);
    if (st == KT_OK)
        st = kt_store_commit(s->store);
    else
        kt_store_rollback(s->store);
    if (st != KT_OK && st != KT_ECONFLICT) { /* a conflict: someone released it first; evaluated from their row */
        /* evaluated again later: its refresh releases a lock whose execution has ended (nothing else would: a locked
         * trigger waits for this very end) */
        KT_ERROR("scheduler", "trigger %s.%s.%s stays locked for now: %s", ns, fid, tid, kt_store_errmsg(s->store));
        char *key = kt_sch_key(ns, fid, tid);
        kt_sch_arm(s, key, kt_now_us() + KT_SCH_COMMIT_RETRY_MS * 1000);
        free(key);
        goto done;
    }
    kt_sch_evaluate(s, ns, fid, tid);
done:
    kt_trig_state_clear(&ts);
    json_decref(row);
}

/* The Toggle task's request (actors/scheduler/toggle.c applies and answers it); a changed row is re-armed. */
static void kt_sch_toggle(kt_scheduler *s, const kt_msg *m)
{
    kt_trigger_env e = {.store = s->store, .plugin_defaults = s->plugin_defaults, .default_zone = s->default_zone,
                        .default_recover = s->recover, .now_us = kt_now_us()};
    int changed = 0;
    kt_trigger_toggle_on_request(&e, s->self, m, &changed);
    json_t *body = NULL;
    if (!changed || kt_msg_decode_object(m->body, &body) != KT_OK)
        return;
    const char *ns = json_string_value(json_object_get(body, "namespace"));
    const char *fid = json_string_value(json_object_get(body, "flowId"));
    const char *tid = json_string_value(json_object_get(body, "trigger"));
    if (ns && fid && tid)
        kt_sch_evaluate(s, ns, fid, tid);
    json_decref(body);
}

void kt_sch_execution_changed(kt_scheduler *s, const json_t *execution)
{
    if (kt_state_is_terminated(kt_state_current(execution)))
        kt_sch_execution_ended(s, execution);
    kt_sch_flow_triggers(s, execution);
}

void kt_sch_notices_flush(kt_scheduler *s)
{
    if (!json_array_size(s->notices_done))
        return;
    kt_status st = kt_store_begin(s->store);
    size_t i;
    json_t *n;
    json_array_foreach(s->notices_done, i, n) {
        if (st == KT_OK)
            st = kt_store_notice_done(s->store, json_string_value(json_array_get(n, 0)),
                                      json_string_value(json_array_get(n, 1)));
    }
    if (st == KT_OK)
        st = kt_store_commit(s->store);
    else
        kt_store_rollback(s->store);
    if (st != KT_OK)
        KT_WARN("scheduler", "notices not cleared (%s): they are replayed at the next start", kt_store_errmsg(s->store));
    json_array_clear(s->notices_done);
}

/* End of the turn: the notices acted on without a commit of their own go in one. A crash before it replays them at
 * the next start, which finds nothing more to do with them. */
static void kt_sch_flush(kt_actor *a) { kt_sch_notices_flush(kt_actor_state(a)); }

static void kt_sch_receive(kt_actor *a, const kt_msg *m)
{
    kt_scheduler *s = kt_actor_state(a);
    json_t *body = NULL;
    if (m->type == KT_MSG_TRIGGER_TOGGLE) {
        kt_sch_toggle(s, m);
        return;
    }
    if (m->type == KT_MSG_REPLY) {
        if (!kt_sch_poll_on_reply(s, m)) /* else an ExecutionCreate's answer */
            kt_sch_on_reply(s, m);
        return;
    }
    if (m->type != KT_MSG_FLOW_CHANGED && m->type != KT_MSG_TRIGGER_CHANGED && m->type != KT_MSG_EXECUTION_CHANGED) {
        KT_DEBUG("scheduler", "ignored %s from %s", kt_msg_type_name(m->type), m->from);
        return;
    }
    if (kt_msg_decode_object(m->body, &body) != KT_OK) {
        KT_WARN("scheduler", "malformed %s from %s", kt_msg_type_name(m->type), m->from);
        return;
    }
    const char *ns = json_string_value(json_object_get(body, "namespace"));
    switch (m->type) {
    case KT_MSG_FLOW_CHANGED: {
        const char *id = json_string_value(json_object_get(body, "id"));
        if (ns && id)
            kt_sch_flow_changed(s, ns, id, 0);
        break;
    }
    case KT_MSG_TRIGGER_CHANGED: {
        const char *fid = json_string_value(json_object_get(body, "flowId"));
        const char *tid = json_string_value(json_object_get(body, "triggerId"));
        if (ns && fid && tid)
            kt_sch_evaluate(s, ns, fid, tid);
        break;
    }
    case KT_MSG_EXECUTION_CHANGED: kt_sch_execution_changed(s, body); break;
    default: break;
    }
    json_decref(body);
}

/* ---- lifecycle ----------------------------------------------------------------------------------- */

static void kt_sch_on_closed(uv_handle_t *h)
{
    kt_scheduler *s = h->data;
    if (--s->closing)
        return; /* another timer's close is still to come (libuv gives no order) */
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(s->flows, &pos, &key, &val))
        kt_sch_flow_free(val);
    kt_map_free(s->flows);
    kt_map_free(s->listeners);
    kt_map_free(s->armed);
    pos = 0;
    while (kt_map_next(s->awaiting, &pos, &key, &val))
        free(val);
    kt_map_free(s->awaiting);
    kt_sch_poll_free(s);
    for (size_t i = 0; i < s->nheap; i++)
        free(s->heap[i].key);
    free(s->heap);
    for (kt_sch_pending *p = s->pending, *n; p; p = n) {
        n = p->next;
        json_decref(p->execution);
        free(p);
    }
    json_decref(s->plugin_defaults);
    json_decref(s->notices_done);
    json_decref(s->seen);
    json_decref(s->notices_prev);
    free(s->default_zone);
    free(s);
}

static void kt_sch_close_timers(kt_scheduler *s)
{
    s->closing = 3;
    uv_close((uv_handle_t *)&s->timer, kt_sch_on_closed);
    uv_close((uv_handle_t *)&s->retry, kt_sch_on_closed);
    uv_close((uv_handle_t *)&s->resync, kt_sch_on_closed);
}

static void kt_sch_stop(kt_actor *a) { kt_sch_close_timers(kt_actor_state(a)); }

static const kt_actor_ops kt_sch_ops = {.receive = kt_sch_receive, .flush = kt_sch_flush, .stop = kt_sch_stop};

kt_status kt_scheduler_start(kt_node *node, kt_store *store, const kt_scheduler_options *opts, kt_scheduler **out)
{
    kt_scheduler *s = kt_xcalloc(1, sizeof *s);
    kt_env_init_real(&s->seeds);
    s->store = store;
    s->recover = opts ? opts->recover : KT_SCHED_RECOVER_ALL;
    s->poll_lost_after_us = opts ? opts->poll_lost_after_us : 0;
    if (opts && opts->default_zone)
        s->default_zone = kt_xstrdup(opts->default_zone);
    if (opts && json_array_size(opts->plugin_defaults))
        s->plugin_defaults = json_incref((json_t *)opts->plugin_defaults);
    s->flows = kt_map_new();
    s->armed = kt_map_new();
    s->listeners = kt_map_new();
    s->awaiting = kt_map_new();
    s->polls = kt_map_new();
    s->poll_corr = kt_map_new();
    s->pending_tail = &s->pending;
    s->notices_done = json_array();
    s->seen = json_object();
    s->notices_prev = json_object();
    s->lock_check_us = KT_SCH_LOCK_CHECK_US;
    int64_t resync_us = opts && opts->reconcile_interval_us ? opts->reconcile_interval_us : KT_SCH_RECONCILE_US;
    uv_timer_init(kt_node_loop(node), &s->timer);
    uv_timer_init(kt_node_loop(node), &s->retry);
    uv_timer_init(kt_node_loop(node), &s->resync);
    s->timer.data = s->retry.data = s->resync.data = s;
    kt_status st = kt_node_spawn(node, KT_SCHEDULER_ACTOR, &kt_sch_ops, s, &s->self);
    if (st) {
        kt_sch_close_timers(s);
        return st;
    }
    /* every live flow's triggers, then rows whose flow is gone */
    json_t *flows = NULL, *rows = NULL;
    if (kt_store_flows_latest(store, NULL, NULL, &flows) == KT_OK) {
        size_t i;
        json_t *fl;
        json_array_foreach(flows, i, fl) kt_sch_flow_changed(s, json_string_value(json_object_get(fl, "namespace")),
                                                            json_string_value(json_object_get(fl, "id")), 1);
    } else {
        KT_ERROR("scheduler", "cannot list flows: %s", kt_store_errmsg(store));
    }
    if (kt_store_triggers_list(store, NULL, NULL, &rows) == KT_OK) {
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) {
            const char *ns = json_string_value(json_object_get(r, "namespace"));
            const char *fid = json_string_value(json_object_get(r, "flowId"));
            if (ns && fid && !kt_sch_flow_get(s, ns, fid))
                kt_sch_flow_changed(s, ns, fid, 1);
        }
    }
    json_decref(flows);
    json_decref(rows);
    kt_sch_replay_notices(s);
    if (resync_us > 0) { /* a FLOW_CHANGED missed (sent while this scheduler was down, or its mailbox full) */
        uint64_t ms = (uint64_t)(resync_us + 999) / 1000;
        uv_timer_start(&s->resync, kt_sch_on_resync, ms, ms);
        uv_unref((uv_handle_t *)&s->resync); /* it alone never keeps the loop running */
    }
    KT_INFO("scheduler", "%zu flow(s), %zu trigger(s) armed", kt_map_size(s->flows), kt_map_size(s->armed));
    *out = s;
    return KT_OK;
}

uint64_t kt_scheduler_started(const kt_scheduler *s) { return s->started; }
uint64_t kt_scheduler_evaluations(const kt_scheduler *s) { return s->evaluations; }
