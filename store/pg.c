/* PostgreSQL backend of store/store.h: one libpq connection per kt_store, the schema's migrations, transactions,
 * and the helpers the pg_*.c files share (pg_int.h). The session functions are blocking like SQLite's; the loop-side
 * layer that keeps them off the loop is docs/store-async-design.md's kt_db.
 *
 * The schema is SQLite's, table for table and column for column (int64 microseconds for times, JSON bodies as text
 * holding the bytes written, msgpack headers and task runs as bytea), so both backends answer alike. */
#include "store/pg_int.h"
#include "store/task_cache.h"
#include "base/assert.h"
#include "base/log.h"
#include "base/metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct kt_pg {
    kt_store base; /* first: store.c dispatches through base.ops */
    PGconn *conn;
    int in_tx;
    int log_index; /* logs_message_trgm is there (store.log-index on and pg_trgm available): pg_logs.c */
    int pooled; /* on a pool thread: no metrics (base/metrics is the loop's) */
    char *url; /* as opened: the loop's writers connect there too (kt_pg_url) */
    char err[512]; /* the last failure, for kt_store_errmsg */
} kt_pg;

static kt_pg *kt_pgs(const kt_store *s) { return (kt_pg *)(uintptr_t)s; }

PGconn *kt_pg_conn(kt_store *s) { return kt_pgs(s)->conn; }

const char *kt_pg_url(const kt_store *s) { return kt_pgs(s)->url; }

int kt_store_is_pg(const kt_store *s) { return s && s->ops == &kt_pg_ops; }

int kt_pg_lost(kt_store *s) { return PQstatus(kt_pgs(s)->conn) != CONNECTION_OK; }

/* Each entry moves the schema one version up; never edit a shipped entry, append a new one. The versions are this
 * backend's own (SQLite's list is sqlite.c's); the tables they reach are the same. */
static const char *const kt_pg_migrations[] = {
    "CREATE TABLE flows(namespace text NOT NULL, id text NOT NULL, revision integer NOT NULL, "
    "  deleted integer NOT NULL DEFAULT 0, source text NOT NULL, updated_us bigint NOT NULL, "
    "  PRIMARY KEY(namespace, id, revision));"
    "CREATE TABLE executions(id text PRIMARY KEY, namespace text NOT NULL, flow_id text NOT NULL, "
    "  state text NOT NULL, terminal integer NOT NULL, updated_us bigint NOT NULL, body bytea NOT NULL, "
    "  start_us bigint NOT NULL DEFAULT 0, end_us bigint, labels text, "
    /* the order SQLite's rowid gives executions_unfinished: creation order */
    "  created bigint GENERATED ALWAYS AS IDENTITY);"
    "CREATE INDEX executions_flow ON executions(namespace, flow_id);"
    "CREATE INDEX executions_unfinished ON executions(created) WHERE terminal = 0;"
    "CREATE INDEX executions_start ON executions(start_us);"
    "CREATE TABLE taskruns(execution_id text NOT NULL, idx integer NOT NULL, body bytea NOT NULL, "
    "  PRIMARY KEY(execution_id, idx));"
    "CREATE TABLE logs(seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, execution_id text NOT NULL, "
    "  taskrun_id text, task_id text, attempt integer, level integer NOT NULL, timestamp_us bigint NOT NULL, "
    "  body text NOT NULL);"
    "CREATE INDEX logs_execution ON logs(execution_id, timestamp_us);"
    "CREATE TABLE triggers(namespace text NOT NULL, flow_id text NOT NULL, trigger_id text NOT NULL, "
    "  next_execution_date bigint, execution_id text, worker_id text, body text NOT NULL, definition text, "
    "  PRIMARY KEY(namespace, flow_id, trigger_id));"
    "CREATE INDEX triggers_next ON triggers(next_execution_date);"
    "CREATE INDEX triggers_execution ON triggers(execution_id) WHERE execution_id IS NOT NULL;"
    "CREATE INDEX triggers_worker ON triggers(worker_id) WHERE worker_id IS NOT NULL;"
    "CREATE TABLE windows(namespace text NOT NULL, flow_id text NOT NULL, condition_id text NOT NULL, "
    "  end_us bigint NOT NULL, body text NOT NULL, PRIMARY KEY(namespace, flow_id, condition_id));"
    "CREATE INDEX windows_end ON windows(end_us);"
    "CREATE TABLE notices(seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, execution_id text NOT NULL, "
    "  state text NOT NULL);"
    "CREATE TABLE metrics(seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, namespace text NOT NULL, "
    "  flow_id text NOT NULL, task_id text, execution_id text, taskrun_id text, type text NOT NULL, "
    "  name text NOT NULL, value double precision NOT NULL, timestamp_us bigint NOT NULL, body text NOT NULL);"
    "CREATE INDEX metrics_execution ON metrics(execution_id);"
    "CREATE INDEX metrics_flow ON metrics(namespace, flow_id, name, timestamp_us);",
    /* 2: partition leases (store.h, docs/store-async-design.md §4), SQLite's kite_partitions */
    "CREATE TABLE kite_partitions(kind text NOT NULL, id integer NOT NULL, owner text, "
    "  epoch bigint NOT NULL DEFAULT 0, expires_us bigint NOT NULL DEFAULT 0, PRIMARY KEY(kind, id));",
    /* 3: the text searches' indexes (docs/store-async-design.md §3): pg_trgm's GIN indexes on the log message (the
     * expression the log search tests, pg_search.c) and on the flow source in the "C" collation (the source search's
     * ASCII-only case folding). pg_trgm is in Debian's postgresql package and trusted (the database's owner may
     * create it); found already installed, it is used from its schema. Without it (not installed, not allowed) the
     * block gives up quietly and the searches scan, as before: kt_pg_open says so once. */
    "DO $$ DECLARE s text; BEGIN"
    "  CREATE EXTENSION IF NOT EXISTS pg_trgm;"
    "  SELECT extnamespace::regnamespace::text INTO s FROM pg_extension WHERE extname = 'pg_trgm';"
    "  EXECUTE format('CREATE INDEX logs_message_trgm ON logs USING gin ((body::json->>''message'') %s.gin_trgm_ops)',"
    "    s);"
    "  EXECUTE format('CREATE INDEX flows_source_trgm ON flows USING gin (source COLLATE \"C\" %s.gin_trgm_ops)', s);"
    "EXCEPTION WHEN OTHERS THEN NULL; END $$;",
    /* 4: the loop's writers (store/db.h, pg_writer.c). kite_writers: each writer's last transaction, written by
     * that transaction, so a writer whose connection died before it heard the COMMIT's answer reads whether it
     * landed. kite_fence: the fence of a pipelined transaction, kt_store_fence_many's FOR SHARE lock as a
     * statement that fails the transaction (SQLSTATE KTF01, the lost "id:epoch" pairs in its detail) instead of
     * returning rows the writer could only read after it had sent the rest. Re-runnable (a test steps the schema back
     * over it). */
    "CREATE TABLE IF NOT EXISTS kite_writers(writer text PRIMARY KEY, seq bigint NOT NULL);"
    "CREATE OR REPLACE FUNCTION kite_fence(k text, ids integer[], epochs bigint[]) RETURNS void LANGUAGE plpgsql AS $f$ "
    "DECLARE lost text; "
    "BEGIN "
    "  PERFORM 1 FROM kite_partitions p JOIN unnest(ids, epochs) AS h(id, epoch) ON p.id = h.id "
    "    AND p.epoch = h.epoch WHERE p.kind = k AND p.owner IS NOT NULL ORDER BY p.id FOR SHARE OF p; "
    "  SELECT string_agg(h.id || ':' || h.epoch, ',' ORDER BY h.id) INTO lost FROM unnest(ids, epochs) AS h(id, epoch) "
    "    WHERE NOT EXISTS (SELECT 1 FROM kite_partitions p WHERE p.kind = k AND p.id = h.id AND p.epoch = h.epoch "
    "    AND p.owner IS NOT NULL); "
    "  IF lost IS NOT NULL THEN "
    "    RAISE EXCEPTION USING ERRCODE = 'KTF01', MESSAGE = 'partition lease moved', DETAIL = lost; "
    "  END IF; "
    "END $f$;",
    /* 5: the task cache (Kestra 1.x taskCache, store/task_cache.h) */
    KT_TASK_CACHE_PG_DDL,
    /* 6: the dialect each revision was saved in ("1.x", "2.x"; flow/dialect.h), kept for every later parse of its
     * source; NULL for the revisions saved before (read as 1.x: Kite was 1.x then). Re-runnable. */
    "ALTER TABLE flows ADD COLUMN IF NOT EXISTS dialect text;",
};

static void kt_pg_remember(kt_pg *p, const char *what, const char *msg)
{
    snprintf(p->err, sizeof p->err, "%s%s%s", what ? what : "", what ? ": " : "", msg ? msg : "");
    size_t n = strlen(p->err);
    while (n && (p->err[n - 1] == '\n' || p->err[n - 1] == ' '))
        p->err[--n] = 0;
}

/* The session's own settings, set on every new connection (the first one and each reconnection). */
static const char kt_pg_session_sql[] = "SET client_min_messages = warning; SET TIME ZONE 'UTC'";

static kt_status kt_pg_simple(kt_pg *p, const char *sql);

/* A connection the server dropped (a restart, a failover, an idle timeout) stays CONNECTION_BAD: every later call
 * would fail. The statement that met the loss failed (KT_EDB, its transaction with it); the next call outside a
 * transaction connects again, once per call, blocking like the statements themselves (no backoff here: the callers
 * retry on their own timers). Inside a transaction nothing is retried: the caller's rollback ends it, and the call
 * after that reconnects. */
static void kt_pg_revive(kt_pg *p)
{
    if (p->in_tx || PQstatus(p->conn) != CONNECTION_BAD)
        return;
    PQreset(p->conn);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        kt_pg_remember(p, "reconnect", PQerrorMessage(p->conn));
        return;
    }
    if (kt_pg_simple(p, kt_pg_session_sql) == KT_OK)
        KT_WARN("store", "PostgreSQL: the connection was lost; connected again");
}

/* PQexecParams with the result's format (0 text, 1 binary); the failure bookkeeping of every query. */
static PGresult *kt_pg_run(kt_store *s, const char *sql, int n, const char *const *values, const int *lengths,
                           const int *formats, int result_format, kt_status *st)
{
    kt_pg *p = kt_pgs(s);
    kt_pg_revive(p);
    PGresult *res = PQexecParams(p->conn, sql, n, NULL, values, lengths, formats, result_format);
    ExecStatusType es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (es == PGRES_TUPLES_OK || es == PGRES_COMMAND_OK) {
        if (st)
            *st = KT_OK;
        return res;
    }
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    kt_pg_remember(p, state, res ? PQresultErrorMessage(res) : PQerrorMessage(p->conn));
    if (st)
        *st = state && !strcmp(state, "23505") ? KT_ECONFLICT : KT_EDB;
    KT_ERROR("store", "PostgreSQL: %s (%.120s)", p->err, sql);
    PQclear(res);
    return NULL;
}

PGresult *kt_pg_query_bin(kt_store *s, const char *sql, int n, const char *const *values, const int *lengths,
                          const int *formats, kt_status *st)
{
    return kt_pg_run(s, sql, n, values, lengths, formats, 0, st);
}

PGresult *kt_pg_query_rows_bin(kt_store *s, const char *sql, int n, const char *const *values, const int *lengths,
                               const int *formats, kt_status *st)
{
    return kt_pg_run(s, sql, n, values, lengths, formats, 1, st);
}

PGresult *kt_pg_query(kt_store *s, const char *sql, int n, const char *const *values, kt_status *st)
{
    return kt_pg_query_bin(s, sql, n, values, NULL, NULL, st);
}

kt_status kt_pg_command(kt_store *s, const char *sql, int n, const char *const *values, int64_t *affected)
{
    kt_status st;
    PGresult *res = kt_pg_query(s, sql, n, values, &st);
    if (!res)
        return st;
    if (affected)
        *affected = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return KT_OK;
}

const char *kt_pg_i64(char *buf, int64_t v)
{
    snprintf(buf, 24, "%" PRId64, v);
    return buf;
}

int64_t kt_pg_get_i64(const PGresult *res, int r, int col)
{
    return PQgetisnull(res, r, col) ? 0 : strtoll(PQgetvalue(res, r, col), NULL, 10);
}

kt_status kt_pg_rows_json(const PGresult *res, int col, json_t **out)
{
    json_t *arr = json_array();
    if (!arr)
        return KT_ENOMEM;
    for (int r = 0, n = PQntuples(res); r < n; r++) {
        if (PQgetisnull(res, r, col))
            continue;
        json_t *v = json_loads(PQgetvalue(res, r, col), JSON_DECODE_ANY, NULL);
        if (v)
            json_array_append_new(arr, v);
    }
    *out = arr;
    return KT_OK;
}

/* (pgquery) the bodies of a SELECT, for the searches and lists of pg_logs.c, pg_triggers.c, pg_metrics.c */
kt_status kt_pg_query_json(kt_store *s, const char *sql, int n, const char *const *values, int col, json_t **out)
{
    kt_status st;
    *out = NULL;
    PGresult *res = kt_pg_query(s, sql, n, values, &st);
    if (!res)
        return st;
    st = kt_pg_rows_json(res, col, out);
    PQclear(res);
    return st;
}

/* One statement without parameters, for the schema and the transaction verbs (several statements allowed). */
static kt_status kt_pg_simple(kt_pg *p, const char *sql)
{
    PGresult *res = PQexec(p->conn, sql);
    ExecStatusType es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    kt_status st = KT_OK;
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        kt_pg_remember(p, state, res ? PQresultErrorMessage(res) : PQerrorMessage(p->conn));
        st = KT_EDB;
    }
    PQclear(res);
    return st;
}

/* Migrations run one transaction per step under a transaction-scoped advisory lock, so nodes starting together
 * against an empty database migrate it once. */
static kt_status kt_pg_migrate(kt_pg *p, char *err, size_t errcap)
{
    int target = (int)(sizeof kt_pg_migrations / sizeof *kt_pg_migrations);
    if (kt_pg_simple(p, "CREATE TABLE IF NOT EXISTS kite_schema(version integer NOT NULL)")) {
        /* two nodes creating it at once: one of them loses the race on the catalog, which is harmless */
        if (kt_pg_simple(p, "SELECT 1 FROM kite_schema LIMIT 1"))
            goto fail;
    }
    for (;;) {
        if (kt_pg_simple(p, "BEGIN") || kt_pg_simple(p, "SELECT pg_advisory_xact_lock(7366251934)"))
            goto fail;
        PGresult *res = PQexec(p->conn, "SELECT COALESCE(MAX(version), 0) FROM kite_schema");
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            kt_pg_remember(p, NULL, PQresultErrorMessage(res));
            PQclear(res);
            goto fail;
        }
        int version = atoi(PQgetvalue(res, 0, 0));
        PQclear(res);
        if (version > target) {
            kt_pg_simple(p, "ROLLBACK");
            snprintf(err, errcap, "database schema %d is newer than this kite (%d)", version, target);
            return KT_EDB;
        }
        if (version == target)
            return kt_pg_simple(p, "COMMIT") ? KT_EDB : KT_OK;
        char bump[96];
        snprintf(bump, sizeof bump, "DELETE FROM kite_schema; INSERT INTO kite_schema VALUES(%d)", version + 1);
        if (kt_pg_simple(p, kt_pg_migrations[version]) || kt_pg_simple(p, bump) || kt_pg_simple(p, "COMMIT")) {
            snprintf(err, errcap, "migration %d failed: %s", version + 1, p->err);
            kt_pg_simple(p, "ROLLBACK");
            return KT_EDB;
        }
    }
fail:
    snprintf(err, errcap, "cannot migrate the schema: %s", p->err);
    kt_pg_simple(p, "ROLLBACK");
    return KT_EDB;
}

/* Said once per process (a node opens several connections): the text searches scan without pg_trgm's indexes
 * (migration 3 could not make them), which is correct but slower on large tables. */
static void kt_pg_check_text_indexes(kt_pg *p)
{
    static int said;
    if (__atomic_load_n(&said, __ATOMIC_RELAXED))
        return;
    PGresult *res = PQexec(p->conn, "SELECT to_regclass('flows_source_trgm') IS NULL");
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !strcmp(PQgetvalue(res, 0, 0), "t")) {
        if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
            KT_INFO("store", "PostgreSQL: no pg_trgm index (the extension is not installed or may not be created here): "
                             "the log and flow source searches scan their tables");
    }
    PQclear(res);
}

/* The server's warnings go to Kite's log, not to libpq's default of stderr. */
static void kt_pg_notice(void *arg, const char *message)
{
    (void)arg;
    KT_WARN("store", "PostgreSQL: %.*s", (int)strcspn(message, "\n"), message);
}

/* A reader session (store/db_pool.c) takes no lock and migrates nothing: the schema must be the one this kite
 * migrates to, which the session that opened the store first made sure of. */
static kt_status kt_pg_check_schema(kt_pg *p, char *err, size_t errcap)
{
    int target = (int)(sizeof kt_pg_migrations / sizeof *kt_pg_migrations);
    PGresult *res = PQexec(p->conn, "SELECT COALESCE(MAX(version), 0) FROM kite_schema");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        kt_pg_remember(p, NULL, PQresultErrorMessage(res));
        PQclear(res);
        snprintf(err, errcap, "cannot read the schema version: %s", p->err);
        return KT_EDB;
    }
    int version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (version != target) {
        snprintf(err, errcap, "database schema %d is not this kite's (%d): open the store first", version, target);
        return KT_EDB;
    }
    return KT_OK;
}

kt_status kt_pg_open(const char *url, const kt_store_options *opt, kt_store **out, char *err, size_t errcap)
{
    /* synchronous_commit stays on (the server's default): an acknowledged commit is on disk */
    int reader = opt && opt->reader;
    int pooled = reader || (opt && opt->pooled);
    kt_pg *p = calloc(1, sizeof *p);
    if (!p)
        return KT_ENOMEM;
    p->base.ops = &kt_pg_ops;
    p->pooled = pooled;
    p->url = strdup(url);
    if (!p->url) {
        free(p);
        return KT_ENOMEM;
    }
    /* libpq parses the URL itself; its error messages never repeat the password */
    p->conn = PQconnectdb(url);
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        snprintf(err, errcap, "cannot connect to PostgreSQL: %s",
                 p->conn ? PQerrorMessage(p->conn) : "out of memory");
        size_t n = strlen(err);
        while (n && err[n - 1] == '\n')
            err[--n] = 0;
        goto fail;
    }
    PQsetNoticeProcessor(p->conn, kt_pg_notice, NULL);
    /* notices (e.g. "relation already exists, skipping") are not the user's business */
    if (kt_pg_simple(p, kt_pg_session_sql)) {
        snprintf(err, errcap, "cannot configure the PostgreSQL session: %s", p->err);
        goto fail;
    }
    if (pooled ? kt_pg_check_schema(p, err, errcap) : kt_pg_migrate(p, err, errcap))
        goto fail;
    if (!pooled) { /* the opener says it, and brings the log index to the setting */
        kt_log_index li = opt && opt->log_index ? opt->log_index : KT_STORE_LOG_INDEX_PG;
        if (kt_pg_log_index_apply(&p->base, li == KT_LOG_INDEX_ON, &p->log_index)) {
            snprintf(err, errcap, "cannot %s the log index (store.log-index): %s",
                     li == KT_LOG_INDEX_ON ? "build" : "drop", p->err);
            goto fail;
        }
        kt_pg_check_text_indexes(p);
    } else if (kt_pg_log_index_apply(&p->base, -1, &p->log_index)) { /* a reader follows what is there */
        snprintf(err, errcap, "cannot read the PostgreSQL catalogue: %s", p->err);
        goto fail;
    }
    /* a session setting, so a reconnection (kt_pg_revive) loses it: reader sessions only read anyway, this makes a
     * write by mistake an error rather than a silent second writer */
    if (reader && kt_pg_simple(p, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")) {
        snprintf(err, errcap, "cannot configure the PostgreSQL session: %s", p->err);
        goto fail;
    }
    *out = &p->base;
    return KT_OK;
fail:
    PQfinish(p->conn);
    free(p->url);
    free(p);
    return KT_EDB;
}

int kt_pg_log_indexed(kt_store *s) { return kt_pgs(s)->log_index; }

void kt_pg_close(kt_store *s)
{
    if (!s)
        return;
    kt_pg *p = kt_pgs(s);
    PQfinish(p->conn);
    free(p->url);
    free(p);
}

const char *kt_pg_errmsg(const kt_store *s) { return kt_pgs(s)->err; }

kt_status kt_pg_begin(kt_store *s)
{
    kt_pg *p = kt_pgs(s);
    KT_ASSERTF(!p->in_tx, "transactions do not nest"); /* a caller that forgot its commit or rollback */
    kt_pg_revive(p);
    kt_status st = kt_pg_simple(p, "BEGIN");
    p->in_tx = st == KT_OK;
    return st;
}

static double kt_pg_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

kt_status kt_pg_commit(kt_store *s)
{
    kt_pg *p = kt_pgs(s);
    double t0 = kt_pg_mono_s();
    /* a transaction that failed part-way answers COMMIT with ROLLBACK: that is a failed commit, not a success */
    PGresult *res = PQexec(p->conn, "COMMIT");
    kt_status st = KT_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        /* the SQLSTATE first, as for a statement: a serialization failure at COMMIT (40001) is one kt_db_txn retries */
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        kt_pg_remember(p, state ? state : "commit",
                       PQresultStatus(res) == PGRES_COMMAND_OK ? "the transaction had failed; rolled back"
                                                               : PQresultErrorMessage(res));
        st = KT_EDB;
    }
    PQclear(res);
    if (!p->pooled)
        kt_metric_observe(kt_metrics_histogram("kestra_store_commit_duration_seconds",
                                               "Duration of the store's commits", NULL, kt_metrics_latency_buckets,
                                               kt_metrics_latency_nbuckets),
                          kt_pg_mono_s() - t0);
    if (st)
        kt_pg_rollback(s);
    p->in_tx = 0;
    return st;
}

void kt_pg_rollback(kt_store *s)
{
    kt_pg *p = kt_pgs(s);
    /* a lost connection has no transaction left to end (its status is PQTRANS_UNKNOWN): a ROLLBACK would only
     * replace the message of the failure that matters */
    if (PQstatus(p->conn) == CONNECTION_OK && PQtransactionStatus(p->conn) != PQTRANS_IDLE)
        kt_pg_simple(p, "ROLLBACK");
    p->in_tx = 0;
}

const kt_store_ops kt_pg_ops = {
    .close = kt_pg_close,
    .errmsg = kt_pg_errmsg,
    .begin = kt_pg_begin,
    .commit = kt_pg_commit,
    .rollback = kt_pg_rollback,
    .flow_save = kt_pg_flow_save,
    .flow_get = kt_pg_flow_get,
    .flow_get_any = kt_pg_flow_get_any,
    .flow_revisions = kt_pg_flow_revisions,
    .flow_delete = kt_pg_flow_delete,
    .flow_purge_revisions = kt_pg_flow_purge_revisions,
    .metrics_purge = kt_pg_metrics_purge,
    .flow_ids = kt_pg_flow_ids,
    .execution_put = kt_pg_execution_put,
    .execution_get = kt_pg_execution_get,
    .executions_unfinished = kt_pg_executions_unfinished,
    .executions_search = kt_pg_executions_search,
    .flow_namespaces = kt_pg_flow_namespaces,
    .flows_latest = kt_pg_flows_latest,
    .flows_source_search = kt_pg_flows_source_search,
    .trigger_put = kt_pg_trigger_put,
    .trigger_get = kt_pg_trigger_get,
    .trigger_insert = kt_pg_trigger_insert,
    .trigger_claim = kt_pg_trigger_claim,
    .trigger_delete = kt_pg_trigger_delete,
    .trigger_fingerprint = kt_pg_trigger_fingerprint,
    .trigger_set_fingerprint = kt_pg_trigger_set_fingerprint,
    .triggers_list = kt_pg_triggers_list,
    .triggers_search = kt_pg_triggers_search,
    .window_get = kt_pg_window_get,
    .window_claim = kt_pg_window_claim,
    .window_insert = kt_pg_window_insert,
    .window_put = kt_pg_window_put,
    .window_delete = kt_pg_window_delete,
    .windows_expire = kt_pg_windows_expire,
    .notice_add = kt_pg_notice_add,
    .notice_done = kt_pg_notice_done,
    .notice_take = kt_pg_notice_take,
    .notices = kt_pg_notices,
    .logs_append = kt_pg_logs_append,
    .logs_get = kt_pg_logs_get,
    .logs_after = kt_pg_logs_after,
    .logs_page = kt_pg_logs_page,
    .logs_search = kt_pg_logs_search,
    .logs_delete = kt_pg_logs_delete,
    .logs_delete_flow = kt_pg_logs_delete_flow,
    .metrics_append = kt_pg_metrics_append,
    .metrics_search = kt_pg_metrics_search,
    .metrics_distinct = kt_pg_metrics_distinct,
    .metrics_aggregate = kt_pg_metrics_aggregate,
    .metrics_delete = kt_pg_metrics_delete,
    .executions_count = kt_pg_executions_count,
    .executions_match = kt_pg_executions_match,
    .logs_purge = kt_pg_logs_purge,
    .execution_purge = kt_pg_execution_purge,
    .lease_take = kt_pg_lease_take,
    .lease_renew = kt_pg_lease_renew,
    .lease_release = kt_pg_lease_release,
    .fence = kt_pg_fence,
    .fence_many = kt_pg_fence_many,
    .leases = kt_pg_leases,
};
