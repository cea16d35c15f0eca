/* kite-bench's few `kite` processes (bench.h: kb_proc): the component processes of a cluster on 127.0.0.1 for the
 * throughput rows with separate executors (throughput_topo.c). The integration tests' harness does the same for its
 * tests (tests/integration/harness.c), but bench/ does not link tests/: this is the part a benchmark needs, started
 * and stopped by pid, each process's output in a log file of its own. */
#include "bench.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* KITE_BIN, else the `kite` built next to this kite-bench (the build directory holds both). */
static const char *kb_kite_bin(void)
{
    static char path[PATH_MAX];
    const char *env = getenv("KITE_BIN");
    if (env && *env)
        return env;
    if (!path[0]) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 6);
        char *slash = n > 0 ? memrchr(path, '/', (size_t)n) : NULL;
        if (!slash) {
            fprintf(stderr, "kite-bench: cannot find the kite binary: set KITE_BIN\n");
            exit(1);
        }
        memcpy(slash + 1, "kite", 5);
    }
    return path;
}

int kb_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &l)) {
        perror("kite-bench: a free port");
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

void kb_proc_start(kb_proc *p, const char *dir, const char *name, const char *const *args)
{
    const char *bin = kb_kite_bin();
    if (access(bin, X_OK)) {
        fprintf(stderr, "kite-bench: %s is not executable: build kite, or set KITE_BIN\n", bin);
        exit(1);
    }
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->log_path, sizeof p->log_path, "%s/%s.log", dir, name);
    fflush(NULL); /* nothing buffered here is written twice by the child */
    p->pid = fork();
    if (p->pid < 0) {
        perror("kite-bench: fork");
        exit(1);
    }
    if (p->pid)
        return;
    /* a bench that dies or is interrupted leaves no process behind */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        _exit(127);
    int fd = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    const char *argv[40];
    size_t n = 0;
    argv[n++] = bin;
    for (size_t i = 0; args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    setenv("NO_COLOR", "1", 1);
    execv(bin, (char *const *)argv);
    _exit(127);
}

int kb_proc_alive(kb_proc *p)
{
    siginfo_t si = {0};
    /* WNOWAIT: an exited one stays a zombie, for kb_proc_stop to read its status */
    return p->pid > 0 && waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0;
}

int kb_proc_stop(kb_proc *p)
{
    if (p->pid <= 0)
        return 0;
    int status = 0;
    kill(p->pid, SIGTERM);
    /* an orderly stop gives its leases back and closes its store: a few seconds at most, then it is killed */
    for (int i = 0; i < 300 && waitpid(p->pid, &status, WNOHANG) == 0; i++)
        usleep(20000);
    if (waitpid(p->pid, &status, WNOHANG) == 0) {
        fprintf(stderr, "kite-bench: %s did not stop after SIGTERM: killed (its log: %s)\n", p->name, p->log_path);
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
    }
    p->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void kb_proc_dump(const kb_proc *p)
{
    FILE *f = fopen(p->log_path, "r");
    char line[1024];
    fprintf(stderr, "---- %s (%s) ----\n", p->name, p->log_path);
    while (f && fgets(line, sizeof line, f))
        fputs(line, stderr);
    if (f)
        fclose(f);
}

double kb_proc_cpu_ms(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the command's name may hold spaces: the fields follow its ')' */
    unsigned long utime = 0, stime = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return 0;
    return (double)(utime + stime) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

double kb_pg_cpu_ms(int postmaster)
{
    double sum = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300], buf[512];
        int pid = atoi(e->d_name), ppid = 0;
        if (pid <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = 0;
        const char *p = strrchr(buf, ')');
        if (p && sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == postmaster)
            sum += kb_proc_cpu_ms(pid);
    }
    if (d)
        closedir(d);
    return sum;
}
