/* The log queries of the SQLite store beyond one execution's whole list (sqlite.c): pages for streamed downloads, the
 * search across executions, and deletions by execution filter or by flow. A line's namespace and flow are its
 * execution's (the logs table keys lines by execution): filters on them join the executions table, by its index. */
#include "store/sqlite_int.h"
#include "store/sql_build.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* The execution filter of kt_store_logs_get, shared by its page and its deletion: ?1 execution, ?2 minimum level,
 * ?3 task id, ?4 task run id, ?5 attempt (Kestra: taskId wins over taskRunId; attempt only with taskRunId). */
#define KT_LOGS_OF_EXECUTION                                                                                        \
    "execution_id=?1 AND level>=?2 AND (?3 IS NULL OR task_id=?3) AND (?4 IS NULL OR taskrun_id=?4) AND "          \
    "(?5 < 0 OR attempt=?5)"

static const char kt_sql_logs_page[] = "SELECT body, seq FROM logs WHERE " KT_LOGS_OF_EXECUTION
                                       " AND seq > ?6 ORDER BY seq LIMIT ?7";
static const char kt_sql_logs_delete[] = "DELETE FROM logs WHERE " KT_LOGS_OF_EXECUTION;
static const char kt_sql_logs_delete_flow[] =
    "DELETE FROM logs WHERE execution_id IN (SELECT id FROM executions WHERE namespace=?1 AND flow_id=?2) AND "
    "(?3 IS NULL OR json_extract(body, '$.triggerId') = ?3)";

static kt_status kt_logs_bind_filter(sqlite3_stmt *st, const char *execution_id, const kt_log_filter *f)
{
    int min = f && f->min_level ? kt_store_level_rank(f->min_level) : 0;
    if (min < 0)
        return KT_EINVAL;
    sqlite3_bind_text(st, 1, execution_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, min);
    if (f && f->task_id)
        sqlite3_bind_text(st, 3, f->task_id, -1, SQLITE_STATIC);
    else if (f && f->taskrun_id)
        sqlite3_bind_text(st, 4, f->taskrun_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, f && !f->task_id && f->taskrun_id ? f->attempt : -1);
    return KT_OK;
}

kt_status kt_sqlite_logs_page(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *after, int limit,
                             json_t **out_array)
{
    *out_array = NULL;
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_logs_page);
    if (!st)
        return KT_EDB;
    kt_status r = kt_logs_bind_filter(st, execution_id, f);
    if (r) {
        sqlite3_reset(st);
        return r;
    }
    sqlite3_bind_int64(st, 6, *after);
    sqlite3_bind_int(st, 7, limit > 0 ? limit : 1);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *e = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        if (e)
            json_array_append_new(arr, e);
        *after = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return KT_EDB;
    }
    *out_array = arr;
    return KT_OK;
}

static kt_status kt_logs_run_delete(kt_store *s, sqlite3_stmt *st, int64_t *count)
{
    int rc = sqlite3_step(st);
    if (count)
        *count = rc == SQLITE_DONE ? sqlite3_changes64(kt_sqlite_db(s)) : 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? KT_OK : KT_EDB;
}

kt_status kt_sqlite_logs_delete(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *count)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_logs_delete);
    if (!st)
        return KT_EDB;
    kt_status r = kt_logs_bind_filter(st, execution_id, f);
    if (r) {
        sqlite3_reset(st);
        return r;
    }
    return kt_logs_run_delete(s, st, count);
}

kt_status kt_sqlite_logs_delete_flow(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id,
                                    int64_t *count)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_logs_delete_flow);
    if (!st)
        return KT_EDB;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, flow_id, -1, SQLITE_STATIC);
    if (trigger_id)
        sqlite3_bind_text(st, 3, trigger_id, -1, SQLITE_STATIC);
    return kt_logs_run_delete(s, st, count);
}

/* The search: the WHERE clause both backends share (store/sql_build.c), every value bound; logs_fts (store.log-index
 * on) narrows a message search of 3 characters or more to the lines holding its trigrams. */
kt_status kt_sqlite_logs_search(kt_store *s, const kt_log_query *q, json_t **results, int64_t *total)
{
    *results = NULL;
    *total = 0;
    int min = q->min_level ? kt_store_level_rank(q->min_level) : 0;
    if (min < 0)
        return KT_EINVAL;
    kt_sql w;
    char scratch[512], match[640];
    const char *indexed = q->q && kt_sqlite_log_indexed(s) && kt_sql_indexable(q->q) &&
                                  !kt_sqlite_log_match(q->q, match, sizeof match)
                              ? match
                              : NULL;
    kt_sql_init(&w, kt_sql_sqlite.style);
    kt_sql_log_where(&w, &kt_sql_sqlite, q, min, indexed, scratch, sizeof scratch);
    const int join = kt_sql_log_joins(q);
    sqlite3 *db = kt_sqlite_db(s);
    kt_status r = kt_sqlite_sql_count(
        db, join ? "SELECT COUNT(*) FROM logs l JOIN executions e ON e.id = l.execution_id" : "SELECT COUNT(*) FROM logs l",
        &w, total);
    if (r)
        return r;
    kt_sql sel;
    kt_sql_from(&sel, join ? "SELECT l.body FROM logs l JOIN executions e ON e.id = l.execution_id"
                           : "SELECT l.body FROM logs l",
                &w);
    kt_sql_add(&sel, q->sort_desc ? " ORDER BY l.timestamp_us DESC, l.seq DESC" : " ORDER BY l.timestamp_us, l.seq");
    kt_sql_page(&sel, q->page, q->size);
    if (sel.overflow)
        return KT_EINVAL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sel.text, -1, &st, NULL) != SQLITE_OK)
        return KT_EDB;
    kt_sqlite_sql_bind(&sel, st);
    r = kt_sqlite_rows_json(st, 0, results);
    sqlite3_finalize(st);
    return r;
}
