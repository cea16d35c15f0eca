/* Partition leases in the PostgreSQL store (store/store.h, docs/store-async-design.md §4): the mirror of
 * sqlite_lease.c. Every expiry is computed from the server's now(), so the nodes never compare their own clocks;
 * each call is one statement (the arrays travel as array literals), and the fence's FOR SHARE row lock is what makes
 * a take wait for the commit it would fence. */
#include "store/pg_int.h"
#include "base/assert.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* now() in UTC microseconds: the transaction's start, one statement here */
#define KT_PG_NOW "(extract(epoch FROM now()) * 1000000)::bigint"

static const char kt_pg_sql_take[] =
    "INSERT INTO kite_partitions AS p (kind, id, owner, epoch, expires_us) "
    "SELECT $1, x, $2, 1, " KT_PG_NOW " + $3::bigint FROM unnest($4::integer[]) AS x "
    "ON CONFLICT (kind, id) DO UPDATE SET owner = EXCLUDED.owner, epoch = p.epoch + 1, "
    "expires_us = EXCLUDED.expires_us "
    "WHERE $5::boolean OR p.owner IS NULL OR p.owner = EXCLUDED.owner OR p.expires_us < " KT_PG_NOW " "
    "RETURNING p.id, p.epoch, p.expires_us";
static const char kt_pg_sql_renew[] =
    "UPDATE kite_partitions AS p SET expires_us = " KT_PG_NOW " + $3::bigint "
    "FROM unnest($4::integer[], $5::bigint[]) AS h(id, epoch) "
    "WHERE p.kind = $1 AND p.owner = $2 AND p.id = h.id AND p.epoch = h.epoch "
    "RETURNING p.id, p.epoch, p.expires_us";
static const char kt_pg_sql_release[] =
    "UPDATE kite_partitions AS p SET owner = NULL, expires_us = 0 "
    "FROM unnest($3::integer[], $4::bigint[]) AS h(id, epoch) "
    "WHERE p.kind = $1 AND p.owner = $2 AND p.id = h.id AND p.epoch = h.epoch RETURNING p.id";
static const char kt_pg_sql_fence[] =
    "SELECT 1 FROM kite_partitions WHERE kind = $1 AND id = $2 AND epoch = $3 AND owner IS NOT NULL FOR SHARE";

/* "{1,2,3}" of the distinct ids in ascending order (the order the take locks its rows in), malloc'ed */
static char *kt_pg_ids_array(const int *ids, size_t n)
{
    int *u = malloc((n ? n : 1) * sizeof *u);
    char *out = malloc(16 * n + 3);
    if (!u || !out) {
        free(u), free(out);
        return NULL;
    }
    size_t m = kt_store_lease_ids(ids, n, u), len = 0;
    out[len++] = '{';
    for (size_t i = 0; i < m; i++)
        len += (size_t)sprintf(out + len, "%s%d", i ? "," : "", u[i]);
    strcpy(out + len, "}");
    free(u);
    return out;
}

/* "{id,...}" and "{epoch,...}" of the held leases, malloc'ed (both or neither) */
static int kt_pg_held_arrays(const kt_lease *held, size_t n, char **ids, char **epochs)
{
    *ids = malloc(16 * n + 3);
    *epochs = malloc(24 * n + 3);
    if (!*ids || !*epochs) {
        free(*ids), free(*epochs);
        return -1;
    }
    size_t a = 0, b = 0;
    (*ids)[a++] = '{';
    (*epochs)[b++] = '{';
    for (size_t i = 0; i < n; i++) {
        a += (size_t)sprintf(*ids + a, "%s%d", i ? "," : "", held[i].id);
        b += (size_t)sprintf(*epochs + b, "%s%" PRId64, i ? "," : "", held[i].epoch);
    }
    strcpy(*ids + a, "}");
    strcpy(*epochs + b, "}");
    return 0;
}

/* The rows (id, epoch, expires_us) of res into out (at most cap), sorted by id. */
static size_t kt_pg_lease_rows(const PGresult *res, kt_lease *out, size_t cap)
{
    size_t n = (size_t)PQntuples(res);
    for (size_t r = 0; r < n && r < cap; r++)
        out[r] = (kt_lease){.id = (int)kt_pg_get_i64(res, (int)r, 0), .epoch = kt_pg_get_i64(res, (int)r, 1),
                            .expires_us = kt_pg_get_i64(res, (int)r, 2)};
    kt_store_lease_sort(out, n < cap ? n : cap);
    return n;
}

kt_status kt_pg_lease_take(kt_store *s, const char *kind, const int *ids, size_t n, const char *owner,
                           int64_t ttl_us, int force, kt_lease *out, size_t *taken)
{
    char ttl[24], *arr = kt_pg_ids_array(ids, n);
    if (!arr)
        return KT_ENOMEM;
    const char *v[] = {kind, owner, kt_pg_i64(ttl, ttl_us), arr, force ? "true" : "false"};
    kt_status st;
    PGresult *res = kt_pg_query(s, kt_pg_sql_take, 5, v, &st);
    free(arr);
    if (!res)
        return st;
    *taken = kt_pg_lease_rows(res, out, n);
    PQclear(res);
    return KT_OK;
}

kt_status kt_pg_lease_renew(kt_store *s, const char *kind, const kt_lease *held, size_t n, const char *owner,
                            int64_t ttl_us, kt_lease *out, size_t *kept)
{
    char ttl[24], *ids, *epochs;
    if (kt_pg_held_arrays(held, n, &ids, &epochs))
        return KT_ENOMEM;
    const char *v[] = {kind, owner, kt_pg_i64(ttl, ttl_us), ids, epochs};
    kt_status st;
    PGresult *res = kt_pg_query(s, kt_pg_sql_renew, 5, v, &st);
    free(ids), free(epochs);
    if (!res)
        return st;
    *kept = kt_pg_lease_rows(res, out, n);
    PQclear(res);
    return KT_OK;
}

kt_status kt_pg_lease_release(kt_store *s, const char *kind, const kt_lease *held, size_t n, const char *owner,
                              size_t *released)
{
    char *ids, *epochs;
    if (kt_pg_held_arrays(held, n, &ids, &epochs))
        return KT_ENOMEM;
    const char *v[] = {kind, owner, ids, epochs};
    int64_t count = 0;
    kt_status st = kt_pg_command(s, kt_pg_sql_release, 4, v, &count);
    free(ids), free(epochs);
    *released = st == KT_OK ? (size_t)count : 0;
    return st;
}

kt_status kt_pg_fence(kt_store *s, const char *kind, int p, int64_t epoch)
{
    KT_ASSERTF(PQtransactionStatus(kt_pg_conn(s)) != PQTRANS_IDLE, "a fence belongs in a transaction");
    char pb[24], eb[24];
    const char *v[] = {kind, kt_pg_i64(pb, p), kt_pg_i64(eb, epoch)};
    kt_status st;
    PGresult *res = kt_pg_query(s, kt_pg_sql_fence, 3, v, &st);
    if (!res)
        return st;
    st = PQntuples(res) == 1 ? KT_OK : KT_EFENCED;
    PQclear(res);
    return st;
}

kt_status kt_pg_fence_many(kt_store *s, const char *kind, const kt_lease *held, size_t n, int *lost)
{
    KT_ASSERTF(PQtransactionStatus(kt_pg_conn(s)) != PQTRANS_IDLE, "a fence belongs in a transaction");
    kt_lease *sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return KT_ENOMEM;
    memcpy(sorted, held, n * sizeof *held);
    kt_store_lease_sort(sorted, n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!m || sorted[m - 1].id != sorted[i].id)
            sorted[m++] = sorted[i];
    char *ids, *epochs;
    if (kt_pg_held_arrays(sorted, m, &ids, &epochs)) {
        free(sorted);
        return KT_ENOMEM;
    }
    const char *v[] = {kind, ids, epochs};
    kt_status st;
    /* the rows locked in ascending order (the lock is taken above the sort), as a take locks them */
    PGresult *res = kt_pg_query(s,
                                "SELECT p.id FROM kite_partitions AS p "
                                "JOIN unnest($2::integer[], $3::bigint[]) AS h(id, epoch) "
                                "ON p.id = h.id AND p.epoch = h.epoch "
                                "WHERE p.kind = $1 AND p.owner IS NOT NULL ORDER BY p.id FOR SHARE OF p",
                                3, v, &st);
    free(ids), free(epochs);
    if (res) {
        size_t rows = (size_t)PQntuples(res), k = 0;
        st = KT_OK;
        for (size_t i = 0; i < m && st == KT_OK; i++) {
            if (k < rows && kt_pg_get_i64(res, (int)k, 0) == sorted[i].id) {
                k++;
                continue;
            }
            *lost = sorted[i].id;
            st = KT_EFENCED;
        }
        PQclear(res);
    }
    free(sorted);
    return st;
}

kt_status kt_pg_leases(kt_store *s, const char *kind, json_t **out_array, int64_t *now_us)
{
    const char *v[] = {kind};
    kt_status st;
    PGresult *res = kt_pg_query(s,
                                "SELECT id, owner, epoch, expires_us, " KT_PG_NOW " FROM kite_partitions "
                                "WHERE kind = $1 ORDER BY id",
                                1, v, &st);
    if (!res)
        return st;
    if (now_us) {
        if (PQntuples(res)) {
            *now_us = kt_pg_get_i64(res, 0, 4);
        } else {
            PGresult *now = kt_pg_query(s, "SELECT " KT_PG_NOW, 0, NULL, &st);
            if (!now) {
                PQclear(res);
                return st;
            }
            *now_us = kt_pg_get_i64(now, 0, 0);
            PQclear(now);
        }
    }
    json_t *arr = json_array();
    for (int r = 0, n = PQntuples(res); r < n; r++)
        json_array_append_new(arr, json_pack("{s:i, s:o, s:I, s:I}", "id", (int)kt_pg_get_i64(res, r, 0), "owner",
                                             PQgetisnull(res, r, 1) ? json_null() : json_string(PQgetvalue(res, r, 1)),
                                             "epoch", (json_int_t)kt_pg_get_i64(res, r, 2), "expiresUs",
                                             (json_int_t)kt_pg_get_i64(res, r, 3)));
    PQclear(res);
    *out_array = arr;
    return KT_OK;
}
