/* Shared by the S3 backend's files: storage_s3.c (opening, readers, writers) and storage_s3_ops.c (the one-shot
 * calls and the blocking helpers both use). Prefix kt_ss3__. */
#ifndef KT_STORE_STORAGE_S3_INT_H
#define KT_STORE_STORAGE_S3_INT_H

#include "store/s3_req.h"
#include "store/storage_int.h"

/* A reader's window: one ranged GET fetches this much, handed out in KT_STORAGE_CHUNK pieces. */
#define KT_SS3_WINDOW (1024 * 1024)
/* Keys per ListObjectsV2 page (S3's maximum). */
#define KT_SS3_PAGE 1000

typedef struct kt_ss3 {
    kt_storage base;
    kt_s3 c;
} kt_ss3;

/* ---- blocking helpers (thread pool, or read_small's caller) ---- */

/* HEAD of the file at path: KT_OK (rs filled: length, modified, etag, meta), KT_ENOTFOUND, KT_EIO. */
kt_status kt_ss3__head(kt_ss3 *s, const char *path, kt_s3_resp *rs, char *err, size_t cap);
/* *exists = 1 when any key lies under path + "/" (a folder, its marker included); the root always exists. */
kt_status kt_ss3__dir_exists(kt_ss3 *s, const char *path, int *exists, char *err, size_t cap);
/* For a file about to appear at path (write, move): KT_ECONFLICT when a folder has its name or a file stands
 * where one of its parent folders would be. */
kt_status kt_ss3__check_place(kt_ss3 *s, const char *path, char *err, size_t cap);
/* After a GET or HEAD answered 404 for path: KT_EINVAL when path is a folder, KT_ENOTFOUND otherwise. */
kt_status kt_ss3__missing(kt_ss3 *s, const char *path, char *err, size_t cap);
/* The x-amz-meta-* headers for the metadata JSON text (NULL: none): "x-amz-meta-name:value" lines appended to
 * hdrs (malloc'd, at most max); returns how many. */
size_t kt_ss3__meta_headers(const char *meta_json, char **hdrs, size_t max);
/* Fills attrs for a file from a HEAD or GET answer (name = last segment of path; metadata moved out of rs). */
void kt_ss3__file_attrs(const char *path, kt_s3_resp *rs, int64_t size, kt_storage_attrs *a);

/* Every key under prefix (full keys), ListObjectsV2 page after page. */
typedef struct kt_ss3_keys {
    char **keys;
    size_t n, cap;
} kt_ss3_keys;
kt_status kt_ss3__keys_under(kt_ss3 *s, const char *prefix, kt_ss3_keys *out, const char *path, char *err,
                             size_t cap);
void kt_ss3__keys_free(kt_ss3_keys *k);
/* DELETE of one key; a key already gone is KT_OK. */
kt_status kt_ss3__delete_key(kt_ss3 *s, const char *key, const char *path, char *err, size_t cap);
/* Deletes keys (full keys) with DeleteObjects, 1000 per request; KT_EIO naming the first key S3 could not delete. */
kt_status kt_ss3__delete_keys(kt_ss3 *s, char **keys, size_t n, const char *path, char *err, size_t cap);

/* Parts a writer has uploaded so far (tests: a big file goes out while it is written). */
int kt_ss3__writer_parts(const kt_storage_writer *w);

/* ---- the one-shot calls (kt_storage_ops) ---- */
void kt_ss3__stat(kt_storage *s, const char *path, kt_storage_stat_cb cb, void *data);
void kt_ss3__remove(kt_storage *s, const char *path, kt_storage_done_cb cb, void *data);
void kt_ss3__remove_if(kt_storage *s, const char *path, json_t *meta, int64_t modified_ms, kt_storage_done_cb cb,
                       void *data);
void kt_ss3__remove_prefix(kt_storage *s, const char *path, kt_storage_count_cb cb, void *data);
void kt_ss3__list(kt_storage *s, const char *path, kt_storage_list_cb cb, void *data);
void kt_ss3__mkdir(kt_storage *s, const char *path, kt_storage_done_cb cb, void *data);
void kt_ss3__move(kt_storage *s, const char *from, const char *to, kt_storage_done_cb cb, void *data);
kt_status kt_ss3__read_small(kt_storage *s, const char *path, size_t max, char **out, size_t *len, int64_t *size,
                             json_t **meta, int64_t *modified_ms,
                             char *err, size_t errcap);

#endif
