/* The store's front: picks the backend from where the store is (a directory: SQLite; a postgres:// URL:
 * PostgreSQL), then every session function is one call through the backend's table. The helpers that need no
 * database (levels, sort fields, metric buckets) are here, shared by both backends. */
#include "store/store_int.h"
#include "base/clock.h"
#include "base/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int kt_store_is_url_postgres(const char *where)
{
    return where && (!strncmp(where, "postgres://", 11) || !strncmp(where, "postgresql://", 13));
}

kt_status kt_store_open(const char *where, const kt_store_options *opt, kt_store **out, char *err, size_t errcap)
{
    char plain[2048], readers[16], plain2[2048], li[16];
    /* ?readers= is the read pool's (store/db_pool.h), not the backend's */
    if (where && kt_store_url_take(where, "readers", readers, sizeof readers, plain, sizeof plain))
        where = plain;
    /* ?log_index=on|off: store.log-index for this store, over the option */
    kt_store_options o = opt ? *opt : (kt_store_options){0};
    if (where && kt_store_url_take(where, "log_index", li, sizeof li, plain2, sizeof plain2)) {
        if (!*li || kt_store_log_index_of(li, &o.log_index)) {
            snprintf(err, errcap, "log_index: on or off");
            return KT_EINVAL;
        }
        where = plain2;
        opt = &o;
    }
    if (kt_store_is_url_postgres(where)) { /* *out stays untouched on failure */
        kt_status st = kt_pg_open(where, opt, out, err, errcap);
        /* libpq's messages about a malformed URL quote it whole, password included */
        if (st)
            kt_store_scrub(where, err, errcap);
        return st;
    }
    if (where && !strncmp(where, "sqlite://", 9))
        where += 9;
    return kt_sqlite_open(where, opt, out, err, errcap);
}

int kt_store_log_index_of(const char *text, kt_log_index *out)
{
    static const struct {
        const char *text;
        kt_log_index v;
    } names[] = {{"", KT_LOG_INDEX_DEFAULT}, {"on", KT_LOG_INDEX_ON},     {"true", KT_LOG_INDEX_ON},
                 {"off", KT_LOG_INDEX_OFF},  {"false", KT_LOG_INDEX_OFF}};
    for (size_t i = 0; text && i < sizeof names / sizeof *names; i++)
        if (!strcmp(text, names[i].text)) {
            *out = names[i].v;
            return 0;
        }
    return -1;
}

void kt_store_close(kt_store *s)
{
    if (s)
        s->ops->close(s);
}

const char *kt_store_errmsg(const kt_store *s) { return s->ops->errmsg(s); }
kt_status kt_store_begin(kt_store *s) { return s->ops->begin(s); }
kt_status kt_store_commit(kt_store *s) { return s->ops->commit(s); }
void kt_store_rollback(kt_store *s) { s->ops->rollback(s); }
kt_status kt_store_flow_save(kt_store *s, const char *ns, const char *id, const char *source, int *revision, int *changed) { return s->ops->flow_save(s, ns, id, source, -1, revision, changed); }
kt_status kt_store_flow_save_dialect(kt_store *s, const char *ns, const char *id, const char *source, kt_dialect dialect, int *revision, int *changed) { return s->ops->flow_save(s, ns, id, source, (int)dialect, revision, changed); }
kt_status kt_store_flow_get(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out) { return s->ops->flow_get(s, ns, id, revision, out); }
kt_status kt_store_flow_get_any(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out) { return s->ops->flow_get_any(s, ns, id, revision, out); }
kt_status kt_store_flow_revisions(kt_store *s, const char *ns, const char *id, json_t **rows) { return s->ops->flow_revisions(s, ns, id, rows); }
kt_status kt_store_flow_delete(kt_store *s, const char *ns, const char *id) { return s->ops->flow_delete(s, ns, id); }
kt_status kt_store_flow_purge_revisions(kt_store *s, const char *ns, const char *id, int keep, int64_t before_us,
                                        int64_t *count)
{
    return s->ops->flow_purge_revisions(s, ns, id, keep, before_us, count);
}
kt_status kt_store_metrics_purge(kt_store *s, const char *ns, const char *flow_id, int64_t from_us, int64_t to_us,
                                 int64_t *count)
{
    return s->ops->metrics_purge(s, ns, flow_id, from_us, to_us, count);
}
kt_status kt_store_flow_ids(kt_store *s, const char *ns, json_t **out) { return s->ops->flow_ids(s, ns, out); }
kt_status kt_store_execution_put(kt_store *s, const json_t *execution, const size_t *runs, size_t nruns) { return s->ops->execution_put(s, execution, runs, nruns); }
kt_status kt_store_execution_get(kt_store *s, const char *id, json_t **out) { return s->ops->execution_get(s, id, out); }
kt_status kt_store_executions_unfinished(kt_store *s, json_t **out_array) { return s->ops->executions_unfinished(s, out_array); }
kt_status kt_store_executions_search(kt_store *s, const kt_exec_query *q, json_t **results, int64_t *total) { return s->ops->executions_search(s, q, results, total); }
kt_status kt_store_flow_namespaces(kt_store *s, json_t **out) { return s->ops->flow_namespaces(s, out); }
kt_status kt_store_flows_latest(kt_store *s, const char *ns_prefix, const char *q, json_t **rows) { return s->ops->flows_latest(s, ns_prefix, q, rows); }
kt_status kt_store_flows_source_search(kt_store *s, const char *ns_prefix, const char *const *words, size_t n, json_t **rows) { return s->ops->flows_source_search(s, ns_prefix, words, n, rows); }
kt_status kt_store_trigger_put(kt_store *s, const json_t *trigger) { return s->ops->trigger_put(s, trigger); }
kt_status kt_store_trigger_get(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out) { return s->ops->trigger_get(s, ns, flow_id, trigger_id, out); }
kt_status kt_store_trigger_insert(kt_store *s, const json_t *trigger) { return s->ops->trigger_insert(s, trigger); }
kt_status kt_store_trigger_claim(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out) { return s->ops->trigger_claim(s, ns, flow_id, trigger_id, out); }
kt_status kt_store_trigger_delete(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id) { return s->ops->trigger_delete(s, ns, flow_id, trigger_id); }
kt_status kt_store_trigger_fingerprint(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, char **out) { return s->ops->trigger_fingerprint(s, ns, flow_id, trigger_id, out); }
kt_status kt_store_trigger_set_fingerprint(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, const char *fingerprint) { return s->ops->trigger_set_fingerprint(s, ns, flow_id, trigger_id, fingerprint); }
kt_status kt_store_triggers_list(kt_store *s, const char *ns, const char *flow_id, json_t **out_array) { return s->ops->triggers_list(s, ns, flow_id, out_array); }
kt_status kt_store_triggers_search(kt_store *s, const kt_trigger_query *q, json_t **results, int64_t *total) { return s->ops->triggers_search(s, q, results, total); }
kt_status kt_store_window_get(kt_store *s, const char *ns, const char *flow_id, const char *condition_id, json_t **out) { return s->ops->window_get(s, ns, flow_id, condition_id, out); }
kt_status kt_store_window_claim(kt_store *s, const char *ns, const char *flow_id, const char *condition_id, json_t **out) { return s->ops->window_claim(s, ns, flow_id, condition_id, out); }
kt_status kt_store_window_insert(kt_store *s, const json_t *window) { return s->ops->window_insert(s, window); }
kt_status kt_store_window_put(kt_store *s, const json_t *window) { return s->ops->window_put(s, window); }
kt_status kt_store_window_delete(kt_store *s, const char *ns, const char *flow_id, const char *condition_id) { return s->ops->window_delete(s, ns, flow_id, condition_id); }
kt_status kt_store_windows_expire(kt_store *s, int64_t now_us) { return s->ops->windows_expire(s, now_us); }
kt_status kt_store_notice_add(kt_store *s, const char *execution_id, const char *state) { return s->ops->notice_add(s, execution_id, state); }
kt_status kt_store_notice_done(kt_store *s, const char *execution_id, const char *state) { return s->ops->notice_done(s, execution_id, state); }
kt_status kt_store_notice_take(kt_store *s, const char *execution_id, const char *state, int *taken) { return s->ops->notice_take(s, execution_id, state, taken); }
kt_status kt_store_notices(kt_store *s, json_t **out_array) { return s->ops->notices(s, out_array); }
kt_status kt_store_logs_append(kt_store *s, const json_t *entries) { return s->ops->logs_append(s, entries); }
kt_status kt_store_logs_get(kt_store *s, const char *execution_id, const kt_log_filter *f, json_t **out_array) { return s->ops->logs_get(s, execution_id, f, out_array); }
kt_status kt_store_logs_after(kt_store *s, const char *execution_id, const char *min_level, int64_t *after, json_t **out_array) { return s->ops->logs_after(s, execution_id, min_level, after, out_array); }
kt_status kt_store_logs_page(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *after, int limit, json_t **out_array) { return s->ops->logs_page(s, execution_id, f, after, limit, out_array); }
kt_status kt_store_logs_search(kt_store *s, const kt_log_query *q, json_t **results, int64_t *total) { return s->ops->logs_search(s, q, results, total); }
kt_status kt_store_logs_delete(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *count) { return s->ops->logs_delete(s, execution_id, f, count); }
kt_status kt_store_logs_delete_flow(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, int64_t *count) { return s->ops->logs_delete_flow(s, ns, flow_id, trigger_id, count); }
kt_status kt_store_metrics_append(kt_store *s, const json_t *entries) { return s->ops->metrics_append(s, entries); }
kt_status kt_store_metrics_search(kt_store *s, const kt_metric_query *q, json_t **results, int64_t *total) { return s->ops->metrics_search(s, q, results, total); }
kt_status kt_store_metrics_distinct(kt_store *s, const char *ns, const char *flow_id, const char *task_id, int task_ids, json_t **out) { return s->ops->metrics_distinct(s, ns, flow_id, task_id, task_ids, out); }
kt_status kt_store_metrics_aggregate(kt_store *s, const char *ns, const char *flow_id, const char *task_id, const char *name, int64_t from_us, int64_t to_us, const char *agg, kt_metric_bucket bucket, json_t **out) { return s->ops->metrics_aggregate(s, ns, flow_id, task_id, name, from_us, to_us, agg, bucket, out); }
kt_status kt_store_metrics_delete(kt_store *s, const char *execution_id, int64_t *count) { return s->ops->metrics_delete(s, execution_id, count); }
kt_status kt_store_executions_count(kt_store *s, const kt_store_purge_query *q, int64_t *count) { return s->ops->executions_count(s, q, count); }
kt_status kt_store_executions_match(kt_store *s, const kt_store_purge_query *q, json_t **out) { return s->ops->executions_match(s, q, out); }
kt_status kt_store_logs_purge(kt_store *s, const kt_store_purge_query *q, int64_t *count) { return s->ops->logs_purge(s, q, count); }
kt_status kt_store_execution_purge(kt_store *s, const char *id, int execution, int logs, int64_t *logs_deleted) { return s->ops->execution_purge(s, id, execution, logs, logs_deleted); }

/* The lease functions check their arguments here once, for both backends. */
kt_status kt_store_lease_take(kt_store *s, const char *kind, const int *ids, size_t n, const char *owner,
                              int64_t ttl_us, int force, kt_lease *out, size_t *taken)
{
    *taken = 0;
    if (!kind || !owner || !*owner || ttl_us <= 0 || (n && (!ids || !out)))
        return KT_EINVAL;
    return n ? s->ops->lease_take(s, kind, ids, n, owner, ttl_us, force, out, taken) : KT_OK;
}

kt_status kt_store_lease_renew(kt_store *s, const char *kind, const kt_lease *held, size_t n, const char *owner,
                               int64_t ttl_us, kt_lease *out, size_t *kept)
{
    *kept = 0;
    if (!kind || !owner || !*owner || ttl_us <= 0 || (n && (!held || !out)))
        return KT_EINVAL;
    return n ? s->ops->lease_renew(s, kind, held, n, owner, ttl_us, out, kept) : KT_OK;
}

kt_status kt_store_lease_release(kt_store *s, const char *kind, const kt_lease *held, size_t n, const char *owner,
                                 size_t *released)
{
    size_t none;
    if (!released)
        released = &none;
    *released = 0;
    if (!kind || !owner || !*owner || (n && !held))
        return KT_EINVAL;
    return n ? s->ops->lease_release(s, kind, held, n, owner, released) : KT_OK;
}

kt_status kt_store_fence_many(kt_store *s, const char *kind, const kt_lease *held, size_t n, int *lost)
{
    int none;
    if (!lost)
        lost = &none;
    *lost = -1;
    if (!kind || (n && !held))
        return KT_EINVAL;
    return n ? s->ops->fence_many(s, kind, held, n, lost) : KT_OK;
}

int kt_store_is_shared(const kt_store *s) { return s->ops == &kt_pg_ops; }

kt_status kt_store_fence(kt_store *s, const char *kind, int p, int64_t epoch)
{
    return kind ? s->ops->fence(s, kind, p, epoch) : KT_EINVAL;
}

kt_status kt_store_leases(kt_store *s, const char *kind, json_t **out_array, int64_t *now_us)
{
    *out_array = NULL;
    return kind ? s->ops->leases(s, kind, out_array, now_us) : KT_EINVAL;
}

/* ---- helpers without a database ---- */

static int kt_store_int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

size_t kt_store_lease_ids(const int *ids, size_t n, int *out)
{
    memcpy(out, ids, n * sizeof *ids);
    qsort(out, n, sizeof *out, kt_store_int_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!m || out[m - 1] != out[i])
            out[m++] = out[i];
    return m;
}

static int kt_store_lease_cmp(const void *a, const void *b)
{
    int x = ((const kt_lease *)a)->id, y = ((const kt_lease *)b)->id;
    return (x > y) - (x < y);
}

void kt_store_lease_sort(kt_lease *l, size_t n) { qsort(l, n, sizeof *l, kt_store_lease_cmp); }

static const char *const kt_levels[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR"};

int kt_store_level_rank(const char *level)
{
    for (int i = 0; i < 5; i++)
        if (level && !strcasecmp(level, kt_levels[i]))
            return i;
    return -1;
}

const char *kt_store_dialect_text(const char *column)
{
    kt_dialect d = KT_DIALECT_1X;
    kt_dialect_parse(column, &d);
    return kt_dialect_name(d);
}

void kt_flow_row_clear(kt_flow_row *r)
{
    free(r->namespace_);
    free(r->id);
    free(r->source);
    memset(r, 0, sizeof *r);
}

static const struct {
    const char *field, *column;
} kt_exec_sorts[] = {
    {"id", "id"},
    {"state.startDate", "start_us"},
    {"state.endDate", "end_us"},
    {"state.duration", "(COALESCE(end_us, start_us) - start_us)"},
    {"namespace", "namespace"},
    {"flowId", "flow_id"},
    {"state.current", "state"},
};

const char *kt_store_exec_sort_column(const char *field)
{
    for (size_t i = 0; field && i < sizeof kt_exec_sorts / sizeof *kt_exec_sorts; i++)
        if (!strcmp(kt_exec_sorts[i].field, field))
            return kt_exec_sorts[i].column;
    return NULL;
}

static const struct {
    const char *field, *column;
} kt_metric_sorts[] = {
    {"namespace", "namespace"}, {"flowId", "flow_id"}, {"taskId", "task_id"}, {"executionId", "execution_id"},
    {"taskrunId", "taskrun_id"}, {"name", "name"},     {"timestamp", "timestamp_us"}, {"value", "value"},
};

const char *kt_store_metric_sort_column(const char *field)
{
    for (size_t i = 0; field && i < sizeof kt_metric_sorts / sizeof *kt_metric_sorts; i++)
        if (!strcmp(kt_metric_sorts[i].field, field))
            return kt_metric_sorts[i].column;
    return NULL;
}

const char *kt_store_metric_column(const char *column)
{
    for (size_t i = 0; column && i < sizeof kt_metric_sorts / sizeof *kt_metric_sorts; i++)
        if (!strcmp(kt_metric_sorts[i].column, column))
            return kt_metric_sorts[i].column;
    return NULL;
}

/* Kestra's trigger sort names (JdbcTriggerRepository.sortMapping, plus namespace passed through) to columns. */
static const struct {
    const char *field, *column;
} kt_trigger_sorts[] = {
    {"namespace", "namespace"},
    {"flowId", "flow_id"},
    {"triggerId", "trigger_id"},
    {"executionId", "execution_id"},
    {"nextExecutionDate", "next_execution_date"},
};

const char *kt_store_trigger_sort_column(const char *field)
{
    for (size_t i = 0; field && i < sizeof kt_trigger_sorts / sizeof *kt_trigger_sorts; i++)
        if (!strcmp(kt_trigger_sorts[i].field, field))
            return kt_trigger_sorts[i].column;
    return NULL;
}

#define KT_US_DAY 86400000000LL

int64_t kt_store_metric_bucket_start(int64_t us, kt_metric_bucket bucket)
{
    /* floor division: the metrics of Kite are after 1970, a bound before it still lands in its bucket */
    int64_t day = us >= 0 ? us / KT_US_DAY : -((-us + KT_US_DAY - 1) / KT_US_DAY);
    switch (bucket) {
    case KT_MB_MINUTE: return us - ((us % 60000000LL) + 60000000LL) % 60000000LL;
    case KT_MB_HOUR: return us - ((us % 3600000000LL) + 3600000000LL) % 3600000000LL;
    case KT_MB_DAY: return day * KT_US_DAY;
    case KT_MB_WEEK: return (day - (((day + 3) % 7) + 7) % 7) * KT_US_DAY; /* 1970-01-01 was a Thursday */
    case KT_MB_MONTH: {
        time_t t = (time_t)(day * 86400);
        struct tm tm;
        gmtime_r(&t, &tm);
        tm.tm_mday = 1;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        return (int64_t)timegm(&tm) * 1000000LL;
    }
    }
    return us;
}

static const char *kt_metric_str(const json_t *e, const char *key)
{
    const json_t *v = json_object_get(e, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int kt_store_metric_row(const json_t *e, size_t i, kt_metric_row *out)
{
    const json_t *value = json_object_get(e, "value");
    *out = (kt_metric_row){
        .ns = kt_metric_str(e, "namespace"),
        .flow_id = kt_metric_str(e, "flowId"),
        .task_id = kt_metric_str(e, "taskId"),
        .execution_id = kt_metric_str(e, "executionId"),
        .taskrun_id = kt_metric_str(e, "taskRunId"),
        .type = kt_metric_str(e, "type"),
        .name = kt_metric_str(e, "name"),
        .value = json_number_value(value),
    };
    if (!out->ns || !out->flow_id || !out->type || !out->name || !json_is_number(value) ||
        kt_time_parse(json_string_value(json_object_get(e, "timestamp")), &out->timestamp_us)) {
        KT_WARN("store", "metric entry #%zu skipped: incomplete", i);
        return -1;
    }
    return 0;
}
