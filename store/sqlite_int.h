/* What the SQLite store's files share (sqlite.c owns the connection; sqlite_search.c, sqlite_triggers.c use it). */
#ifndef KT_STORE_SQLITE_INT_H
#define KT_STORE_SQLITE_INT_H

#include <jansson.h>
#include <sqlite3.h>

#include "store/store_int.h"

/* The backend's session functions (kt_sqlite_ops), one per store.h function, spread over the sqlite*.c files. */
void kt_sqlite_close(kt_store *s);
const char *kt_sqlite_errmsg(const kt_store *s);
kt_status kt_sqlite_begin(kt_store *s);
kt_status kt_sqlite_commit(kt_store *s);
void kt_sqlite_rollback(kt_store *s);
kt_status kt_sqlite_flow_save(kt_store *s, const char *ns, const char *id, const char *source, int dialect, int *revision, int *changed);
kt_status kt_sqlite_flow_get(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out);
kt_status kt_sqlite_flow_get_any(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out);
kt_status kt_sqlite_flow_revisions(kt_store *s, const char *ns, const char *id, json_t **rows);
kt_status kt_sqlite_flow_delete(kt_store *s, const char *ns, const char *id);
kt_status kt_sqlite_flow_ids(kt_store *s, const char *ns, json_t **out);
kt_status kt_sqlite_execution_put(kt_store *s, const json_t *execution, const size_t *runs, size_t nruns);
kt_status kt_sqlite_execution_get(kt_store *s, const char *id, json_t **out);
kt_status kt_sqlite_executions_unfinished(kt_store *s, json_t **out_array);
kt_status kt_sqlite_executions_search(kt_store *s, const kt_exec_query *q, json_t **results, int64_t *total);
kt_status kt_sqlite_flow_namespaces(kt_store *s, json_t **out);
kt_status kt_sqlite_flows_latest(kt_store *s, const char *ns_prefix, const char *q, json_t **rows);
kt_status kt_sqlite_flows_source_search(kt_store *s, const char *ns_prefix, const char *const *words, size_t n,
                                        json_t **rows);
kt_status kt_sqlite_trigger_put(kt_store *s, const json_t *trigger);
kt_status kt_sqlite_trigger_get(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out);
kt_status kt_sqlite_trigger_insert(kt_store *s, const json_t *trigger);
kt_status kt_sqlite_trigger_claim(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out);
kt_status kt_sqlite_trigger_delete(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id);
kt_status kt_sqlite_trigger_fingerprint(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, char **out);
kt_status kt_sqlite_trigger_set_fingerprint(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, const char *fingerprint);
kt_status kt_sqlite_triggers_list(kt_store *s, const char *ns, const char *flow_id, json_t **out_array);
kt_status kt_sqlite_triggers_search(kt_store *s, const kt_trigger_query *q, json_t **results, int64_t *total);
kt_status kt_sqlite_window_get(kt_store *s, const char *ns, const char *flow_id, const char *condition_id, json_t **out);
kt_status kt_sqlite_window_claim(kt_store *s, const char *ns, const char *flow_id, const char *condition_id, json_t **out);
kt_status kt_sqlite_window_insert(kt_store *s, const json_t *window);
kt_status kt_sqlite_window_put(kt_store *s, const json_t *window);
kt_status kt_sqlite_window_delete(kt_store *s, const char *ns, const char *flow_id, const char *condition_id);
kt_status kt_sqlite_windows_expire(kt_store *s, int64_t now_us);
kt_status kt_sqlite_notice_add(kt_store *s, const char *execution_id, const char *state);
kt_status kt_sqlite_notice_done(kt_store *s, const char *execution_id, const char *state);
kt_status kt_sqlite_notice_take(kt_store *s, const char *execution_id, const char *state, int *taken);
kt_status kt_sqlite_notices(kt_store *s, json_t **out_array);
kt_status kt_sqlite_logs_append(kt_store *s, const json_t *entries);
kt_status kt_sqlite_logs_get(kt_store *s, const char *execution_id, const kt_log_filter *f, json_t **out_array);
kt_status kt_sqlite_logs_after(kt_store *s, const char *execution_id, const char *min_level, int64_t *after, json_t **out_array);
kt_status kt_sqlite_logs_page(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *after, int limit, json_t **out_array);
kt_status kt_sqlite_logs_search(kt_store *s, const kt_log_query *q, json_t **results, int64_t *total);
kt_status kt_sqlite_logs_delete(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *count);
kt_status kt_sqlite_logs_delete_flow(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, int64_t *count);
kt_status kt_sqlite_metrics_append(kt_store *s, const json_t *entries);
kt_status kt_sqlite_metrics_search(kt_store *s, const kt_metric_query *q, json_t **results, int64_t *total);
kt_status kt_sqlite_metrics_distinct(kt_store *s, const char *ns, const char *flow_id, const char *task_id, int task_ids, json_t **out);
kt_status kt_sqlite_metrics_aggregate(kt_store *s, const char *ns, const char *flow_id, const char *task_id, const char *name, int64_t from_us, int64_t to_us, const char *agg, kt_metric_bucket bucket, json_t **out);
kt_status kt_sqlite_metrics_delete(kt_store *s, const char *execution_id, int64_t *count);
kt_status kt_sqlite_flow_purge_revisions(kt_store *s, const char *ns, const char *id, int keep, int64_t before_us,
                                         int64_t *count); /* sqlite_flow_purge.c */
kt_status kt_sqlite_metrics_purge(kt_store *s, const char *ns, const char *flow_id, int64_t from_us, int64_t to_us,
                                  int64_t *count); /* sqlite_flow_purge.c */
kt_status kt_sqlite_executions_count(kt_store *s, const kt_store_purge_query *q, int64_t *count);
kt_status kt_sqlite_executions_match(kt_store *s, const kt_store_purge_query *q, json_t **out);
kt_status kt_sqlite_logs_purge(kt_store *s, const kt_store_purge_query *q, int64_t *count);
kt_status kt_sqlite_execution_purge(kt_store *s, const char *id, int execution, int logs, int64_t *logs_deleted);
kt_status kt_sqlite_lease_take(kt_store *s, const char *kind, const int *ids, size_t n, const char *owner, int64_t ttl_us, int force, kt_lease *out, size_t *taken);
kt_status kt_sqlite_lease_renew(kt_store *s, const char *kind, const kt_lease *held, size_t n, const char *owner, int64_t ttl_us, kt_lease *out, size_t *kept);
kt_status kt_sqlite_lease_release(kt_store *s, const char *kind, const kt_lease *held, size_t n, const char *owner, size_t *released);
kt_status kt_sqlite_fence(kt_store *s, const char *kind, int p, int64_t epoch);
kt_status kt_sqlite_fence_many(kt_store *s, const char *kind, const kt_lease *held, size_t n, int *lost);
kt_status kt_sqlite_leases(kt_store *s, const char *kind, json_t **out_array, int64_t *now_us);

sqlite3 *kt_sqlite_db(kt_store *s);
kt_status kt_sqlite_exec_row(kt_store *s, sqlite3_stmt *row, json_t **out);
/* A statement of the store's cache, prepared on first use (sql is the caller's static text, compared by address). */
sqlite3_stmt *kt_sqlite_prepared(kt_store *s, const char *sql);
/* Steps st to its end, each row's column col parsed as JSON into a new array (*out); rows that do not parse are
 * skipped. KT_EDB when a step fails (*out NULL). The caller resets or finalizes st. */
kt_status kt_sqlite_rows_json(sqlite3_stmt *st, int col, json_t **out);
/* The log messages' full-text index (sqlite_fts.c, store.log-index). kt_sqlite_log_index_apply, at open: builds it
 * (indexing the lines there) or drops it so that the database has it exactly when on. kt_sqlite_log_indexed: whether
 * this store has it. kt_sqlite_log_index_feed: indexes the lines from first_seq on, inside the append's transaction.
 * kt_sqlite_log_match: the MATCH expression of the lines that may hold v (kt_sql_indexable's values), into out; -1
 * when it does not fit. */
kt_status kt_sqlite_log_index_apply(sqlite3 *db, int on, char *err, size_t errcap);
/* 1 when the database has the index as kt_sqlite_log_index_apply builds it, 0 when not, -1 on error (a reader
 * session's question: it may not build or drop anything). */
int kt_sqlite_log_index_there(sqlite3 *db);
int kt_sqlite_log_indexed(kt_store *s);
kt_status kt_sqlite_log_index_feed(kt_store *s, int64_t first_seq);
int kt_sqlite_log_match(const char *v, char *out, size_t cap);
/* A statement of store/sql_build.h (KT_SQL_QMARK): its values bound in order (sqlite_search.c). */
struct kt_sql;
void kt_sqlite_sql_bind(const struct kt_sql *q, sqlite3_stmt *st);
/* count_sql ("SELECT COUNT(*) FROM t") followed by w's WHERE clause: the total of a paged search. KT_EINVAL when w
 * did not fit its buffers. */
kt_status kt_sqlite_sql_count(sqlite3 *db, const char *count_sql, const struct kt_sql *w, int64_t *total);

#endif
