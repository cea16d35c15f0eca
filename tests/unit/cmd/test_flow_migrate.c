/* `kite flow migrate` (cmd/flow_migrate.c): the migrated text on stdout, --in-place, --check and its exit code, the
 * "✗ file:line:col" report on stderr, unreadable files and usage. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "tests/unit/cmd/cli_capture.h"

#define V1 "id: r\nnamespace: company.team\ntasks:\n  - id: t   # keep me\n    type: io.kestra.plugin.core.log.Log\n" \
           "    message: hi\n    retry:\n      type: constant\n      interval: PT1S\n      maxAttempt: 2\n"
#define V2 "id: r\nnamespace: company.team\ntasks:\n  - id: t   # keep me\n    type: io.kestra.plugin.core.log.Log\n" \
           "    message: hi\n    retry:\n      type: constant\n      interval: PT1S\n      maxAttempts: 2\n"

static char *read_back(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_stdout(void **state)
{
    (void)state;
    char path[128], out[2048], err[2048];
    cli_write_file("v1.yml", V1, path, sizeof path);
    char *argv[] = {path};
    assert_int_equal(cli_run(kt_cli_flow_migrate, 1, argv, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, V2);
    assert_string_equal(err, "");
    assert_string_equal(read_back(path), V1); /* the file itself is untouched */
}

static void test_in_place_and_check(void **state)
{
    (void)state;
    char a[128], b[128], out[2048], err[2048], want[1024];
    cli_write_file("a.yml", V1, a, sizeof a);
    cli_write_file("b.yml", V2, b, sizeof b);
    char *check[] = {"--check", a, b};
    assert_int_equal(cli_run(kt_cli_flow_migrate, 3, check, out, sizeof out, err, sizeof err), 1);
    snprintf(want, sizeof want, "\u270e %s\n\u2714 %s\n\u26a0  1/2 flows need migration\n", a, b);
    assert_string_equal(out, want);
    assert_string_equal(read_back(a), V1); /* --check writes nothing */

    char *in_place[] = {"--in-place", a, b};
    assert_int_equal(cli_run(kt_cli_flow_migrate, 3, in_place, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(read_back(a), V2);
    assert_string_equal(read_back(b), V2);
    snprintf(want, sizeof want, "\u270e %s\n", a);
    assert_string_equal(err, want);

    /* once migrated, --check passes */
    assert_int_equal(cli_run(kt_cli_flow_migrate, 3, check, out, sizeof out, err, sizeof err), 0);
    snprintf(want, sizeof want, "\u2714 %s\n\u2714 %s\n\u2714  All 2 flows are 2.x-compatible\n", a, b);
    assert_string_equal(out, want);
}

static void test_report(void **state)
{
    (void)state;
    char path[128], out[4096], err[2048], want[512];
    cli_write_file("manual.yml",
                   "id: m\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
                   "    message: hi\npluginDefaults:\n  - type: io.kestra.plugin.core.log.Log\n"
                   "    values:\n      level: WARN\n",
                   path, sizeof path);
    char *argv[] = {path};
    /* stdout mode: the flow (unchanged) on stdout, the report on stderr, exit 0 like kestra-migrate */
    assert_int_equal(cli_run(kt_cli_flow_migrate, 1, argv, out, sizeof out, err, sizeof err), 0);
    snprintf(want, sizeof want, "  \u2717 %s:7:1 pluginDefaults: pluginDefaults are removed in 2.x", path);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(out, "pluginDefaults:\n"));
    /* --check: the report under the file's line, exit 1 */
    char *check[] = {"--check", path};
    assert_int_equal(cli_run(kt_cli_flow_migrate, 2, check, out, sizeof out, err, sizeof err), 1);
    snprintf(want, sizeof want, "\u2717 %s\n  \u2717 %s:7:1 pluginDefaults: ", path, path);
    assert_non_null(strstr(out, want));
}

static void test_errors_and_usage(void **state)
{
    (void)state;
    char path[128], bad[128], out[2048], err[2048];
    snprintf(path, sizeof path, "%s/missing.yml", cli_dir);
    char *argv[] = {path};
    assert_int_equal(cli_run(kt_cli_flow_migrate, 1, argv, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "missing.yml"));
    cli_write_file("bad.yml", "id: [oops\n", bad, sizeof bad);
    char *argv2[] = {bad};
    assert_int_equal(cli_run(kt_cli_flow_migrate, 1, argv2, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "not a flow"));
    assert_int_equal(cli_run(kt_cli_flow_migrate, 0, NULL, out, sizeof out, err, sizeof err), 2);
    char *unknown[] = {"--frobnicate", bad};
    assert_int_equal(cli_run(kt_cli_flow_migrate, 2, unknown, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "--frobnicate"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdout),
        cmocka_unit_test(test_in_place_and_check),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_errors_and_usage),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
