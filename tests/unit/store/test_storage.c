/* The internal storage on a real loop, on the local backend (a real temporary folder) or on S3 (a real S3 server,
 * argv[1] "s3", storage_fixture.h): round trips (small, and 200 MB (S3: 48 MB, ten parts)
 * streamed in 64 KiB chunks with the memory staying flat), concurrency, aborts, prefix deletion, listings, refused
 * URIs and symlinks, missing files, closing while things run. Each test runs the loop until the storage has
 * nothing in flight, so a callback that never comes shows as a wrong count, and one that comes twice as well. */
#include "tests/unit/store/storage_fixture.h"

/* A small file with metadata comes back byte for byte, with its size and metadata; an empty file too. Fails if a
 * chunk is lost or repeated, or the side file is not written or read. */
static void test_round_trip_small(void **state)
{
    fx *f = *state;
    json_t *meta = json_pack("{s:s}", "contentType", "text/plain");
    assert_int_equal(put_bytes(f, "kestra:///company/team/flow/a.txt", "hello storage", 13, 4, meta), KT_OK);
    json_decref(meta);
    json_t *bad = json_pack("{s:i}", "size", 3); /* metadata values are strings, as Kestra's Map<String, String> */
    kt_storage_writer *w = NULL;
    char err[256];
    assert_int_equal(kt_storage_writer_open(f->s, "kestra:///company/b.txt", bad, &w, err, sizeof err), KT_EINVAL);
    assert_null(w);
    json_decref(bad);
    res r = {0};
    assert_int_equal(read_all(f, "kestra:///company/team/flow/a.txt", &r), KT_OK);
    assert_int_equal(r.len, 13);
    assert_int_equal(r.attrs.size, 13);
    assert_memory_equal(r.data, "hello storage", 13);
    free(r.data);

    res s = {0};
    assert_int_equal(run(f, kt_storage_stat(f->s, "kestra:///company/team/flow/a.txt", stat_cb, &s, s.err,
                                            sizeof s.err), &s), KT_OK);
    assert_string_equal(s.attrs.name, "a.txt");
    assert_int_equal(s.attrs.type, KT_STORAGE_FILE);
    assert_int_equal(s.attrs.size, 13);
    assert_true(s.attrs.modified_ms > 1600000000000LL && s.attrs.created_ms > 1600000000000LL);
    assert_string_equal(json_string_value(json_object_get(s.attrs.metadata, "contentType")), "text/plain");
    kt_storage_attrs_clear(&s.attrs);

    assert_int_equal(put_bytes(f, "kestra:///company/empty.txt", "", 0, 1, NULL), KT_OK);
    res e = {0};
    assert_int_equal(read_all(f, "kestra:///company/empty.txt", &e), KT_OK);
    assert_int_equal(e.len, 0);
    assert_int_equal(exists(f, "kestra:///company/empty.txt"), 1);
    assert_int_equal(exists(f, "kestra:///company/team/"), 1);
    assert_tmp(f, 0);
}

/* Deterministic bytes for the big file, generated and checked chunk by chunk (never held whole). */
static uint64_t big_next(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

static void big_fill(uint64_t *x, unsigned char *buf, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = big_next(x);
        memcpy(buf + i, &v, n - i < 8 ? n - i : 8);
    }
}

/* The big file's size: 200 MB on disk; 48 MB on S3 (ten 5 MiB parts of a multipart upload), where every byte
 * crosses a local HTTP server in JavaScript four times. */
static size_t big_total(const fx *f)
{
    return f->local ? 200 * 1000 * 1000 : 48 * 1000 * 1000;
}

typedef struct big_check {
    size_t want;
    uint64_t x;
    size_t len, max_chunk, mismatches;
    int done;
    kt_status st;
} big_check;

static void big_read_cb(kt_storage_reader *rd, kt_status st, const char *chunk, size_t len, const char *err,
                        void *data)
{
    big_check *c = data;
    (void)err;
    if (st || len == 0) {
        c->st = st;
        c->done++;
        kt_storage_reader_close(rd);
        return;
    }
    /* The generator runs in 8-byte steps and every chunk but the last is a multiple of 8. */
    assert_true(len % 8 == 0 || len < KT_STORAGE_CHUNK);
    static unsigned char want[KT_STORAGE_CHUNK];
    big_fill(&c->x, want, len);
    c->mismatches += memcmp(want, chunk, len) != 0;
    c->len += len;
    if (len > c->max_chunk)
        c->max_chunk = len;
    assert_int_equal(kt_storage_read(rd, big_read_cb, c), KT_OK);
}

static void big_open_cb(kt_storage_reader *rd, kt_status st, const kt_storage_attrs *a, const char *err, void *data)
{
    big_check *c = data;
    assert_int_equal(st, KT_OK);
    assert_int_equal(a->size, c->want);
    assert_int_equal(kt_storage_read(rd, big_read_cb, c), KT_OK);
}

static void big_verify(fx *f, const char *uri)
{
    big_check c = {.want = big_total(f), .x = 88172645463325252ULL};
    kt_storage_reader *rd;
    char err[256];
    assert_int_equal(kt_storage_reader_open(f->s, uri, big_open_cb, &c, &rd, err, sizeof err), KT_OK);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(c.done, 1);
    assert_int_equal(c.st, KT_OK);
    assert_int_equal(c.len, c.want);
    assert_int_equal(c.mismatches, 0);
    assert_true(c.max_chunk <= KT_STORAGE_CHUNK);
}

static long rss_max_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* 200 MB written through a writer in 64 KiB chunks, read back through a reader, then out to a local file with
 * get_file and in again with put_file, checked byte for byte each time. The chunks handed out never exceed
 * KT_STORAGE_CHUNK and the process's peak RSS grows by less than 24 MiB: an implementation that gathers the file
 * (or queues chunks without back-pressure) grows it by 200 MB and fails here, whatever the machine's speed. */
static void test_big_streamed_flat(void **state)
{
    fx *f = *state;
    const size_t total = big_total(f);
    long rss0 = rss_max_kib();
    kt_storage_writer *w;
    char err[256];
    assert_int_equal(kt_storage_writer_open(f->s, "kestra:///big/data.bin", NULL, &w, err, sizeof err), KT_OK);
    static unsigned char buf[KT_STORAGE_CHUNK];
    uint64_t x = 88172645463325252ULL;
    for (size_t off = 0; off < total; off += sizeof buf) {
        size_t n = total - off < sizeof buf ? total - off : sizeof buf;
        big_fill(&x, buf, n);
        res r = {0};
        assert_int_equal(run(f, kt_storage_write(w, buf, n, done_cb, &r), &r), KT_OK);
    }
    res c = {0};
    assert_int_equal(run(f, kt_storage_writer_commit(w, done_cb, &c), &c), KT_OK);
    big_verify(f, "kestra:///big/data.bin");

    char local[256];
    snprintf(local, sizeof local, "%s/local.bin", f->root);
    res g = {0};
    assert_int_equal(run(f, kt_storage_get_file(f->s, "kestra:///big/data.bin", local, done_cb, &g, err, sizeof err),
                         &g), KT_OK);
    struct stat sb;
    assert_int_equal(stat(local, &sb), 0);
    assert_int_equal(sb.st_size, (off_t)total);
    res p = {0};
    assert_int_equal(run(f, kt_storage_put_file(f->s, "kestra:///big/copy.bin", local, NULL, done_cb, &p, err,
                                                sizeof err), &p), KT_OK);
    unlink(local);
    big_verify(f, "kestra:///big/copy.bin");
    long grown_kib = rss_max_kib() - rss0;
    print_message("%zu MB x4 streamed (%s): peak RSS grew by %ld KiB\n", total / 1000000, kt_storage_backend(f->s),
                  grown_kib);
    /* S3: plus the two 5 MiB part buffers of the two writers (ASan's quarantine keeps the first one's memory),
     * still far below the 48 MB file */
    assert_true(grown_kib < 24 * 1024 + (f->local ? 0 : 2 * 5 * 1024));
    assert_tmp(f, 0);
}

/* Eight writers and eight readers in flight at once on the thread pool, plus a writer replacing the file being
 * read: each writer's file holds its own bytes, each reader sees the whole old file (the replacement is a rename,
 * so a reader never sees half of one), and the new content is there afterwards. */
typedef struct conc_writer {
    kt_storage_writer *w;
    char fill;
    int chunks_left;
    char buf[KT_STORAGE_CHUNK];
    int committed;
} conc_writer;

static void conc_write_next(conc_writer *cw);

static void conc_committed(kt_status st, const char *err, void *data)
{
    assert_int_equal(st, KT_OK);
    ((conc_writer *)data)->committed = 1;
    (void)err;
}

static void conc_wrote(kt_status st, const char *err, void *data)
{
    assert_int_equal(st, KT_OK);
    (void)err;
    conc_write_next(data);
}

static void conc_write_next(conc_writer *cw)
{
    if (cw->chunks_left-- == 0) {
        assert_int_equal(kt_storage_writer_commit(cw->w, conc_committed, cw), KT_OK);
        return;
    }
    memset(cw->buf, cw->fill, sizeof cw->buf);
    assert_int_equal(kt_storage_write(cw->w, cw->buf, sizeof cw->buf, conc_wrote, cw), KT_OK);
}

static void test_concurrent(void **state)
{
    fx *f = *state;
    static char old[300000];
    memset(old, 'o', sizeof old);
    assert_int_equal(put_bytes(f, "kestra:///ns/shared.txt", old, sizeof old, 7000, NULL), KT_OK);

    static conc_writer ws[9];
    static res rs[8];
    char uri[64], err[256];
    for (int i = 0; i < 9; i++) {
        snprintf(uri, sizeof uri, i < 8 ? "kestra:///ns/w%d.bin" : "kestra:///ns/shared.txt", i);
        ws[i] = (conc_writer){.fill = (char)('a' + i), .chunks_left = 16};
        assert_int_equal(kt_storage_writer_open(f->s, uri, NULL, &ws[i].w, err, sizeof err), KT_OK);
    }
    for (int i = 0; i < 8; i++) {
        kt_storage_reader *rd;
        memset(&rs[i], 0, sizeof rs[i]);
        assert_int_equal(kt_storage_reader_open(f->s, "kestra:///ns/shared.txt", open_cb, &rs[i], &rd, err,
                                                sizeof err), KT_OK);
    }
    for (int i = 0; i < 9; i++)
        conc_write_next(&ws[i]);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(rs[i].calls, 1);
        assert_int_equal(rs[i].st, KT_OK);
        /* opened before the replacement committed: the old file, whole */
        assert_int_equal(rs[i].len, sizeof old);
        assert_memory_equal(rs[i].data, old, sizeof old);
        free(rs[i].data);
    }
    for (int i = 0; i < 9; i++) {
        assert_int_equal(ws[i].committed, 1);
        snprintf(uri, sizeof uri, i < 8 ? "kestra:///ns/w%d.bin" : "kestra:///ns/shared.txt", i);
        res r = {0};
        assert_int_equal(read_all(f, uri, &r), KT_OK);
        assert_int_equal(r.len, 16 * KT_STORAGE_CHUNK);
        for (size_t k = 0; k < r.len; k++)
            if (r.data[k] != 'a' + i)
                fail_msg("%s: byte %zu is %c", uri, k, r.data[k]);
        free(r.data);
    }
    assert_tmp(f, 0);
}

/* Aborts at every point (before the temporary file exists, during a write, between writes) and a commit that
 * fails (a folder in the way) leave nothing: no file, no folder, no temporary file. Fails if the abort only
 * forgets the writer or the failed commit keeps its temporary file. */
static void test_abort_leaves_nothing(void **state)
{
    fx *f = *state;
    char err[256];
    kt_storage_writer *w1, *w2, *w3;
    assert_int_equal(kt_storage_writer_open(f->s, "kestra:///ab/one/x.txt", NULL, &w1, err, sizeof err), KT_OK);
    kt_storage_writer_abort(w1); /* its open is still in flight */

    res r2 = {0};
    assert_int_equal(kt_storage_writer_open(f->s, "kestra:///ab/two/x.txt", NULL, &w2, err, sizeof err), KT_OK);
    assert_int_equal(kt_storage_write(w2, "data", 4, done_cb, &r2), KT_OK);
    kt_storage_writer_abort(w2); /* during its first write */

    assert_int_equal(kt_storage_writer_open(f->s, "kestra:///ab/three/x.txt", NULL, &w3, err, sizeof err), KT_OK);
    res r3 = {0};
    assert_int_equal(run(f, kt_storage_write(w3, "data", 4, done_cb, &r3), &r3), KT_OK);
    assert_tmp(f, 1); /* the temporary file exists while writing */
    kt_storage_writer_abort(w3);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(r2.calls, 0); /* an aborted writer gets no callback */

    assert_int_equal(exists(f, "kestra:///ab/"), 0);
    assert_tmp(f, 0);

    /* a folder where the file should go: the commit fails and cleans up */
    assert_int_equal(put_bytes(f, "kestra:///ab/dir/inner.txt", "x", 1, 1, NULL), KT_OK);
    assert_int_equal(put_bytes(f, "kestra:///ab/dir", "y", 1, 1, NULL), KT_ECONFLICT);
    assert_tmp(f, 0);
}

/* A writer whose temporary file cannot be made (the temporary folder was removed under the storage) answers
 * KT_EIO to its first write, whether that write was asked before or after the failure was known, then to every
 * call, and its commit still frees it (ASan's leak check runs over this binary). Fails if the failure is lost
 * (a write answering KT_OK) or a callback runs inside the call. */
static void test_writer_failure(void **state)
{
    fx *f = *state;
    char p[256], err[256];
    snprintf(p, sizeof p, "%s/.kite-tmp", f->base);
    assert_int_equal(rmdir(p), 0);
    kt_storage_writer *w1, *w2;
    res a = {0}, b = {0}, c = {0}, d = {0};
    assert_int_equal(kt_storage_writer_open(f->s, "kestra:///wf/a.txt", NULL, &w1, err, sizeof err), KT_OK);
    assert_int_equal(kt_storage_write(w1, "x", 1, done_cb, &a), KT_OK); /* stashed behind the open */
    assert_int_equal(kt_storage_writer_open(f->s, "kestra:///wf/b.txt", NULL, &w2, err, sizeof err), KT_OK);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.st, KT_EIO);
    assert_non_null(strstr(a.err, "kestra:///wf/a.txt"));
    assert_int_equal(kt_storage_write(w2, "x", 1, done_cb, &b), KT_OK); /* the open failed already */
    assert_int_equal(b.calls, 0);
    assert_int_equal(run(f, KT_OK, &b), KT_EIO);
    assert_int_equal(run(f, kt_storage_writer_commit(w1, done_cb, &c), &c), KT_EIO);
    assert_int_equal(run(f, kt_storage_writer_commit(w2, done_cb, &d), &d), KT_EIO);
    assert_int_equal(exists(f, "kestra:///wf/"), 0);
}

/* An execution's files (with metadata) go with its prefix; a sibling execution stays; an absent prefix counts 0.
 * Fails if the walk stops at the first folder, counts side files, or deletes beside the prefix. */
static void test_delete_prefix(void **state)
{
    fx *f = *state;
    json_t *meta = json_pack("{s:s}", "k", "v");
    const char *exec = "kestra:///co/team/flow/executions/E1";
    assert_int_equal(put_bytes(f, "kestra:///co/team/flow/executions/E1/tasks/t1/R1/out.csv", "a", 1, 1, meta), 0);
    assert_int_equal(put_bytes(f, "kestra:///co/team/flow/executions/E1/tasks/t2/R2/o.txt", "b", 1, 1, NULL), 0);
    assert_int_equal(put_bytes(f, "kestra:///co/team/flow/executions/E1/inputs/f/file.upl", "c", 1, 1, NULL), 0);
    assert_int_equal(put_bytes(f, "kestra:///co/team/flow/executions/E10/inputs/f/file.upl", "d", 1, 1, NULL), 0);
    json_decref(meta);
    res r = {0};
    char err[256];
    assert_int_equal(run(f, kt_storage_delete_prefix(f->s, exec, count_cb, &r, err, sizeof err), &r), KT_OK);
    assert_int_equal(r.count, 3);
    assert_int_equal(exists(f, exec), 0);
    assert_int_equal(exists(f, "kestra:///co/team/flow/executions/E10/inputs/f/file.upl"), 1);
    res again = {0};
    assert_int_equal(run(f, kt_storage_delete_prefix(f->s, exec, count_cb, &again, err, sizeof err), &again), 0);
    assert_int_equal(again.count, 0);

    res one = {0}, missing = {0};
    assert_int_equal(run(f, kt_storage_delete(f->s, "kestra:///co/team/flow/executions/E10/inputs/f/file.upl",
                                              done_cb, &one, err, sizeof err), &one), KT_OK);
    assert_int_equal(run(f, kt_storage_delete(f->s, "kestra:///co/team/flow/executions/E10/inputs/f/file.upl",
                                              done_cb, &missing, err, sizeof err), &missing), KT_ENOTFOUND);
}

/* A listing is sorted, typed, and hides the `.metadata` side files (and the root's temporary folder); a file or a
 * missing folder is not listable. Fails if a side file shows up, as Kestra never shows one. */
static void test_list_hides_metadata(void **state)
{
    fx *f = *state;
    json_t *meta = json_pack("{s:s}", "k", "v");
    assert_int_equal(put_bytes(f, "kestra:///ls/b.txt", "bb", 2, 2, meta), KT_OK);
    assert_int_equal(put_bytes(f, "kestra:///ls/a.txt", "a", 1, 1, meta), KT_OK);
    assert_int_equal(put_bytes(f, "kestra:///ls/sub/c.txt", "c", 1, 1, NULL), KT_OK);
    json_decref(meta);
    if (f->local) { /* S3 keeps metadata in the object's headers: test_storage_s3 plants a side object instead */
        char side[256];
        snprintf(side, sizeof side, "%s/ls/a.txt.metadata", f->base);
        assert_int_equal(access(side, F_OK), 0); /* the side file is there, just not listed */
    }
    res r = {0};
    char err[256];
    assert_int_equal(run(f, kt_storage_list(f->s, "kestra:///ls/", list_cb, &r, err, sizeof err), &r), KT_OK);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.names[0], "a.txt");
    assert_string_equal(r.names[1], "b.txt");
    assert_string_equal(r.names[2], "sub");
    assert_int_equal(r.types[0], KT_STORAGE_FILE);
    assert_int_equal(r.types[2], KT_STORAGE_DIRECTORY);
    res root = {0};
    assert_int_equal(run(f, kt_storage_list(f->s, "kestra:///", list_cb, &root, err, sizeof err), &root), KT_OK);
    assert_int_equal(root.n, 1);
    assert_string_equal(root.names[0], "ls");
    res file = {0}, none = {0};
    assert_int_equal(run(f, kt_storage_list(f->s, "kestra:///ls/a.txt", list_cb, &file, err, sizeof err), &file),
                     KT_EINVAL);
    assert_int_equal(run(f, kt_storage_list(f->s, "kestra:///nope/", list_cb, &none, err, sizeof err), &none),
                     KT_ENOTFOUND);
}

/* Every call refuses a traversal or a foreign URI before any I/O, synchronously, and never runs its callback.
 * Fails if a backend sees such a path (the callback would run, or a file appear outside the base). */
static void test_traversal_refused(void **state)
{
    fx *f = *state;
    static const char *bad[] = {
        "kestra:///a/../../etc/passwd", "kestra:///../x", "kestra:///a/%2e%2e/%2e%2e/x", "kestra:///a/%2E%2E/x",
        "kestra:///a/..%2fb", "kestra:///a\\..\\b", "file:///etc/passwd", "/etc/passwd", "kestra://host/a",
        "kestra:///a//b", "kestra:///./a", "kestra:///a/%00b", "kestra:///.kite-tmp/w-x", "kestra:///a.txt.metadata",
    };
    char err[256], local[256];
    snprintf(local, sizeof local, "%s/local.txt", f->root);
    write_local(local, "x");
    res r = {0};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kt_storage_reader *rd = NULL;
        kt_storage_writer *w = NULL;
        const char *u = bad[i];
        err[0] = 0;
        assert_int_equal(kt_storage_reader_open(f->s, u, open_cb, &r, &rd, err, sizeof err), KT_EINVAL);
        assert_true(err[0]);
        assert_int_equal(kt_storage_writer_open(f->s, u, NULL, &w, err, sizeof err), KT_EINVAL);
        assert_int_equal(kt_storage_stat(f->s, u, stat_cb, &r, err, sizeof err), KT_EINVAL);
        assert_int_equal(kt_storage_exists(f->s, u, exists_cb, &r, err, sizeof err), KT_EINVAL);
        assert_int_equal(kt_storage_delete(f->s, u, done_cb, &r, err, sizeof err), KT_EINVAL);
        assert_int_equal(kt_storage_delete_prefix(f->s, u, count_cb, &r, err, sizeof err), KT_EINVAL);
        assert_int_equal(kt_storage_list(f->s, u, list_cb, &r, err, sizeof err), KT_EINVAL);
        assert_int_equal(kt_storage_put_file(f->s, u, local, NULL, done_cb, &r, err, sizeof err), KT_EINVAL);
        assert_int_equal(kt_storage_get_file(f->s, u, local, done_cb, &r, err, sizeof err), KT_EINVAL);
        assert_null(rd);
        assert_null(w);
    }
    /* a file URI that names a folder, and the root, are refused where a file is expected */
    kt_storage_reader *rd = NULL;
    assert_int_equal(kt_storage_reader_open(f->s, "kestra:///a/", open_cb, &r, &rd, err, sizeof err), KT_EINVAL);
    assert_int_equal(kt_storage_delete_prefix(f->s, "kestra:///", count_cb, &r, err, sizeof err), KT_EINVAL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(r.calls, 0);
}

/* Symlinks planted in the storage never lead out of it: reading through a linked folder or a linked file, writing
 * through a linked folder, listing one and stat are refused (KT_EINVAL); deleting the prefix removes the link and
 * leaves its target alone. Fails if any path is resolved by the kernel with links followed. */
static void test_symlink_escape_refused(void **state)
{
    fx *f = *state;
    char outside[256], p[512], err[256];
    snprintf(outside, sizeof outside, "%s/outside", f->root);
    mkdir(outside, 0755);
    snprintf(p, sizeof p, "%s/secret.txt", outside);
    write_local(p, "secret");
    assert_int_equal(put_bytes(f, "kestra:///ln/keep.txt", "k", 1, 1, NULL), KT_OK);
    snprintf(p, sizeof p, "%s/ln/dir", f->base);
    assert_int_equal(symlink(outside, p), 0);
    snprintf(p, sizeof p, "%s/ln/file.txt", f->base);
    char target[512];
    snprintf(target, sizeof target, "%s/secret.txt", outside);
    assert_int_equal(symlink(target, p), 0);

    res a = {0}, b = {0}, c = {0}, d = {0}, e = {0};
    assert_int_equal(read_all(f, "kestra:///ln/dir/secret.txt", &a), KT_EINVAL);
    assert_null(a.data);
    assert_int_equal(read_all(f, "kestra:///ln/file.txt", &b), KT_EINVAL);
    assert_null(b.data);
    assert_int_equal(put_bytes(f, "kestra:///ln/dir/new.txt", "n", 1, 1, NULL), KT_EINVAL);
    snprintf(p, sizeof p, "%s/new.txt", outside);
    assert_int_equal(access(p, F_OK), -1);
    assert_int_equal(run(f, kt_storage_list(f->s, "kestra:///ln/dir", list_cb, &c, err, sizeof err), &c), KT_EINVAL);
    assert_int_equal(run(f, kt_storage_stat(f->s, "kestra:///ln/file.txt", stat_cb, &d, err, sizeof err), &d),
                     KT_EINVAL);
    res l = {0};
    assert_int_equal(run(f, kt_storage_list(f->s, "kestra:///ln", list_cb, &l, err, sizeof err), &l), KT_OK);
    assert_int_equal(l.n, 1); /* links are not storage entries */
    assert_string_equal(l.names[0], "keep.txt");
    assert_int_equal(run(f, kt_storage_delete_prefix(f->s, "kestra:///ln", count_cb, &e, err, sizeof err), &e),
                     KT_OK);
    assert_int_equal(e.count, 1); /* keep.txt; the links are removed, not counted, not followed */
    snprintf(p, sizeof p, "%s/secret.txt", outside);
    assert_int_equal(access(p, F_OK), 0);
    assert_int_equal(access(outside, F_OK), 0);
}

/* mkdir makes parents, an existing folder or file is fine, a file in the way of a parent is a conflict; move renames
 * a file with its side file (a replaced file's side file does not survive), a folder whole, and refuses a missing
 * source or target parent, the root, a folder into itself, and a symlink on the target's path. */
static void test_mkdir_move(void **state)
{
    fx *f = *state;
    char err[256], p[512];
    res a = {0}, b = {0}, c = {0}, d = {0};
    assert_int_equal(run(f, kt_storage_mkdir(f->s, "kestra:///ns/_files/a/b/c/", done_cb, &a, err, sizeof err), &a),
                     KT_OK);
    if (f->local) {
        snprintf(p, sizeof p, "%s/ns/_files/a/b/c", f->base);
        struct stat sb;
        assert_int_equal(stat(p, &sb), 0);
        assert_true(S_ISDIR(sb.st_mode));
    }
    assert_int_equal(exists(f, "kestra:///ns/_files/a/b/c"), 1);
    assert_int_equal(run(f, kt_storage_mkdir(f->s, "kestra:///ns/_files/a/b", done_cb, &b, err, sizeof err), &b),
                     KT_OK);
    assert_int_equal(put_bytes(f, "kestra:///ns/_files/file.txt", "f", 1, 1, NULL), KT_OK);
    assert_int_equal(run(f, kt_storage_mkdir(f->s, "kestra:///ns/_files/file.txt", done_cb, &c, err, sizeof err), &c),
                     KT_OK);
    assert_int_equal(run(f, kt_storage_mkdir(f->s, "kestra:///ns/_files/file.txt/sub", done_cb, &d, err, sizeof err),
                         &d), KT_ECONFLICT);

    json_t *meta = json_pack("{s:s}", "k", "v");
    assert_int_equal(put_bytes(f, "kestra:///ns/_files/a/m.txt", "meta", 4, 4, meta), KT_OK);
    json_decref(meta);
    res m = {0}, st = {0};
    assert_int_equal(run(f, kt_storage_move(f->s, "kestra:///ns/_files/a/m.txt", "kestra:///ns/_files/a/b/n.txt",
                                            done_cb, &m, err, sizeof err), &m), KT_OK);
    assert_int_equal(exists(f, "kestra:///ns/_files/a/m.txt"), 0);
    assert_int_equal(run(f, kt_storage_stat(f->s, "kestra:///ns/_files/a/b/n.txt", stat_cb, &st, err, sizeof err),
                         &st), KT_OK);
    assert_int_equal(st.attrs.size, 4);
    assert_string_equal(json_string_value(json_object_get(st.attrs.metadata, "k")), "v");
    kt_storage_attrs_clear(&st.attrs);
    snprintf(p, sizeof p, "%s/ns/_files/a/m.txt.metadata", f->base);
    assert_int_equal(access(p, F_OK), -1); /* (S3: the metadata went with the copy, checked by the stat above) */
    /* file.txt (no side file) replaces n.txt: n.txt's side file goes */
    res r = {0}, st2 = {0};
    assert_int_equal(run(f, kt_storage_move(f->s, "kestra:///ns/_files/file.txt", "kestra:///ns/_files/a/b/n.txt",
                                            done_cb, &r, err, sizeof err), &r), KT_OK);
    assert_int_equal(run(f, kt_storage_stat(f->s, "kestra:///ns/_files/a/b/n.txt", stat_cb, &st2, err, sizeof err),
                         &st2), KT_OK);
    assert_int_equal(st2.attrs.size, 1);
    assert_null(st2.attrs.metadata);
    kt_storage_attrs_clear(&st2.attrs);
    /* a folder, whole */
    res fo = {0};
    assert_int_equal(run(f, kt_storage_move(f->s, "kestra:///ns/_files/a/b", "kestra:///ns/_files/z", done_cb, &fo,
                                            err, sizeof err), &fo), KT_OK);
    assert_int_equal(exists(f, "kestra:///ns/_files/z/c"), 1);
    assert_int_equal(exists(f, "kestra:///ns/_files/z/n.txt"), 1);
    assert_int_equal(exists(f, "kestra:///ns/_files/a/b"), 0);

    res nf = {0}, np = {0}, full = {0};
    assert_int_equal(run(f, kt_storage_move(f->s, "kestra:///ns/_files/none", "kestra:///ns/_files/x", done_cb, &nf,
                                            err, sizeof err), &nf), KT_ENOTFOUND);
    assert_int_equal(run(f, kt_storage_move(f->s, "kestra:///ns/_files/z/n.txt", "kestra:///ns/_files/q/r/n.txt",
                                            done_cb, &np, err, sizeof err), &np), KT_ENOTFOUND);
    assert_int_equal(exists(f, "kestra:///ns/_files/z/n.txt"), 1);
    assert_int_equal(put_bytes(f, "kestra:///ns/_files/y/inside.txt", "i", 1, 1, NULL), KT_OK);
    assert_int_equal(run(f, kt_storage_move(f->s, "kestra:///ns/_files/z", "kestra:///ns/_files/y", done_cb, &full,
                                            err, sizeof err), &full), KT_ECONFLICT);
    assert_int_equal(kt_storage_move(f->s, "kestra:///ns/_files/z", "kestra:///ns/_files/z/c/in", done_cb, &full, err,
                                     sizeof err), KT_EINVAL);
    assert_int_equal(kt_storage_move(f->s, "kestra:///", "kestra:///x", done_cb, &full, err, sizeof err), KT_EINVAL);
    assert_int_equal(kt_storage_move(f->s, "kestra:///ns/_files/z/../../x", "kestra:///x", done_cb, &full, err,
                                     sizeof err), KT_EINVAL);

    if (!f->local)
        return; /* no symlinks in a bucket */
    /* a symlink on the target's path is never followed */
    char outside[256];
    snprintf(outside, sizeof outside, "%s/outside", f->root);
    mkdir(outside, 0755);
    snprintf(p, sizeof p, "%s/ns/_files/ln", f->base);
    assert_int_equal(symlink(outside, p), 0);
    res ln = {0}, lm = {0};
    assert_int_equal(run(f, kt_storage_move(f->s, "kestra:///ns/_files/z/n.txt", "kestra:///ns/_files/ln/n.txt",
                                            done_cb, &ln, err, sizeof err), &ln), KT_EINVAL);
    assert_int_equal(run(f, kt_storage_mkdir(f->s, "kestra:///ns/_files/ln/sub", done_cb, &lm, err, sizeof err), &lm),
                     KT_EINVAL);
    snprintf(p, sizeof p, "%s/n.txt", outside);
    assert_int_equal(access(p, F_OK), -1);
    snprintf(p, sizeof p, "%s/sub", outside);
    assert_int_equal(access(p, F_OK), -1);
}

static void close_in_open_cb(kt_storage_reader *rd, kt_status st, const kt_storage_attrs *a, const char *err,
                             void *data)
{
    (void)a, (void)err;
    ((res *)data)->calls++;
    ((res *)data)->st = st;
    kt_storage_reader_close(rd); /* allowed, and a no-op, after a failed open */
}

static void abort_in_commit_cb(kt_status st, const char *err, void *data)
{
    res *r = data;
    r->calls++;
    r->st = st;
    (void)err;
    kt_storage_writer_abort(*(kt_storage_writer **)r->data); /* the writer is being freed: a no-op */
}

/* A missing file is KT_ENOTFOUND everywhere (reader, stat, get_file, put_file of a missing local file) and
 * nothing is created by the failed copies; an owner closing the reader in its failed open's callback, or aborting
 * the writer in its commit's callback, changes nothing. */
static void test_unknown_not_found(void **state)
{
    fx *f = *state;
    char err[256], local[256], missing[256];
    snprintf(local, sizeof local, "%s/got.txt", f->root);
    snprintf(missing, sizeof missing, "%s/missing.txt", f->root);
    res a = {0}, b = {0}, c = {0}, d = {0};
    assert_int_equal(read_all(f, "kestra:///no/such/file.txt", &a), KT_ENOTFOUND);
    assert_non_null(strstr(a.err, "kestra:///no/such/file.txt"));
    assert_int_equal(run(f, kt_storage_stat(f->s, "kestra:///no/file.txt", stat_cb, &b, err, sizeof err), &b),
                     KT_ENOTFOUND);
    assert_int_equal(exists(f, "kestra:///no/file.txt"), 0);
    assert_int_equal(run(f, kt_storage_get_file(f->s, "kestra:///no/file.txt", local, done_cb, &c, err, sizeof err),
                         &c), KT_ENOTFOUND);
    assert_int_equal(access(local, F_OK), -1);
    assert_int_equal(run(f, kt_storage_put_file(f->s, "kestra:///no/put.txt", missing, NULL, done_cb, &d, err,
                                                sizeof err), &d), KT_ENOTFOUND);
    assert_int_equal(exists(f, "kestra:///no/put.txt"), 0);
    assert_tmp(f, 0);

    /* an owner that cleans up inside the last callback anyway does no harm (ASan would see a double free) */
    kt_storage_reader *rd;
    res e = {0}, g = {0};
    assert_int_equal(run(f, kt_storage_reader_open(f->s, "kestra:///no/x", close_in_open_cb, &e, &rd, err,
                                                   sizeof err), &e), KT_ENOTFOUND);
    kt_storage_writer *w;
    assert_int_equal(kt_storage_writer_open(f->s, "kestra:///no/w.txt", NULL, &w, err, sizeof err), KT_OK);
    g.data = (unsigned char *)&w;
    assert_int_equal(run(f, kt_storage_writer_commit(w, abort_in_commit_cb, &g), &g), KT_OK);
    g.data = NULL;
    assert_int_equal(exists(f, "kestra:///no/w.txt"), 1);
}

static void open_noop_cb(kt_storage_reader *rd, kt_status st, const kt_storage_attrs *a, const char *err, void *data)
{
    (void)rd, (void)a, (void)err;
    res *r = data;
    r->calls++;
    r->st = st;
}

/* Closing while a reader and a writer are open and a listing runs: the listing finishes with its own result, new
 * calls answer KT_ECLOSED, the open reader and writer answer KT_ECLOSED, the close callback waits for their owners
 * to let go, and the writer's temporary file is removed. A reader closed during a read gets no callback. */
static void test_close_while_running(void **state)
{
    fx *f = *state;
    char err[256];
    assert_int_equal(put_bytes(f, "kestra:///cl/a.txt", "abc", 3, 3, NULL), KT_OK);
    res o = {0};
    kt_storage_reader *rd, *rd2;
    assert_int_equal(kt_storage_reader_open(f->s, "kestra:///cl/a.txt", open_noop_cb, &o, &rd, err, sizeof err),
                     KT_OK);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    kt_storage_writer *w;
    res wr = {0};
    assert_int_equal(kt_storage_writer_open(f->s, "kestra:///cl/b.txt", NULL, &w, err, sizeof err), KT_OK);
    assert_int_equal(run(f, kt_storage_write(w, "x", 1, done_cb, &wr), &wr), KT_OK);
    /* a second reader, closed while its read is in flight */
    res o2 = {0};
    assert_int_equal(kt_storage_reader_open(f->s, "kestra:///cl/a.txt", open_noop_cb, &o2, &rd2, err,
                                            sizeof err), KT_OK);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    res never = {0};
    assert_int_equal(kt_storage_read(rd2, read_chunk_cb, &never), KT_OK);
    kt_storage_reader_close(rd2);

    res l = {0};
    assert_int_equal(kt_storage_list(f->s, "kestra:///cl", list_cb, &l, err, sizeof err), KT_OK);
    kt_storage_close(f->s, on_closed, f);
    assert_int_equal(kt_storage_stat(f->s, "kestra:///cl/a.txt", stat_cb, &l, err, sizeof err), KT_ECLOSED);
    assert_int_equal(kt_storage_read(rd, read_chunk_cb, &never), KT_ECLOSED);
    assert_int_equal(kt_storage_write(w, "y", 1, done_cb, &never), KT_ECLOSED);
    assert_int_equal(kt_storage_writer_commit(w, done_cb, &never), KT_ECLOSED);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(l.calls, 1);
    assert_int_equal(l.st, KT_OK);
    assert_int_equal(never.calls, 0);
    assert_int_equal(f->closed, 0); /* the reader and the writer are still their owners' */
    assert_tmp(f, 1);
    kt_storage_reader_close(rd);
    kt_storage_writer_abort(w);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(f->closed, 1);
    assert_tmp(f, 0);
}

/* put_file takes regular files only: a symlink is not followed and a fifo a script left behind is refused at once
 * instead of blocking a pool thread in open() (review finding). */
static void test_put_file_regular_only(void **state)
{
    fx *f = *state;
    char fifo[256], link[256], real[256], err[256];
    snprintf(fifo, sizeof fifo, "%s/fifo", f->root);
    snprintf(real, sizeof real, "%s/real.txt", f->root);
    snprintf(link, sizeof link, "%s/link.txt", f->root);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    write_local(real, "secret");
    assert_int_equal(symlink(real, link), 0);
    res a = {0}, b = {0};
    assert_int_not_equal(run(f, kt_storage_put_file(f->s, "kestra:///in/fifo", fifo, NULL, done_cb, &a, err,
                                                    sizeof err), &a), KT_OK);
    assert_int_not_equal(run(f, kt_storage_put_file(f->s, "kestra:///in/link", link, NULL, done_cb, &b, err,
                                                    sizeof err), &b), KT_OK);
    assert_int_equal(exists(f, "kestra:///in/fifo"), 0);
    assert_int_equal(exists(f, "kestra:///in/link"), 0);
    assert_tmp(f, 0);
}

static void stat_of(fx *f, const char *uri, res *r)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(run(f, kt_storage_stat(f->s, uri, stat_cb, r, r->err, sizeof r->err), r), KT_OK);
}

static kt_status delete_if(fx *f, const char *uri, const kt_storage_attrs *seen)
{
    res r = {0};
    return run(f, kt_storage_delete_if(f->s, uri, seen->metadata, seen->modified_ms, done_cb, &r, r.err, sizeof r.err),
               &r);
}

/* kt_storage_delete_if deletes the version that was seen, never one written since (the KV store's expired entries
 * racing a new value of the key): a file rewritten after the stat stays, with its metadata; the one seen goes with
 * its side file; an absent one is KT_ENOTFOUND. */
static void test_delete_if_unchanged(void **state)
{
    fx *f = *state;
    const char *uri = "kestra:///ns/_kv/k.ion";
    json_t *old_meta = json_pack("{s:s}", "expirationDate", "2000-01-01T00:00:00Z"), *new_meta = json_object();
    assert_int_equal(put_bytes(f, uri, "\"old\"", 5, 64, old_meta), KT_OK);
    res seen, now;
    stat_of(f, uri, &seen);
    usleep(5000); /* another modification time too, on the local disk */
    assert_int_equal(put_bytes(f, uri, "\"new\"", 5, 64, new_meta), KT_OK);
    assert_int_equal(delete_if(f, uri, &seen.attrs), KT_ECONFLICT);
    res r = {0};
    assert_int_equal(read_all(f, uri, &r), KT_OK);
    assert_string_equal((char *)r.data, "\"new\"");
    free(r.data);
    stat_of(f, uri, &now);
    assert_null(json_object_get(now.attrs.metadata, "expirationDate"));
    assert_tmp(f, 0);
    /* the version seen now goes, side file included */
    assert_int_equal(delete_if(f, uri, &now.attrs), KT_OK);
    assert_int_equal(exists(f, uri), 0);
    if (f->local) {
        char side[256];
        snprintf(side, sizeof side, "%s/ns/_kv/k.ion.metadata", f->base);
        assert_int_equal(access(side, F_OK), -1);
    }
    assert_tmp(f, 0);
    assert_int_equal(delete_if(f, uri, &now.attrs), KT_ENOTFOUND);
    res bad = {0};
    assert_int_equal(kt_storage_delete_if(f->s, "kestra:///ns/_kv/", NULL, 0, done_cb, &bad, bad.err, sizeof bad.err),
                     KT_EINVAL);
    kt_storage_attrs_clear(&seen.attrs);
    kt_storage_attrs_clear(&now.attrs);
    json_decref(old_meta);
    json_decref(new_meta);
}

/* A writer publishes its data before its side file: caught between the two (new data, old metadata), the entry is
 * seen as changed by its modification time and both files are put back as they were. */
static void test_delete_if_between_renames(void **state)
{
    fx *f = *state;
    const char *uri = "kestra:///ns/_kv/k.ion";
    json_t *old_meta = json_pack("{s:s}", "expirationDate", "2000-01-01T00:00:00Z");
    assert_int_equal(put_bytes(f, uri, "\"old\"", 5, 64, old_meta), KT_OK);
    res seen;
    stat_of(f, uri, &seen);
    usleep(5000);
    char p[256];
    snprintf(p, sizeof p, "%s/ns/_kv/k.ion", f->base);
    write_local(p, "\"new\"");
    assert_int_equal(delete_if(f, uri, &seen.attrs), KT_ECONFLICT);
    res r = {0};
    assert_int_equal(read_all(f, uri, &r), KT_OK);
    assert_string_equal((char *)r.data, "\"new\"");
    free(r.data);
    res now;
    stat_of(f, uri, &now);
    assert_true(json_equal(now.attrs.metadata, old_meta)); /* its writer replaces it next */
    assert_tmp(f, 0);
    kt_storage_attrs_clear(&seen.attrs);
    kt_storage_attrs_clear(&now.attrs);
    json_decref(old_meta);
}

/* argv[1] "s3": the same tests on the S3 backend, but for those about the local disk (a symlink planted in the
 * folder, the temporary folder removed under the storage). */
int main(int argc, char **argv)
{
    int rc = fx_main(argc, argv);
    if (rc)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_streamed_flat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_hides_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traversal_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_file_regular_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_while_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdir_move, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_if_unchanged, setup, teardown),
    };
    const struct CMUnitTest local_only[] = {
        cmocka_unit_test_setup_teardown(test_writer_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_escape_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_if_between_renames, setup, teardown),
    };
    rc = cmocka_run_group_tests_name(fx_s3 ? "storage (s3)" : "storage (local)", tests, NULL, NULL);
    if (!fx_s3)
        rc |= cmocka_run_group_tests_name("storage (local disk)", local_only, NULL, NULL);
    return rc;
}
