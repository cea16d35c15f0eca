/* The data directory's lock: see datadir.h for why it is an flock and not a pid file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/datadir.h"

struct kt_datadir_lock {
    int fd;
};

/* The pid the holder wrote, or 0 when the file is empty (the holder is between flock and write). */
static long holder_pid(int fd)
{
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    return n > 0 ? strtol(buf, NULL, 10) : 0;
}

kt_status kt_datadir_lock_take(const char *dir, kt_datadir_lock **out, char *err, size_t errcap)
{
    *out = NULL;
    char path[4096];
    int fd = -1;
    kt_status st = KT_EIO;
    if (mkdir(dir, 0755) && errno != EEXIST) {
        snprintf(err, errcap, "cannot create the data directory %s: %s", dir, strerror(errno));
        goto fail;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/kite.lock", dir) >= sizeof path) {
        snprintf(err, errcap, "data directory path too long: %s", dir);
        goto fail;
    }
    /* O_CLOEXEC: script processes the worker spawns must not inherit the lock, or a task left running after a
     * SIGKILL of the server would keep its restart out. */
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errcap, "cannot open %s: %s", path, strerror(errno));
        goto fail;
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        if (errno == EWOULDBLOCK) {
            long pid = holder_pid(fd);
            if (pid > 0)
                snprintf(err, errcap, "the data directory %s is in use by another kite process (pid %ld); stop it or "
                         "choose another --data", dir, pid);
            else
                snprintf(err, errcap, "the data directory %s is in use by another kite process; stop it or choose "
                         "another --data", dir);
            st = KT_ECONFLICT;
        } else {
            snprintf(err, errcap, "cannot lock %s: %s", path, strerror(errno));
        }
        goto fail;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)n, 0) != n) {
        snprintf(err, errcap, "cannot write %s: %s", path, strerror(errno));
        goto fail;
    }
    kt_datadir_lock *l = malloc(sizeof *l);
    if (!l) {
        st = KT_ENOMEM;
        snprintf(err, errcap, "out of memory");
        goto fail;
    }
    l->fd = fd;
    *out = l;
    return KT_OK;
fail:
    if (fd >= 0)
        close(fd); /* drops our flock if we had it */
    return st;
}

void kt_datadir_lock_release(kt_datadir_lock *lock)
{
    if (!lock)
        return;
    /* The pid is left in the file: the next holder overwrites it, and an unlocked file means nobody. */
    close(lock->fd);
    free(lock);
}
