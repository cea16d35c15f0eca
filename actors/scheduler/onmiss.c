/* Kestra 2.0's Flow-trigger `onMiss: {behavior: FAIL, labels}` (flow/depends_on.h): when a `window.deadline` passes
 * without the trigger's dependsOn satisfied, one FAILED execution of the flow, with those labels (the migration
 * guide: "creates a FAILED execution when a deadline passes unsatisfied, with attachable labels for alerting"; the
 * 2.0 plugin page Kite could read says no more, so only a deadline window has one, as depends_on.c already checks).
 *
 * Each watched deadline is one row beside the trigger's dependsOn window, in the store's windows (condition id
 * "onMiss:<triggerId>", a character no precondition id may hold):
 *   {namespace, flowId, conditionId, start, end: deadline + 1 day (so the expiry of windows keeps it past its
 *    deadline), results: {}, deadline, state: WATCHING | SATISFIED | MISSED}
 * The scheduler arms a due date at each deadline (due.c): at it, in one transaction, a row still WATCHING its
 * deadline becomes MISSED with the FAILED execution, then the next deadline is watched. The Flow trigger's own
 * commit marks the row SATISFIED when its dependsOn window completes (flow_trigger.c), against the row as it read it,
 * so a trigger completing and a deadline passing at the same moment decide once. The row is claimed before it is
 * decided, so two schedulers, or one restarted, never fail a window twice; a deadline that passed while no scheduler
 * ran is failed at the next start when it was being watched (at most one per trigger), never one that nobody watched
 * (a flow saved after its deadline is watched from the next one). */
#include "actors/scheduler/scheduler_int.h"

#include "base/clock.h"
#include "base/log.h"
#include "flow/condition.h"
#include "flow/depends_on.h"
#include "flow/model.h"
#include "flow/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define US_PER_DAY (86400LL * 1000000)

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

int kt_sch_onmiss_watches(const json_t *trigger)
{
    const char *type = str(trigger, "type");
    const json_t *om = json_object_get(trigger, "onMiss");
    return type && !strcmp(kt_task_canonical_type(type), "io.kestra.plugin.core.trigger.Flow") &&
           json_is_object(om) && json_object_get(trigger, "dependsOn") &&
           json_is_string(json_object_get(json_object_get(trigger, "window"), "deadline"));
}

static void kt_sch_onmiss_cid(const json_t *trigger, char *out, size_t cap)
{
    snprintf(out, cap, "onMiss:%s", str(trigger, "id") ? str(trigger, "id") : "trigger");
}

/* The dependsOn multiple condition of the trigger (its window), or NULL (logged). */
static json_t *kt_sch_onmiss_multiple(const kt_sch_flow *f, const json_t *trigger)
{
    json_t *m = NULL;
    char where[128] = "", err[384] = "";
    if (kt_depends_on_normalize(trigger, &m, where, sizeof where, err, sizeof err) <= 0) {
        KT_WARN("scheduler", "flow %s.%s trigger %s: onMiss not watched (%s: %s)", f->ns, f->id, str(trigger, "id"),
                where, err);
        return NULL;
    }
    return m;
}

/* The first deadline after now (the window of today's, else tomorrow's), with its window's start; -1 when the window
 * does not compute. */
static int kt_sch_onmiss_next(const json_t *m, int64_t now, int64_t *start, int64_t *deadline)
{
    char err[256];
    for (int day = 0; day < 3; day++) {
        if (kt_cond_window(m, now + day * US_PER_DAY, NULL, start, deadline, err, sizeof err) != KT_OK)
            return -1;
        if (*deadline > now)
            return 0;
    }
    return -1;
}

static json_t *kt_sch_onmiss_row(const kt_sch_flow *f, const char *cid, int64_t start, int64_t deadline,
                                 const char *state)
{
    char s[48], e[48], d[48];
    kt_time_format(start, s, sizeof s);
    kt_time_format(deadline + US_PER_DAY, e, sizeof e);
    kt_time_format(deadline, d, sizeof d);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{}, s:s, s:s}", "namespace", f->ns, "flowId", f->id, "conditionId",
                     cid, "start", s, "end", e, "results", "deadline", d, "state", state);
}

/* The FAILED execution of a missed deadline: the flow's and the trigger's labels, then onMiss.labels; the trigger's
 * variables say which window it stands for; its log line says why. */
static json_t *kt_sch_onmiss_failed(kt_scheduler *s, const kt_sch_flow *f, const json_t *trigger, const json_t *row,
                                    int64_t now, json_t *logs)
{
    char err[256] = "";
    json_t *extra = NULL;
    const json_t *raw = json_object_get(json_object_get(trigger, "onMiss"), "labels");
    if (raw && !json_is_null(raw) && !(extra = kt_labels_normalize(raw, err, sizeof err))) {
        KT_WARN("scheduler", "flow %s.%s trigger %s: onMiss labels left out: %s", f->ns, f->id, str(trigger, "id"),
                err);
    }
    json_t *ctx = json_pack("{s:{s:s, s:s, s:i}}", "flow", "id", f->id, "namespace", f->ns, "revision", f->revision);
    json_t *ex = kt_sch_execution_new(s, f, trigger, NULL, extra, ctx, now, err, sizeof err);
    json_decref(ctx);
    json_decref(extra);
    if (!ex) {
        KT_WARN("scheduler", "flow %s.%s trigger %s: the missed deadline's execution not made: %s", f->ns, f->id,
                str(trigger, "id"), err);
        return NULL;
    }
    kt_state_set(json_object_get(ex, "state"), KT_S(FAILED), now);
    const json_t *tw = json_object_get(trigger, "window");
    json_t *vars = json_pack("{s:O, s:O, s:O, s:s}", "windowStart", json_object_get(row, "start"), "deadline",
                             json_object_get(row, "deadline"), "window", tw, "behavior", "FAIL");
    json_object_set_new(ex, "trigger", json_pack("{s:O, s:O, s:o}", "id", json_object_get(trigger, "id"), "type",
                                                 json_object_get(trigger, "type"), "variables", vars));
    char why[512], ts[48];
    snprintf(why, sizeof why, "The deadline %s of trigger '%s' passed without its dependsOn satisfied (mode %s)",
             str(row, "deadline"), str(trigger, "id"), str(trigger, "mode") ? str(trigger, "mode") : "ALL");
    kt_time_format(now - now % 1000, ts, sizeof ts);
    json_array_append_new(logs, json_pack("{s:O, s:O, s:O, s:O, s:s, s:s, s:s, s:s, s:b}", "namespace",
                                          json_object_get(ex, "namespace"), "flowId", json_object_get(ex, "flowId"),
                                          "executionId", json_object_get(ex, "id"), "triggerId",
                                          json_object_get(trigger, "id"), "timestamp", ts, "level", "ERROR", "thread",
                                          "scheduler", "message", why, "deleted", 0));
    return ex;
}

kt_status kt_sch_onmiss_check(kt_scheduler *s, const kt_sch_flow *f, const json_t *trigger, int64_t now,
                              int64_t *next_us, json_t **failed)
{
    *next_us = 0;
    *failed = NULL;
    json_t *m = kt_sch_onmiss_multiple(f, trigger);
    if (!m)
        return KT_EINVAL;
    int64_t start, deadline;
    if (kt_sch_onmiss_next(m, now, &start, &deadline)) {
        json_decref(m);
        KT_WARN("scheduler", "flow %s.%s trigger %s: its deadline does not compute", f->ns, f->id, str(trigger, "id"));
        return KT_EINVAL;
    }
    json_decref(m);
    char cid[160];
    kt_sch_onmiss_cid(trigger, cid, sizeof cid);
    json_t *cur = NULL, *ex = NULL, *logs = json_array(), *watch = NULL;
    kt_status st = kt_store_begin(s->store);
    if (st != KT_OK)
        goto done;
    st = kt_store_window_claim(s->store, f->ns, f->id, cid, &cur);
    if (st == KT_ENOTFOUND) {
        st = KT_OK;
        cur = NULL;
    }
    int64_t watched = 0;
    if (st == KT_OK && cur && kt_time_parse(str(cur, "deadline"), &watched))
        watched = 0;
    /* a deadline watched and passed, still WATCHING: missed, once */
    if (st == KT_OK && watched && watched <= now && str(cur, "state") && !strcmp(str(cur, "state"), "WATCHING")) {
        ex = kt_sch_onmiss_failed(s, f, trigger, cur, now, logs);
        if (ex)
            st = kt_store_execution_put(s->store, ex, NULL, 0);
        if (st == KT_OK && json_array_size(logs))
            st = kt_store_logs_append(s->store, logs);
    }
    /* the next deadline watched (a row for it already, WATCHING or SATISFIED, stands) */
    if (st == KT_OK && watched != deadline) {
        watch = kt_sch_onmiss_row(f, cid, start, deadline, "WATCHING");
        st = cur ? kt_store_window_put(s->store, watch) : kt_store_window_insert(s->store, watch);
    }
    if (st == KT_OK)
        st = kt_store_commit(s->store);
    else
        kt_store_rollback(s->store);
done:
    if (st == KT_OK) {
        *next_us = deadline;
        *failed = ex;
        ex = NULL;
    }
    json_decref(ex);
    json_decref(cur);
    json_decref(logs);
    json_decref(watch);
    return st;
}

void kt_sch_onmiss_evaluate(kt_scheduler *s, const kt_sch_flow *f, const kt_sch_trigger *t, const char *key)
{
    if (f->disabled || json_is_true(json_object_get(t->def, "disabled")))
        return;
    int64_t next = 0;
    json_t *ex = NULL;
    kt_status st = kt_sch_onmiss_check(s, f, t->def, kt_now_us(), &next, &ex);
    if (st == KT_EINVAL)
        return; /* logged: idle until the flow changes */
    if (st != KT_OK) { /* the store failed, or another scheduler made the row meanwhile: again in a moment */
        KT_DEBUG("scheduler", "onMiss of %s.%s.%s not checked (%s): again", f->ns, f->id, t->id, kt_strerror(st));
        kt_sch_arm(s, key, kt_now_us() + KT_SCH_COMMIT_RETRY_MS * 1000);
        return;
    }
    if (ex) {
        KT_WARN("scheduler", "execution %s of %s.%s FAILED: the deadline of trigger '%s' passed without its dependsOn "
                             "satisfied", str(ex, "id"), f->ns, f->id, t->id);
        json_decref(ex);
    }
    kt_sch_arm(s, key, next);
}

void kt_sch_onmiss_satisfied(kt_scheduler *s, const kt_sch_flow *f, const json_t *trigger, const json_t *w,
                             json_t *plan)
{
    if (!kt_sch_onmiss_watches(trigger))
        return;
    int64_t start, end;
    if (kt_time_parse(str(w, "start"), &start) || kt_time_parse(str(w, "end"), &end))
        return;
    char cid[160];
    kt_sch_onmiss_cid(trigger, cid, sizeof cid);
    char *key = kt_sch_key(f->ns, f->id, cid);
    json_t *windows = json_object_get(plan, "windows"), *entry = json_object_get(windows, key);
    if (!entry) {
        json_t *stored = NULL;
        if (kt_store_window_get(s->store, f->ns, f->id, cid, &stored) != KT_OK)
            stored = NULL;
        entry = json_pack("{s:o, s:n, s:b}", "basis", stored ? stored : json_null(), "window", "delete", 0);
        json_object_set_new(windows, key, entry);
    }
    free(key);
    json_object_set_new(entry, "window", kt_sch_onmiss_row(f, cid, start, end, "SATISFIED"));
}
