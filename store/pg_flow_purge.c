/* PurgeFlows' deletion of old flow revisions in the PostgreSQL store (store.h kt_store_flow_purge_revisions). */
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
