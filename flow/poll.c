/* Polling triggers' pure part (see flow/poll.h). */
#include "flow/poll.h"

#include "flow/tasks.h"
#include "flow/trigger_int.h"
#include "time/duration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Every polling trigger Kite evaluates; a new one adds a row here and its evaluator in the worker's table
 * (actors/worker/poll.c). Defaults from the Java classes (http.Trigger: Duration.ofSeconds(60)). */
static const kt_poll_type kt_poll_types[] = {
    {"io.kestra.plugin.core.http.Trigger", 60LL * 1000000},
};

const kt_poll_type *kt_poll_type_of(const char *type)
{
    if (!type)
        return NULL;
    const char *canon = kt_task_canonical_type(type);
    for (size_t i = 0; i < sizeof kt_poll_types / sizeof *kt_poll_types; i++)
        if (!strcmp(canon, kt_poll_types[i].type))
            return &kt_poll_types[i];
    return NULL;
}

kt_status kt_poll_interval(const json_t *def, int64_t *us, char *err, size_t errcap)
{
    const kt_poll_type *pt = kt_poll_type_of(json_string_value(json_object_get(def, "type")));
    const json_t *v = json_object_get(def, "interval");
    if (!v || json_is_null(v)) {
        if (!pt) {
            snprintf(err, errcap, "interval: not a polling trigger");
            return KT_EINVAL;
        }
        *us = pt->default_interval_us;
        return KT_OK;
    }
    int64_t d = 0;
    if (kt_duration_from_json(v, &d)) {
        snprintf(err, errcap, "interval: invalid duration '%s'", json_is_string(v) ? json_string_value(v) : "?");
        return KT_EINVAL;
    }
    if (d <= 0) {
        snprintf(err, errcap, "interval: must be a positive duration, got '%s'",
                 json_is_string(v) ? json_string_value(v) : "?");
        return KT_EINVAL;
    }
    *us = d;
    return KT_OK;
}

/* An absolute http(s) URI with a host: what Kestra's HTTP client can call. */
static int kt_poll_uri_ok(const char *u)
{
    const char *rest = NULL;
    if (!strncasecmp(u, "http://", 7))
        rest = u + 7;
    else if (!strncasecmp(u, "https://", 8))
        rest = u + 8;
    if (!rest || !*rest || *rest == '/' || *rest == ':' || *rest == '?' || *rest == '#')
        return 0;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '\\' || *p == '^' || *p == '`' ||
            *p == '{' || *p == '|' || *p == '}')
            return 0;
    return 1;
}

int kt_poll_check(const json_t *def, const char **prop, char *err, size_t errcap)
{
    const char *type = json_string_value(json_object_get(def, "type"));
    if (!kt_poll_type_of(type))
        return 0;
    int64_t us;
    /* interval is not dynamic in Kestra either: an expression there is refused as a bad duration */
    if (kt_poll_interval(def, &us, err, errcap) != KT_OK) {
        *prop = "interval";
        return -1;
    }
    if (!strcmp(kt_task_canonical_type(type), "io.kestra.plugin.core.http.Trigger")) {
        const char *u = json_string_value(json_object_get(def, "uri"));
        if (u && !strstr(u, "{{") && !strstr(u, "{%") && !kt_poll_uri_ok(u)) {
            *prop = "uri";
            snprintf(err, errcap, "uri: invalid URI '%s': an absolute http or https URI is expected", u);
            return -1;
        }
    }
    return 0;
}

kt_status kt_poll_init_state(const json_t *def, const char *ns, const char *flow_id, int64_t now_us,
                             const kt_trig_state *previous, kt_trig_state *out)
{
    memset(out, 0, sizeof *out);
    const char *tid = json_string_value(json_object_get(def, "id"));
    out->namespace_ = strdup(ns ? ns : "");
    out->flow_id = strdup(flow_id ? flow_id : "");
    out->trigger_id = strdup(tid ? tid : "");
    if (!out->namespace_ || !out->flow_id || !out->trigger_id)
        goto oom;
    const json_t *sa = json_object_get(def, "stopAfter");
    if (json_is_array(sa) && !(out->stop_after = json_deep_copy(sa)))
        goto oom;
    if (previous) {
        out->disabled = previous->disabled;
        if (previous->execution_id && !(out->execution_id = strdup(previous->execution_id)))
            goto oom;
        out->updated_us = previous->execution_id ? previous->updated_us : 0;
    }
    out->date_us = kt_sched__trunc_s(now_us);
    out->next_us = out->date_us; /* AbstractScheduler.initializedTriggers: a non-Schedulable is due now */
    return KT_OK;
oom:
    kt_trig_state_clear(out);
    return KT_ENOMEM;
}

kt_poll_verdict kt_poll_due(const kt_trig_state *t, int64_t now_us, int64_t lost_after_us, int64_t *due_us)
{
    *due_us = 0;
    if (t->disabled || t->execution_id)
        return KT_POLL_WAIT; /* an enable or the execution's end looks again */
    if (t->evaluate_running_us) {
        int64_t lost = t->evaluate_running_us + (lost_after_us > 0 ? lost_after_us
                                                                   : KT_POLL_EVAL_LIMIT_US + KT_POLL_REPLY_GRACE_US);
        if (now_us >= lost)
            return KT_POLL_LOST;
        *due_us = lost;
        return KT_POLL_WAIT;
    }
    if (!t->next_us || t->next_us <= now_us)
        return KT_POLL_START; /* a row without a next date (enabled again through the API) is due now */
    *due_us = t->next_us;
    return KT_POLL_WAIT;
}

kt_status kt_poll_started(const json_t *def, kt_trig_state *t, int64_t now_us)
{
    t->date_us = kt_sched__trunc_s(now_us);
    t->evaluate_running_us = now_us;
    t->updated_us = now_us;
    json_decref(t->stop_after);
    t->stop_after = NULL;
    const json_t *sa = json_object_get(def, "stopAfter");
    if (json_is_array(sa) && !(t->stop_after = json_deep_copy(sa)))
        return KT_ENOMEM;
    return KT_OK;
}

kt_status kt_poll_finished(kt_trig_state *t, int64_t now_us, int64_t interval_us, const char *execution_id)
{
    t->evaluate_running_us = 0;
    t->next_us = now_us + interval_us;
    t->updated_us = now_us;
    free(t->worker_id);
    t->worker_id = NULL;
    if (execution_id) {
        free(t->execution_id);
        if (!(t->execution_id = strdup(execution_id)))
            return KT_ENOMEM;
    }
    return KT_OK;
}

int kt_poll_truthy(const char *s)
{
    return s && *s && strcmp(s, "false") && strcmp(s, "0") && strcmp(s, "-0");
}
