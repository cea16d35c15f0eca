/* What the PostgreSQL store's files share (pg.c owns the connection and the schema; pg_*.c hold the session
 * functions, each the mirror of a sqlite_*.c file).
 *
 * Conventions, the same in every pg_*.c file:
 *   - statements are text with $n placeholders, run by kt_pg_query; values are passed as text (integers through
 *     kt_pg_i64), bytea (msgpack) in binary through kt_pg_query_bin;
 *   - columns and meanings are SQLite's (the same names, times as int64 UTC microseconds, JSON bodies as text
 *     holding exactly the bytes written, so the API prints the same JSON from either store);
 *   - a failed statement is logged once by kt_pg_query with its SQLSTATE and leaves its message for
 *     kt_store_errmsg; the session function returns KT_EDB (KT_ECONFLICT for a unique violation). */
#ifndef KT_STORE_PG_INT_H
#define KT_STORE_PG_INT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "store/store_int.h"

PGconn *kt_pg_conn(kt_store *s);
/* The log messages' trigram index (store.log-index, pg_logs.c): kt_pg_log_index_apply, at open, creates it (on 1,
 * when pg_trgm is there: without it the search scans) or drops it (on 0), under the migrations' lock, or only looks
 * (on -1: a reader session); *present says whether it is there after. kt_pg_log_indexed: that answer, which the log search follows. */
kt_status kt_pg_log_index_apply(kt_store *s, int on, int *present);
int kt_pg_log_indexed(kt_store *s);
/* Whether the connection was lost (the server dropped it): a statement that failed then says nothing of the data,
 * so a listing stops with KT_EDB instead of skipping the row as undecodable. */
int kt_pg_lost(kt_store *s);

/* Runs sql with n text parameters (NULL = SQL NULL). Returns the result on PGRES_TUPLES_OK/COMMAND_OK, NULL on
 * failure (logged, message kept; *st, when given, gets KT_EDB or KT_ECONFLICT for SQLSTATE 23505). The caller
 * PQclear()s a non-NULL result. */
PGresult *kt_pg_query(kt_store *s, const char *sql, int n, const char *const *values, kt_status *st);
/* kt_pg_query with per-parameter lengths and formats (1 = binary: bytea). */
PGresult *kt_pg_query_bin(kt_store *s, const char *sql, int n, const char *const *values, const int *lengths,
                          const int *formats, kt_status *st);
/* kt_pg_query_bin whose rows come back in binary (PQexecParams' resultFormat 1), for reading bytea: such a column's
 * PQgetvalue is its bytes (PQgetlength of them), not the hex text. Every column is then binary: a text column is its
 * bytes (still NUL-terminated), but an integer is big-endian binary, which kt_pg_get_i64 does not read: select only
 * bytea and text columns this way. lengths and formats may be NULL (text parameters). */
PGresult *kt_pg_query_rows_bin(kt_store *s, const char *sql, int n, const char *const *values, const int *lengths,
                               const int *formats, kt_status *st);
/* A command whose rows do not matter: KT_OK, or kt_pg_query's status. *affected (may be NULL) = PQcmdTuples. */
kt_status kt_pg_command(kt_store *s, const char *sql, int n, const char *const *values, int64_t *affected);

/* Text of an int64 for a parameter (buf of at least 24 bytes); returns buf. */
const char *kt_pg_i64(char *buf, int64_t v);
/* Column col of row r as an int64 (0 when NULL). */
int64_t kt_pg_get_i64(const PGresult *res, int r, int col);
/* Column col of every row parsed as JSON, in order, into a new array; rows that do not parse are skipped (as
 * kt_sqlite_rows_json). */
kt_status kt_pg_rows_json(const PGresult *res, int col, json_t **out);
/* (pgquery) kt_pg_query then kt_pg_rows_json of column col: the bodies a SELECT returns, *out NULL on failure. */
kt_status kt_pg_query_json(kt_store *s, const char *sql, int n, const char *const *values, int col, json_t **out);
/* (pgquery) A statement of store/sql_build.h (KT_SQL_DOLLAR) run as kt_pg_query runs it; KT_EINVAL without running it
 * when it did not fit its buffers. kt_pg_sql_count: count_sql ("SELECT COUNT(*) FROM t") followed by w, the total of
 * a paged search. Both in pg_search.c. */
struct kt_sql;
PGresult *kt_pg_sql_query(kt_store *s, const struct kt_sql *q, kt_status *st);
kt_status kt_pg_sql_count(kt_store *s, const char *count_sql, const struct kt_sql *w, int64_t *total);

/* One execution from row r of a result whose columns are (body bytea, id text), as `SELECT body, id FROM executions`:
 * the header's msgpack plus its task runs read from taskruns (pg_exec.c). The result may be binary
 * (kt_pg_query_rows_bin, the cheaper) or text (kt_pg_query: the bytea is then unescaped). */
kt_status kt_pg_exec_row(kt_store *s, const PGresult *res, int r, json_t **out);

/* ---- statements encoded once (pg_stmt.c): what a write sends, as SQL text plus copies of its parameters, so the
 * blocking session functions run it at once and the loop's writer (pg_writer.c, store/db.h) keeps it in a batch and
 * sends it later, again after a lost connection, byte for byte the same. ---- */
typedef struct kt_pg_stmt {
    const char *sql;     /* static text, or sql_owned */
    char *sql_owned;
    int n;
    const char **values; /* NULL = SQL NULL; every value NUL-ended (a bytea's bytes too), all in block */
    int *lengths;
    int *formats;        /* 1 = binary (bytea) */
    int partition;       /* the partition whose fence guards it (store/db.h), -1 for none */
    char *block;
} kt_pg_stmt;
typedef struct kt_pg_stmts {
    kt_pg_stmt *v;
    size_t n, cap;
    size_t bytes;  /* what the list holds, near enough for a memory bound */
    int partition; /* given to the statements added from now on */
} kt_pg_stmts;
/* Appends a statement: sql (static) or sql_owned (malloc'ed, taken even on failure); the values are copied (text:
 * up to their NUL; formats[i] = 1: lengths[i] bytes). lengths and formats may be NULL (all text). */
kt_status kt_pg_stmts_add(kt_pg_stmts *l, const char *sql, char *sql_owned, int n, const char *const *values,
                          const int *lengths, const int *formats);
void kt_pg_stmts_clear(kt_pg_stmts *l);
/* Runs the list in order on the session's connection (blocking): the first failure's status. */
kt_status kt_pg_stmts_run(kt_store *s, const kt_pg_stmts *l);
/* The statements of kt_store_execution_put, kt_store_notice_add, kt_store_logs_append, kt_store_metrics_append. */
kt_status kt_pg_enc_execution_put(kt_pg_stmts *l, const json_t *execution, const size_t *runs, size_t nruns);
kt_status kt_pg_enc_notice_add(kt_pg_stmts *l, const char *execution_id, const char *state);
kt_status kt_pg_enc_logs_append(kt_pg_stmts *l, const json_t *entries);
kt_status kt_pg_enc_metrics_append(kt_pg_stmts *l, const json_t *entries);
/* The URL the store was opened with (the writer's own connection goes to the same place), and whether s is one. */
const char *kt_pg_url(const kt_store *s);
int kt_store_is_pg(const kt_store *s);

/* ---- the session functions, one per store.h function (kt_pg_ops) ---- */
void kt_pg_close(kt_store *s);
const char *kt_pg_errmsg(const kt_store *s);
kt_status kt_pg_begin(kt_store *s);
kt_status kt_pg_commit(kt_store *s);
void kt_pg_rollback(kt_store *s);
kt_status kt_pg_flow_save(kt_store *s, const char *ns, const char *id, const char *source, int dialect, int *revision, int *changed);
kt_status kt_pg_flow_get(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out);
kt_status kt_pg_flow_get_any(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out);
kt_status kt_pg_flow_revisions(kt_store *s, const char *ns, const char *id, json_t **rows);
kt_status kt_pg_flow_delete(kt_store *s, const char *ns, const char *id);
kt_status kt_pg_flow_ids(kt_store *s, const char *ns, json_t **out);
kt_status kt_pg_execution_put(kt_store *s, const json_t *execution, const size_t *runs, size_t nruns);
kt_status kt_pg_execution_get(kt_store *s, const char *id, json_t **out);
kt_status kt_pg_executions_unfinished(kt_store *s, json_t **out_array);
kt_status kt_pg_executions_search(kt_store *s, const kt_exec_query *q, json_t **results, int64_t *total);
kt_status kt_pg_flow_namespaces(kt_store *s, json_t **out);
kt_status kt_pg_flows_latest(kt_store *s, const char *ns_prefix, const char *q, json_t **rows);
kt_status kt_pg_flows_source_search(kt_store *s, const char *ns_prefix, const char *const *words, size_t n,
                                    json_t **rows);
kt_status kt_pg_trigger_put(kt_store *s, const json_t *trigger);
kt_status kt_pg_trigger_get(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out);
kt_status kt_pg_trigger_insert(kt_store *s, const json_t *trigger);
kt_status kt_pg_trigger_claim(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out);
kt_status kt_pg_trigger_delete(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id);
kt_status kt_pg_trigger_fingerprint(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id,
                                    char **out);
kt_status kt_pg_trigger_set_fingerprint(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id,
                                        const char *fingerprint);
kt_status kt_pg_triggers_list(kt_store *s, const char *ns, const char *flow_id, json_t **out_array);
kt_status kt_pg_triggers_search(kt_store *s, const kt_trigger_query *q, json_t **results, int64_t *total);
kt_status kt_pg_window_get(kt_store *s, const char *ns, const char *flow_id, const char *condition_id, json_t **out);
kt_status kt_pg_window_claim(kt_store *s, const char *ns, const char *flow_id, const char *condition_id, json_t **out);
kt_status kt_pg_window_insert(kt_store *s, const json_t *window);
kt_status kt_pg_window_put(kt_store *s, const json_t *window);
kt_status kt_pg_window_delete(kt_store *s, const char *ns, const char *flow_id, const char *condition_id);
kt_status kt_pg_windows_expire(kt_store *s, int64_t now_us);
kt_status kt_pg_notice_add(kt_store *s, const char *execution_id, const char *state);
kt_status kt_pg_notice_done(kt_store *s, const char *execution_id, const char *state);
kt_status kt_pg_notice_take(kt_store *s, const char *execution_id, const char *state, int *taken);
kt_status kt_pg_notices(kt_store *s, json_t **out_array);
kt_status kt_pg_logs_append(kt_store *s, const json_t *entries);
kt_status kt_pg_logs_get(kt_store *s, const char *execution_id, const kt_log_filter *f, json_t **out_array);
kt_status kt_pg_logs_after(kt_store *s, const char *execution_id, const char *min_level, int64_t *after,
                           json_t **out_array);
kt_status kt_pg_logs_page(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *after, int limit,
                          json_t **out_array);
kt_status kt_pg_logs_search(kt_store *s, const kt_log_query *q, json_t **results, int64_t *total);
kt_status kt_pg_logs_delete(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *count);
kt_status kt_pg_logs_delete_flow(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id,
                                 int64_t *count);
kt_status kt_pg_metrics_append(kt_store *s, const json_t *entries);
kt_status kt_pg_metrics_search(kt_store *s, const kt_metric_query *q, json_t **results, int64_t *total);
kt_status kt_pg_metrics_distinct(kt_store *s, const char *ns, const char *flow_id, const char *task_id, int task_ids,
                                 json_t **out);
kt_status kt_pg_metrics_aggregate(kt_store *s, const char *ns, const char *flow_id, const char *task_id,
                                  const char *name, int64_t from_us, int64_t to_us, const char *agg,
                                  kt_metric_bucket bucket, json_t **out);
kt_status kt_pg_metrics_delete(kt_store *s, const char *execution_id, int64_t *count);
kt_status kt_pg_flow_purge_revisions(kt_store *s, const char *ns, const char *id, int keep, int64_t before_us,
                                     int64_t *count); /* pg_flow_purge.c */
kt_status kt_pg_metrics_purge(kt_store *s, const char *ns, const char *flow_id, int64_t from_us, int64_t to_us,
                              int64_t *count); /* pg_flow_purge.c */
kt_status kt_pg_executions_count(kt_store *s, const kt_store_purge_query *q, int64_t *count);
kt_status kt_pg_executions_match(kt_store *s, const kt_store_purge_query *q, json_t **out);
kt_status kt_pg_logs_purge(kt_store *s, const kt_store_purge_query *q, int64_t *count);
kt_status kt_pg_execution_purge(kt_store *s, const char *id, int execution, int logs, int64_t *logs_deleted);
kt_status kt_pg_lease_take(kt_store *s, const char *kind, const int *ids, size_t n, const char *owner, int64_t ttl_us,
                           int force, kt_lease *out, size_t *taken);
kt_status kt_pg_lease_renew(kt_store *s, const char *kind, const kt_lease *held, size_t n, const char *owner,
                            int64_t ttl_us, kt_lease *out, size_t *kept);
kt_status kt_pg_lease_release(kt_store *s, const char *kind, const kt_lease *held, size_t n, const char *owner,
                              size_t *released);
kt_status kt_pg_fence(kt_store *s, const char *kind, int p, int64_t epoch);
kt_status kt_pg_fence_many(kt_store *s, const char *kind, const kt_lease *held, size_t n, int *lost);
kt_status kt_pg_leases(kt_store *s, const char *kind, json_t **out_array, int64_t *now_us);

#endif
