/* The task logs of the PostgreSQL store, the mirror of sqlite.c's logs_append/logs_get and sqlite_logs.c: appends,
 * one execution's lines (whole, followed, paged), the search across executions and the deletions. A line's namespace
 * and flow are its execution's: filters on them join the executions table. Lines come back in SQLite's order
 * (timestamp then write order, seq). */
#include "store/pg_int.h"
#include "store/sql_build.h"
#include "base/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The execution filter of kt_store_logs_get, shared by its page and its deletion: $1 execution, $2 minimum level,
 * $3 task id, $4 task run id, $5 attempt (Kestra: taskId wins over taskRunId; attempt only with taskRunId). */
#define KT_LOGS_OF_EXECUTION                                                                                        \
    "execution_id=$1 AND level>=$2::integer AND ($3::text IS NULL OR task_id=$3) AND "                             \
    "($4::text IS NULL OR taskrun_id=$4) AND ($5::integer < 0 OR attempt=$5)"

static const char kt_sql_logs_get[] = "SELECT body FROM logs WHERE " KT_LOGS_OF_EXECUTION " ORDER BY timestamp_us, seq";
static const char kt_sql_logs_page[] = "SELECT body, seq FROM logs WHERE " KT_LOGS_OF_EXECUTION
                                       " AND seq > $6 ORDER BY seq LIMIT $7";
static const char kt_sql_logs_delete[] = "DELETE FROM logs WHERE " KT_LOGS_OF_EXECUTION;
static const char kt_sql_logs_after[] =
    "SELECT seq, body FROM logs WHERE execution_id = $1 AND seq > $2 AND level >= $3::integer ORDER BY seq";
static const char kt_sql_logs_delete_flow[] =
    "DELETE FROM logs WHERE execution_id IN (SELECT id FROM executions WHERE namespace=$1 AND flow_id=$2) AND "
    "($3::text IS NULL OR body::json->>'triggerId' = $3)";

/* The five values of KT_LOGS_OF_EXECUTION; KT_EINVAL for an unknown minimum level. */
static kt_status kt_logs_filter(const char *execution_id, const kt_log_filter *f, const char **v, char (*nums)[24])
{
    int min = f && f->min_level ? kt_store_level_rank(f->min_level) : 0;
    if (min < 0)
        return KT_EINVAL;
    v[0] = execution_id;
    v[1] = kt_pg_i64(nums[0], min);
    v[2] = f && f->task_id ? f->task_id : NULL;
    v[3] = f && !f->task_id ? f->taskrun_id : NULL;
    v[4] = kt_pg_i64(nums[1], f && !f->task_id && f->taskrun_id ? f->attempt : -1);
    return KT_OK;
}

kt_status kt_pg_logs_get(kt_store *s, const char *execution_id, const kt_log_filter *f, json_t **out_array)
{
    const char *v[5];
    char nums[2][24];
    kt_status st = kt_logs_filter(execution_id, f, v, nums);
    return st ? st : kt_pg_query_json(s, kt_sql_logs_get, 5, v, 0, out_array);
}

kt_status kt_pg_logs_after(kt_store *s, const char *execution_id, const char *min_level, int64_t *after,
                           json_t **out_array)
{
    int min = min_level ? kt_store_level_rank(min_level) : 0;
    if (min < 0)
        return KT_EINVAL;
    char a[24], m[24];
    const char *v[] = {execution_id, kt_pg_i64(a, *after), kt_pg_i64(m, min)};
    kt_status st;
    PGresult *res = kt_pg_query(s, kt_sql_logs_after, 3, v, &st);
    if (!res)
        return st;
    json_t *out = NULL;
    st = kt_pg_rows_json(res, 1, &out);
    if (!st && PQntuples(res))
        *after = kt_pg_get_i64(res, PQntuples(res) - 1, 0);
    PQclear(res);
    if (!st)
        *out_array = out;
    return st;
}

kt_status kt_pg_logs_page(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *after, int limit,
                          json_t **out_array)
{
    *out_array = NULL;
    const char *v[7];
    char nums[4][24];
    kt_status st = kt_logs_filter(execution_id, f, v, nums);
    if (st)
        return st;
    v[5] = kt_pg_i64(nums[2], *after);
    v[6] = kt_pg_i64(nums[3], limit > 0 ? limit : 1);
    PGresult *res = kt_pg_query(s, kt_sql_logs_page, 7, v, &st);
    if (!res)
        return st;
    st = kt_pg_rows_json(res, 0, out_array);
    if (!st && PQntuples(res))
        *after = kt_pg_get_i64(res, PQntuples(res) - 1, 1);
    PQclear(res);
    return st;
}

kt_status kt_pg_logs_delete(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *count)
{
    const char *v[5];
    char nums[2][24];
    kt_status st = kt_logs_filter(execution_id, f, v, nums);
    if (st)
        return st;
    int64_t n = 0;
    st = kt_pg_command(s, kt_sql_logs_delete, 5, v, &n);
    if (count)
        *count = st ? 0 : n;
    return st;
}

kt_status kt_pg_logs_delete_flow(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id,
                                 int64_t *count)
{
    const char *v[] = {ns, flow_id, trigger_id};
    int64_t n = 0;
    kt_status st = kt_pg_command(s, kt_sql_logs_delete_flow, 3, v, &n);
    if (count)
        *count = st ? 0 : n;
    return st;
}

/* store.log-index on: migration 3's index, or this one when an earlier open dropped it (the operator class from
 * pg_trgm's schema; without pg_trgm nothing is created and the search scans). */
static const char kt_sql_log_index_on[] =
    "DO $$ DECLARE s text; BEGIN"
    "  SELECT extnamespace::regnamespace::text INTO s FROM pg_extension WHERE extname = 'pg_trgm';"
    "  IF s IS NOT NULL AND to_regclass('logs_message_trgm') IS NULL THEN"
    "    EXECUTE format('CREATE INDEX logs_message_trgm ON logs USING gin "
    "      ((body::json->>''message'') %s.gin_trgm_ops)', s);"
    "  END IF;"
    "END $$";

static kt_status kt_pg_log_index_set(kt_store *s, int on)
{
    /* under the migrations' lock (pg.c): nodes starting together do it once, after the schema is there */
    kt_status st = kt_pg_command(s, "BEGIN", 0, NULL, NULL);
    if (!st)
        st = kt_pg_command(s, "SELECT pg_advisory_xact_lock(7366251934)", 0, NULL, NULL);
    if (!st)
        st = kt_pg_command(s, on ? kt_sql_log_index_on : "DROP INDEX IF EXISTS logs_message_trgm", 0, NULL, NULL);
    if (!st)
        st = kt_pg_command(s, "COMMIT", 0, NULL, NULL);
    if (st)
        kt_pg_command(s, "ROLLBACK", 0, NULL, NULL);
    return st;
}

kt_status kt_pg_log_index_apply(kt_store *s, int on, int *present)
{
    *present = 0;
    kt_status st = KT_OK;
    if (on >= 0)
        st = kt_pg_log_index_set(s, on);
    if (st)
        return st;
    PGresult *res = kt_pg_query(s, "SELECT to_regclass('logs_message_trgm') IS NOT NULL", 0, NULL, &st);
    if (!res)
        return st;
    *present = PQntuples(res) == 1 && !strcmp(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    return KT_OK;
}

kt_status kt_pg_logs_search(kt_store *s, const kt_log_query *q, json_t **results, int64_t *total)
{
    *results = NULL;
    *total = 0;
    int min = q->min_level ? kt_store_level_rank(q->min_level) : 0;
    if (min < 0)
        return KT_EINVAL;
    kt_sql w;
    char scratch[512];
    kt_sql_init(&w, kt_sql_postgres.style);
    const char *indexed = q->q && kt_pg_log_indexed(s) && kt_sql_indexable(q->q) ? q->q : NULL;
    kt_sql_log_where(&w, &kt_sql_postgres, q, min, indexed, scratch, sizeof scratch);
    const int join = kt_sql_log_joins(q);
    kt_status st = kt_pg_sql_count(s, join ? "SELECT COUNT(*) FROM logs l JOIN executions e ON e.id = l.execution_id"
                                           : "SELECT COUNT(*) FROM logs l",
                                   &w, total);
    if (st)
        return st;
    kt_sql sel;
    kt_sql_from(&sel, join ? "SELECT l.body FROM logs l JOIN executions e ON e.id = l.execution_id"
                           : "SELECT l.body FROM logs l",
                &w);
    kt_sql_add(&sel, q->sort_desc ? " ORDER BY l.timestamp_us DESC, l.seq DESC" : " ORDER BY l.timestamp_us, l.seq");
    kt_sql_page(&sel, q->page, q->size);
    PGresult *res = kt_pg_sql_query(s, &sel, &st);
    if (!res)
        return st;
    st = kt_pg_rows_json(res, 0, results);
    PQclear(res);
    return st;
}
