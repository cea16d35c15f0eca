/* Partition leases on PostgreSQL (lease_checks.h, the checks test_store_lease.c runs on SQLite), then what only
 * several connections show: a take waits for the commit of a transaction that fenced the partition (so the commit
 * lands before the epoch moves, and the new owner's load sees it); a fence that meets a take in progress waits for
 * it and then fails (READ COMMITTED re-reads the row); two owners taking the same free partitions at once share
 * them out, never both taking one. Each test runs in a schema of its own. Skips (77) without the test PostgreSQL
 * (tests/pg/start.sh). */
#include "lease_checks.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tests/pg/pg_url.h"

static char g_url[512];

typedef struct fixture {
    char schema[64];
    char url[768];
    kt_store *s;
} fixture;

static void run_sql(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

static PGconn *connect_to(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect: %s", PQerrorMessage(c));
    return c;
}

static kt_store *open_store(const fixture *f)
{
    kt_store *s = NULL;
    char err[512] = "";
    if (kt_store_open(f->url, NULL, &s, err, sizeof err))
        fail_msg("kt_store_open: %s", err);
    return s;
}

static int setup(void **state)
{
    static int n;
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->schema, sizeof f->schema, "kt_lease_%d_%d", (int)getpid(), ++n);
    char sql[128];
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; CREATE SCHEMA %s", f->schema);
    PGconn *c = connect_to(g_url);
    run_sql(c, sql);
    PQfinish(c);
    /* a lock waited on for 10 s is a failure, not a hang */
    snprintf(f->url, sizeof f->url, "%s%coptions=-csearch_path%%3D%s%%20-clock_timeout%%3D10s", g_url,
             strchr(g_url, '?') ? '&' : '?', f->schema);
    f->s = open_store(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    kt_store_close(f->s);
    char sql[128];
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA %s CASCADE", f->schema);
    PGconn *c = connect_to(g_url);
    run_sql(c, sql);
    PQfinish(c);
    free(f);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_take_renew_fence(void **state) { check_take_renew_fence(((fixture *)*state)->s); }
static void test_release(void **state) { check_release(((fixture *)*state)->s); }
static void test_expiry_and_force(void **state) { check_expiry_and_force(((fixture *)*state)->s); }
static void test_arguments(void **state) { check_arguments(((fixture *)*state)->s); }
static void test_all_partitions(void **state) { check_all_partitions(((fixture *)*state)->s); }
static void test_fence_many(void **state) { check_fence_many(((fixture *)*state)->s); }

/* ---- a take against a fenced transaction ---- */

typedef struct taker {
    const fixture *f;
    const char *owner;
    int force;
    int ids[64];
    size_t nids;
    kt_lease got[64];
    size_t taken;
    kt_status status;
    double done_at;
    pthread_barrier_t *start; /* several takers released together (may be NULL) */
} taker;

static void *take_in_thread(void *arg)
{
    taker *t = arg;
    kt_store *s = open_store(t->f);
    if (t->start)
        pthread_barrier_wait(t->start);
    t->status = kt_store_lease_take(s, "executor", t->ids, t->nids, t->owner, 10 * SEC_US, t->force, t->got,
                                    &t->taken);
    t->done_at = now_s();
    kt_store_close(s);
    return NULL;
}

/* node-a's lease expired and it is paused in a commit that fenced partitions 1 and 2: node-b's take waits for that
 * commit, then takes the partition at the next epoch; the commit landed, and node-a's next fence fails. */
static void test_take_waits_for_fenced_commit(void **state)
{
    fixture *f = *state;
    kt_lease l[1];
    const int one[] = {1};
    assert_int_equal(take(f->s, "executor", one, 1, "node-a", 1000, 0, l), 1); /* expires in 1 ms */
    usleep(30 * 1000);
    const int two[] = {2};
    assert_int_equal(take(f->s, "executor", two, 1, "node-a", 10 * SEC_US, 0, l), 1);
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    /* as the executor fences a commit: every partition it writes in one statement; 1 expired, but nobody took it:
     * still ours */
    kt_lease both[] = {{.id = 2, .epoch = 1}, {.id = 1, .epoch = 1}};
    assert_int_equal(kt_store_fence_many(f->s, "executor", both, 2, NULL), KT_OK);
    assert_int_equal(kt_store_notice_add(f->s, "e1", "SUCCESS"), KT_OK);

    taker b = {.f = f, .owner = "node-b", .ids = {1}, .nids = 1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, take_in_thread, &b), 0);
    usleep(300 * 1000); /* the take is waiting on the row by now */
    double committed_at = now_s();
    assert_int_equal(kt_store_commit(f->s), KT_OK);
    pthread_join(th, NULL);
    assert_int_equal(b.status, KT_OK);
    assert_int_equal(b.taken, 1);
    assert_int_equal(b.got[0].epoch, 2);
    assert_true(b.done_at >= committed_at); /* it waited for the commit */
    json_t *notices = NULL;
    assert_int_equal(kt_store_notices(f->s, &notices), KT_OK);
    assert_int_equal(json_array_size(notices), 1); /* the fenced commit landed */
    json_decref(notices);
    assert_int_equal(fence_once(f->s, "executor", 1, 1), KT_EFENCED);
    char buf[64];
    int64_t epoch = 0;
    assert_string_equal(lease_owner(f->s, "executor", 1, &epoch, buf, sizeof buf), "node-b");
    assert_int_equal(epoch, 2);
}

typedef struct fencer {
    const fixture *f;
    kt_status fence, commit;
    double done_at;
} fencer;

static void *fence_in_thread(void *arg)
{
    fencer *x = arg;
    kt_store *s = open_store(x->f);
    x->fence = kt_store_begin(s);
    if (!x->fence)
        x->fence = kt_store_fence(s, "executor", 1, 1);
    x->done_at = now_s();
    if (x->fence == KT_OK) {
        kt_store_notice_add(s, "late", "SUCCESS");
        x->commit = kt_store_commit(s);
    } else {
        kt_store_rollback(s);
    }
    kt_store_close(s);
    return NULL;
}

/* A take is in progress (its row updated, not committed yet) when node-a fences: the fence waits, then sees the new
 * epoch and fails, so node-a writes nothing. When the take rolls back instead, the fence holds. */
static void test_fence_meets_take_in_progress(void **state)
{
    fixture *f = *state;
    kt_lease l[1];
    const int one[] = {1};
    assert_int_equal(take(f->s, "executor", one, 1, "node-a", 1000, 0, l), 1);
    PGconn *side = connect_to(f->url);
    for (int round = 0; round < 2; round++) {
        int commit = round == 0 ? 0 : 1; /* first the take rolls back, then it commits */
        run_sql(side, "BEGIN");
        run_sql(side, "UPDATE kite_partitions SET owner = 'node-b', epoch = epoch + 1, expires_us = expires_us + "
                      "10000000 WHERE kind = 'executor' AND id = 1");
        fencer x = {.f = f};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, fence_in_thread, &x), 0);
        usleep(300 * 1000);
        double ended_at = now_s();
        run_sql(side, commit ? "COMMIT" : "ROLLBACK");
        pthread_join(th, NULL);
        assert_true(x.done_at >= ended_at); /* the fence waited for the take */
        if (!commit) {
            assert_int_equal(x.fence, KT_OK);
            assert_int_equal(x.commit, KT_OK);
        } else {
            assert_int_equal(x.fence, KT_EFENCED);
        }
    }
    PQfinish(side);
    json_t *notices = NULL;
    assert_int_equal(kt_store_notices(f->s, &notices), KT_OK);
    assert_int_equal(json_array_size(notices), 1); /* only the commit whose fence held */
    json_decref(notices);
}

/* Four owners take all 64 free partitions at the same moment: each partition goes to exactly one, at epoch 1. */
static void test_concurrent_takes_share(void **state)
{
    fixture *f = *state;
    enum { T = 4 };
    taker t[T];
    pthread_t th[T];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, T);
    static const char *const owners[T] = {"n0", "n1", "n2", "n3"};
    for (int k = 0; k < T; k++) {
        memset(&t[k], 0, sizeof t[k]);
        t[k].f = f;
        t[k].owner = owners[k];
        t[k].start = &start;
        t[k].nids = 64;
        for (int i = 0; i < 64; i++)
            t[k].ids[i] = (i * 7 + k * 13) % 64; /* each in its own order: the store locks them in one */
        assert_int_equal(pthread_create(&th[k], NULL, take_in_thread, &t[k]), 0);
    }
    int owner_of[64];
    for (int i = 0; i < 64; i++)
        owner_of[i] = -1;
    size_t total = 0;
    for (int k = 0; k < T; k++) {
        pthread_join(th[k], NULL);
        assert_int_equal(t[k].status, KT_OK);
        total += t[k].taken;
        for (size_t i = 0; i < t[k].taken; i++) {
            assert_int_equal(owner_of[t[k].got[i].id], -1);
            owner_of[t[k].got[i].id] = k;
            assert_int_equal(t[k].got[i].epoch, 1);
        }
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(total, 64);
    char buf[64];
    int64_t epoch = 0;
    for (int p = 0; p < 64; p++)
        assert_string_equal(lease_owner(f->s, "executor", p, &epoch, buf, sizeof buf), owners[owner_of[p]]);
}

int main(void)
{
    int rc = kt_test_pg_url(g_url, sizeof g_url);
    if (rc)
        return rc;
    setenv("PGOPTIONS", "-c lock_timeout=10s", 1); /* the side connections too */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_take_renew_fence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_and_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_partitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fence_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_take_waits_for_fenced_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fence_meets_take_in_progress, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_takes_share, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
