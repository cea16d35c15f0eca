/* The inside of store/storage.h, shared by the dispatch (storage.c) and the backends (storage_local.c, S3 next).
 *
 * storage.c checks every URI (kt_suri_path), refuses calls once the storage is closing, counts what is alive
 * (busy) and runs the readers' and writers' state machines: one operation in flight at a time, an owner that
 * closes or aborts during an operation gets no callback, a failed writer only aborts. A backend sees checked
 * paths only ("a/b.txt": no scheme, no leading '/', no `..`, no `.metadata` suffix, no trailing '/' for files;
 * "" is the root), and does the I/O without blocking the loop.
 *
 * Each backend operation completes exactly once, later, on the loop thread, by calling the kt_storage__* function
 * named next to it. Readers and writers are allocated by storage.c with the backend's size (reader_size,
 * writer_size), the generic struct first, so a backend casts to its own struct. */
#ifndef KT_STORE_STORAGE_INT_H
#define KT_STORE_STORAGE_INT_H

#include "store/storage.h"

#define KT_STORAGE_ERR_MAX 512

typedef struct kt_storage_ops {
    const char *name;
    size_t reader_size;
    size_t writer_size;
    /* -> kt_storage__reader_opened. */
    void (*reader_open)(kt_storage_reader *r, const char *path);
    /* The next chunk -> kt_storage__reader_got. */
    void (*reader_read)(kt_storage_reader *r);
    /* Frees the backend's resources (also for a reader whose open failed) -> kt_storage__reader_gone. */
    void (*reader_close)(kt_storage_reader *r);
    /* Prepares the temporary object (metadata_json: the side file's text or NULL, owned by the backend from here)
     * -> kt_storage__writer_opened. */
    void (*writer_open)(kt_storage_writer *w, const char *path, char *metadata_json);
    /* Appends the whole chunk -> kt_storage__writer_wrote. */
    void (*writer_write)(kt_storage_writer *w, const void *chunk, size_t len);
    /* Publishes, or on failure removes the temporary data; either way releases everything
     * -> kt_storage__writer_committed. */
    void (*writer_commit)(kt_storage_writer *w);
    /* Removes the temporary data and releases everything (also after a failed open) -> kt_storage__writer_gone. */
    void (*writer_abort)(kt_storage_writer *w);
    /* One-shot calls: the backend runs the callback itself, then calls kt_storage__unbusy (the last touch of s). */
    void (*stat)(kt_storage *s, const char *path, kt_storage_stat_cb cb, void *data);
    void (*remove)(kt_storage *s, const char *path, kt_storage_done_cb cb, void *data);
    /* kt_storage_delete_if: meta (a copy, NULL: none) is the backend's from here. */
    void (*remove_if)(kt_storage *s, const char *path, json_t *meta, int64_t modified_ms, kt_storage_done_cb cb,
                      void *data);
    void (*remove_prefix)(kt_storage *s, const char *path, kt_storage_count_cb cb, void *data);
    void (*list)(kt_storage *s, const char *path, kt_storage_list_cb cb, void *data);
    void (*mkdir)(kt_storage *s, const char *path, kt_storage_done_cb cb, void *data);
    void (*move)(kt_storage *s, const char *from, const char *to, kt_storage_done_cb cb, void *data);
    /* Synchronous (kt_storage_read_small): blocks the caller, runs no callback, touches no busy count. */
    kt_status (*read_small)(kt_storage *s, const char *path, size_t max, char **out, size_t *len, int64_t *size,
                            json_t **meta, int64_t *modified_ms, char *err, size_t errcap);
    /* Frees the backend (nothing is alive any more). */
    void (*destroy)(kt_storage *s);
} kt_storage_ops;

struct kt_storage {
    const kt_storage_ops *ops;
    uv_loop_t *loop;
    size_t busy; /* one-shot calls in flight + readers + writers */
    int closing;
    kt_storage_close_cb close_cb;
    void *close_data;
    uv_work_t close_work;
};

struct kt_storage_reader {
    kt_storage *s;
    kt_storage_open_cb open_cb;
    void *open_data;
    kt_storage_read_cb read_cb;
    void *read_data;
    unsigned opened : 1;   /* open_cb said KT_OK */
    unsigned pending : 1;  /* a backend operation is in flight */
    unsigned released : 1; /* the owner closed it (or its open failed): no callback any more */
    unsigned ending : 1;   /* inside the failed open's callback: the storage frees it after */
};

typedef enum kt_storage_stash { KT_STASH_NONE, KT_STASH_WRITE, KT_STASH_COMMIT } kt_storage_stash;

struct kt_storage_writer {
    kt_storage *s;
    kt_storage_done_cb cb; /* the write or commit waiting for its answer */
    void *data;
    const void *chunk;
    size_t len;
    kt_storage_stash stash; /* asked for while the open was in flight */
    unsigned pending : 1;
    unsigned released : 1;
    unsigned committing : 1;
    unsigned ending : 1;    /* inside the commit's callback: the storage frees it after */
    kt_status failed;       /* first failure (open or write): the writer only aborts after it */
    char *failed_err;
    uv_work_t defer;        /* delivers a stored failure on a later loop turn */
};

void kt_storage__init(kt_storage *s, const kt_storage_ops *ops, uv_loop_t *loop);
/* A one-shot call or a reader/writer is gone; frees the storage when it is closing and this was the last. */
void kt_storage__unbusy(kt_storage *s);
/* Two metadata objects are the same (both absent, or json_equal): kt_storage_delete_if's check. */
int kt_storage__same_meta(const json_t *a, const json_t *b);

void kt_storage__reader_opened(kt_storage_reader *r, kt_status st, const kt_storage_attrs *attrs, const char *err);
void kt_storage__reader_got(kt_storage_reader *r, kt_status st, const char *chunk, size_t len, const char *err);
void kt_storage__reader_gone(kt_storage_reader *r);
void kt_storage__writer_opened(kt_storage_writer *w, kt_status st, const char *err);
void kt_storage__writer_wrote(kt_storage_writer *w, kt_status st, const char *err);
void kt_storage__writer_committed(kt_storage_writer *w, kt_status st, const char *err);
void kt_storage__writer_gone(kt_storage_writer *w);

#endif
