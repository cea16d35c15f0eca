/* `kite template render` (flow/cli_render.c): output and exit codes, with stdout/stderr captured. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "expr/expr.h"

static char g_dir[64];

static void write_file(const char *name, const char *content, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

/* Runs the CLI with fd `which` (1 or 2) redirected to a file; returns the exit code and the text. */
static int run_cli(int argc, char **argv, int which, char *out, size_t cap)
{
    char path[128];
    snprintf(path, sizeof path, "%s/captured", g_dir);
    fflush(which == 1 ? stdout : stderr);
    int saved = dup(which), fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, which);
    close(fd);
    int rc = kt_cli_template_render(argc, argv);
    fflush(which == 1 ? stdout : stderr);
    dup2(saved, which);
    close(saved);
    FILE *f = fopen(path, "r");
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = 0;
    fclose(f);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/kite-expr-cli-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_render_ok(void **state)
{
    (void)state;
    char tpl[128], vars[128], out[1024];
    write_file("t.peb", "Hello {{ inputs.name | upper }}!\n{% for x in [1,2] %}{{ x }}{% endfor %}", tpl, sizeof tpl);
    write_file("v.json", "{\"inputs\": {\"name\": \"kite\"}}", vars, sizeof vars);
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
    write_file("bad.peb", "a\n{{ nope }}", tpl, sizeof tpl);
    char *argv[] = {tpl};
    assert_int_equal(run_cli(1, argv, 2, out, sizeof out), 1);
    assert_non_null(strstr(out, ":2:4: Unable to find `nope` used in the expression `a\n{{ nope }}` at line 2"));
    write_file("syntax.peb", "{{ 1 + }}", tpl, sizeof tpl);
    assert_int_equal(run_cli(1, argv, 2, out, sizeof out), 1);
    assert_non_null(strstr(out, ":1:8: io.pebbletemplates.pebble.error.ParserException: Unexpected token"));
    write_file("v.json", "[1]", vars, sizeof vars);
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
    return cmocka_run_group_tests(tests, setup, teardown);
}
