/* For the unit tests of Kite's own-bug checks (KT_ASSERT, the aborting allocators): runs a function in a child
 * process and tells whether it aborted, with what it wrote on stderr. Static inline, one copy per test program. */
#ifndef KT_TEST_ABORT_CHECK_H
#define KT_TEST_ABORT_CHECK_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn(arg) in a child; 1 when the child died of SIGABRT, 0 when it returned or died otherwise. out gets what it
 * wrote on stderr (NUL-terminated, cut to cap - 1). */
static inline int abort_check(void (*fn)(void *), void *arg, char *out, size_t cap)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL); /* nothing buffered in the parent is written twice */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        fn(arg);
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t r;
    while (len + 1 < cap && (r = read(fds[0], out + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    out[len] = 0;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

#endif
