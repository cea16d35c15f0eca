/* `kite template render` (cmd/template_render.c): output and exit codes, with stdout/stderr captured. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "expr/expr.h"
#include "tests/unit/cmd/cli_capture.h"

/* Runs the command with fd `which` (1 or 2) captured into out; returns the exit code. */
static int run_cli(int argc, char **argv, int which, char *out, size_t cap)
{
    return cli_run(kt_cli_template_render, argc, argv, which == 1 ? out : NULL, cap, which == 2 ? out : NULL, cap);
}

static void test_render_ok(void **state)
{
    (void)state;
    char tpl[128], vars[128], out[1024];
    cli_write_file("t.peb", "Hello {{ inputs.name | upper }}!\n{% for x in [1,2] %}{{ x }}{% endfor %}",
                   tpl, sizeof tpl);
    cli_write_file("v.json", "{\"inputs\": {\"name\": \"kite\"}}", vars, sizeof vars);
    char *argv[] = {"template", "render", "--vars", vars, tpl};
    assert_int_equal(run_cli(5, argv, 1, out, sizeof out), 0);
    assert_string_equal(out, "Hello KITE!\n12");
    char *argv2[] = {"--vars", vars, tpl};
    assert_int_equal(run_cli(3, argv2, 1, out, sizeof out), 0);
    assert_string_equal(out, "Hello KITE!\n12");
}

static void test_render_errors(void **state)
{
    (void)state;
    char tpl[128], vars[128], out[1024];
    cli_write_file("bad.peb", "a\n{{ nope }}", tpl, sizeof tpl);
    char *argv[] = {tpl};
    assert_int_equal(run_cli(1, argv, 2, out, sizeof out), 1);
    assert_non_null(strstr(out, ":2:4: Unable to find `nope` used in the expression `a\n{{ nope }}` at line 2"));
    cli_write_file("syntax.peb", "{{ 1 + }}", tpl, sizeof tpl);
    assert_int_equal(run_cli(1, argv, 2, out, sizeof out), 1);
    assert_non_null(strstr(out, ":1:8: io.pebbletemplates.pebble.error.ParserException: Unexpected token"));
    cli_write_file("v.json", "[1]", vars, sizeof vars);
    char *argv2[] = {"--vars", vars, tpl};
    assert_int_equal(run_cli(3, argv2, 2, out, sizeof out), 1);
    assert_non_null(strstr(out, "vars must be a JSON object"));
    char *argv3[] = {"/nonexistent/file"};
    assert_int_equal(run_cli(1, argv3, 2, out, sizeof out), 1);
    assert_int_equal(run_cli(0, NULL, 2, out, sizeof out), 2);
    assert_non_null(strstr(out, "usage: kite template render"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_ok),
        cmocka_unit_test(test_render_errors),
    };
    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
