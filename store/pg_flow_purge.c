/* PurgeFlows' deletion of old flow revisions and PurgeMetrics' of metrics in the PostgreSQL store (store.h
 * kt_store_flow_purge_revisions, kt_store_metrics_purge). */
#include "store/pg_int.h"

#include <inttypes.h>
#include <stdio.h>

/* the keep newest revisions stay (the latest among them) */
static const char kt_sql_flow_purge_keep[] =
    "DELETE FROM flows WHERE namespace=$1 AND id=$2 AND revision < (SELECT MIN(revision) FROM (SELECT revision FROM "
    "flows WHERE namespace=$1 AND id=$2 ORDER BY revision DESC LIMIT $3::integer) AS kept)";
/* every revision but the latest saved at or before $3 (Version: !updated.isAfter(before)) */
static const char kt_sql_flow_purge_before[] =
    "DELETE FROM flows WHERE namespace=$1 AND id=$2 AND updated_us <= $3::bigint AND revision < (SELECT MAX(revision) "
    "FROM flows WHERE namespace=$1 AND id=$2)";

kt_status kt_pg_flow_purge_revisions(kt_store *s, const char *ns, const char *id, int keep, int64_t before_us,
                                     int64_t *count)
{
    int by_keep = keep > 0 || before_us < 0;
    char third[32];
    if (by_keep)
        snprintf(third, sizeof third, "%d", keep > 0 ? keep : 1);
    else
        snprintf(third, sizeof third, "%" PRId64, before_us);
    const char *v[] = {ns, id, third};
    int64_t n = 0;
    kt_status st = kt_pg_command(s, by_keep ? kt_sql_flow_purge_keep : kt_sql_flow_purge_before, 3, v, &n);
    if (count)
        *count = st ? 0 : n;
    return st;
}

/* metric.PurgeMetrics: namespace exact with a flow, the namespace and its children without one */
static const char kt_sql_metrics_purge[] =
    "DELETE FROM metrics WHERE ($1::text IS NULL OR namespace=$1 OR ($2::text IS NULL AND left(namespace, length($1) "
    "+ 1) = $1 || '.')) AND ($2::text IS NULL OR flow_id=$2) AND ($3::bigint = 0 OR timestamp_us >= $3::bigint) AND "
    "timestamp_us <= $4::bigint";

kt_status kt_pg_metrics_purge(kt_store *s, const char *ns, const char *flow_id, int64_t from_us, int64_t to_us,
                              int64_t *count)
{
    char from[32], to[32];
    snprintf(from, sizeof from, "%" PRId64, from_us);
    snprintf(to, sizeof to, "%" PRId64, to_us);
    const char *v[] = {ns, flow_id, from, to};
    int64_t n = 0;
    kt_status st = kt_pg_command(s, kt_sql_metrics_purge, 4, v, &n);
    if (count)
        *count = st ? 0 : n;
    return st;
}
