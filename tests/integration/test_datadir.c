/* One server per data directory: a second `kite server local` on the same --data refuses to start and names the
 * holder's pid; after a SIGKILL of the holder the kernel has dropped the lock, so a restart succeeds at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* Waits for the process to exit on its own (max timeout_ms); its exit status, or -1 if it is still running. */
static int wait_exit(pid_t pid, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        kt_it_sleep_ms(20);
    }
    return -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_second_server_refused_then_restart_after_sigkill(void **state)
{
    (void)state;
    char dir[256];
    kt_it_tmpdir(dir, sizeof dir);
    int port1 = kt_it_free_port();
    kt_it_proc first = kt_it_start_server(dir, "first", port1, NULL);

    /* The second one on the same directory exits non-zero, naming the first one's pid, and never serves. */
    int port2 = kt_it_free_port();
    kt_it_proc second = kt_it_spawn_server(dir, "second", port2, NULL);
    int rc = wait_exit(second.pid, 10000);
    if (rc == -1)
        kt_it_stop(&second, SIGKILL);
    assert_int_not_equal(rc, -1);
    assert_int_not_equal(rc, 0);
    char expect[64];
    snprintf(expect, sizeof expect, "pid %d", (int)first.pid);
    const char *log = slurp(second.log_path);
    assert_non_null(log);
    if (!strstr(log, expect))
        fprintf(stderr, "second server's log:\n%s\n", log);
    assert_non_null(strstr(log, expect));
    assert_non_null(strstr(log, "in use"));
    /* The first one was not disturbed. */
    assert_int_equal(kt_it_http("GET", port1, "/health", NULL, NULL, NULL), 200);

    /* SIGKILL leaves the lock file behind, but not the lock: the restart starts at once and stops cleanly. */
    kt_it_stop(&first, SIGKILL);
    kt_it_proc third = kt_it_start_server(dir, "third", port1, NULL);
    kt_it_stop_clean(&third);
    kt_it_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_server_refused_then_restart_after_sigkill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
