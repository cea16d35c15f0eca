/* Shared by the local backend's two files: storage_local.c (opening, readers, writers) and storage_local_fs.c (path
 * resolution on the thread pool and the one-shot calls). Prefix kt_slocal__. */
#ifndef KT_STORE_STORAGE_LOCAL_INT_H
#define KT_STORE_STORAGE_LOCAL_INT_H

#include "store/storage_int.h"

/* The writers' temporary folder under the base (storage.c refuses URIs into it) and the side files' suffix. */
#define KT_SLOCAL_TMP ".kite-tmp"
#define KT_SLOCAL_META ".metadata"

typedef struct kt_slocal {
    kt_storage base;
    int dir_fd; /* the base folder */
    int tmp_fd; /* <base>/.kite-tmp */
} kt_slocal;

/* ---- on the thread pool only (they block) ---- */

/* Maps a failed openat/statx/renameat on name (in folder dfd) to a status, looking at what is there: a symlink is
 * refused, never followed. write: the caller creates things (a file in the way of a folder is KT_ECONFLICT). */
kt_status kt_slocal__classify(int dfd, const char *name, int e, const char *path, int write, char *err, size_t cap);
/* Opens the folder holding the last segment of path (the base itself for "x") one segment at a time with
 * O_NOFOLLOW, creating missing folders when create. *dfd is the caller's to close; *last points into path. */
kt_status kt_slocal__walk_parent(kt_slocal *ls, const char *path, int create, int *dfd, const char **last,
                                 char *err, size_t cap);
/* Attributes of name in dfd ("" = dfd itself), named after path's last segment. KT_EINVAL for a symlink or
 * anything neither a file nor a folder. */
kt_status kt_slocal__attrs_at(int dfd, const char *name, const char *path, kt_storage_attrs *a, char *err,
                              size_t cap);
/* Reads the side file <name>.metadata in dfd into a->metadata (NULL when absent). */
kt_status kt_slocal__metadata_at(int dfd, const char *name, const char *path, kt_storage_attrs *a, char *err,
                                 size_t cap);

/* ---- the one-shot calls (kt_storage_ops) ---- */
void kt_slocal__stat(kt_storage *s, const char *path, kt_storage_stat_cb cb, void *data);
void kt_slocal__remove(kt_storage *s, const char *path, kt_storage_done_cb cb, void *data);
void kt_slocal__remove_if(kt_storage *s, const char *path, json_t *meta, int64_t modified_ms, kt_storage_done_cb cb,
                          void *data);
void kt_slocal__remove_prefix(kt_storage *s, const char *path, kt_storage_count_cb cb, void *data);
void kt_slocal__list(kt_storage *s, const char *path, kt_storage_list_cb cb, void *data);
void kt_slocal__mkdir(kt_storage *s, const char *path, kt_storage_done_cb cb, void *data);
kt_status kt_slocal__read_small(kt_storage *s, const char *path, size_t max, char **out, size_t *len, int64_t *size,
                                json_t **meta, int64_t *modified_ms,
                                char *err, size_t errcap);
void kt_slocal__move(kt_storage *s, const char *from, const char *to, kt_storage_done_cb cb, void *data);

#endif
