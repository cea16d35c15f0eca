/* PurgeFlows' deletion of old flow revisions and PurgeMetrics' of metrics in the SQLite store (store.h
 * kt_store_flow_purge_revisions, kt_store_metrics_purge). */
#include "store/sqlite_int.h"

#include <sqlite3.h>

/* the keep newest revisions stay (the latest among them) */
static const char kt_sql_flow_purge_keep[] =
    "DELETE FROM flows WHERE namespace=?1 AND id=?2 AND revision < (SELECT MIN(revision) FROM (SELECT revision FROM "
    "flows WHERE namespace=?1 AND id=?2 ORDER BY revision DESC LIMIT ?3))";
/* every revision but the latest saved at or before ?3 (Version: !updated.isAfter(before)) */
static const char kt_sql_flow_purge_before[] =
    "DELETE FROM flows WHERE namespace=?1 AND id=?2 AND updated_us <= ?3 AND revision < (SELECT MAX(revision) FROM "
    "flows WHERE namespace=?1 AND id=?2)";

kt_status kt_sqlite_flow_purge_revisions(kt_store *s, const char *ns, const char *id, int keep, int64_t before_us,
                                         int64_t *count)
{
    if (count)
        *count = 0;
    int by_keep = keep > 0 || before_us < 0;
    sqlite3_stmt *st = kt_sqlite_prepared(s, by_keep ? kt_sql_flow_purge_keep : kt_sql_flow_purge_before);
    if (!st)
        return KT_EDB;
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    if (by_keep)
        sqlite3_bind_int(st, 3, keep > 0 ? keep : 1);
    else
        sqlite3_bind_int64(st, 3, before_us);
    int rc = sqlite3_step(st);
    if (count && rc == SQLITE_DONE)
        *count = sqlite3_changes64(kt_sqlite_db(s));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? KT_OK : KT_EDB;
}

/* metric.PurgeMetrics: namespace exact with a flow, the namespace and its children without one */
static const char kt_sql_metrics_purge[] =
    "DELETE FROM metrics WHERE (?1 IS NULL OR namespace=?1 OR (?2 IS NULL AND substr(namespace, 1, length(?1) + 1) = "
    "?1 || '.')) AND (?2 IS NULL OR flow_id=?2) AND (?3 = 0 OR timestamp_us >= ?3) AND timestamp_us <= ?4";

kt_status kt_sqlite_metrics_purge(kt_store *s, const char *ns, const char *flow_id, int64_t from_us, int64_t to_us,
                                  int64_t *count)
{
    if (count)
        *count = 0;
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_metrics_purge);
    if (!st)
        return KT_EDB;
    if (ns)
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    if (flow_id)
        sqlite3_bind_text(st, 2, flow_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, from_us);
    sqlite3_bind_int64(st, 4, to_us);
    int rc = sqlite3_step(st);
    if (count && rc == SQLITE_DONE)
        *count = sqlite3_changes64(kt_sqlite_db(s));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? KT_OK : KT_EDB;
}
