/* base/zip.h: the writer's archives read back by the reader and by Info-ZIP's unzip (an independent reader), STORE
 * and DEFLATE; the reader's refusals (traversal names, absolute paths, backslashes, symlinks, limits, corrupt and
 * oversized data) on archives built byte by byte here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/zip.h"

static const kt_zip_limits k_lim = {.max_entries = 100, .max_total = 1 << 20};

/* An archive of three entries (one of them a folder, one empty) plus a 200 KB compressible one. */
static void make_archive(int deflate, kt_buf *out, char **big, size_t *big_len)
{
    kt_zip_writer *z = kt_zip_writer_new(deflate);
    assert_non_null(z);
    *big_len = 200000;
    *big = malloc(*big_len);
    for (size_t i = 0; i < *big_len; i++)
        (*big)[i] = (char)('a' + (i * 7 % 26));
    assert_int_equal(kt_zip_entry_begin(z, "hello.txt", 1700000000, out), KT_OK);
    assert_int_equal(kt_zip_entry_write(z, "hello ", 6, out), KT_OK);
    assert_int_equal(kt_zip_entry_write(z, "world\n", 6, out), KT_OK);
    assert_int_equal(kt_zip_entry_end(z, out), KT_OK);
    assert_int_equal(kt_zip_entry_begin(z, "dir/", 1700000000, out), KT_OK);
    assert_int_equal(kt_zip_entry_end(z, out), KT_OK);
    assert_int_equal(kt_zip_entry_begin(z, "dir/empty", 0, out), KT_OK);
    assert_int_equal(kt_zip_entry_end(z, out), KT_OK);
    assert_int_equal(kt_zip_entry_begin(z, "dir/sub/big.txt", 1700000000, out), KT_OK);
    for (size_t off = 0; off < *big_len; off += 4096)
        assert_int_equal(kt_zip_entry_write(z, *big + off, *big_len - off < 4096 ? *big_len - off : 4096, out), KT_OK);
    assert_int_equal(kt_zip_finish(z, out), KT_OK); /* ends the open entry */
    assert_int_equal(kt_zip_entry_begin(z, "late", 0, out), KT_EINVAL);
    kt_zip_writer_free(z);
}

static void roundtrip(int deflate)
{
    kt_buf b = {0};
    char *big, *got, err[256];
    size_t big_len, len;
    make_archive(deflate, &b, &big, &big_len);
    if (deflate)
        assert_true(b.len < big_len / 4); /* it did compress */
    else
        assert_true(b.len > big_len);
    kt_zip_reader *r;
    assert_int_equal(kt_zip_open(b.p, b.len, &k_lim, &r, err, sizeof err), KT_OK);
    assert_int_equal(kt_zip_count(r), 4);
    assert_string_equal(kt_zip_get(r, 0)->name, "hello.txt");
    assert_false(kt_zip_get(r, 0)->is_dir);
    assert_true(kt_zip_get(r, 1)->is_dir);
    assert_int_equal(kt_zip_get(r, 3)->usize, big_len);
    assert_int_equal(kt_zip_get(r, 3)->method, deflate ? 8 : 0);
    assert_int_equal(kt_zip_read_all(r, 0, 100, &got, &len, err, sizeof err), KT_OK);
    assert_int_equal(len, 12);
    assert_string_equal(got, "hello world\n");
    free(got);
    assert_int_equal(kt_zip_read_all(r, 2, 100, &got, &len, err, sizeof err), KT_OK);
    assert_int_equal(len, 0);
    free(got);
    assert_int_equal(kt_zip_read_all(r, 3, 1000, &got, &len, err, sizeof err), KT_EINVAL); /* above max */
    assert_non_null(strstr(err, "dir/sub/big.txt"));
    /* streamed in small pieces */
    kt_zip_stream *s;
    assert_int_equal(kt_zip_stream_open(r, 3, &s), KT_OK);
    size_t total = 0, n;
    char piece[1000];
    do {
        assert_int_equal(kt_zip_stream_read(s, piece, sizeof piece, &n, err, sizeof err), KT_OK);
        assert_memory_equal(piece, big + total, n);
        total += n;
    } while (n);
    assert_int_equal(total, big_len);
    kt_zip_stream_close(s);
    kt_zip_close(r);

    /* an independent reader: Info-ZIP's unzip tests every entry's CRC and lists the names */
    char path[] = "/tmp/kt_zip_test_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.p, b.len), (ssize_t)b.len);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "unzip -tq %s >/dev/null 2>&1", path);
    int rc = system(cmd);
    if (access("/usr/bin/unzip", X_OK) == 0)
        assert_int_equal(rc, 0);
    snprintf(cmd, sizeof cmd, "unzip -p %s hello.txt 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    char line[64] = "";
    if (p) {
        if (!fgets(line, sizeof line, p))
            line[0] = 0;
        pclose(p);
    }
    if (access("/usr/bin/unzip", X_OK) == 0)
        assert_string_equal(line, "hello world\n");
    unlink(path);
    free(big);
    free(b.p);
}

static void test_roundtrip_store(void **state) { (void)state; roundtrip(0); }
static void test_roundtrip_deflate(void **state) { (void)state; roundtrip(1); }

/* ---- hand-built archives for the refusals ---- */

static void p16(kt_buf *b, unsigned v) { char c[2] = {(char)v, (char)(v >> 8)}; kt_buf_put(b, c, 2); }
static void p32(kt_buf *b, uint32_t v) { p16(b, v & 0xffff); p16(b, v >> 16); }

/* One entry: name, stored data (or raw deflate data when method 8), the declared size, Unix mode. */
static void one_entry(kt_buf *b, const char *name, int method, const char *data, size_t dlen, uint32_t usize,
                      uint32_t crc, unsigned mode)
{
    size_t nl = strlen(name);
    p32(b, 0x04034b50); p16(b, 20); p16(b, 0); p16(b, (unsigned)method); p16(b, 0); p16(b, 0x21);
    p32(b, crc); p32(b, (uint32_t)dlen); p32(b, usize); p16(b, (unsigned)nl); p16(b, 0);
    kt_buf_put(b, name, nl);
    kt_buf_put(b, data, dlen);
    size_t cd = b->len;
    p32(b, 0x02014b50); p16(b, 3u << 8 | 20); p16(b, 20); p16(b, 0); p16(b, (unsigned)method); p16(b, 0);
    p16(b, 0x21); p32(b, crc); p32(b, (uint32_t)dlen); p32(b, usize); p16(b, (unsigned)nl); p16(b, 0); p16(b, 0);
    p16(b, 0); p16(b, 0); p32(b, (uint32_t)mode << 16); p32(b, 0);
    kt_buf_put(b, name, nl);
    size_t cd_size = b->len - cd;
    p32(b, 0x06054b50); p16(b, 0); p16(b, 0); p16(b, 1); p16(b, 1); p32(b, (uint32_t)cd_size); p32(b, (uint32_t)cd);
    p16(b, 0);
}

static kt_status open_one(const char *name, unsigned mode, char *err, size_t errcap)
{
    kt_buf b = {0};
    one_entry(&b, name, 0, "x", 1, 1, (uint32_t)crc32(0, (const Bytef *)"x", 1), mode);
    kt_zip_reader *r = NULL;
    kt_status st = kt_zip_open(b.p, b.len, &k_lim, &r, err, errcap);
    kt_zip_close(r);
    free(b.p);
    return st;
}

static void test_refused_names(void **state)
{
    (void)state;
    static const struct { const char *name; const char *why; } rows[] = {
        {"../etc/passwd", "'..'"},      {"a/../../b", "'..'"},        {"a/..", "'..'"},
        {"/etc/passwd", "absolute"},    {"C:/x", "drive letter"},    {"a\\..\\b", "backslash"},
        {"a\\b", "backslash"},          {"a\x01" "b", "control"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        assert_int_equal(open_one(rows[i].name, 0100644, err, sizeof err), KT_EINVAL);
        assert_non_null(strstr(err, rows[i].why));
    }
    assert_int_equal(open_one("link", 0120777, err, sizeof err), KT_EINVAL);
    assert_non_null(strstr(err, "symbolic link"));
    assert_non_null(strstr(err, "'link'"));
    assert_int_equal(open_one("fifo", 0010644, err, sizeof err), KT_EINVAL);
    assert_non_null(strstr(err, "special file"));
    /* dots inside names are names */
    assert_int_equal(open_one("a..b/..c/.d", 0100644, err, sizeof err), KT_OK);
}

static void test_limits_and_corruption(void **state)
{
    (void)state;
    char err[256], *out;
    size_t len;
    kt_zip_reader *r;
    /* a bomb: 1 MiB of zeros deflated to about 1 KB, declared honestly: over the total */
    size_t big = 2u << 20;
    char *zeros = calloc(1, big);
    uLongf clen = compressBound(big);
    unsigned char *c = malloc(clen);
    z_stream z = {0};
    deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)zeros, z.avail_in = (uInt)big, z.next_out = c, z.avail_out = (uInt)clen;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    clen = z.total_out;
    deflateEnd(&z);
    uint32_t crc = (uint32_t)crc32(0, (const Bytef *)zeros, (uInt)big);
    kt_buf b = {0};
    one_entry(&b, "bomb", 8, (char *)c, clen, (uint32_t)big, crc, 0100644);
    assert_int_equal(kt_zip_open(b.p, b.len, &k_lim, &r, err, sizeof err), KT_ECONFLICT);
    assert_non_null(strstr(err, "more than"));
    free(b.p);
    /* the same bomb lying about its size: caught while inflating, one byte past what it declared */
    b = (kt_buf){0};
    one_entry(&b, "liar", 8, (char *)c, clen, 1000, crc, 0100644);
    assert_int_equal(kt_zip_open(b.p, b.len, &k_lim, &r, err, sizeof err), KT_OK);
    assert_int_equal(kt_zip_read_all(r, 0, 1 << 20, &out, &len, err, sizeof err), KT_EINVAL);
    assert_non_null(strstr(err, "more than the 1000 bytes declared"));
    kt_zip_close(r);
    free(b.p);
    /* a bad CRC */
    b = (kt_buf){0};
    one_entry(&b, "crc", 0, "abc", 3, 3, 12345, 0100644);
    assert_int_equal(kt_zip_open(b.p, b.len, &k_lim, &r, err, sizeof err), KT_OK);
    assert_int_equal(kt_zip_read_all(r, 0, 100, &out, &len, err, sizeof err), KT_EINVAL);
    assert_non_null(strstr(err, "CRC"));
    kt_zip_close(r);
    free(b.p);
    /* entry count over the limit */
    kt_zip_writer *w = kt_zip_writer_new(0);
    b = (kt_buf){0};
    for (int i = 0; i < 101; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        kt_zip_entry_begin(w, name, 0, &b);
        kt_zip_entry_end(w, &b);
    }
    kt_zip_finish(w, &b);
    kt_zip_writer_free(w);
    assert_int_equal(kt_zip_open(b.p, b.len, &k_lim, &r, err, sizeof err), KT_ECONFLICT);
    assert_non_null(strstr(err, "101 entries"));
    /* truncated archives and garbage never crash */
    for (size_t cut = 0; cut < b.len; cut += 7) {
        r = NULL;
        kt_status st = kt_zip_open(b.p, cut, &k_lim, &r, err, sizeof err);
        assert_true(st == KT_EINVAL || st == KT_ECONFLICT);
    }
    free(b.p);
    assert_int_equal(kt_zip_open("PK\x05\x06garbage", 14, &k_lim, &r, err, sizeof err), KT_EINVAL);
    free(zeros);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_store),
        cmocka_unit_test(test_roundtrip_deflate),
        cmocka_unit_test(test_refused_names),
        cmocka_unit_test(test_limits_and_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
