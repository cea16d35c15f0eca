/* The repository: flows (every revision, with the YAML source), executions, task logs.
 * One interface, two backends (store_int.h): SQLite in a directory (sqlite*.c, the embedded default) and PostgreSQL
 * at a URL (pg*.c, shared by the nodes of a cluster).
 *
 * Calls are synchronous and run on the loop thread. The hot writers (the executor's turn, the indexer's lines) go
 * through store/db.h instead: a batch per turn, committed without blocking the loop on PostgreSQL. */
#ifndef KT_STORE_H
#define KT_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/dialect.h"
#include "base/status.h"

typedef struct kt_store kt_store;

/* store.log-index: whether the log search's q is served by a full-text index (SQLite FTS5 trigram, PostgreSQL
 * pg_trgm GIN) or by the scan. The answers are the same either way; the index costs on every appended line and pays
 * on selective searches (docs/store-async-design.md §3). The store builds or drops it at open to match. */
typedef enum kt_log_index {
    KT_LOG_INDEX_DEFAULT, /* the backend's default: KT_STORE_LOG_INDEX_SQLITE / _PG */
    KT_LOG_INDEX_ON,
    KT_LOG_INDEX_OFF,
} kt_log_index;
#define KT_STORE_LOG_INDEX_SQLITE KT_LOG_INDEX_ON
#define KT_STORE_LOG_INDEX_PG KT_LOG_INDEX_OFF
/* "on" / "off" (also "true" / "false": YAML may have read on as a boolean) -> *out; "" -> the default. -1 otherwise. */
int kt_store_log_index_of(const char *text, kt_log_index *out);

typedef struct kt_store_options {
    int sync_full; /* synchronous=FULL (fsync every commit) instead of NORMAL (WAL: durable across crashes of
                      the process, not of the machine) */
    int reader; /* a reader session on a store another session already opened and migrated (store/db_pool.c's
                   threads): no migration, no lock taken (KT_EDB when the schema is not this kite's), and reads only
                   (SQLite: query_only; PostgreSQL: default_transaction_read_only) */
    kt_log_index log_index;
    int pooled; /* a session of the pool's threads (store/db_pool.c): like a reader it neither migrates nor takes the
                   migration lock, but it may write (kt_db_txn's writer sessions); reader or pooled, it records no
                   metrics, base/metrics being the loop thread's */
} kt_store_options;

/* Opens the store at `where` and applies migrations: a postgres:// or postgresql:// URL (libpq's form), or a
 * directory (optionally sqlite://DIR) holding kite.db, created if needed. A URL's ?log_index=on|off (taken out
 * before libpq sees it) wins over opt->log_index; ?readers= is the read pool's and ignored here. err gets the reason on failure (a URL's
 * password is never in it: kt_store_scrub). */
kt_status kt_store_open(const char *where, const kt_store_options *opt, kt_store **out, char *err, size_t errcap);
/* 1 when `where` names a PostgreSQL store (kt_store_open would connect rather than open a directory). */
int kt_store_is_url_postgres(const char *where);
/* `where` as it may be printed (store_url.c): a URL's password (user:PASSWORD@, a password= or sslpassword=
 * parameter) replaced by ****, everything else kept; a directory unchanged. out is always NUL-terminated. */
void kt_store_redact(const char *where, char *out, size_t cap);
/* Masks in msg (in place, within cap) every trace of where's password: the whole URL quoted by a parser becomes its
 * redacted form, then the password itself, as written and %-decoded, becomes ****. */
void kt_store_scrub(const char *where, char *msg, size_t cap);
/* Takes Kite's parameter `name` out of a store URL's query (libpq refuses parameters it does not know): 1 when found,
 * its last value in value; rest gets where without it (all of where when absent, or when where is a directory). */
int kt_store_url_take(const char *where, const char *name, char *value, size_t vcap, char *rest, size_t rcap);
void kt_store_close(kt_store *s);
const char *kt_store_errmsg(const kt_store *s);

/* Transactions do not nest: a begin inside one is a caller's bug and asserts (base/assert.h). */
kt_status kt_store_begin(kt_store *s);
kt_status kt_store_commit(kt_store *s);
void kt_store_rollback(kt_store *s);

/* ---- flows ---- */
typedef struct kt_flow_row {
    char *namespace_;
    char *id;
    int revision;
    int deleted;
    char *source;
    int64_t updated_us;
    /* the line the revision was saved in (flow/dialect.h), which every later parse of its source keeps
     * (kt_flow_parse_pinned); a revision saved before Kite had dialects, or by kt_store_flow_save, is 1.x */
    kt_dialect dialect;
} kt_flow_row;
void kt_flow_row_clear(kt_flow_row *r);

/* Saves a new revision (last + 1) with the dialect its source was read in, unless the latest revision has the same
 * source and is not deleted; then nothing is written and *changed is 0: that revision keeps the dialect it was saved
 * in, even when the server's default has changed since (a flow's dialect changes with its source, e.g. `dialect:`,
 * never with the configuration). A deletion revision keeps the dialect of the revision it deletes. */
kt_status kt_store_flow_save_dialect(kt_store *s, const char *ns, const char *id, const char *source,
                                     kt_dialect dialect, int *revision, int *changed);
/* kt_store_flow_save_dialect without a dialect (the column stays empty: read as 1.x, like the revisions saved
 * before Kite had dialects). For tools and tests; the API's save paths give the dialect. */
kt_status kt_store_flow_save(kt_store *s, const char *ns, const char *id, const char *source, int *revision,
                             int *changed);
/* revision 0 = latest. KT_ENOTFOUND when absent, or when the latest revision is a deletion (revision 0 only). */
kt_status kt_store_flow_get(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out);
/* kt_store_flow_get that also gives a latest revision that is a deletion (Kestra's allowDeleted). */
kt_status kt_store_flow_get_any(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out);
/* Every revision of the flow, ascending: [{namespace, id, revision, deleted, source, dialect}] ([] when none);
 * dialect is "1.x" or "2.x" (kt_dialect_of_flow reads it from the row). */
kt_status kt_store_flow_revisions(kt_store *s, const char *ns, const char *id, json_t **rows);
/* Marks the flow deleted by writing a deletion revision. KT_ENOTFOUND if it does not exist. */
kt_status kt_store_flow_delete(kt_store *s, const char *ns, const char *id);
/* Deletes old revisions of a flow (io.kestra.plugin.core.flow.PurgeFlows, Version.revisionsToPurge), never its latest:
 * keep > 0 keeps the keep newest revisions; otherwise before_us >= 0 deletes those saved at or before it; otherwise
 * every revision but the latest. *count (may be NULL): how many were deleted. */
kt_status kt_store_flow_purge_revisions(kt_store *s, const char *ns, const char *id, int keep, int64_t before_us,
                                        int64_t *count);
/* Deletes the task metrics (metric.PurgeMetrics) of namespace ns (NULL: any; without flow_id its child namespaces too)
 * and flow flow_id (NULL: any) whose timestamp is in [from_us (0: open), to_us]; *count (may be NULL): how many. */
kt_status kt_store_metrics_purge(kt_store *s, const char *ns, const char *flow_id, int64_t from_us, int64_t to_us,
                                 int64_t *count);

/* Ids of the live (latest revision not deleted) flows of exactly this namespace, sorted; a JSON array of strings. */
kt_status kt_store_flow_ids(kt_store *s, const char *ns, json_t **out);

/* ---- executions ---- */
/* Upsert by execution id; indexed columns are read from the JSON (namespace, flowId, state.current). Task runs are
 * rows of their own, so a transition writes the execution's header and only the task runs it changed: runs lists
 * their positions in taskRunList (NULL = all of them). */
kt_status kt_store_execution_put(kt_store *s, const json_t *execution, const size_t *runs, size_t nruns);
kt_status kt_store_execution_get(kt_store *s, const char *id, json_t **out);
/* Executions whose state is not terminal, oldest first (the executor resumes them at start). */
kt_status kt_store_executions_unfinished(kt_store *s, json_t **out_array);

/* Search (GET /api/v1/executions/search): every filter is optional. */
typedef struct kt_exec_query {
    const char *namespace_;      /* prefix: "a.b" matches a.b and a.b.c */
    const char *flow_id;
    const char *const *states;   /* any of */
    size_t nstates;
    const char *const *labels;   /* "key:value", all of */
    size_t nlabels;
    const char *q;               /* substring of id, namespace or flow id */
    int64_t start_from_us;       /* state.startDate >= (0: none) */
    int64_t start_to_us;         /* state.startDate <= (0: none) */
    const char *sort_column;     /* one of the store's sortable names (see kt_store_exec_sort_column); NULL: start */
    int sort_desc;
    int page, size;              /* 1-based page */
} kt_exec_query;
/* Maps Kestra's sort field (`state.startDate`, `id`, `flowId`...) to the store's name; NULL when not sortable. */
const char *kt_store_exec_sort_column(const char *kestra_field);
kt_status kt_store_executions_search(kt_store *s, const kt_exec_query *q, json_t **results, int64_t *total);

/* The distinct namespaces of the live flows (latest revision not deleted), sorted; a JSON array of strings. */
kt_status kt_store_flow_namespaces(kt_store *s, json_t **out);
/* The latest revision of every live flow whose namespace starts with ns_prefix (NULL: all) and whose id or namespace
 * contains q (NULL: any), ordered by namespace then id: [{namespace, id, revision, source, dialect}]. */
kt_status kt_store_flows_latest(kt_store *s, const char *ns_prefix, const char *q, json_t **rows);
/* The source search of GET /api/v1/flows/source: kt_store_flows_latest's rows (ns_prefix as there) whose source holds
 * each of the n words, ignoring ASCII case (Kestra's fulltext condition, the caller splitting q into its words; n 0:
 * every flow). Served by the full-text index for words of 3 characters or more. */
kt_status kt_store_flows_source_search(kt_store *s, const char *ns_prefix, const char *const *words, size_t n,
                                       json_t **rows);

/* ---- triggers (KESTRA-execution.md §5.2): one row per (namespace, flowId, triggerId) holding Kestra's Trigger
 * JSON (flow/trigger.h: kt_trig_state_json), with namespace, flowId, triggerId and nextExecutionDate as indexed
 * columns. The store is the truth: whoever changes a row (scheduler, API, executor) writes it, inside its own
 * transaction or the caller's, then tells the scheduler (KT_MSG_TRIGGER_CHANGED) so it re-arms. ---- */
kt_status kt_store_trigger_put(kt_store *s, const json_t *trigger);
/* kt_store_trigger_put of a row made from nothing, inside the caller's transaction: KT_ECONFLICT (nothing written)
 * when the key already has a row, which another scheduler (or the API) wrote since the caller found none. */
kt_status kt_store_trigger_insert(kt_store *s, const json_t *trigger);
/* KT_ENOTFOUND when absent. */
kt_status kt_store_trigger_get(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out);
/* kt_store_trigger_get for a read-modify-write, inside the caller's transaction: the row stays claimed until its
 * commit or rollback, so two schedulers (or a scheduler and the API) never both change the state they read.
 * PostgreSQL: SELECT ... FOR UPDATE (a second claim waits for the first's commit, then reads what it wrote); SQLite:
 * the write transaction already excludes every other writer. KT_ENOTFOUND when absent. */
kt_status kt_store_trigger_claim(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id,
                                 json_t **out);
kt_status kt_store_trigger_delete(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id);
/* The fingerprint of the trigger definition a row's dates were computed from (the scheduler's, kept beside Kestra's
 * JSON, not in it): a revision saved while no scheduler ran is recognised at the next start. *out is malloc'ed, NULL
 * when the row has none; KT_ENOTFOUND without a row. */
kt_status kt_store_trigger_fingerprint(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id,
                                       char **out);
kt_status kt_store_trigger_set_fingerprint(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id,
                                           const char *fingerprint);
/* Every row of one flow (flow_id non-NULL) or of every flow (ns and flow_id NULL), ordered by namespace, flowId,
 * triggerId; a JSON array of Trigger objects. */
kt_status kt_store_triggers_list(kt_store *s, const char *ns, const char *flow_id, json_t **out_array);

/* GET /api/v1/triggers/search: every filter is optional. */
typedef struct kt_trigger_query {
    const char *namespace_;  /* prefix: "a.b" matches a.b and a.b.c */
    const char *flow_id;
    const char *worker_id;
    const char *q;           /* substring of namespace, flowId or triggerId */
    const char *sort_column; /* namespace, flowId, triggerId, executionId, nextExecutionDate (Kestra's names) */
    int sort_desc;
    int page, size;          /* 1-based page */
} kt_trigger_query;
kt_status kt_store_triggers_search(kt_store *s, const kt_trigger_query *q, json_t **results, int64_t *total);

/* ---- multiple-condition windows (KESTRA-execution.md §5.8): {namespace, flowId, conditionId, start, end, results:
 * {subConditionId: true}} keyed by (namespace, flowId, conditionId); written in the same transaction as the
 * execution a Flow trigger starts, so a restart sees both or neither. ---- */
kt_status kt_store_window_get(kt_store *s, const char *ns, const char *flow_id, const char *condition_id, json_t **out);
/* kt_store_window_get for a read-modify-write, as kt_store_trigger_claim: the row stays claimed until the caller's
 * commit (PostgreSQL: FOR UPDATE; SQLite: the write transaction). KT_ENOTFOUND when absent: nothing is held then, and
 * a window made from nothing is written with kt_store_window_insert. */
kt_status kt_store_window_claim(kt_store *s, const char *ns, const char *flow_id, const char *condition_id,
                                json_t **out);
/* Inserts the window only if its key has none: KT_ECONFLICT (nothing written) when one exists. */
kt_status kt_store_window_insert(kt_store *s, const json_t *window);
kt_status kt_store_window_put(kt_store *s, const json_t *window);
kt_status kt_store_window_delete(kt_store *s, const char *ns, const char *flow_id, const char *condition_id);
/* Windows whose end is before now_us are deleted (Kestra deletes expired windows after each evaluation). */
kt_status kt_store_windows_expire(kt_store *s, int64_t now_us);

/* ---- notices: the changes of an execution's state the scheduler has to see (Flow triggers, a Schedule's lock).
 * The executor adds one in the transaction that commits the change and then sends the message; the scheduler deletes
 * it in the transaction that commits what it made of it, and replays those left at start. So a SIGKILL between the
 * two commits loses no Flow trigger. ---- */
kt_status kt_store_notice_add(kt_store *s, const char *execution_id, const char *state);
/* Deletes one notice of (execution, state), the oldest: two alike are two changes (a restarted execution that fails
 * again, RUNNING again after a pause), each acted on once. */
kt_status kt_store_notice_done(kt_store *s, const char *execution_id, const char *state);
/* kt_store_notice_done that says whether the notice was still there (*taken = 1): with several schedulers, the one
 * whose transaction takes it acts on it, and another one (a replay at its start, a duplicate) rolls back. */
kt_status kt_store_notice_take(kt_store *s, const char *execution_id, const char *state, int *taken);
/* [{"executionId", "state"}] oldest first. */
kt_status kt_store_notices(kt_store *s, json_t **out_array);

/* ---- partition leases (docs/store-async-design.md §4, §4.1): which node owns each partition of a kind of work
 * ("executor": the executions whose id falls in it, base/partition.h). One row per (kind, id) in kite_partitions:
 * its owner (a node id, NULL when free), its epoch (every take adds one) and when the lease expires (UTC
 * microseconds, on the database's clock: PostgreSQL's now(), so nodes never compare their own clocks). These run
 * outside the caller's transactions, each one statement; kt_store_fence runs inside one. ---- */
typedef struct kt_lease {
    int id;             /* the partition */
    int64_t epoch;      /* the epoch this holder's commits are fenced with */
    int64_t expires_us; /* on the database's clock */
} kt_lease;
/* Takes, for owner, each partition of `kind` among ids[0..n) whose lease is free (never taken or released), expired,
 * or already owner's (a node restarted under the same id takes a fresh epoch, which fences its previous life);
 * force takes them whoever holds them (a store only this process can open: SQLite under its directory lock). A
 * taken one gets epoch + 1 and expires ttl_us from now. out (room for n) gets the ones taken, by id; *taken how
 * many. Duplicate ids count once. A lease held by another live owner is left alone. */
kt_status kt_store_lease_take(kt_store *s, const char *kind, const int *ids, size_t n, const char *owner,
                              int64_t ttl_us, int force, kt_lease *out, size_t *taken);
/* Renews owner's leases held[0..n) (id and epoch as taken): each still owner's at that epoch expires ttl_us from
 * now and is written to out (room for n), by id; *kept how many. One missing is lost: another owner took it (an
 * expired lease nobody took is still ours: the epoch decides, not the clock). */
kt_status kt_store_lease_renew(kt_store *s, const char *kind, const kt_lease *held, size_t n, const char *owner,
                               int64_t ttl_us, kt_lease *out, size_t *kept);
/* Gives up owner's leases held[0..n) that are still its own at their epoch (owner NULL): the next take of them
 * needs no expiry. The caller drains its commits of those partitions first (a fence fails after this).
 * *released (may be NULL) how many were. */
kt_status kt_store_lease_release(kt_store *s, const char *kind, const kt_lease *held, size_t n, const char *owner,
                                 size_t *released);
/* Inside a transaction: KT_OK when partition p of kind is still held at epoch, KT_EFENCED when its epoch moved (or
 * it was released): the caller rolls back, since another owner may have loaded the partition already. PostgreSQL
 * locks the row FOR SHARE until the commit, so a concurrent take waits for this transaction: a commit lands either
 * wholly before the epoch moves (and the next owner's load sees it) or not at all. Fence a transaction's
 * partitions in ascending order (a take locks its rows in that order too). */
kt_status kt_store_fence(kt_store *s, const char *kind, int p, int64_t epoch);
/* kt_store_fence for the partitions held[0..n) (id and epoch, any order) in one statement: what a commit touching
 * many partitions costs. KT_EFENCED with *lost (may be NULL) the lowest one whose epoch moved. */
kt_status kt_store_fence_many(kt_store *s, const char *kind, const kt_lease *held, size_t n, int *lost);
/* 1 when other processes may open the same store (PostgreSQL), 0 when only this one can (SQLite, under its
 * directory lock): a lease there can be taken whoever held it. */
int kt_store_is_shared(const kt_store *s);
/* Every row of kind by id: [{"id", "owner" (null when free), "epoch", "expiresUs"}], and the database's clock now
 * (UTC microseconds) into *now_us (may be NULL): what the cluster view shows. */
kt_status kt_store_leases(kt_store *s, const char *kind, json_t **out_array, int64_t *now_us);

/* ---- logs ---- */
kt_status kt_store_logs_append(kt_store *s, const json_t *entries);
typedef struct kt_log_filter {
    const char *min_level;  /* NULL = all */
    const char *taskrun_id;
    const char *task_id;
    int attempt;            /* -1 = any */
} kt_log_filter;
kt_status kt_store_logs_get(kt_store *s, const char *execution_id, const kt_log_filter *f, json_t **out_array);

/* The execution's logs written after position *after (0: from the start), min_level and above, in write order; *after
 * moves to the last one returned (for following a live execution). */
kt_status kt_store_logs_after(kt_store *s, const char *execution_id, const char *min_level, int64_t *after,
                              json_t **out_array);

/* One page of an execution's logs as kt_store_logs_get filters them, in the same order, after the cursor *after (0:
 * from the start) and at most limit lines; *after moves past the last one returned (sqlite_logs.c: for downloads
 * streamed page by page). */
kt_status kt_store_logs_page(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *after, int limit,
                             json_t **out_array);
/* GET /api/v1/logs/search: lines of every execution, filtered (NULL/0 = no filter), paged (page from 1). */
typedef struct kt_log_query {
    const char *q;          /* substring of the message, case and all (full-text indexed from 3 characters) */
    const char *namespace_; /* the namespace, or one under it ignoring ASCII case (Kestra's rule) */
    const char *flow_id;
    const char *trigger_id;
    const char *min_level;
    int64_t from_us, to_us; /* timestamp, inclusive */
    int page, size;
    int sort_desc;          /* by timestamp */
} kt_log_query;
kt_status kt_store_logs_search(kt_store *s, const kt_log_query *q, json_t **results, int64_t *total);
/* DELETE /api/v1/logs/{executionId} (the kt_store_logs_get filter) and DELETE /api/v1/logs/{namespace}/{flowId}
 * (trigger_id NULL: all of the flow's); *count = lines deleted (count may be NULL). */
kt_status kt_store_logs_delete(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *count);
kt_status kt_store_logs_delete_flow(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id,
                                    int64_t *count);

/* ---- task metrics (sqlite_metrics.c): Kestra's MetricEntry {namespace, flowId, taskId, executionId, taskRunId, type
 * (counter|timer), name, value (a timer's in milliseconds), timestamp, tags, deleted} ---- */
/* Entries missing namespace, flowId, type, name, a numeric value or a timestamp are skipped (logged). */
kt_status kt_store_metrics_append(kt_store *s, const json_t *entries);
typedef struct kt_metric_query {
    const char *execution_id;
    const char *task_id;     /* wins over taskrun_id, as in Kestra's MetricController */
    const char *taskrun_id;
    const char *sort_column; /* kt_store_metric_sort_column's; NULL: write order */
    int sort_desc;
    int page, size;          /* 1-based page */
} kt_metric_query;
/* Kestra's sort fields (namespace, flowId, taskId, executionId, taskrunId, name, timestamp, value) to the store's
 * names; NULL when not sortable. */
const char *kt_store_metric_sort_column(const char *kestra_field);
kt_status kt_store_metrics_search(kt_store *s, const kt_metric_query *q, json_t **results, int64_t *total);
/* The distinct metric names of a flow (task_id NULL) or of one of its tasks, or (task_ids) the distinct task ids
 * having metrics; a JSON array of strings in first-seen order. */
kt_status kt_store_metrics_distinct(kt_store *s, const char *ns, const char *flow_id, const char *task_id,
                                    int task_ids, json_t **out);
/* The metric `name` of a flow (and task, when task_id is set) with from_us <= timestamp <= to_us, aggregated by
 * agg (sum, avg, min, max) per bucket of `bucket` (metrics_bucket_start's unit): [{"start": bucket start in UTC
 * microseconds, "value": double}] ordered by start. KT_EINVAL for another agg. */
typedef enum { KT_MB_MINUTE, KT_MB_HOUR, KT_MB_DAY, KT_MB_WEEK, KT_MB_MONTH } kt_metric_bucket;
kt_status kt_store_metrics_aggregate(kt_store *s, const char *ns, const char *flow_id, const char *task_id,
                                     const char *name, int64_t from_us, int64_t to_us, const char *agg,
                                     kt_metric_bucket bucket, json_t **out);
/* The start (UTC microseconds) of the bucket holding us: minute, hour, day, ISO week (Monday), month. */
int64_t kt_store_metric_bucket_start(int64_t us, kt_metric_bucket bucket);
/* Deletes an execution's metrics (DELETE /api/v1/executions/{id}?deleteMetrics, PurgeExecutions); *count (may be
 * NULL) = how many. */
kt_status kt_store_metrics_delete(kt_store *s, const char *execution_id, int64_t *count);

/* Level order of Kestra's log levels (TRACE=0 .. ERROR=4), -1 when unknown. */
int kt_store_level_rank(const char *level);

/* ---- counts and purges by query (sqlite_purge.c): execution.Count, log.PurgeLogs, execution.PurgeExecutions ---- */
typedef struct kt_store_purge_query {
    const char *namespace_; /* exact; NULL: any */
    const char *flow_id;    /* NULL: any */
    int64_t from_us, to_us; /* executions: state.startDate; logs: their timestamp; inclusive, 0: open */
    const char *list;       /* executions: states, logs: level ranks (kt_store_level_rank), comma-joined; NULL: any */
} kt_store_purge_query;
kt_status kt_store_executions_count(kt_store *s, const kt_store_purge_query *q, int64_t *count);
/* [{id, namespace, flowId, state}] oldest first. */
kt_status kt_store_executions_match(kt_store *s, const kt_store_purge_query *q, json_t **out);
/* Deletes the matching log lines (namespace/flow through their execution's row); count = how many. */
kt_status kt_store_logs_purge(kt_store *s, const kt_store_purge_query *q, int64_t *count);
/* Deletes an execution's logs (logs: *logs_deleted grows by their number) and/or its row and task runs. */
kt_status kt_store_execution_purge(kt_store *s, const char *id, int execution, int logs, int64_t *logs_deleted);

#endif
