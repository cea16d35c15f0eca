/* The partition leases' contract (store/store.h: kt_store_lease_take/renew/release, kt_store_fence,
 * kt_store_leases), as checks on an open store of either backend: test_store_lease.c runs them on SQLite,
 * test_pg_lease.c on PostgreSQL. Each check starts from a store without leases. */
#ifndef KT_TEST_LEASE_CHECKS_H
#define KT_TEST_LEASE_CHECKS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

#define SEC_US INT64_C(1000000)

static inline size_t take(kt_store *s, const char *kind, const int *ids, size_t n, const char *owner, int64_t ttl,
                          int force, kt_lease *out)
{
    size_t taken = 99;
    assert_int_equal(kt_store_lease_take(s, kind, ids, n, owner, ttl, force, out, &taken), KT_OK);
    return taken;
}

static inline kt_status fence_once(kt_store *s, const char *kind, int p, int64_t epoch)
{
    assert_int_equal(kt_store_begin(s), KT_OK);
    kt_status st = kt_store_fence(s, kind, p, epoch);
    kt_store_rollback(s);
    return st;
}

/* The owner of partition p of kind as kt_store_leases lists it ("" when free, NULL when it has no row). */
static inline const char *lease_owner(kt_store *s, const char *kind, int p, int64_t *epoch, char *buf, size_t cap)
{
    json_t *rows = NULL;
    int64_t now = 0;
    assert_int_equal(kt_store_leases(s, kind, &rows, &now), KT_OK);
    assert_true(now > INT64_C(1700000000) * SEC_US); /* the database's clock, in microseconds */
    const char *found = NULL;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        if (json_integer_value(json_object_get(r, "id")) != p)
            continue;
        const char *o = json_string_value(json_object_get(r, "owner"));
        snprintf(buf, cap, "%s", o ? o : "");
        *epoch = json_integer_value(json_object_get(r, "epoch"));
        found = buf;
    }
    json_decref(rows);
    return found;
}

/* Free partitions are taken at epoch 1 (duplicates once), another owner's are not, the owner's own again at a new
 * epoch; renew keeps what is still held at its epoch; a fence holds at the current epoch only. */
static inline void check_take_renew_fence(kt_store *s)
{
    kt_lease l[8];
    const int want_a[] = {3, 1, 2, 1};
    assert_int_equal(take(s, "executor", want_a, 4, "node-a", 10 * SEC_US, 0, l), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(l[i].id, i + 1); /* by id */
        assert_int_equal(l[i].epoch, 1);
        assert_true(l[i].expires_us > INT64_C(1700000000) * SEC_US);
    }
    const int want_b[] = {1, 2, 3, 4};
    assert_int_equal(take(s, "executor", want_b, 4, "node-b", 10 * SEC_US, 0, l), 1);
    assert_int_equal(l[0].id, 4);
    assert_int_equal(l[0].epoch, 1);
    char buf[64];
    int64_t epoch = 0;
    assert_string_equal(lease_owner(s, "executor", 2, &epoch, buf, sizeof buf), "node-a");
    assert_int_equal(epoch, 1);
    assert_string_equal(lease_owner(s, "executor", 4, &epoch, buf, sizeof buf), "node-b");
    assert_null(lease_owner(s, "executor", 5, &epoch, buf, sizeof buf));
    /* a node restarted under the same id takes its own again, at a new epoch */
    const int one[] = {1};
    assert_int_equal(take(s, "executor", one, 1, "node-a", 10 * SEC_US, 0, l), 1);
    assert_int_equal(l[0].epoch, 2);
    /* renew: what is still held at that epoch (partition 1 at epoch 1 is not any more) */
    kt_lease held[] = {{.id = 3, .epoch = 1}, {.id = 1, .epoch = 1}, {.id = 2, .epoch = 1}}, kept[3];
    size_t n = 99;
    assert_int_equal(kt_store_lease_renew(s, "executor", held, 3, "node-a", 10 * SEC_US, kept, &n), KT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(kept[0].id, 2);
    assert_int_equal(kept[1].id, 3);
    held[1].epoch = 2;
    assert_int_equal(kt_store_lease_renew(s, "executor", held, 3, "node-a", 10 * SEC_US, kept, &n), KT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(kt_store_lease_renew(s, "executor", held, 3, "node-b", 10 * SEC_US, kept, &n), KT_OK);
    assert_int_equal(n, 0); /* another owner renews nothing of node-a's */
    /* the fence: the current epoch holds, an older one or a partition never taken does not */
    assert_int_equal(fence_once(s, "executor", 1, 2), KT_OK);
    assert_int_equal(fence_once(s, "executor", 1, 1), KT_EFENCED);
    assert_int_equal(fence_once(s, "executor", 4, 1), KT_OK);
    assert_int_equal(fence_once(s, "executor", 9, 0), KT_EFENCED);
    assert_int_equal(fence_once(s, "scheduler", 1, 2), KT_EFENCED); /* kinds are apart */
    /* a transaction whose fence held commits what it wrote */
    assert_int_equal(kt_store_begin(s), KT_OK);
    assert_int_equal(kt_store_fence(s, "executor", 2, 1), KT_OK);
    assert_int_equal(kt_store_fence(s, "executor", 3, 1), KT_OK);
    assert_int_equal(kt_store_notice_add(s, "e1", "SUCCESS"), KT_OK);
    assert_int_equal(kt_store_commit(s), KT_OK);
    json_t *notices = NULL;
    assert_int_equal(kt_store_notices(s, &notices), KT_OK);
    assert_int_equal(json_array_size(notices), 1);
    json_decref(notices);
}

/* A released partition is taken by the next owner at once, and its former owner's fence fails; a release of what is
 * not one's own (another owner, an old epoch) releases nothing. */
static inline void check_release(kt_store *s)
{
    kt_lease l[4];
    const int ids[] = {7, 8};
    assert_int_equal(take(s, "executor", ids, 2, "node-a", 10 * SEC_US, 0, l), 2);
    kt_lease mine[] = {{.id = 7, .epoch = 1}}, stale[] = {{.id = 8, .epoch = 5}};
    size_t n = 99;
    assert_int_equal(kt_store_lease_release(s, "executor", mine, 1, "node-b", &n), KT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(kt_store_lease_release(s, "executor", stale, 1, "node-a", &n), KT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(kt_store_lease_release(s, "executor", mine, 1, "node-a", &n), KT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(kt_store_lease_release(s, "executor", mine, 1, "node-a", NULL), KT_OK); /* twice: nothing */
    assert_int_equal(fence_once(s, "executor", 7, 1), KT_EFENCED);
    char buf[64];
    int64_t epoch = 0;
    assert_string_equal(lease_owner(s, "executor", 7, &epoch, buf, sizeof buf), "");
    assert_int_equal(take(s, "executor", ids, 2, "node-b", 10 * SEC_US, 0, l), 1);
    assert_int_equal(l[0].id, 7);
    assert_int_equal(l[0].epoch, 2);
    assert_string_equal(lease_owner(s, "executor", 8, &epoch, buf, sizeof buf), "node-a");
}

/* An expired lease is taken by another owner at a new epoch; until then it stays its owner's (renew keeps it, the
 * fence holds: the epoch decides, not the clock). force takes a live one. */
static inline void check_expiry_and_force(kt_store *s)
{
    kt_lease l[2];
    const int five[] = {5}, six[] = {6};
    assert_int_equal(take(s, "executor", five, 1, "node-a", 1000, 0, l), 1); /* 1 ms */
    usleep(30 * 1000);
    assert_int_equal(fence_once(s, "executor", 5, 1), KT_OK); /* expired, but nobody took it */
    kt_lease held[] = {{.id = 5, .epoch = 1}};
    size_t n = 99;
    assert_int_equal(take(s, "executor", five, 1, "node-b", 10 * SEC_US, 0, l), 1);
    assert_int_equal(l[0].epoch, 2);
    assert_int_equal(kt_store_lease_renew(s, "executor", held, 1, "node-a", 10 * SEC_US, l, &n), KT_OK);
    assert_int_equal(n, 0); /* lost */
    assert_int_equal(fence_once(s, "executor", 5, 1), KT_EFENCED);
    /* expired and renewed before anyone took it: still node-a's */
    assert_int_equal(take(s, "executor", six, 1, "node-a", 1000, 0, l), 1);
    usleep(30 * 1000);
    held[0] = (kt_lease){.id = 6, .epoch = 1};
    assert_int_equal(kt_store_lease_renew(s, "executor", held, 1, "node-a", 10 * SEC_US, l, &n), KT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(take(s, "executor", six, 1, "node-b", 10 * SEC_US, 0, l), 0);
    /* force: whoever holds it */
    assert_int_equal(take(s, "executor", six, 1, "node-b", 10 * SEC_US, 1, l), 1);
    assert_int_equal(l[0].epoch, 2);
    assert_int_equal(fence_once(s, "executor", 6, 1), KT_EFENCED);
}

/* Bad arguments are refused before the database; nothing to do is done. */
static inline void check_arguments(kt_store *s)
{
    kt_lease l[2];
    size_t n = 99;
    const int one[] = {1};
    assert_int_equal(kt_store_lease_take(s, NULL, one, 1, "a", SEC_US, 0, l, &n), KT_EINVAL);
    assert_int_equal(n, 0);
    assert_int_equal(kt_store_lease_take(s, "executor", one, 1, "", SEC_US, 0, l, &n), KT_EINVAL);
    assert_int_equal(kt_store_lease_take(s, "executor", one, 1, NULL, SEC_US, 0, l, &n), KT_EINVAL);
    assert_int_equal(kt_store_lease_take(s, "executor", one, 1, "a", 0, 0, l, &n), KT_EINVAL);
    assert_int_equal(kt_store_lease_take(s, "executor", NULL, 1, "a", SEC_US, 0, l, &n), KT_EINVAL);
    assert_int_equal(kt_store_lease_take(s, "executor", NULL, 0, "a", SEC_US, 0, NULL, &n), KT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(kt_store_lease_renew(s, "executor", NULL, 0, "a", SEC_US, NULL, &n), KT_OK);
    assert_int_equal(kt_store_lease_renew(s, "executor", l, 1, "a", -1, l, &n), KT_EINVAL);
    assert_int_equal(kt_store_lease_release(s, NULL, l, 1, "a", &n), KT_EINVAL);
    assert_int_equal(kt_store_fence(s, NULL, 1, 1), KT_EINVAL);
    json_t *rows = NULL;
    assert_int_equal(kt_store_leases(s, NULL, &rows, NULL), KT_EINVAL);
    assert_null(rows);
    assert_int_equal(kt_store_leases(s, "nothing", &rows, NULL), KT_OK);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    assert_string_equal(kt_strerror(KT_EFENCED), "fenced: the partition's lease moved to another owner");
}

/* Several partitions fenced in one statement: all held is KT_OK (duplicates and order do not matter), one whose epoch
 * moved (or never taken, or released) is KT_EFENCED naming the lowest such partition. */
static inline void check_fence_many(kt_store *s)
{
    kt_lease l[4];
    const int ids[] = {10, 11, 12};
    assert_int_equal(take(s, "executor", ids, 3, "node-a", 10 * SEC_US, 0, l), 3);
    kt_lease all[] = {{.id = 12, .epoch = 1}, {.id = 10, .epoch = 1}, {.id = 11, .epoch = 1}, {.id = 10, .epoch = 1}};
    int lost = 99;
    assert_int_equal(kt_store_begin(s), KT_OK);
    assert_int_equal(kt_store_fence_many(s, "executor", all, 4, &lost), KT_OK);
    assert_int_equal(lost, -1);
    assert_int_equal(kt_store_fence_many(s, "executor", NULL, 0, &lost), KT_OK);
    kt_store_rollback(s);
    const int eleven[] = {11};
    assert_int_equal(take(s, "executor", eleven, 1, "node-b", 10 * SEC_US, 1, l), 1); /* 11 moves to epoch 2 */
    kt_lease gone[] = {{.id = 12, .epoch = 1}, {.id = 11, .epoch = 1}, {.id = 13, .epoch = 1}};
    assert_int_equal(kt_store_begin(s), KT_OK);
    assert_int_equal(kt_store_fence_many(s, "executor", gone, 3, &lost), KT_EFENCED);
    assert_int_equal(lost, 11);
    kt_store_rollback(s);
    gone[1].epoch = 2;
    assert_int_equal(kt_store_begin(s), KT_OK);
    assert_int_equal(kt_store_fence_many(s, "executor", gone, 3, &lost), KT_EFENCED);
    assert_int_equal(lost, 13); /* never taken */
    assert_int_equal(kt_store_fence_many(s, "executor", gone, 2, NULL), KT_OK);
    kt_store_rollback(s);
    assert_int_equal(kt_store_fence_many(s, NULL, gone, 2, &lost), KT_EINVAL);
}

/* Every partition at once, as an executor alone on the store takes them at start. */
static inline void check_all_partitions(kt_store *s)
{
    int ids[64];
    kt_lease l[64];
    for (int i = 0; i < 64; i++)
        ids[i] = 63 - i;
    assert_int_equal(take(s, "executor", ids, 64, "solo", 10 * SEC_US, 1, l), 64);
    for (int i = 0; i < 64; i++)
        assert_int_equal(l[i].id, i);
    assert_int_equal(take(s, "executor", ids, 64, "solo", 10 * SEC_US, 1, l), 64); /* the next start: epoch 2 */
    for (int i = 0; i < 64; i++)
        assert_int_equal(l[i].epoch, 2);
    size_t n = 0;
    assert_int_equal(kt_store_lease_renew(s, "executor", l, 64, "solo", 10 * SEC_US, l, &n), KT_OK);
    assert_int_equal(n, 64);
}

#endif
