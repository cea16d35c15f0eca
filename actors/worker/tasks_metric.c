/* io.kestra.plugin.core.metric.Publish (Kestra 1.x's Publish.java and its plugin page): publishes the metrics a flow
 * lists, each `{type: counter | timer | gauge, name, value, tags?, description?}` with its properties rendered, as
 * the run's metric entries (what the execution's Metrics tab and /metrics show), and outputs them as `metrics`, the
 * MetricEntry list Kestra writes: {name, type, value, tags} plus description when given; a counter's or a gauge's
 * value a double, a timer's its java.time.Duration text (PT10M). Every entry is checked before any is published: a
 * bad one fails the task and publishes nothing.
 *
 * io.kestra.plugin.core.metric.PurgeMetrics (Kestra's PurgeMetrics.java): deletes the stored metrics of a namespace
 * (its children too unless flowId is given) or of every namespace, between startDate (optional) and endDate; the
 * worker asks the executor, whose node holds the store (metrics.purge). Output: count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/worker/task.h"
#include "actors/worker/tasks_ask.h"
#include "base/clock.h"
#include "time/duration.h"

/* A number, or a string holding one (Property<Double> renders a string to a Double). */
static int kt_metric_number(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (!json_is_string(v) || !*json_string_value(v))
        return -1;
    char *end = NULL;
    *out = strtod(json_string_value(v), &end);
    return *end ? -1 : 0;
}

/* Tags as a map of strings (scalars are written as text); NULL when absent, -1 when not a map. */
static int kt_metric_tags(const json_t *v, json_t **out)
{
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return -1;
    json_t *tags = json_object();
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
        if (json_is_string(x)) {
            json_object_set(tags, k, x);
        } else if (json_is_number(x) || json_is_boolean(x)) {
            char *s = json_dumps(x, JSON_ENCODE_ANY);
            json_object_set_new(tags, k, json_string(s ? s : ""));
            free(s);
        } else {
            json_decref(tags);
            return -1;
        }
    }
    *out = tags;
    return 0;
}

/* One metric definition into its output entry; NULL with err. *us: a timer's duration. */
static json_t *kt_metric_entry(const json_t *m, size_t i, int64_t *us, char *err, size_t cap)
{
    const char *type = json_string_value(json_object_get(m, "type"));
    const char *name = json_string_value(json_object_get(m, "name"));
    const json_t *value = json_object_get(m, "value");
    json_t *tags = NULL;
    if (!json_is_object(m) || !type || (strcmp(type, "counter") && strcmp(type, "timer") && strcmp(type, "gauge"))) {
        snprintf(err, cap, "metrics[%zu].type: must be one of counter, timer, gauge", i);
        return NULL;
    }
    if (!name || !*name) {
        snprintf(err, cap, "metrics[%zu].name: must not be null", i);
        return NULL;
    }
    if (!value || json_is_null(value)) {
        snprintf(err, cap, "metrics[%zu].value: must not be null", i);
        return NULL;
    }
    if (kt_metric_tags(json_object_get(m, "tags"), &tags)) {
        snprintf(err, cap, "metrics[%zu].tags: must be a map of strings", i);
        return NULL;
    }
    json_t *e = json_pack("{s:s, s:s}", "name", name, "type", type);
    const json_t *desc = json_object_get(m, "description");
    if (json_is_string(desc))
        json_object_set(e, "description", (json_t *)desc);
    if (!strcmp(type, "timer")) {
        char iso[KT_DURATION_BUFSZ];
        if (kt_duration_from_json(value, us)) {
            snprintf(err, cap, "metrics[%zu].value: must be an ISO-8601 duration", i);
            json_decref(tags);
            json_decref(e);
            return NULL;
        }
        kt_duration_format(*us, iso, sizeof iso);
        json_object_set_new(e, "value", json_string(iso));
    } else {
        double d;
        if (kt_metric_number(value, &d)) {
            snprintf(err, cap, "metrics[%zu].value: must be a number", i);
            json_decref(tags);
            json_decref(e);
            return NULL;
        }
        json_object_set_new(e, "value", json_real(d));
    }
    json_object_set_new(e, "tags", tags ? tags : json_object());
    return e;
}

static void kt_metric_publish_start(kt_task_run *r)
{
    const json_t *metrics = json_object_get(kt_task_props(r), "metrics");
    char err[512] = "";
    if (metrics && !json_is_null(metrics) && !json_is_array(metrics)) {
        kt_task_logf(r, "ERROR", "metrics: must be a list of metrics");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    json_t *out = json_array();
    int64_t *durations = calloc(json_array_size(metrics) + 1, sizeof *durations);
    size_t i;
    json_t *m;
    json_array_foreach(metrics, i, m) {
        json_t *e = kt_metric_entry(m, i, &durations[i], err, sizeof err);
        if (!e) {
            kt_task_logf(r, "ERROR", "%s", err);
            json_decref(out);
            free(durations);
            kt_task_finish(r, KT_S(FAILED), NULL);
            return;
        }
        json_array_append_new(out, e);
    }
    json_array_foreach(out, i, m) {
        const char *type = json_string_value(json_object_get(m, "type"));
        const char *name = json_string_value(json_object_get(m, "name"));
        const json_t *tags = json_object_get(m, "tags");
        if (!strcmp(type, "timer"))
            kt_task_timer(r, name, durations[i], tags);
        else if (!strcmp(type, "gauge"))
            kt_task_gauge(r, name, json_real_value(json_object_get(m, "value")), tags);
        else
            kt_task_counter(r, name, json_real_value(json_object_get(m, "value")), tags);
    }
    free(durations);
    kt_task_finish(r, KT_S(SUCCESS), json_pack("{s:o}", "metrics", out));
}

const kt_task_impl kt_task_metric_publish_impl = {.type = "io.kestra.plugin.core.metric.Publish",
                                                  .start = kt_metric_publish_start};

/* ---- PurgeMetrics ---- */

static void kt_metric_purge_replied(kt_task_run *r, const kt_msg_reply *rep)
{
    if (kt_ask_failed(r, rep)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    json_int_t count = json_integer_value(json_object_get(rep->data, "count"));
    kt_task_finish(r, KT_S(SUCCESS), json_pack("{s:I}", "count", count));
}

/* A date property (TypeConverter.toZonedDateTime: an ISO date-time): 0 and *us, 1 when absent, -1 logged. */
static int kt_metric_date(kt_task_run *r, const char *name, int64_t *us)
{
    const json_t *v = json_object_get(kt_task_props(r), name);
    if (!v || json_is_null(v))
        return 1;
    if (json_is_string(v) && !kt_time_parse(json_string_value(v), us))
        return 0;
    kt_task_logf(r, "ERROR", "%s: must be an ISO-8601 date-time", name);
    return -1;
}

static void kt_metric_purge_start(kt_task_run *r)
{
    const char *ns = kt_task_prop_string(r, "namespace"), *flow_id = kt_task_prop_string(r, "flowId");
    if (!ns && flow_id) {
        kt_task_logf(r, "ERROR", "Property `namespace` is required when `flowId` is set.");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    int64_t from = 0, to = 0;
    int has_from = kt_metric_date(r, "startDate", &from), has_to = kt_metric_date(r, "endDate", &to);
    if (has_from < 0 || has_to != 0) {
        if (has_to > 0)
            kt_task_logf(r, "ERROR", "endDate: must not be null");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    json_t *body = json_pack("{s:s, s:s?, s:s?, s:I, s:I}", "op", "metrics.purge", "namespace", ns, "flowId", flow_id,
                             "fromUs", (json_int_t)(has_from ? 0 : from), "toUs", (json_int_t)to);
    int bad = kt_ask_executor(r, body, kt_metric_purge_replied);
    json_decref(body);
    if (bad)
        kt_task_finish(r, KT_S(FAILED), NULL);
}

const kt_task_impl kt_task_metric_purge_impl = {.type = "io.kestra.plugin.core.metric.PurgeMetrics",
                                                .start = kt_metric_purge_start};
