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
    assert_string_equal(out, "\u2713 company.team.hello (1.x)\n");
    assert_string_equal(err, "");
}

static void test_type_not_supported_yet(void **state)
{
    (void)state;
    char path[128], out[1024], err[2048], want[512];
    cli_write_file("http.yml", "id: hello\nnamespace: company.team\ntasks:\n  - id: get\n"
                               "    type: io.kestra.plugin.core.state.Set\n    name: s\n",
                   path, sizeof path);
    char *argv[] = {path};
    assert_int_equal(cli_run(kt_cli_flow_validate, 1, argv, out, sizeof out, err, sizeof err), 1);
    assert_string_equal(out, "");
    snprintf(want, sizeof want, "\u2718 %s\n%s:5:11 tasks[0].type: task type 'io.kestra.plugin.core.state.Set' is "
                                "not supported yet by Kite\n",
             path, path);
    assert_string_equal(err, want);

    /* the legacy name is refused too, under the name the file uses; a valid file beside it does not change the
     * exit code */
    char legacy[128], ok[128];
    cli_write_file("legacy.yml", "id: w\nnamespace: company.team\ntasks:\n  - id: wd\n"
                                 "    type: io.kestra.core.tasks.flows.Template\n    namespace: a\n"
                                 "    templateId: t\n",
                   legacy, sizeof legacy);
    cli_write_file("ok2.yml", "id: ok\nnamespace: company.team\ntasks:\n  - id: t\n"
                              "    type: io.kestra.plugin.core.debug.Return\n",
                   ok, sizeof ok);
    char *argv2[] = {ok, legacy};
    assert_int_equal(cli_run(kt_cli_flow_validate, 2, argv2, out, sizeof out, err, sizeof err), 1);
    assert_string_equal(out, "\u2713 company.team.ok (1.x)\n");
    snprintf(want, sizeof want, "%s:5:11 tasks[0].type: task type 'io.kestra.core.tasks.flows.Template' is "
                                "not supported yet by Kite\n",
             legacy);
    assert_non_null(strstr(err, want));
}

/* A Log whose message only the server's plugins.defaults supplies: refused without the configuration, valid with
 * --config (as the server saves it); a broken configuration is a usage error (exit 2) naming the file. */
static void test_config_defaults(void **state)
{
    (void)state;
    char flow[128], conf[128], bad[128], out[1024], err[2048], opt[160];
    cli_write_file("nomsg.yml", "id: quiet\nnamespace: company.team\ntasks:\n  - id: t\n"
                                "    type: io.kestra.plugin.core.log.Log\n",
                   flow, sizeof flow);
    cli_write_file("kite.yml", "plugins:\n  defaults:\n    - type: io.kestra.plugin.core.log\n      values:\n"
                               "        message: from the server\n",
                   conf, sizeof conf);
    cli_write_file("bad.yml", "plugins:\n  defaults: 3\n", bad, sizeof bad);
    unsetenv("KITE_CONFIGURATION");
    char *plain[] = {flow};
    assert_int_equal(cli_run(kt_cli_flow_validate, 1, plain, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "tasks[0].message"));
    char *with[] = {"--config", conf, flow};
    assert_int_equal(cli_run(kt_cli_flow_validate, 3, with, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "\u2713 company.team.quiet (1.x)\n");
    snprintf(opt, sizeof opt, "--config=%s", bad);
    char *broken[] = {opt, flow};
    assert_int_equal(cli_run(kt_cli_flow_validate, 2, broken, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "bad.yml"));
    char *none[] = {"--config", conf};
    assert_int_equal(cli_run(kt_cli_flow_validate, 2, none, out, sizeof out, err, sizeof err), 2);
}

/* The dialect of each flow, --dialect for the flows using only common constructs, and a 2.x flow's deprecations as
 * warnings on stderr at their line:col (flow/dialect.h). */
static void test_dialect_shown(void **state)
{
    (void)state;
    char plain[128], mixed[128], out[1024], err[2048], want[512];
    cli_write_file("plain.yml", "id: p\nnamespace: company.team\ntasks:\n  - id: t\n"
                                "    type: io.kestra.plugin.core.debug.Return\n",
                   plain, sizeof plain);
    cli_write_file("mixed.yml", "dialect: 2.x\nid: m\nnamespace: company.team\ninputs:\n  - id: b\n    type: BOOLEAN\n"
                                "tasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n",
                   mixed, sizeof mixed);
    char *argv[] = {plain, mixed};
    assert_int_equal(cli_run(kt_cli_flow_validate, 2, argv, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "\u2713 company.team.p (1.x)\n\u2713 company.team.m (2.x)\n");
    snprintf(want, sizeof want, "warning: %s:6:5 inputs[0].type: deprecated: input type BOOLEAN is removed in Kestra "
                                "2.0: use BOOL",
             mixed);
    assert_non_null(strstr(err, want));
    char *with[] = {"--dialect", "2.x", plain};
    assert_int_equal(cli_run(kt_cli_flow_validate, 3, with, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "\u2713 company.team.p (2.x)\n");
    char *eq[] = {"--dialect=1.3", plain};
    assert_int_equal(cli_run(kt_cli_flow_validate, 2, eq, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "\u2713 company.team.p (1.x)\n");
    char *bad[] = {"--dialect", "3.x", plain};
    assert_int_equal(cli_run(kt_cli_flow_validate, 3, bad, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "--dialect '3.x' is not 1.x or 2.x"));
    char *missing[] = {"--dialect"};
    assert_int_equal(cli_run(kt_cli_flow_validate, 1, missing, out, sizeof out, err, sizeof err), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_flow),
        cmocka_unit_test(test_type_not_supported_yet),
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_dialect_shown),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
