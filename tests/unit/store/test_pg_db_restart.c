/* A loop writer (store/db.h) across a restart of the PostgreSQL server: a server of its own (tests/pg/start.sh in
 * BUILD/pg-restart, so the other PostgreSQL tests keep theirs), restarted (pg_ctl restart -m fast) right after a
 * batch was sent. The writer connects again by itself, with its backoff, and every batch is committed exactly once:
 * the one in flight at the restart too, whether it had landed or not. Skips (77) where the fixture's server is
 * skipped (no PostgreSQL). */
#include "store_fixture.h"
#include "store/db.h"

#include <libpq-fe.h>
#include <uv.h>

static char g_dir[1024], g_src[1024];

static void tick_stop(uv_timer_t *t) { uv_timer_stop(t); }

typedef struct seen {
    int n;
    kt_status st[8];
} seen;

static void on_done(const kt_db_result *r, void *ud)
{
    seen *s = ud;
    s->st[s->n++] = r->status;
}

static void run_until(uv_loop_t *loop, const int *n, int want)
{
    uint64_t end = uv_hrtime() + 60000000000ull;
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

static void submit_line(kt_db_writer *w, const char *msg, seen *s)
{
    json_t *l = json_pack("[{s:s, s:s, s:s, s:s}]", "executionId", "ex1", "level", "INFO", "message", msg,
                          "timestamp", "2026-01-02T03:04:05.000Z");
    kt_db_batch *b = kt_db_batch_new(w);
    assert_int_equal(kt_db_batch_logs_append(b, l), KT_OK);
    json_decref(l);
    assert_int_equal(kt_db_batch_submit(b, on_done, s), KT_OK);
}

static int sh(const char *script)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "sh -c '%s' >/dev/null 2>&1", script);
    return system(cmd);
}

static void test_restart(void **state)
{
    (void)state;
    char file[1100], url[1024] = "";
    snprintf(file, sizeof file, "%s/url", g_dir);
    FILE *fp = fopen(file, "r");
    assert_non_null(fp);
    assert_non_null(fgets(url, sizeof url, fp));
    fclose(fp);
    url[strcspn(url, "\r\n")] = 0;
    kt_store *s = NULL;
    char err[512] = "";
    assert_int_equal(kt_store_open(url, NULL, &s, err, sizeof err), KT_OK);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_db_writer_options o = {.name = "restart", .backoff_max_ms = 200};
    kt_db_writer *w = NULL;
    assert_int_equal(kt_db_writer_new(&loop, s, &o, &w), KT_OK);
    seen sn = {0};
    submit_line(w, "before", &sn);
    run_until(&loop, &sn.n, 1);
    assert_int_equal(sn.st[0], KT_OK);

    submit_line(w, "in flight", &sn); /* sent at once: the restart comes before its answer is read */
    char script[2048];
    snprintf(script, sizeof script,
             "d=%s; b=${KITE_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}; "
             "if [ $(id -u) = 0 ]; then runuser -u $(stat -c %%U $d/data) -- $b/pg_ctl -D $d/data restart -m fast "
             "-w -t 60 -l $d/log; else $b/pg_ctl -D $d/data restart -m fast -w -t 60 -l $d/log; fi",
             g_dir);
    assert_int_equal(sh(script), 0);
    run_until(&loop, &sn.n, 2);
    assert_int_equal(sn.st[1], KT_OK);
    submit_line(w, "after", &sn);
    run_until(&loop, &sn.n, 3);
    assert_int_equal(sn.st[2], KT_OK);

    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "SELECT count(*), count(DISTINCT body) FROM logs");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "3"); /* each once: the one in flight was not written twice */
    assert_string_equal(PQgetvalue(r, 0, 1), "3");
    PQclear(r);
    PQfinish(c);
    kt_db_writer_close(w);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    kt_store_close(s);
}

int main(void)
{
    char base[1024];
    int rc = kt_test_pg_url(base, sizeof base); /* the fixture's: whether PostgreSQL is there at all */
    if (rc)
        return rc;
    kt_log_set_level(KT_LOG_ERROR);
    /* BUILD/pg-restart beside the fixture's BUILD/pg, the sources from this file's path */
    snprintf(g_dir, sizeof g_dir, "%s", KITE_PG_URL_FILE);
    *strrchr(g_dir, '/') = 0;
    strncat(g_dir, "-restart", sizeof g_dir - strlen(g_dir) - 1);
    snprintf(g_src, sizeof g_src, "%s", __FILE__);
    char *at = strstr(g_src, "tests/unit/store/");
    if (!at)
        return 77;
    *at = 0;
    char script[4096];
    snprintf(script, sizeof script, "sh %stests/pg/start.sh %s", g_src, g_dir);
    if (sh(script)) {
        fprintf(stderr, "cannot start a PostgreSQL server in %s\n", g_dir);
        return 1;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_restart)};
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    snprintf(script, sizeof script, "sh %stests/pg/stop.sh %s", g_src, g_dir);
    sh(script);
    return rc;
}
