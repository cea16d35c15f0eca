/* Internal storage: the files of executions, inputs, namespace files and KV, addressed by `kestra:///<path>` URIs
 * laid out as Kestra does (KESTRA-system.md §5.9; the URI rules are store/storage_uri.h). One interface, several
 * backends behind a vtable (store/storage_int.h): local files under a base directory (storage_local.c, the
 * default, `<data>/storage`), S3 next. Prefix kt_storage.
 *
 * Streamed and asynchronous on the caller's uv loop. A file never sits whole in memory: readers hand out one chunk
 * of at most KT_STORAGE_CHUNK bytes per kt_storage_read (the consumer asks for the next one when it is ready:
 * back-pressure), writers take one chunk at a time and answer when it is stored. Nothing blocks the loop: file
 * I/O runs on libuv's thread pool (uv_fs_* for the chunks, uv_queue_work for the calls that take several system
 * calls: path resolution, listing, deleting a tree), so the pool's size (UV_THREADPOOL_SIZE, 4 by default) bounds
 * how many storage calls make progress at once; the others wait in libuv's queue.
 *
 * Conventions, for every call below that takes a callback:
 *   - The call returns KT_OK: its callback runs exactly once, later, on the loop thread (never inside the call).
 *   - The call returns an error: the callback never runs, and err (when given) says why. URIs are checked here,
 *     before any I/O: KT_EINVAL for a URI kt_suri_path refuses (`..` in any spelling, not `kestra:///`...), and
 *     KT_ECLOSED once kt_storage_close was called.
 *   - Callbacks get (status, err): err is a message quoting the URI (and the system's reason for KT_EIO), borrowed
 *     for the callback's duration; "" when status is KT_OK. Statuses: KT_ENOTFOUND (no such file or directory),
 *     KT_EINVAL (refused path: a bad URI, a symlink, a directory where a file is expected), KT_EIO (the system
 *     failed: err carries strerror), KT_ECLOSED (the storage was closed), KT_ECONFLICT (a file where a directory
 *     is needed, or the reverse, on write).
 *   - Strings and buffers passed in are copied or used before the call returns, except where said otherwise.
 *
 * Atomicity: a writer's data goes to a temporary object and appears under its URI only at commit (local: rename
 * in one file system), so a reader sees the old file or the whole new one, never half of one. An aborted or
 * failed writer leaves nothing behind.
 *
 * Metadata: a flat JSON object of string values given at put time, stored beside the file as `<file>.metadata`
 * (Kestra writes Ion there; Kite writes JSON under the same name). Listings hide `*.metadata`, deleting a file
 * deletes its metadata, and a URI ending in `.metadata` is refused (KT_EINVAL) so the side files are reachable
 * only through the calls that own them.
 *
 * Closing (kt_storage_close): new calls answer KT_ECLOSED at once. Calls already running finish and run their
 * callbacks with their own result. Open readers and writers stay their owner's to close: their next read, write
 * or commit answers KT_ECLOSED at once, and kt_storage_reader_close / kt_storage_writer_abort still free them (an
 * abort removes the temporary data). The storage is freed, and the close callback runs, when the last call,
 * reader and writer is gone; the loop must keep running until then. */
#ifndef KT_STORE_STORAGE_H
#define KT_STORE_STORAGE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/status.h"

/* Largest chunk a reader hands out and a put/get copy moves at once: one buffer per open reader, so a thousand
 * concurrent downloads hold 64 MiB. */
#define KT_STORAGE_CHUNK (64 * 1024)
/* Largest `.metadata` side file read back (a flat object of a few strings; a bigger one is KT_EIO). */
#define KT_STORAGE_METADATA_MAX (64 * 1024)

typedef struct kt_storage kt_storage;
typedef struct kt_storage_reader kt_storage_reader;
typedef struct kt_storage_writer kt_storage_writer;

/* Kestra's FileAttributes. */
typedef enum kt_storage_type { KT_STORAGE_FILE, KT_STORAGE_DIRECTORY } kt_storage_type;
typedef struct kt_storage_attrs {
    char *name;           /* last segment of the path (owned by the attrs) */
    kt_storage_type type;
    int64_t size;         /* bytes; 0 for a directory */
    int64_t created_ms;   /* epoch milliseconds (birth time where the file system has it, else change time) */
    int64_t modified_ms;  /* epoch milliseconds */
    json_t *metadata;     /* the side file's object, or NULL (owned by the attrs) */
} kt_storage_attrs;
void kt_storage_attrs_clear(kt_storage_attrs *a);

typedef void (*kt_storage_done_cb)(kt_status st, const char *err, void *data);
typedef void (*kt_storage_close_cb)(void *data);

/* ---- lifecycle ---- */

/* The local backend: files under base_dir (created if missing, with its `.kite-tmp` folder for the writers'
 * temporary files). `kestra:///a/b` is base_dir/a/b. Synchronous (a process opens its storage before its loop
 * runs). KT_EIO with err when base_dir cannot be created or opened. */
kt_status kt_storage_local_open(uv_loop_t *loop, const char *base_dir, kt_storage **out, char *err, size_t errcap);
/* The S3 backend (store/storage_s3.c): `kestra:///a/b.txt` is the object `<prefix>a/b.txt` of the bucket. */
typedef struct kt_storage_s3_config {
    const char *endpoint;   /* http(s)://host[:port]; NULL or "" = https://s3.<region>.amazonaws.com */
    const char *region;     /* NULL or "" = us-east-1 */
    const char *bucket;     /* required */
    const char *access_key; /* required, as the secret */
    const char *secret_key;
    const char *prefix;     /* NULL or "": keys at the bucket's root; "kite" puts them under "kite/" */
    int force_path_style;   /* 1: <endpoint>/<bucket>/<key>; 0: <bucket>.<endpoint host>/<key> (virtual host), except
                             * for an IP address or localhost, which always use the path style */
    size_t part_size;       /* a writer's multipart part (and buffer) size; 0 = 8 MiB */
} kt_storage_s3_config;
/* Synchronous and local (no request is sent: an unreachable endpoint shows on the first call). KT_EINVAL with err
 * for missing or malformed settings. */
kt_status kt_storage_s3_open(uv_loop_t *loop, const kt_storage_s3_config *c, kt_storage **out, char *err,
                             size_t errcap);
/* The backend's name ("local", "s3"). */
const char *kt_storage_backend(const kt_storage *s);
/* Starts closing (see "Closing" above); cb (may be NULL) runs on the loop once everything is freed. Calling it
 * twice is a bug (asserted). */
void kt_storage_close(kt_storage *s, kt_storage_close_cb cb, void *data);

/* ---- streamed reads ---- */

/* open_cb: on KT_OK the reader is open and attrs (borrowed for the callback) give its size and times, metadata
 * included: what a download needs before its first byte (Content-Length). On failure the reader is freed after
 * the callback returns (a kt_storage_reader_close inside that callback does nothing). KT_ENOTFOUND for a missing
 * file, KT_EINVAL for a directory or a symlink. */
typedef void (*kt_storage_open_cb)(kt_storage_reader *r, kt_status st, const kt_storage_attrs *attrs,
                                   const char *err, void *data);
/* Opens uri for reading. *out is set at once, so the owner may kt_storage_reader_close it before open_cb runs
 * (then open_cb never runs). */
kt_status kt_storage_reader_open(kt_storage *s, const char *uri, kt_storage_open_cb cb, void *data,
                                 kt_storage_reader **out, char *err, size_t errcap);
/* chunk/len: the next bytes of the file, borrowed until the next kt_storage_read or close. len == 0 with KT_OK is
 * the end of the file. On an error the reader stays open (close it). */
typedef void (*kt_storage_read_cb)(kt_storage_reader *r, kt_status st, const char *chunk, size_t len,
                                   const char *err, void *data);
/* Asks for the next chunk (at most KT_STORAGE_CHUNK bytes). One read at a time per reader and only after open_cb
 * said KT_OK (both asserted). KT_ECLOSED when the storage is closing. */
kt_status kt_storage_read(kt_storage_reader *r, kt_storage_read_cb cb, void *data);
/* Frees the reader, at any time: during a read too, whose callback then never runs. NULL is fine. */
void kt_storage_reader_close(kt_storage_reader *r);

/* ---- streamed writes ---- */

/* Starts writing uri (replacing it at commit when it exists; missing parent folders are made at commit).
 * metadata (NULL for none) must be an object of strings (KT_EINVAL otherwise); it is copied. *out is set at once;
 * the temporary file is made in the background and its failure is answered to the first write or the commit.
 * The commit answers KT_ECONFLICT when a folder has the file's name or a file stands where a folder is needed. */
kt_status kt_storage_writer_open(kt_storage *s, const char *uri, const json_t *metadata, kt_storage_writer **out,
                                 char *err, size_t errcap);
/* Appends len bytes (any size; a writer may split them). chunk is borrowed until cb runs. One write at a time per
 * writer (asserted); after an error the writer only aborts. */
kt_status kt_storage_write(kt_storage_writer *w, const void *chunk, size_t len, kt_storage_done_cb cb, void *data);
/* Makes the written bytes (and the metadata) visible under the URI, atomically. The writer is freed after cb,
 * whatever the status (a kt_storage_writer_abort inside cb does nothing); a failed commit leaves no temporary
 * data and leaves an older file under the URI as it was.
 * When this call itself refuses (KT_ECLOSED), the writer is still the caller's to abort. */
kt_status kt_storage_writer_commit(kt_storage_writer *w, kt_storage_done_cb cb, void *data);
/* Drops the writer and its temporary data, at any time (during a write too: its callback never runs). Nothing is
 * ever visible under the URI. NULL is fine. */
void kt_storage_writer_abort(kt_storage_writer *w);

/* ---- whole files, for the worker (inputFiles, outputFiles) ---- */

/* Streams the local file at local_path into uri (chunk by chunk through a writer: one buffer of KT_STORAGE_CHUNK
 * bytes). KT_ENOTFOUND when local_path does not exist. */
kt_status kt_storage_put_file(kt_storage *s, const char *uri, const char *local_path, const json_t *metadata,
                              kt_storage_done_cb cb, void *data, char *err, size_t errcap);
/* Streams uri into local_path (created or truncated, mode 0644; parent folders must exist). On failure local_path
 * is removed. */
kt_status kt_storage_get_file(kt_storage *s, const char *uri, const char *local_path, kt_storage_done_cb cb,
                              void *data, char *err, size_t errcap);

/* The same two copies with a handle, for a caller that may have to stop them (the worker's kill and timeout):
 * *out (may be NULL) is set when the call returns KT_OK and stays valid until cb has run. */
typedef struct kt_storage_copy kt_storage_copy;
kt_status kt_storage_put_file_c(kt_storage *s, const char *uri, const char *local_path, const json_t *metadata,
                                kt_storage_done_cb cb, void *data, kt_storage_copy **out, char *err, size_t errcap);
kt_status kt_storage_get_file_c(kt_storage *s, const char *uri, const char *local_path, kt_storage_done_cb cb,
                                void *data, kt_storage_copy **out, char *err, size_t errcap);
/* Stops a copy at its current step: a storage write or read in flight is dropped at once (the writer aborted:
 * nothing appears under the URI; a get's partial local file is removed), a local file call in flight (one chunk)
 * is let finish first. cb still runs exactly once, later (never inside this call), with KT_ECLOSED — or with the
 * commit's own result when the put had already handed its whole file to the commit, which runs to its end.
 * Calling it again, or with NULL, does nothing; calling it after cb ran is a bug. */
void kt_storage_copy_cancel(kt_storage_copy *c);

/* ---- one-shot calls ---- */

/* attrs borrowed for the callback. A directory's URI may end in '/' or not. */
typedef void (*kt_storage_stat_cb)(kt_status st, const kt_storage_attrs *attrs, const char *err, void *data);
kt_status kt_storage_stat(kt_storage *s, const char *uri, kt_storage_stat_cb cb, void *data, char *err,
                          size_t errcap);
/* exists: 1 for a file or a directory, 0 when absent (KT_OK both ways); errors only for real failures. */
typedef void (*kt_storage_exists_cb)(kt_status st, int exists, const char *err, void *data);
kt_status kt_storage_exists(kt_storage *s, const char *uri, kt_storage_exists_cb cb, void *data, char *err,
                            size_t errcap);
/* Deletes one file and its metadata, or an empty directory. KT_ENOTFOUND when absent (Kestra's `false`). */
kt_status kt_storage_delete(kt_storage *s, const char *uri, kt_storage_done_cb cb, void *data, char *err,
                            size_t errcap);
/* Deletes the file uri and its metadata only while it is still the version a reader or stat saw: the same metadata
 * (json_equal, NULL: none) and the same modified_ms. KT_ECONFLICT when another write replaced it since (that one
 * stays), KT_ENOTFOUND when absent. Meant for deleting what was found stale (an expired KV entry) without deleting a
 * new value written under the same name meanwhile: on the local backend the check and the removal are one step
 * against other writers (the file is set aside by rename(2), checked, then removed or put back without replacing a
 * newer one); on S3 the DELETE carries If-Match with the ETag of the version checked (atomic where the server honours
 * it, a check just before the delete otherwise). */
kt_status kt_storage_delete_if(kt_storage *s, const char *uri, const json_t *meta, int64_t modified_ms,
                               kt_storage_done_cb cb, void *data, char *err, size_t errcap);
/* Deletes everything under uri (a folder: an execution's root), the folder itself included; symlinks inside are
 * removed, never followed. count = files removed (metadata side files not counted); KT_OK with 0 when absent. */
typedef void (*kt_storage_count_cb)(kt_status st, size_t count, const char *err, void *data);
kt_status kt_storage_delete_prefix(kt_storage *s, const char *uri, kt_storage_count_cb cb, void *data, char *err,
                                   size_t errcap);
/* Lists the direct children of the folder uri (`kestra:///` is the root), sorted by name, `*.metadata` and the
 * backend's own files hidden. entries (n of them) are borrowed for the callback; metadata is not loaded (NULL).
 * KT_ENOTFOUND when the folder does not exist, KT_EINVAL when it is a file. */
typedef void (*kt_storage_list_cb)(kt_status st, const kt_storage_attrs *entries, size_t n, const char *err,
                                   void *data);
kt_status kt_storage_list(kt_storage *s, const char *uri, kt_storage_list_cb cb, void *data, char *err,
                          size_t errcap);
/* Makes the folder uri and its missing parents (Kestra's createDirectory); an existing folder is KT_OK, and so is
 * an existing file under that name (Kestra's mkdirs then does nothing either). KT_ECONFLICT when a file stands where
 * a parent folder is needed. */
kt_status kt_storage_mkdir(kt_storage *s, const char *uri, kt_storage_done_cb cb, void *data, char *err,
                           size_t errcap);
/* Renames the file or folder `from` to `to` in one step (Kestra's move, ATOMIC_MOVE: local rename(2)), a file's
 * metadata side file with it. to's parent folder must exist (KT_ENOTFOUND otherwise, as for a missing from); an
 * existing file at `to` is replaced, a non-empty folder there is KT_ECONFLICT. from and to must differ and
 * neither may be the root nor lie under the other (KT_EINVAL). */
kt_status kt_storage_move(kt_storage *s, const char *from, const char *to, kt_storage_done_cb cb, void *data,
                          char *err, size_t errcap);

/* Synchronous and bounded: for the expression functions read(), fileSize() and isFileEmpty(), which Pebble evaluates
 * in the middle of a render (Kestra's read() blocks its thread the same way). Reads the whole file into *out
 * (malloc'd, NUL-terminated, *len bytes) when it holds at most max bytes, KT_EINVAL with a message saying the size
 * otherwise; with out == NULL only *size is filled (size may be NULL otherwise). Blocks the calling thread for one
 * file read (local) or one HTTP request (S3), so nothing else may use it: every other caller streams. Statuses as
 * above (KT_ENOTFOUND for a missing file, KT_EINVAL for a folder or a refused URI). */
kt_status kt_storage_read_small(kt_storage *s, const char *uri, size_t max, char **out, size_t *len, int64_t *size,
                                char *err, size_t errcap);

/* kt_storage_read_small with the file's metadata (the side file's object, NULL when it has none) in *meta, read in
 * the same call: what the kv() function needs to check an entry's expirationDate; and its modification time in
 * *modified_ms (may be NULL), as kt_storage_attrs has it (for kt_storage_delete_if). out is required here. */
kt_status kt_storage_read_small_meta(kt_storage *s, const char *uri, size_t max, char **out, size_t *len,
                                     json_t **meta, int64_t *modified_ms, char *err, size_t errcap);

#endif
