/* The storage tests' fixture (tests/unit/store/test_storage*.c): a fresh /tmp folder and a storage on its own loop
 * per test (setup/teardown; teardown closes the storage and checks the loop closes with nothing left), and
 * synchronous helpers that start a call, run the loop, and return what the one callback said (res).
 *
 * The backend is the local one, or S3 when the test binary runs with the argument "s3" (fx_main): then each test
 * gets its own key prefix in the bucket "kite" of the S3 server tests/s3/start.sh started (its endpoint in
 * KITE_TEST_S3_ENDPOINT, else in the file that script writes). No server is a failure, unless KITE_TEST_NO_S3=1
 * says to skip (exit 77, which CTest reports as skipped). */
#ifndef KT_TEST_STORAGE_FIXTURE_H
#define KT_TEST_STORAGE_FIXTURE_H

#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/storage.h"
#include "tests/s3/s3_endpoint.h"

typedef struct fx {
    int local;     /* the local backend (else S3) */
    char prefix[64]; /* S3: this test's key prefix */
    char root[64]; /* mkdtemp */
    char base[128]; /* root/storage */
    uv_loop_t loop;
    kt_storage *s;
    int closed;
} fx;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void on_closed(void *data)
{
    ((fx *)data)->closed++;
}

static int fx_s3;               /* the backend under test is S3 */
static char fx_endpoint[256];   /* its endpoint */

#ifndef KITE_S3_ENDPOINT_FILE
#define KITE_S3_ENDPOINT_FILE ""
#endif

/* Finds the S3 server: 0 ready, 77 skip, 1 missing (tests/s3/s3_endpoint.h). */
static int fx_s3_find(void) { return kt_test_s3_endpoint(fx_endpoint, sizeof fx_endpoint); }

static kt_status fx_s3_open(fx *f, size_t part_size, kt_storage **out, char *err, size_t cap)
{
    kt_storage_s3_config c = {.endpoint = fx_endpoint, .region = "us-east-1", .bucket = "kite",
                              .access_key = "S3RVER", .secret_key = "S3RVER", .prefix = f->prefix,
                              .part_size = part_size};
    return kt_storage_s3_open(&f->loop, &c, out, err, cap);
}

static int setup(void **state)
{
    static int seq;
    fx *f = calloc(1, sizeof *f);
    f->local = !fx_s3;
    snprintf(f->root, sizeof f->root, "/tmp/kite-test-storage-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    snprintf(f->base, sizeof f->base, "%s/storage", f->root);
    snprintf(f->prefix, sizeof f->prefix, "t%ld-%d-%s", (long)getpid(), ++seq, f->root + 22);
    uv_loop_init(&f->loop);
    char err[256];
    /* S3: parts of 5 MiB (S3's smallest), so the big test goes through a multipart upload */
    kt_status st = f->local ? kt_storage_local_open(&f->loop, f->base, &f->s, err, sizeof err)
                            : fx_s3_open(f, 5u << 20, &f->s, err, sizeof err);
    if (st) {
        fprintf(stderr, "storage: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f->s && !f->closed)
        kt_storage_close(f->s, on_closed, f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(f->closed, 1);
    assert_int_equal(uv_loop_close(&f->loop), 0); /* nothing of the storage's is left on the loop */
    nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---- synchronous helpers: start, run the loop, return what the callback said ---- */

typedef struct res {
    int calls;
    kt_status st;
    char err[512];
    size_t count;
    int exists;
    kt_storage_attrs attrs;
    char names[16][64];
    int types[16];
    size_t n;
    unsigned char *data; /* read_all */
    size_t len, max_chunk;
} res;

static void done_cb(kt_status st, const char *err, void *data)
{
    res *r = data;
    r->calls++;
    r->st = st;
    snprintf(r->err, sizeof r->err, "%s", err);
}

static kt_status run(fx *f, kt_status started, res *r)
{
    if (started)
        return started;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(r->calls, 1);
    return r->st;
}

/* Writes len bytes of data in chunks of at most chunk bytes through a writer, then commits. */
static kt_status put_bytes(fx *f, const char *uri, const void *data, size_t len, size_t chunk, const json_t *meta)
{
    kt_storage_writer *w;
    char err[512];
    kt_status st = kt_storage_writer_open(f->s, uri, meta, &w, err, sizeof err);
    if (st)
        return st;
    for (size_t off = 0; off < len || off == 0; off += chunk) {
        res r = {0};
        size_t n = len - off < chunk ? len - off : chunk;
        st = run(f, kt_storage_write(w, (const char *)data + off, n, done_cb, &r), &r);
        if (st) {
            kt_storage_writer_abort(w);
            uv_run(&f->loop, UV_RUN_DEFAULT);
            return st;
        }
        if (len == 0)
            break;
    }
    res r = {0};
    st = run(f, kt_storage_writer_commit(w, done_cb, &r), &r);
    if (st)
        print_message("put %s: %s\n", uri, r.err); /* what the failure said, for the expected failures too */
    return st;
}

static void read_chunk_cb(kt_storage_reader *rd, kt_status st, const char *chunk, size_t len, const char *err,
                          void *data);

static void read_next(kt_storage_reader *rd, res *r)
{
    assert_int_equal(kt_storage_read(rd, read_chunk_cb, r), KT_OK);
}

static void read_chunk_cb(kt_storage_reader *rd, kt_status st, const char *chunk, size_t len, const char *err,
                          void *data)
{
    res *r = data;
    if (st || len == 0) {
        r->calls++;
        r->st = st;
        snprintf(r->err, sizeof r->err, "%s", err);
        kt_storage_reader_close(rd);
        return;
    }
    if (len > r->max_chunk)
        r->max_chunk = len;
    r->data = realloc(r->data, r->len + len + 1);
    memcpy(r->data + r->len, chunk, len);
    r->len += len;
    r->data[r->len] = 0;
    read_next(rd, r);
}

static void open_cb(kt_storage_reader *rd, kt_status st, const kt_storage_attrs *a, const char *err, void *data)
{
    res *r = data;
    if (st) {
        r->calls++;
        r->st = st;
        snprintf(r->err, sizeof r->err, "%s", err);
        return;
    }
    r->attrs.size = a->size;
    read_next(rd, r);
}

/* Reads uri whole into r->data (small files only). */
static kt_status read_all(fx *f, const char *uri, res *r)
{
    kt_storage_reader *rd;
    return run(f, kt_storage_reader_open(f->s, uri, open_cb, r, &rd, r->err, sizeof r->err), r);
}

static void stat_cb(kt_status st, const kt_storage_attrs *a, const char *err, void *data)
{
    res *r = data;
    r->calls++;
    r->st = st;
    snprintf(r->err, sizeof r->err, "%s", err);
    if (!st) {
        r->attrs = *a;
        r->attrs.name = strdup(a->name);
        r->attrs.metadata = json_incref(a->metadata);
    }
}

static void exists_cb(kt_status st, int exists, const char *err, void *data)
{
    res *r = data;
    r->calls++;
    r->st = st;
    r->exists = exists;
    (void)err;
}

static void count_cb(kt_status st, size_t count, const char *err, void *data)
{
    res *r = data;
    r->calls++;
    r->st = st;
    r->count = count;
    snprintf(r->err, sizeof r->err, "%s", err);
}

static void list_cb(kt_status st, const kt_storage_attrs *e, size_t n, const char *err, void *data)
{
    res *r = data;
    r->calls++;
    r->st = st;
    snprintf(r->err, sizeof r->err, "%s", err);
    for (size_t i = 0; i < n && i < 16; i++) {
        snprintf(r->names[i], sizeof r->names[i], "%s", e[i].name);
        r->types[i] = e[i].type;
    }
    r->n = n;
}

static int exists(fx *f, const char *uri)
{
    res r = {0};
    assert_int_equal(run(f, kt_storage_exists(f->s, uri, exists_cb, &r, r.err, sizeof r.err), &r), KT_OK);
    return r.exists;
}

/* Entries of the writers' temporary folder: 0 when every writer cleaned up after itself. */
static int tmp_entries(fx *f)
{
    char p[256];
    snprintf(p, sizeof p, "%s/.kite-tmp", f->base);
    DIR *d = opendir(p);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

/* Nothing left in the local writers' temporary folder (S3 has none: an aborted writer's multipart upload is
 * aborted, which the S3 tests check through the server's listing of uploads where it has one). */
static void assert_tmp(fx *f, int n)
{
    if (f->local)
        assert_int_equal(tmp_entries(f), n);
}

/* The test binary's main: argv[1] "s3" picks the S3 backend. */
static int fx_main(int argc, char **argv)
{
    fx_s3 = argc > 1 && !strcmp(argv[1], "s3");
    return fx_s3 ? fx_s3_find() : 0;
}

static void write_local(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

#endif
