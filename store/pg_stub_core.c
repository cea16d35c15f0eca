/* Placeholders of the PostgreSQL session functions not written yet (pg_exec.c): each refuses. Deleted when they land. */
#include "store/pg_int.h"

kt_status kt_pg_flow_save(kt_store *s, const char *ns, const char *id, const char *source, int *revision, int *changed)
{
    (void)s;
    (void)ns;
    (void)id;
    (void)source;
    (void)revision;
    (void)changed;
    return KT_EINVAL;
}

kt_status kt_pg_flow_get(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out)
{
    (void)s;
    (void)ns;
    (void)id;
    (void)revision;
    (void)out;
    return KT_EINVAL;
}

kt_status kt_pg_flow_get_any(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out)
{
    (void)s;
    (void)ns;
    (void)id;
    (void)revision;
    (void)out;
    return KT_EINVAL;
}

kt_status kt_pg_flow_revisions(kt_store *s, const char *ns, const char *id, json_t **rows)
{
    (void)s;
    (void)ns;
    (void)id;
    (void)rows;
    return KT_EINVAL;
}

kt_status kt_pg_flow_delete(kt_store *s, const char *ns, const char *id)
{
    (void)s;
    (void)ns;
    (void)id;
    return KT_EINVAL;
}

kt_status kt_pg_flow_ids(kt_store *s, const char *ns, json_t **out)
{
    (void)s;
    (void)ns;
    (void)out;
    return KT_EINVAL;
}

kt_status kt_pg_execution_put(kt_store *s, const json_t *execution, const size_t *runs, size_t nruns)
{
    (void)s;
    (void)execution;
    (void)runs;
    (void)nruns;
    return KT_EINVAL;
}

kt_status kt_pg_execution_get(kt_store *s, const char *id, json_t **out)
{
    (void)s;
    (void)id;
    (void)out;
    return KT_EINVAL;
}

kt_status kt_pg_executions_unfinished(kt_store *s, json_t **out_array)
{
    (void)s;
    (void)out_array;
    return KT_EINVAL;
}

kt_status kt_pg_flow_namespaces(kt_store *s, json_t **out)
{
    (void)s;
    (void)out;
    return KT_EINVAL;
}

kt_status kt_pg_flows_latest(kt_store *s, const char *ns_prefix, const char *q, json_t **rows)
{
    (void)s;
    (void)ns_prefix;
    (void)q;
    (void)rows;
    return KT_EINVAL;
}

kt_status kt_pg_window_get(kt_store *s, const char *ns, const char *flow_id, const char *condition_id, json_t **out)
{
    (void)s;
    (void)ns;
    (void)flow_id;
    (void)condition_id;
    (void)out;
    return KT_EINVAL;
}

kt_status kt_pg_window_put(kt_store *s, const json_t *window)
{
    (void)s;
    (void)window;
    return KT_EINVAL;
}

kt_status kt_pg_window_delete(kt_store *s, const char *ns, const char *flow_id, const char *condition_id)
{
    (void)s;
    (void)ns;
    (void)flow_id;
    (void)condition_id;
    return KT_EINVAL;
}

kt_status kt_pg_windows_expire(kt_store *s, int64_t now_us)
{
    (void)s;
    (void)now_us;
    return KT_EINVAL;
}

kt_status kt_pg_notice_add(kt_store *s, const char *execution_id, const char *state)
{
    (void)s;
    (void)execution_id;
    (void)state;
    return KT_EINVAL;
}

kt_status kt_pg_notice_done(kt_store *s, const char *execution_id, const char *state)
{
    (void)s;
    (void)execution_id;
    (void)state;
    return KT_EINVAL;
}

kt_status kt_pg_notices(kt_store *s, json_t **out_array)
{
    (void)s;
    (void)out_array;
    return KT_EINVAL;
}

kt_status kt_pg_exec_row(kt_store *s, const PGresult *res, int r, json_t **out)
{
    (void)s;
    (void)res;
    (void)r;
    *out = NULL;
    return KT_EINVAL;
}
