/* Partition leases in the SQLite store (store/store.h, docs/store-async-design.md §4). One process opens an SQLite
 * store (the directory lock), so the leases always belong to it; they exist here so the executor runs the same code
 * path on both backends: it takes every partition with force at start (bumping the epochs) and fences its commits.
 * The arrays travel as JSON text (json_each), so each call is one statement. */
#include "store/sqlite_int.h"
#include "base/assert.h"
#include "base/log.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The database's clock in UTC microseconds, the same for every use within one statement */
#define KT_SQ_NOW "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)"

static const char kt_sql_lease_take[] =
    "INSERT INTO kite_partitions(kind, id, owner, epoch, expires_us) "
    "SELECT ?1, j.value, ?2, 1, " KT_SQ_NOW " + ?3 FROM json_each(?4) AS j WHERE 1 "
    "ON CONFLICT(kind, id) DO UPDATE SET owner = excluded.owner, epoch = kite_partitions.epoch + 1, "
    "expires_us = excluded.expires_us "
    "WHERE ?5 OR kite_partitions.owner IS NULL OR kite_partitions.owner = excluded.owner "
    "OR kite_partitions.expires_us < " KT_SQ_NOW " RETURNING id, epoch, expires_us";
/* a held lease as [id, epoch] */
#define KT_SQ_HELD                                                                                                    \
    "EXISTS (SELECT 1 FROM json_each(?4) AS h WHERE json_extract(h.value, '$[0]') = kite_partitions.id "            \
    "AND json_extract(h.value, '$[1]') = kite_partitions.epoch)"
static const char kt_sql_lease_renew[] = "UPDATE kite_partitions SET expires_us = " KT_SQ_NOW " + ?3 "
                                         "WHERE kind = ?1 AND owner = ?2 AND " KT_SQ_HELD
                                         " RETURNING id, epoch, expires_us";
static const char kt_sql_lease_release[] = "UPDATE kite_partitions SET owner = NULL, expires_us = 0 "
                                           "WHERE kind = ?1 AND owner = ?2 AND ?3 IS NULL AND " KT_SQ_HELD
                                           " RETURNING id";
static const char kt_sql_fence[] = "UPDATE kite_partitions SET epoch = epoch "
                                   "WHERE kind = ?1 AND id = ?2 AND epoch = ?3 AND owner IS NOT NULL";
static const char kt_sql_fence_many[] = "UPDATE kite_partitions SET epoch = epoch "
                                        "WHERE kind = ?1 AND owner IS NOT NULL AND " KT_SQ_HELD;
static const char kt_sql_leases[] =
    "SELECT id, owner, epoch, expires_us FROM kite_partitions WHERE kind = ?1 ORDER BY id";
static const char kt_sql_now[] = "SELECT " KT_SQ_NOW;

/* "[1,2,3]" of the distinct ids, or "[[id,epoch],...]" of the leases; malloc'ed. */
static char *kt_sq_ids_json(const int *ids, size_t n)
{
    int *u = malloc((n ? n : 1) * sizeof *u);
    char *out = malloc(16 * n + 3);
    if (!u || !out) {
        free(u), free(out);
        return NULL;
    }
    size_t m = kt_store_lease_ids(ids, n, u), len = 0;
    out[len++] = '[';
    for (size_t i = 0; i < m; i++)
        len += (size_t)sprintf(out + len, "%s%d", i ? "," : "", u[i]);
    strcpy(out + len, "]");
    free(u);
    return out;
}

static char *kt_sq_held_json(const kt_lease *held, size_t n)
{
    char *out = malloc(40 * n + 3);
    if (!out)
        return NULL;
    size_t len = 0;
    out[len++] = '[';
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(out + len, "%s[%d,%" PRId64 "]", i ? "," : "", held[i].id, held[i].epoch);
    strcpy(out + len, "]");
    return out;
}

/* Steps st to its end; each row (id, epoch, expires_us) goes to out (at most cap). */
static kt_status kt_sq_lease_rows(kt_store *s, sqlite3_stmt *st, kt_lease *out, size_t cap, size_t *count)
{
    int rc;
    *count = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!out || *count == cap) { /* release asks for ids only, and a row beyond cap cannot happen */
            (*count)++;
            continue;
        }
        out[*count] = (kt_lease){.id = sqlite3_column_int(st, 0), .epoch = sqlite3_column_int64(st, 1),
                                 .expires_us = sqlite3_column_int64(st, 2)};
        (*count)++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        KT_ERROR("store", "leases: %s", sqlite3_errmsg(kt_sqlite_db(s)));
        return KT_EDB;
    }
    if (out)
        kt_store_lease_sort(out, *count < cap ? *count : cap);
    return KT_OK;
}

kt_status kt_sqlite_lease_take(kt_store *s, const char *kind, const int *ids, size_t n, const char *owner,
                               int64_t ttl_us, int force, kt_lease *out, size_t *taken)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_lease_take);
    char *json = kt_sq_ids_json(ids, n);
    if (!st || !json) {
        free(json);
        return st ? KT_ENOMEM : KT_EDB;
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ttl_us);
    sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, force != 0);
    kt_status rc = kt_sq_lease_rows(s, st, out, n, taken);
    free(json);
    return rc;
}

kt_status kt_sqlite_lease_renew(kt_store *s, const char *kind, const kt_lease *held, size_t n, const char *owner,
                                int64_t ttl_us, kt_lease *out, size_t *kept)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_lease_renew);
    char *json = kt_sq_held_json(held, n);
    if (!st || !json) {
        free(json);
        return st ? KT_ENOMEM : KT_EDB;
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ttl_us);
    sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
    kt_status rc = kt_sq_lease_rows(s, st, out, n, kept);
    free(json);
    return rc;
}

kt_status kt_sqlite_lease_release(kt_store *s, const char *kind, const kt_lease *held, size_t n, const char *owner,
                                  size_t *released)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_lease_release);
    char *json = kt_sq_held_json(held, n);
    if (!st || !json) {
        free(json);
        return st ? KT_ENOMEM : KT_EDB;
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_null(st, 3); /* ?3 keeps the held array at ?4 in every statement (KT_SQ_HELD) */
    sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
    kt_status rc = kt_sq_lease_rows(s, st, NULL, 0, released);
    free(json);
    return rc;
}

kt_status kt_sqlite_fence(kt_store *s, const char *kind, int p, int64_t epoch)
{
    KT_ASSERTF(!sqlite3_get_autocommit(kt_sqlite_db(s)), "a fence belongs in a transaction");
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_fence);
    if (!st)
        return KT_EDB;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, p);
    sqlite3_bind_int64(st, 3, epoch);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        KT_ERROR("store", "fence: %s", sqlite3_errmsg(kt_sqlite_db(s)));
        return KT_EDB;
    }
    return sqlite3_changes(kt_sqlite_db(s)) == 1 ? KT_OK : KT_EFENCED;
}

kt_status kt_sqlite_fence_many(kt_store *s, const char *kind, const kt_lease *held, size_t n, int *lost)
{
    KT_ASSERTF(!sqlite3_get_autocommit(kt_sqlite_db(s)), "a fence belongs in a transaction");
    kt_lease *sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return KT_ENOMEM;
    memcpy(sorted, held, n * sizeof *held);
    kt_store_lease_sort(sorted, n);
    size_t m = 0; /* distinct partitions (a partition named twice is fenced once) */
    for (size_t i = 0; i < n; i++)
        if (!m || sorted[m - 1].id != sorted[i].id)
            sorted[m++] = sorted[i];
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_fence_many);
    char *json = kt_sq_held_json(sorted, m);
    kt_status rc = KT_EDB;
    if (st && json) {
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE)
            KT_ERROR("store", "fence: %s", sqlite3_errmsg(kt_sqlite_db(s)));
        else if ((size_t)sqlite3_changes(kt_sqlite_db(s)) == m)
            rc = KT_OK;
        else /* which one moved: the first that does not hold alone */
            for (size_t i = 0; i < m && rc == KT_EDB; i++) {
                kt_status one = kt_sqlite_fence(s, kind, sorted[i].id, sorted[i].epoch);
                if (one == KT_EFENCED)
                    *lost = sorted[i].id;
                if (one != KT_OK)
                    rc = one;
            }
    } else if (!json) {
        rc = KT_ENOMEM;
    }
    free(json);
    free(sorted);
    return rc;
}

kt_status kt_sqlite_leases(kt_store *s, const char *kind, json_t **out_array, int64_t *now_us)
{
    sqlite3_stmt *st = kt_sqlite_prepared(s, kt_sql_leases), *now = kt_sqlite_prepared(s, kt_sql_now);
    if (!st || !now)
        return KT_EDB;
    if (now_us) {
        if (sqlite3_step(now) != SQLITE_ROW) {
            sqlite3_reset(now);
            return KT_EDB;
        }
        *now_us = sqlite3_column_int64(now, 0);
        sqlite3_reset(now);
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *owner = sqlite3_column_text(st, 1);
        json_array_append_new(arr, json_pack("{s:i, s:o, s:I, s:I}", "id", sqlite3_column_int(st, 0), "owner",
                                             owner ? json_string((const char *)owner) : json_null(), "epoch",
                                             (json_int_t)sqlite3_column_int64(st, 2), "expiresUs",
                                             (json_int_t)sqlite3_column_int64(st, 3)));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return KT_EDB;
    }
    *out_array = arr;
    return KT_OK;
}
