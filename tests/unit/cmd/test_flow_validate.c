/* `kite flow validate` (cmd/flow_validate.c): exit codes and what it prints, with stdout/stderr captured; a flow
 * using a type that does not run yet fails like any invalid flow, at the type's file:line:col. */
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

static void test_valid_flow(void **state)
{
    (void)state;
    char path[128], out[1024], err[1024];
    cli_write_file("ok.yml", "id: hello\nnamespace: company.team\ntasks:\n  - id: t\n"
                             "    type: io.kestra.plugin.core.log.Log\n"
                             "    message: hi\ntriggers:\n  - id: s\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                             "    cron: \"@daily\"\n",
                   path, sizeof path);
    char *argv[] = {path};
    assert_int_equal(cli_run(kt_cli_flow_validate, 1, argv, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "\u2713 company.team.hello\n");
    assert_string_equal(err, "");
}

static void test_type_not_supported_yet(void **state)
{
    (void)state;
    char path[128], out[1024], err[2048], want[512];
    cli_write_file("http.yml", "id: hello\nnamespace: company.team\ntasks:\n  - id: get\n"
                               "    type: io.kestra.plugin.core.http.Request\n    uri: https://example.com\n",
                   path, sizeof path);
    char *argv[] = {path};
    assert_int_equal(cli_run(kt_cli_flow_validate, 1, argv, out, sizeof out, err, sizeof err), 1);
    assert_string_equal(out, "");
    snprintf(want, sizeof want, "\u2718 %s\n%s:5:11 tasks[0].type: task type 'io.kestra.plugin.core.http.Request' is "
                                "not supported yet by Kite\n",
             path, path);
    assert_string_equal(err, want);

    /* the legacy name is refused too, under the name the file uses; a valid file beside it does not change the
     * exit code */
    char legacy[128], ok[128];
    cli_write_file("legacy.yml", "id: w\nnamespace: company.team\ntasks:\n  - id: wd\n"
                                 "    type: io.kestra.core.tasks.flows.WorkingDirectory\n    tasks:\n"
                                 "      - id: t\n        type: io.kestra.plugin.core.debug.Return\n",
                   legacy, sizeof legacy);
    cli_write_file("ok2.yml", "id: ok\nnamespace: company.team\ntasks:\n  - id: t\n"
                              "    type: io.kestra.plugin.core.debug.Return\n",
                   ok, sizeof ok);
    char *argv2[] = {ok, legacy};
    assert_int_equal(cli_run(kt_cli_flow_validate, 2, argv2, out, sizeof out, err, sizeof err), 1);
    assert_string_equal(out, "\u2713 company.team.ok\n");
    snprintf(want, sizeof want, "%s:5:11 tasks[0].type: task type 'io.kestra.core.tasks.flows.WorkingDirectory' is "
                                "not supported yet by Kite\n",
             legacy);
    assert_non_null(strstr(err, want));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_flow),
        cmocka_unit_test(test_type_not_supported_yet),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
