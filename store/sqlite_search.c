/* Searches of the SQLite store: statements built from the filters given, every value bound, never spliced. */
#include "store/sqlite_int.h"
#include "store/sql_build.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const kt_sql_dialect kt_sql_sqlite = {
    .style = KT_SQL_QMARK,
    .like = "LIKE", /* folds ASCII case only: Kestra's likeIgnoreCase */
    .contains = "instr(%s, ?) > 0",
    .has_label = " AND EXISTS (SELECT 1 FROM json_each(executions.labels) l WHERE "
                 "json_extract(l.value, '$.key') = ? AND json_extract(l.value, '$.value') = ?)",
    .log_message = "json_extract(l.body, '$.message')",
    .log_trigger = "json_extract(l.body, '$.triggerId')",
    /* logs_fts (sqlite_fts.c, store.log-index): ? is kt_sqlite_log_match's expression, the lines holding each of
     * the value's trigrams */
    .log_message_indexed = " AND l.seq IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)",
    .int_cast = "",
    /* flows_fts (migration 8) folds case (Unicode's folding: more than ASCII's, so a superset of what LIKE then
     * keeps); LIKE folds ASCII only */
    .flow_source_indexed = " AND (f.namespace, f.id, f.revision) IN (SELECT namespace, id, revision FROM flows_fts "
                           "WHERE flows_fts MATCH '\"' || replace(?, '\"', '\"\"') || '\"')",
    .flow_source_contains = " AND f.source LIKE " KT_SQL_LIKE_CONTAINS " ESCAPE '\\'",
};

void kt_sqlite_sql_bind(const kt_sql *q, sqlite3_stmt *st)
{
    for (int i = 0; i < q->nargs; i++) {
        if (q->args[i].is_int)
            sqlite3_bind_int64(st, i + 1, q->args[i].i);
        else
            sqlite3_bind_text(st, i + 1, q->args[i].s, -1, SQLITE_TRANSIENT);
    }
}

/* `count_sql` (SELECT COUNT(*) FROM t) with the WHERE clause and arguments of w: the total of a paged search. */
kt_status kt_sqlite_sql_count(sqlite3 *db, const char *count_sql, const kt_sql *w, int64_t *total)
{
    kt_sql count;
    kt_sql_from(&count, count_sql, w);
    sqlite3_stmt *st = NULL;
    *total = 0;
    if (count.overflow)
        return KT_EINVAL;
    if (sqlite3_prepare_v2(db, count.text, -1, &st, NULL) != SQLITE_OK)
        return KT_EDB;
    kt_sqlite_sql_bind(&count, st);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *total = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? KT_OK : KT_EDB;
}

kt_status kt_sqlite_executions_search(kt_store *s, const kt_exec_query *q, json_t **results, int64_t *total)
{
    sqlite3 *db = kt_sqlite_db(s);
    kt_sql w;
    char scratch[512];
    kt_sql_init(&w, kt_sql_sqlite.style);
    kt_sql_exec_where(&w, &kt_sql_sqlite, q, scratch, sizeof scratch);
    kt_status r = kt_sqlite_sql_count(db, "SELECT COUNT(*) FROM executions", &w, total);
    if (r)
        return r;
    sqlite3_stmt *st = NULL;

    kt_sql sel;
    kt_sql_from(&sel, "SELECT body, id FROM executions", &w);
    char order[256];
    /* the column comes from kt_exec_sorts, never from the request */
    snprintf(order, sizeof order, " ORDER BY %s %s, id %s", q->sort_column ? q->sort_column : "start_us",
             q->sort_desc ? "DESC" : "ASC", q->sort_desc ? "DESC" : "ASC");
    kt_sql_add(&sel, order);
    kt_sql_page(&sel, q->page, q->size);
    if (sel.overflow)
        return KT_EINVAL;
    if (sqlite3_prepare_v2(db, sel.text, -1, &st, NULL) != SQLITE_OK)
        return KT_EDB;
    kt_sqlite_sql_bind(&sel, st);
    json_t *list = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *ex;
        if (kt_sqlite_exec_row(s, st, &ex) == KT_OK)
            json_array_append_new(list, ex);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return KT_EDB;
    }
    *results = list;
    return KT_OK;
}

kt_status kt_sqlite_flow_namespaces(kt_store *s, json_t **out)
{
    static const char sql[] = "SELECT DISTINCT f.namespace FROM flows f WHERE f.deleted = 0 AND f.revision = "
                              "(SELECT MAX(revision) FROM flows g WHERE g.namespace = f.namespace AND g.id = f.id) "
                              "ORDER BY f.namespace";
    sqlite3_stmt *st = kt_sqlite_prepared(s, sql);
    *out = NULL;
    if (!st)
        return KT_EDB;
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, json_string((const char *)sqlite3_column_text(st, 0)));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return KT_EDB;
    }
    *out = arr;
    return KT_OK;
}

/* The latest live revisions under ns_prefix whose id or namespace holds q (kt_store_flows_latest), or whose source
 * holds each of the n words (kt_store_flows_source_search). */
static kt_status kt_sqlite_flows_query(kt_store *s, const char *ns_prefix, const char *q, const char *const *words,
                                       size_t n, json_t **rows)
{
    kt_sql sql;
    char scratch[512];
    *rows = NULL;
    kt_sql_init(&sql, KT_SQL_QMARK);
    kt_sql_add(&sql, "SELECT f.namespace, f.id, f.revision, f.source, f.dialect FROM flows f WHERE f.deleted = 0 AND "
                     "f.revision = "
                     "(SELECT MAX(revision) FROM flows g WHERE g.namespace = f.namespace AND g.id = f.id)");
    if (ns_prefix)
        kt_sql_ns_under(&sql, &kt_sql_sqlite, "f.namespace", ns_prefix, scratch, sizeof scratch);
    if (q) {
        static const char *const cols[] = {"f.id", "f.namespace", NULL};
        kt_sql_contains_any(&sql, &kt_sql_sqlite, cols, q);
    }
    kt_sql_flow_source_where(&sql, &kt_sql_sqlite, words, n);
    kt_sql_add(&sql, " ORDER BY f.namespace, f.id");
    if (sql.overflow)
        return KT_EINVAL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(kt_sqlite_db(s), sql.text, -1, &st, NULL) != SQLITE_OK)
        return KT_EDB;
    kt_sqlite_sql_bind(&sql, st);
    json_t *out = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(out, json_pack("{s:s, s:s, s:i, s:s, s:s}", "namespace", (const char *)sqlite3_column_text(st, 0),
                                             "id", (const char *)sqlite3_column_text(st, 1), "revision",
                                             sqlite3_column_int(st, 2), "source", (const char *)sqlite3_column_text(st, 3),
                                             "dialect", kt_store_dialect_text((const char *)sqlite3_column_text(st, 4))));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(out);
        return KT_EDB;
    }
    *rows = out;
    return KT_OK;
}

kt_status kt_sqlite_flows_latest(kt_store *s, const char *ns_prefix, const char *q, json_t **rows)
{
    return kt_sqlite_flows_query(s, ns_prefix, q, NULL, 0, rows);
}

kt_status kt_sqlite_flows_source_search(kt_store *s, const char *ns_prefix, const char *const *words, size_t n,
                                        json_t **rows)
{
    return kt_sqlite_flows_query(s, ns_prefix, NULL, words, n, rows);
}

kt_status kt_sqlite_logs_after(kt_store *s, const char *execution_id, const char *min_level, int64_t *after,
                              json_t **out_array)
{
    int min = min_level ? kt_store_level_rank(min_level) : 0;
    if (min < 0)
        return KT_EINVAL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(kt_sqlite_db(s),
                           "SELECT seq, body FROM logs WHERE execution_id = ?1 AND seq > ?2 AND level >= ?3 ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return KT_EDB;
    sqlite3_bind_text(st, 1, execution_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, *after);
    sqlite3_bind_int(st, 3, min);
    json_t *out = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *after = sqlite3_column_int64(st, 0);
        json_t *e = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
        if (e)
            json_array_append_new(out, e);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(out);
        return KT_EDB;
    }
    *out_array = out;
    return KT_OK;
}

/* ---- trigger rows -------------------------------------------------------------------------------- */

kt_status kt_sqlite_triggers_search(kt_store *s, const kt_trigger_query *q, json_t **results, int64_t *total)
{
    sqlite3 *db = kt_sqlite_db(s);
    kt_sql w;
    char scratch[512];
    kt_sql_init(&w, kt_sql_sqlite.style);
    kt_sql_trigger_where(&w, &kt_sql_sqlite, q, scratch, sizeof scratch);
    kt_status r = kt_sqlite_sql_count(db, "SELECT COUNT(*) FROM triggers", &w, total);
    if (r)
        return r;
    sqlite3_stmt *st;

    const char *column = kt_store_trigger_sort_column(q->sort_column);
    const char *dir = q->sort_desc ? "DESC" : "ASC";
    char order[256];
    /* the key after the sort column makes the order total, so pages never overlap */
    if (column)
        snprintf(order, sizeof order, " ORDER BY %s %s, namespace %s, flow_id %s, trigger_id %s", column, dir, dir,
                 dir, dir);
    else
        snprintf(order, sizeof order, " ORDER BY namespace, flow_id, trigger_id");
    kt_sql sel;
    kt_sql_from(&sel, "SELECT body FROM triggers", &w);
    kt_sql_add(&sel, order);
    kt_sql_page(&sel, q->page, q->size);
    if (sel.overflow)
        return KT_EINVAL;
    if (sqlite3_prepare_v2(db, sel.text, -1, &st, NULL) != SQLITE_OK)
        return KT_EDB;
    kt_sqlite_sql_bind(&sel, st);
    r = kt_sqlite_rows_json(st, 0, results);
    sqlite3_finalize(st);
    return r;
}
