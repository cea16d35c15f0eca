/* The task cache's rows on either backend (see task_cache.h): the statements are the same, the connection is the
 * backend's (sqlite_int.h, pg_int.h). */
#include "store/task_cache.h"
#include "store/pg_int.h"
#include "store/sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sq_get[] = "SELECT outputs, created_us FROM task_cache WHERE namespace = ? AND flow_id = ? AND "
                             "cache_key = ?";
static const char sq_put[] = "INSERT OR REPLACE INTO task_cache(namespace, flow_id, cache_key, outputs, created_us) "
                             "VALUES(?, ?, ?, ?, ?)";
static const char sq_del[] = "DELETE FROM task_cache WHERE namespace = ? AND flow_id = ? AND cache_key = ?";
static const char pg_get[] = "SELECT outputs, created_us FROM task_cache WHERE namespace = $1 AND flow_id = $2 AND "
                             "cache_key = $3";
static const char pg_put[] = "INSERT INTO task_cache(namespace, flow_id, cache_key, outputs, created_us) "
                             "VALUES($1, $2, $3, $4, $5) ON CONFLICT (namespace, flow_id, cache_key) DO UPDATE SET "
                             "outputs = EXCLUDED.outputs, created_us = EXCLUDED.created_us";
static const char pg_del[] = "DELETE FROM task_cache WHERE namespace = $1 AND flow_id = $2 AND cache_key = $3";

static int is_sqlite(const kt_store *s) { return s->ops == &kt_sqlite_ops; }

/* The statement with the key's three values bound (SQLite), NULL when it could not be prepared. */
static sqlite3_stmt *sq_bind(kt_store *s, const char *sql, const char *ns, const char *flow_id, const char *key)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, sql);
    if (!st)
        return NULL;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, flow_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
    return st;
}

kt_status kt_store_task_cache_get(kt_store *s, const char *ns, const char *flow_id, const char *key, json_t **outputs,
                                  int64_t *created_us)
{
    *outputs = NULL;
    const char *text = NULL;
    int64_t at = 0;
    kt_status st = KT_OK;
    PGresult *res = NULL;
    sqlite3_stmt *q = NULL;
    if (is_sqlite(s)) {
        if (!(q = sq_bind(s, sq_get, ns, flow_id, key)))
            return KT_EDB;
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            text = (const char *)sqlite3_column_text(q, 0);
            at = sqlite3_column_int64(q, 1);
        } else if (rc != SQLITE_DONE) {
            st = KT_EDB;
        }
    } else {
        const char *v[3] = {ns, flow_id, key};
        if (!(res = kt_pg_query(s, pg_get, 3, v, &st)))
            return st ? st : KT_EDB;
        if (PQntuples(res) > 0) {
            text = PQgetvalue(res, 0, 0);
            at = kt_pg_get_i64(res, 0, 1);
        }
    }
    if (!st && !text)
        st = KT_ENOTFOUND;
    if (!st) {
        *outputs = json_loads(text, JSON_DECODE_ANY, NULL);
        *created_us = at;
        if (!*outputs)
            st = KT_EDB;
    }
    if (q)
        sqlite3_reset(q);
    PQclear(res);
    return st;
}

kt_status kt_store_task_cache_put(kt_store *s, const char *ns, const char *flow_id, const char *key,
                                  const json_t *outputs, int64_t now_us)
{
    char *text = outputs ? json_dumps(outputs, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("{}");
    if (!text)
        return KT_ENOMEM;
    kt_status st = KT_OK;
    if (is_sqlite(s)) {
        sqlite3_stmt *q = sq_bind(s, sq_put, ns, flow_id, key);
        if (q) {
            sqlite3_bind_text(q, 4, text, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 5, now_us);
            st = sqlite3_step(q) == SQLITE_DONE ? KT_OK : KT_EDB;
            sqlite3_reset(q);
        } else {
            st = KT_EDB;
        }
    } else {
        char at[24];
        const char *v[5] = {ns, flow_id, key, text, kt_pg_i64(at, now_us)};
        PGresult *res = kt_pg_query(s, pg_put, 5, v, &st);
        if (!res && !st)
            st = KT_EDB;
        PQclear(res);
    }
    free(text);
    return st;
}

kt_status kt_store_task_cache_delete(kt_store *s, const char *ns, const char *flow_id, const char *key)
{
    kt_status st = KT_OK;
    if (is_sqlite(s)) {
        sqlite3_stmt *q = sq_bind(s, sq_del, ns, flow_id, key);
        st = q && sqlite3_step(q) == SQLITE_DONE ? KT_OK : KT_EDB;
        if (q)
            sqlite3_reset(q);
    } else {
        const char *v[3] = {ns, flow_id, key};
        PGresult *res = kt_pg_query(s, pg_del, 3, v, &st);
        if (!res && !st)
            st = KT_EDB;
        PQclear(res);
    }
    return st;
}
