/* The read pool (store/db_pool.h) on the store fixture's backend (SQLite, or PostgreSQL as test_db_pool_pg): every
 * accepted job completes exactly once and never inside kt_db_read, with what its own session read; a full queue says
 * KT_EAGAIN; a close completes the running jobs with their status and the queued ones with KT_ECLOSED, and leaves a
 * loop that closes; the reader sessions refuse writes and see commits made before the job.
 * kt_db_txn: done once and never inside the call, the commit visible to every session after done, fn's failure
 * rolled back, fn re-run on KT_EAGAIN and, on PostgreSQL, on a real serialization failure between two writers. */
#include "store_fixture.h"
#include "store/db_pool.h"
#include "store/pg_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define NFLOWS 16
#define NJOBS 200

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int g_in_submit; /* set around kt_db_read: a done inside it would see 1 */

typedef struct job {
    int flow;        /* which flow to read */
    int done_calls;  /* dones run for this job */
    kt_status st;
    char source[64]; /* what fn read */
    int *remaining;
} job;

static kt_status read_flow(kt_store *s, void *ud)
{
    job *j = ud;
    char id[16];
    snprintf(id, sizeof id, "f%d", j->flow);
    kt_flow_row row = {0};
    kt_status st = kt_store_flow_get(s, "pool.test", id, 0, &row);
    if (st == KT_OK)
        snprintf(j->source, sizeof j->source, "%s", row.source);
    kt_flow_row_clear(&row);
    return st;
}

static void job_done(kt_status st, void *ud)
{
    job *j = ud;
    assert_int_equal(g_in_submit, 0);
    j->done_calls++;
    j->st = st;
    (*j->remaining)--;
}

static void save_flows(fixture *f, int n)
{
    for (int i = 0; i < n; i++) {
        char id[16], src[64];
        snprintf(id, sizeof id, "f%d", i);
        snprintf(src, sizeof src, "id: f%d\nnamespace: pool.test\n", i);
        int rev, changed;
        assert_int_equal(kt_store_flow_save(f->s, "pool.test", id, src, &rev, &changed), KT_OK);
    }
}

static kt_db_pool *open_pool(uv_loop_t *loop, const char *where, int readers, int queue)
{
    kt_db_pool_options o = {.readers = readers, .queue = queue};
    kt_db_pool *p = NULL;
    char err[512] = "";
    kt_status st = kt_db_pool_open(loop, where, &o, &p, err, sizeof err);
    if (st)
        fail_msg("kt_db_pool_open: %d %s", st, err);
    return p;
}

static kt_status submit(kt_db_pool *p, kt_db_job_fn fn, job *j)
{
    g_in_submit = 1;
    kt_status st = kt_db_read(p, fn, job_done, j);
    g_in_submit = 0;
    return st;
}

/* While jobs are out the pool keeps the loop alive, so a turn waits for their completions (at most 10 s). */
static void run_until(uv_loop_t *loop, const int *remaining)
{
    double until = mono_s() + 10;
    while (*remaining > 0 && mono_s() < until)
        uv_run(loop, UV_RUN_ONCE);
    assert_int_equal(*remaining, 0);
}

static void close_pool(uv_loop_t *loop, kt_db_pool *p)
{
    kt_db_pool_close(p);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

/* Many jobs over a few threads, in any order: each answers its own flow, once. */
static void test_every_job_once(void **state)
{
    fixture *f = *state;
    save_flows(f, NFLOWS);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_pool *p = open_pool(&loop, f->data, 4, NJOBS);
    assert_int_equal(kt_db_pool_readers(p), 4);
    static job jobs[NJOBS];
    int remaining = 0;
    for (int i = 0; i < NJOBS; i++) {
        jobs[i] = (job){.flow = (i * 7) % (NFLOWS + 1), .remaining = &remaining}; /* flow NFLOWS does not exist */
        assert_int_equal(submit(p, read_flow, &jobs[i]), KT_OK);
        remaining++;
    }
    run_until(&loop, &remaining);
    for (int i = 0; i < NJOBS; i++) {
        assert_int_equal(jobs[i].done_calls, 1);
        if (jobs[i].flow == NFLOWS) {
            assert_int_equal(jobs[i].st, KT_ENOTFOUND);
            continue;
        }
        char want[64];
        snprintf(want, sizeof want, "id: f%d\nnamespace: pool.test\n", jobs[i].flow);
        assert_int_equal(jobs[i].st, KT_OK);
        assert_string_equal(jobs[i].source, want);
    }
    close_pool(&loop, p);
}

/* ---- a job that holds its thread until the test lets it go ---- */
static pthread_mutex_t g_gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_gate_cv = PTHREAD_COND_INITIALIZER;
static int g_gate_open;
static atomic_int g_started;

static kt_status gated(kt_store *s, void *ud)
{
    atomic_fetch_add(&g_started, 1);
    pthread_mutex_lock(&g_gate_mu);
    while (!g_gate_open)
        pthread_cond_wait(&g_gate_cv, &g_gate_mu);
    pthread_mutex_unlock(&g_gate_mu);
    return read_flow(s, ud);
}

static void gate(int open)
{
    pthread_mutex_lock(&g_gate_mu);
    g_gate_open = open;
    pthread_cond_broadcast(&g_gate_cv);
    pthread_mutex_unlock(&g_gate_mu);
}

static void wait_started(int n)
{
    for (int i = 0; atomic_load(&g_started) < n && i < 5000; i++)
        usleep(1000);
    assert_int_equal(atomic_load(&g_started), n);
}

static void test_full_queue(void **state)
{
    fixture *f = *state;
    save_flows(f, 1);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_pool *p = open_pool(&loop, f->data, 1, 3);
    gate(0);
    atomic_store(&g_started, 0);
    job jobs[4];
    int remaining = 0;
    for (int i = 0; i < 3; i++) {
        jobs[i] = (job){.flow = 0, .remaining = &remaining};
        assert_int_equal(submit(p, gated, &jobs[i]), KT_OK);
        remaining++;
    }
    jobs[3] = (job){.flow = 0, .remaining = &remaining};
    assert_int_equal(submit(p, gated, &jobs[3]), KT_EAGAIN); /* one running, two queued: full */
    gate(1);
    run_until(&loop, &remaining);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(jobs[i].done_calls, 1);
        assert_int_equal(jobs[i].st, KT_OK);
    }
    assert_int_equal(jobs[3].done_calls, 0);
    /* room again once the dones ran */
    assert_int_equal(submit(p, gated, &jobs[3]), KT_OK);
    remaining++;
    run_until(&loop, &remaining);
    assert_int_equal(jobs[3].done_calls, 1);
    close_pool(&loop, p);
}

/* A close while one job runs and others wait: the running one completes with its status, the waiting ones with
 * KT_ECLOSED, all inside the close; later submissions are refused. */
static void *open_gate_later(void *arg)
{
    (void)arg;
    usleep(30000);
    gate(1);
    return NULL;
}

static void test_close_with_jobs_pending(void **state)
{
    fixture *f = *state;
    save_flows(f, 1);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_pool *p = open_pool(&loop, f->data, 1, 16);
    gate(0);
    atomic_store(&g_started, 0);
    job jobs[8];
    int remaining = 0;
    for (int i = 0; i < 8; i++) {
        jobs[i] = (job){.flow = 0, .remaining = &remaining};
        assert_int_equal(submit(p, gated, &jobs[i]), KT_OK);
        remaining++;
    }
    wait_started(1);
    pthread_t t;
    pthread_create(&t, NULL, open_gate_later, NULL);
    kt_db_pool_close(p); /* waits for the running job, which the thread lets go */
    pthread_join(t, NULL);
    assert_int_equal(remaining, 0);
    int ok = 0, closed = 0;
    for (int i = 0; i < 8; i++) {
        assert_int_equal(jobs[i].done_calls, 1);
        ok += jobs[i].st == KT_OK;
        closed += jobs[i].st == KT_ECLOSED;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(closed, 7);
    assert_int_equal(jobs[0].st, KT_OK); /* FIFO: the first submitted was the one running */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* The reader sessions read what was committed before the job, and cannot write. */
static kt_status try_write(kt_store *s, void *ud)
{
    (void)ud;
    int rev, changed;
    return kt_store_flow_save(s, "pool.test", "intruder", "id: intruder\nnamespace: pool.test\n", &rev, &changed);
}

static void test_reader_sessions(void **state)
{
    fixture *f = *state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_pool *p = open_pool(&loop, f->data, 2, 0);
    int remaining = 0;
    job j = {.flow = 0, .remaining = &remaining};
    assert_int_equal(submit(p, read_flow, &j), KT_OK);
    remaining++;
    run_until(&loop, &remaining);
    assert_int_equal(j.st, KT_ENOTFOUND);
    save_flows(f, 1); /* committed on the store's own session, after the pool opened */
    j.done_calls = 0;
    assert_int_equal(submit(p, read_flow, &j), KT_OK);
    remaining++;
    run_until(&loop, &remaining);
    assert_int_equal(j.st, KT_OK);
    assert_string_equal(j.source, "id: f0\nnamespace: pool.test\n");
    kt_log_level lvl = kt_log_get_level();
    kt_log_set_level(KT_LOG_ERROR + 1); /* the refused write logs an error: expected here */
    assert_int_equal(submit(p, try_write, &j), KT_OK);
    remaining++;
    run_until(&loop, &remaining);
    kt_log_set_level(lvl);
    assert_int_not_equal(j.st, KT_OK);
    kt_flow_row row = {0};
    assert_int_equal(kt_store_flow_get(f->s, "pool.test", "intruder", 0, &row), KT_ENOTFOUND);
    close_pool(&loop, p);
}

/* ?readers=N in the store's location wins over the option; a bad value is refused with a clear error. */
static void test_readers_in_url(void **state)
{
    fixture *f = *state;
    char where[2048];
    if (fixture_on_pg())
        snprintf(where, sizeof where, "%s%sreaders=3", f->data, strchr(f->data, '?') ? "&" : "?");
    else
        snprintf(where, sizeof where, "sqlite://%s?readers=3", f->data);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_pool *p = open_pool(&loop, where, 5, 0);
    assert_int_equal(kt_db_pool_readers(p), 3);
    save_flows(f, 1);
    int remaining = 0;
    job j = {.flow = 0, .remaining = &remaining};
    assert_int_equal(submit(p, read_flow, &j), KT_OK);
    remaining++;
    run_until(&loop, &remaining);
    assert_int_equal(j.st, KT_OK);
    close_pool(&loop, p);
    /* the store itself opens at that location too (the parameter is the pool's, not libpq's) */
    kt_store *s2 = NULL;
    char err[512] = "";
    assert_int_equal(kt_store_open(where, NULL, &s2, err, sizeof err), KT_OK);
    kt_store_close(s2);
    char bad[2048];
    snprintf(bad, sizeof bad, "%.*sx1", (int)strlen(where) - 1, where); /* readers=x1 */
    uv_loop_init(&loop);
    kt_db_pool *q = NULL;
    assert_int_equal(kt_db_pool_open(&loop, bad, NULL, &q, err, sizeof err), KT_EINVAL);
    assert_non_null(strstr(err, "readers"));
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* What a job costs beyond its read: the hand-off to a thread and back, against the same read inline (printed, the
 * choice of threads on SQLite too is argued in db_pool.c). */

static void test_cost(void **state)
{
    fixture *f = *state;
    save_flows(f, 1);
    enum { N = 2000 };
    job j = {.flow = 0};
    double t0 = mono_s();
    for (int i = 0; i < N; i++)
        assert_int_equal(read_flow(f->s, &j), KT_OK);
    double inline_us = (mono_s() - t0) * 1e6 / N;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_pool *p = open_pool(&loop, f->data, 1, 0);
    int remaining = 0;
    j.remaining = &remaining;
    t0 = mono_s();
    for (int i = 0; i < N; i++) { /* one at a time: the latency of a job, not the pool's throughput */
        assert_int_equal(submit(p, read_flow, &j), KT_OK);
        remaining++;
        run_until(&loop, &remaining);
    }
    double pool_us = (mono_s() - t0) * 1e6 / N;
    printf("flow_get: inline %.1f us, through the pool %.1f us (%s)\n", inline_us, pool_us,
           fixture_on_pg() ? "PostgreSQL" : "SQLite");
    assert_int_equal(j.done_calls, N);
    close_pool(&loop, p);
}

/* ---- kt_db_txn ---- */

static kt_db_pool *open_txn_pool(uv_loop_t *loop, fixture *f)
{
    kt_db_pool_options o = {.readers = 1, .writers = 2, .loop_store = f->s};
    kt_db_pool *p = NULL;
    char err[512] = "";
    kt_status st = kt_db_pool_open(loop, f->data, &o, &p, err, sizeof err);
    if (st)
        fail_msg("kt_db_pool_open: %d %s", st, err);
    assert_int_equal(kt_db_pool_writers(p), fixture_on_pg() ? 2 : 0);
    return p;
}

typedef struct txn_job {
    job base;          /* done_calls, st, remaining (job_done) */
    char id[16];       /* the flow fn saves */
    int attempts;      /* runs of fn */
    int eagain_runs;   /* the first runs answer KT_EAGAIN (after a save of "<id>-<run>") */
    kt_status fail;    /* fn's answer after its save when not KT_OK */
} txn_job;

static kt_status save_in_txn(kt_store *s, void *ud)
{
    txn_job *j = ud;
    int run = j->attempts++;
    char id[32], src[96];
    int rev, changed;
    if (run < j->eagain_runs) {
        snprintf(id, sizeof id, "%s-%d", j->id, run);
        snprintf(src, sizeof src, "id: %s\nnamespace: pool.test\n", id);
        kt_status st = kt_store_flow_save(s, "pool.test", id, src, &rev, &changed);
        return st ? st : KT_EAGAIN;
    }
    snprintf(src, sizeof src, "id: %s\nnamespace: pool.test\n", j->id);
    kt_status st = kt_store_flow_save(s, "pool.test", j->id, src, &rev, &changed);
    return st ? st : j->fail;
}

static kt_status submit_txn(kt_db_pool *p, kt_db_job_fn fn, job *j)
{
    g_in_submit = 1;
    kt_status st = kt_db_txn(p, fn, job_done, j);
    g_in_submit = 0;
    return st;
}

static int flow_exists(fixture *f, const char *id)
{
    kt_flow_row row = {0};
    kt_status st = kt_store_flow_get(f->s, "pool.test", id, 0, &row);
    kt_flow_row_clear(&row);
    assert_true(st == KT_OK || st == KT_ENOTFOUND);
    return st == KT_OK;
}

/* A txn's done runs once, later; what it committed is there for the loop's session and for a read job after it. */
static void test_txn_commit(void **state)
{
    fixture *f = *state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_pool *p = open_txn_pool(&loop, f);
    int remaining = 0;
    static txn_job jobs[8];
    for (int i = 0; i < 8; i++) {
        jobs[i] = (txn_job){.base = {.remaining = &remaining}};
        snprintf(jobs[i].id, sizeof jobs[i].id, "f%d", i);
        assert_int_equal(submit_txn(p, save_in_txn, &jobs[i].base), KT_OK);
        remaining++;
    }
    run_until(&loop, &remaining);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(jobs[i].base.done_calls, 1);
        assert_int_equal(jobs[i].base.st, KT_OK);
        assert_int_equal(jobs[i].attempts, 1);
        assert_true(flow_exists(f, jobs[i].id));
    }
    job r = {.flow = 7, .remaining = &remaining};
    assert_int_equal(submit(p, read_flow, &r), KT_OK);
    remaining++;
    run_until(&loop, &remaining);
    assert_int_equal(r.st, KT_OK);
    assert_string_equal(r.source, "id: f7\nnamespace: pool.test\n");
    /* without a loop session a SQLite pool has nowhere to write */
    if (!fixture_on_pg()) {
        kt_db_pool *q = open_pool(&loop, f->data, 1, 0);
        assert_int_equal(kt_db_txn(q, save_in_txn, job_done, &jobs[0]), KT_EINVAL);
        kt_db_pool_close(q);
    }
    close_pool(&loop, p);
}

/* fn's failure rolls back what it wrote: done gets its status, and nothing is left. */
static void test_txn_rollback(void **state)
{
    fixture *f = *state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_pool *p = open_txn_pool(&loop, f);
    int remaining = 0;
    txn_job j = {.base = {.remaining = &remaining}, .id = "gone", .fail = KT_EINVAL};
    assert_int_equal(submit_txn(p, save_in_txn, &j.base), KT_OK);
    remaining++;
    run_until(&loop, &remaining);
    assert_int_equal(j.base.done_calls, 1);
    assert_int_equal(j.base.st, KT_EINVAL);
    assert_int_equal(j.attempts, 1);
    assert_false(flow_exists(f, "gone"));
    close_pool(&loop, p);
}

/* KT_EAGAIN re-runs fn in a new transaction (the earlier runs' writes rolled back), up to KT_DB_TXN_ATTEMPTS runs. */
static void test_txn_retry_eagain(void **state)
{
    fixture *f = *state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_pool *p = open_txn_pool(&loop, f);
    int remaining = 0;
    txn_job ok = {.base = {.remaining = &remaining}, .id = "third", .eagain_runs = 2};
    txn_job never = {.base = {.remaining = &remaining}, .id = "never", .eagain_runs = 100};
    assert_int_equal(submit_txn(p, save_in_txn, &ok.base), KT_OK);
    assert_int_equal(submit_txn(p, save_in_txn, &never.base), KT_OK);
    remaining += 2;
    run_until(&loop, &remaining);
    assert_int_equal(ok.base.done_calls, 1);
    assert_int_equal(ok.base.st, KT_OK);
    assert_int_equal(ok.attempts, 3);
    assert_true(flow_exists(f, "third"));
    assert_false(flow_exists(f, "third-0"));
    assert_false(flow_exists(f, "third-1"));
    assert_int_equal(never.base.done_calls, 1);
    assert_int_equal(never.base.st, KT_EAGAIN);
    assert_int_equal(never.attempts, KT_DB_TXN_ATTEMPTS);
    for (int i = 0; i < KT_DB_TXN_ATTEMPTS; i++) {
        char id[32];
        snprintf(id, sizeof id, "never-%d", i);
        assert_false(flow_exists(f, id));
    }
    close_pool(&loop, p);
}

/* PostgreSQL: two REPEATABLE READ transactions on two writer threads read the same row, then both update it. The
 * second to update waits for the first's commit and fails with SQLSTATE 40001; the pool re-runs it, and both
 * increments land. A barrier makes both take their snapshot before either updates (on their first runs only). */
typedef struct race {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived;
} race;

typedef struct race_job {
    job base;
    race *r;
    _Atomic int attempts;
} race_job;

static kt_status bump_in_txn(kt_store *s, void *ud)
{
    race_job *j = ud;
    int first = atomic_fetch_add(&j->attempts, 1) == 0;
    kt_status st = kt_pg_command(s, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", 0, NULL, NULL);
    if (st)
        return st;
    PGresult *res = kt_pg_query(s, "SELECT n FROM txn_probe WHERE id = 1", 0, NULL, &st);
    if (!res)
        return st;
    PQclear(res);
    if (first) {
        pthread_mutex_lock(&j->r->mu);
        j->r->arrived++;
        pthread_cond_broadcast(&j->r->cv);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 5;
        while (j->r->arrived < 2)
            if (pthread_cond_timedwait(&j->r->cv, &j->r->mu, &until))
                break;
        pthread_mutex_unlock(&j->r->mu);
    }
    return kt_pg_command(s, "UPDATE txn_probe SET n = n + 1 WHERE id = 1", 0, NULL, NULL);
}

static void test_txn_serialization_retry(void **state)
{
    fixture *f = *state;
    if (!fixture_on_pg()) { /* SQLite's txns run one at a time on the loop's session: they cannot conflict */
        print_message("serialization failures are PostgreSQL's; SQLite's retry is test_txn_retry_eagain\n");
        return;
    }
    assert_int_equal(kt_pg_command(f->s, "CREATE TABLE txn_probe(id integer PRIMARY KEY, n integer NOT NULL)", 0,
                                   NULL, NULL),
                     KT_OK);
    assert_int_equal(kt_pg_command(f->s, "INSERT INTO txn_probe VALUES (1, 0)", 0, NULL, NULL), KT_OK);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_pool *p = open_txn_pool(&loop, f);
    race r = {.arrived = 0};
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    int remaining = 0;
    race_job a = {.base = {.remaining = &remaining}, .r = &r}, b = {.base = {.remaining = &remaining}, .r = &r};
    kt_log_level lvl = kt_log_get_level();
    kt_log_set_level(KT_LOG_ERROR + 1); /* the failed UPDATE logs an error: expected here */
    assert_int_equal(submit_txn(p, bump_in_txn, &a.base), KT_OK);
    assert_int_equal(submit_txn(p, bump_in_txn, &b.base), KT_OK);
    remaining += 2;
    run_until(&loop, &remaining);
    kt_log_set_level(lvl);
    assert_int_equal(r.arrived, 2); /* both took their snapshot before either updated */
    assert_int_equal(a.base.done_calls, 1);
    assert_int_equal(b.base.done_calls, 1);
    assert_int_equal(a.base.st, KT_OK);
    assert_int_equal(b.base.st, KT_OK);
    assert_int_equal(atomic_load(&a.attempts) + atomic_load(&b.attempts), 3); /* one of them ran twice */
    kt_status st;
    PGresult *res = kt_pg_query(f->s, "SELECT n FROM txn_probe WHERE id = 1", 0, NULL, &st);
    assert_non_null(res);
    assert_string_equal(PQgetvalue(res, 0, 0), "2");
    PQclear(res);
    close_pool(&loop, p);
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
}

/* Txn jobs queued when the pool closes complete (KT_ECLOSED, or their status when they ran), once; new ones are
 * refused. */
static void test_txn_close(void **state)
{
    fixture *f = *state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_pool *p = open_txn_pool(&loop, f);
    int remaining = 0;
    static txn_job jobs[6];
    for (int i = 0; i < 6; i++) {
        jobs[i] = (txn_job){.base = {.remaining = &remaining}};
        snprintf(jobs[i].id, sizeof jobs[i].id, "c%d", i);
        assert_int_equal(submit_txn(p, save_in_txn, &jobs[i].base), KT_OK);
        remaining++;
    }
    kt_db_pool_close(p);
    assert_int_equal(remaining, 0);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(jobs[i].base.done_calls, 1);
        assert_true(jobs[i].base.st == KT_OK || jobs[i].base.st == KT_ECLOSED);
        assert_int_equal(flow_exists(f, jobs[i].id), jobs[i].base.st == KT_OK);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    int backend = fixture_backend(); /* 77: PostgreSQL asked for, none there */
    if (backend)
        return backend;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_every_job_once),      T(test_full_queue),     T(test_close_with_jobs_pending),
        T(test_reader_sessions),     T(test_readers_in_url), T(test_cost),
        T(test_txn_commit),          T(test_txn_rollback),   T(test_txn_retry_eagain),
        T(test_txn_serialization_retry), T(test_txn_close),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
