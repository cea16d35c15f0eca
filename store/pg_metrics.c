/* Task metrics in the PostgreSQL store, the mirror of sqlite_metrics.c: one row per MetricEntry, its JSON as written
 * by the worker plus the columns filtered, sorted, grouped and aggregated on. Aggregations group in UTC, with the
 * buckets of kt_store_metric_bucket_start. */
#include "store/pg_int.h"
#include "base/clock.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char kt_sql_metric_delete[] = "DELETE FROM metrics WHERE execution_id=$1";
static const char kt_sql_metric_names[] =
    "SELECT name FROM metrics WHERE namespace=$1 AND flow_id=$2 AND ($3::text IS NULL OR task_id=$3) GROUP BY name "
    "ORDER BY MIN(seq)";
static const char kt_sql_metric_tasks[] = "SELECT task_id FROM metrics WHERE namespace=$1 AND flow_id=$2 AND task_id "
                                          "IS NOT NULL GROUP BY task_id ORDER BY MIN(seq)";

/* $1 execution, $2 task id, $3 task run id (NULL when $2 is set: taskId wins, as in Kestra's MetricController) */
#define KT_METRICS_OF_EXECUTION " FROM metrics WHERE execution_id=$1 AND ($2::text IS NULL OR task_id=$2) AND " \
                                "($3::text IS NULL OR taskrun_id=$3)"

kt_status kt_pg_metrics_search(kt_store *s, const kt_metric_query *q, json_t **results, int64_t *total)
{
    *results = NULL;
    *total = 0;
    const char *v[] = {q->execution_id, q->task_id, q->task_id ? NULL : q->taskrun_id};
    kt_status st;
    PGresult *res = kt_pg_query(s, "SELECT COUNT(*)" KT_METRICS_OF_EXECUTION, 3, v, &st);
    if (!res)
        return st;
    *total = kt_pg_get_i64(res, 0, 0);
    PQclear(res);
    /* the column comes from the store's table only (never the caller's text); text sorts by its bytes and NULL
     * first ascending, as in SQLite; write order (seq) breaks ties */
    const char *col = kt_store_metric_column(q->sort_column);
    int text = col && strcmp(col, "timestamp_us") && strcmp(col, "value");
    int size = q->size > 0 ? q->size : 10, page = q->page > 0 ? q->page : 1;
    char order[128] = "", sql[512];
    if (col)
        snprintf(order, sizeof order, "%s%s %s, ", col, text ? " COLLATE \"C\"" : "",
                 q->sort_desc ? "DESC NULLS LAST" : "ASC NULLS FIRST");
    snprintf(sql, sizeof sql, "SELECT body" KT_METRICS_OF_EXECUTION " ORDER BY %sseq LIMIT %d OFFSET %lld", order, size,
             (long long)(page - 1) * size);
    return kt_pg_query_json(s, sql, 3, v, 0, results);
}

kt_status kt_pg_metrics_distinct(kt_store *s, const char *ns, const char *flow_id, const char *task_id, int task_ids,
                                 json_t **out)
{
    *out = NULL;
    const char *v[] = {ns, flow_id, task_ids ? NULL : task_id};
    kt_status st;
    PGresult *res = kt_pg_query(s, task_ids ? kt_sql_metric_tasks : kt_sql_metric_names, task_ids ? 2 : 3, v, &st);
    if (!res)
        return st;
    json_t *arr = json_array();
    for (int r = 0, n = PQntuples(res); arr && r < n; r++)
        json_array_append_new(arr, json_string(PQgetvalue(res, r, 0)));
    PQclear(res);
    if (!arr)
        return KT_ENOMEM;
    *out = arr;
    return KT_OK;
}

/* The bucket expressions: kt_store_metric_bucket_start's starts (floor divisions, so a time before 1970 lands in its
 * bucket too; UTC). KT_PG_DAY is the start of the timestamp's day in microseconds. */
#define KT_PG_FLOOR(unit) "(timestamp_us - ((timestamp_us % " unit ") + " unit ") % " unit ")"
#define KT_PG_DAY KT_PG_FLOOR("86400000000")
static const char *const kt_bucket_sql[] = {
    [KT_MB_MINUTE] = KT_PG_FLOOR("60000000"),
    [KT_MB_HOUR] = KT_PG_FLOOR("3600000000"),
    [KT_MB_DAY] = KT_PG_DAY,
    /* back to the Monday: 1970-01-01 (day 0) was a Thursday */
    [KT_MB_WEEK] = "(" KT_PG_DAY " - ((((" KT_PG_DAY " / 86400000000) + 3) % 7 + 7) % 7) * 86400000000)",
    /* the first of the day's month at 00:00 UTC; the day's start is whole seconds, so to_timestamp is exact */
    [KT_MB_MONTH] = "(extract(epoch FROM date_trunc('month', to_timestamp(" KT_PG_DAY " / 1000000) AT TIME ZONE "
                    "'UTC'))::bigint * 1000000)",
};

kt_status kt_pg_metrics_aggregate(kt_store *s, const char *ns, const char *flow_id, const char *task_id,
                                  const char *name, int64_t from_us, int64_t to_us, const char *agg,
                                  kt_metric_bucket bucket, json_t **out)
{
    *out = NULL;
    static const char *const aggs[][2] = {{"sum", "SUM"}, {"avg", "AVG"}, {"min", "MIN"}, {"max", "MAX"}};
    const char *fn = NULL;
    for (size_t i = 0; agg && i < sizeof aggs / sizeof *aggs; i++)
        if (!strcmp(aggs[i][0], agg))
            fn = aggs[i][1];
    if (!fn || bucket < KT_MB_MINUTE || bucket > KT_MB_MONTH)
        return KT_EINVAL;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT %s AS b, %s(value) FROM metrics WHERE namespace=$1 AND flow_id=$2 AND name=$3 AND "
             "($4::text IS NULL OR task_id=$4) AND timestamp_us >= $5 AND timestamp_us <= $6 GROUP BY b ORDER BY b",
             kt_bucket_sql[bucket], fn);
    char f[24], t[24];
    const char *v[] = {ns, flow_id, name, task_id, kt_pg_i64(f, from_us), kt_pg_i64(t, to_us)};
    kt_status st;
    PGresult *res = kt_pg_query(s, sql, 6, v, &st);
    if (!res)
        return st;
    json_t *arr = json_array();
    for (int r = 0, n = PQntuples(res); arr && r < n; r++)
        json_array_append_new(arr, json_pack("{s:I, s:f}", "start", (json_int_t)kt_pg_get_i64(res, r, 0), "value",
                                             strtod(PQgetvalue(res, r, 1), NULL)));
    PQclear(res);
    if (!arr)
        return KT_ENOMEM;
    *out = arr;
    return KT_OK;
}

kt_status kt_pg_metrics_delete(kt_store *s, const char *execution_id, int64_t *count)
{
    const char *v[] = {execution_id};
    int64_t n = 0;
    kt_status st = kt_pg_command(s, kt_sql_metric_delete, 1, v, &n);
    if (count)
        *count = st ? 0 : n;
    return st;
}
