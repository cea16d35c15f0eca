/* The scheduler's rows in the SQLite store (store/store.h): triggers (Kestra's Trigger JSON, KESTRA-execution.md
 * §5.2), multiple-condition windows (§5.8) and the notices of execution changes it has to see. Each row keeps the entity as JSON text and, beside it, the columns
 * the scheduler and the API look rows up by. The search of trigger rows is in sqlite_search.c. */
#include "store/sqlite_int.h"
#include "base/assert.h"
#include "base/clock.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>


static const char kt_sql_trigger_put[] =
    "INSERT INTO triggers(namespace, flow_id, trigger_id, next_execution_date, execution_id, worker_id, body) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(namespace, flow_id, trigger_id) DO UPDATE SET "
    "next_execution_date=excluded.next_execution_date, execution_id=excluded.execution_id, "
    "worker_id=excluded.worker_id, body=excluded.body";
/* A row made from nothing: never over one another scheduler wrote meanwhile (kt_store_trigger_insert). */
static const char kt_sql_trigger_insert[] =
    "INSERT INTO triggers(namespace, flow_id, trigger_id, next_execution_date, execution_id, worker_id, body) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(namespace, flow_id, trigger_id) DO NOTHING";
static const char kt_sql_trigger_get[] = "SELECT body FROM triggers WHERE namespace=?1 AND flow_id=?2 AND trigger_id=?3";
static const char kt_sql_trigger_delete[] = "DELETE FROM triggers WHERE namespace=?1 AND flow_id=?2 AND trigger_id=?3";
static const char kt_sql_triggers_all[] = "SELECT body FROM triggers ORDER BY namespace, flow_id, trigger_id";
static const char kt_sql_triggers_ns[] =
    "SELECT body FROM triggers WHERE namespace=?1 ORDER BY namespace, flow_id, trigger_id";
static const char kt_sql_triggers_flow[] =
    "SELECT body FROM triggers WHERE namespace=?1 AND flow_id=?2 ORDER BY namespace, flow_id, trigger_id";
static const char kt_sql_window_put[] =
    "INSERT INTO windows(namespace, flow_id, condition_id, end_us, body) VALUES(?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT(namespace, flow_id, condition_id) DO UPDATE SET end_us=excluded.end_us, body=excluded.body";
static const char kt_sql_window_insert[] =
    "INSERT INTO windows(namespace, flow_id, condition_id, end_us, body) VALUES(?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT(namespace, flow_id, condition_id) DO NOTHING";
static const char kt_sql_window_get[] = "SELECT body FROM windows WHERE namespace=?1 AND flow_id=?2 AND condition_id=?3";
static const char kt_sql_window_delete[] = "DELETE FROM windows WHERE namespace=?1 AND flow_id=?2 AND condition_id=?3";
static const char kt_sql_windows_expire[] = "DELETE FROM windows WHERE end_us < ?1";

static const char *kt_member(const json_t *j, const char *name)
{
    const char *v = json_string_value(json_object_get(j, name));
    return v && *v ? v : NULL;
}

/* Runs a statement that returns nothing. */
static kt_status kt_run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? KT_OK : KT_EDB;
}

/* The one row of a keyed SELECT body as JSON: KT_ENOTFOUND when there is none. */
static kt_status kt_one_body(sqlite3_stmt *st, json_t **out)
{
    int rc = sqlite3_step(st);
    kt_status r = KT_OK;
    if (rc == SQLITE_ROW) {
        *out = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        r = *out ? KT_OK : KT_EDB; /* a row that no longer reads is the store's problem, not the caller's */
    } else {
        r = rc == SQLITE_DONE ? KT_ENOTFOUND : KT_EDB;
    }
    sqlite3_reset(st);
    return r;
}

static void kt_bind_key(sqlite3_stmt *st, const char *a, const char *b, const char *c)
{
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c, -1, SQLITE_STATIC);
}

/* ---- triggers ------------------------------------------------------------------------------------ */

/* The upsert (put) or the insert-if-absent (insert) of a trigger row: *changed = whether a row was written. */
static kt_status kt_sqlite_trigger_write(kt_store *s, const char *sql, const json_t *trigger, int *changed)
{
    const char *ns = kt_member(trigger, "namespace"), *flow = kt_member(trigger, "flowId");
    const char *id = kt_member(trigger, "triggerId"), *next = kt_member(trigger, "nextExecutionDate");
    int64_t next_us = 0;
    if (!ns || !flow || !id || (next && kt_time_parse(next, &next_us)))
        return KT_EINVAL;
    char *body = json_dumps(trigger, JSON_COMPACT);
    if (!body)
        return KT_ENOMEM;
    sqlite3_stmt *st = kt_sqlite_prepared(s, sql);
    if (!st) {
        free(body);
        return KT_EDB;
    }
    kt_bind_key(st, ns, flow, id);
    if (next)
        sqlite3_bind_int64(st, 4, next_us);
    sqlite3_bind_text(st, 5, kt_member(trigger, "executionId"), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, kt_member(trigger, "workerId"), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, body, -1, free);
    kt_status r = kt_run(st);
    *changed = r == KT_OK && sqlite3_changes(kt_sqlite_db(s)) > 0;
    return r;
}

kt_status kt_sqlite_trigger_put(kt_store *s, const json_t *trigger)
{
    int changed;
    return kt_sqlite_trigger_write(s, kt_sql_trigger_put, trigger, &changed);
}

kt_status kt_sqlite_trigger_insert(kt_store *s, const json_t *trigger)
{
    int changed = 0;
    kt_status r = kt_sqlite_trigger_write(s, kt_sql_trigger_insert, trigger, &changed);
    return r == KT_OK && !changed ? KT_ECONFLICT : r;
}

kt_status kt_sqlite_trigger_get(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_trigger_get);
    if (!st)
        return KT_EDB;
    kt_bind_key(st, ns, flow_id, trigger_id);
    return kt_one_body(st, out);
}

/* One writer at a time (BEGIN IMMEDIATE): the transaction the caller holds is the claim. */
kt_status kt_sqlite_trigger_claim(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out)
{
    KT_ASSERTF(!sqlite3_get_autocommit(kt_sqlite_db(s)), "a claim belongs in a transaction");
    return kt_sqlite_trigger_get(s, ns, flow_id, trigger_id, out);
}

kt_status kt_sqlite_trigger_delete(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_trigger_delete);
    if (!st)
        return KT_EDB;
    kt_bind_key(st, ns, flow_id, trigger_id);
    return kt_run(st);
}

static const char kt_sql_trigger_fp[] =
    "SELECT definition FROM triggers WHERE namespace=?1 AND flow_id=?2 AND trigger_id=?3";
static const char kt_sql_trigger_set_fp[] =
    "UPDATE triggers SET definition=?4 WHERE namespace=?1 AND flow_id=?2 AND trigger_id=?3";

kt_status kt_sqlite_trigger_fingerprint(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id,
                                       char **out)
{
    *out = NULL;
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_trigger_fp);
    if (!st)
        return KT_EDB;
    kt_bind_key(st, ns, flow_id, trigger_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
        *out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? KT_OK : rc == SQLITE_DONE ? KT_ENOTFOUND : KT_EDB;
}

kt_status kt_sqlite_trigger_set_fingerprint(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id,
                                           const char *fingerprint)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_trigger_set_fp);
    if (!st)
        return KT_EDB;
    kt_bind_key(st, ns, flow_id, trigger_id);
    sqlite3_bind_text(st, 4, fingerprint, -1, SQLITE_STATIC);
    return kt_run(st);
}

kt_status kt_sqlite_triggers_list(kt_store *s, const char *ns, const char *flow_id, json_t **out_array)
{
    const char *sql = flow_id ? kt_sql_triggers_flow : ns ? kt_sql_triggers_ns : kt_sql_triggers_all;
    sqlite3_stmt *st = kt_sqlite_prepared(s, sql);
    if (!st)
        return KT_EDB;
    if (ns)
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    if (flow_id)
        sqlite3_bind_text(st, 2, flow_id, -1, SQLITE_STATIC);
    kt_status r = kt_sqlite_rows_json(st, 0, out_array);
    sqlite3_reset(st);
    return r;
}

/* ---- multiple-condition windows ----------------------------------------------------------------- */

kt_status kt_sqlite_window_get(kt_store *s, const char *ns, const char *flow_id, const char *condition_id, json_t **out)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_window_get);
    if (!st)
        return KT_EDB;
    kt_bind_key(st, ns, flow_id, condition_id);
    return kt_one_body(st, out);
}

/* One writer at a time (BEGIN IMMEDIATE): the transaction the caller holds is the claim. */
kt_status kt_sqlite_window_claim(kt_store *s, const char *ns, const char *flow_id, const char *condition_id,
                                 json_t **out)
{
    KT_ASSERTF(!sqlite3_get_autocommit(kt_sqlite_db(s)), "a claim belongs in a transaction");
    return kt_sqlite_window_get(s, ns, flow_id, condition_id, out);
}

static kt_status kt_sqlite_window_write(kt_store *s, const char *sql, const json_t *window, int *changed)
{
    const char *ns = kt_member(window, "namespace"), *flow = kt_member(window, "flowId");
    const char *cond = kt_member(window, "conditionId"), *end = kt_member(window, "end");
    int64_t end_us;
    if (!ns || !flow || !cond || !end || kt_time_parse(end, &end_us))
        return KT_EINVAL;
    char *body = json_dumps(window, JSON_COMPACT);
    if (!body)
        return KT_ENOMEM;
    sqlite3_stmt *st = kt_sqlite_prepared(s, sql);
    if (!st) {
        free(body);
        return KT_EDB;
    }
    kt_bind_key(st, ns, flow, cond);
    sqlite3_bind_int64(st, 4, end_us);
    sqlite3_bind_text(st, 5, body, -1, free);
    kt_status r = kt_run(st);
    *changed = r == KT_OK && sqlite3_changes(kt_sqlite_db(s)) > 0;
    return r;
}

kt_status kt_sqlite_window_put(kt_store *s, const json_t *window)
{
    int changed;
    return kt_sqlite_window_write(s, kt_sql_window_put, window, &changed);
}

kt_status kt_sqlite_window_insert(kt_store *s, const json_t *window)
{
    int changed = 0;
    kt_status r = kt_sqlite_window_write(s, kt_sql_window_insert, window, &changed);
    return r == KT_OK && !changed ? KT_ECONFLICT : r;
}

kt_status kt_sqlite_window_delete(kt_store *s, const char *ns, const char *flow_id, const char *condition_id)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_window_delete);
    if (!st)
        return KT_EDB;
    kt_bind_key(st, ns, flow_id, condition_id);
    return kt_run(st);
}

kt_status kt_sqlite_windows_expire(kt_store *s, int64_t now_us)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_windows_expire);
    if (!st)
        return KT_EDB;
    sqlite3_bind_int64(st, 1, now_us);
    return kt_run(st);
}

/* ---- notices ---------------------------------------------------------------------------------------- */

static const char kt_sql_notice_add[] = "INSERT INTO notices(execution_id, state) VALUES (?1, ?2)";
/* One notice, the oldest: two of the same (execution, state) are two changes (a restarted execution failing again,
 * RUNNING after a pause), each to be acted on. */
static const char kt_sql_notice_done[] = "DELETE FROM notices WHERE seq = (SELECT seq FROM notices "
                                         "WHERE execution_id = ?1 AND state = ?2 ORDER BY seq LIMIT 1)";
static const char kt_sql_notices[] =
    "SELECT json_object('executionId', execution_id, 'state', state) FROM notices ORDER BY seq";

kt_status kt_sqlite_notice_add(kt_store *s, const char *execution_id, const char *state)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_notice_add);
    if (!st)
        return KT_EDB;
    sqlite3_bind_text(st, 1, execution_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    return kt_run(st);
}

kt_status kt_sqlite_notice_done(kt_store *s, const char *execution_id, const char *state)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_notice_done);
    if (!st)
        return KT_EDB;
    sqlite3_bind_text(st, 1, execution_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    return kt_run(st);
}

kt_status kt_sqlite_notice_take(kt_store *s, const char *execution_id, const char *state, int *taken)
{
    *taken = 0;
    kt_status r = kt_sqlite_notice_done(s, execution_id, state);
    if (r == KT_OK)
        *taken = sqlite3_changes(kt_sqlite_db(s)) > 0;
    return r;
}

kt_status kt_sqlite_notices(kt_store *s, json_t **out_array)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_notices);
    if (!st)
        return KT_EDB;
    kt_status r = kt_sqlite_rows_json(st, 0, out_array);
    sqlite3_reset(st);
    return r;
}
