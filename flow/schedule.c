/* The Schedule and ScheduleOnDates rules (KESTRA-execution.md §5.3-5.5), after Schedule.java, ScheduleOnDates.java,
 * AbstractScheduler and TriggerController: a compiled definition, its occurrences, the next evaluation date, and
 * the state's life outside an evaluation (creation, recovery at start, PUT /api/v1/triggers); the evaluation itself
 * is flow/schedule_eval.c. Pure: the clock is the `now` argument, renders draw from a copy of the caller's kt_env. */
#include "flow/trigger.h"
#include "flow/trigger_int.h"
#include "flow/trigger_when.h"
#include "flow/condition.h"
#include "flow/model.h"
#include "expr/expr.h"
#include "time/cron.h"
#include "time/duration.h"
#include "time/isodate.h"
#include "time/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Occurrences tried when searching the nearest one satisfying the schedule conditions. Kestra bounds the search
 * by ±10 years only, which for a per-second cron is hundreds of millions of renders; the actor runs on the loop. */
#define SEARCH_MAX 10000

int64_t kt_sched__trunc_s(int64_t us) { return us - (((us % S_US) + S_US) % S_US); }

int kt_sched__occ_next(const kt_sched *s, int64_t after, int64_t *out)
{
    return s->cron && kt_cron_next(s->cron, after, s->zone.id, out) == KT_OK;
}

int kt_sched__occ_prev(const kt_sched *s, int64_t before, int64_t *out)
{
    return s->cron && kt_cron_prev(s->cron, before, s->zone.id, out) == KT_OK;
}

/* Schedule.scheduleDates(d): date = first occurrence >= d - 1 s, next = the one after it, previous = the last one
 * strictly before d. 0 when there is no date. */
int kt_sched__sched_dates(const kt_sched *s, int64_t d, sdates *sd)
{
    memset(sd, 0, sizeof *sd);
    if (!kt_sched__occ_next(s, d - S_US, &sd->date))
        return 0;
    if (!kt_sched__occ_next(s, sd->date, &sd->next))
        sd->next = 0;
    if (!kt_sched__occ_prev(s, d, &sd->prev))
        sd->prev = 0;
    return 1;
}

json_t *kt_sched__date_str(int64_t us, const kt_tz_zone *z)
{
    char buf[64];
    kt_trig__format_zoned(us, z, buf, sizeof buf);
    return json_string(buf);
}

/* Output{date, next, previous} as Jackson maps it with the given zone: absent members for none. */
json_t *kt_sched__vars_json(const sdates *sd, const kt_tz_zone *z)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (sd->date)
        json_object_set_new(o, "date", kt_sched__date_str(sd->date, z));
    if (sd->next)
        json_object_set_new(o, "next", kt_sched__date_str(sd->next, z));
    if (sd->prev)
        json_object_set_new(o, "previous", kt_sched__date_str(sd->prev, z));
    return o;
}

/* The ScheduleCondition entries checked for one occurrence, with trigger = schedule = its dates. */
kt_cond_result kt_sched__cond_check(const kt_sched *s, const json_t *flow, const sdates *sd, const kt_env *env,
                                 char *err, size_t errcap)
{
    json_t *v = kt_sched__vars_json(sd, &s->czone);
    if (!v) {
        kt_errf(err, errcap, "out of memory");
        return KT_COND_ERROR;
    }
    kt_cond_ctx c = {.flow = flow, .execution = NULL, .trigger = v, .zone = s->czone.id, .env = env};
    kt_cond_result r = kt_cond_all_schedule(s->conditions, &c, err, errcap);
    json_decref(v);
    return r;
}

static int64_t year_of(int64_t us)
{
    kt_isodate_local l;
    kt_isodate_local_from_seconds(us / S_US, &l);
    return l.year;
}

/* truePreviousNextDateWithCondition: the nearest occurrence after (next) or before (!next) `from` whose dates
 * satisfy the schedule conditions. 1 found, 0 none within the bounds, -1 a condition failed to evaluate. */
int kt_sched__true_near(const kt_sched *s, const json_t *flow, int64_t from, int next, int64_t now, const kt_env *env,
                     int64_t *out, char *err, size_t errcap)
{
    int64_t y_now = year_of(now), cur = from;
    for (int i = 0; i < SEARCH_MAX; i++) {
        int64_t y = year_of(cur);
        if (next ? y >= y_now + 10 : y <= y_now - 10)
            return 0;
        int64_t c;
        if (!(next ? kt_sched__occ_next(s, cur, &c) : kt_sched__occ_prev(s, cur, &c)))
            return 0;
        sdates sd;
        if (!kt_sched__sched_dates(s, c, &sd))
            return 0;
        kt_cond_result r = kt_sched__cond_check(s, flow, &sd, env, err, errcap);
        if (r == KT_COND_ERROR)
            return -1;
        if (r == KT_COND_TRUE) {
            *out = c;
            return 1;
        }
        cur = c;
    }
    return 0;
}

/* now + 1 year on the UTC calendar (ZonedDateTime.plusYears: Feb 29 becomes Feb 28), whole seconds. */
int64_t kt_sched__plus_year(int64_t now)
{
    kt_isodate_local l;
    kt_isodate_local_from_seconds(kt_sched__trunc_s(now) / S_US, &l);
    l.year++;
    int md = kt_isodate_month_days(l.year, l.month);
    if (l.day > md)
        l.day = md;
    return kt_isodate_seconds_from_local(&l) * S_US;
}

/* ScheduleOnDates: the first date strictly after `after` (or >= when `incl`), 0 when none. */
int64_t kt_sched__date_after(const kt_sched *s, int64_t after, int incl)
{
    for (size_t i = 0; i < s->ndates; i++)
        if (s->dates[i] > after || (incl && s->dates[i] == after))
            return s->dates[i];
    return 0;
}

/* lateMaximumDelay (handleMaxDelay): the first occurrence from d on that is not older than now - delay. Jumps
 * straight to it instead of stepping through every missed one. */
static int64_t late_adjust(const kt_sched *s, int64_t d, int64_t now)
{
    if (d + s->late_us >= now)
        return d;
    int64_t n;
    return kt_sched__occ_next(s, now - s->late_us - 1, &n) ? n : 0;
}

/* nextEvaluationDate(last): from the backfill's current date or the last date; 0 when none. */
int64_t kt_sched__next_eval(const kt_sched *s, const json_t *flow, int64_t last_date, const kt_trig_backfill *bf,
                         int64_t now, const kt_env *env)
{
    if (s->kind == KT_TRIG_SCHEDULE_ON_DATES) {
        int64_t d = kt_sched__date_after(s, last_date, 0);
        return d ? d : kt_sched__plus_year(now);
    }
    int64_t nd = 0;
    if (bf || last_date) {
        int64_t base = bf ? bf->current_us : last_date;
        if (s->conditions) {
            char err[256];
            int64_t r;
            /* a condition error: Kestra warns and falls back to the plain next occurrence */
            if (kt_sched__true_near(s, flow, base, 1, now, env, &r, err, sizeof err) == 1)
                return kt_sched__trunc_s(r);
        }
        if (!kt_sched__occ_next(s, base, &nd))
            nd = 0;
        int64_t end = bf ? (bf->end_us ? bf->end_us : now) : 0;
        if (bf && nd && nd > end && !kt_sched__occ_next(s, now, &nd))
            nd = 0;
    } else if (!kt_sched__occ_next(s, now, &nd)) {
        nd = 0;
    }
    if (s->has_late && nd && !bf)
        nd = late_adjust(s, nd, now);
    return nd;
}

/* previousEvaluationDate: the latest occurrence before now (satisfying the conditions when there are some). */
static int64_t previous_eval(const kt_sched *s, const json_t *flow, int64_t now, const kt_env *env)
{
    if (s->kind == KT_TRIG_SCHEDULE_ON_DATES) {
        int64_t p = 0;
        for (size_t i = 0; i < s->ndates && s->dates[i] < now; i++)
            p = s->dates[i];
        return p ? p : kt_sched__trunc_s(now);
    }
    int64_t p;
    if (s->conditions) {
        char err[256];
        if (kt_sched__true_near(s, flow, now, 0, now, env, &p, err, sizeof err) == 1)
            return kt_sched__trunc_s(p);
    }
    return kt_sched__occ_prev(s, now, &p) ? p : kt_sched__trunc_s(now);
}

/* ---- compile ---- */

/* The render context of a trigger's own properties: RunContext of(flow, trigger). */
json_t *kt_sched__render_ctx(const kt_sched *s, const json_t *flow)
{
    json_t *f = json_object();
    static const char *const keys[] = {"id", "namespace", "revision", "tenantId"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        json_t *v = json_object_get(flow, keys[i]);
        if (v)
            json_object_set(f, keys[i], v);
    }
    return json_pack("{s:o, s:{s:s, s:O}}", "flow", f, "trigger", "id", s->id, "type",
                     json_object_get(s->def, "type"));
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* ScheduleOnDates' `dates`: a list of date-times (each may be an expression) or one expression giving a list. */
static kt_status compile_dates(kt_sched *s, const json_t *flow, const kt_env *env, char *err, size_t errcap)
{
    const json_t *d = json_object_get(s->def, "dates");
    json_t *ctx = kt_sched__render_ctx(s, flow), *list = NULL;
    kt_env e;
    if (env)
        e = *env;
    kt_expr_error xe = {0};
    kt_status st = KT_EINVAL;
    if (json_is_string(d)) {
        kt_tmpl *t = NULL;
        const char *src = json_string_value(d);
        if (kt_tmpl_compile(src, strlen(src), &t, &xe) || kt_tmpl_render_typed(t, ctx, env ? &e : NULL, &list, &xe)) {
            kt_tmpl_free(t);
            kt_errf(err, errcap, "dates: %s", xe.message);
            goto done;
        }
        kt_tmpl_free(t);
        if (json_is_string(list)) { /* an expression printing a JSON list */
            json_t *p = json_loads(json_string_value(list), JSON_DECODE_ANY, NULL);
            json_decref(list);
            list = p;
        }
    } else if (json_is_array(d)) {
        if (kt_expr_render_json(d, ctx, env ? &e : NULL, &list, &xe)) {
            kt_errf(err, errcap, "dates: %s", xe.message);
            goto done;
        }
    }
    if (!json_is_array(list)) {
        kt_errf(err, errcap, "dates: must be a list of date-times");
        goto done;
    }
    s->ndates = json_array_size(list);
    s->dates = calloc(s->ndates ? s->ndates : 1, sizeof *s->dates);
    if (!s->dates) {
        st = KT_ENOMEM;
        goto done;
    }
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (kt_trig__date_from_json(v, &s->dates[i])) {
            kt_errf(err, errcap, "dates[%zu]: not a date-time with an offset (2025-01-01T10:00:00+01:00)", i);
            goto done;
        }
        s->dates[i] = kt_sched__trunc_s(s->dates[i]);
    }
    if (s->ndates) /* qsort may not be given NULL */
        qsort(s->dates, s->ndates, sizeof *s->dates, cmp_i64);
    st = KT_OK;
done:
    json_decref(list);
    json_decref(ctx);
    return st;
}

static kt_status compile_conditions(kt_sched *s, char *err, size_t errcap)
{
    static const char *const keys[] = {"conditions", "scheduleConditions"};
    for (int k = 0; k < 2; k++) {
        const json_t *c = json_object_get(s->def, keys[k]);
        if (!c || json_is_null(c))
            continue;
        if (!json_is_array(c)) {
            kt_errf(err, errcap, "%s: must be a list of conditions", keys[k]);
            return KT_EINVAL;
        }
        if (!json_array_size(c))
            continue;
        if (!s->conditions && !(s->conditions = json_array()))
            return KT_ENOMEM;
        json_array_extend(s->conditions, (json_t *)c);
    }
    /* 2.0's `when` is one more schedule condition: checked per candidate date like them, a false date skipped */
    json_t *when = kt_trigger_when_condition(s->def);
    if (when) {
        if (!s->conditions && !(s->conditions = json_array())) {
            json_decref(when);
            return KT_ENOMEM;
        }
        json_array_append_new(s->conditions, when);
    }
    return KT_OK;
}

int kt_sched_recover_of(const char *name, kt_sched_recover *out)
{
    static const char *const names[] = {"ALL", "LAST", "NONE"};
    for (int i = 0; i < 3; i++) {
        if (name && !strcmp(name, names[i])) {
            *out = (kt_sched_recover)i;
            return 0;
        }
    }
    return -1;
}

static kt_status compile_schedule(kt_sched *s, char *err, size_t errcap)
{
    const json_t *cron = json_object_get(s->def, "cron"), *ws = json_object_get(s->def, "withSeconds");
    if (!json_is_string(cron)) {
        kt_errf(err, errcap, "cron: required");
        return KT_EINVAL;
    }
    char why[200] = "";
    kt_status st = kt_cron_parse(json_string_value(cron), json_is_true(ws), &s->cron, why, sizeof why);
    if (st) {
        kt_errf(err, errcap, "cron: %s", why);
        return st;
    }
    const json_t *late = json_object_get(s->def, "lateMaximumDelay");
    if (late && !json_is_null(late)) {
        if (kt_duration_from_json(late, &s->late_us)) {
            kt_errf(err, errcap, "lateMaximumDelay: not a duration");
            return KT_EINVAL;
        }
        s->has_late = 1;
    }
    return KT_OK;
}

kt_status kt_sched_compile(const json_t *trigger, const json_t *flow, const char *default_zone,
                           kt_sched_recover default_recover, const kt_env *env, kt_sched **out, char *err,
                           size_t errcap)
{
    *out = NULL;
    const char *type = json_string_value(json_object_get(trigger, "type"));
    kt_trig_kind kind = kt_trig_kind_of(type);
    if (kind != KT_TRIG_SCHEDULE && kind != KT_TRIG_SCHEDULE_ON_DATES) {
        kt_errf(err, errcap, "type: '%s' is not a Schedule or ScheduleOnDates trigger", type ? type : "");
        return KT_EINVAL;
    }
    if (!json_is_string(json_object_get(trigger, "id"))) {
        kt_errf(err, errcap, "id: required");
        return KT_EINVAL;
    }
    kt_sched *s = calloc(1, sizeof *s);
    if (!s || !(s->def = json_deep_copy(trigger))) {
        free(s);
        return KT_ENOMEM;
    }
    kt_status st = KT_EINVAL;
    s->kind = kind;
    s->id = json_string_value(json_object_get(s->def, "id"));
    s->recover = default_recover;
    if (default_zone) {
        if (kt_tz_zone_of(default_zone, &s->czone)) {
            kt_errf(err, errcap, "unknown default time zone '%s'", default_zone);
            goto fail;
        }
    } else {
        kt_tz_zone_default(&s->czone);
    }
    s->zone = s->czone;
    const json_t *tz = json_object_get(s->def, "timezone");
    if (tz && !json_is_null(tz)) {
        const char *id = json_string_value(tz);
        char *rendered = NULL;
        kt_env e;
        if (env)
            e = *env;
        if (id && kind == KT_TRIG_SCHEDULE_ON_DATES && kt_expr_is_template(id)) { /* dynamic there only */
            json_t *ctx = kt_sched__render_ctx(s, flow);
            kt_expr_error xe = {0};
            st = kt_expr_render_string(id, ctx, env ? &e : NULL, &rendered, &xe);
            json_decref(ctx);
            if (st) {
                kt_errf(err, errcap, "timezone: %s", xe.message);
                goto fail;
            }
            id = rendered;
        }
        int bad = !id || kt_tz_zone_of(id, &s->zone);
        if (bad)
            kt_errf(err, errcap, "timezone: unknown time zone '%s'", id ? id : "");
        free(rendered);
        st = KT_EINVAL;
        if (bad)
            goto fail;
    }
    const json_t *rec = json_object_get(s->def, "recoverMissedSchedules");
    if (rec && !json_is_null(rec) && kt_sched_recover_of(json_string_value(rec), &s->recover)) {
        kt_errf(err, errcap, "recoverMissedSchedules: must be one of ALL, LAST, NONE");
        goto fail;
    }
    if ((st = compile_conditions(s, err, errcap)))
        goto fail;
    st = kind == KT_TRIG_SCHEDULE ? compile_schedule(s, err, errcap) : compile_dates(s, flow, env, err, errcap);
    if (st)
        goto fail;
    *out = s;
    return KT_OK;
fail:
    kt_sched_free(s);
    return st ? st : KT_EINVAL;
}

void kt_sched_free(kt_sched *s)
{
    if (!s)
        return;
    kt_cron_free(s->cron);
    json_decref(s->conditions);
    json_decref(s->def);
    free(s->dates);
    free(s);
}

kt_trig_kind kt_sched_kind(const kt_sched *s) { return s->kind; }
kt_sched_recover kt_sched_recover_mode(const kt_sched *s) { return s->recover; }
const char *kt_sched_zone(const kt_sched *s) { return s->zone.id; }
const char *kt_sched_id(const kt_sched *s) { return s->id; }
const json_t *kt_sched_definition(const kt_sched *s) { return s->def; }

int kt_sched_same_definition(const json_t *a, const json_t *b)
{
    return a && b && json_equal((json_t *)a, (json_t *)b);
}

/* ---- the state's life ---- */

kt_status kt_sched_first(const kt_sched *s, int64_t now_us, int64_t *next_us)
{
    if (s->kind == KT_TRIG_SCHEDULE_ON_DATES) {
        *next_us = s->ndates ? s->dates[0] : kt_sched__trunc_s(now_us);
        return KT_OK;
    }
    if (!kt_sched__occ_next(s, now_us, next_us))
        *next_us = 0;
    return KT_OK;
}

kt_status kt_sched_init_state(const kt_sched *s, const char *ns, const char *flow_id, int64_t now_us,
                              const kt_trig_state *previous, kt_trig_state *out)
{
    memset(out, 0, sizeof *out);
    out->namespace_ = strdup(ns ? ns : "");
    out->flow_id = strdup(flow_id ? flow_id : "");
    out->trigger_id = strdup(s->id);
    if (!out->namespace_ || !out->flow_id || !out->trigger_id)
        goto oom;
    const json_t *sa = json_object_get(s->def, "stopAfter");
    if (json_is_array(sa) && !(out->stop_after = json_deep_copy(sa)))
        goto oom;
    if (previous) {
        out->disabled = previous->disabled;
        if (previous->execution_id && !(out->execution_id = strdup(previous->execution_id)))
            goto oom;
        out->updated_us = previous->execution_id ? previous->updated_us : 0;
    }
    out->date_us = kt_sched__trunc_s(now_us);
    kt_sched_first(s, now_us, &out->next_us);
    return KT_OK;
oom:
    kt_trig_state_clear(out);
    return KT_ENOMEM;
}

int kt_sched_recover_missed(const kt_sched *s, const json_t *flow, kt_trig_state *t, int64_t now_us, const kt_env *env)
{
    int64_t before = t->next_us;
    const kt_trig_backfill *bf = s->kind == KT_TRIG_SCHEDULE ? t->backfill : NULL;
    if (!t->next_us) /* computeSchedulable's backward compatibility: a row without a next date gets one */
        t->next_us = kt_sched__next_eval(s, flow, t->date_us, bf, now_us, env);
    if (s->recover == KT_SCHED_RECOVER_LAST) {
        int64_t p = previous_eval(s, flow, now_us, env);
        if (p > t->date_us)
            t->next_us = p;
    } else if (s->recover == KT_SCHED_RECOVER_NONE) {
        /* Schedule.nextEvaluationDate(): the next occurrence from now, conditions not considered. Kite gives a
         * ScheduleOnDates its first date from now (Kestra's answer, now, would fire the next date twice). */
        int64_t n = 0;
        if (s->kind == KT_TRIG_SCHEDULE_ON_DATES)
            n = kt_sched__date_after(s, now_us, 1), n = n ? n : kt_sched__plus_year(now_us);
        else if (!kt_sched__occ_next(s, now_us, &n))
            n = kt_sched__trunc_s(now_us);
        t->next_us = n;
    }
    return t->next_us != before;
}

void kt_sched_backfill_start(kt_trig_state *t, kt_trig_backfill *bf, int64_t now_us)
{
    kt_trig_backfill_free(t->backfill);
    bf->current_us = bf->start_us;
    if (!bf->end_us)
        bf->end_us = kt_sched__trunc_s(now_us);
    bf->prev_next_us = t->next_us;
    t->backfill = bf;
}

kt_status kt_sched_update(const kt_sched *s, const json_t *flow, kt_trig_state *t, int disabled,
                          kt_trig_backfill *bf, int64_t now_us, const kt_env *env)
{
    int reenable = t->disabled && !disabled && s->kind == KT_TRIG_SCHEDULE;
    if (bf)
        kt_sched_backfill_start(t, bf, now_us);
    const kt_trig_backfill *b = s->kind == KT_TRIG_SCHEDULE ? t->backfill : NULL;
    int64_t next;
    if (reenable && s->recover == KT_SCHED_RECOVER_LAST)
        next = previous_eval(s, flow, now_us, env);
    else if (reenable && s->recover == KT_SCHED_RECOVER_NONE)
        next = kt_sched__occ_next(s, now_us, &next) ? next : kt_sched__trunc_s(now_us);
    else
        next = kt_sched__next_eval(s, flow, t->date_us, b, now_us, env);
    t->next_us = disabled ? 0 : next;
    t->disabled = disabled;
    return KT_OK;
}

