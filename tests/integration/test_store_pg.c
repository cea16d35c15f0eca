/* Choosing the store (issue 12): --store URL, store.url in the configuration file and KITE_STORE_URL put a server on
 * PostgreSQL (tests/pg/start.sh's server) instead of SQLite in its data folder, the flag over the environment over
 * the file; a URL's password is never printed: not in the startup line, not in a refused start's message, not in
 * /api/v1/configs nor /health. The server is given a password it does not need (the test server trusts 127.0.0.1)
 * so that any place it leaks to shows it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../pg/pg_schema.h"
#include "harness.h"

#define PASSWORD "Pg-Pa55word-Never-Shown"

static char base[1024]; /* the fixture's server, postgresql://kite@127.0.0.1:PORT/kite */

/* The base URL with the password after the user, in a schema of its own. */
static void url_with_password(const char *schema, char *out, size_t cap)
{
    char with[1100], err[512];
    const char *at = strstr(base, "kite@");
    assert_non_null(at);
    snprintf(with, sizeof with, "%.*skite:%s@%s", (int)(at - base), base, PASSWORD, at + 5);
    char url[1300];
    if (kt_test_pg_schema_create(base, schema, url, sizeof url, err, sizeof err))
        fail_msg("%s", err);
    kt_test_pg_schema_url(with, schema, out, cap);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Waits until the server answers /ping (the store's placeholders may keep /health DOWN). */
static void wait_up(const kt_it_proc *p, int port)
{
    for (int i = 0; i < 200; i++) {
        char *b = NULL;
        long st = kt_it_http("GET", port, "/ping", NULL, NULL, &b);
        free(b);
        if (st == 200)
            return;
        kt_it_sleep_ms(50);
    }
    kt_it_dump_log(p);
    fail_msg("the server on port %d never answered /ping", port);
}

/* GET path: the body never holds the password. */
static void no_password_in(int port, const char *path)
{
    char *b = NULL;
    long st = kt_it_http("GET", port, path, NULL, NULL, &b);
    assert_true(st > 0);
    if (b && strstr(b, PASSWORD))
        fail_msg("%s shows the password: %s", path, b);
    free(b);
}

/* The server's log says it is on PostgreSQL with the password masked; its data folder holds no kite.db. */
static void check_on_pg(const char *dir, const kt_it_proc *p, const char *schema)
{
    const char *log = slurp(p->log_path);
    assert_non_null(log);
    if (!strstr(log, "store: PostgreSQL at postgresql://kite:****@127.0.0.1:") || !strstr(log, schema) ||
        strstr(log, PASSWORD))
        fail_msg("startup log:\n%s", log);
    char db[512];
    struct stat sb;
    snprintf(db, sizeof db, "%s/data/kite.db", dir);
    assert_int_not_equal(stat(db, &sb), 0);
    /* the store's tables are in the schema */
    char url[1300], err[512];
    kt_test_pg_schema_url(base, schema, url, sizeof url);
    assert_true(kt_test_pg_int(url, "SELECT MAX(version) FROM kite_schema", err, sizeof err) >= 1);
}

static void test_flag_selects_postgres_and_hides_password(void **state)
{
    kt_it_fixture *f = *state;
    char schema[64], url[1300];
    kt_test_pg_schema_name("it", schema, sizeof schema);
    url_with_password(schema, url, sizeof url);
    /* the flag wins over a broken URL in the environment */
    setenv("KITE_IT_STORE_URL", "postgresql://nobody:" PASSWORD "@127.0.0.1:1/none", 1);
    const char *extra[] = {"--store", url, NULL};
    f->server = kt_it_spawn_server(f->dir, "server", f->port, extra);
    unsetenv("KITE_IT_STORE_URL");
    wait_up(&f->server, f->port);
    check_on_pg(f->dir, &f->server, schema);
    no_password_in(f->port, "/api/v1/configs");
    no_password_in(f->port, "/health");
    kt_it_stop_clean(&f->server);
    const char *log = slurp(f->server.log_path);
    assert_null(strstr(log, PASSWORD));
    char err[512];
    kt_test_pg_schema_drop(base, schema, err, sizeof err);
}

static void test_environment_and_file_select_postgres(void **state)
{
    kt_it_fixture *f = *state;
    char schema[64], url[1300];
    /* KITE_STORE_URL over the file's store.url (which names a closed port) */
    kt_test_pg_schema_name("it", schema, sizeof schema);
    url_with_password(schema, url, sizeof url);
    char conf[512];
    snprintf(conf, sizeof conf, "%s/kite.yml", f->dir);
    FILE *fp = fopen(conf, "w");
    assert_non_null(fp);
    fprintf(fp, "store:\n  url: postgresql://nobody:%s@127.0.0.1:1/none\n", PASSWORD);
    fclose(fp);
    setenv("KITE_IT_STORE_URL", url, 1);
    const char *extra[] = {"--config", conf, NULL};
    f->server = kt_it_spawn_server(f->dir, "env", f->port, extra);
    unsetenv("KITE_IT_STORE_URL");
    wait_up(&f->server, f->port);
    check_on_pg(f->dir, &f->server, schema);
    kt_it_stop_clean(&f->server);
    char err[512];
    kt_test_pg_schema_drop(base, schema, err, sizeof err);

    /* the file alone */
    kt_test_pg_schema_name("it", schema, sizeof schema);
    url_with_password(schema, url, sizeof url);
    fp = fopen(conf, "w");
    assert_non_null(fp);
    fprintf(fp, "store:\n  url: \"%s\"\n", url);
    fclose(fp);
    f->server = kt_it_spawn_server(f->dir, "file", f->port, extra);
    wait_up(&f->server, f->port);
    check_on_pg(f->dir, &f->server, schema);
    kt_it_stop_clean(&f->server);
    kt_test_pg_schema_drop(base, schema, err, sizeof err);
}

/* A store that cannot be reached: exit 1 at once, the reason and the redacted URL said, the password nowhere. */
static void test_unreachable_store_refused(void **state)
{
    kt_it_fixture *f = *state;
    static const char *const urls[] = {"postgresql://kite:" PASSWORD "@127.0.0.1:1/kite",
                                       "postgresql://kite:" PASSWORD "@[::1/kite"};
    for (size_t i = 0; i < 2; i++) {
        const char *extra[] = {"--store", urls[i], NULL};
        char name[16];
        snprintf(name, sizeof name, "refused%zu", i);
        kt_it_proc p = kt_it_spawn_server(f->dir, name, f->port, extra);
        int st = 0;
        for (int w = 0; w < 500 && waitpid(p.pid, &st, WNOHANG) == 0; w++)
            kt_it_sleep_ms(20);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 1) {
            kt_it_stop(&p, SIGKILL);
            kt_it_dump_log(&p);
            fail_msg("%s: the server did not exit 1", urls[i]);
        }
        const char *log = slurp(p.log_path);
        assert_non_null(log);
        if (!strstr(log, "kite: store postgresql://kite:****@") || strstr(log, PASSWORD))
            fail_msg("%s: %s", urls[i], log);
    }
}

int main(void)
{
    int rc = kt_test_pg_url(base, sizeof base);
    if (rc)
        return rc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flag_selects_postgres_and_hides_password, kt_it_setup_dir, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_environment_and_file_select_postgres, kt_it_setup_dir, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_store_refused, kt_it_setup_dir, kt_it_teardown),
    };
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
