/* TEMPORARY stand-in for flow/trigger.c (helper "sched" writes the real one; flow/trigger.h is copied from its
 * branch): just enough for the triggers API and its tests to link and run before it lands. Cron Schedules only; no
 * conditions, no evaluation. This file goes away with the commit that added it. */
#include "flow/trigger.h"
#include "base/clock.h"
#include "flow/tasks.h"
#include "time/cron.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kt_trig_state_clear(kt_trig_state *t)
{
    free(t->namespace_);
    free(t->flow_id);
    free(t->trigger_id);
    free(t->execution_id);
    free(t->worker_id);
    json_decref(t->stop_after);
    kt_trig_backfill_free(t->backfill);
    memset(t, 0, sizeof *t);
}

void kt_trig_backfill_free(kt_trig_backfill *bf)
{
    if (!bf)
        return;
    json_decref(bf->inputs);
    json_decref(bf->labels);
    free(bf);
}

int kt_trig_unlock(kt_trig_state *t)
{
    int locked = t->execution_id || t->evaluate_running_us;
    free(t->execution_id);
    free(t->worker_id);
    t->execution_id = t->worker_id = NULL;
    t->updated_us = t->evaluate_running_us = 0;
    return locked;
}

int kt_trig_backfill_delete(kt_trig_state *t)
{
    if (!t->backfill)
        return -1;
    t->next_us = t->backfill->prev_next_us;
    kt_trig_backfill_free(t->backfill);
    t->backfill = NULL;
    return 0;
}

static void kt_set_date(json_t *j, const char *name, int64_t us)
{
    if (!us)
        return;
    char buf[48];
    kt_time_format(us, buf, sizeof buf);
    json_object_set_new(j, name, json_string(buf));
}

json_t *kt_trig_state_json(const kt_trig_state *t)
{
    json_t *j = json_pack("{s:s, s:s, s:s}", "namespace", t->namespace_, "flowId", t->flow_id, "triggerId",
                          t->trigger_id);
    kt_set_date(j, "date", t->date_us);
    kt_set_date(j, "nextExecutionDate", t->next_us);
    if (t->backfill) {
        json_t *b = json_object();
        kt_set_date(b, "start", t->backfill->start_us);
        kt_set_date(b, "end", t->backfill->end_us);
        kt_set_date(b, "currentDate", t->backfill->current_us);
        json_object_set_new(b, "paused", json_boolean(t->backfill->paused));
        if (t->backfill->inputs)
            json_object_set(b, "inputs", t->backfill->inputs);
        if (json_is_array(t->backfill->labels))
            json_object_set(b, "labels", t->backfill->labels);
        else if (json_is_object(t->backfill->labels)) {
            json_t *list = json_array(), *v;
            const char *k;
            json_object_foreach(t->backfill->labels, k, v)
                json_array_append_new(list, json_pack("{s:s, s:O}", "key", k, "value", v));
            json_object_set_new(b, "labels", list);
        }
        kt_set_date(b, "previousNextExecutionDate", t->backfill->prev_next_us);
        json_object_set_new(j, "backfill", b);
    }
    if (t->stop_after)
        json_object_set(j, "stopAfter", t->stop_after);
    json_object_set_new(j, "disabled", json_boolean(t->disabled));
    if (t->execution_id)
        json_object_set_new(j, "executionId", json_string(t->execution_id));
    kt_set_date(j, "updatedDate", t->updated_us);
    kt_set_date(j, "evaluateRunningDate", t->evaluate_running_us);
    if (t->worker_id)
        json_object_set_new(j, "workerId", json_string(t->worker_id));
    return j;
}

static int kt_get_date(const json_t *j, const char *name, int64_t *us, char *err, size_t errcap)
{
    *us = 0;
    json_t *v = json_object_get(j, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || kt_time_parse(json_string_value(v), us)) {
        snprintf(err, errcap, "%s: not a date", name);
        return -1;
    }
    return 0;
}

static char *kt_dup(const json_t *j, const char *name)
{
    const char *v = json_string_value(json_object_get(j, name));
    return v ? strdup(v) : NULL;
}

kt_status kt_trig_state_from_json(const json_t *j, kt_trig_state *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    out->namespace_ = kt_dup(j, "namespace");
    out->flow_id = kt_dup(j, "flowId");
    out->trigger_id = kt_dup(j, "triggerId");
    out->execution_id = kt_dup(j, "executionId");
    out->worker_id = kt_dup(j, "workerId");
    out->disabled = json_is_true(json_object_get(j, "disabled"));
    json_t *sa = json_object_get(j, "stopAfter");
    out->stop_after = json_is_array(sa) ? json_incref(sa) : NULL;
    if (!out->namespace_ || !out->flow_id || !out->trigger_id) {
        snprintf(err, errcap, "%s: must not be null", !out->namespace_ ? "namespace" : !out->flow_id ? "flowId" : "triggerId");
        goto fail;
    }
    if (kt_get_date(j, "date", &out->date_us, err, errcap) ||
        kt_get_date(j, "nextExecutionDate", &out->next_us, err, errcap) ||
        kt_get_date(j, "updatedDate", &out->updated_us, err, errcap) ||
        kt_get_date(j, "evaluateRunningDate", &out->evaluate_running_us, err, errcap))
        goto fail;
    json_t *b = json_object_get(j, "backfill");
    if (json_is_object(b)) {
        out->backfill = calloc(1, sizeof *out->backfill);
        if (kt_get_date(b, "start", &out->backfill->start_us, err, errcap) ||
            kt_get_date(b, "end", &out->backfill->end_us, err, errcap) ||
            kt_get_date(b, "currentDate", &out->backfill->current_us, err, errcap) ||
            kt_get_date(b, "previousNextExecutionDate", &out->backfill->prev_next_us, err, errcap))
            goto fail;
        out->backfill->paused = json_is_true(json_object_get(b, "paused"));
        json_t *in = json_object_get(b, "inputs"), *lb = json_object_get(b, "labels");
        out->backfill->inputs = in && !json_is_null(in) ? json_incref(in) : NULL;
        out->backfill->labels = lb && !json_is_null(lb) ? json_incref(lb) : NULL;
    }
    return KT_OK;
fail:
    kt_trig_state_clear(out);
    return KT_EINVAL;
}

char *kt_trig_uid(const char *ns, const char *flow_id, const char *trigger_id)
{
    size_t n = strlen(ns) + strlen(flow_id) + strlen(trigger_id) + 3;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s_%s_%s", ns, flow_id, trigger_id);
    return s;
}

kt_trig_kind kt_trig_kind_of(const char *type)
{
    const char *c = type ? kt_task_canonical_type(type) : "";
    if (!strcmp(c, "io.kestra.plugin.core.trigger.Schedule"))
        return KT_TRIG_SCHEDULE;
    if (!strcmp(c, "io.kestra.plugin.core.trigger.ScheduleOnDates"))
        return KT_TRIG_SCHEDULE_ON_DATES;
    return KT_TRIG_OTHER;
}

struct kt_sched {
    kt_cron *cron;
    char zone[64];
    kt_sched_recover recover;
};

kt_status kt_sched_compile(const json_t *trigger, const json_t *flow, const char *default_zone,
                           kt_sched_recover default_recover, const kt_env *env, kt_sched **out, char *err,
                           size_t errcap)
{
    (void)flow;
    (void)env;
    if (kt_trig_kind_of(json_string_value(json_object_get(trigger, "type"))) != KT_TRIG_SCHEDULE) {
        snprintf(err, errcap, "not a Schedule (stub)");
        return KT_EINVAL;
    }
    kt_sched *s = calloc(1, sizeof *s);
    if (!s)
        return KT_ENOMEM;
    const char *cron = json_string_value(json_object_get(trigger, "cron"));
    if (!cron || kt_cron_parse(cron, json_is_true(json_object_get(trigger, "withSeconds")), &s->cron, err, errcap)) {
        free(s);
        return KT_EINVAL;
    }
    const char *zone = json_string_value(json_object_get(trigger, "timezone"));
    snprintf(s->zone, sizeof s->zone, "%s", zone ? zone : default_zone ? default_zone : "UTC");
    const char *rec = json_string_value(json_object_get(trigger, "recoverMissedSchedules"));
    s->recover = !rec ? default_recover : !strcmp(rec, "LAST") ? KT_SCHED_RECOVER_LAST
                                      : !strcmp(rec, "NONE") ? KT_SCHED_RECOVER_NONE
                                                             : KT_SCHED_RECOVER_ALL;
    *out = s;
    return KT_OK;
}

void kt_sched_free(kt_sched *s)
{
    if (!s)
        return;
    kt_cron_free(s->cron);
    free(s);
}

kt_trig_kind kt_sched_kind(const kt_sched *s) { return (void)s, KT_TRIG_SCHEDULE; }
kt_sched_recover kt_sched_recover_mode(const kt_sched *s) { return s->recover; }
const char *kt_sched_zone(const kt_sched *s) { return s->zone; }

kt_status kt_sched_first(const kt_sched *s, int64_t now_us, int64_t *next_us)
{
    return kt_cron_next(s->cron, now_us, s->zone, next_us);
}

int kt_sched_recover_missed(const kt_sched *s, const json_t *flow, kt_trig_state *t, int64_t now_us,
                            const kt_env *env)
{
    (void)flow, (void)env;
    int64_t before = t->next_us, d;
    if (!t->next_us && kt_cron_next(s->cron, t->date_us ? t->date_us : now_us, s->zone, &d) == KT_OK)
        t->next_us = d;
    if (s->recover == KT_SCHED_RECOVER_NONE && kt_cron_next(s->cron, now_us, s->zone, &d) == KT_OK)
        t->next_us = d;
    else if (s->recover == KT_SCHED_RECOVER_LAST && kt_cron_prev(s->cron, now_us, s->zone, &d) == KT_OK &&
             d > t->date_us)
        t->next_us = d;
    return t->next_us != before;
}

void kt_sched_backfill_start(kt_trig_state *t, kt_trig_backfill *bf, int64_t now_us)
{
    kt_trig_backfill_free(t->backfill);
    bf->current_us = bf->start_us;
    if (!bf->end_us)
        bf->end_us = now_us - now_us % 1000000;
    bf->prev_next_us = t->next_us;
    t->backfill = bf;
}

kt_status kt_sched_update(const kt_sched *s, const json_t *flow, kt_trig_state *t, int disabled,
                          kt_trig_backfill *bf, int64_t now_us, const kt_env *env)
{
    (void)flow, (void)env;
    int reenable = t->disabled && !disabled;
    if (bf)
        kt_sched_backfill_start(t, bf, now_us);
    int64_t next = 0;
    if (reenable && s->recover == KT_SCHED_RECOVER_LAST)
        kt_cron_prev(s->cron, now_us, s->zone, &next);
    else if (reenable && s->recover == KT_SCHED_RECOVER_NONE)
        kt_cron_next(s->cron, now_us, s->zone, &next);
    else {
        int64_t base = t->backfill ? t->backfill->current_us : t->date_us ? t->date_us : now_us;
        kt_cron_next(s->cron, base, s->zone, &next);
        if (t->backfill && next > t->backfill->end_us)
            kt_cron_next(s->cron, now_us, s->zone, &next);
    }
    t->next_us = disabled ? 0 : next;
    t->disabled = disabled;
    return KT_OK;
}
