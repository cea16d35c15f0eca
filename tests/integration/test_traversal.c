/* Path traversal on every file route, table-driven, against a real server: the execution file API (/file,
 * /file/metas, /file/preview) and every namespace-file route (get, stats, directory, upload, mkdir, move from and
 * to, delete, search, export, import). Each row: route, method, the attempt as sent on the wire (`../`, `..%2F`,
 * `%2e%2e/`, double-encoded `%252e%252e`, absolute paths, backslashes, NUL, other schemes, another execution's
 * kestra:// URI) and Kestra's status for it. After every request: no canary's content in the response, and at the
 * end every canary (beside the data folder, in it, at the storage's root) is as it was and nothing appeared outside
 * the storage's namespace folders.
 * Also FILE inputs on resume: a Pause task's onResume FILE input stored under the execution's inputs folder, read
 * by the next task (storage.Size) and downloaded through /file; a refused resume leaves no file behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <ftw.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/zip.h"
#include "harness.h"

#define NS "io.kite.trav"
#define NS_PATH "io/kite/trav"
#define NSF "/api/v1/namespaces/" NS "/files"
#define CANARY "KITE-CANARY-5b1e9d"

typedef kt_it_resp resp;

static long req(const char *method, int port, const char *pq, const void *data, size_t len, const char *field,
                const char *filename, resp *r)
{
    return kt_it_request(method, port, pq, data, len, field, filename, r);
}

static void qenc(const char *in, char *out, size_t cap)
{
    CURL *c = curl_easy_init();
    char *e = curl_easy_escape(c, in, 0);
    snprintf(out, cap, "%s", e);
    curl_free(e);
    curl_easy_cleanup(c);
}

/* ---- the canaries ---- */

static const char *const k_canaries[] = {"canary.txt", "data/canary.txt", "data/storage/canary.txt",
                                         "data/storage/io/kite/canary.txt"};

static void put_canaries(const kt_it_fixture *f)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/data/storage/io/kite", f->dir);
    mkdir(p, 0755); /* the storage made data/storage/io at start? make the chain either way */
    for (size_t i = 0; i < sizeof k_canaries / sizeof *k_canaries; i++) {
        char dir[1024];
        snprintf(p, sizeof p, "%s/%s", f->dir, k_canaries[i]);
        snprintf(dir, sizeof dir, "%s", p);
        *strrchr(dir, '/') = 0;
        char mk[1100];
        snprintf(mk, sizeof mk, "mkdir -p '%s'", dir);
        assert_int_equal(system(mk), 0);
        FILE *fp = fopen(p, "w");
        assert_non_null(fp);
        fputs(CANARY, fp);
        fclose(fp);
    }
}

static void check_canaries(const kt_it_fixture *f)
{
    for (size_t i = 0; i < sizeof k_canaries / sizeof *k_canaries; i++) {
        char p[1024], got[64] = "";
        snprintf(p, sizeof p, "%s/%s", f->dir, k_canaries[i]);
        FILE *fp = fopen(p, "r");
        assert_non_null(fp);
        assert_non_null(fgets(got, sizeof got, fp));
        fclose(fp);
        assert_string_equal(got, CANARY);
    }
}

/* Entries under DIR that are outside data/storage/<a namespace's folders> and not SQLite's own files: what a
 * traversal could have made. */
static const char *g_root;
static int g_outside;
static int count_outside(const char *p, const struct stat *sb, int flag, struct FTW *w)
{
    (void)sb, (void)flag, (void)w;
    const char *rel = p + strlen(g_root);
    if (strstr(rel, "/data/storage/io/kite/trav") == rel || strstr(rel, "/data/storage/io/kite/other") == rel ||
        strstr(rel, "/data/storage/.kite-tmp") == rel || strstr(rel, "-wal") || strstr(rel, "-shm") ||
        strstr(rel, "-journal") || strstr(rel, ".log"))
        return 0;
    g_outside++;
    return 0;
}

static int outside(const kt_it_fixture *f)
{
    g_root = f->dir;
    g_outside = 0;
    nftw(f->dir, count_outside, 8, FTW_PHYS);
    return g_outside;
}

/* The response never holds a canary nor a line of the machine's /etc/passwd. */
static void clean_body(const resp *r, const char *what)
{
    if (r->body && (memmem(r->body, r->len, CANARY, strlen(CANARY)) || memmem(r->body, r->len, "root:x:0:0", 10))) {
        fprintf(stderr, "%s: leaked %.*s\n", what, (int)(r->len > 200 ? 200 : r->len), r->body);
        fail();
    }
}

/* ---- the execution file API ---- */

static const char *FLOW = "id: up\nnamespace: " NS "\ninputs:\n  - id: f\n    type: FILE\n"
                          "tasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n";

/* An execution with file input f: its id and the file's URI. */
static void execution_with_file(const kt_it_fixture *f, char *id, char *uri)
{
    resp r;
    char pq[256];
    snprintf(pq, sizeof pq, "/api/v1/executions/" NS "/up");
    assert_int_equal(req("POST", f->port, pq, "payload", 7, "files", "f", &r), 200);
    json_t *ex = json_loads(r.body, 0, NULL);
    free(r.body);
    snprintf(id, 64, "%s", json_string_value(json_object_get(ex, "id")));
    snprintf(uri, 512, "%s", json_string_value(json_object_get(json_object_get(ex, "inputs"), "f")));
    json_decref(ex);
    json_decref(kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 15000));
}

static void test_execution_file_routes(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW, NULL);
    char id[64], uri[512], other[64], other_uri[512], root[256];
    execution_with_file(f, id, uri);
    execution_with_file(f, other, other_uri);
    put_canaries(f);
    int before = outside(f);
    snprintf(root, sizeof root, "kestra:///" NS_PATH "/up/executions/%s", id);
    /* each attempt is a kestra:// (or other) value, URL-encoded once by the test unless raw */
    struct {
        char value[1024];
        int raw;      /* sent as written (already encoded) */
        int expect;   /* Kestra's status */
    } rows[32];
    size_t n = 0;
#define ROW(exp, is_raw, ...) (snprintf(rows[n].value, sizeof rows[n].value, __VA_ARGS__), rows[n].raw = is_raw, \
                               rows[n++].expect = exp)
    ROW(200, 0, "%s", uri);                                                  /* the control row: its own file */
    ROW(422, 0, "%s/inputs/f/../../../../../../../canary.txt", root);       /* ../ */
    ROW(422, 0, "%s/../../../../../../canary.txt", root);
    ROW(422, 0, "%s/inputs/..%%2F..%%2F..%%2F..%%2F..%%2F..%%2F..%%2Fcanary.txt", root); /* ..%2F inside the URI */
    ROW(422, 0, "%s/inputs/%%2e%%2e/%%2e%%2e/%%2e%%2e/%%2e%%2e/%%2e%%2e/canary.txt", root); /* %2e%2e/ */
    ROW(422, 1, "kestra%%3A%%2F%%2F%%2F" NS_PATH "%%2Fup%%2Fexecutions%%2F%s%%2F%%252e%%252e%%2F%%252e%%252e%%2F"
                "%%252e%%252e%%2F%%252e%%252e%%2F%%252e%%252e%%2Fcanary.txt", id);  /* double-encoded on the wire */
    ROW(422, 1, "kestra:///" NS_PATH "/up/executions/%s/../../../../../canary.txt", id); /* raw ../ on the wire */
    ROW(422, 0, "%s/inputs\\..\\..\\..\\..\\..\\..\\canary.txt", root);     /* backslashes */
    ROW(422, 0, "/etc/passwd");                                              /* absolute, no scheme */
    ROW(422, 0, "file:///etc/passwd");
    ROW(422, 0, "kestra:///etc/passwd");
    ROW(422, 0, "kestra:///canary.txt");                                     /* the storage's root */
    /* a raw %00 on the wire: Kestra 422 (the URI conversion fails); Kite's router refuses any %00 in a query string
     * with 400 before a route runs (its query values are C strings) */
    ROW(400, 1, "kestra%%3A%%2F%%2F%%2F" NS_PATH "%%2Fup%%2Fexecutions%%2F%s%%2Finputs%%2Ff%%00.txt", id);
    ROW(422, 0, "%s/inputs/f/x%%00/../../../../../../canary.txt", root);
    ROW(422, 0, "kestra://host/%s", root + 10);                               /* an authority */
    ROW(422, 0, "kestra:///io/kite/other/_files/x.txt");                     /* another namespace's file */
    ROW(301, 0, "%s", other_uri);                                             /* another execution's file */
    ROW(301, 0, "kestra:///io/kite/other/f/executions/%s/inputs/f/x", other); /* ... named under another flow */
#undef ROW
    static const char *const endpoints[] = {"file", "file/metas", "file/preview"};
    for (size_t e = 0; e < 3; e++)
        for (size_t i = 0; i < n; i++) {
            char enc[4096], pq[8192 + 256];
            if (rows[i].raw)
                snprintf(enc, sizeof enc, "%.1023s", rows[i].value);
            else
                qenc(rows[i].value, enc, sizeof enc);
            snprintf(pq, sizeof pq, "/api/v1/executions/%s/%s?path=%s", id, endpoints[e], enc);
            resp r;
            long st = req("GET", f->port, pq, NULL, 0, NULL, NULL, &r);
            if (st != rows[i].expect) {
                fprintf(stderr, "GET %s -> %ld (want %d) %.300s\n", pq, st, rows[i].expect, r.body ? r.body : "");
                fail();
            }
            clean_body(&r, pq);
            if (st == 301) { /* to the execution the path names, same endpoint */
                char want[256];
                snprintf(want, sizeof want, "location: /api/v1/executions/%s/%s?path=", other, endpoints[e]);
                assert_non_null(strcasestr(r.headers, want));
            }
            free(r.body);
        }
    check_canaries(f);
    assert_int_equal(outside(f), before);
}

/* ---- the namespace file routes ---- */

#define NR 8
static const struct {
    const char *method, *fmt; /* fmt takes the attempt once */
    int upload;
} k_routes[NR] = {
    {"GET", NSF "?path=%s", 0},
    {"GET", NSF "/stats?path=%s", 0},
    {"GET", NSF "/directory?path=%s", 0},
    {"POST", NSF "?path=%s", 1},
    {"POST", NSF "/directory?path=%s", 0},
    {"PUT", NSF "?from=%s&to=%%2Fmoved.txt", 0},
    {"PUT", NSF "?from=%%2Fok.txt&to=%s", 0},
    {"DELETE", NSF "?path=%s", 0},
};

static void test_namespace_file_routes(void **state)
{
    kt_it_fixture *f = *state;
    resp r;
    assert_int_equal(req("POST", f->port, NSF "?path=%2Fok.txt", "ok", 2, "fileContent", "ok.txt", &r), 200);
    free(r.body);
    put_canaries(f);
    int before = outside(f);
    /* the attempt as sent on the wire, and Kestra's status on each route (in k_routes' order) */
    static const struct {
        const char *sent;
        int expect[NR];
    } rows[] = {
        {"../canary.txt", {422, 422, 422, 422, 422, 422, 422, 422}},
        {"..%2F..%2Fcanary.txt", {422, 422, 422, 422, 422, 422, 422, 422}},
        {"..%2F..%2F..%2F..%2F..%2Fcanary.txt", {422, 422, 422, 422, 422, 422, 422, 422}},
        {"%2e%2e%2F%2e%2e%2Fcanary.txt", {422, 422, 422, 422, 422, 422, 422, 422}},
        {"%2e%2e/%2e%2e/canary.txt", {422, 422, 422, 422, 422, 422, 422, 422}},
        {"a%2F..%2F..%2F..%2Fcanary.txt", {422, 422, 422, 422, 422, 422, 422, 422}},
        {"%2F..%2F..%2F..%2F..%2F..%2Fcanary.txt", {422, 422, 422, 422, 422, 422, 422, 422}},
        {"..", {422, 422, 422, 422, 422, 422, 422, 422}},
        {"..%5C..%5Ccanary.txt", {422, 422, 422, 422, 422, 422, 422, 422}},   /* backslashes */
        {"%5C..%5C..%5Ccanary.txt", {422, 422, 422, 422, 422, 422, 422, 422}},
        /* NUL on the wire: Kestra 422 (InvalidPathException); Kite's router answers 400 to any %00 in a query
         * string before a route runs. A NUL that reaches a route (%2500, decoded once to %00) is a literal name. */
        {"ok.txt%00", {400, 400, 400, 400, 400, 400, 400, 400}},
        {"%00%2F..%2Fcanary.txt", {400, 400, 400, 400, 400, 400, 400, 400}},
        {"%01%2F..%2Fcanary.txt", {422, 422, 422, 422, 422, 422, 422, 422}},    /* a control character */
        {"kestra%3A%2F%2F%2F..%2Fcanary.txt", {422, 422, 422, 422, 422, 422, 422, 422}}, /* a URI as a path */
        {"kestra%3A%2F%2F%2Fio%2Fkite%2Fother%2F_files%2Fx", {422, 422, 422, 422, 422, 422, 422, 422}},
        /* decoded once: the literal names `%2e%2e`, folders inside the namespace (upload makes them, the moves and
         * the delete then find them) */
        {"%252e%252e%2F%252e%252e%2Fcanary.txt", {404, 404, 404, 200, 200, 200, 200, 200}},
        /* absolute paths are namespace-relative: never the machine's /etc/passwd */
        {"%2Fetc%2Fpasswd", {404, 404, 404, 200, 200, 200, 200, 200}},
        {"%2F%2Fetc%2Fpasswd", {404, 404, 404, 200, 200, 200, 200, 200}},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        for (size_t k = 0; k < NR; k++) {
            char pq[2048];
            /* the move's other end must exist for a refusal to be about the path alone */
            assert_int_equal(req("POST", f->port, NSF "?path=%2Fok.txt", "ok", 2, "fileContent", "ok.txt", &r), 200);
            free(r.body);
            snprintf(pq, sizeof pq, k_routes[k].fmt, rows[i].sent);
            long st = req(k_routes[k].method, f->port, pq, k_routes[k].upload ? "evil" : NULL, 4, "fileContent",
                          "f.bin", &r);
            if (st != rows[i].expect[k]) {
                fprintf(stderr, "%s %s -> %ld (want %d) %.300s\n", k_routes[k].method, pq, st, rows[i].expect[k],
                        r.body ? r.body : "");
                fail();
            }
            clean_body(&r, pq);
            free(r.body);
        }
    /* search: q is a filter over the namespace's own paths, nothing is resolved from it */
    static const char *const qs[] = {"..%2F", "%2e%2e", "canary", "%2Fetc%2Fpasswd", "..%5C"};
    for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
        char pq[512];
        snprintf(pq, sizeof pq, NSF "/search?q=%s", qs[i]);
        assert_int_equal(req("GET", f->port, pq, NULL, 0, NULL, NULL, &r), 200);
        clean_body(&r, pq);
        json_t *j = json_loads(r.body, 0, NULL);
        size_t idx;
        json_t *v;
        json_array_foreach(j, idx, v) assert_null(strstr(json_string_value(v), ".."));
        json_decref(j);
        free(r.body);
    }
    /* export: every entry a namespace-relative name, no canary inside */
    assert_int_equal(req("GET", f->port, NSF "/export", NULL, 0, NULL, NULL, &r), 200);
    kt_zip_reader *z;
    char err[512];
    kt_zip_limits lim = {1000, 1 << 30};
    assert_int_equal(kt_zip_open(r.body, r.len, &lim, &z, err, sizeof err), KT_OK); /* its own checks: no .., no / */
    assert_true(kt_zip_count(z) >= 1);
    for (size_t i = 0; i < kt_zip_count(z); i++) {
        char *out;
        size_t len;
        assert_int_equal(kt_zip_read_all(z, i, 1 << 20, &out, &len, err, sizeof err), KT_OK);
        assert_null(strstr(out, CANARY));
        free(out);
    }
    kt_zip_close(z);
    free(r.body);
    /* import: entries that climb out, absolute or with backslashes (the archive is refused whole) */
    static const char *const names[] = {"../canary.txt", "../../canary.txt", "a/../../canary.txt", "/canary.txt",
                                        "..\\canary.txt", "C:/canary.txt"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        kt_zip_writer *w = kt_zip_writer_new(0);
        kt_buf b = {0};
        assert_int_equal(kt_zip_entry_begin(w, "fine.txt", 0, &b), KT_OK);
        assert_int_equal(kt_zip_entry_write(w, "fine", 4, &b), KT_OK);
        assert_int_equal(kt_zip_entry_end(w, &b), KT_OK);
        assert_int_equal(kt_zip_entry_begin(w, names[i], 0, &b), KT_OK);
        assert_int_equal(kt_zip_entry_write(w, "OVERWRITTEN", 11, &b), KT_OK);
        assert_int_equal(kt_zip_finish(w, &b), KT_OK);
        kt_zip_writer_free(w);
        assert_int_equal(req("POST", f->port, NSF "?path=%2F", b.p, b.len, "fileContent", "x.zip", &r), 422);
        free(r.body);
        free(b.p);
        char p[1024];
        snprintf(p, sizeof p, "%s/data/storage/" NS_PATH "/_files/fine.txt", f->dir);
        assert_int_equal(access(p, F_OK), -1);
    }
    check_canaries(f);
    assert_int_equal(outside(f), before);
}

/* ---- FILE inputs on resume ---- */

static const char *RESUME_FLOW =
    "id: approve\nnamespace: " NS "\ntasks:\n"
    "  - id: wait\n    type: io.kestra.plugin.core.flow.Pause\n    onResume:\n"
    "      - id: doc\n        type: FILE\n        extension: .txt\n"
    "      - id: who\n        type: STRING\n"
    "  - id: size\n    type: io.kestra.plugin.core.storage.Size\n    uri: \"{{ outputs.wait.onResume.doc }}\"\n"
    "  - id: uri\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{ outputs.wait.onResume.doc }}\"\n";

/* POST …/resume with the file part doc (and who when not NULL). */
static long resume(int port, const char *id, const void *data, size_t len, const char *who, json_t **out)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s/resume", id);
    const char *fields[] = {"who", who, NULL};
    return kt_it_post_file(port, path, "doc", data, len, who ? fields : NULL, out);
}

static int g_files;
static int count_files(const char *p, const struct stat *sb, int flag, struct FTW *w)
{
    (void)p, (void)sb, (void)w;
    g_files += flag == FTW_F;
    return 0;
}

static int files_in(const char *dir)
{
    g_files = 0;
    nftw(dir, count_files, 8, FTW_PHYS);
    return g_files;
}

static void test_resume_with_file(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, RESUME_FLOW, NULL);
    json_t *res;
    const char *none[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/" NS "/approve", none, &res), 200);
    char id[64], inputs[1024];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_decref(kt_it_wait_state(&f->server, f->port, id, "PAUSED", 10000));
    snprintf(inputs, sizeof inputs, "%s/data/storage/" NS_PATH "/approve/executions/%s/inputs", f->dir, id);
    size_t len = 150 * 1024 + 3; /* several chunks */
    unsigned char *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 31 + 7);

    /* refused (who is missing): 422, and the stored file is removed again */
    assert_int_equal(resume(f->port, id, data, len, NULL, &res), 422);
    json_decref(res);
    int left = 1;
    for (int i = 0; i < 50 && (left = files_in(inputs)); i++)
        kt_it_sleep_ms(50);
    assert_int_equal(left, 0);
    json_t *ex = kt_it_get_execution(f->port, id);
    assert_string_equal(kt_it_state(ex), "PAUSED");
    json_decref(ex);

    assert_int_equal(resume(f->port, id, data, len, "Ada", &res), 204);
    json_decref(res);
    ex = kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 15000);
    const char *uri = json_string_value(json_object_get(json_object_get(kt_it_taskrun(ex, "uri"), "outputs"), "value"));
    assert_non_null(uri);
    char re[512];
    snprintf(re, sizeof re, "^kestra:///" NS_PATH "/approve/executions/%s/inputs/doc/doc_[0-9]+\\.txt$", id);
    regex_t rx;
    assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    assert_int_equal(regexec(&rx, uri, 0, NULL, 0), 0);
    regfree(&rx);
    json_t *size = json_object_get(json_object_get(kt_it_taskrun(ex, "size"), "outputs"), "size");
    assert_int_equal(json_integer_value(size), (json_int_t)len);
    /* the resumed task's onResume output holds the URI too */
    json_t *wait = json_object_get(kt_it_taskrun(ex, "wait"), "outputs");
    assert_string_equal(json_string_value(json_object_get(json_object_get(wait, "onResume"), "doc")), uri);
    char enc[2048], pq[4096];
    qenc(uri, enc, sizeof enc);
    snprintf(pq, sizeof pq, "/api/v1/executions/%s/file?path=%s", id, enc);
    resp r;
    assert_int_equal(req("GET", f->port, pq, NULL, 0, NULL, NULL, &r), 200);
    assert_int_equal(r.len, len);
    assert_memory_equal(r.body, data, len);
    free(r.body);
    json_decref(ex);
    assert_int_equal(files_in(inputs), 1);
    free(data);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_execution_file_routes, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_namespace_file_routes, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_resume_with_file, kt_it_setup, kt_it_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
