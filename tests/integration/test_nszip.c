/* The namespace files zip export and import against a real server: the export's headers and entries (files by their
 * path relative to the namespace root, the namespace's flows as _flows/<id>.yml) read by Python's zipfile (an
 * independent reader) and by base/zip; the archive imported into another namespace (files byte for byte, the flow
 * moved to that namespace); and the refused archives (traversal and absolute names, backslashes, symlinks, too many
 * entries, a declared or a hidden zip bomb, a corrupt entry, a bad flow), each a 422 naming what is wrong with
 * nothing written (or, for an entry found corrupt while extracting, nothing of it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/zip.h"
#include "harness.h"

#define NS "io.kite.zip"
#define BASE "/api/v1/namespaces/" NS "/files"
#define NS2 "io.kite.zip2"
#define BASE2 "/api/v1/namespaces/" NS2 "/files"

typedef kt_it_resp resp;

/* One request (path_query as written); with data, a multipart `fileContent` part named filename. */
static long req(const char *method, int port, const char *pq, const void *data, size_t len, const char *filename,
                resp *r)
{
    return kt_it_request(method, port, pq, data, len, NULL, filename, r);
}

static void upload(int port, const char *base, const char *path, const void *data, size_t len)
{
    char pq[1024];
    resp r;
    snprintf(pq, sizeof pq, "%s?path=%s", base, path);
    assert_int_equal(req("POST", port, pq, data, len, "f.bin", &r), 200);
    free(r.body);
}

/* The import of archive bytes into base; the answer's message in msg (when 422). */
static long import(int port, const char *base, const kt_buf *zip, char *msg, size_t cap)
{
    char pq[1024];
    resp r;
    snprintf(pq, sizeof pq, "%s?path=%%2F", base);
    long st = req("POST", port, pq, zip->p, zip->len, "archive.ZIP", &r);
    json_t *j = r.body ? json_loads(r.body, 0, NULL) : NULL;
    snprintf(msg, cap, "%s", json_string_value(json_object_get(j, "message")) ? json_string_value(json_object_get(j, "message")) : "");
    json_decref(j);
    free(r.body);
    return st;
}

static int on_disk(const kt_it_fixture *f, const char *ns_path, const char *rel)
{
    char p[1024];
    struct stat sb;
    snprintf(p, sizeof p, "%s/data/storage/%s/_files/%s", f->dir, ns_path, rel);
    return lstat(p, &sb) ? 0 : S_ISDIR(sb.st_mode) ? 'd' : 'f';
}

static const char *FLOW = "id: zipped\nnamespace: " NS "\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
                          "    message: hi\n";

static unsigned char *pattern(size_t len)
{
    unsigned char *d = malloc(len);
    for (size_t i = 0; i < len; i++)
        d[i] = (unsigned char)((i * 13 + i / 1000) & 0xff);
    return d;
}

static void test_export_import(void **state)
{
    kt_it_fixture *f = *state;
    size_t big_len = 300 * 1024 + 7;
    unsigned char *big = pattern(big_len);
    upload(f->port, BASE, "%2Fscripts%2Fbig.bin", big, big_len);
    upload(f->port, BASE, "%2Fa.txt", "hello\n", 6);
    upload(f->port, BASE, "%2Fempty.txt", "", 0);
    kt_it_create_flow(f->port, FLOW, NULL);

    resp r;
    assert_int_equal(req("GET", f->port, BASE "/export", NULL, 0, NULL, &r), 200);
    assert_non_null(strcasestr(r.headers, "content-type: application/octet-stream"));
    assert_non_null(strcasestr(r.headers, "content-disposition: attachment; filename=\"" NS "_files.zip\""));

    /* base/zip's reader */
    kt_zip_reader *z;
    char err[512], *out;
    size_t len;
    kt_zip_limits lim = {1000, 1 << 30};
    assert_int_equal(kt_zip_open(r.body, r.len, &lim, &z, err, sizeof err), KT_OK);
    assert_int_equal(kt_zip_count(z), 4);
    int seen = 0;
    for (size_t i = 0; i < kt_zip_count(z); i++) {
        const char *name = kt_zip_get(z, i)->name;
        assert_int_equal(kt_zip_read_all(z, i, 1 << 20, &out, &len, err, sizeof err), KT_OK);
        if (!strcmp(name, "scripts/big.bin")) {
            assert_int_equal(len, big_len);
            assert_memory_equal(out, big, big_len);
            assert_int_equal(kt_zip_get(z, i)->method, 8);
            seen |= 1;
        } else if (!strcmp(name, "a.txt")) {
            assert_string_equal(out, "hello\n");
            seen |= 2;
        } else if (!strcmp(name, "empty.txt")) {
            assert_int_equal(len, 0);
            seen |= 4;
        } else if (!strcmp(name, "_flows/zipped.yml")) {
            assert_string_equal(out, FLOW);
            seen |= 8;
        }
        free(out);
    }
    assert_int_equal(seen, 15);
    kt_zip_close(z);

    /* Python's zipfile: every CRC checked, the names as listed */
    char path[512], cmd[1024];
    snprintf(path, sizeof path, "%s/export.zip", f->dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(r.body, 1, r.len, fp), r.len);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "python3 -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
             "assert z.testzip() is None; print(','.join(sorted(z.namelist())))\" %s", path);
    FILE *p = popen(cmd, "r");
    char line[256] = "";
    assert_non_null(p);
    if (!fgets(line, sizeof line, p))
        line[0] = 0;
    assert_int_equal(pclose(p), 0);
    assert_string_equal(line, "_flows/zipped.yml,a.txt,empty.txt,scripts/big.bin\n");

    /* the same archive into another namespace */
    kt_buf zip = {r.body, r.len, r.len};
    char msg[1024];
    assert_int_equal(import(f->port, BASE2, &zip, msg, sizeof msg), 200);
    free(r.body);
    assert_int_equal(req("GET", f->port, BASE2 "?path=%2Fscripts%2Fbig.bin", NULL, 0, NULL, &r), 200);
    assert_int_equal(r.len, big_len);
    assert_memory_equal(r.body, big, big_len);
    free(r.body);
    assert_int_equal(on_disk(f, "io/kite/zip2", "empty.txt"), 'f');
    assert_int_equal(on_disk(f, "io/kite/zip2", "_flows"), 0); /* flows are flows, not files */
    json_t *flow;
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/flows/" NS2 "/zipped", NULL, NULL, &flow), 200);
    assert_string_equal(json_string_value(json_object_get(flow, "namespace")), NS2);
    json_decref(flow);
    /* an empty namespace exports an empty archive */
    assert_int_equal(req("GET", f->port, "/api/v1/namespaces/io.kite.none/files/export", NULL, 0, NULL, &r), 200);
    assert_int_equal(kt_zip_open(r.body, r.len, &lim, &z, err, sizeof err), KT_OK);
    assert_int_equal(kt_zip_count(z), 0);
    kt_zip_close(z);
    free(r.body);
    free(big);
}

/* ---- refused archives, built by hand ---- */

static void p16(kt_buf *b, unsigned v) { char c[2] = {(char)v, (char)(v >> 8)}; kt_buf_put(b, c, 2); }
static void p32(kt_buf *b, uint32_t v) { p16(b, v & 0xffff); p16(b, v >> 16); }

typedef struct entry {
    const char *name;
    int method;
    const void *data;
    size_t dlen;
    uint32_t usize, crc;
    unsigned mode;
} entry;

static void archive(kt_buf *b, const entry *e, size_t n)
{
    uint32_t offs[64];
    for (size_t i = 0; i < n; i++) {
        offs[i] = (uint32_t)b->len;
        p32(b, 0x04034b50); p16(b, 20); p16(b, 0); p16(b, (unsigned)e[i].method); p16(b, 0); p16(b, 0x21);
        p32(b, e[i].crc); p32(b, (uint32_t)e[i].dlen); p32(b, e[i].usize); p16(b, (unsigned)strlen(e[i].name));
        p16(b, 0);
        kt_buf_puts(b, e[i].name);
        kt_buf_put(b, e[i].data, e[i].dlen);
    }
    size_t cd = b->len;
    for (size_t i = 0; i < n; i++) {
        p32(b, 0x02014b50); p16(b, 3u << 8 | 20); p16(b, 20); p16(b, 0); p16(b, (unsigned)e[i].method); p16(b, 0);
        p16(b, 0x21); p32(b, e[i].crc); p32(b, (uint32_t)e[i].dlen); p32(b, e[i].usize);
        p16(b, (unsigned)strlen(e[i].name)); p16(b, 0); p16(b, 0); p16(b, 0); p16(b, 0);
        p32(b, (uint32_t)e[i].mode << 16); p32(b, offs[i]);
        kt_buf_puts(b, e[i].name);
    }
    size_t cd_size = b->len - cd;
    p32(b, 0x06054b50); p16(b, 0); p16(b, 0); p16(b, (unsigned)n); p16(b, (unsigned)n);
    p32(b, (uint32_t)cd_size); p32(b, (uint32_t)cd); p16(b, 0);
}

static uint32_t crc_of(const void *d, size_t n) { return (uint32_t)crc32(0, d, (uInt)n); }

static void test_refused_archives(void **state)
{
    kt_it_fixture *f = *state;
    char canary[512];
    snprintf(canary, sizeof canary, "%s/canary.txt", f->dir); /* beside the data folder */
    FILE *fp = fopen(canary, "w");
    fputs("CANARY-ORIGINAL", fp);
    fclose(fp);
    uint32_t c1 = crc_of("x", 1);
    /* a deflated bomb: 8 MiB of zeros in a few KB */
    size_t zlen = 8u << 20;
    char *zeros = calloc(1, zlen);
    uLongf blen = compressBound(zlen);
    unsigned char *bomb = malloc(blen);
    z_stream zs = {0};
    deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (Bytef *)zeros, zs.avail_in = (uInt)zlen, zs.next_out = bomb, zs.avail_out = (uInt)blen;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    blen = zs.total_out;
    deflateEnd(&zs);
    uint32_t bomb_crc = crc_of(zeros, zlen);
    static const char flow_bad[] = "id: x\nnamespace: a\ntasks: 3\n";
    const struct {
        const char *what;
        entry e[2];
        size_t n;
        const char *expect; /* in the 422's message */
    } rows[] = {
        {"dotdot", {{"ok.txt", 0, "x", 1, 1, c1, 0100644}, {"../../canary.txt", 0, "x", 1, 1, c1, 0100644}}, 2, "'..'"},
        {"dotdot inside", {{"a/../../x", 0, "x", 1, 1, c1, 0100644}}, 1, "'..'"},
        {"absolute", {{"/etc/passwd", 0, "x", 1, 1, c1, 0100644}}, 1, "absolute"},
        {"backslash", {{"..\\..\\canary.txt", 0, "x", 1, 1, c1, 0100644}}, 1, "backslash"},
        {"symlink", {{"ok.txt", 0, "x", 1, 1, c1, 0100644}, {"link", 0, "/etc", 4, 4, crc_of("/etc", 4), 0120777}}, 2,
         "symbolic link"},
        {"control", {{"a\x01" "b", 0, "x", 1, 1, c1, 0100644}}, 1, "control"},
        {"dot segment", {{"a/./b", 0, "x", 1, 1, c1, 0100644}}, 1, "zip entry 'a/./b'"},
        {"flows folder", {{"_flows/a/b.yml", 0, "x", 1, 1, c1, 0100644}}, 1, "Invalid flow file path: /_flows/a/b.yml"},
        {"bad flow", {{"ok.txt", 0, "x", 1, 1, c1, 0100644},
                      {"_flows/x.yml", 0, flow_bad, sizeof flow_bad - 1, sizeof flow_bad - 1,
                       crc_of(flow_bad, sizeof flow_bad - 1), 0100644}}, 2, "invalid flow"},
        {"declared bomb", {{"big", 8, bomb, blen, 0x7fffffff, bomb_crc, 0100644}, {"big2", 8, bomb, blen, 0x7fffffff,
         bomb_crc, 0100644}}, 2, "more than 1073741824 bytes"},
        {"method", {{"m", 12, "x", 1, 1, c1, 0100644}}, 1, "compression method"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        kt_buf b = {0};
        char msg[1024];
        archive(&b, rows[i].e, rows[i].n);
        long st = import(f->port, BASE, &b, msg, sizeof msg);
        if (st != 422 || !strstr(msg, rows[i].expect)) {
            fprintf(stderr, "row %s: %ld %s\n", rows[i].what, st, msg);
            fail();
        }
        assert_int_equal(on_disk(f, "io/kite/zip", "ok.txt"), 0); /* checked whole before anything is written */
        free(b.p);
    }
    /* too many entries */
    kt_zip_writer *w = kt_zip_writer_new(0);
    kt_buf b = {0};
    for (int i = 0; i < 10001; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d", i);
        kt_zip_entry_begin(w, name, 0, &b);
        kt_zip_entry_end(w, &b);
    }
    kt_zip_finish(w, &b);
    kt_zip_writer_free(w);
    char msg[1024];
    assert_int_equal(import(f->port, BASE, &b, msg, sizeof msg), 422);
    assert_non_null(strstr(msg, "10001 entries"));
    assert_int_equal(on_disk(f, "io/kite/zip", "f0"), 0);
    free(b.p);
    /* too many flows: they are parsed and held before anything is written, so their number is bounded on its own */
    w = kt_zip_writer_new(1);
    b = (kt_buf){0};
    for (int i = 0; i < 501; i++) {
        char name[64], src[128];
        snprintf(name, sizeof name, "_flows/f%d.yml", i);
        int n = snprintf(src, sizeof src, "id: f%d\nnamespace: io.kite.zip\ntasks:\n  - id: t\n"
                                          "    type: io.kestra.plugin.core.log.Log\n    message: hi\n", i);
        kt_zip_entry_begin(w, name, 0, &b);
        kt_zip_entry_write(w, src, (size_t)n, &b);
        kt_zip_entry_end(w, &b);
    }
    kt_zip_finish(w, &b);
    kt_zip_writer_free(w);
    assert_int_equal(import(f->port, BASE, &b, msg, sizeof msg), 422);
    assert_non_null(strstr(msg, "more than 500 flows in one archive"));
    free(b.p);
    /* a hidden bomb (declares 1000 bytes, inflates to 8 MiB) after a good entry: the good one is in, the bomb is not */
    entry hidden[2] = {{"good.txt", 0, "x", 1, 1, c1, 0100644}, {"bomb.bin", 8, bomb, blen, 1000, bomb_crc, 0100644}};
    b = (kt_buf){0};
    archive(&b, hidden, 2);
    assert_int_equal(import(f->port, BASE, &b, msg, sizeof msg), 422);
    assert_non_null(strstr(msg, "zip entry 'bomb.bin' not imported"));
    assert_non_null(strstr(msg, "more than the 1000 bytes declared"));
    assert_int_equal(on_disk(f, "io/kite/zip", "good.txt"), 'f');
    assert_int_equal(on_disk(f, "io/kite/zip", "bomb.bin"), 0);
    free(b.p);
    /* a corrupt CRC */
    entry badcrc[1] = {{"crc.txt", 0, "abc", 3, 3, 42, 0100644}};
    b = (kt_buf){0};
    archive(&b, badcrc, 1);
    assert_int_equal(import(f->port, BASE, &b, msg, sizeof msg), 422);
    assert_non_null(strstr(msg, "CRC"));
    assert_int_equal(on_disk(f, "io/kite/zip", "crc.txt"), 0);
    free(b.p);
    /* not a zip at all */
    kt_buf junk = {"not a zip", 9, 9};
    assert_int_equal(import(f->port, BASE, &junk, msg, sizeof msg), 422);
    assert_non_null(strstr(msg, "not a zip archive"));
    /* the canary beside the data folder is untouched */
    char got[64] = "";
    fp = fopen(canary, "r");
    assert_non_null(fgets(got, sizeof got, fp));
    fclose(fp);
    assert_string_equal(got, "CANARY-ORIGINAL");
    char esc[600];
    snprintf(esc, sizeof esc, "%s/data/canary.txt", f->dir);
    assert_int_equal(access(esc, F_OK), -1);
    free(zeros);
    free(bomb);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_export_import, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_refused_archives, kt_it_setup, kt_it_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
