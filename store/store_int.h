/* What a store backend implements (store/sqlite.c, store/pg.c): store.h's session functions as a table, and the
 * struct every backend's own begins with. store.c picks the backend from the location and dispatches. */
#ifndef KT_STORE_INT_H
#define KT_STORE_INT_H

#include "store/store.h"

/* One backend's implementation of store.h's session functions (a table, as storage_int.h's). */
typedef struct kt_store_ops {
    void (*close)(kt_store *s);
    const char *(*errmsg)(const kt_store *s);
    kt_status (*begin)(kt_store *s);
    kt_status (*commit)(kt_store *s);
    void (*rollback)(kt_store *s);
    /* dialect: a kt_dialect, or -1 for none (NULL column) */
    kt_status (*flow_save)(kt_store *s, const char *ns, const char *id, const char *source, int dialect, int *revision,
                           int *changed);
    kt_status (*flow_get)(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out);
    kt_status (*flow_get_any)(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out);
    kt_status (*flow_revisions)(kt_store *s, const char *ns, const char *id, json_t **rows);
    kt_status (*flow_delete)(kt_store *s, const char *ns, const char *id);
    kt_status (*flow_purge_revisions)(kt_store *s, const char *ns, const char *id, int keep, int64_t before_us,
                                      int64_t *count);
    kt_status (*metrics_purge)(kt_store *s, const char *ns, const char *flow_id, int64_t from_us, int64_t to_us,
                               int64_t *count);
    kt_status (*flow_ids)(kt_store *s, const char *ns, json_t **out);
    kt_status (*execution_put)(kt_store *s, const json_t *execution, const size_t *runs, size_t nruns);
    kt_status (*execution_get)(kt_store *s, const char *id, json_t **out);
    kt_status (*executions_unfinished)(kt_store *s, json_t **out_array);
    kt_status (*executions_search)(kt_store *s, const kt_exec_query *q, json_t **results, int64_t *total);
    kt_status (*flow_namespaces)(kt_store *s, json_t **out);
    kt_status (*flows_latest)(kt_store *s, const char *ns_prefix, const char *q, json_t **rows);
    kt_status (*flows_source_search)(kt_store *s, const char *ns_prefix, const char *const *words, size_t n,
                                     json_t **rows);
    kt_status (*trigger_put)(kt_store *s, const json_t *trigger);
    kt_status (*trigger_get)(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out);
    kt_status (*trigger_insert)(kt_store *s, const json_t *trigger);
    kt_status (*trigger_claim)(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out);
    kt_status (*trigger_delete)(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id);
    kt_status (*trigger_fingerprint)(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, char **out);
    kt_status (*trigger_set_fingerprint)(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, const char *fingerprint);
    kt_status (*triggers_list)(kt_store *s, const char *ns, const char *flow_id, json_t **out_array);
    kt_status (*triggers_search)(kt_store *s, const kt_trigger_query *q, json_t **results, int64_t *total);
    kt_status (*window_get)(kt_store *s, const char *ns, const char *flow_id, const char *condition_id, json_t **out);
    kt_status (*window_claim)(kt_store *s, const char *ns, const char *flow_id, const char *condition_id, json_t **out);
    kt_status (*window_insert)(kt_store *s, const json_t *window);
    kt_status (*window_put)(kt_store *s, const json_t *window);
    kt_status (*window_delete)(kt_store *s, const char *ns, const char *flow_id, const char *condition_id);
    kt_status (*windows_expire)(kt_store *s, int64_t now_us);
    kt_status (*notice_add)(kt_store *s, const char *execution_id, const char *state);
    kt_status (*notice_done)(kt_store *s, const char *execution_id, const char *state);
    kt_status (*notice_take)(kt_store *s, const char *execution_id, const char *state, int *taken);
    kt_status (*notices)(kt_store *s, json_t **out_array);
    kt_status (*logs_append)(kt_store *s, const json_t *entries);
    kt_status (*logs_get)(kt_store *s, const char *execution_id, const kt_log_filter *f, json_t **out_array);
    kt_status (*logs_after)(kt_store *s, const char *execution_id, const char *min_level, int64_t *after, json_t **out_array);
    kt_status (*logs_page)(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *after, int limit, json_t **out_array);
    kt_status (*logs_search)(kt_store *s, const kt_log_query *q, json_t **results, int64_t *total);
    kt_status (*logs_delete)(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *count);
    kt_status (*logs_delete_flow)(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, int64_t *count);
    kt_status (*metrics_append)(kt_store *s, const json_t *entries);
    kt_status (*metrics_search)(kt_store *s, const kt_metric_query *q, json_t **results, int64_t *total);
    kt_status (*metrics_distinct)(kt_store *s, const char *ns, const char *flow_id, const char *task_id, int task_ids, json_t **out);
    kt_status (*metrics_aggregate)(kt_store *s, const char *ns, const char *flow_id, const char *task_id, const char *name, int64_t from_us, int64_t to_us, const char *agg, kt_metric_bucket bucket, json_t **out);
    kt_status (*metrics_delete)(kt_store *s, const char *execution_id, int64_t *count);
    kt_status (*executions_count)(kt_store *s, const kt_store_purge_query *q, int64_t *count);
    kt_status (*executions_match)(kt_store *s, const kt_store_purge_query *q, json_t **out);
    kt_status (*logs_purge)(kt_store *s, const kt_store_purge_query *q, int64_t *count);
    kt_status (*execution_purge)(kt_store *s, const char *id, int execution, int logs, int64_t *logs_deleted);
    kt_status (*lease_take)(kt_store *s, const char *kind, const int *ids, size_t n, const char *owner, int64_t ttl_us, int force, kt_lease *out, size_t *taken);
    kt_status (*lease_renew)(kt_store *s, const char *kind, const kt_lease *held, size_t n, const char *owner, int64_t ttl_us, kt_lease *out, size_t *kept);
    kt_status (*lease_release)(kt_store *s, const char *kind, const kt_lease *held, size_t n, const char *owner, size_t *released);
    kt_status (*fence)(kt_store *s, const char *kind, int p, int64_t epoch);
    kt_status (*fence_many)(kt_store *s, const char *kind, const kt_lease *held, size_t n, int *lost);
    kt_status (*leases)(kt_store *s, const char *kind, json_t **out_array, int64_t *now_us);
} kt_store_ops;

/* The first member of each backend's struct: a kt_store * is the address of the backend's own. */
struct kt_store {
    const kt_store_ops *ops;
};

/* The partition ids of ids[0..n) without duplicates, in ascending order, into out (room for n); returns how many:
 * what both backends' lease functions work on (one row locked once, rows locked in one order). */
size_t kt_store_lease_ids(const int *ids, size_t n, int *out);
/* Sorts leases by id (what the backends return: RETURNING has no order). */
void kt_store_lease_sort(kt_lease *l, size_t n);

/* The store's own text of a metric sort column (kt_store_metric_sort_column's values), NULL for any other: what a
 * backend puts in its ORDER BY, never the caller's string. */
const char *kt_store_metric_column(const char *column);
/* One metric entry's columns (a MetricEntry as the executor and the indexer write it), borrowed from the entry. */
typedef struct kt_metric_row {
    const char *ns, *flow_id, *task_id, *execution_id, *taskrun_id, *type, *name;
    double value;
    int64_t timestamp_us;
} kt_metric_row;
/* Entry #i's columns into out; 0 when it has every column the table needs, else -1 after a WARN (the entry is
 * skipped, as both backends' metrics_append do). */
int kt_store_metric_row(const json_t *e, size_t i, kt_metric_row *out);

/* The column of a trigger search's sort field (kt_trigger_query.sort_column, Kestra's names), NULL when not
 * sortable: the backends' ORDER BY text, never the caller's string. */
const char *kt_store_trigger_sort_column(const char *field);
/* A flows.dialect column's text as the rows' "dialect" field: "1.x" or "2.x"; NULL, "" or unreadable -> "1.x" (a
 * revision saved before Kite had dialects). */
const char *kt_store_dialect_text(const char *column);

/* SQLite in DIR/kite.db (sqlite.c). */
extern const kt_store_ops kt_sqlite_ops;
kt_status kt_sqlite_open(const char *dir, const kt_store_options *opt, kt_store **out, char *err, size_t errcap);

/* PostgreSQL at a postgres:// or postgresql:// URL (pg.c). */
extern const kt_store_ops kt_pg_ops;
kt_status kt_pg_open(const char *url, const kt_store_options *opt, kt_store **out, char *err, size_t errcap);

#endif
