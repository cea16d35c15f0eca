/* Placeholders of the PostgreSQL session functions not written yet (pg_search.c, pg_logs.c, pg_triggers.c, pg_metrics.c, pg_purge.c): each refuses. Deleted when they land. */
#include "store/pg_int.h"

kt_status kt_pg_executions_search(kt_store *s, const kt_exec_query *q, json_t **results, int64_t *total)
{
    (void)s;
    (void)q;
    (void)results;
    (void)total;
    return KT_EINVAL;
}

kt_status kt_pg_trigger_put(kt_store *s, const json_t *trigger)
{
    (void)s;
    (void)trigger;
    return KT_EINVAL;
}

kt_status kt_pg_trigger_get(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out)
{
    (void)s;
    (void)ns;
    (void)flow_id;
    (void)trigger_id;
    (void)out;
    return KT_EINVAL;
}

kt_status kt_pg_trigger_delete(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id)
{
    (void)s;
    (void)ns;
    (void)flow_id;
    (void)trigger_id;
    return KT_EINVAL;
}

kt_status kt_pg_trigger_fingerprint(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, char **out)
{
    (void)s;
    (void)ns;
    (void)flow_id;
    (void)trigger_id;
    (void)out;
    return KT_EINVAL;
}

kt_status kt_pg_trigger_set_fingerprint(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, const char *fingerprint)
{
    (void)s;
    (void)ns;
    (void)flow_id;
    (void)trigger_id;
    (void)fingerprint;
    return KT_EINVAL;
}

kt_status kt_pg_triggers_list(kt_store *s, const char *ns, const char *flow_id, json_t **out_array)
{
    (void)s;
    (void)ns;
    (void)flow_id;
    (void)out_array;
    return KT_EINVAL;
}

kt_status kt_pg_triggers_search(kt_store *s, const kt_trigger_query *q, json_t **results, int64_t *total)
{
    (void)s;
    (void)q;
    (void)results;
    (void)total;
    return KT_EINVAL;
}

kt_status kt_pg_logs_append(kt_store *s, const json_t *entries)
{
    (void)s;
    (void)entries;
    return KT_EINVAL;
}

kt_status kt_pg_logs_get(kt_store *s, const char *execution_id, const kt_log_filter *f, json_t **out_array)
{
    (void)s;
    (void)execution_id;
    (void)f;
    (void)out_array;
    return KT_EINVAL;
}

kt_status kt_pg_logs_after(kt_store *s, const char *execution_id, const char *min_level, int64_t *after, json_t **out_array)
{
    (void)s;
    (void)execution_id;
    (void)min_level;
    (void)after;
    (void)out_array;
    return KT_EINVAL;
}

kt_status kt_pg_logs_page(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *after, int limit, json_t **out_array)
{
    (void)s;
    (void)execution_id;
    (void)f;
    (void)after;
    (void)limit;
    (void)out_array;
    return KT_EINVAL;
}

kt_status kt_pg_logs_search(kt_store *s, const kt_log_query *q, json_t **results, int64_t *total)
{
    (void)s;
    (void)q;
    (void)results;
    (void)total;
    return KT_EINVAL;
}

kt_status kt_pg_logs_delete(kt_store *s, const char *execution_id, const kt_log_filter *f, int64_t *count)
{
    (void)s;
    (void)execution_id;
    (void)f;
    (void)count;
    return KT_EINVAL;
}

kt_status kt_pg_logs_delete_flow(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, int64_t *count)
{
    (void)s;
    (void)ns;
    (void)flow_id;
    (void)trigger_id;
    (void)count;
    return KT_EINVAL;
}

kt_status kt_pg_metrics_append(kt_store *s, const json_t *entries)
{
    (void)s;
    (void)entries;
    return KT_EINVAL;
}

kt_status kt_pg_metrics_search(kt_store *s, const kt_metric_query *q, json_t **results, int64_t *total)
{
    (void)s;
    (void)q;
    (void)results;
    (void)total;
    return KT_EINVAL;
}

kt_status kt_pg_metrics_distinct(kt_store *s, const char *ns, const char *flow_id, const char *task_id, int task_ids, json_t **out)
{
    (void)s;
    (void)ns;
    (void)flow_id;
    (void)task_id;
    (void)task_ids;
    (void)out;
    return KT_EINVAL;
}

kt_status kt_pg_metrics_aggregate(kt_store *s, const char *ns, const char *flow_id, const char *task_id, const char *name, int64_t from_us, int64_t to_us, const char *agg, kt_metric_bucket bucket, json_t **out)
{
    (void)s;
    (void)ns;
    (void)flow_id;
    (void)task_id;
    (void)name;
    (void)from_us;
    (void)to_us;
    (void)agg;
    (void)bucket;
    (void)out;
    return KT_EINVAL;
}

kt_status kt_pg_metrics_delete(kt_store *s, const char *execution_id, int64_t *count)
{
    (void)s;
    (void)execution_id;
    (void)count;
    return KT_EINVAL;
}

kt_status kt_pg_executions_count(kt_store *s, const kt_store_purge_query *q, int64_t *count)
{
    (void)s;
    (void)q;
    (void)count;
    return KT_EINVAL;
}

kt_status kt_pg_executions_match(kt_store *s, const kt_store_purge_query *q, json_t **out)
{
    (void)s;
    (void)q;
    (void)out;
    return KT_EINVAL;
}

kt_status kt_pg_logs_purge(kt_store *s, const kt_store_purge_query *q, int64_t *count)
{
    (void)s;
    (void)q;
    (void)count;
    return KT_EINVAL;
}

kt_status kt_pg_execution_purge(kt_store *s, const char *id, int execution, int logs, int64_t *logs_deleted)
{
    (void)s;
    (void)id;
    (void)execution;
    (void)logs;
    (void)logs_deleted;
    return KT_EINVAL;
}
