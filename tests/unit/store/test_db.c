/* The loop's writers (store/db.h), on SQLite and (test_db_pg) on PostgreSQL: callbacks in submission order and
 * never inside submit, what a callback reports is readable, a fence whose epoch moved drops its partition's
 * operations (KT_EFENCED) and commits the rest, the bound on queued bytes. PostgreSQL only: the batches submitted
 * while a transaction is in flight go together into the next one (kite_writers' seq counts the transactions), a
 * connection lost after the commit landed (its answer never read) or before it did ends with the lines written
 * exactly once, and a writer whose backend the server ended connects again by itself. */
#include "store_fixture.h"
#include "store/db.h"
#include "base/id.h"
#include "base/partition.h"
#include "flow/model.h"

#include <libpq-fe.h>
#include <uv.h>

typedef struct seen {
    int order[64];
    int n;
    kt_status st[64];
    int fenced[64][4];
    size_t nfenced[64];
    int in_submit;  /* set around each submit */
    int inside;     /* a callback ran while it was set */
    kt_store *s;    /* read back from the callback */
    const char *read_id;
    kt_status read_st;
} seen;

typedef struct tag {
    seen *s;
    int i;
} tag;

static void on_done(const kt_db_result *r, void *ud)
{
    tag *t = ud;
    seen *s = t->s;
    if (s->in_submit)
        s->inside = 1;
    s->st[s->n] = r->status;
    for (size_t i = 0; i < r->nfenced && i < 4; i++)
        s->fenced[s->n][i] = r->fenced[i];
    s->nfenced[s->n] = r->nfenced;
    s->order[s->n++] = t->i;
    if (s->read_id) {
        json_t *ex = NULL;
        s->read_st = kt_store_execution_get(s->s, s->read_id, &ex);
        json_decref(ex);
    }
}

static void submit(kt_db_batch *b, seen *s, tag *t)
{
    s->in_submit = 1;
    assert_int_equal(kt_db_batch_submit(b, on_done, t), KT_OK);
    s->in_submit = 0;
}

static void tick_stop(uv_timer_t *t) { uv_timer_stop(t); }

/* Runs the loop until *n reaches want (or 20 s pass). */
static void run_until(uv_loop_t *loop, const int *n, int want)
{
    uint64_t end = uv_hrtime() + 20000000000ull;
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    while (*n < want && uv_hrtime() < end) {
        uv_timer_start(&tick, tick_stop, 10, 0);
        uv_run(loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    assert_int_equal(*n, want);
}

static void idle_flag(kt_db_writer *w, int *flag) { *flag = kt_db_writer_idle(w); }

/* Runs the loop until the writer is connected and has nothing in flight. */
static void run_until_idle(uv_loop_t *loop, kt_db_writer *w)
{
    int idle = 0;
    uint64_t end = uv_hrtime() + 20000000000ull;
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    for (idle_flag(w, &idle); !idle && uv_hrtime() < end; idle_flag(w, &idle)) {
        uv_timer_start(&tick, tick_stop, 10, 0);
        uv_run(loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    assert_true(idle);
}

static kt_db_writer *writer(uv_loop_t *loop, fixture *f, const char *name, int flags)
{
    kt_db_writer_options o = {.name = name, .flags = flags, .backoff_max_ms = 200};
    kt_db_writer *w = NULL;
    assert_int_equal(kt_db_writer_new(loop, f->s, &o, &w), KT_OK);
    return w;
}

static void close_loop(uv_loop_t *loop, kt_db_writer *w)
{
    kt_db_writer_close(w);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

/* A log line of execution ex saying msg. */
static json_t *line(const char *ex, const char *msg)
{
    return json_pack("[{s:s, s:s, s:s, s:s, s:s, s:s}]", "executionId", ex, "namespace", "a", "flowId", "f",
                     "level", "INFO", "message", msg, "timestamp", "2026-01-02T03:04:05.000Z");
}

static long long count(fixture *f, const char *sql) { return sql_int(f->data, sql); }

static void test_order_and_never_inside(void **state)
{
    fixture *f = *state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_writer *w = writer(&loop, f, "order", 0);
    seen s = {0};
    tag t[5];
    for (int i = 0; i < 5; i++) {
        t[i] = (tag){&s, i};
        kt_db_batch *b = kt_db_batch_new(w);
        char msg[16];
        snprintf(msg, sizeof msg, "m%d", i);
        json_t *l = line("ex1", msg);
        assert_int_equal(kt_db_batch_logs_append(b, l), KT_OK);
        json_decref(l);
        submit(b, &s, &t[i]);
    }
    assert_int_equal(s.n, 0); /* nothing before the loop runs */
    run_until(&loop, &s.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(s.order[i], i);
        assert_int_equal(s.st[i], KT_OK);
    }
    assert_false(s.inside);
    assert_int_equal(count(f, "SELECT count(*) FROM logs"), 5);
    close_loop(&loop, w);
}

/* SQLite's INLINE writer: the callback runs inside submit, right after the commit (the executor's and indexer's
 * choice, so their post-commit code runs as it did). PostgreSQL ignores the flag. */
static void test_inline(void **state)
{
    fixture *f = *state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_writer *w = writer(&loop, f, "inline", KT_DB_WRITER_INLINE);
    seen s = {0};
    tag t = {&s, 0};
    kt_db_batch *b = kt_db_batch_new(w);
    json_t *l = line("ex1", "x");
    assert_int_equal(kt_db_batch_logs_append(b, l), KT_OK);
    json_decref(l);
    submit(b, &s, &t);
    if (fixture_on_pg()) {
        assert_int_equal(s.n, 0);
        run_until(&loop, &s.n, 1);
        assert_false(s.inside);
    } else {
        assert_int_equal(s.n, 1);
        assert_true(s.inside);
    }
    assert_int_equal(count(f, "SELECT count(*) FROM logs"), 1);
    close_loop(&loop, w);
}

static json_t *execution(const char *id)
{
    json_t *e = kt_execution_new(id, "a.b", "f", 1, NULL, NULL, NULL, kt_now_us());
    assert_non_null(e);
    return e;
}

/* Two execution ids: one in partition p, one in another. */
static void ids_in(int p, char *in, char *other)
{
    in[0] = other[0] = 0;
    while (!in[0] || !other[0]) {
        char id[KT_ID_LEN + 1];
        kt_id_new(id);
        if (kt_exec_partition(id) == p && !in[0])
            strcpy(in, id);
        else if (kt_exec_partition(id) != p && !other[0])
            strcpy(other, id);
    }
}

static void test_read_after_callback(void **state)
{
    fixture *f = *state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_writer *w = writer(&loop, f, "read", 0);
    char id[KT_ID_LEN + 1];
    kt_id_new(id);
    seen s = {.s = f->s, .read_id = id, .read_st = KT_EINTERNAL};
    tag t = {&s, 0};
    kt_db_batch *b = kt_db_batch_new(w);
    json_t *e = execution(id);
    assert_int_equal(kt_db_batch_execution_put(b, kt_exec_partition(id), e, NULL, 0), KT_OK);
    /* the batch holds its own copy: the caller may change its document at once */
    json_object_set_new(e, "namespace", json_string("changed"));
    json_decref(e);
    submit(b, &s, &t);
    run_until(&loop, &s.n, 1);
    assert_int_equal(s.read_st, KT_OK); /* the callback's read sees the commit */
    json_t *back = NULL;
    assert_int_equal(kt_store_execution_get(f->s, id, &back), KT_OK);
    assert_string_equal(json_string_value(json_object_get(back, "namespace")), "a.b");
    json_decref(back);
    close_loop(&loop, w);
}

/* Partition p's lease moved after the batch fenced it: its operations are dropped, the rest is written, and the
 * callback hears KT_EFENCED with p. */
static void test_fence_lost(void **state)
{
    fixture *f = *state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_writer *w = writer(&loop, f, "fence", 0);
    const int p = 7, ids[] = {7, 9};
    kt_lease got[2];
    size_t n = 0;
    assert_int_equal(kt_store_lease_take(f->s, "executor", ids, 2, "me", 60000000, 0, got, &n), KT_OK);
    assert_int_equal(n, 2);
    kt_lease later[1];
    assert_int_equal(kt_store_lease_take(f->s, "executor", &p, 1, "other", 60000000, 1, later, &n), KT_OK);
    assert_int_equal(later[0].epoch, got[0].epoch + 1);
    char lost_id[KT_ID_LEN + 1], kept_id[KT_ID_LEN + 1];
    ids_in(p, lost_id, kept_id);
    int q = kt_exec_partition(kept_id);
    seen s = {0};
    tag t = {&s, 0};
    kt_db_batch *b = kt_db_batch_new(w);
    assert_int_equal(kt_db_batch_fence(b, "executor", p, got[0].epoch), KT_OK);
    if (q == 9)
        assert_int_equal(kt_db_batch_fence(b, "executor", q, got[1].epoch), KT_OK);
    json_t *e1 = execution(lost_id), *e2 = execution(kept_id);
    assert_int_equal(kt_db_batch_execution_put(b, p, e1, NULL, 0), KT_OK);
    assert_int_equal(kt_db_batch_notice_add(b, p, lost_id, "SUCCESS"), KT_OK);
    assert_int_equal(kt_db_batch_execution_put(b, q == 9 ? q : -1, e2, NULL, 0), KT_OK);
    json_decref(e1);
    json_decref(e2);
    submit(b, &s, &t);
    run_until(&loop, &s.n, 1);
    assert_int_equal(s.st[0], KT_EFENCED);
    assert_int_equal(s.nfenced[0], 1);
    assert_int_equal(s.fenced[0][0], p);
    json_t *back = NULL;
    assert_int_equal(kt_store_execution_get(f->s, lost_id, &back), KT_ENOTFOUND);
    assert_int_equal(kt_store_execution_get(f->s, kept_id, &back), KT_OK);
    json_decref(back);
    assert_int_equal(count(f, "SELECT count(*) FROM notices"), 0);
    close_loop(&loop, w);
}

static int g_room;
static void on_room(void *ud) { *(int *)ud += 1; }

static void test_room(void **state)
{
    fixture *f = *state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_writer_options o = {.name = "room", .queue_bytes = 1};
    kt_db_writer *w = NULL;
    assert_int_equal(kt_db_writer_new(&loop, f->s, &o, &w), KT_OK);
    g_room = 0;
    kt_db_writer_on_room(w, on_room, &g_room);
    assert_true(kt_db_writer_has_room(w));
    seen s = {0};
    tag t = {&s, 0};
    kt_db_batch *b = kt_db_batch_new(w);
    json_t *l = line("ex1", "a line long enough to weigh more than a byte");
    assert_int_equal(kt_db_batch_logs_append(b, l), KT_OK);
    json_t *none = json_array(); /* an empty append adds nothing and is no error */
    assert_int_equal(kt_db_batch_metrics_append(b, none), KT_OK);
    json_decref(none);
    json_decref(l);
    submit(b, &s, &t);
    if (fixture_on_pg()) /* SQLite's bytes are the store's at once; PostgreSQL holds the encoded statements */
        assert_false(kt_db_writer_has_room(w));
    run_until(&loop, &s.n, 1);
    assert_true(kt_db_writer_has_room(w));
    assert_int_equal(g_room, fixture_on_pg() ? 1 : 0);
    close_loop(&loop, w);
}

/* Closing with batches queued: their callbacks hear KT_ECLOSED, nothing is acknowledged that was not committed,
 * and the loop closes cleanly. */
static void test_close_refuses(void **state)
{
    fixture *f = *state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_writer *w = writer(&loop, f, "close", 0);
    seen s = {0};
    tag t = {&s, 0};
    kt_db_batch *b = kt_db_batch_new(w);
    json_t *l = line("ex1", "x");
    assert_int_equal(kt_db_batch_logs_append(b, l), KT_OK);
    json_decref(l);
    submit(b, &s, &t);
    kt_db_writer_close(w);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.st[0], fixture_on_pg() ? KT_ECLOSED : KT_OK); /* SQLite had committed at submit */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- PostgreSQL only ------------------------------------------------------------------------------ */

static long long writer_seq(fixture *f, kt_db_writer *w)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT seq FROM kite_writers WHERE writer = '%s'", kt_db_writer_id(w));
    return count(f, sql);
}

/* A session of its own holding the logs table locked (until its COMMIT): a writer's transaction waits on it. */
static PGconn *lock_logs(fixture *f)
{
    PGconn *side = PQconnectdb(f->data);
    assert_int_equal(PQstatus(side), CONNECTION_OK);
    PQclear(PQexec(side, "BEGIN"));
    PGresult *r = PQexec(side, "LOCK TABLE logs IN EXCLUSIVE MODE");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    return side;
}

/* A batch of one line saying msg, submitted. */
static void submit_line(kt_db_writer *w, seen *s, tag *t, const char *msg)
{
    kt_db_batch *b = kt_db_batch_new(w);
    json_t *l = line("ex1", msg);
    assert_int_equal(kt_db_batch_logs_append(b, l), KT_OK);
    json_decref(l);
    submit(b, s, t);
}

static void test_pg_coalesce(void **state)
{
    fixture *f = *state;
    if (!fixture_on_pg())
        skip();
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_writer *w = writer(&loop, f, "coalesce", 0);
    run_until_idle(&loop, w);
    seen s = {0};
    tag t[8];
    for (int i = 0; i < 8; i++) { /* the first goes at once; the seven others wait for it, then go together */
        t[i] = (tag){&s, i};
        kt_db_batch *b = kt_db_batch_new(w);
        json_t *l = line("ex1", "x");
        assert_int_equal(kt_db_batch_logs_append(b, l), KT_OK);
        json_decref(l);
        submit(b, &s, &t[i]);
    }
    run_until(&loop, &s.n, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(s.order[i], i);
    assert_false(s.inside);
    assert_int_equal(kt_db_writer_commits(w), 2);
    assert_int_equal(writer_seq(f, w), 2);
    assert_int_equal(count(f, "SELECT count(*) FROM logs"), 8);
    close_loop(&loop, w);
}

/* The commit landed, then the connection went before its answer was read: the writer connects again, reads its seq
 * and reports the batch committed without sending it again. */
static void test_pg_unknown_landed(void **state)
{
    fixture *f = *state;
    if (!fixture_on_pg())
        skip();
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_writer *w = writer(&loop, f, "landed", 0);
    run_until_idle(&loop, w);
    seen s = {0};
    tag t = {&s, 0};
    kt_db_batch *b = kt_db_batch_new(w);
    json_t *l = json_array();
    for (int i = 0; i < 3; i++) {
        json_t *one = line("ex1", "once");
        json_array_extend(l, one); /* copies the references: ours goes */
        json_decref(one);
    }
    assert_int_equal(kt_db_batch_logs_append(b, l), KT_OK);
    json_decref(l);
    submit(b, &s, &t); /* sent now; the loop has not read the answer */
    for (int i = 0; i < 500 && writer_seq(f, w) != 1; i++)
        usleep(10000);
    assert_int_equal(writer_seq(f, w), 1);
    kt_db_writer_sever(w);
    assert_int_equal(s.n, 0);
    run_until(&loop, &s.n, 1);
    assert_int_equal(s.st[0], KT_OK);
    assert_int_equal(count(f, "SELECT count(*) FROM logs"), 3);
    assert_int_equal(writer_seq(f, w), 1);
    assert_int_equal(kt_db_writer_commits(w), 1);
    close_loop(&loop, w);
}

/* The server ended the writer's backend while its transaction waited on a lock: it did not land, the writer
 * connects again, finds its seq behind, and sends it again: the lines are there once. */
static void test_pg_unknown_not_landed(void **state)
{
    fixture *f = *state;
    if (!fixture_on_pg())
        skip();
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_writer *w = writer(&loop, f, "notlanded", 0);
    run_until_idle(&loop, w);
    PGconn *side = lock_logs(f);
    seen s = {0};
    tag t = {&s, 0};
    submit_line(w, &s, &t, "once");
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
             "application_name LIKE 'kite-writer notlanded/%%'");
    long long killed = 0;
    for (int i = 0; i < 500 && !killed; i++) {
        killed = count(f, sql);
        if (!killed)
            usleep(10000);
    }
    assert_int_equal(killed, 1);
    PQclear(PQexec(side, "COMMIT"));
    PQfinish(side);
    run_until(&loop, &s.n, 1);
    assert_int_equal(s.st[0], KT_OK);
    assert_int_equal(count(f, "SELECT count(*) FROM logs"), 1);
    assert_int_equal(writer_seq(f, w), 1);
    close_loop(&loop, w);
}

/* The writer's connection went while its transaction waited on a lock, but its backend lives on (the server has not
 * seen the socket close): once the lock is released that backend would still commit what it had read. The writer
 * connects again and must end that backend before it reads its seq, else it sends the batch again and the line is
 * there twice. */
static void test_pg_unknown_orphan(void **state)
{
    fixture *f = *state;
    if (!fixture_on_pg())
        skip();
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_writer *w = writer(&loop, f, "orphan", 0);
    run_until_idle(&loop, w);
    PGconn *side = lock_logs(f);
    seen s = {0};
    tag t = {&s, 0};
    submit_line(w, &s, &t, "once");
    const char *waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'relation' AND "
                          "application_name LIKE 'kite-writer orphan/%'";
    for (int i = 0; i < 500 && count(f, waiting) != 1; i++)
        usleep(10000);
    assert_int_equal(count(f, waiting), 1);
    kt_db_writer_sever(w); /* the client side only: the backend still waits for the lock */
    /* the writer connects again; its resent transaction waits for the same lock (the old backend, if alive, too) */
    uv_timer_t tick;
    uv_timer_init(&loop, &tick);
    uint64_t end = uv_hrtime() + 1500000000ull;
    while (uv_hrtime() < end) {
        uv_timer_start(&tick, tick_stop, 20, 0);
        uv_run(&loop, UV_RUN_ONCE);
    }
    assert_int_equal(s.n, 0);
    uv_close((uv_handle_t *)&tick, NULL);
    PQclear(PQexec(side, "COMMIT"));
    PQfinish(side);
    run_until(&loop, &s.n, 1);
    assert_int_equal(s.st[0], KT_OK);
    usleep(500000); /* an orphaned backend would commit its copy by now */
    assert_int_equal(count(f, "SELECT count(*) FROM logs"), 1);
    assert_int_equal(writer_seq(f, w), 1);
    close_loop(&loop, w);
}

/* The server ended the idle writer's backend (as a restart does): the next batch finds the connection gone,
 * and the writer connects again and commits it. */
static void test_pg_reconnect(void **state)
{
    fixture *f = *state;
    if (!fixture_on_pg())
        skip();
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_writer *w = writer(&loop, f, "reconnect", 0);
    run_until_idle(&loop, w);
    assert_int_equal(count(f, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                              "application_name LIKE 'kite-writer reconnect/%'"),
                     1);
    seen s = {0};
    tag t[2] = {{&s, 0}, {&s, 1}};
    for (int i = 0; i < 2; i++) {
        kt_db_batch *b = kt_db_batch_new(w);
        json_t *l = line("ex1", "after");
        assert_int_equal(kt_db_batch_logs_append(b, l), KT_OK);
        json_decref(l);
        submit(b, &s, &t[i]);
        run_until(&loop, &s.n, i + 1);
        assert_int_equal(s.st[i], KT_OK);
    }
    assert_int_equal(count(f, "SELECT count(*) FROM logs"), 2);
    close_loop(&loop, w);
}

int main(void)
{
    int backend = fixture_backend(); /* 77: PostgreSQL asked for, none there */
    if (backend)
        return backend;
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_and_never_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_after_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fence_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_coalesce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_unknown_landed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_unknown_not_landed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_unknown_orphan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_reconnect, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
