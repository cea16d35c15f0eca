/* Schedule evaluation: what one look at a stored trigger at `now` decides (AbstractScheduler.handle,
 * Schedule.evaluate, ScheduleOnDates.evaluate) and the state saved after it (nextEvaluationDate, checkBackfill). */
#include "flow/trigger.h"
#include "flow/trigger_int.h"
#include "flow/condition.h"
#include "flow/model.h"
#include "expr/expr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void kt_sched_fire_clear(kt_sched_fire *f)
{
    if (!f)
        return;
    json_decref(f->vars);
    json_decref(f->labels);
    json_decref(f->inputs);
    memset(f, 0, sizeof *f);
}

/* LabelService.fromTrigger (minus the flow's labels, added by the caller) + Schedule's backfill labels. A trigger
 * label that does not render is omitted (Kestra warns); a backfill label that does not render fails the
 * evaluation (-1). */
static int render_labels(const kt_sched *s, const json_t *ctx, const kt_trig_backfill *bf, kt_env *e, json_t **out,
                         char *err, size_t errcap)
{
    json_t *all = json_array();
    *out = all;
    if (!all)
        return -1;
    const json_t *src[2] = {json_object_get(s->def, "labels"), bf ? bf->labels : NULL};
    for (int k = 0; k < 2; k++) {
        if (!src[k] || json_is_null(src[k]))
            continue;
        char why[160];
        json_t *l = kt_labels_normalize(src[k], why, sizeof why);
        if (!l) {
            kt_errf(err, errcap, "labels: %s", why);
            return -1;
        }
        size_t i;
        json_t *v;
        json_array_foreach(l, i, v) {
            const char *val = json_string_value(json_object_get(v, "value"));
            char *r = NULL;
            kt_expr_error xe = {0};
            if (kt_expr_render_string(val, ctx, e, &r, &xe)) {
                if (k == 0)
                    continue;
                kt_errf(err, errcap, "backfill label '%s': %s", json_string_value(json_object_get(v, "key")),
                        xe.message);
                json_decref(l);
                return -1;
            }
            json_array_append_new(all, json_pack("{s:O, s:s}", "key", json_object_get(v, "key"), "value", r));
            free(r);
        }
        json_decref(l);
    }
    return 0;
}

/* Schedule.generateInputs: the trigger's inputs rendered, then the backfill's over them. */
static int render_inputs(const kt_sched *s, const json_t *ctx, const kt_trig_backfill *bf, kt_env *e, json_t **out,
                         char *err, size_t errcap)
{
    *out = json_object();
    const json_t *src[2] = {json_object_get(s->def, "inputs"), bf ? bf->inputs : NULL};
    for (int k = 0; k < 2; k++) {
        if (!json_is_object(src[k]))
            continue;
        json_t *r = NULL;
        kt_expr_error xe = {0};
        if (kt_expr_render_json(src[k], ctx, e, &r, &xe)) {
            kt_errf(err, errcap, "%sinputs: %s", k ? "backfill " : "", xe.message);
            return -1;
        }
        json_object_update(*out, r);
        json_decref(r);
    }
    return 0;
}

/* The trigger's `conditions` as AbstractScheduler.handle checks them first, with trigger = {date: next}. */
static kt_cond_result precheck(const kt_sched *s, const json_t *flow, const kt_trig_state *t, const kt_env *env,
                               char *err, size_t errcap)
{
    if (!s->conditions)
        return KT_COND_TRUE;
    json_t *v = json_pack("{s:o}", "date", kt_sched__date_str(t->next_us, &s->czone));
    kt_cond_ctx c = {.flow = flow, .execution = NULL, .trigger = v, .zone = s->czone.id, .env = env};
    kt_cond_result r = kt_cond_all(s->conditions, &c, err, errcap);
    json_decref(v);
    return r;
}

/* Schedule.evaluate from the occurrence on (conditions true so far). */
static kt_sched_verdict eval_schedule(const kt_sched *s, const json_t *flow, const kt_trig_state *t, int64_t now,
                                      const kt_env *env, kt_sched_fire *fire, int64_t *due)
{
    const kt_trig_backfill *bf = t->backfill;
    int64_t d = bf ? bf->current_us : t->next_us;
    sdates sd;
    if (!kt_sched__sched_dates(s, d, &sd))
        return KT_SCHED_SKIP;
    fire->date_us = sd.date;
    if (bf && d < sd.date) /* a backfill's current date not yet at the occurrence */
        return KT_SCHED_SKIP;
    if (sd.date > now + S_US) { /* never fire ahead of time */
        *due = sd.date;
        return KT_SCHED_WAIT;
    }
    /* KESTRA-execution.md §5.4: occurrences older than now - lateMaximumDelay are skipped (Kestra applies it
     * only when computing the next date, so a stored stale date would still fire once) */
    if (!bf && s->has_late && sd.date + s->late_us < now)
        return KT_SCHED_SKIP;
    kt_env e;
    if (env)
        e = *env;
    json_t *ctx = kt_sched__render_ctx(s, flow);
    kt_sched_verdict v = KT_SCHED_SKIP;
    if (s->conditions) {
        kt_cond_result r = kt_sched__cond_check(s, flow, &sd, env, fire->error, sizeof fire->error);
        if (r == KT_COND_FALSE)
            goto done;
        if (r == KT_COND_ERROR) {
            char why[sizeof fire->error];
            memcpy(why, fire->error, sizeof why);
            snprintf(fire->error, sizeof fire->error, "Unable to evaluate the Schedule trigger '%s': %.160s", s->id,
                     why);
            char ignored[8];
            render_labels(s, ctx, bf, env ? &e : NULL, &fire->labels, ignored, sizeof ignored);
            v = KT_SCHED_FAIL;
            goto done;
        }
        int64_t n = 0, p = 0;
        int rn = kt_sched__true_near(s, flow, sd.date, 1, now, env, &n, fire->error, sizeof fire->error);
        int rp = rn < 0 ? -1 : kt_sched__true_near(s, flow, sd.date, 0, now, env, &p, fire->error, sizeof fire->error);
        if (rn < 0 || rp < 0)
            goto done;
        sd.next = rn == 1 ? n : 0;
        sd.prev = rp == 1 ? p : 0;
    }
    if (render_labels(s, ctx, bf, env ? &e : NULL, &fire->labels, fire->error, sizeof fire->error) ||
        render_inputs(s, ctx, bf, env ? &e : NULL, &fire->inputs, fire->error, sizeof fire->error))
        goto done;
    fire->vars = kt_sched__vars_json(&sd, &s->zone);
    fire->backfill = bf != NULL;
    v = KT_SCHED_FIRE;
done:
    json_decref(ctx);
    return v;
}

/* ScheduleOnDates.evaluate: the first date >= the evaluated one, planned through the execution's scheduleDate. */
static kt_sched_verdict eval_on_dates(const kt_sched *s, const json_t *flow, const kt_trig_state *t,
                                      const kt_env *env, kt_sched_fire *fire)
{
    int64_t d = kt_sched__date_after(s, t->next_us, 1);
    if (!d)
        return KT_SCHED_SKIP;
    fire->date_us = fire->schedule_date_us = d;
    kt_env e;
    if (env)
        e = *env;
    json_t *ctx = kt_sched__render_ctx(s, flow);
    kt_sched_verdict v = KT_SCHED_SKIP;
    if (!render_labels(s, ctx, NULL, env ? &e : NULL, &fire->labels, fire->error, sizeof fire->error) &&
        !render_inputs(s, ctx, NULL, env ? &e : NULL, &fire->inputs, fire->error, sizeof fire->error)) {
        fire->vars = json_object();
        v = KT_SCHED_FIRE;
    }
    json_decref(ctx);
    return v;
}

kt_sched_verdict kt_sched_evaluate(const kt_sched *s, const json_t *flow, const kt_trig_state *t, int64_t now_us,
                                   const kt_env *env, kt_sched_fire *fire, int64_t *due_us)
{
    memset(fire, 0, sizeof *fire);
    *due_us = 0;
    if (!t->next_us)
        return KT_SCHED_WAIT;
    if (t->next_us > now_us) {
        *due_us = t->next_us;
        return KT_SCHED_WAIT;
    }
    if (s->kind == KT_TRIG_SCHEDULE && t->backfill && t->backfill->paused)
        return KT_SCHED_WAIT; /* Kestra re-evaluates it every second for nothing; Kite waits for the unpause */
    char err[200] = "";
    kt_cond_result r = precheck(s, flow, t, env, err, sizeof err);
    if (r == KT_COND_FALSE)
        return KT_SCHED_SKIP;
    if (r == KT_COND_ERROR) {
        snprintf(fire->error, sizeof fire->error, "Unable to evaluate the trigger '%s': %s", s->id, err);
        fire->precheck = 1;
        fire->labels = json_array();
        return KT_SCHED_FAIL;
    }
    if (s->kind == KT_TRIG_SCHEDULE_ON_DATES)
        return eval_on_dates(s, flow, t, env, fire);
    return eval_schedule(s, flow, t, now_us, env, fire, due_us);
}

kt_status kt_sched_advance(const kt_sched *s, const json_t *flow, kt_trig_state *t, kt_sched_verdict verdict,
                           const kt_sched_fire *fire, int64_t now_us, const kt_env *env)
{
    if (verdict == KT_SCHED_WAIT)
        return KT_OK;
    /* the state saved after an evaluation is rebuilt from the context (FlowWithWorkerTriggerNextDate.of): no
     * locks, stopAfter from the definition */
    free(t->execution_id);
    free(t->worker_id);
    t->execution_id = t->worker_id = NULL;
    t->evaluate_running_us = 0;
    t->updated_us = now_us;
    json_decref(t->stop_after);
    const json_t *sa = json_object_get(s->def, "stopAfter");
    t->stop_after = json_is_array(sa) ? json_deep_copy(sa) : NULL;
    if (json_is_array(sa) && !t->stop_after)
        return KT_ENOMEM;

    if (verdict == KT_SCHED_FAIL && fire && fire->precheck) {
        /* Trigger.resetExecution(FAILED, nextEvaluationDate()): from now, the backfill left as it is */
        t->date_us = t->next_us;
        int64_t n;
        if (s->kind == KT_TRIG_SCHEDULE_ON_DATES)
            n = kt_sched__date_after(s, now_us, 0), n = n ? n : kt_sched__plus_year(now_us);
        else if (!kt_sched__occ_next(s, now_us, &n))
            n = 0;
        t->next_us = n;
        kt_trig_reset_execution(t, "FAILED");
        return KT_OK;
    }
    const kt_trig_backfill *bf = s->kind == KT_TRIG_SCHEDULE ? t->backfill : NULL;
    /* Kestra's date is the evaluated nextExecutionDate; Kite takes the occurrence actually evaluated when there
     * is one (the same date, unless the stored date was not an occurrence: then the next one cannot repeat it) */
    t->date_us = !bf && fire && fire->date_us ? fire->date_us : t->next_us;
    t->next_us = kt_sched__next_eval(s, flow, t->date_us, bf, now_us, env);
    if (t->backfill && !t->backfill->paused) { /* Trigger.checkBackfill */
        int64_t end = t->backfill->end_us ? t->backfill->end_us : now_us;
        if (!t->next_us || t->next_us > end)
            kt_trig_backfill_delete(t);
        else
            t->backfill->current_us = t->next_us;
    }
    if (verdict == KT_SCHED_FAIL)
        kt_trig_reset_execution(t, "FAILED");
    return KT_OK;
}
