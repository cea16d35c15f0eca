/* Counting and purging executions and logs by query in the PostgreSQL store, the mirror of sqlite_purge.c (the
 * execution.Count, log.PurgeLogs and execution.PurgeExecutions tasks). Filters: NULL (or 0 for dates) is "any"; a
 * list filter is one comma-joined text, so every call is one fixed statement. */
#include "store/pg_int.h"

#define KT_EXEC_FILTER                                                                                               \
    "($1::text IS NULL OR namespace=$1) AND ($2::text IS NULL OR flow_id=$2) AND ($3::bigint = 0 OR start_us >= $3) " \
    "AND ($4::bigint = 0 OR start_us <= $4) AND ($5::text IS NULL OR strpos(',' || $5 || ',', ',' || state || ',') > 0)"

static const char kt_sql_count[] = "SELECT count(*) FROM executions WHERE " KT_EXEC_FILTER;
/* ties in creation order, as SQLite's rowid orders them */
static const char kt_sql_match[] = "SELECT id, namespace, flow_id, state FROM executions WHERE " KT_EXEC_FILTER
                                   " ORDER BY start_us, created";
static const char kt_sql_logs_purge[] =
    "DELETE FROM logs WHERE ($3::bigint = 0 OR timestamp_us >= $3) AND ($4::bigint = 0 OR timestamp_us <= $4) AND "
    "($5::text IS NULL OR strpos(',' || $5 || ',', ',' || level || ',') > 0) AND (($1::text IS NULL AND $2::text IS "
    "NULL) OR execution_id IN (SELECT id FROM executions WHERE ($1 IS NULL OR namespace=$1) AND "
    "($2 IS NULL OR flow_id=$2)))";
static const char kt_sql_logs_of[] = "DELETE FROM logs WHERE execution_id=$1";
static const char kt_sql_runs_of[] = "DELETE FROM taskruns WHERE execution_id=$1";
static const char kt_sql_exec_del[] = "DELETE FROM executions WHERE id=$1";

/* The five values of KT_EXEC_FILTER (from and to in the caller's buffers). */
static void kt_query_values(const kt_store_purge_query *q, const char **v, char *from, char *to)
{
    v[0] = q->namespace_;
    v[1] = q->flow_id;
    v[2] = kt_pg_i64(from, q->from_us);
    v[3] = kt_pg_i64(to, q->to_us);
    v[4] = q->list;
}

kt_status kt_pg_executions_count(kt_store *s, const kt_store_purge_query *q, int64_t *count)
{
    const char *v[5];
    char from[24], to[24];
    kt_query_values(q, v, from, to);
    kt_status st;
    *count = 0;
    PGresult *res = kt_pg_query(s, kt_sql_count, 5, v, &st);
    if (!res)
        return st;
    *count = kt_pg_get_i64(res, 0, 0);
    PQclear(res);
    return KT_OK;
}

kt_status kt_pg_executions_match(kt_store *s, const kt_store_purge_query *q, json_t **out)
{
    const char *v[5];
    char from[24], to[24];
    kt_query_values(q, v, from, to);
    kt_status st;
    *out = NULL;
    PGresult *res = kt_pg_query(s, kt_sql_match, 5, v, &st);
    if (!res)
        return st;
    json_t *arr = json_array();
    for (int r = 0, n = PQntuples(res); arr && r < n; r++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "id", PQgetvalue(res, r, 0), "namespace",
                                             PQgetvalue(res, r, 1), "flowId", PQgetvalue(res, r, 2), "state",
                                             PQgetvalue(res, r, 3)));
    PQclear(res);
    if (!arr)
        return KT_ENOMEM;
    *out = arr;
    return KT_OK;
}

kt_status kt_pg_logs_purge(kt_store *s, const kt_store_purge_query *q, int64_t *count)
{
    const char *v[5];
    char from[24], to[24];
    kt_query_values(q, v, from, to);
    *count = 0;
    return kt_pg_command(s, kt_sql_logs_purge, 5, v, count);
}

static kt_status kt_delete_by_id(kt_store *s, const char *sql, const char *id, int64_t *changes)
{
    const char *v[] = {id};
    int64_t n = 0;
    kt_status st = kt_pg_command(s, sql, 1, v, &n);
    if (!st && changes)
        *changes += n;
    return st;
}

kt_status kt_pg_execution_purge(kt_store *s, const char *id, int execution, int logs, int64_t *logs_deleted)
{
    kt_status st = KT_OK;
    if (logs)
        st = kt_delete_by_id(s, kt_sql_logs_of, id, logs_deleted);
    if (!st && execution)
        st = kt_delete_by_id(s, kt_sql_runs_of, id, NULL);
    if (!st && execution)
        st = kt_delete_by_id(s, kt_sql_exec_del, id, NULL);
    return st;
}
