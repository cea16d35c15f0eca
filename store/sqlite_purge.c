/* Counting and purging executions and logs by query (store.h "counts and purges"): the execution.Count,
 * log.PurgeLogs and execution.PurgeExecutions tasks. Rare calls: each statement is prepared and finalized on the
 * spot rather than held in the connection's cache. Filters: NULL (or 0 for dates) is "any"; a list filter is passed
 * to SQL as one comma-joined text, so every call is one fixed statement. */
#include "store/sqlite_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define KT_EXEC_FILTER                                                                                               \
    "(?1 IS NULL OR namespace=?1) AND (?2 IS NULL OR flow_id=?2) AND (?3 = 0 OR start_us >= ?3) AND "                \
    "(?4 = 0 OR start_us <= ?4) AND (?5 IS NULL OR instr(',' || ?5 || ',', ',' || state || ',') > 0)"

static const char kt_sql_count[] = "SELECT count(*) FROM executions WHERE " KT_EXEC_FILTER;
/* ties in creation order (rowid), as pg_purge.c orders them */
static const char kt_sql_match[] = "SELECT id, namespace, flow_id, state FROM executions WHERE " KT_EXEC_FILTER
                                   " ORDER BY start_us, rowid";
static const char kt_sql_logs_purge[] =
    "DELETE FROM logs WHERE (?3 = 0 OR timestamp_us >= ?3) AND (?4 = 0 OR timestamp_us <= ?4) AND "
    "(?5 IS NULL OR instr(',' || ?5 || ',', ',' || level || ',') > 0) AND ((?1 IS NULL AND ?2 IS NULL) OR "
    "execution_id IN (SELECT id FROM executions WHERE (?1 IS NULL OR namespace=?1) AND (?2 IS NULL OR flow_id=?2)))";
static const char kt_sql_logs_of[] = "DELETE FROM logs WHERE execution_id=?1";
static const char kt_sql_runs_of[] = "DELETE FROM taskruns WHERE execution_id=?1";
static const char kt_sql_exec_del[] = "DELETE FROM executions WHERE id=?1";

static sqlite3_stmt *kt_prep(kt_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(kt_sqlite_db(s), sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static void kt_bind_query(sqlite3_stmt *st, const kt_store_purge_query *q)
{
    if (q->namespace_)
        sqlite3_bind_text(st, 1, q->namespace_, -1, SQLITE_STATIC);
    if (q->flow_id)
        sqlite3_bind_text(st, 2, q->flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, q->from_us);
    sqlite3_bind_int64(st, 4, q->to_us);
    if (q->list)
        sqlite3_bind_text(st, 5, q->list, -1, SQLITE_STATIC);
}

kt_status kt_sqlite_executions_count(kt_store *s, const kt_store_purge_query *q, int64_t *count)
{
    sqlite3_stmt *st = kt_prep(s, kt_sql_count);
    if (!st)
        return KT_EDB;
    kt_bind_query(st, q);
    kt_status r = sqlite3_step(st) == SQLITE_ROW ? KT_OK : KT_EDB;
    *count = r ? 0 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return r;
}

kt_status kt_sqlite_executions_match(kt_store *s, const kt_store_purge_query *q, json_t **out)
{
    sqlite3_stmt *st = kt_prep(s, kt_sql_match);
    *out = NULL;
    if (!st)
        return KT_EDB;
    kt_bind_query(st, q);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "id", (const char *)sqlite3_column_text(st, 0),
                                             "namespace", (const char *)sqlite3_column_text(st, 1), "flowId",
                                             (const char *)sqlite3_column_text(st, 2), "state",
                                             (const char *)sqlite3_column_text(st, 3)));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return KT_EDB;
    }
    *out = arr;
    return KT_OK;
}

static kt_status kt_delete_by_id(kt_store *s, const char *sql, const char *id, int64_t *changes)
{
    sqlite3_stmt *st = kt_prep(s, sql);
    if (!st)
        return KT_EDB;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    kt_status r = sqlite3_step(st) == SQLITE_DONE ? KT_OK : KT_EDB;
    if (!r && changes)
        *changes += sqlite3_changes64(kt_sqlite_db(s));
    sqlite3_finalize(st);
    return r;
}

kt_status kt_sqlite_logs_purge(kt_store *s, const kt_store_purge_query *q, int64_t *count)
{
    sqlite3_stmt *st = kt_prep(s, kt_sql_logs_purge);
    *count = 0;
    if (!st)
        return KT_EDB;
    kt_bind_query(st, q);
    kt_status r = sqlite3_step(st) == SQLITE_DONE ? KT_OK : KT_EDB;
    if (!r)
        *count = sqlite3_changes64(kt_sqlite_db(s));
    sqlite3_finalize(st);
    return r;
}

kt_status kt_sqlite_execution_purge(kt_store *s, const char *id, int execution, int logs, int64_t *logs_deleted)
{
    kt_status r = KT_OK;
    if (logs)
        r = kt_delete_by_id(s, kt_sql_logs_of, id, logs_deleted);
    if (!r && execution)
        r = kt_delete_by_id(s, kt_sql_runs_of, id, NULL);
    if (!r && execution)
        r = kt_delete_by_id(s, kt_sql_exec_del, id, NULL);
    return r;
}
