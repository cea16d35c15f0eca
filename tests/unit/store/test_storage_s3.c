/* What only the S3 backend has, against the S3 server tests/s3/start.sh started (storage_fixture.h; the shared
 * suite runs on S3 as test_storage_on_s3): a multipart upload over several parts and its abort, metadata as
 * x-amz-meta-* headers, a stray `.metadata` object hidden from listings, the folder markers, listings and deletions past one
 * ListObjectsV2 page (1000 keys), the synchronous bounded read, and the error mapping (404 -> KT_ENOTFOUND,
 * 403 -> KT_EIO naming S3's error code, a missing bucket, an endpoint nobody listens on). */
#pragma GCC diagnostic ignored "-Wunused-function" /* the fixture has helpers for the shared suite too */
#include "tests/unit/store/storage_fixture.h"

#include "store/s3_req.h"
#include "store/storage_s3_int.h"

/* A client of the same bucket and prefix, for what the storage never does itself. */
static void raw_init(fx *f, kt_s3 *c, const char *secret)
{
    kt_storage_s3_config cfg = {.endpoint = fx_endpoint, .bucket = "kite", .access_key = "S3RVER",
                                .secret_key = secret ? secret : "S3RVER", .prefix = f->prefix};
    char err[256];
    assert_int_equal(kt_s3_init(c, &cfg, err, sizeof err), KT_OK);
}

static long raw(kt_s3 *c, const char *method, const char *path, const char *body, kt_s3_resp *rs)
{
    char *key = kt_s3_key(c, path), err[512];
    kt_s3_req rq = {.method = method, .key = key, .body = body, .body_len = body ? strlen(body) : 0};
    assert_int_equal(kt_s3_do(c, &rq, rs, err, sizeof err), KT_OK);
    free(key);
    return rs->status;
}

static void fill(unsigned char *buf, size_t n, size_t off)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)((off + i) * 7 + ((off + i) >> 16));
}

/* 11 MiB through a writer with 5 MiB parts: two parts sent while writing and the third at commit (on AWS the ETag
 * of a multipart object ends in "-3"; s3rver's does not), read back byte for byte through a reader (eleven 1 MiB
 * windows). An aborted writer that had sent a part leaves nothing. */
static void test_multipart(void **state)
{
    fx *f = *state;
    const size_t total = 11u << 20;
    static unsigned char buf[KT_STORAGE_CHUNK];
    kt_storage_writer *w;
    char err[256];
    assert_int_equal(kt_storage_writer_open(f->s, "kestra:///mp/big.bin", NULL, &w, err, sizeof err), KT_OK);
    for (size_t off = 0; off < total; off += sizeof buf) {
        fill(buf, sizeof buf, off);
        res r = {0};
        assert_int_equal(run(f, kt_storage_write(w, buf, sizeof buf, done_cb, &r), &r), KT_OK);
    }
    assert_int_equal(kt_ss3__writer_parts(w), 2);
    res c = {0};
    assert_int_equal(run(f, kt_storage_writer_commit(w, done_cb, &c), &c), KT_OK);

    kt_s3 raw_c;
    raw_init(f, &raw_c, NULL);
    kt_s3_resp rs;
    assert_int_equal(raw(&raw_c, "HEAD", "mp/big.bin", NULL, &rs), 200);
    assert_int_equal(rs.length, (int64_t)total);
    print_message("multipart ETag %s\n", rs.etag);
    assert_true(!strchr(rs.etag, '-') || strstr(rs.etag, "-3\""));
    kt_s3_resp_clear(&rs);

    res rd = {0};
    assert_int_equal(read_all(f, "kestra:///mp/big.bin", &rd), KT_OK);
    assert_int_equal(rd.len, total);
    assert_true(rd.max_chunk <= KT_STORAGE_CHUNK);
    size_t bad = 0;
    for (size_t off = 0; off < total; off += sizeof buf) {
        fill(buf, sizeof buf, off);
        bad += memcmp(buf, rd.data + off, sizeof buf) != 0;
    }
    assert_int_equal(bad, 0);
    free(rd.data);

    /* six MiB then abort: one part was uploaded, the upload is aborted, nothing appears */
    assert_int_equal(kt_storage_writer_open(f->s, "kestra:///mp/aborted.bin", NULL, &w, err, sizeof err), KT_OK);
    for (size_t off = 0; off < (6u << 20); off += sizeof buf) {
        res r = {0};
        assert_int_equal(run(f, kt_storage_write(w, buf, sizeof buf, done_cb, &r), &r), KT_OK);
    }
    assert_int_equal(kt_ss3__writer_parts(w), 1);
    kt_storage_writer_abort(w);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(exists(f, "kestra:///mp/aborted.bin"), 0);
    assert_int_equal(raw(&raw_c, "HEAD", "mp/aborted.bin", NULL, &rs), 404);
    kt_s3_resp_clear(&rs);
    kt_s3_clear(&raw_c);
}

/* Metadata is the object's user metadata: camelCase names come back as given (S3 lower-cases header names),
 * values outside printable ASCII survive, a copy (move) keeps them; a `.metadata` object someone else wrote
 * (Kestra's local layout copied into a bucket) is never listed. */
static void test_metadata_headers(void **state)
{
    fx *f = *state;
    json_t *meta = json_pack("{s:s,s:s}", "contentType", "text/csv", "fileName", "résumé 100%.csv");
    assert_int_equal(put_bytes(f, "kestra:///md/a.txt", "abc", 3, 3, meta), KT_OK);
    kt_s3 raw_c;
    raw_init(f, &raw_c, NULL);
    kt_s3_resp rs;
    assert_int_equal(raw(&raw_c, "HEAD", "md/a.txt", NULL, &rs), 200);
    assert_true(json_equal(rs.meta, meta));
    kt_s3_resp_clear(&rs);
    res m = {0}, st = {0};
    char err[256];
    assert_int_equal(run(f, kt_storage_move(f->s, "kestra:///md/a.txt", "kestra:///md/b.txt", done_cb, &m, err,
                                            sizeof err), &m), KT_OK);
    assert_int_equal(run(f, kt_storage_stat(f->s, "kestra:///md/b.txt", stat_cb, &st, err, sizeof err), &st), KT_OK);
    assert_true(json_equal(st.attrs.metadata, meta));
    kt_storage_attrs_clear(&st.attrs);
    json_decref(meta);

    assert_int_equal(raw(&raw_c, "PUT", "md/b.txt.metadata", "{}", &rs), 200);
    kt_s3_resp_clear(&rs);
    res l = {0};
    assert_int_equal(run(f, kt_storage_list(f->s, "kestra:///md", list_cb, &l, err, sizeof err), &l), KT_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.names[0], "b.txt");
    kt_s3_clear(&raw_c);
}

/* A file's commit and mkdir leave the folder markers Kestra's S3 storage writes and lists by ("a/", "a/b/"); a
 * listing shows each folder once, marker or not. */
static void test_folder_markers(void **state)
{
    fx *f = *state;
    assert_int_equal(put_bytes(f, "kestra:///mk/a/b/c.txt", "c", 1, 1, NULL), KT_OK);
    res m = {0};
    char err[256];
    assert_int_equal(run(f, kt_storage_mkdir(f->s, "kestra:///mk/x/y", done_cb, &m, err, sizeof err), &m), KT_OK);
    kt_s3 raw_c;
    raw_init(f, &raw_c, NULL);
    static const char *const markers[] = {"mk/", "mk/a/", "mk/a/b/", "mk/x/", "mk/x/y/"};
    for (size_t i = 0; i < sizeof markers / sizeof *markers; i++) {
        kt_s3_resp rs;
        if (raw(&raw_c, "HEAD", markers[i], NULL, &rs) != 200)
            fail_msg("no marker %s", markers[i]);
        assert_int_equal(rs.length, 0);
        kt_s3_resp_clear(&rs);
    }
    kt_s3_resp rs;
    assert_int_equal(raw(&raw_c, "PUT", "mk/z/only.txt", "z", &rs), 200); /* a folder without a marker */
    kt_s3_resp_clear(&rs);
    kt_s3_clear(&raw_c);
    res l = {0};
    assert_int_equal(run(f, kt_storage_list(f->s, "kestra:///mk", list_cb, &l, err, sizeof err), &l), KT_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.names[0], "a");
    assert_string_equal(l.names[1], "x");
    assert_string_equal(l.names[2], "z");
    for (int i = 0; i < 3; i++)
        assert_int_equal(l.types[i], KT_STORAGE_DIRECTORY);
}

typedef struct many {
    int calls;
    kt_status st;
    size_t n, files, sorted;
    char first[32], last[32];
} many;

static void many_cb(kt_status st, const kt_storage_attrs *e, size_t n, const char *err, void *data)
{
    many *m = data;
    (void)err;
    m->calls++;
    m->st = st;
    m->n = n;
    for (size_t i = 0; i < n; i++) {
        m->files += e[i].type == KT_STORAGE_FILE && e[i].size == 1;
        m->sorted += i == 0 || strcmp(e[i - 1].name, e[i].name) < 0;
    }
    if (n) {
        snprintf(m->first, sizeof m->first, "%s", e[0].name);
        snprintf(m->last, sizeof m->last, "%s", e[n - 1].name);
    }
}

/* 1001 keys in one folder: the listing follows ListObjectsV2's continuation token past the first 1000, and so
 * does delete_prefix (its count is every file). */
static void test_listing_pages(void **state)
{
    fx *f = *state;
    kt_s3 raw_c;
    raw_init(f, &raw_c, NULL);
    char path[64];
    for (int i = 0; i <= 1000; i++) {
        kt_s3_resp rs;
        snprintf(path, sizeof path, "many/f%04d", i);
        assert_int_equal(raw(&raw_c, "PUT", path, "x", &rs), 200);
        kt_s3_resp_clear(&rs);
    }
    kt_s3_clear(&raw_c);
    many m = {0};
    char err[256];
    assert_int_equal(kt_storage_list(f->s, "kestra:///many", many_cb, &m, err, sizeof err), KT_OK);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(m.calls, 1);
    assert_int_equal(m.st, KT_OK);
    assert_int_equal(m.n, 1001);
    assert_int_equal(m.files, 1001);
    assert_int_equal(m.sorted, 1001);
    assert_string_equal(m.first, "f0000");
    assert_string_equal(m.last, "f1000");
    res d = {0};
    assert_int_equal(run(f, kt_storage_delete_prefix(f->s, "kestra:///many", count_cb, &d, err, sizeof err), &d),
                     KT_OK);
    assert_int_equal(d.count, 1001);
    assert_int_equal(exists(f, "kestra:///many"), 0);
}

/* kt_storage_read_small: whole small files, the size alone, an empty file, and the refusals. */
static void test_read_small(void **state)
{
    fx *f = *state;
    assert_int_equal(put_bytes(f, "kestra:///rs/a.txt", "hello", 5, 5, NULL), KT_OK);
    assert_int_equal(put_bytes(f, "kestra:///rs/empty.txt", "", 0, 1, NULL), KT_OK);
    char *out, err[256];
    size_t len;
    int64_t size = -1;
    assert_int_equal(kt_storage_read_small(f->s, "kestra:///rs/a.txt", 5, &out, &len, &size, err, sizeof err), KT_OK);
    assert_int_equal(len, 5);
    assert_int_equal(size, 5);
    assert_string_equal(out, "hello");
    free(out);
    assert_int_equal(kt_storage_read_small(f->s, "kestra:///rs/a.txt", 4, &out, &len, &size, err, sizeof err),
                     KT_EINVAL);
    assert_non_null(strstr(err, "5 bytes"));
    assert_int_equal(kt_storage_read_small(f->s, "kestra:///rs/a.txt", 0, NULL, NULL, &size, err, sizeof err), KT_OK);
    assert_int_equal(size, 5);
    assert_int_equal(kt_storage_read_small(f->s, "kestra:///rs/empty.txt", 10, &out, &len, &size, err, sizeof err),
                     KT_OK);
    assert_int_equal(len, 0);
    assert_int_equal(size, 0);
    assert_string_equal(out, "");
    free(out);
    assert_int_equal(kt_storage_read_small(f->s, "kestra:///rs/none", 10, &out, &len, &size, err, sizeof err),
                     KT_ENOTFOUND);
    assert_int_equal(kt_storage_read_small(f->s, "kestra:///rs", 10, &out, &len, &size, err, sizeof err), KT_EINVAL);
}

/* An unknown access key is S3's 403 InvalidAccessKeyId: KT_EIO with the code in err (never "not found"); a
 * missing bucket is KT_EIO naming NoSuchBucket; nobody listening is KT_EIO with curl's reason. (s3rver does not
 * check SigV4 signatures, so a wrong secret passes there: test_s3_sign checks the signing against AWS's vectors.) */
static void test_errors(void **state)
{
    fx *f = *state;
    assert_int_equal(put_bytes(f, "kestra:///er/a.txt", "a", 1, 1, NULL), KT_OK);
    kt_storage_s3_config bad = {.endpoint = fx_endpoint, .bucket = "kite", .access_key = "NOBODY",
                                .secret_key = "wrong", .prefix = f->prefix};
    kt_storage *s2;
    char err[256];
    assert_int_equal(kt_storage_s3_open(&f->loop, &bad, &s2, err, sizeof err), KT_OK);
    res a = {0}, b = {0}, c = {0};
    assert_int_equal(run(f, kt_storage_stat(s2, "kestra:///er/a.txt", stat_cb, &a, err, sizeof err), &a), KT_EIO);
    assert_non_null(strstr(a.err, "403"));
    assert_non_null(strstr(a.err, "InvalidAccessKeyId"));
    assert_int_equal(read_all(f, "kestra:///er/none.txt", &b), KT_ENOTFOUND);
    kt_storage_close(s2, NULL, NULL);

    bad.access_key = bad.secret_key = "S3RVER";
    bad.bucket = "no-such-bucket";
    assert_int_equal(kt_storage_s3_open(&f->loop, &bad, &s2, err, sizeof err), KT_OK);
    assert_int_equal(run(f, kt_storage_list(s2, "kestra:///er", list_cb, &c, err, sizeof err), &c), KT_EIO);
    assert_non_null(strstr(c.err, "NoSuchBucket"));
    kt_storage_close(s2, NULL, NULL);

    bad.endpoint = "http://127.0.0.1:1";
    assert_int_equal(kt_storage_s3_open(&f->loop, &bad, &s2, err, sizeof err), KT_OK);
    res d = {0};
    assert_int_equal(run(f, kt_storage_stat(s2, "kestra:///er/a.txt", stat_cb, &d, err, sizeof err), &d), KT_EIO);
    print_message("unreachable: %s\n", d.err);
    assert_non_null(strstr(d.err, "kestra:///er/a.txt"));
    assert_non_null(strstr(d.err, "127.0.0.1:1"));
    kt_storage_close(s2, NULL, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
}

int main(void)
{
    char *argv[] = {"test_storage_s3", "s3", NULL};
    int rc = fx_main(2, argv);
    if (rc)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_multipart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder_markers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listing_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    return cmocka_run_group_tests_name("storage (s3 only)", tests, NULL, NULL);
}
