/* Task metrics in the SQLite store (store.h, "task metrics"): one row per MetricEntry, its JSON as written by the
 * worker plus the columns Kestra's metric repository filters, sorts, groups and aggregates on
 * (AbstractJdbcMetricRepository). Aggregations group in UTC. */
#include "store/sqlite_int.h"
#include "base/clock.h"
#include "base/log.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char kt_sql_metric_insert[] =
    "INSERT INTO metrics(namespace, flow_id, task_id, execution_id, taskrun_id, type, name, value, timestamp_us, body) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char kt_sql_metric_delete[] = "DELETE FROM metrics WHERE execution_id=?1";
static const char kt_sql_metric_names[] =
    "SELECT name FROM metrics WHERE namespace=?1 AND flow_id=?2 AND (?3 IS NULL OR task_id=?3) GROUP BY name "
    "ORDER BY MIN(seq)";
static const char kt_sql_metric_tasks[] = "SELECT task_id FROM metrics WHERE namespace=?1 AND flow_id=?2 AND task_id "
                                          "IS NOT NULL GROUP BY task_id ORDER BY MIN(seq)";

/* text, or NULL for an absent optional column */
static void kt_bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

kt_status kt_sqlite_metrics_append(kt_store *s, const json_t *entries)
{
    size_t i;
    const json_t *e;
    json_array_foreach(entries, i, e) {
        kt_metric_row m;
        if (kt_store_metric_row(e, i, &m))
            continue;
        char *body = json_dumps(e, JSON_COMPACT);
        sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_metric_insert);
        if (!st || !body) {
            free(body);
            return KT_EDB;
        }
        sqlite3_bind_text(st, 1, m.ns, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m.flow_id, -1, SQLITE_STATIC);
        kt_bind_text_or_null(st, 3, m.task_id);
        kt_bind_text_or_null(st, 4, m.execution_id);
        kt_bind_text_or_null(st, 5, m.taskrun_id);
        sqlite3_bind_text(st, 6, m.type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, m.name, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 8, m.value);
        sqlite3_bind_int64(st, 9, m.timestamp_us);
        sqlite3_bind_text(st, 10, body, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        free(body);
        if (rc != SQLITE_DONE)
            return KT_EDB;
    }
    return KT_OK;
}


/* ?1 execution, ?2 task id, ?3 task run id (the caller leaves ?3 unbound when ?2 is set) */
#define KT_METRICS_OF_EXECUTION " FROM metrics WHERE execution_id=?1 AND (?2 IS NULL OR task_id=?2) AND " \
                                "(?3 IS NULL OR taskrun_id=?3)"

static void kt_metrics_bind(sqlite3_stmt *st, const kt_metric_query *q)
{
    sqlite3_bind_text(st, 1, q->execution_id, -1, SQLITE_STATIC);
    if (q->task_id)
        sqlite3_bind_text(st, 2, q->task_id, -1, SQLITE_STATIC);
    else if (q->taskrun_id)
        sqlite3_bind_text(st, 3, q->taskrun_id, -1, SQLITE_STATIC);
}

kt_status kt_sqlite_metrics_search(kt_store *s, const kt_metric_query *q, json_t **results, int64_t *total)
{
    *results = NULL;
    *total = 0;
    sqlite3 *db = kt_sqlite_db(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*)" KT_METRICS_OF_EXECUTION, -1, &st, NULL) != SQLITE_OK)
        return KT_EDB;
    kt_metrics_bind(st, q);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *total = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return KT_EDB;
    /* the column comes from the store's table only (never the caller's text) */
    const char *col = kt_store_metric_column(q->sort_column);
    int size = q->size > 0 ? q->size : 10, page = q->page > 0 ? q->page : 1;
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT body" KT_METRICS_OF_EXECUTION " ORDER BY %s%s seq LIMIT %d OFFSET %lld",
             col ? col : "", col ? (q->sort_desc ? " DESC," : " ASC,") : "", size, (long long)(page - 1) * size);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return KT_EDB;
    kt_metrics_bind(st, q);
    kt_status r = kt_sqlite_rows_json(st, 0, results);
    sqlite3_finalize(st);
    return r;
}

kt_status kt_sqlite_metrics_distinct(kt_store *s, const char *ns, const char *flow_id, const char *task_id,
                                    int task_ids, json_t **out)
{
    *out = NULL;
    sqlite3_stmt *st = kt_sqlite_prepared(s, task_ids ? kt_sql_metric_tasks : kt_sql_metric_names);
    if (!st)
        return KT_EDB;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, flow_id, -1, SQLITE_STATIC);
    if (!task_ids && task_id)
        sqlite3_bind_text(st, 3, task_id, -1, SQLITE_STATIC);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, json_string((const char *)sqlite3_column_text(st, 0)));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return KT_EDB;
    }
    *out = arr;
    return KT_OK;
}


/* The bucket expressions, the same as kt_store_metric_bucket_start computes (timestamps are after 1970). */
static const char *const kt_bucket_sql[] = {
    [KT_MB_MINUTE] = "(timestamp_us / 60000000) * 60000000",
    [KT_MB_HOUR] = "(timestamp_us / 3600000000) * 3600000000",
    [KT_MB_DAY] = "(timestamp_us / 86400000000) * 86400000000",
    [KT_MB_WEEK] = "((timestamp_us / 86400000000) - ((timestamp_us / 86400000000) + 3) % 7) * 86400000000",
    [KT_MB_MONTH] = "CAST(strftime('%s', timestamp_us / 1000000, 'unixepoch', 'start of month') AS INTEGER) * 1000000",
};

kt_status kt_sqlite_metrics_aggregate(kt_store *s, const char *ns, const char *flow_id, const char *task_id,
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
             "SELECT %s AS b, %s(value) FROM metrics WHERE namespace=?1 AND flow_id=?2 AND name=?3 AND "
             "(?4 IS NULL OR task_id=?4) AND timestamp_us >= ?5 AND timestamp_us <= ?6 GROUP BY b ORDER BY b",
             kt_bucket_sql[bucket], fn);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(kt_sqlite_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return KT_EDB;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    if (task_id)
        sqlite3_bind_text(st, 4, task_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, from_us);
    sqlite3_bind_int64(st, 6, to_us);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:I, s:f}", "start", (json_int_t)sqlite3_column_int64(st, 0), "value",
                                             sqlite3_column_double(st, 1)));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return KT_EDB;
    }
    *out = arr;
    return KT_OK;
}

kt_status kt_sqlite_metrics_delete(kt_store *s, const char *execution_id, int64_t *count)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_metric_delete);
    if (!st)
        return KT_EDB;
    sqlite3_bind_text(st, 1, execution_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (count)
        *count = rc == SQLITE_DONE ? sqlite3_changes64(kt_sqlite_db(s)) : 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? KT_OK : KT_EDB;
}
