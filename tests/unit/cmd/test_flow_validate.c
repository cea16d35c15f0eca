/* `kite flow validate` (cmd/flow_validate.c): exit codes and what it prints, with stdout/stderr captured; a flow
 * using a type that does not run yet fails like any invalid flow, at the type's file:line:col. */
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

static char g_dir[64];

static void write_file(const char *name, const char *content, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

/* Runs `kite flow validate argv...` with stdout and stderr captured; returns the exit code. */
static int run_validate(int argc, char **argv, char *out, size_t outcap, char *err, size_t errcap)
{
    char opath[128], epath[128];
    snprintf(opath, sizeof opath, "%s/stdout", g_dir);
    snprintf(epath, sizeof epath, "%s/stderr", g_dir);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(opath, O_CREAT | O_TRUNC | O_WRONLY, 0600), fe = open(epath, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    assert_true(so >= 0 && se >= 0 && fo >= 0 && fe >= 0);
    dup2(fo, 1);
    dup2(fe, 2);
    close(fo);
    close(fe);
    int rc = kt_cli_flow_validate(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    const char *paths[2] = {opath, epath};
    char *bufs[2] = {out, err};
    size_t caps[2] = {outcap, errcap};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(paths[i], "r");
        assert_non_null(f);
        size_t n = fread(bufs[i], 1, caps[i] - 1, f);
        bufs[i][n] = 0;
        fclose(f);
    }
    return rc;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/kite-validate-cli-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_valid_flow(void **state)
{
    (void)state;
    char path[128], out[1024], err[1024];
    write_file("ok.yml", "id: hello\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
                         "    message: hi\ntriggers:\n  - id: s\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                         "    cron: \"@daily\"\n",
               path, sizeof path);
    char *argv[] = {path};
    assert_int_equal(run_validate(1, argv, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "\u2713 company.team.hello\n");
    assert_string_equal(err, "");
}

static void test_type_not_supported_yet(void **state)
{
    (void)state;
    char path[128], out[1024], err[2048], want[512];
    write_file("http.yml", "id: hello\nnamespace: company.team\ntasks:\n  - id: get\n"
                           "    type: io.kestra.plugin.core.http.Request\n    uri: https://example.com\n",
               path, sizeof path);
    char *argv[] = {path};
    assert_int_equal(run_validate(1, argv, out, sizeof out, err, sizeof err), 1);
    assert_string_equal(out, "");
    snprintf(want, sizeof want, "\u2718 %s\n%s:5:11 tasks[0].type: task type 'io.kestra.plugin.core.http.Request' is "
                                "not supported yet by Kite\n",
             path, path);
    assert_string_equal(err, want);

    /* the legacy name is refused too, under the name the file uses; a valid file beside it does not change the
     * exit code */
    char legacy[128], ok[128];
    write_file("legacy.yml", "id: w\nnamespace: company.team\ntasks:\n  - id: wd\n"
                             "    type: io.kestra.core.tasks.flows.WorkingDirectory\n    tasks:\n"
                             "      - id: t\n        type: io.kestra.plugin.core.debug.Return\n",
               legacy, sizeof legacy);
    write_file("ok2.yml", "id: ok\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n",
               ok, sizeof ok);
    char *argv2[] = {ok, legacy};
    assert_int_equal(run_validate(2, argv2, out, sizeof out, err, sizeof err), 1);
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
    return cmocka_run_group_tests(tests, setup, teardown);
}
