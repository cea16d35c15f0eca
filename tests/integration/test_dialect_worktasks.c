/* The worker tasks and task cache Kestra 1.x added, against a real server, each flow of tests/dialects/worktasks/ run
 * once as a 1.x flow and once as a 2.x flow (`dialect:` added, the id suffixed): they are additions, accepted and run
 * the same way in both lines, which each case asserts.
 *   purgekv          kv.PurgeKV: expiredOnly with namespaces and children, behavior + namespacePattern + keyPattern
 *   python_deps      python `dependencies` from a local package directory (worker.python.find-links, a wheel the
 *                    test builds): installed once for the first flow, reused by the second (no second install)
 *   python_defaults  no taskRunner: Process, and containerImage noted as ignored; with the Process runner named,
 *                    containerImage is accepted silently (python_deps)
 *   assert_write     execution.Assert over storage.Write's file; a false condition fails with Kestra's message
 *   assert_kv        Assert renders in the flow's dialect: kv() of a missing key null in 1.x, a failure in 2.x
 *   task_cache       taskCache: the second execution skips the task and reuses its outputs; after the ttl it runs */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define NS "company.team"

static const char *const dialects[] = {"1.x", "2.x"};

/* tests/dialects/worktasks/<name>.yaml as the flow <name>_<1x|2x> in that dialect; returns the flow id (static). */
static const char *create(int port, const char *name, int d)
{
    static char id[128];
    char path[512];
    snprintf(path, sizeof path, "%s/tests/dialects/worktasks/%s.yaml", KITE_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char src[8192];
    size_t n = fread(src, 1, sizeof src - 1, f);
    fclose(f);
    src[n] = 0;
    char head[64];
    snprintf(head, sizeof head, "id: %s\n", name);
    assert_int_equal(strncmp(src, head, strlen(head)), 0);
    snprintf(id, sizeof id, "%s_%c%c", name, dialects[d][0], dialects[d][2]);
    char yaml[9000];
    snprintf(yaml, sizeof yaml, "id: %s\ndialect: %s\n%s", id, dialects[d], src + strlen(head));
    json_t *res = NULL;
    kt_it_create_flow(port, yaml, &res);
    assert_string_equal(json_string_value(json_object_get(res, "dialect")), dialects[d]);
    json_decref(res);
    return id;
}

/* Runs flow id to its end (inputs: NULL-terminated name/value pairs); the execution (caller decrefs). */
static json_t *run(int port, const char *id, const char *const *inputs)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/" NS "/%s", id);
    const char *none[] = {NULL};
    json_t *created = NULL;
    assert_int_equal(kt_it_post_form(port, path, inputs ? inputs : none, &created), 200);
    char exid[64];
    snprintf(exid, sizeof exid, "%s", json_string_value(json_object_get(created, "id")));
    json_decref(created);
    json_t *ex = kt_it_wait_execution(port, exid, 180000);
    assert_non_null(ex);
    return ex;
}

/* How many log lines of the execution hold text at level (NULL: any). */
static int lines(int port, const json_t *ex, const char *level, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/logs/%s", json_string_value(json_object_get(ex, "id")));
    json_t *logs = NULL;
    assert_int_equal(kt_it_http_json("GET", port, path, NULL, NULL, &logs), 200);
    int n = 0;
    size_t i;
    json_t *l;
    json_array_foreach(logs, i, l) {
        const char *m = json_string_value(json_object_get(l, "message"));
        const char *lv = json_string_value(json_object_get(l, "level"));
        n += m && strstr(m, text) && (!level || (lv && !strcmp(lv, level)));
    }
    json_decref(logs);
    return n;
}

static void expect_state(const kt_it_fixture *fx, json_t *ex, const char *want)
{
    if (strcmp(kt_it_state(ex), want)) {
        char *s = json_dumps(ex, JSON_COMPACT);
        fail_msg("execution %s, want %s: %s", kt_it_state(ex), want, s);
    }
    (void)fx;
}

static void test_purgekv(void **state)
{
    kt_it_fixture *f = *state;
    for (int d = 0; d < 2; d++) {
        json_t *ex = run(f->port, create(f->port, "purgekv", d), NULL);
        expect_state(f, ex, "SUCCESS");
        json_t *tr = kt_it_taskrun(ex, "purge_kv");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(tr, "outputs"), "size")), 2);
        assert_int_equal(lines(f->port, ex, "INFO", "purged 2 keys"), 1);
        json_decref(ex);
    }
    /* refused when saved: namespaces and namespacePattern together, in either dialect */
    for (int d = 0; d < 2; d++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, "id: bad_purge\nnamespace: " NS "\ndialect: %s\ntasks:\n  - id: p\n"
                 "    type: io.kestra.plugin.core.kv.PurgeKV\n    namespaces: [company]\n    namespacePattern: \"c*\"\n",
                 dialects[d]);
        char *body = NULL;
        long st = kt_it_http("POST", f->port, "/api/v1/flows", "application/x-yaml", yaml, &body);
        assert_int_equal(st, 422);
        assert_non_null(strstr(body, "can't be used at the same time"));
        free(body);
    }
}

/* <dir>/kitea-1.0-py3-none-any.whl (kitea.VALUE = 'a'), zipped by python's zipfile: no index is reachable here. */
static void make_wheel(const char *dir)
{
    char cmd[1536];
    snprintf(cmd, sizeof cmd,
             "python3 - '%s' <<'EOF'\n"
             "import os, sys, zipfile\n"
             "os.makedirs(sys.argv[1], exist_ok=True)\n"
             "di = 'kitea-1.0.dist-info'\n"
             "with zipfile.ZipFile(os.path.join(sys.argv[1], 'kitea-1.0-py3-none-any.whl'), 'w') as z:\n"
             "    z.writestr('kitea/__init__.py', \"VALUE = 'a'\\n\")\n"
             "    z.writestr(di + '/METADATA', 'Metadata-Version: 2.1\\nName: kitea\\nVersion: 1.0\\n')\n"
             "    z.writestr(di + '/WHEEL', 'Wheel-Version: 1.0\\nGenerator: kite-test\\nRoot-Is-Purelib: true\\n"
             "Tag: py3-none-any\\n')\n"
             "    z.writestr(di + '/RECORD', '')\n"
             "EOF\n",
             dir);
    assert_int_equal(system(cmd), 0);
}

static int setup_python(void **state)
{
    kt_it_fixture *f = calloc(1, sizeof *f);
    kt_it_fixture_init(f, 0);
    char pkgs[512];
    snprintf(pkgs, sizeof pkgs, "%s/pkgs", f->dir);
    make_wheel(pkgs);
    setenv("KITE_WORKER_PYTHON_FIND_LINKS", pkgs, 1); /* conf worker.python.find-links */
    f->server = kt_it_start_server(f->dir, "server", f->port, NULL);
    unsetenv("KITE_WORKER_PYTHON_FIND_LINKS");
    *state = f;
    return 0;
}

static void test_python(void **state)
{
    kt_it_fixture *f = *state;
    for (int d = 0; d < 2; d++) {
        json_t *ex = run(f->port, create(f->port, "python_deps", d), NULL);
        expect_state(f, ex, "SUCCESS");
        /* installed for the first flow only: the second reuses the environment */
        assert_int_equal(lines(f->port, ex, "INFO", "Installing the python dependencies"), d == 0 ? 1 : 0);
        assert_int_equal(lines(f->port, ex, NULL, "containerImage"), 0); /* the runner is named: nothing to say */
        json_decref(ex);
        ex = run(f->port, create(f->port, "python_defaults", d), NULL);
        expect_state(f, ex, "SUCCESS");
        assert_int_equal(lines(f->port, ex, "WARN", "containerImage 'python:3.11-slim' ignored"), 1);
        assert_int_equal(lines(f->port, ex, "INFO", "hello"), 1);
        json_decref(ex);
    }
    /* a package the directory does not have: the task fails with pip's message */
    const char *missing = "id: py_missing\nnamespace: " NS "\ntasks:\n  - id: code\n"
                          "    type: io.kestra.plugin.scripts.python.Commands\n    dependencies: [nothere]\n"
                          "    commands: [\"python -c 'print(1)'\"]\n";
    kt_it_create_flow(f->port, missing, NULL);
    json_t *ex = run(f->port, "py_missing", NULL);
    expect_state(f, ex, "FAILED");
    assert_int_equal(lines(f->port, ex, "ERROR", "No matching distribution found for nothere"), 1);
    json_decref(ex);
}

static void test_assert_write(void **state)
{
    kt_it_fixture *f = *state;
    for (int d = 0; d < 2; d++) {
        const char *id = create(f->port, "assert_write", d);
        json_t *ex = run(f->port, id, NULL);
        expect_state(f, ex, "SUCCESS");
        const char *uri = json_string_value(json_object_get(json_object_get(kt_it_taskrun(ex, "write"), "outputs"), "uri"));
        assert_non_null(uri);
        assert_int_equal(strncmp(uri, "kestra:///company/team/", 23), 0);
        assert_string_equal(uri + strlen(uri) - 4, ".txt");
        json_decref(ex);
        const char *in[] = {"param", "nope", NULL};
        ex = run(f->port, id, in);
        expect_state(f, ex, "FAILED");
        assert_int_equal(lines(f->port, ex, "ERROR", "Assertion `{{ inputs.param == 'ok' }}` failed!"), 1);
        assert_int_equal(lines(f->port, ex, "ERROR", "2 assertions failed!\nparam was nope"), 1);
        json_decref(ex);
    }
}

/* Assert renders its conditions on the worker in the flow's dialect: kv() on a missing key is null in 1.x (Kestra
 * 0.21), an error in 2.x, which Assert counts as a failed assertion that did not render. */
static void test_assert_dialect(void **state)
{
    kt_it_fixture *f = *state;
    json_t *ex = run(f->port, create(f->port, "assert_kv", 0), NULL);
    expect_state(f, ex, "SUCCESS");
    json_decref(ex);
    ex = run(f->port, create(f->port, "assert_kv", 1), NULL);
    expect_state(f, ex, "FAILED");
    assert_int_equal(lines(f->port, ex, "ERROR", "Assertion `{{ kv('wp6_not_there') is null }}` failed, failed to "
                                                 "render"), 1);
    assert_int_equal(lines(f->port, ex, "ERROR", "1 assertion failed!"), 1);
    json_decref(ex);
}

static const char *var_r(json_t *ex, const char *task)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(kt_it_taskrun(ex, task), "outputs"), "vars"), "r"));
}

static void test_task_cache(void **state)
{
    kt_it_fixture *f = *state;
    for (int d = 0; d < 2; d++) {
        const char *id = create(f->port, "task_cache", d);
        char fid[128];
        snprintf(fid, sizeof fid, "%s", id);
        json_t *a = run(f->port, fid, NULL), *b = run(f->port, fid, NULL);
        expect_state(f, a, "SUCCESS");
        expect_state(f, b, "SUCCESS");
        assert_non_null(var_r(a, "products"));
        assert_string_equal(var_r(a, "products"), var_r(b, "products")); /* the second reused the first's outputs */
        assert_int_equal(lines(f->port, a, "INFO", "Uploading a cache entry for task 'products'"), 1);
        assert_int_equal(lines(f->port, a, NULL, "Skipping task execution"), 0);
        assert_int_equal(lines(f->port, b, "INFO", "Skipping task execution for task 'products' as there is an "
                                                   "existing cache entry for it"), 1);
        char msg[128];
        snprintf(msg, sizeof msg, "value %s", var_r(a, "products"));
        assert_int_equal(lines(f->port, b, "INFO", msg), 1); /* the task after it sees them */
        /* past short's ttl (PT2S): it runs again, products (PT1H) is still cached */
        usleep(2500000);
        json_t *e = run(f->port, fid, NULL);
        expect_state(f, e, "SUCCESS");
        assert_string_equal(var_r(e, "products"), var_r(a, "products"));
        assert_string_not_equal(var_r(e, "short"), var_r(b, "short"));
        assert_int_equal(lines(f->port, e, NULL, "Skipping task execution for task 'short'"), 0);
        assert_int_equal(lines(f->port, e, NULL, "Skipping task execution for task 'products'"), 1);
        json_decref(a), json_decref(b), json_decref(e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_purgekv, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_python, setup_python, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_assert_write, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_assert_dialect, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_task_cache, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
