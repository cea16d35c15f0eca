/* The PostgreSQL store's flows, executions, multiple-condition windows and notices: the mirror of sqlite.c's flow and
 * execution functions, sqlite_search.c's flow listings and sqlite_triggers.c's windows and notices, with the same
 * answers (store/store.h). Executions are stored as exec_row.h says, like SQLite's.
 *
 * Ordering by a name uses COLLATE "C": byte order, as SQLite's BINARY, whatever the database's own collation. */
#include "store/pg_int.h"
#include "store/exec_row.h"
#include "base/clock.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- flows --------------------------------------------------------------------------------------- */

static kt_status kt_pgx_flow_read(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out)
{
    char rev[24];
    const char *v[] = {ns, id, kt_pg_i64(rev, revision)};
    kt_status st;
    PGresult *res = kt_pg_query(s,
                                revision ? "SELECT revision, deleted, source, updated_us, dialect FROM flows "
                                           "WHERE namespace=$1 AND id=$2 AND revision=$3"
                                         : "SELECT revision, deleted, source, updated_us, dialect FROM flows "
                                           "WHERE namespace=$1 AND id=$2 ORDER BY revision DESC LIMIT 1",
                                revision ? 3 : 2, v, &st);
    if (!res)
        return st;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return KT_ENOTFOUND;
    }
    memset(out, 0, sizeof *out);
    out->namespace_ = strdup(ns);
    out->id = strdup(id);
    out->revision = (int)kt_pg_get_i64(res, 0, 0);
    out->deleted = (int)kt_pg_get_i64(res, 0, 1);
    out->source = strdup(PQgetvalue(res, 0, 2));
    out->updated_us = kt_pg_get_i64(res, 0, 3);
    out->dialect = KT_DIALECT_1X;
    kt_dialect_parse(PQgetvalue(res, 0, 4), &out->dialect);
    PQclear(res);
    if (!out->namespace_ || !out->id || !out->source) {
        kt_flow_row_clear(out);
        return KT_ENOMEM;
    }
    return KT_OK;
}

/* Writes one revision unless it exists already: *written is 0 when another session took that revision first (the
 * caller reads the latest again and decides anew). ON CONFLICT DO NOTHING rather than a unique violation, so a caller's
 * transaction is not aborted by the race. */
static kt_status kt_pgx_flow_insert(kt_store *s, const char *ns, const char *id, int revision, int deleted,
                                    const char *source, int dialect, int *written)
{
    char rev[24], now[24];
    const char *v[] = {ns,     id, kt_pg_i64(rev, revision), deleted ? "1" : "0",
                       source, kt_pg_i64(now, kt_now_us()), dialect < 0 ? NULL : kt_dialect_name((kt_dialect)dialect)};
    int64_t n = 0;
    kt_status st = kt_pg_command(s,
                                 "INSERT INTO flows(namespace, id, revision, deleted, source, updated_us, dialect) "
                                 "VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT(namespace, id, revision) DO NOTHING",
                                 7, v, &n);
    *written = n == 1;
    return st;
}

/* Two sessions saving one flow at once both read revision N and both try N + 1: the second waits for the first's
 * commit, finds the row taken and goes round again (READ COMMITTED: its next read sees N + 1). A few rounds are
 * plenty; one more writer than that is answered KT_ECONFLICT. */
enum { KT_PGX_FLOW_ROUNDS = 4 };

kt_status kt_pg_flow_save(kt_store *s, const char *ns, const char *id, const char *source, int dialect, int *revision,
                          int *changed)
{
    for (int round = 0; round < KT_PGX_FLOW_ROUNDS; round++) {
        kt_flow_row last;
        kt_status st = kt_pgx_flow_read(s, ns, id, 0, &last);
        if (st && st != KT_ENOTFOUND)
            return st;
        int next = st == KT_ENOTFOUND ? 1 : last.revision + 1;
        int same = st == KT_OK && !last.deleted && source && !strcmp(last.source, source);
        if (st == KT_OK)
            kt_flow_row_clear(&last);
        if (same) {
            *revision = next - 1;
            *changed = 0;
            return KT_OK;
        }
        int written;
        st = kt_pgx_flow_insert(s, ns, id, next, 0, source, dialect, &written);
        if (st)
            return st;
        if (written) {
            *revision = next;
            *changed = 1;
            return KT_OK;
        }
    }
    KT_WARN("store", "flow %s.%s: revision still taken after %d tries", ns, id, KT_PGX_FLOW_ROUNDS);
    return KT_ECONFLICT;
}

kt_status kt_pg_flow_get(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out)
{
    kt_status st = kt_pgx_flow_read(s, ns, id, revision, out);
    if (st == KT_OK && revision == 0 && out->deleted) {
        kt_flow_row_clear(out);
        return KT_ENOTFOUND;
    }
    return st;
}

kt_status kt_pg_flow_get_any(kt_store *s, const char *ns, const char *id, int revision, kt_flow_row *out)
{
    return kt_pgx_flow_read(s, ns, id, revision, out);
}

kt_status kt_pg_flow_revisions(kt_store *s, const char *ns, const char *id, json_t **rows)
{
    const char *v[] = {ns, id};
    kt_status st;
    *rows = NULL;
    PGresult *res = kt_pg_query(s, "SELECT revision, deleted, source, dialect FROM flows WHERE namespace=$1 AND id=$2 "
                                   "ORDER BY revision", 2, v, &st);
    if (!res)
        return st;
    json_t *out = json_array();
    for (int r = 0, n = PQntuples(res); r < n; r++)
        json_array_append_new(out, json_pack("{s:s, s:s, s:i, s:b, s:s, s:s}", "namespace", ns, "id", id, "revision",
                                             (int)kt_pg_get_i64(res, r, 0), "deleted", (int)kt_pg_get_i64(res, r, 1),
                                             "source", PQgetvalue(res, r, 2), "dialect",
                                             kt_store_dialect_text(PQgetvalue(res, r, 3))));
    PQclear(res);
    *rows = out;
    return out ? KT_OK : KT_ENOMEM;
}

kt_status kt_pg_flow_delete(kt_store *s, const char *ns, const char *id)
{
    for (int round = 0; round < KT_PGX_FLOW_ROUNDS; round++) {
        kt_flow_row last;
        kt_status st = kt_pg_flow_get(s, ns, id, 0, &last);
        if (st)
            return st; /* KT_ENOTFOUND also when a concurrent delete won the round before */
        /* the deletion is a revision of its own, keeping the source so history stays readable */
        int written;
        st = kt_pgx_flow_insert(s, ns, id, last.revision + 1, 1, last.source, (int)last.dialect, &written);
        kt_flow_row_clear(&last);
        if (st || written)
            return st;
    }
    KT_WARN("store", "flow %s.%s: deletion revision still taken after %d tries", ns, id, KT_PGX_FLOW_ROUNDS);
    return KT_ECONFLICT;
}

/* Column 0 of every row as a JSON array of strings. */
static kt_status kt_pgx_strings(kt_store *s, const char *sql, int n, const char *const *v, json_t **out)
{
    kt_status st;
    *out = NULL;
    PGresult *res = kt_pg_query(s, sql, n, v, &st);
    if (!res)
        return st;
    json_t *arr = json_array();
    for (int r = 0, rows = PQntuples(res); arr && r < rows; r++)
        json_array_append_new(arr, json_string(PQgetvalue(res, r, 0)));
    PQclear(res);
    *out = arr;
    return arr ? KT_OK : KT_ENOMEM;
}

/* The live flows: their latest revision is not a deletion. */
#define KT_PGX_LIVE                                                                                                   \
    "f.deleted = 0 AND f.revision = (SELECT MAX(revision) FROM flows g WHERE g.namespace = f.namespace AND g.id = f.id)"

kt_status kt_pg_flow_ids(kt_store *s, const char *ns, json_t **out)
{
    const char *v[] = {ns};
    return kt_pgx_strings(s, "SELECT f.id FROM flows f WHERE f.namespace = $1 AND " KT_PGX_LIVE
                             " ORDER BY f.id COLLATE \"C\"", 1, v, out);
}

kt_status kt_pg_flow_namespaces(kt_store *s, json_t **out)
{
    return kt_pgx_strings(s, "SELECT DISTINCT f.namespace COLLATE \"C\" FROM flows f WHERE " KT_PGX_LIVE
                             " ORDER BY 1", 0, NULL, out);
}

kt_status kt_pg_flows_latest(kt_store *s, const char *ns_prefix, const char *q, json_t **rows)
{
    /* ns_prefix: the namespace itself or one under it ("a.b" -> a.b, a.b.c, not a.bc), LIKE's wildcards escaped.
     * Under it ignores case (Kestra's likeIgnoreCase, SQLite's LIKE): ILIKE in the "C" collation folds ASCII only,
     * as SQLite does. */
    char *under = NULL;
    if (ns_prefix) {
        size_t k = 0, len = strlen(ns_prefix);
        under = malloc(2 * len + 3);
        if (!under)
            return KT_ENOMEM;
        for (const char *c = ns_prefix; *c; c++) {
            if (*c == '%' || *c == '_' || *c == '\\')
                under[k++] = '\\';
            under[k++] = *c;
        }
        memcpy(under + k, ".%", 3);
    }
    const char *v[] = {ns_prefix, under, q};
    kt_status st;
    *rows = NULL;
    PGresult *res = kt_pg_query(s, "SELECT f.namespace, f.id, f.revision, f.source, f.dialect FROM flows f WHERE "
                                   KT_PGX_LIVE
                                   " AND ($1::text IS NULL OR f.namespace = $1"
                                   " OR f.namespace COLLATE \"C\" ILIKE $2 ESCAPE '\\')"
                                   " AND ($3::text IS NULL OR strpos(f.id, $3) > 0 OR strpos(f.namespace, $3) > 0)"
                                   " ORDER BY f.namespace COLLATE \"C\", f.id COLLATE \"C\"",
                                3, v, &st);
    free(under);
    if (!res)
        return st;
    json_t *out = json_array();
    for (int r = 0, n = PQntuples(res); out && r < n; r++)
        json_array_append_new(out, json_pack("{s:s, s:s, s:i, s:s, s:s}", "namespace", PQgetvalue(res, r, 0), "id",
                                             PQgetvalue(res, r, 1), "revision", (int)kt_pg_get_i64(res, r, 2),
                                             "source", PQgetvalue(res, r, 3), "dialect",
                                             kt_store_dialect_text(PQgetvalue(res, r, 4))));
    PQclear(res);
    *rows = out;
    return out ? KT_OK : KT_ENOMEM;
}

/* ---- executions ---------------------------------------------------------------------------------- */

/* Column col of row r as bytes, whatever the result's format: binary as is, text (bytea's hex form) unescaped into
 * *owned (the caller PQfreemem()s it). */
static const unsigned char *kt_pgx_bytes(const PGresult *res, int r, int col, size_t *len, unsigned char **owned)
{
    *owned = NULL;
    if (PQfformat(res, col) == 1) {
        *len = (size_t)PQgetlength(res, r, col);
        return (const unsigned char *)PQgetvalue(res, r, col);
    }
    *owned = PQunescapeBytea((const unsigned char *)PQgetvalue(res, r, col), len);
    return *owned;
}

kt_status kt_pg_exec_row(kt_store *s, const PGresult *res, int r, json_t **out)
{
    size_t len;
    unsigned char *owned;
    const unsigned char *body = kt_pgx_bytes(res, r, 0, &len, &owned);
    if (!body)
        return KT_ENOMEM;
    json_t *ex;
    kt_status st = kt_exec_row_decode(body, len, &ex);
    PQfreemem(owned);
    if (st)
        return st;
    const char *v[] = {PQgetvalue(res, r, 1)};
    PGresult *runs = kt_pg_query_rows_bin(s, "SELECT body FROM taskruns WHERE execution_id=$1 ORDER BY idx", 1, v,
                                          NULL, NULL, &st);
    for (int i = 0, n = runs ? PQntuples(runs) : 0; !st && i < n; i++)
        st = kt_exec_row_add_run(ex, PQgetvalue(runs, i, 0), (size_t)PQgetlength(runs, i, 0));
    PQclear(runs);
    if (st) {
        json_decref(ex);
        return st;
    }
    *out = ex;
    return KT_OK;
}

kt_status kt_pg_execution_get(kt_store *s, const char *id, json_t **out)
{
    const char *v[] = {id};
    kt_status st;
    PGresult *res = kt_pg_query_rows_bin(s, "SELECT body, id FROM executions WHERE id=$1", 1, v, NULL, NULL, &st);
    if (!res)
        return st;
    st = PQntuples(res) ? kt_pg_exec_row(s, res, 0, out) : KT_ENOTFOUND;
    PQclear(res);
    return st;
}

kt_status kt_pg_executions_unfinished(kt_store *s, json_t **out_array)
{
    kt_status st;
    /* created: the identity column, SQLite's rowid order (creation order, kept by updates) */
    PGresult *res = kt_pg_query_rows_bin(s, "SELECT body, id FROM executions WHERE terminal=0 ORDER BY created", 0,
                                         NULL, NULL, NULL, &st);
    if (!res)
        return st;
    json_t *arr = json_array();
    for (int r = 0, n = PQntuples(res); arr && r < n; r++) {
        json_t *ex;
        if (kt_pg_exec_row(s, res, r, &ex) == KT_OK) {
            json_array_append_new(arr, ex);
        } else if (kt_pg_lost(s)) { /* not a row that does not decode: the list would miss executions that run */
            json_decref(arr);
            PQclear(res);
            return KT_EDB;
        } else {
            KT_ERROR("store", "an unfinished execution could not be decoded: skipped");
        }
    }
    PQclear(res);
    if (!arr)
        return KT_ENOMEM;
    *out_array = arr;
    return KT_OK;
}

/* ---- multiple-condition windows ----------------------------------------------------------------- */

static const char *kt_pgx_member(const json_t *j, const char *name)
{
    const char *v = json_string_value(json_object_get(j, name));
    return v && *v ? v : NULL;
}

kt_status kt_pg_window_get(kt_store *s, const char *ns, const char *flow_id, const char *condition_id, json_t **out)
{
    const char *v[] = {ns, flow_id, condition_id};
    kt_status st;
    PGresult *res = kt_pg_query(s, "SELECT body FROM windows WHERE namespace=$1 AND flow_id=$2 AND condition_id=$3",
                                3, v, &st);
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

kt_status kt_pg_window_put(kt_store *s, const json_t *window)
{
    const char *ns = kt_pgx_member(window, "namespace"), *flow = kt_pgx_member(window, "flowId");
    const char *cond = kt_pgx_member(window, "conditionId"), *end = kt_pgx_member(window, "end");
    int64_t end_us;
    if (!ns || !flow || !cond || !end || kt_time_parse(end, &end_us))
        return KT_EINVAL;
    char *body = json_dumps(window, JSON_COMPACT);
    if (!body)
        return KT_ENOMEM;
    char e[24];
    const char *v[] = {ns, flow, cond, kt_pg_i64(e, end_us), body};
    kt_status st = kt_pg_command(s,
                                 "INSERT INTO windows(namespace, flow_id, condition_id, end_us, body) "
                                 "VALUES($1, $2, $3, $4, $5) ON CONFLICT(namespace, flow_id, condition_id) "
                                 "DO UPDATE SET end_us=excluded.end_us, body=excluded.body",
                                 5, v, NULL);
    free(body);
    return st;
}

kt_status kt_pg_window_delete(kt_store *s, const char *ns, const char *flow_id, const char *condition_id)
{
    const char *v[] = {ns, flow_id, condition_id};
    return kt_pg_command(s, "DELETE FROM windows WHERE namespace=$1 AND flow_id=$2 AND condition_id=$3", 3, v, NULL);
}

kt_status kt_pg_windows_expire(kt_store *s, int64_t now_us)
{
    char now[24];
    const char *v[] = {kt_pg_i64(now, now_us)};
    /* a window another scheduler's transaction holds (kt_store_window_claim) is left to a later pass: waiting for it
     * here, while that transaction waits for a window this one claimed, would deadlock */
    return kt_pg_command(s,
                         "DELETE FROM windows WHERE (namespace, flow_id, condition_id) IN (SELECT namespace, flow_id, "
                         "condition_id FROM windows WHERE end_us < $1 FOR UPDATE SKIP LOCKED)",
                         1, v, NULL);
}

/* ---- notices ---------------------------------------------------------------------------------------- */

kt_status kt_pg_notice_done(kt_store *s, const char *execution_id, const char *state)
{
    const char *v[] = {execution_id, state};
    /* one, the oldest: two alike are two changes (store.h) */
    return kt_pg_command(s,
                         "DELETE FROM notices WHERE seq = (SELECT seq FROM notices WHERE execution_id=$1 AND state=$2 "
                         "ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)",
                         2, v, NULL);
}

kt_status kt_pg_notices(kt_store *s, json_t **out_array)
{
    kt_status st;
    PGresult *res = kt_pg_query(s, "SELECT execution_id, state FROM notices ORDER BY seq", 0, NULL, &st);
    if (!res)
        return st;
    json_t *arr = json_array();
    for (int r = 0, n = PQntuples(res); arr && r < n; r++)
        json_array_append_new(arr, json_pack("{s:s, s:s}", "executionId", PQgetvalue(res, r, 0), "state",
                                             PQgetvalue(res, r, 1)));
    PQclear(res);
    *out_array = arr;
    return arr ? KT_OK : KT_ENOMEM;
}
