/* The trigger rows of the PostgreSQL store, the mirror of sqlite_triggers.c's (Kestra's Trigger JSON as written, plus
 * the columns the scheduler and the API look rows up by). The search of trigger rows is in pg_search.c; windows and
 * notices are pg_exec.c's. */
#include "store/pg_int.h"
#include "base/clock.h"

#include <stdlib.h>
#include <string.h>

/* Text order is SQLite's (bytes), whatever the database's collation. */
#define KT_TRIGGER_ORDER " ORDER BY namespace COLLATE \"C\", flow_id COLLATE \"C\", trigger_id COLLATE \"C\""

static const char kt_sql_trigger_put[] =
    "INSERT INTO triggers(namespace, flow_id, trigger_id, next_execution_date, execution_id, worker_id, body) "
    "VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT(namespace, flow_id, trigger_id) DO UPDATE SET "
    "next_execution_date=excluded.next_execution_date, execution_id=excluded.execution_id, "
    "worker_id=excluded.worker_id, body=excluded.body";
static const char kt_sql_trigger_get[] = "SELECT body FROM triggers WHERE namespace=$1 AND flow_id=$2 AND trigger_id=$3";
static const char kt_sql_trigger_delete[] = "DELETE FROM triggers WHERE namespace=$1 AND flow_id=$2 AND trigger_id=$3";
static const char kt_sql_trigger_fp[] =
    "SELECT definition FROM triggers WHERE namespace=$1 AND flow_id=$2 AND trigger_id=$3";
static const char kt_sql_trigger_set_fp[] =
    "UPDATE triggers SET definition=$4 WHERE namespace=$1 AND flow_id=$2 AND trigger_id=$3";
static const char kt_sql_triggers_all[] = "SELECT body FROM triggers" KT_TRIGGER_ORDER;
static const char kt_sql_triggers_ns[] = "SELECT body FROM triggers WHERE namespace=$1" KT_TRIGGER_ORDER;
static const char kt_sql_triggers_flow[] =
    "SELECT body FROM triggers WHERE namespace=$1 AND flow_id=$2" KT_TRIGGER_ORDER;

static const char *kt_member(const json_t *j, const char *name)
{
    const char *v = json_string_value(json_object_get(j, name));
    return v && *v ? v : NULL;
}

kt_status kt_pg_trigger_put(kt_store *s, const json_t *trigger)
{
    const char *ns = kt_member(trigger, "namespace"), *flow = kt_member(trigger, "flowId");
    const char *id = kt_member(trigger, "triggerId"), *next = kt_member(trigger, "nextExecutionDate");
    int64_t next_us = 0;
    if (!ns || !flow || !id || (next && kt_time_parse(next, &next_us)))
        return KT_EINVAL;
    char *body = json_dumps(trigger, JSON_COMPACT);
    if (!body)
        return KT_ENOMEM;
    char nbuf[24];
    const char *v[] = {ns, flow, id, next ? kt_pg_i64(nbuf, next_us) : NULL, kt_member(trigger, "executionId"),
                       kt_member(trigger, "workerId"), body};
    kt_status st = kt_pg_command(s, kt_sql_trigger_put, 7, v, NULL);
    free(body);
    return st;
}

kt_status kt_pg_trigger_get(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out)
{
    const char *v[] = {ns, flow_id, trigger_id};
    kt_status st;
    PGresult *res = kt_pg_query(s, kt_sql_trigger_get, 3, v, &st);
    if (!res)
        return st;
    if (PQntuples(res) == 0) {
        st = KT_ENOTFOUND;
    } else {
        *out = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
        st = *out ? KT_OK : KT_EDB; /* a row that no longer reads is the store's problem, not the caller's */
    }
    PQclear(res);
    return st;
}

kt_status kt_pg_trigger_delete(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id)
{
    const char *v[] = {ns, flow_id, trigger_id};
    return kt_pg_command(s, kt_sql_trigger_delete, 3, v, NULL);
}

kt_status kt_pg_trigger_fingerprint(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id,
                                    char **out)
{
    *out = NULL;
    const char *v[] = {ns, flow_id, trigger_id};
    kt_status st;
    PGresult *res = kt_pg_query(s, kt_sql_trigger_fp, 3, v, &st);
    if (!res)
        return st;
    st = PQntuples(res) ? KT_OK : KT_ENOTFOUND;
    if (!st && !PQgetisnull(res, 0, 0)) {
        *out = strdup(PQgetvalue(res, 0, 0));
        st = *out ? KT_OK : KT_ENOMEM;
    }
    PQclear(res);
    return st;
}

kt_status kt_pg_trigger_set_fingerprint(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id,
                                        const char *fingerprint)
{
    const char *v[] = {ns, flow_id, trigger_id, fingerprint};
    return kt_pg_command(s, kt_sql_trigger_set_fp, 4, v, NULL);
}

kt_status kt_pg_triggers_list(kt_store *s, const char *ns, const char *flow_id, json_t **out_array)
{
    const char *sql = flow_id ? kt_sql_triggers_flow : ns ? kt_sql_triggers_ns : kt_sql_triggers_all;
    const char *v[] = {ns, flow_id};
    return kt_pg_query_json(s, sql, flow_id ? 2 : ns ? 1 : 0, v, 0, out_array);
}
