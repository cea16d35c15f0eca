/* The PostgreSQL store's claims: the reads of a read-modify-write that several schedulers may run at once on the
 * same row. Each holds what it read until the caller's commit, so the second one sees what the first wrote; a row made
 * from nothing is inserted only if still absent, so it never overwrites one another transaction wrote meanwhile. */
#include "store/pg_int.h"
#include "base/assert.h"
#include "base/clock.h"

#include <stdlib.h>

/* The body of the row sql selects FOR UPDATE (locked until the caller's commit) into *out; KT_ENOTFOUND without one. */
static kt_status kt_pgc_claim(kt_store *s, const char *sql, const char *const v[3], json_t **out)
{
    KT_ASSERTF(PQtransactionStatus(kt_pg_conn(s)) != PQTRANS_IDLE, "a claim belongs in a transaction");
    *out = NULL;
    kt_status st;
    PGresult *res = kt_pg_query(s, sql, 3, v, &st);
    if (!res)
        return st;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return KT_ENOTFOUND;
    }
    *out = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    PQclear(res);
    return *out ? KT_OK : KT_EDB;
}

kt_status kt_pg_trigger_claim(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out)
{
    const char *v[] = {ns, flow_id, trigger_id};
    return kt_pgc_claim(s, "SELECT body FROM triggers WHERE namespace=$1 AND flow_id=$2 AND trigger_id=$3 FOR UPDATE",
                        v, out);
}

/* Several schedulers may act on notices of one (execution, state) at once, each being one change: a take skips a
 * notice another transaction holds and takes the next one, so two changes alike are both acted on, and a duplicate
 * (the executor's message and a replay) finds none left. */
kt_status kt_pg_notice_take(kt_store *s, const char *execution_id, const char *state, int *taken)
{
    *taken = 0;
    const char *v[] = {execution_id, state};
    int64_t n = 0;
    kt_status st = kt_pg_command(s,
                                 "DELETE FROM notices WHERE seq = (SELECT seq FROM notices WHERE execution_id=$1 AND "
                                 "state=$2 ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)",
                                 2, v, &n);
    *taken = st == KT_OK && n > 0;
    return st;
}

static const char *kt_pgc_member(const json_t *j, const char *name)
{
    const char *v = json_string_value(json_object_get(j, name));
    return v && *v ? v : NULL;
}

/* A row made from nothing (ON CONFLICT DO NOTHING: an insert of the same key by another transaction still open is
 * waited for, then counts as there): KT_ECONFLICT when the key has one. */
kt_status kt_pg_trigger_insert(kt_store *s, const json_t *trigger)
{
    const char *ns = kt_pgc_member(trigger, "namespace"), *flow = kt_pgc_member(trigger, "flowId");
    const char *id = kt_pgc_member(trigger, "triggerId"), *next = kt_pgc_member(trigger, "nextExecutionDate");
    int64_t next_us = 0, n = 0;
    if (!ns || !flow || !id || (next && kt_time_parse(next, &next_us)))
        return KT_EINVAL;
    char *body = json_dumps(trigger, JSON_COMPACT);
    if (!body)
        return KT_ENOMEM;
    char nbuf[24];
    const char *v[] = {ns, flow, id, next ? kt_pg_i64(nbuf, next_us) : NULL, kt_pgc_member(trigger, "executionId"),
                       kt_pgc_member(trigger, "workerId"), body};
    kt_status st = kt_pg_command(s,
                                 "INSERT INTO triggers(namespace, flow_id, trigger_id, next_execution_date, "
                                 "execution_id, worker_id, body) VALUES($1, $2, $3, $4, $5, $6, $7) "
                                 "ON CONFLICT(namespace, flow_id, trigger_id) DO NOTHING",
                                 7, v, &n);
    free(body);
    return st == KT_OK && n == 0 ? KT_ECONFLICT : st;
}

kt_status kt_pg_window_claim(kt_store *s, const char *ns, const char *flow_id, const char *condition_id, json_t **out)
{
    const char *v[] = {ns, flow_id, condition_id};
    return kt_pgc_claim(s, "SELECT body FROM windows WHERE namespace=$1 AND flow_id=$2 AND condition_id=$3 FOR UPDATE",
                        v, out);
}

kt_status kt_pg_window_insert(kt_store *s, const json_t *window)
{
    const char *ns = kt_pgc_member(window, "namespace"), *flow = kt_pgc_member(window, "flowId");
    const char *cond = kt_pgc_member(window, "conditionId"), *end = kt_pgc_member(window, "end");
    int64_t end_us, n = 0;
    if (!ns || !flow || !cond || !end || kt_time_parse(end, &end_us))
        return KT_EINVAL;
    char *body = json_dumps(window, JSON_COMPACT);
    if (!body)
        return KT_ENOMEM;
    char e[24];
    const char *v[] = {ns, flow, cond, kt_pg_i64(e, end_us), body};
    kt_status st = kt_pg_command(s,
                                 "INSERT INTO windows(namespace, flow_id, condition_id, end_us, body) "
                                 "VALUES($1, $2, $3, $4, $5) ON CONFLICT(namespace, flow_id, condition_id) DO NOTHING",
                                 5, v, &n);
    free(body);
    return st == KT_OK && n == 0 ? KT_ECONFLICT : st;
}
