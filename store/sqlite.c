/* SQLite backend of store/store.h: WAL, one connection on the loop thread, prepared statements. */
#include "store/sqlite_int.h"
#include "store/task_cache.h"
#include "store/exec_row.h"
#include "base/assert.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

enum {
    KT_SQL_FLOW_LAST,
    KT_SQL_FLOW_REV,
    KT_SQL_FLOW_INSERT,
    KT_SQL_FLOW_IDS,
    KT_SQL_EXEC_PUT,
    KT_SQL_EXEC_GET,
    KT_SQL_EXEC_UNFINISHED,
    KT_SQL_TASKRUN_PUT,
    KT_SQL_TASKRUN_GET,
    KT_SQL_TASKRUN_TRIM,
    KT_SQL_LOG_INSERT,
    KT_SQL_LOG_GET,
    KT_SQL_COUNT
};

static const char *const kt_sql_text[KT_SQL_COUNT] = {
    [KT_SQL_FLOW_LAST] = "SELECT revision, deleted, source, updated_us, dialect FROM flows WHERE namespace=?1 "
                         "AND id=?2 ORDER BY revision DESC LIMIT 1",
    [KT_SQL_FLOW_REV] = "SELECT revision, deleted, source, updated_us, dialect FROM flows WHERE namespace=?1 AND id=?2 "
                        "AND revision=?3",
    [KT_SQL_FLOW_INSERT] = "INSERT INTO flows(namespace, id, revision, deleted, source, updated_us, dialect) "
                           "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [KT_SQL_FLOW_IDS] = "SELECT f.id FROM flows f WHERE f.namespace=?1 AND f.deleted=0 AND f.revision="
                        "(SELECT MAX(revision) FROM flows g WHERE g.namespace=f.namespace AND g.id=f.id) ORDER BY f.id",
    [KT_SQL_EXEC_PUT] = "INSERT INTO executions(id, namespace, flow_id, state, terminal, updated_us, body, start_us, "
                        "end_us, labels) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT(id) DO UPDATE SET "
                        "state=excluded.state, terminal=excluded.terminal, updated_us=excluded.updated_us, "
                        "body=excluded.body, start_us=excluded.start_us, end_us=excluded.end_us, labels=excluded.labels",
    [KT_SQL_EXEC_GET] = "SELECT body, id FROM executions WHERE id=?1",
    [KT_SQL_EXEC_UNFINISHED] = "SELECT body, id FROM executions WHERE terminal=0 ORDER BY rowid",
    [KT_SQL_TASKRUN_PUT] = "INSERT INTO taskruns(execution_id, idx, body) VALUES(?1, ?2, ?3) "
                           "ON CONFLICT(execution_id, idx) DO UPDATE SET body=excluded.body",
    [KT_SQL_TASKRUN_GET] = "SELECT body FROM taskruns WHERE execution_id=?1 ORDER BY idx",
    [KT_SQL_TASKRUN_TRIM] = "DELETE FROM taskruns WHERE execution_id=?1 AND idx>=?2",
    [KT_SQL_LOG_INSERT] = "INSERT INTO logs(execution_id, taskrun_id, task_id, attempt, level, timestamp_us, body) "
                          "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [KT_SQL_LOG_GET] = "SELECT body FROM logs WHERE execution_id=?1 AND level>=?2 AND (?3 IS NULL OR task_id=?3) "
                       "AND (?4 IS NULL OR taskrun_id=?4) AND (?5 < 0 OR attempt=?5) ORDER BY timestamp_us, seq",
};

/* Each entry moves the schema one version up; never edit a shipped entry, append a new one. */
static const char *const kt_migrations[] = {
    "CREATE TABLE flows(namespace TEXT NOT NULL, id TEXT NOT NULL, revision INTEGER NOT NULL, "
    "  deleted INTEGER NOT NULL DEFAULT 0, source TEXT NOT NULL, updated_us INTEGER NOT NULL, "
    "  PRIMARY KEY(namespace, id, revision)) WITHOUT ROWID;"
    "CREATE TABLE executions(id TEXT PRIMARY KEY, namespace TEXT NOT NULL, flow_id TEXT NOT NULL, "
    "  state TEXT NOT NULL, terminal INTEGER NOT NULL, updated_us INTEGER NOT NULL, body BLOB NOT NULL);"
    "CREATE INDEX executions_flow ON executions(namespace, flow_id);"
    "CREATE INDEX executions_unfinished ON executions(terminal) WHERE terminal = 0;"
    "CREATE TABLE logs(seq INTEGER PRIMARY KEY AUTOINCREMENT, execution_id TEXT NOT NULL, taskrun_id TEXT, "
    "  task_id TEXT, attempt INTEGER, level INTEGER NOT NULL, timestamp_us INTEGER NOT NULL, body TEXT NOT NULL);"
    "CREATE INDEX logs_execution ON logs(execution_id, timestamp_us);"
    /* An execution's task runs, in taskRunList order: a transition rewrites the runs it changed, not the whole
     * execution, so the cost of a commit does not grow with the number of tasks already done. */
    "CREATE TABLE taskruns(execution_id TEXT NOT NULL, idx INTEGER NOT NULL, body BLOB NOT NULL, "
    "  PRIMARY KEY(execution_id, idx)) WITHOUT ROWID;",
    /* 2: what the execution search filters and sorts on */
    "ALTER TABLE executions ADD COLUMN start_us INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE executions ADD COLUMN end_us INTEGER;"
    "ALTER TABLE executions ADD COLUMN labels TEXT;"
    "CREATE INDEX executions_start ON executions(start_us);",
    /* 3: the scheduler's state (KESTRA-execution.md §5.2, §5.8): trigger rows and multiple-condition windows, each
     * the entity's JSON plus the columns searched, sorted or scanned on (dates as UTC microseconds) */
    "CREATE TABLE triggers(namespace TEXT NOT NULL, flow_id TEXT NOT NULL, trigger_id TEXT NOT NULL, "
    "  next_execution_date INTEGER, execution_id TEXT, worker_id TEXT, body TEXT NOT NULL, "
    "  PRIMARY KEY(namespace, flow_id, trigger_id)) WITHOUT ROWID;"
    "CREATE INDEX triggers_next ON triggers(next_execution_date);"
    "CREATE INDEX triggers_execution ON triggers(execution_id) WHERE execution_id IS NOT NULL;"
    "CREATE INDEX triggers_worker ON triggers(worker_id) WHERE worker_id IS NOT NULL;"
    "CREATE TABLE windows(namespace TEXT NOT NULL, flow_id TEXT NOT NULL, condition_id TEXT NOT NULL, "
    "  end_us INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY(namespace, flow_id, condition_id)) WITHOUT ROWID;"
    "CREATE INDEX windows_end ON windows(end_us);",
    /* 4: the scheduler's inbox made durable: a change of an execution's state that Flow triggers must see, written
     * with the change, deleted with what the scheduler made of it */
    "CREATE TABLE notices(seq INTEGER PRIMARY KEY AUTOINCREMENT, execution_id TEXT NOT NULL, state TEXT NOT NULL);",
    /* 5: which definition a trigger row was computed from (not part of Kestra's Trigger JSON) */
    "ALTER TABLE triggers ADD COLUMN definition TEXT;",
    /* 6: task metrics (Kestra's MetricEntry, sqlite_metrics.c): the entry's JSON plus the columns filtered, sorted,
     * grouped and aggregated on (timestamp as UTC microseconds) */
    "CREATE TABLE metrics(seq INTEGER PRIMARY KEY AUTOINCREMENT, namespace TEXT NOT NULL, flow_id TEXT NOT NULL, "
    "  task_id TEXT, execution_id TEXT, taskrun_id TEXT, type TEXT NOT NULL, name TEXT NOT NULL, "
    "  value REAL NOT NULL, timestamp_us INTEGER NOT NULL, body TEXT NOT NULL);"
    "CREATE INDEX metrics_execution ON metrics(execution_id);"
    "CREATE INDEX metrics_flow ON metrics(namespace, flow_id, name, timestamp_us);",
    /* 7: partition leases (store.h, docs/store-async-design.md §4): who owns each partition, at which epoch, until
     * when (UTC microseconds) */
    "CREATE TABLE kite_partitions(kind TEXT NOT NULL, id INTEGER NOT NULL, owner TEXT, "
    "  epoch INTEGER NOT NULL DEFAULT 0, expires_us INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(kind, id)) WITHOUT ROWID;",
    /* 8: the text searches' indexes (docs/store-async-design.md §3), FTS5 trigram tables. The substring rules stay
     * the scan's (sql_build.c): an index only narrows the rows the rule then tests. Log messages: an external-content
     * table over the view of each line's message, kept by triggers (a line's body never changes), case-sensitive as
     * the log search is; the lines already there are indexed by 'rebuild'. Flow sources: flows has no rowid (WITHOUT
     * ROWID) for an external-content table to point at, so the index keeps its own copy of each revision's source
     * (rows are only ever added: a deletion is a new revision); case folded, the source search ignoring ASCII case. */
    "CREATE VIEW logs_text AS SELECT seq, json_extract(body, '$.message') AS message FROM logs;"
    "CREATE VIRTUAL TABLE logs_fts USING fts5(message, content='logs_text', content_rowid='seq', "
    "  tokenize='trigram case_sensitive 1');"
    "CREATE TRIGGER logs_fts_insert AFTER INSERT ON logs BEGIN "
    "  INSERT INTO logs_fts(rowid, message) VALUES(new.seq, json_extract(new.body, '$.message')); END;"
    "CREATE TRIGGER logs_fts_delete AFTER DELETE ON logs BEGIN "
    "  INSERT INTO logs_fts(logs_fts, rowid, message) VALUES('delete', old.seq, json_extract(old.body, '$.message')); "
    "END;"
    "CREATE TRIGGER logs_fts_update AFTER UPDATE OF seq, body ON logs BEGIN "
    "  INSERT INTO logs_fts(logs_fts, rowid, message) VALUES('delete', old.seq, json_extract(old.body, '$.message'));"
    "  INSERT INTO logs_fts(rowid, message) VALUES(new.seq, json_extract(new.body, '$.message')); END;"
    "INSERT INTO logs_fts(logs_fts) VALUES('rebuild');"
    "CREATE VIRTUAL TABLE flows_fts USING fts5(namespace UNINDEXED, id UNINDEXED, revision UNINDEXED, source, "
    "  tokenize='trigram');"
    "CREATE TRIGGER flows_fts_insert AFTER INSERT ON flows BEGIN "
    "  INSERT INTO flows_fts(namespace, id, revision, source) VALUES(new.namespace, new.id, new.revision, new.source);"
    "END;"
    "CREATE TRIGGER flows_fts_delete AFTER DELETE ON flows BEGIN "
    "  DELETE FROM flows_fts WHERE namespace = old.namespace AND id = old.id AND revision = old.revision; END;"
    "CREATE TRIGGER flows_fts_update AFTER UPDATE ON flows BEGIN "
    "  DELETE FROM flows_fts WHERE namespace = old.namespace AND id = old.id AND revision = old.revision;"
    "  INSERT INTO flows_fts(namespace, id, revision, source) VALUES(new.namespace, new.id, new.revision, new.source);"
    "END;"
    "INSERT INTO flows_fts(namespace, id, revision, source) SELECT namespace, id, revision, source FROM flows;",
    /* 9: the task cache (Kestra 1.x taskCache, store/task_cache.h) */
    KT_TASK_CACHE_SQLITE_DDL,
    /* 10: the dialect each revision was saved in ("1.x", "2.x"; flow/dialect.h), kept for every later parse of its
     * source; NULL for the revisions saved before (read as 1.x: Kite was 1.x then) */
    "ALTER TABLE flows ADD COLUMN dialect TEXT;",
};

#define KT_SQL_CACHE 48

typedef struct kt_sqlite {
    kt_store base; /* first: store.c dispatches through base.ops, and a kt_store * is this struct's address */
    sqlite3 *db;
    sqlite3_stmt *stmt[KT_SQL_COUNT];
    struct {
        const char *sql; /* the caller's static text: compared by address */
        sqlite3_stmt *st;
    } cache[KT_SQL_CACHE]; /* statements of the other store files (kt_sqlite_prepared) */
    int ncache;
    int in_tx;
    int log_index; /* the log messages' full-text index is there and fed (sqlite_fts.c) */
} kt_sqlite;

/* The SQLite store behind a kt_store * (kt_sqlite_open made it). */
static kt_sqlite *kt_sq(const kt_store *s) { return (kt_sqlite *)(uintptr_t)s; }




const char *kt_sqlite_errmsg(const kt_store *s) { return sqlite3_errmsg(kt_sq(s)->db); }

static kt_status kt_store_exec(kt_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(kt_sq(s)->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        KT_ERROR("store", "%s: %s", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return KT_EDB;
    }
    return KT_OK;
}

static kt_status kt_store_migrate(kt_store *s, int reader, char *err, size_t errcap)
{
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(kt_sq(s)->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    int target = (int)(sizeof kt_migrations / sizeof *kt_migrations);
    if (version > target) {
        snprintf(err, errcap, "database schema %d is newer than this kite (%d)", version, target);
        return KT_EDB;
    }
    if (reader && version != target) { /* a reader never writes, so it never migrates: the opener did */
        snprintf(err, errcap, "database schema %d is not this kite's (%d): open the store first", version, target);
        return KT_EDB;
    }
    for (; version < target; version++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", version + 1);
        if (kt_store_exec(s, "BEGIN IMMEDIATE") || kt_store_exec(s, kt_migrations[version]) ||
            kt_store_exec(s, pragma) || kt_store_exec(s, "COMMIT")) {
            snprintf(err, errcap, "migration %d failed: %s", version + 1, sqlite3_errmsg(kt_sq(s)->db)); /* before ROLLBACK
                                                                                                    resets it */
            kt_store_exec(s, "ROLLBACK");
            return KT_EDB;
        }
    }
    return KT_OK;
}

kt_status kt_sqlite_open(const char *dir, const kt_store_options *opt, kt_store **out, char *err, size_t errcap)
{
    if (mkdir(dir, 0755) && errno != EEXIST) {
        snprintf(err, errcap, "cannot create %s: %s", dir, strerror(errno));
        return KT_EIO;
    }
    kt_sqlite *q = calloc(1, sizeof *q);
    if (!q)
        return KT_ENOMEM;
    q->base.ops = &kt_sqlite_ops;
    kt_store *s = &q->base;
    char path[4096];
    snprintf(path, sizeof path, "%s/kite.db", dir);
    int reader = opt && opt->reader;
    if (sqlite3_open_v2(path, &kt_sq(s)->db, SQLITE_OPEN_READWRITE | (reader ? 0 : SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errcap, "cannot open %s: %s", path, kt_sq(s)->db ? sqlite3_errmsg(kt_sq(s)->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(kt_sq(s)->db, 5000);
    /* synchronous is per connection: set on every open (SPIKE.md §6). */
    if (kt_store_exec(s, "PRAGMA journal_mode=WAL") ||
        kt_store_exec(s, opt && opt->sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL") ||
        kt_store_exec(s, "PRAGMA foreign_keys=ON") || (reader && kt_store_exec(s, "PRAGMA query_only=1"))) {
        snprintf(err, errcap, "cannot configure %s: %s", path, sqlite3_errmsg(kt_sq(s)->db));
        goto fail;
    }
    if (kt_store_migrate(s, reader, err, errcap))
        goto fail;
    if (reader) { /* it searches with the index the opener left (a reader never writes lines) */
        kt_sq(s)->log_index = kt_sqlite_log_index_there(kt_sq(s)->db) == 1;
    } else {
        kt_log_index li = opt && opt->log_index ? opt->log_index : KT_STORE_LOG_INDEX_SQLITE;
        if (kt_sqlite_log_index_apply(kt_sq(s)->db, li == KT_LOG_INDEX_ON, err, errcap))
            goto fail;
        kt_sq(s)->log_index = li == KT_LOG_INDEX_ON;
    }
    for (int i = 0; i < KT_SQL_COUNT; i++)
        if (sqlite3_prepare_v3(kt_sq(s)->db, kt_sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &kt_sq(s)->stmt[i], NULL) != SQLITE_OK) {
            snprintf(err, errcap, "cannot prepare statement %d: %s", i, sqlite3_errmsg(kt_sq(s)->db));
            goto fail;
        }
    *out = s;
    return KT_OK;
fail:
    kt_sqlite_close(s);
    return KT_EDB;
}

void kt_sqlite_close(kt_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < KT_SQL_COUNT; i++)
        sqlite3_finalize(kt_sq(s)->stmt[i]);
    for (int i = 0; i < kt_sq(s)->ncache; i++)
        sqlite3_finalize(kt_sq(s)->cache[i].st);
    sqlite3_close(kt_sq(s)->db);
    free(kt_sq(s));
}

kt_status kt_sqlite_begin(kt_store *s)
{
    KT_ASSERTF(!kt_sq(s)->in_tx, "transactions do not nest"); /* a caller that forgot its commit or rollback */
    kt_status st = kt_store_exec(s, "BEGIN IMMEDIATE");
    kt_sq(s)->in_tx = st == KT_OK;
    return st;
}

/* kestra_store_commit_duration_seconds: how long a commit takes (the WAL write, and its fsync with sync_full), on a
 * monotonic clock. One series for the process: there is one store. */
static double kt_store_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

kt_status kt_sqlite_commit(kt_store *s)
{
    double t0 = kt_store_mono_s();
    kt_status st = kt_store_exec(s, "COMMIT");
    kt_metric_observe(kt_metrics_histogram("kestra_store_commit_duration_seconds",
                                           "Duration of the store's commits (SQLite)", NULL,
                                           kt_metrics_latency_buckets, kt_metrics_latency_nbuckets),
                      kt_store_mono_s() - t0);
    if (st)
        kt_sqlite_rollback(s);
    kt_sq(s)->in_tx = 0;
    return st;
}

void kt_sqlite_rollback(kt_store *s)
{
    if (sqlite3_get_autocommit(kt_sq(s)->db) == 0)
        kt_store_exec(s, "ROLLBACK");
    kt_sq(s)->in_tx = 0;
}

static sqlite3_stmt *kt_stmt(kt_store *s, int which)
{
    sqlite3_stmt *st = kt_sq(s)->stmt[which];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* A statement of a fixed text (a string literal of the caller: its address is the key), prepared once per store and
 * reset for reuse; NULL when it does not prepare or the cache is full (a bug of the caller: KT_SQL_CACHE). */
sqlite3_stmt *kt_sqlite_prepared(kt_store *s, const char *sql)
{
    for (int i = 0; i < kt_sq(s)->ncache; i++)
        if (kt_sq(s)->cache[i].sql == sql) {
            sqlite3_reset(kt_sq(s)->cache[i].st);
            sqlite3_clear_bindings(kt_sq(s)->cache[i].st);
            return kt_sq(s)->cache[i].st;
        }
    if (kt_sq(s)->ncache == KT_SQL_CACHE) {
        KT_ERROR("store", "statement cache full (KT_SQL_CACHE): %s", sql);
        return NULL;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(kt_sq(s)->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        KT_ERROR("store", "%s: %s", sql, sqlite3_errmsg(kt_sq(s)->db));
        return NULL;
    }
    kt_sq(s)->cache[kt_sq(s)->ncache].sql = sql;
    kt_sq(s)->cache[kt_sq(s)->ncache++].st = st;
    return st;
}

static char *kt_col_strdup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

/* ---- flows --------------------------------------------------------------------------------------- */


static kt_status kt_flow_read(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out)
{
    sqlite3_stmt *st = kt_stmt(s, revision ? KT_SQL_FLOW_REV : KT_SQL_FLOW_LAST);
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    if (revision)
        sqlite3_bind_int(st, 3, revision);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return KT_ENOTFOUND;
    if (rc != SQLITE_ROW)
        return KT_EDB;
    memset(out, 0, sizeof *out);
    out->namespace_ = strdup(ns);
    out->id = strdup(id);
    out->revision = sqlite3_column_int(st, 0);
    out->deleted = sqlite3_column_int(st, 1);
    out->source = kt_col_strdup(st, 2);
    out->updated_us = sqlite3_column_int64(st, 3);
    out->dialect = KT_DIALECT_1X;
    kt_dialect_parse((const char *)sqlite3_column_text(st, 4), &out->dialect);
    sqlite3_reset(st);
    if (!out->namespace_ || !out->id || !out->source) {
        kt_flow_row_clear(out);
        return KT_ENOMEM;
    }
    return KT_OK;
}

static kt_status kt_flow_insert(kt_store *s, const char *ns, const char *id, int revision, int deleted,
                                const char *source, int dialect)
{
    sqlite3_stmt *st = kt_stmt(s, KT_SQL_FLOW_INSERT);
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, revision);
    sqlite3_bind_int(st, 4, deleted);
    sqlite3_bind_text(st, 5, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, kt_now_us());
    if (dialect < 0)
        sqlite3_bind_null(st, 7);
    else
        sqlite3_bind_text(st, 7, kt_dialect_name((kt_dialect)dialect), -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? KT_OK : KT_EDB;
}

kt_status kt_sqlite_flow_save(kt_store *s, const char *ns, const char *id, const char *source, int dialect,
                              int *revision, int *changed)
{
    kt_flow_row last;
    kt_status st = kt_flow_read(s, ns, id, 0, &last);
    if (st && st != KT_ENOTFOUND)
        return st;
    int next = st == KT_ENOTFOUND ? 1 : last.revision + 1;
    if (st == KT_OK && !last.deleted && !strcmp(last.source, source)) {
        *revision = last.revision;
        *changed = 0;
        kt_flow_row_clear(&last);
        return KT_OK;
    }
    if (st == KT_OK)
        kt_flow_row_clear(&last);
    st = kt_flow_insert(s, ns, id, next, 0, source, dialect);
    if (st == KT_OK) {
        *revision = next;
        *changed = 1;
    }
    return st;
}

kt_status kt_sqlite_flow_get(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out)
{
    kt_status st = kt_flow_read(s, ns, id, revision, out);
    if (st == KT_OK && revision == 0 && out->deleted) {
        kt_flow_row_clear(out);
        return KT_ENOTFOUND;
    }
    return st;
}

kt_status kt_sqlite_flow_get_any(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out)
{
    return kt_flow_read(s, ns, id, revision, out);
}

kt_status kt_sqlite_flow_revisions(kt_store *s, const char *ns, const char *id, json_t **rows)
{
    static const char sql[] = "SELECT revision, deleted, source, dialect FROM flows WHERE namespace=?1 AND id=?2 "
                              "ORDER BY revision";
    sqlite3_stmt *st = kt_sqlite_prepared(s, sql);
    *rows = NULL;
    if (!st)
        return KT_EDB;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    json_t *out = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(out, json_pack("{s:s, s:s, s:i, s:b, s:s, s:s}", "namespace", ns, "id", id, "revision",
                                             sqlite3_column_int(st, 0), "deleted", sqlite3_column_int(st, 1),
                                             "source", (const char *)sqlite3_column_text(st, 2), "dialect",
                                             kt_store_dialect_text((const char *)sqlite3_column_text(st, 3))));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(out);
        return KT_EDB;
    }
    *rows = out;
    return KT_OK;
}

kt_status kt_sqlite_flow_delete(kt_store *s, const char *ns, const char *id)
{
    kt_flow_row last;
    kt_status st = kt_sqlite_flow_get(s, ns, id, 0, &last);
    if (st)
        return st;
    /* The deletion is a revision of its own, keeping the source so history stays readable. */
    st = kt_flow_insert(s, ns, id, last.revision + 1, 1, last.source, (int)last.dialect);
    kt_flow_row_clear(&last);
    return st;
}

kt_status kt_sqlite_flow_ids(kt_store *s, const char *ns, json_t **out)
{
    sqlite3_stmt *st = kt_stmt(s, KT_SQL_FLOW_IDS);
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    json_t *ids = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(ids, json_string((const char *)sqlite3_column_text(st, 0)));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(ids);
        return KT_EDB;
    }
    *out = ids;
    return KT_OK;
}

/* ---- executions ---------------------------------------------------------------------------------- */

/* One task run row (position and msgpack from kt_exec_row_run). */
static kt_status kt_store_taskrun_put(kt_store *s, const char *execution_id, size_t idx, char *blob, size_t len)
{
    sqlite3_stmt *st = kt_stmt(s, KT_SQL_TASKRUN_PUT);
    sqlite3_bind_text(st, 1, execution_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)idx);
    sqlite3_bind_blob(st, 3, blob, (int)len, free);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? KT_OK : KT_EDB;
}

kt_status kt_sqlite_execution_put(kt_store *s, const json_t *ex, const size_t *runs, size_t nruns)
{
    kt_exec_row row;
    kt_status ks = kt_exec_row_split(ex, runs, nruns, &row);
    if (ks)
        return ks;
    sqlite3_stmt *st = kt_stmt(s, KT_SQL_EXEC_PUT);
    sqlite3_bind_text(st, 1, row.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, row.namespace_, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, row.flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, row.state, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, row.terminal);
    sqlite3_bind_int64(st, 6, row.updated_us);
    sqlite3_bind_blob(st, 7, row.header, (int)row.header_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, row.start_us);
    if (row.terminal)
        sqlite3_bind_int64(st, 9, row.end_us);
    sqlite3_bind_text(st, 10, row.labels, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    ks = rc == SQLITE_DONE ? KT_OK : KT_EDB;
    if (!ks && row.trim) {
        sqlite3_stmt *trim = kt_stmt(s, KT_SQL_TASKRUN_TRIM);
        sqlite3_bind_text(trim, 1, row.id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(trim, 2, (sqlite3_int64)row.nruns);
        rc = sqlite3_step(trim);
        sqlite3_reset(trim);
        ks = rc == SQLITE_DONE ? KT_OK : KT_EDB;
    }
    for (size_t i = 0; !ks && i < row.nruns; i++) {
        size_t idx, len;
        char *blob;
        ks = kt_exec_row_run(&row, i, &idx, &blob, &len);
        if (!ks)
            ks = kt_store_taskrun_put(s, row.id, idx, blob, len);
    }
    kt_exec_row_clear(&row);
    return ks;
}

/* The row's header (column 0) plus its task runs, as one Execution document. */
static kt_status kt_exec_read(kt_store *s, sqlite3_stmt *row, json_t **out)
{
    json_t *ex;
    kt_status st = kt_exec_row_decode(sqlite3_column_blob(row, 0), (size_t)sqlite3_column_bytes(row, 0), &ex);
    if (st)
        return st;
    sqlite3_stmt *q = kt_stmt(s, KT_SQL_TASKRUN_GET);
    sqlite3_bind_text(q, 1, (const char *)sqlite3_column_text(row, 1), -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if ((st = kt_exec_row_add_run(ex, sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0))))
            break;
    sqlite3_reset(q);
    if (st || rc != SQLITE_DONE) {
        json_decref(ex);
        return st ? st : KT_EDB;
    }
    *out = ex;
    return KT_OK;
}

sqlite3 *kt_sqlite_db(kt_store *s) { return kt_sq(s)->db; }
kt_status kt_sqlite_exec_row(kt_store *s, sqlite3_stmt *row, json_t **out) { return kt_exec_read(s, row, out); }

kt_status kt_sqlite_execution_get(kt_store *s, const char *id, json_t **out)
{
    sqlite3_stmt *st = kt_stmt(s, KT_SQL_EXEC_GET);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    kt_status r = rc == SQLITE_ROW ? kt_exec_read(s, st, out) : rc == SQLITE_DONE ? KT_ENOTFOUND : KT_EDB;
    sqlite3_reset(st);
    return r;
}

kt_status kt_sqlite_executions_unfinished(kt_store *s, json_t **out_array)
{
    json_t *arr = json_array();
    sqlite3_stmt *st = kt_stmt(s, KT_SQL_EXEC_UNFINISHED);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *ex;
        if (kt_exec_read(s, st, &ex) == KT_OK)
            json_array_append_new(arr, ex);
        else
            KT_ERROR("store", "an unfinished execution could not be decoded: skipped");
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return KT_EDB;
    }
    *out_array = arr;
    return KT_OK;
}

/* ---- logs ---------------------------------------------------------------------------------------- */

int kt_sqlite_log_indexed(kt_store *s) { return kt_sq(s)->log_index; }

/* The lines, then (store.log-index on) their messages into the full-text index with one statement (sqlite_fts.c says
 * why not a trigger). Outside a transaction a savepoint makes the lines and their index one commit. */
static kt_status kt_logs_insert(kt_store *s, const json_t *entries)
{
    int64_t first = 0;
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) {
        const char *ex = json_string_value(json_object_get(e, "executionId"));
        const char *ts = json_string_value(json_object_get(e, "timestamp"));
        int64_t us = 0;
        if (!ex || !ts || kt_time_parse(ts, &us))
            continue;
        char *body = json_dumps(e, JSON_COMPACT);
        if (!body)
            return KT_ENOMEM;
        sqlite3_stmt *st = kt_stmt(s, KT_SQL_LOG_INSERT);
        sqlite3_bind_text(st, 1, ex, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, json_string_value(json_object_get(e, "taskRunId")), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, json_string_value(json_object_get(e, "taskId")), -1, SQLITE_STATIC);
        json_t *att = json_object_get(e, "attemptNumber");
        if (json_is_integer(att))
            sqlite3_bind_int64(st, 4, json_integer_value(att));
        int rank = kt_store_level_rank(json_string_value(json_object_get(e, "level")));
        sqlite3_bind_int(st, 5, rank < 0 ? 2 : rank);
        sqlite3_bind_int64(st, 6, us);
        sqlite3_bind_text(st, 7, body, -1, free);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return KT_EDB;
        if (!first)
            first = sqlite3_last_insert_rowid(kt_sq(s)->db);
    }
    return first && kt_sq(s)->log_index ? kt_sqlite_log_index_feed(s, first) : KT_OK;
}

kt_status kt_sqlite_logs_append(kt_store *s, const json_t *entries)
{
    if (kt_sq(s)->in_tx || !kt_sq(s)->log_index)
        return kt_logs_insert(s, entries);
    if (kt_store_exec(s, "SAVEPOINT kt_logs_append"))
        return KT_EDB;
    kt_status st = kt_logs_insert(s, entries);
    if (st)
        kt_store_exec(s, "ROLLBACK TO kt_logs_append");
    return kt_store_exec(s, "RELEASE kt_logs_append") ? KT_EDB : st;
}

kt_status kt_sqlite_logs_get(kt_store *s, const char *execution_id, const kt_log_filter *f, json_t **out_array)
{
    int min = f && f->min_level ? kt_store_level_rank(f->min_level) : 0;
    if (min < 0)
        return KT_EINVAL;
    sqlite3_stmt *st = kt_stmt(s, KT_SQL_LOG_GET);
    sqlite3_bind_text(st, 1, execution_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, min);
    /* Kestra: taskId wins over taskRunId; attempt only applies with taskRunId. */
    if (f && f->task_id) {
        sqlite3_bind_text(st, 3, f->task_id, -1, SQLITE_STATIC);
    } else if (f && f->taskrun_id) {
        sqlite3_bind_text(st, 4, f->taskrun_id, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int(st, 5, f && !f->task_id && f->taskrun_id ? f->attempt : -1);
    kt_status r = kt_sqlite_rows_json(st, 0, out_array);
    sqlite3_reset(st);
    return r;
}

kt_status kt_sqlite_rows_json(sqlite3_stmt *st, int col, json_t **out)
{
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *e = json_loads((const char *)sqlite3_column_text(st, col), 0, NULL);
        if (e)
            json_array_append_new(arr, e);
    }
    *out = NULL;
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return KT_EDB;
    }
    *out = arr;
    return KT_OK;
}

const kt_store_ops kt_sqlite_ops = {
    .close = kt_sqlite_close,
    .errmsg = kt_sqlite_errmsg,
    .begin = kt_sqlite_begin,
    .commit = kt_sqlite_commit,
    .rollback = kt_sqlite_rollback,
    .flow_save = kt_sqlite_flow_save,
    .flow_get = kt_sqlite_flow_get,
    .flow_get_any = kt_sqlite_flow_get_any,
    .flow_revisions = kt_sqlite_flow_revisions,
    .flow_delete = kt_sqlite_flow_delete,
    .flow_purge_revisions = kt_sqlite_flow_purge_revisions,
    .metrics_purge = kt_sqlite_metrics_purge,
    .flow_ids = kt_sqlite_flow_ids,
    .execution_put = kt_sqlite_execution_put,
    .execution_get = kt_sqlite_execution_get,
    .executions_unfinished = kt_sqlite_executions_unfinished,
    .executions_search = kt_sqlite_executions_search,
    .flow_namespaces = kt_sqlite_flow_namespaces,
    .flows_latest = kt_sqlite_flows_latest,
    .flows_source_search = kt_sqlite_flows_source_search,
    .trigger_put = kt_sqlite_trigger_put,
    .trigger_get = kt_sqlite_trigger_get,
    .trigger_insert = kt_sqlite_trigger_insert,
    .trigger_claim = kt_sqlite_trigger_claim,
    .trigger_delete = kt_sqlite_trigger_delete,
    .trigger_fingerprint = kt_sqlite_trigger_fingerprint,
    .trigger_set_fingerprint = kt_sqlite_trigger_set_fingerprint,
    .triggers_list = kt_sqlite_triggers_list,
    .triggers_search = kt_sqlite_triggers_search,
    .window_get = kt_sqlite_window_get,
    .window_claim = kt_sqlite_window_claim,
    .window_insert = kt_sqlite_window_insert,
    .window_put = kt_sqlite_window_put,
    .window_delete = kt_sqlite_window_delete,
    .windows_expire = kt_sqlite_windows_expire,
    .notice_add = kt_sqlite_notice_add,
    .notice_done = kt_sqlite_notice_done,
    .notice_take = kt_sqlite_notice_take,
    .notices = kt_sqlite_notices,
    .logs_append = kt_sqlite_logs_append,
    .logs_get = kt_sqlite_logs_get,
    .logs_after = kt_sqlite_logs_after,
    .logs_page = kt_sqlite_logs_page,
    .logs_search = kt_sqlite_logs_search,
    .logs_delete = kt_sqlite_logs_delete,
    .logs_delete_flow = kt_sqlite_logs_delete_flow,
    .metrics_append = kt_sqlite_metrics_append,
    .metrics_search = kt_sqlite_metrics_search,
    .metrics_distinct = kt_sqlite_metrics_distinct,
    .metrics_aggregate = kt_sqlite_metrics_aggregate,
    .metrics_delete = kt_sqlite_metrics_delete,
    .executions_count = kt_sqlite_executions_count,
    .executions_match = kt_sqlite_executions_match,
    .logs_purge = kt_sqlite_logs_purge,
    .execution_purge = kt_sqlite_execution_purge,
    .lease_take = kt_sqlite_lease_take,
    .lease_renew = kt_sqlite_lease_renew,
    .lease_release = kt_sqlite_lease_release,
    .fence = kt_sqlite_fence,
    .fence_many = kt_sqlite_fence_many,
    .leases = kt_sqlite_leases,
};
