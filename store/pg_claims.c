/* The PostgreSQL store's claims: the reads of a read-modify-write that several schedulers may run at once on the
 * same row. Each holds what it read until the caller's commit, so the second one sees what the first wrote. */
#include "store/pg_int.h"
#include "base/assert.h"

#include <stdlib.h>

kt_status kt_pg_trigger_claim(kt_store *s, const char *ns, const char *flow_id, const char *trigger_id, json_t **out)
{
    KT_ASSERTF(PQtransactionStatus(kt_pg_conn(s)) != PQTRANS_IDLE, "a claim belongs in a transaction");
    *out = NULL;
    const char *v[] = {ns, flow_id, trigger_id};
    kt_status st;
    PGresult *res = kt_pg_query(s,
                                "SELECT body FROM triggers WHERE namespace=$1 AND flow_id=$2 AND trigger_id=$3 "
                                "FOR UPDATE",
                                3, v, &st);
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

kt_status kt_pg_notice_take(kt_store *s, const char *execution_id, const char *state, int *taken)
{
    *taken = 0;
    const char *v[] = {execution_id, state};
    int64_t n = 0;
    kt_status st = kt_pg_command(s, "DELETE FROM notices WHERE execution_id=$1 AND state=$2", 2, v, &n);
    *taken = st == KT_OK && n > 0;
    return st;
}
