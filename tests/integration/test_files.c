/* FILE inputs and the execution file API against a real server: a multipart file part is stored under the
 * execution's inputs folder and read back byte for byte through /file (streamed, Content-Disposition), /file/metas
 * and /file/preview; an empty upload and a refused creation leave no file; every traversal spelling and every
 * foreign path on the three routes is refused (table-driven), another execution's path redirects. */
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
#include <sys/stat.h>

#include "harness.h"

#define NS_PATH "io/kite/files"

static const char *FLOW =
    "id: upload\n"
    "namespace: io.kite.files\n"
    "inputs:\n"
    "  - id: f\n"
    "    type: FILE\n"
    "    extension: .bin\n"
    "  - id: t\n"
    "    type: FILE\n"
    "    required: false\n"
    "  - id: n\n"
    "    type: INT\n"
    "    required: false\n"
    "tasks:\n"
    "  - id: show\n"
    "    type: io.kestra.plugin.core.debug.Return\n"
    "    format: \"{{ inputs.f }}\"\n";

typedef kt_it_resp resp;

/* The value of a response header (case-insensitive name), copied into out; "" when absent. */
static const char *header_of(const resp *r, const char *name, char *out, size_t cap)
{
    out[0] = 0;
    size_t n = strlen(name);
    for (const char *l = r->headers; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
        if (!strncasecmp(l, name, n) && l[n] == ':') {
            const char *v = l + n + 1;
            while (*v == ' ')
                v++;
            size_t k = strcspn(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)(k < cap ? k : cap - 1), v);
            break;
        }
    }
    return out;
}

/* GET without following redirects, the path sent as written. */
static long get_raw(int port, const char *path, resp *r) { return kt_it_request("GET", port, path, NULL, 0, NULL, NULL, r); }

/* POST the creation with one binary file part for input `id` (and text fields); the response JSON. */
static long post_file(int port, const char *id, const void *data, size_t len, const char *const *fields, json_t **out)
{
    return kt_it_post_file(port, "/api/v1/executions/io.kite.files/upload", id, data, len, fields, out);
}

static void qenc(const char *in, char *out, size_t cap)
{
    CURL *c = curl_easy_init();
    char *e = curl_easy_escape(c, in, 0);
    snprintf(out, cap, "%s", e);
    curl_free(e);
    curl_easy_cleanup(c);
}

static int match(const char *re, const char *s)
{
    regex_t rx;
    assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    int ok = regexec(&rx, s, 0, NULL, 0) == 0;
    regfree(&rx);
    return ok;
}

/* Files stored under <rel> (0 when it does not exist), on the local disk or in the bucket. */
static int files_under(const char *dir, const char *rel)
{
    return kt_it_stored_files(dir, rel);
}

/* Uploads data as input f (and text as t when not NULL); the execution id and the URIs. */
static void upload(kt_it_fixture *f, const void *data, size_t len, char *id, char *uri_f)
{
    json_t *ex = NULL;
    long st = post_file(f->port, "f", data, len, NULL, &ex);
    assert_int_equal(st, 200);
    snprintf(id, 64, "%s", json_string_value(json_object_get(ex, "id")));
    const char *u = json_string_value(json_object_get(json_object_get(ex, "inputs"), "f"));
    assert_non_null(u);
    snprintf(uri_f, 512, "%s", u);
    json_decref(ex);
    char re[512];
    snprintf(re, sizeof re, "^kestra:///" NS_PATH "/upload/executions/%s/inputs/f/f_[0-9]+\\.bin$", id);
    assert_true(match(re, uri_f));
}

static void test_upload_and_download(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW, NULL);
    size_t len = 200 * 1024 + 17; /* several storage chunks, NUL bytes included */
    unsigned char *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)((i * 2654435761u) >> 13);
    char id[64], uri[512], enc[2048], path[4096];
    upload(f, data, len, id, uri);
    json_t *ex = kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 15000);
    json_t *tr = kt_it_taskrun(ex, "show");
    assert_string_equal(json_string_value(json_object_get(json_object_get(tr, "outputs"), "value")), uri);
    json_decref(ex);

    qenc(uri, enc, sizeof enc);
    snprintf(path, sizeof path, "/api/v1/executions/%s/file?path=%s", id, enc);
    resp r;
    assert_int_equal(get_raw(f->port, path, &r), 200);
    assert_int_equal(r.len, len);
    assert_memory_equal(r.body, data, len);
    char h[512], want[512];
    const char *base = strrchr(uri, '/') + 1;
    snprintf(want, sizeof want, "attachment; filename=\"%s\"", base);
    assert_string_equal(header_of(&r, "Content-Disposition", h, sizeof h), want);
    assert_string_equal(header_of(&r, "Content-Type", h, sizeof h), "application/octet-stream");
    free(r.body);

    snprintf(path, sizeof path, "/api/v1/executions/%s/file/metas?path=%s", id, enc);
    json_t *m = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &m), 200);
    assert_int_equal(json_integer_value(json_object_get(m, "size")), (json_int_t)len);
    json_decref(m);
    free(data);
}

static void test_preview(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW, NULL);
    static const char text[] = "first\r\nsecond\nthird\n";
    json_t *ex = NULL;
    const char *fields[] = {"file:t", text, NULL};
    assert_int_equal(post_file(f->port, "f", "x", 1, fields, &ex), 200);
    char id[64], uri[512], enc[2048], path[4096];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(ex, "id")));
    snprintf(uri, sizeof uri, "%s", json_string_value(json_object_get(json_object_get(ex, "inputs"), "t")));
    json_decref(ex);
    assert_true(match("/inputs/t/t_[0-9]+\\.upl$", uri)); /* a FILE input without extension: .upl */
    qenc(uri, enc, sizeof enc);
    static const struct {
        const char *params;
        const char *content;
        int truncated;
    } rows[] = {
        {"", "first\nsecond\nthird", 0},
        {"&maxRows=2", "first\nsecond", 1},
        {"&maxRows=3&encoding=ISO-8859-1", "first\nsecond\nthird", 0},
        {"&encoding=utf-8", "first\nsecond\nthird", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        snprintf(path, sizeof path, "/api/v1/executions/%s/file/preview?path=%s%s", id, enc, rows[i].params);
        json_t *p = NULL;
        assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &p), 200);
        assert_string_equal(json_string_value(json_object_get(p, "type")), "TEXT");
        assert_string_equal(json_string_value(json_object_get(p, "extension")), "upl");
        assert_string_equal(json_string_value(json_object_get(p, "content")), rows[i].content);
        assert_int_equal(json_is_true(json_object_get(p, "truncated")), rows[i].truncated);
        json_decref(p);
    }
    snprintf(path, sizeof path, "/api/v1/executions/%s/file/preview?path=%s&encoding=nope", id, enc);
    json_t *e = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &e), 422);
    assert_string_equal(json_string_value(json_object_get(e, "message")),
                        "Illegal argument: Unable to preview using encoding 'nope'");
    json_decref(e);
}

/* Every route refuses every path outside the execution (and the state stores) the same way. */
static void test_traversal_table(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW, NULL);
    char id[64], uri[512];
    upload(f, "payload", 7, id, uri);
    char root[256];
    snprintf(root, sizeof root, "kestra:///" NS_PATH "/upload/executions/%s", id);
    static const char *const endpoints[] = {"file", "file/metas", "file/preview"};
    struct {
        char path[512]; /* the path parameter's value, before the query encoding */
        long status;
        char location[96]; /* for 301: the id the Location names */
    } rows[16];
    size_t n = 0;
#define ROW(st, loc, ...)                                                                                              \
    do {                                                                                                               \
        snprintf(rows[n].path, sizeof rows[n].path, __VA_ARGS__);                                                      \
        rows[n].status = st;                                                                                           \
        snprintf(rows[n].location, sizeof rows[n].location, "%s", loc);                                               \
        n++;                                                                                                           \
    } while (0)
    ROW(422, "", "%s/../../../../../../etc/passwd", root);
    ROW(422, "", "%s/inputs/f/%%2e%%2e/%%2e%%2e/%%2e%%2e/%%2e%%2e/upload/x", root); /* URI escapes of `..` */
    ROW(422, "", "%s/inputs/f/..%%2F..%%2F..%%2F..%%2Fx", root);                      /* `..` behind %2F */
    ROW(422, "", "%s/inputs/f/..\\..\\x", root);                                          /* backslashes */
    ROW(422, "", "/etc/passwd");
    ROW(422, "", "file:///etc/passwd");
    ROW(422, "", "../../../../etc/passwd");
    ROW(422, "", "kestra:///" NS_PATH "/upload/other.txt");               /* the same flow, outside the run */
    ROW(422, "", "kestra:///" NS_PATH "/upload/executions");              /* the parent of every run */
    char longer[80];
    snprintf(longer, sizeof longer, "%s-x", id);
    ROW(301, longer, "%s-x/inputs/f/y", root); /* a run whose id starts with this one's is another run */
    ROW(301, "4wjtkzwVGBM9yKnjm3yv8r", "kestra:///" NS_PATH "/upload/executions/4wjtkzwVGBM9yKnjm3yv8r/inputs/f/x");
    ROW(404, "", "%s/inputs/f/missing.bin", root);
    ROW(404, "", "%s/inputs/f", root); /* a folder is no file */
    ROW(200, "", "%s", uri);
#undef ROW
    for (size_t e = 0; e < sizeof endpoints / sizeof *endpoints; e++) {
        for (size_t i = 0; i < n; i++) {
            char enc[2048], path[4096], h[2048];
            qenc(rows[i].path, enc, sizeof enc);
            snprintf(path, sizeof path, "/api/v1/executions/%s/%s?path=%s", id, endpoints[e], enc);
            resp r;
            long st = get_raw(f->port, path, &r);
            if (st != rows[i].status)
                fail_msg("%s %s: %ld, expected %ld (%s)", endpoints[e], rows[i].path, st, rows[i].status,
                         r.body ? r.body : "");
            if (st == 422) {
                json_t *j = json_loads(r.body, 0, NULL);
                assert_string_equal(json_string_value(json_object_get(j, "message")),
                                    "Illegal argument: Invalid prefix path");
                json_decref(j);
            }
            if (st == 301) {
                char want[4096];
                snprintf(want, sizeof want, "/api/v1/executions/%s/%s?path=", rows[i].location, endpoints[e]);
                header_of(&r, "Location", h, sizeof h);
                assert_true(!strncmp(h, want, strlen(want)));
                char *dec = curl_easy_unescape(NULL, h + strlen(want), 0, NULL);
                assert_string_equal(dec, rows[i].path); /* the same path, for the execution it names */
                curl_free(dec);
            }
            free(r.body);
        }
    }
    /* an unknown execution */
    char enc[2048], path[4096];
    qenc(uri, enc, sizeof enc);
    snprintf(path, sizeof path, "/api/v1/executions/nosuchexecution/file?path=%s", enc);
    resp r;
    assert_int_equal(get_raw(f->port, path, &r), 404);
    free(r.body);
    assert_int_equal(get_raw(f->port, "/api/v1/executions/x/file", &r), 400); /* no path */
    free(r.body);
}

/* Kestra refuses an empty upload (FlowInputOutput: "Can't upload file"); a creation refused after its uploads
 * deletes them. Neither leaves an execution or a file. */
static void test_refusals_leave_no_files(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW, NULL);
    json_t *res = NULL;
    assert_int_equal(post_file(f->port, "f", "", 0, NULL, &res), 500);
    assert_string_equal(json_string_value(json_object_get(res, "message")),
                        "Internal server error: Can't upload file: f");
    json_decref(res);
    const char *bad_int[] = {"n", "abc", NULL};
    assert_int_equal(post_file(f->port, "f", "data", 4, bad_int, &res), 422);
    assert_non_null(strstr(json_string_value(json_object_get(res, "message")), "Invalid input for `n`"));
    json_decref(res);
    assert_int_equal(files_under(f->dir, NS_PATH "/upload"), 0);
    json_t *search = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/executions/search?namespace=io.kite.files", NULL, NULL,
                                     &search), 200);
    assert_int_equal(json_integer_value(json_object_get(search, "total")), 0);
    json_decref(search);
    /* a file part for an undeclared input is ignored (not stored) */
    const char *fields[] = {"file:undeclared", "zzz", NULL};
    assert_int_equal(post_file(f->port, "f", "ok", 2, fields, &res), 200);
    assert_null(json_object_get(json_object_get(res, "inputs"), "undeclared"));
    json_decref(res);
    assert_int_equal(files_under(f->dir, NS_PATH "/upload"), 1);
}

/* Also registered as test_files_on_s3 (KITE_IT_STORAGE=s3): the same routes with the server's storage on S3. */
int main(void)
{
    int rc = kt_it_s3_check();
    if (rc)
        return rc;
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_upload_and_download, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_preview, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_traversal_table, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_refusals_leave_no_files, kt_it_setup, kt_it_teardown),
    };
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
