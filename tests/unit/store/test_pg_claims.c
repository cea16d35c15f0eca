/* The PostgreSQL store's claims, which let several schedulers share one store: a trigger row claimed in one
 * transaction makes a second claim (another connection, another thread) wait for the first's commit and then read
 * what it wrote; a notice is taken by one transaction only. Each test runs in a schema of its own. Skips (77)
 * without the test PostgreSQL (tests/pg/start.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "tests/pg/pg_schema.h"

static char g_url[512];

typedef struct fixture {
    char schema[48];
    char url[768];
} fixture;

static void run_sql(const char *url, const char *sql)
{
    char err[512];
    if (kt_test_pg_exec(url, sql, err, sizeof err))
        fail_msg("%s", err);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[512], plain[700];
    kt_test_pg_schema_name("claims", f->schema, sizeof f->schema);
    if (kt_test_pg_schema_create(g_url, f->schema, plain, sizeof plain, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    /* a lock waited on for 10 s is a failure, not a hang (a failed assertion leaves a transaction open) */
    snprintf(f->url, sizeof f->url, "%s%%20-clock_timeout%%3D10s", plain);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char err[512];
    int rc = kt_test_pg_schema_drop(g_url, f->schema, err, sizeof err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    free(f);
    return rc;
}

static kt_store *open_store(const fixture *f)
{
    kt_store *s = NULL;
    char err[512] = "";
    if (kt_store_open(f->url, NULL, &s, err, sizeof err))
        fail_msg("kt_store_open: %s", err);
    return s;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct second_claim {
    const fixture *f;
    double claimed_at;
    char next[64]; /* nextExecutionDate as the second claim read it */
    int status;
} second_claim;

static void *claim_in_thread(void *arg)
{
    second_claim *c = arg;
    kt_store *s = open_store(c->f);
    json_t *row = NULL;
    c->status = kt_store_begin(s);
    if (!c->status)
        c->status = kt_store_trigger_claim(s, "ns", "flow", "tick", &row);
    c->claimed_at = now_s();
    snprintf(c->next, sizeof c->next, "%s", json_string_value(json_object_get(row, "nextExecutionDate")) ?: "");
    kt_store_rollback(s);
    json_decref(row);
    kt_store_close(s);
    return NULL;
}

/* The second claim waits for the first transaction and reads the row it wrote, never the one before it. */
static void test_trigger_claim_waits_for_the_first(void **state)
{
    fixture *f = *state;
    kt_store *s = open_store(f);
    run_sql(f->url, "INSERT INTO triggers(namespace, flow_id, trigger_id, next_execution_date, body) VALUES "
                    "('ns', 'flow', 'tick', 1, '{\"namespace\":\"ns\",\"flowId\":\"flow\",\"triggerId\":\"tick\","
                    "\"nextExecutionDate\":\"2026-12-07T10:00:00Z\"}')");
    assert_int_equal(kt_store_begin(s), KT_OK);
    json_t *row = NULL;
    assert_int_equal(kt_store_trigger_claim(s, "ns", "flow", "tick", &row), KT_OK);
    assert_string_equal(json_string_value(json_object_get(row, "nextExecutionDate")), "2026-12-07T10:00:00Z");
    json_decref(row);

    second_claim c = {.f = f};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, claim_in_thread, &c), 0);
    usleep(300 * 1000); /* the second claim is waiting by now */
    run_sql(f->url, "SELECT 1"); /* (another connection is not blocked by the row lock) */
    json_t *moved = json_pack("{s:s, s:s, s:s, s:s}", "namespace", "ns", "flowId", "flow", "triggerId", "tick",
                              "nextExecutionDate", "2026-12-07T10:00:01Z");
    assert_int_equal(kt_store_trigger_put(s, moved), KT_OK);
    json_decref(moved);
    double committed_at = now_s();
    assert_int_equal(kt_store_commit(s), KT_OK);
    pthread_join(th, NULL);
    assert_int_equal(c.status, KT_OK);
    assert_true(c.claimed_at >= committed_at);
    assert_string_equal(c.next, "2026-12-07T10:00:01Z");
    kt_store_close(s);
}

/* A claim outside a transaction is a caller's bug; an absent row is KT_ENOTFOUND. */
static void test_trigger_claim_absent(void **state)
{
    fixture *f = *state;
    kt_store *s = open_store(f);
    json_t *row = NULL;
    assert_int_equal(kt_store_begin(s), KT_OK);
    assert_int_equal(kt_store_trigger_claim(s, "ns", "flow", "nope", &row), KT_ENOTFOUND);
    assert_null(row);
    kt_store_rollback(s);
    kt_store_close(s);
}

/* Two stores take the same notice: one gets it, the other finds it gone; a rolled-back take leaves it. */
static void test_notice_taken_once(void **state)
{
    fixture *f = *state;
    kt_store *a = open_store(f), *b = open_store(f);
    run_sql(f->url, "INSERT INTO notices(execution_id, state) VALUES ('e1', 'SUCCESS')");
    int taken = -1;
    assert_int_equal(kt_store_begin(a), KT_OK);
    assert_int_equal(kt_store_notice_take(a, "e1", "SUCCESS", &taken), KT_OK);
    assert_int_equal(taken, 1);
    kt_store_rollback(a); /* nothing acted on: the notice stays */
    assert_int_equal(kt_store_begin(a), KT_OK);
    assert_int_equal(kt_store_notice_take(a, "e1", "SUCCESS", &taken), KT_OK);
    assert_int_equal(taken, 1);
    assert_int_equal(kt_store_commit(a), KT_OK);
    assert_int_equal(kt_store_begin(b), KT_OK);
    assert_int_equal(kt_store_notice_take(b, "e1", "SUCCESS", &taken), KT_OK);
    assert_int_equal(taken, 0);
    kt_store_rollback(b);
    kt_store_close(a);
    kt_store_close(b);
}

typedef struct second_insert {
    const fixture *f;
    int what;       /* 0: a trigger row, 1: a window (the same key as the first's) */
    double done_at;
    int status;     /* the insert's */
} second_insert;

static json_t *a_trigger(const char *next)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "namespace", "ns", "flowId", "flow", "triggerId", "tick",
                     "nextExecutionDate", next);
}

static json_t *a_window(const char *cond)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:b}}", "namespace", "ns", "flowId", "down", "conditionId", "pre",
                     "start", "2026-12-07T00:00:00Z", "end", "2026-12-07T23:59:59.999Z", "results", cond, 1);
}

static void *insert_in_thread(void *arg)
{
    second_insert *c = arg;
    kt_store *s = open_store(c->f);
    json_t *v = c->what ? a_window("condition_2") : a_trigger("2026-12-07T11:00:00Z");
    c->status = kt_store_begin(s);
    if (!c->status)
        c->status = c->what ? kt_store_window_insert(s, v) : kt_store_trigger_insert(s, v);
    c->done_at = now_s();
    if (c->status == KT_OK)
        kt_store_commit(s);
    else
        kt_store_rollback(s);
    json_decref(v);
    kt_store_close(s);
    return NULL;
}

/* Two schedulers make the same row from nothing at once (neither saw the other's): the second insert waits for the
 * first transaction, then finds its row and writes nothing (KT_ECONFLICT: it evaluates again from that row). */
static void concurrent_inserts(const fixture *f, int what)
{
    kt_store *s = open_store(f);
    json_t *v = what ? a_window("condition_1") : a_trigger("2026-12-07T10:00:00Z");
    assert_int_equal(kt_store_begin(s), KT_OK);
    assert_int_equal(what ? kt_store_window_insert(s, v) : kt_store_trigger_insert(s, v), KT_OK);
    second_insert c = {.f = f, .what = what};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, insert_in_thread, &c), 0);
    usleep(300 * 1000); /* the second insert is waiting by now */
    double committed_at = now_s();
    assert_int_equal(kt_store_commit(s), KT_OK);
    pthread_join(th, NULL);
    assert_int_equal(c.status, KT_ECONFLICT);
    assert_true(c.done_at >= committed_at);
    json_t *got = NULL;
    if (what)
        assert_int_equal(kt_store_window_get(s, "ns", "down", "pre", &got), KT_OK);
    else
        assert_int_equal(kt_store_trigger_get(s, "ns", "flow", "tick", &got), KT_OK);
    assert_true(json_equal(got, v)); /* the first one's */
    json_decref(got);
    json_decref(v);
    kt_store_close(s);
}

static void test_trigger_insert_concurrent(void **state) { concurrent_inserts(*state, 0); }
static void test_window_insert_concurrent(void **state) { concurrent_inserts(*state, 1); }

typedef struct second_window_claim {
    const fixture *f;
    double claimed_at;
    json_t *row;
    int status;
} second_window_claim;

static void *window_claim_in_thread(void *arg)
{
    second_window_claim *c = arg;
    kt_store *s = open_store(c->f);
    c->status = kt_store_begin(s);
    if (!c->status)
        c->status = kt_store_window_claim(s, "ns", "down", "pre", &c->row);
    c->claimed_at = now_s();
    kt_store_rollback(s);
    kt_store_close(s);
    return NULL;
}

/* A window claimed in one transaction: a second claim waits for the first's commit and reads what it wrote. */
static void test_window_claim_waits_for_the_first(void **state)
{
    fixture *f = *state;
    kt_store *s = open_store(f);
    json_t *w1 = a_window("condition_1");
    assert_int_equal(kt_store_window_put(s, w1), KT_OK);
    assert_int_equal(kt_store_begin(s), KT_OK);
    json_t *got = NULL;
    assert_int_equal(kt_store_window_claim(s, "ns", "down", "pre", &got), KT_OK);
    assert_true(json_equal(got, w1));
    json_decref(got);
    second_window_claim c = {.f = f};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, window_claim_in_thread, &c), 0);
    usleep(300 * 1000);
    json_object_set_new(json_object_get(w1, "results"), "condition_2", json_true());
    assert_int_equal(kt_store_window_put(s, w1), KT_OK);
    double committed_at = now_s();
    assert_int_equal(kt_store_commit(s), KT_OK);
    pthread_join(th, NULL);
    assert_int_equal(c.status, KT_OK);
    assert_true(c.claimed_at >= committed_at);
    assert_true(json_equal(c.row, w1)); /* both conditions */
    json_decref(c.row);
    json_decref(w1);
    kt_store_close(s);
}

/* Two notices alike (two changes) taken by two transactions at once: each takes one, neither waits for the other. */
static void test_notices_alike_taken_apart(void **state)
{
    fixture *f = *state;
    kt_store *a = open_store(f), *b = open_store(f);
    run_sql(f->url, "INSERT INTO notices(execution_id, state) VALUES ('e1', 'FAILED'), ('e1', 'FAILED')");
    int ta = 0, tb = 0;
    assert_int_equal(kt_store_begin(a), KT_OK);
    assert_int_equal(kt_store_notice_take(a, "e1", "FAILED", &ta), KT_OK);
    assert_int_equal(kt_store_begin(b), KT_OK);
    assert_int_equal(kt_store_notice_take(b, "e1", "FAILED", &tb), KT_OK); /* a's is held: b takes the other */
    assert_int_equal(ta, 1);
    assert_int_equal(tb, 1);
    assert_int_equal(kt_store_commit(b), KT_OK);
    assert_int_equal(kt_store_commit(a), KT_OK);
    json_t *left = NULL;
    assert_int_equal(kt_store_notices(a, &left), KT_OK);
    assert_int_equal(json_array_size(left), 0);
    json_decref(left);
    kt_store_close(a);
    kt_store_close(b);
}

/* Expiring windows never waits for a window another transaction claimed (it would deadlock with a transaction that
 * claimed it and waits for one of ours): the claimed one is left to a later pass. */
static void test_expire_skips_a_claimed_window(void **state)
{
    fixture *f = *state;
    kt_store *a = open_store(f), *b = open_store(f);
    json_t *w = a_window("condition_1"); /* ends 2026-12-07T23:59:59.999Z */
    assert_int_equal(kt_store_window_put(a, w), KT_OK);
    int64_t later = 1796774400000000LL; /* 2026-12-09 */
    assert_int_equal(kt_store_begin(a), KT_OK);
    json_t *got = NULL;
    assert_int_equal(kt_store_window_claim(a, "ns", "down", "pre", &got), KT_OK);
    json_decref(got);
    double t0 = now_s();
    assert_int_equal(kt_store_windows_expire(b, later), KT_OK);
    assert_true(now_s() - t0 < 2.0); /* not the lock's 10 s */
    assert_int_equal(kt_store_window_get(b, "ns", "down", "pre", &got), KT_OK);
    json_decref(got);
    assert_int_equal(kt_store_commit(a), KT_OK);
    assert_int_equal(kt_store_windows_expire(b, later), KT_OK);
    assert_int_equal(kt_store_window_get(b, "ns", "down", "pre", &got), KT_ENOTFOUND);
    json_decref(w);
    kt_store_close(a);
    kt_store_close(b);
}

int main(void)
{
    int rc = kt_test_pg_url(g_url, sizeof g_url);
    if (rc)
        return rc;
    setenv("PGOPTIONS", "-c lock_timeout=10s", 1); /* the side connections (schemas) too */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trigger_claim_waits_for_the_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trigger_claim_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_taken_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trigger_insert_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_insert_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_claim_waits_for_the_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notices_alike_taken_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_skips_a_claimed_window, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
