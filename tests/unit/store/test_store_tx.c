/* A transaction begun inside another is Kite's own bug: kt_store_begin asserts (it used to return KT_EINTERNAL, which
 * its callers did not check). After a commit or a rollback, begin works again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

static int rm_entry(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb, (void)f, (void)w;
    return remove(p);
}

static void test_nested_begin_aborts(void **s)
{
    (void)s;
    char root[] = "/tmp/kite-tx-XXXXXX", err[256];
    assert_non_null(mkdtemp(root));
    kt_store *st;
    assert_int_equal(kt_store_open(root, NULL, &st, err, sizeof err), KT_OK);
    assert_int_equal(kt_store_begin(st), KT_OK);
    assert_int_equal(kt_store_commit(st), KT_OK);
    assert_int_equal(kt_store_begin(st), KT_OK);
    kt_store_rollback(st);
    assert_int_equal(kt_store_begin(st), KT_OK);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        kt_store_begin(st); /* the second begin */
        _exit(0);
    }
    close(fds[1]);
    char out[512] = "";
    size_t len = 0;
    ssize_t n;
    while (len + 1 < sizeof out && (n = read(fds[0], out + len, sizeof out - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = 0;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    assert_non_null(strstr(out, "kite: assertion failed: !s->in_tx"));
    assert_non_null(strstr(out, "transactions do not nest"));
    assert_int_equal(kt_store_commit(st), KT_OK); /* the parent's transaction is untouched */
    kt_store_close(st);
    nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_begin_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
