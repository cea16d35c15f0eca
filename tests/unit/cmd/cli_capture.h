/* For the tests of cmd/'s subcommands (tests/unit/cmd/test_*.c): a scratch directory (cli_setup and cli_teardown are
 * the group fixtures), input files written into it, and a subcommand's entry point run in-process with its stdout
 * and stderr captured through files there. Static inline, one copy per test program. */
#ifndef KT_TEST_CLI_CAPTURE_H
#define KT_TEST_CLI_CAPTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char cli_dir[64];

static inline int cli_setup(void **state)
{
    (void)state;
    snprintf(cli_dir, sizeof cli_dir, "/tmp/kite-cli-XXXXXX");
    return mkdtemp(cli_dir) ? 0 : -1;
}

static inline int cli_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", cli_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes content to the scratch file `name`; its path goes to path. */
static inline void cli_write_file(const char *name, const char *content, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", cli_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

/* Runs cmd(argc, argv) with stdout captured into out and stderr into err, each NUL-terminated and cut to its
 * capacity; a NULL buffer leaves that stream alone. Returns the exit code. */
static inline int cli_run(int (*cmd)(int, char **), int argc, char **argv, char *out, size_t outcap, char *err,
                          size_t errcap)
{
    char *bufs[2] = {out, err};
    size_t caps[2] = {outcap, errcap};
    FILE *streams[2] = {stdout, stderr};
    char paths[2][128];
    int saved[2] = {-1, -1};
    for (int i = 0; i < 2; i++) {
        if (!bufs[i])
            continue;
        snprintf(paths[i], sizeof paths[i], "%s/captured%d", cli_dir, i + 1);
        fflush(streams[i]);
        saved[i] = dup(i + 1);
        int fd = open(paths[i], O_CREAT | O_TRUNC | O_WRONLY, 0600);
        assert_true(saved[i] >= 0 && fd >= 0);
        dup2(fd, i + 1);
        close(fd);
    }
    int rc = cmd(argc, argv);
    for (int i = 0; i < 2; i++) {
        if (!bufs[i])
            continue;
        fflush(streams[i]);
        dup2(saved[i], i + 1);
        close(saved[i]);
        FILE *f = fopen(paths[i], "r");
        assert_non_null(f);
        size_t n = fread(bufs[i], 1, caps[i] - 1, f);
        bufs[i][n] = 0;
        fclose(f);
    }
    return rc;
}

#endif
