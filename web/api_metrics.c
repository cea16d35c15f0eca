/* /api/v1/metrics (Kestra's MetricController over the store's metrics table) and GET /prometheus (the process's
 * registry, base/metrics.h). */
#include "base/alloc.h"
#include "base/clock.h"
#include "base/metrics.h"
#include "web/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One read of the metrics table, by a job: the search, the distinct names or task ids, or an aggregation. The
 * strings are the job's copies. */
typedef enum { KT_MJ_SEARCH, KT_MJ_DISTINCT, KT_MJ_AGGREGATE } kt_metrics_job_kind;
typedef struct kt_metrics_job {
    kt_metrics_job_kind kind;
    kt_api_strs strs;
    kt_metric_query q;                               /* search */
    const char *ns, *flow_id, *task_id, *name, *agg; /* distinct, aggregate */
    int task_ids;                                    /* distinct */
    int64_t from, to;                                /* aggregate */
    kt_metric_bucket bucket;
    const char *group;
    json_t *out;
    int64_t total;
} kt_metrics_job;

static kt_status kt_metrics_job_read(kt_store *s, void *ud)
{
    kt_metrics_job *j = ud;
    switch (j->kind) {
    case KT_MJ_SEARCH: return kt_store_metrics_search(s, &j->q, &j->out, &j->total);
    case KT_MJ_DISTINCT: return kt_store_metrics_distinct(s, j->ns, j->flow_id, j->task_id, j->task_ids, &j->out);
    case KT_MJ_AGGREGATE:
        return kt_store_metrics_aggregate(s, j->ns, j->flow_id, j->task_id, j->name, j->from, j->to, j->agg,
                                          j->bucket, &j->out);
    }
    return KT_EINTERNAL;
}

static void kt_metrics_job_free(void *ud)
{
    kt_metrics_job *j = ud;
    kt_api_strs_clear(&j->strs);
    json_decref(j->out);
    free(j);
}

static kt_metrics_job *kt_metrics_job_new(kt_metrics_job_kind kind)
{
    kt_metrics_job *j = kt_xcalloc(1, sizeof *j);
    j->kind = kind;
    return j;
}

static void kt_api_metrics_found(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    kt_metrics_job *j = ud;
    if (!kt_api_read_failed(r, st, err, NULL, NULL))
        kt_http_send_json(r, 200, json_pack("{s:O, s:I}", "results", j->out, "total", (json_int_t)j->total));
}

/* GET /api/v1/metrics/{executionId}: page, size, sort (field:asc|desc), taskId (wins), taskRunId. */
void kt_api_metrics_by_execution(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    kt_metric_query q = {.execution_id = kt_http_param(r, "executionId"), .task_id = kt_http_query(r, "taskId"),
                         .taskrun_id = kt_http_query(r, "taskRunId")};
    if (kt_api_paging(r, &q.page, &q.size))
        return;
    const char *sorts[4];
    if (kt_http_query_all(r, "sort", sorts, 4) > 0) {
        const char *colon = strchr(sorts[0], ':');
        char field[64];
        if (!colon || (size_t)(colon - sorts[0]) >= sizeof field || (strcmp(colon + 1, "asc") &&
                                                                      strcmp(colon + 1, "desc"))) {
            kt_http_send_error(r, 422, "Invalid sort parameter", NULL);
            return;
        }
        snprintf(field, sizeof field, "%.*s", (int)(colon - sorts[0]), sorts[0]);
        q.sort_column = kt_store_metric_sort_column(field);
        q.sort_desc = !strcmp(colon + 1, "desc");
    }
    kt_metrics_job *j = kt_metrics_job_new(KT_MJ_SEARCH);
    j->q = q; /* sort_column is the store's own string */
    j->q.execution_id = kt_api_keep(&j->strs, q.execution_id);
    j->q.task_id = kt_api_keep(&j->strs, q.task_id);
    j->q.taskrun_id = kt_api_keep(&j->strs, q.taskrun_id);
    kt_api_read(w, r, kt_metrics_job_read, kt_api_metrics_found, j, kt_metrics_job_free);
}

static void kt_api_metrics_listed(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    kt_metrics_job *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    kt_http_send_json(r, 200, j->out);
    j->out = NULL;
}

static void kt_api_metrics_distinct(kt_http_req *r, kt_webserver *w, const char *task_id, int task_ids)
{
    kt_metrics_job *j = kt_metrics_job_new(KT_MJ_DISTINCT);
    j->ns = kt_api_keep(&j->strs, kt_http_param(r, "namespace"));
    j->flow_id = kt_api_keep(&j->strs, kt_http_param(r, "flowId"));
    j->task_id = kt_api_keep(&j->strs, task_id);
    j->task_ids = task_ids;
    kt_api_read(w, r, kt_metrics_job_read, kt_api_metrics_listed, j, kt_metrics_job_free);
}

/* GET /api/v1/metrics/names/{namespace}/{flowId} */
void kt_api_metrics_names(kt_http_req *r, void *ud) { kt_api_metrics_distinct(r, ud, NULL, 0); }

/* GET /api/v1/metrics/names/{namespace}/{flowId}/{taskId} */
void kt_api_metrics_task_names(kt_http_req *r, void *ud)
{
    kt_api_metrics_distinct(r, ud, kt_http_param(r, "taskId"), 0);
}

/* GET /api/v1/metrics/tasks/{namespace}/{flowId}: the task ids having metrics, removed tasks included */
void kt_api_metrics_tasks(kt_http_req *r, void *ud) { kt_api_metrics_distinct(r, ud, NULL, 1); }

/* DateUtils.groupByType: more than 365 days by month, 180 by week, 1 by day, 6 hours by hour, else by minute. */
static kt_metric_bucket kt_api_group_by(int64_t from_us, int64_t to_us, const char **name)
{
    int64_t span = to_us - from_us, days = span / 86400000000LL, hours = span / 3600000000LL;
    static const char *const names[] = {"minute", "hour", "day", "week", "month"};
    kt_metric_bucket b = days > 365 ? KT_MB_MONTH : days > 180 ? KT_MB_WEEK : days > 1 ? KT_MB_DAY
                                                   : hours > 6 ? KT_MB_HOUR : KT_MB_MINUTE;
    *name = names[b];
    return b;
}

/* The start of the bucket after the one starting at us (a month is a calendar month). */
static int64_t kt_api_bucket_next(int64_t us, kt_metric_bucket b)
{
    switch (b) {
    case KT_MB_MINUTE: return us + 60000000LL;
    case KT_MB_HOUR: return us + 3600000000LL;
    case KT_MB_DAY: return us + 86400000000LL;
    case KT_MB_WEEK: return us + 7 * 86400000000LL;
    case KT_MB_MONTH: { /* the same day of the next month, or its last day (Java's plusMonths clamps) */
        int64_t offset = us - kt_store_metric_bucket_start(us, b);
        int64_t next = kt_store_metric_bucket_start(kt_store_metric_bucket_start(us, b) + 32 * 86400000000LL, b);
        int64_t after = kt_store_metric_bucket_start(next + 32 * 86400000000LL, b);
        return next + offset < after ? next + offset : after - 86400000000LL + offset % 86400000000LL;
    }
    }
    return us + 86400000000LL;
}

#define KT_API_MAX_BUCKETS 5000 /* a century by month, 13 years by week: a range beyond is cut, not looped over */

/* Kestra's fillDate over the aggregates read: from startDate, one entry per unit while before endDate, the bucket's
 * aggregate ({name, value, date: the bucket's start}) when it has one, else {value: 0.0, date: that step's own
 * instant} without a name. */
static void kt_api_metrics_aggregated(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    kt_metrics_job *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    json_t *out = json_array(), *rows = j->out;
    kt_metric_bucket b = j->bucket;
    size_t next_row = 0;
    char date[48];
    for (int64_t cur = j->from; cur < j->to && json_array_size(out) < KT_API_MAX_BUCKETS;
         cur = kt_api_bucket_next(cur, b)) {
        int64_t start = kt_store_metric_bucket_start(cur, b);
        json_t *row = NULL;
        /* rows are ordered by bucket: skip those before this step's bucket (before startDate's own) */
        while (next_row < json_array_size(rows) &&
               json_integer_value(json_object_get(json_array_get(rows, next_row), "start")) < start)
            next_row++;
        if (next_row < json_array_size(rows) &&
            json_integer_value(json_object_get(json_array_get(rows, next_row), "start")) == start)
            row = json_array_get(rows, next_row++);
        if (row) {
            kt_time_format(start, date, sizeof date);
            json_array_append_new(out, json_pack("{s:s, s:O, s:s}", "name", j->name, "value",
                                                 json_object_get(row, "value"), "date", date));
        } else {
            kt_time_format(cur, date, sizeof date);
            json_array_append_new(out, json_pack("{s:f, s:s}", "value", 0.0, "date", date));
        }
    }
    kt_http_send_json(r, 200, json_pack("{s:s, s:o}", "groupBy", j->group, "aggregations", out));
}

/* The aggregates of both routes (filled in by kt_api_metrics_aggregated). */
static void kt_api_metrics_aggregate(kt_http_req *r, kt_webserver *w, const char *task_id)
{
    const char *agg = kt_http_query(r, "aggregation");
    if (!agg || !*agg)
        agg = "sum";
    if (strcmp(agg, "sum") && strcmp(agg, "avg") && strcmp(agg, "min") && strcmp(agg, "max")) {
        char msg[256];
        snprintf(msg, sizeof msg, "Illegal argument: Invalid aggregation: %.100s", agg);
        kt_http_send_error(r, 422, msg, NULL);
        return;
    }
    /* Kestra reads the clock twice, the start first: the default end is a moment after the start's now, so the
     * 30 days by default are 31 steps, today's included */
    int64_t now = kt_now_us(), from = now - 30 * 86400000000LL, to = now + 1;
    const char *sd = kt_http_query(r, "startDate"), *ed = kt_http_query(r, "endDate");
    if ((sd && *sd && kt_time_parse(sd, &from)) || (ed && *ed && kt_time_parse(ed, &to))) {
        kt_http_send_error(r, 422, "Invalid format: dates are ISO-8601 (yyyy-MM-ddTHH:mm[:ss][.SSS][XXX])", NULL);
        return;
    }
    if (from > to) {
        kt_http_send_error(r, 422, "Illegal argument: Start date must be before End Date", NULL);
        return;
    }
    kt_metrics_job *j = kt_metrics_job_new(KT_MJ_AGGREGATE);
    j->bucket = kt_api_group_by(from, to, &j->group);
    j->ns = kt_api_keep(&j->strs, kt_http_param(r, "namespace"));
    j->flow_id = kt_api_keep(&j->strs, kt_http_param(r, "flowId"));
    j->task_id = kt_api_keep(&j->strs, task_id);
    j->name = kt_api_keep(&j->strs, kt_http_param(r, "metric"));
    j->agg = kt_api_keep(&j->strs, agg);
    j->from = from;
    j->to = to;
    kt_api_read(w, r, kt_metrics_job_read, kt_api_metrics_aggregated, j, kt_metrics_job_free);
}

/* GET /api/v1/metrics/aggregates/{namespace}/{flowId}/{metric} */
void kt_api_metrics_aggregates(kt_http_req *r, void *ud) { kt_api_metrics_aggregate(r, ud, NULL); }

/* GET /api/v1/metrics/aggregates/{namespace}/{flowId}/{taskId}/{metric} */
void kt_api_metrics_task_aggregates(kt_http_req *r, void *ud)
{
    kt_api_metrics_aggregate(r, ud, kt_http_param(r, "taskId"));
}

/* GET /prometheus: the text exposition format 0.0.4 (main and management ports). */
void kt_api_prometheus(kt_http_req *r, void *ud)
{
    (void)ud;
    kt_buf b = {0};
    kt_metrics_render(&b);
    char *text = kt_buf_take(&b);
    kt_http_send(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
}
