/* Starts tests/http/server.py (python3) on 127.0.0.1 for the http task tests and the http bench: the port it
 * listens on, and its pid to stop it. Header-only, included once per program. */
#ifndef KT_TEST_HTTP_SERVER_H
#define KT_TEST_HTTP_SERVER_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* 0 and *port / *pid, or -1 when python3 or the script cannot run. script: the server's path; cert and key (both
 * NULL for plain HTTP): PEM files it serves HTTPS with. */
static inline int kt_test_http_start_tls(const char *script, const char *cert, const char *key, int *port, pid_t *pid)
{
    int fds[2];
    if (pipe(fds))
        return -1;
    pid_t p = fork();
    if (p < 0)
        return -1;
    if (p == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        if (cert)
            execlp("python3", "python3", script, "--tls", cert, key, (char *)NULL);
        else
            execlp("python3", "python3", script, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[32] = "";
    FILE *f = fdopen(fds[0], "r");
    int ok = f && fgets(line, sizeof line, f) && atoi(line) > 0;
    if (f)
        fclose(f);
    if (!ok) {
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
        return -1;
    }
    *port = atoi(line);
    *pid = p;
    return 0;
}

static inline int kt_test_http_start(const char *script, int *port, pid_t *pid)
{
    return kt_test_http_start_tls(script, NULL, NULL, port, pid);
}

static inline void kt_test_http_stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

#endif
