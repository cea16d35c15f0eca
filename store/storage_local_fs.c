/* The local backend's thread-pool side: resolving paths without following symlinks, attributes and metadata, and
 * the one-shot calls (stat, delete, delete a prefix, list), each one uv_queue_work job whose result the loop
 * thread hands to the caller's callback. */
#include "store/storage_local_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/id.h"
#include "store/storage_uri.h"

/* Folder depth a prefix deletion descends: a Kite path is at most KT_SURI_PATH_MAX bytes, so at most half that many
 * segments; a deeper tree was not made through the storage and is refused (KT_EIO) rather than recursed into. */
#define KT_SLOCAL_DEPTH_MAX (KT_SURI_PATH_MAX / 2)

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Maps a failed openat/statx of name (in folder dfd) to a status, looking at what is there: a symlink is refused,
 * not followed. write: the caller wants to create things (a file in the way of a folder is a conflict). */
kt_status kt_slocal__classify(int dfd, const char *name, int e, const char *path, int write, char *err, size_t cap)
{
    struct stat sb;
    if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode)) {
        kt_errf(err, cap, "kestra:///%s: refused, '%s' is a symbolic link", path, name);
        return KT_EINVAL;
    }
    if (e == ENOENT || (e == ENOTDIR && !write)) {
        kt_errf(err, cap, "kestra:///%s: not found", path);
        return KT_ENOTFOUND;
    }
    if (e == ENOTDIR || e == EISDIR || e == EEXIST || e == ENOTEMPTY) {
        kt_errf(err, cap, "kestra:///%s: '%s' is in the way (%s)", path, name, strerror(e));
        return KT_ECONFLICT;
    }
    if (e == ELOOP) {
        kt_errf(err, cap, "kestra:///%s: refused, a symbolic link on the path", path);
        return KT_EINVAL;
    }
    kt_errf(err, cap, "kestra:///%s: %s", path, strerror(e));
    return KT_EIO;
}

/* Opens the folder holding the last segment of path (the base itself for "x"), walking from the base without
 * following symlinks, creating missing folders when create. *last points into path. */
kt_status kt_slocal__walk_parent(kt_slocal *ls, const char *path, int create, int *dfd, const char **last,
                             char *err, size_t cap)
{
    char seg[KT_SURI_PATH_MAX];
    int fd = openat(ls->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return kt_slocal__classify(ls->dir_fd, ".", errno, path, create, err, cap);
    const char *p = path;
    for (const char *slash; (slash = strchr(p, '/'));) {
        size_t n = (size_t)(slash - p);
        memcpy(seg, p, n);
        seg[n] = 0;
        int nfd = openat(fd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, seg, 0755) < 0 && errno != EEXIST) {
                kt_status st = kt_slocal__classify(fd, seg, errno, path, create, err, cap);
                close(fd);
                return st;
            }
            nfd = openat(fd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (nfd < 0) {
            kt_status st = kt_slocal__classify(fd, seg, errno, path, create, err, cap);
            close(fd);
            return st;
        }
        close(fd);
        fd = nfd;
        p = slash + 1;
    }
    *dfd = fd;
    *last = p;
    return KT_OK;
}

static int64_t ts_ms(struct statx_timestamp t)
{
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Attributes of name in dfd ("" with AT_EMPTY_PATH: dfd itself). KT_EINVAL for a symlink or anything that is
 * neither a file nor a folder. */
kt_status kt_slocal__attrs_at(int dfd, const char *name, const char *path, kt_storage_attrs *a, char *err, size_t cap)
{
    struct statx sx;
    int flags = AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH);
    if (statx(dfd, name, flags, STATX_BASIC_STATS | STATX_BTIME, &sx) < 0)
        return kt_slocal__classify(dfd, name, errno, path, 0, err, cap);
    if (!S_ISREG(sx.stx_mode) && !S_ISDIR(sx.stx_mode)) {
        kt_errf(err, cap, "kestra:///%s: refused, not a file nor a folder%s", path,
                S_ISLNK(sx.stx_mode) ? " (a symbolic link)" : "");
        return KT_EINVAL;
    }
    const char *slash = strrchr(path, '/');
    a->name = kt_xstrdup(slash ? slash + 1 : path);
    a->type = S_ISDIR(sx.stx_mode) ? KT_STORAGE_DIRECTORY : KT_STORAGE_FILE;
    a->size = a->type == KT_STORAGE_FILE ? (int64_t)sx.stx_size : 0;
    a->modified_ms = ts_ms(sx.stx_mtime);
    a->created_ms = (sx.stx_mask & STATX_BTIME) ? ts_ms(sx.stx_btime) : ts_ms(sx.stx_ctime);
    return KT_OK;
}

/* Reads <name>.metadata in dfd into a->metadata (left NULL when there is none). */
kt_status kt_slocal__metadata_at(int dfd, const char *name, const char *path, kt_storage_attrs *a, char *err,
                             size_t cap)
{
    char side[NAME_MAX + 1];
    if (snprintf(side, sizeof side, "%s%s", name, KT_SLOCAL_META) >= (int)sizeof side)
        return KT_OK; /* no such file can exist */
    int fd = openat(dfd, side, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? KT_OK : kt_slocal__classify(dfd, side, errno, path, 0, err, cap);
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) { /* a folder or a fifo of that name is not metadata */
        close(fd);
        return KT_OK;
    }
    char *buf = kt_xmalloc(KT_STORAGE_METADATA_MAX + 1);
    size_t n = 0;
    ssize_t r;
    while (n <= KT_STORAGE_METADATA_MAX && (r = read(fd, buf + n, KT_STORAGE_METADATA_MAX + 1 - n)) > 0)
        n += (size_t)r;
    int e = errno;
    close(fd);
    kt_status st = KT_OK;
    json_error_t je;
    if (r < 0) {
        kt_errf(err, cap, "kestra:///%s%s: %s", path, KT_SLOCAL_META, strerror(e));
        st = KT_EIO;
    } else if (n > KT_STORAGE_METADATA_MAX) {
        kt_errf(err, cap, "kestra:///%s%s: larger than %d bytes", path, KT_SLOCAL_META, KT_STORAGE_METADATA_MAX);
        st = KT_EIO;
    } else if (!(a->metadata = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je)) || !json_is_object(a->metadata)) {
        kt_errf(err, cap, "kestra:///%s%s: not a JSON object (%s)", path, KT_SLOCAL_META, je.text);
        json_decref(a->metadata);
        a->metadata = NULL;
        st = KT_EIO;
    }
    free(buf);
    return st;
}

/* ---- one-shot calls ---- */

typedef enum job_kind {
    JOB_STAT,
    JOB_REMOVE,
    JOB_REMOVE_IF,
    JOB_REMOVE_PREFIX,
    JOB_LIST,
    JOB_MKDIR,
    JOB_MOVE
} job_kind;

typedef struct job {
    uv_work_t work;
    kt_slocal *ls;
    job_kind kind;
    char *path;
    char *to; /* move */
    union {
        kt_storage_stat_cb stat;
        kt_storage_done_cb done;
        kt_storage_count_cb count;
        kt_storage_list_cb list;
    } cb;
    void *data;
    kt_status st;
    char err[KT_STORAGE_ERR_MAX];
    kt_storage_attrs attrs;     /* stat */
    kt_storage_attrs *entries;  /* list */
    size_t n, cap;
    size_t count;               /* remove_prefix */
    json_t *meta;               /* remove_if: the metadata expected (NULL: none) */
    int64_t modified_ms;        /* remove_if: the modification time expected */
    char tomb[KT_ID_LEN + 4];   /* remove_if: the name the file is set aside under in .kite-tmp */
} job;

static void stat_work(job *j)
{
    if (!j->path[0]) {
        j->st = kt_slocal__attrs_at(j->ls->dir_fd, "", "", &j->attrs, j->err, sizeof j->err);
        return;
    }
    int dfd;
    const char *last;
    if ((j->st = kt_slocal__walk_parent(j->ls, j->path, 0, &dfd, &last, j->err, sizeof j->err)))
        return;
    j->st = kt_slocal__attrs_at(dfd, last, j->path, &j->attrs, j->err, sizeof j->err);
    if (!j->st && j->attrs.type == KT_STORAGE_FILE)
        j->st = kt_slocal__metadata_at(dfd, last, j->path, &j->attrs, j->err, sizeof j->err);
    close(dfd);
}

/* Unlinks name's side file; a missing one is fine. */
static void unlink_meta(int dfd, const char *name)
{
    char side[NAME_MAX + 1];
    if (snprintf(side, sizeof side, "%s%s", name, KT_SLOCAL_META) < (int)sizeof side)
        unlinkat(dfd, side, 0);
}

static void remove_work(job *j)
{
    int dfd;
    const char *last;
    if ((j->st = kt_slocal__walk_parent(j->ls, j->path, 0, &dfd, &last, j->err, sizeof j->err)))
        return;
    struct stat sb;
    if (fstatat(dfd, last, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
        j->st = kt_slocal__classify(dfd, last, errno, j->path, 0, j->err, sizeof j->err);
    } else if (unlinkat(dfd, last, S_ISDIR(sb.st_mode) ? AT_REMOVEDIR : 0) < 0) {
        /* a symlink is removed itself (its target is never touched) */
        j->st = kt_slocal__classify(dfd, last, errno, j->path, 1, j->err, sizeof j->err);
    } else if (!S_ISDIR(sb.st_mode)) {
        unlink_meta(dfd, last);
    }
    close(dfd);
}

/* Moves from (in tmp) back to name in dfd unless a file took the name since: 0, or -1 (errno EEXIST: a newer one is
 * there, the caller drops its copy). A file system without RENAME_NOREPLACE gets link + unlink, which refuses an
 * existing name the same way; as a last resort a plain rename, rather than losing the file. */
static int move_back(int tmp, const char *from, int dfd, const char *name)
{
    if (renameat2(tmp, from, dfd, name, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno == EEXIST)
        return -1;
    if (linkat(tmp, from, dfd, name, 0) == 0) {
        unlinkat(tmp, from, 0);
        return 0;
    }
    if (errno == EEXIST)
        return -1;
    return renameat(tmp, from, dfd, name);
}

/* Puts a set-aside file (and its side file when side) back as name in dfd, unless a newer one took the name since:
 * then the set-aside one is simply dropped. */
static int put_back(job *j, int dfd, const char *name, int side)
{
    char from[sizeof j->tomb + sizeof KT_SLOCAL_META], to[NAME_MAX + 1];
    snprintf(from, sizeof from, "%s%s", j->tomb, side ? KT_SLOCAL_META : "");
    if (snprintf(to, sizeof to, "%s%s", name, side ? KT_SLOCAL_META : "") >= (int)sizeof to ||
        move_back(j->ls->tmp_fd, from, dfd, to) < 0) {
        unlinkat(j->ls->tmp_fd, from, 0);
        return -1;
    }
    return 0;
}

/* kt_storage_delete_if: the file and its side file are renamed into .kite-tmp (atomic: a writer's commit after that
 * lands beside, not on them), checked there, then removed or put back. A writer renames its data before its
 * metadata, so a data file with the old side file is seen as changed by its modification time. */
static void remove_if_work(job *j)
{
    int dfd;
    const char *last;
    if ((j->st = kt_slocal__walk_parent(j->ls, j->path, 0, &dfd, &last, j->err, sizeof j->err)))
        return;
    char side[NAME_MAX + 1], tomb_side[sizeof j->tomb + sizeof KT_SLOCAL_META];
    snprintf(tomb_side, sizeof tomb_side, "%s%s", j->tomb, KT_SLOCAL_META);
    int has_side = snprintf(side, sizeof side, "%s%s", last, KT_SLOCAL_META) < (int)sizeof side;
    struct stat sb;
    int e0 = fstatat(dfd, last, &sb, AT_SYMLINK_NOFOLLOW) < 0 ? errno : S_ISREG(sb.st_mode) ? 0 : ENOENT;
    if (e0) { /* only a file is deleted this way: anything else is no such file */
        j->st = e0 == ENOENT ? KT_ENOTFOUND : KT_EIO;
        kt_errf(j->err, sizeof j->err, "kestra:///%s: %s", j->path, e0 == ENOENT ? "no such file" : strerror(e0));
        close(dfd);
        return;
    }
    if (renameat(dfd, last, j->ls->tmp_fd, j->tomb) < 0) {
        j->st = kt_slocal__classify(dfd, last, errno, j->path, 1, j->err, sizeof j->err);
        close(dfd);
        return;
    }
    int side_moved = has_side && renameat(dfd, side, j->ls->tmp_fd, tomb_side) == 0;
    kt_storage_attrs a = {0};
    char e[KT_STORAGE_ERR_MAX];
    int same = !kt_slocal__attrs_at(j->ls->tmp_fd, j->tomb, j->path, &a, e, sizeof e) &&
               a.type == KT_STORAGE_FILE && a.modified_ms == j->modified_ms &&
               (!side_moved || !kt_slocal__metadata_at(j->ls->tmp_fd, j->tomb, j->path, &a, e, sizeof e)) &&
               kt_storage__same_meta(a.metadata, j->meta);
    kt_storage_attrs_clear(&a);
    if (same) {
        unlinkat(j->ls->tmp_fd, j->tomb, 0);
        if (side_moved)
            unlinkat(j->ls->tmp_fd, tomb_side, 0);
    } else {
        /* the data first, as a writer publishes: a side file put back never sits beside a newer file alone */
        if (put_back(j, dfd, last, 0) < 0) {
            if (side_moved)
                unlinkat(j->ls->tmp_fd, tomb_side, 0);
        } else if (side_moved) {
            put_back(j, dfd, last, 1);
        }
        j->st = KT_ECONFLICT;
        kt_errf(j->err, sizeof j->err, "kestra:///%s: changed since it was read: not deleted", j->path);
    }
    close(dfd);
}

/* Removes everything inside folder name of parent (not name itself), counting the files that are not side files.
 * Entries are examined without following symlinks: a symlink is unlinked, its target never touched. */
static kt_status remove_tree(job *j, int parent, const char *name, int depth)
{
    if (depth > KT_SLOCAL_DEPTH_MAX) {
        kt_errf(j->err, sizeof j->err, "kestra:///%s: folders nested deeper than %d", j->path, KT_SLOCAL_DEPTH_MAX);
        return KT_EIO;
    }
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return kt_slocal__classify(parent, name, errno, j->path, 0, j->err, sizeof j->err);
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return kt_slocal__classify(parent, name, errno, j->path, 0, j->err, sizeof j->err);
    }
    kt_status st = KT_OK;
    for (struct dirent *e; !st && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        int is_dir = e->d_type == DT_DIR, is_file = e->d_type == DT_REG;
        struct stat sb;
        if (e->d_type == DT_UNKNOWN && fstatat(fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
            is_dir = S_ISDIR(sb.st_mode);
            is_file = S_ISREG(sb.st_mode);
        }
        if (is_dir)
            st = remove_tree(j, fd, e->d_name, depth + 1);
        if (!st && unlinkat(fd, e->d_name, is_dir ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
            st = kt_slocal__classify(fd, e->d_name, errno, j->path, 1, j->err, sizeof j->err);
        else if (!st && is_file && !has_suffix(e->d_name, KT_SLOCAL_META))
            j->count++;
    }
    closedir(d);
    return st;
}

static void remove_prefix_work(job *j)
{
    int dfd;
    const char *last;
    if ((j->st = kt_slocal__walk_parent(j->ls, j->path, 0, &dfd, &last, j->err, sizeof j->err))) {
        if (j->st == KT_ENOTFOUND)
            j->st = KT_OK; /* nothing under an absent prefix */
        return;
    }
    struct stat sb;
    if (fstatat(dfd, last, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT)
            j->st = kt_slocal__classify(dfd, last, errno, j->path, 0, j->err, sizeof j->err);
    } else if (S_ISDIR(sb.st_mode) && (j->st = remove_tree(j, dfd, last, 0))) {
        /* err set */
    } else if (unlinkat(dfd, last, S_ISDIR(sb.st_mode) ? AT_REMOVEDIR : 0) < 0) {
        j->st = kt_slocal__classify(dfd, last, errno, j->path, 1, j->err, sizeof j->err);
    } else if (!S_ISDIR(sb.st_mode)) {
        j->count += S_ISREG(sb.st_mode);
        unlink_meta(dfd, last);
    }
    close(dfd);
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const kt_storage_attrs *)a)->name, ((const kt_storage_attrs *)b)->name);
}

/* Opens the folder path itself ("" = the base). */
static int open_folder(job *j)
{
    if (!j->path[0])
        return openat(j->ls->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int dfd;
    const char *last;
    if ((j->st = kt_slocal__walk_parent(j->ls, j->path, 0, &dfd, &last, j->err, sizeof j->err)))
        return -1;
    int fd = openat(dfd, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        struct stat sb;
        if (e == ENOTDIR && fstatat(dfd, last, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode)) {
            kt_errf(j->err, sizeof j->err, "kestra:///%s: a file, not a folder", j->path);
            j->st = KT_EINVAL;
        } else {
            j->st = kt_slocal__classify(dfd, last, e, j->path, 0, j->err, sizeof j->err);
        }
    }
    close(dfd);
    return fd;
}

static void list_work(job *j)
{
    int fd = open_folder(j);
    if (fd < 0) {
        if (!j->st) {
            kt_errf(j->err, sizeof j->err, "kestra:///%s: %s", j->path, strerror(errno));
            j->st = KT_EIO;
        }
        return;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        kt_errf(j->err, sizeof j->err, "kestra:///%s: %s", j->path, strerror(errno));
        j->st = KT_EIO;
        close(fd);
        return;
    }
    char child[KT_SURI_PATH_MAX + NAME_MAX + 2];
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        if (has_suffix(e->d_name, KT_SLOCAL_META) || (!j->path[0] && !strcmp(e->d_name, KT_SLOCAL_TMP)))
            continue;
        snprintf(child, sizeof child, "%s%s%s", j->path, j->path[0] ? "/" : "", e->d_name);
        kt_storage_attrs a = {0};
        char ignored[8];
        if (kt_slocal__attrs_at(fd, e->d_name, child, &a, ignored, sizeof ignored))
            continue; /* symlinks and special files are not storage entries; a racing delete is not either */
        if (j->n == j->cap) {
            j->cap = j->cap ? j->cap * 2 : 16;
            j->entries = kt_xrealloc(j->entries, j->cap * sizeof *j->entries);
        }
        j->entries[j->n++] = a;
    }
    closedir(d);
    if (j->n)
        qsort(j->entries, j->n, sizeof *j->entries, entry_cmp);
}

/* mkdir -p, one segment at a time without following symlinks (kt_slocal__walk_parent makes the parents). */
static void mkdir_work(job *j)
{
    if (!j->path[0])
        return; /* the base exists */
    int dfd;
    const char *last;
    if ((j->st = kt_slocal__walk_parent(j->ls, j->path, 1, &dfd, &last, j->err, sizeof j->err)))
        return;
    struct stat sb;
    if (mkdirat(dfd, last, 0755) < 0) {
        int e = errno;
        if (e != EEXIST || fstatat(dfd, last, &sb, AT_SYMLINK_NOFOLLOW) < 0 || S_ISLNK(sb.st_mode))
            j->st = kt_slocal__classify(dfd, last, e, j->path, 1, j->err, sizeof j->err);
        /* an existing folder or file under that name: nothing to do (Kestra's mkdirs) */
    }
    close(dfd);
}

/* rename(2) between the two parents, never following a symlink on either path; then the side file. */
static void move_work(job *j)
{
    int from_fd, to_fd;
    const char *from_last, *to_last;
    if ((j->st = kt_slocal__walk_parent(j->ls, j->path, 0, &from_fd, &from_last, j->err, sizeof j->err)))
        return;
    if ((j->st = kt_slocal__walk_parent(j->ls, j->to, 0, &to_fd, &to_last, j->err, sizeof j->err))) {
        close(from_fd);
        return;
    }
    struct stat sb;
    if (fstatat(from_fd, from_last, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
        j->st = kt_slocal__classify(from_fd, from_last, errno, j->path, 0, j->err, sizeof j->err);
    } else if (S_ISLNK(sb.st_mode) || (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))) {
        kt_errf(j->err, sizeof j->err, "kestra:///%s: refused, not a file nor a folder", j->path);
        j->st = KT_EINVAL;
    } else if (renameat(from_fd, from_last, to_fd, to_last) < 0) {
        j->st = kt_slocal__classify(to_fd, to_last, errno, j->to, 1, j->err, sizeof j->err);
    } else if (S_ISREG(sb.st_mode)) {
        /* the side file follows; when there is none, a replaced file's one must not stay behind */
        char side_from[NAME_MAX + 1], side_to[NAME_MAX + 1];
        int a = snprintf(side_from, sizeof side_from, "%s%s", from_last, KT_SLOCAL_META) < (int)sizeof side_from;
        int b = snprintf(side_to, sizeof side_to, "%s%s", to_last, KT_SLOCAL_META) < (int)sizeof side_to;
        if (b && (!a || renameat(from_fd, side_from, to_fd, side_to) < 0))
            unlinkat(to_fd, side_to, 0);
    }
    close(from_fd);
    close(to_fd);
}

static void job_work(uv_work_t *req)
{
    job *j = req->data;
    switch (j->kind) {
    case JOB_STAT: stat_work(j); break;
    case JOB_REMOVE: remove_work(j); break;
    case JOB_REMOVE_IF: remove_if_work(j); break;
    case JOB_REMOVE_PREFIX: remove_prefix_work(j); break;
    case JOB_LIST: list_work(j); break;
    case JOB_MKDIR: mkdir_work(j); break;
    case JOB_MOVE: move_work(j); break;
    }
}

static void job_done(uv_work_t *req, int status)
{
    job *j = req->data;
    kt_storage *s = &j->ls->base;
    if (status) {
        j->st = KT_EIO;
        kt_errf(j->err, sizeof j->err, "kestra:///%s: %s", j->path, uv_strerror(status));
    }
    const char *err = j->st ? j->err : "";
    switch (j->kind) {
    case JOB_STAT: j->cb.stat(j->st, j->st ? NULL : &j->attrs, err, j->data); break;
    case JOB_REMOVE:
    case JOB_REMOVE_IF: j->cb.done(j->st, err, j->data); break;
    case JOB_REMOVE_PREFIX: j->cb.count(j->st, j->count, err, j->data); break;
    case JOB_LIST: j->cb.list(j->st, j->st ? NULL : j->entries, j->st ? 0 : j->n, err, j->data); break;
    case JOB_MKDIR:
    case JOB_MOVE: j->cb.done(j->st, err, j->data); break;
    }
    kt_storage_attrs_clear(&j->attrs);
    for (size_t i = 0; i < j->n; i++)
        kt_storage_attrs_clear(&j->entries[i]);
    free(j->entries);
    json_decref(j->meta);
    free(j->to);
    free(j->path);
    free(j);
    kt_storage__unbusy(s);
}

static job *job_start(kt_storage *s, job_kind kind, const char *path, void *data)
{
    job *j = kt_xcalloc(1, sizeof *j);
    j->ls = (kt_slocal *)s;
    j->kind = kind;
    j->path = kt_xstrdup(path);
    j->data = data;
    j->work.data = j;
    return j;
}

static void job_queue(job *j)
{
    int rc = uv_queue_work(j->ls->base.loop, &j->work, job_work, job_done);
    KT_ASSERTF(rc == 0, "uv_queue_work: %s", uv_strerror(rc));
}

void kt_slocal__stat(kt_storage *s, const char *path, kt_storage_stat_cb cb, void *data)
{
    job *j = job_start(s, JOB_STAT, path, data);
    j->cb.stat = cb;
    job_queue(j);
}

void kt_slocal__remove(kt_storage *s, const char *path, kt_storage_done_cb cb, void *data)
{
    job *j = job_start(s, JOB_REMOVE, path, data);
    j->cb.done = cb;
    job_queue(j);
}

void kt_slocal__remove_if(kt_storage *s, const char *path, json_t *meta, int64_t modified_ms, kt_storage_done_cb cb,
                          void *data)
{
    job *j = job_start(s, JOB_REMOVE_IF, path, data);
    j->cb.done = cb;
    j->meta = meta;
    j->modified_ms = modified_ms;
    char id[KT_ID_LEN + 1];
    kt_id_new(id);
    snprintf(j->tomb, sizeof j->tomb, "d-%s", id);
    job_queue(j);
}

void kt_slocal__remove_prefix(kt_storage *s, const char *path, kt_storage_count_cb cb, void *data)
{
    job *j = job_start(s, JOB_REMOVE_PREFIX, path, data);
    j->cb.count = cb;
    job_queue(j);
}

void kt_slocal__list(kt_storage *s, const char *path, kt_storage_list_cb cb, void *data)
{
    job *j = job_start(s, JOB_LIST, path, data);
    j->cb.list = cb;
    job_queue(j);
}

void kt_slocal__mkdir(kt_storage *s, const char *path, kt_storage_done_cb cb, void *data)
{
    job *j = job_start(s, JOB_MKDIR, path, data);
    j->cb.done = cb;
    job_queue(j);
}

void kt_slocal__move(kt_storage *s, const char *from, const char *to, kt_storage_done_cb cb, void *data)
{
    job *j = job_start(s, JOB_MOVE, from, data);
    j->to = kt_xstrdup(to);
    j->cb.done = cb;
    job_queue(j);
}

/* ---- the synchronous small read (kt_storage_read_small) ---- */

kt_status kt_slocal__read_small(kt_storage *s, const char *path, size_t max, char **out, size_t *len, int64_t *size,
                                json_t **meta, int64_t *modified_ms, char *err, size_t errcap)
{
    int dfd;
    const char *last;
    kt_status st = kt_slocal__walk_parent((kt_slocal *)s, path, 0, &dfd, &last, err, errcap);
    if (st)
        return st;
    int fd = openat(dfd, last, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        st = kt_slocal__classify(dfd, last, errno, path, 0, err, errcap);
        close(dfd);
        return st;
    }
    if (meta) { /* the side file, read while the folder is still open (the KV store's expirationDate) */
        kt_storage_attrs a = {0};
        st = kt_slocal__metadata_at(dfd, last, path, &a, err, errcap);
        *meta = a.metadata;
        if (st) {
            close(fd);
            close(dfd);
            return st;
        }
    }
    close(dfd);
    struct stat sb;
    char *buf = NULL;
    if (fstat(fd, &sb) < 0) {
        kt_errf(err, errcap, "kestra:///%s: %s", path, strerror(errno));
        st = KT_EIO;
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        kt_errf(err, errcap, "kestra:///%s: not a file", path);
        st = KT_EINVAL;
        goto done;
    }
    if (size)
        *size = (int64_t)sb.st_size;
    if (modified_ms) /* as ts_ms reads statx's: the same number kt_storage_attrs.modified_ms holds */
        *modified_ms = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
    if (!out)
        goto done;
    if ((uint64_t)sb.st_size > max) {
        kt_errf(err, errcap, "kestra:///%s: %lld bytes, more than the %zu a read can hold", path,
                (long long)sb.st_size, max);
        st = KT_EINVAL;
        goto done;
    }
    /* read up to max + 1 bytes: a file that grew since fstat is still refused rather than cut */
    size_t cap = (size_t)sb.st_size + 1, n = 0;
    buf = kt_xmalloc(cap + 1);
    for (;;) {
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            kt_errf(err, errcap, "kestra:///%s: %s", path, strerror(errno));
            st = KT_EIO;
            goto done;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n == cap) {
            if (n > max) {
                kt_errf(err, errcap, "kestra:///%s: more than the %zu bytes a read can hold", path, max);
                st = KT_EINVAL;
                goto done;
            }
            cap *= 2;
            buf = kt_xrealloc(buf, cap + 1);
        }
    }
    buf[n] = 0;
    *out = buf;
    buf = NULL;
    if (len)
        *len = n;
done:
    free(buf);
    close(fd);
    return st;
}
