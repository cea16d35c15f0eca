/* The namespace files API against a real server: an upload (multipart `fileContent`, missing folders made) read back
 * byte for byte, stats and listings as FileAttributes, folder creation, move, delete with the cascade of emptied
 * folders, search; and a table of traversal and forbidden paths on every route, each refused with Kestra's status
 * and text, nothing created anywhere on disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define NS "io.kite.nsf"
#define NS_PATH "io/kite/nsf"
#define BASE "/api/v1/namespaces/" NS "/files"

typedef kt_it_resp resp;

/* One request; path_query is sent as written (already encoded). With data, a multipart body whose `fileContent`
 * part holds data[0..len) under filename. */
static long req(const char *method, int port, const char *path_query, const void *data, size_t len,
                const char *filename, resp *r)
{
    return kt_it_request(method, port, path_query, data, len, NULL, filename, r);
}

static long req_json(const char *method, int port, const char *pq, json_t **out)
{
    resp r;
    long st = req(method, port, pq, NULL, 0, NULL, &r);
    *out = r.body ? json_loads(r.body, 0, NULL) : NULL;
    free(r.body);
    return st;
}

static long upload(int port, const char *path_enc, const void *data, size_t len)
{
    char pq[2048];
    resp r;
    snprintf(pq, sizeof pq, BASE "?path=%s", path_enc);
    long st = req("POST", port, pq, data, len, "f.bin", &r);
    free(r.body);
    return st;
}

/* NS_PATH/_files/<rel> in the storage (the data folder, or the bucket on S3): 'f' file, 'd' folder, 0 absent. */
static int on_disk(const kt_it_fixture *f, const char *rel)
{
    char p[1024];
    snprintf(p, sizeof p, NS_PATH "/_files/%s", rel);
    size_t n = strlen(p);
    if (n && p[n - 1] == '/')
        p[n - 1] = 0;
    return kt_it_stored_kind(f->dir, p);
}

static int nentries;
static int count_entry(const char *p, const struct stat *sb, int flag, struct FTW *w)
{
    (void)p, (void)sb, (void)flag, (void)w;
    nentries++;
    return 0;
}

/* Files and folders under DIR (everything the test and the server made). */
static int entries_under(const char *dir)
{
    nentries = 0;
    nftw(dir, count_entry, 8, FTW_PHYS);
    return nentries;
}

static void test_upload_read_stats_list(void **state)
{
    kt_it_fixture *f = *state;
    size_t len = 200 * 1024 + 13; /* several storage chunks, NUL bytes included */
    unsigned char *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)((i * 7 + i / 256) & 0xFF);

    assert_int_equal(upload(f->port, "%2Fscripts%2Fsub%2Fmain.bin", data, len), 200); /* folders made */
    assert_int_equal(on_disk(f, "scripts/sub/main.bin"), 'f');

    resp r;
    assert_int_equal(req("GET", f->port, BASE "?path=/scripts/sub/main.bin", NULL, 0, NULL, &r), 200);
    assert_int_equal(r.len, len);
    assert_memory_equal(r.body, data, len);
    assert_non_null(strcasestr(r.headers, "content-type: application/octet-stream"));
    assert_null(strcasestr(r.headers, "content-disposition"));
    free(r.body);
    /* without the leading '/', and with "./": the same file */
    assert_int_equal(req("GET", f->port, BASE "?path=./scripts/sub/main.bin", NULL, 0, NULL, &r), 200);
    assert_int_equal(r.len, len);
    free(r.body);

    /* overwrite */
    assert_int_equal(upload(f->port, "scripts/sub/main.bin", "v2", 2), 200);
    assert_int_equal(req("GET", f->port, BASE "?path=/scripts/sub/main.bin", NULL, 0, NULL, &r), 200);
    assert_int_equal(r.len, 2);
    assert_memory_equal(r.body, "v2", 2);
    free(r.body);

    json_t *j;
    assert_int_equal(req_json("GET", f->port, BASE "/stats?path=/scripts/sub/main.bin", &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "fileName")), "main.bin");
    assert_string_equal(json_string_value(json_object_get(j, "type")), "File");
    assert_int_equal(json_integer_value(json_object_get(j, "size")), 2);
    assert_true(json_integer_value(json_object_get(j, "lastModifiedTime")) > 1600000000000LL);
    assert_true(json_integer_value(json_object_get(j, "creationTime")) > 1600000000000LL);
    assert_null(json_object_get(j, "metadata"));
    json_decref(j);
    assert_int_equal(req_json("GET", f->port, BASE "/stats", &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "fileName")), "_files");
    assert_string_equal(json_string_value(json_object_get(j, "type")), "Directory");
    assert_int_equal(json_integer_value(json_object_get(j, "size")), 0);
    json_decref(j);
    assert_int_equal(req_json("GET", f->port, BASE "/stats?path=/nope.txt", &j), 404);
    json_decref(j);
    assert_int_equal(req_json("GET", f->port, BASE "?path=/nope.txt", &j), 404);
    json_decref(j);
    assert_int_equal(req_json("GET", f->port, BASE "?path=/scripts", &j), 404); /* a folder is no file */
    json_decref(j);
    assert_int_equal(req_json("GET", f->port, BASE, &j), 400);
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "Bad Request: Required QueryValue [path] not specified");
    json_decref(j);

    assert_int_equal(upload(f->port, "%2Fscripts%2Fa.txt", "a", 1), 200);
    assert_int_equal(req_json("GET", f->port, BASE "/directory?path=/scripts", &j), 200);
    assert_int_equal(json_array_size(j), 2); /* sorted by name */
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "fileName")), "a.txt");
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "type")), "File");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "size")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "fileName")), "sub");
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "type")), "Directory");
    json_decref(j);
    assert_int_equal(req_json("GET", f->port, BASE "/directory", &j), 200);
    assert_int_equal(json_array_size(j), 1);
    json_decref(j);
    assert_int_equal(req_json("GET", f->port, BASE "/directory?path=/missing", &j), 404);
    json_decref(j);

    /* another namespace: its root is made by the listing, which is empty */
    assert_int_equal(req_json("GET", f->port, "/api/v1/namespaces/io.kite.other/files/directory", &j), 200);
    assert_true(json_is_array(j) && json_array_size(j) == 0);
    json_decref(j);
    assert_int_equal(kt_it_stored_kind(f->dir, "io/kite/other/_files"), 'd');
    free(data);
}

static void test_dirs_move_delete_search(void **state)
{
    kt_it_fixture *f = *state;
    json_t *j;
    resp r;
    assert_int_equal(req("POST", f->port, BASE "/directory?path=/a/b/c", NULL, 0, NULL, &r), 200);
    free(r.body);
    assert_int_equal(on_disk(f, "a/b/c"), 'd');
    assert_int_equal(req("POST", f->port, BASE "/directory?path=/a/b/c", NULL, 0, NULL, &r), 200); /* again: fine */
    free(r.body);
    assert_int_equal(upload(f->port, "/a/b/c/x.txt", "xx", 2), 200);
    assert_int_equal(upload(f->port, "/keep.txt", "k", 1), 200);

    /* move a file, then a folder */
    assert_int_equal(req("PUT", f->port, BASE "?from=/a/b/c/x.txt&to=/a/y.txt", NULL, 0, NULL, &r), 200);
    free(r.body);
    assert_int_equal(on_disk(f, "a/b/c/x.txt"), 0);
    assert_int_equal(on_disk(f, "a/y.txt"), 'f');
    assert_int_equal(req("GET", f->port, BASE "?path=/a/y.txt", NULL, 0, NULL, &r), 200);
    assert_int_equal(r.len, 2);
    assert_memory_equal(r.body, "xx", 2);
    free(r.body);
    assert_int_equal(req("PUT", f->port, BASE "?from=/a/b&to=/a/d", NULL, 0, NULL, &r), 200);
    free(r.body);
    assert_int_equal(on_disk(f, "a/b"), 0);
    assert_int_equal(on_disk(f, "a/d/c"), 'd');
    assert_int_equal(req_json("PUT", f->port, BASE "?from=/nope&to=/a/z", &j), 404);
    json_decref(j);
    assert_int_equal(req_json("PUT", f->port, BASE "?from=/a&to=/a/d/inside", &j), 422);
    json_decref(j);
    assert_int_equal(req_json("PUT", f->port, BASE "?to=/x", &j), 400);
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "Bad Request: Required QueryValue [from] not specified");
    json_decref(j);

    /* search: files only, "/dir/file" paths containing q, in reverse order */
    assert_int_equal(upload(f->port, "/s/one.py", "1", 1), 200);
    assert_int_equal(upload(f->port, "/s/two.py", "2", 1), 200);
    assert_int_equal(req_json("GET", f->port, BASE "/search?q=.py", &j), 200);
    assert_int_equal(json_array_size(j), 2);
    assert_string_equal(json_string_value(json_array_get(j, 0)), "/s/two.py");
    assert_string_equal(json_string_value(json_array_get(j, 1)), "/s/one.py");
    json_decref(j);
    assert_int_equal(req_json("GET", f->port, BASE "/search?q=y.t", &j), 200);
    assert_int_equal(json_array_size(j), 1);
    assert_string_equal(json_string_value(json_array_get(j, 0)), "/a/y.txt");
    json_decref(j);
    assert_int_equal(req_json("GET", f->port, "/api/v1/namespaces/io.kite.empty/files/search?q=x", &j), 200);
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);

    /* delete: a file whose folder keeps content, then a folder whose parents empty out (removed up to the root) */
    assert_int_equal(req("DELETE", f->port, BASE "?path=/a/y.txt", NULL, 0, NULL, &r), 200);
    free(r.body);
    assert_int_equal(on_disk(f, "a/y.txt"), 0);
    assert_int_equal(on_disk(f, "a/d/c"), 'd');
    assert_int_equal(req("DELETE", f->port, BASE "?path=a/d/c", NULL, 0, NULL, &r), 200); /* '/' prepended */
    free(r.body);
    assert_int_equal(on_disk(f, "a"), 0); /* a/d and a became empty: gone */
    assert_int_equal(on_disk(f, "keep.txt"), 'f');
    assert_int_equal(on_disk(f, ""), 'd');
    assert_int_equal(req("DELETE", f->port, BASE "?path=/s", NULL, 0, NULL, &r), 200); /* a whole folder */
    free(r.body);
    assert_int_equal(on_disk(f, "s"), 0);
    assert_int_equal(req("DELETE", f->port, BASE "?path=/never", NULL, 0, NULL, &r), 200); /* absent: fine */
    free(r.body);
    assert_int_equal(on_disk(f, "keep.txt"), 'f');
}

static void test_traversal_table(void **state)
{
    kt_it_fixture *f = *state;
    assert_int_equal(upload(f->port, "/ok.txt", "ok", 2), 200);
    static const char *const traversal =
        "Illegal argument: File should be accessed with their full path and not using relative '..' path.";
    static const struct {
        const char *sent; /* the path parameter as written on the wire */
        const char *message; /* the exact message, or NULL: any "Illegal argument: " one */
    } rows[] = {
        {"..%2Fx", NULL},            /* ../x */
        {"../x", NULL},
        {"a%2F..%2F..%2Fx", NULL},   /* a/../../x */
        {"%2e%2e%2Fx", NULL},        /* %2e%2e decoded by the HTTP layer: ../x */
        {"%2e%2e/x", NULL},
        {"%2F..%2F..%2F..%2Fetc%2Fpasswd", NULL},
        {"..", NULL},
        {"..%5Cx", NULL},            /* ..\x */
        {"a%5C..%5C..%5Cx", NULL},   /* a\..\..\x */
        {"a%5Cb", NULL},             /* a backslash in a name */
        {"a%2F.%2Fb", NULL},         /* a . segment inside */
        {"a%2F%2Fb", NULL},          /* an empty segment */
        {"%01x", NULL},              /* a control character */
        {"_flows%2Fx", "Illegal argument: Forbidden path: /_flows/x"},
        {"%2F_flows%2Fx", "Illegal argument: Forbidden path: /_flows/x"},
        {"%2F_flows", "Illegal argument: Forbidden path: /_flows"},
    };
    static const struct {
        const char *method, *fmt; /* fmt takes the bad path once */
        int upload;
    } routes[] = {
        {"GET", BASE "?path=%s", 0},
        {"GET", BASE "/stats?path=%s", 0},
        {"GET", BASE "/directory?path=%s", 0},
        {"POST", BASE "?path=%s", 1},
        {"POST", BASE "/directory?path=%s", 0},
        {"PUT", BASE "?from=%s&to=%%2Fmoved.txt", 0},
        {"PUT", BASE "?from=%%2Fok.txt&to=%s", 0},
        {"DELETE", BASE "?path=%s", 0},
    };
    int before = entries_under(f->dir) + kt_it_stored_count(f->dir); /* the keys too, on S3 */
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        for (size_t k = 0; k < sizeof routes / sizeof *routes; k++) {
            char pq[2048];
            resp r;
            snprintf(pq, sizeof pq, routes[k].fmt, rows[i].sent);
            long st = req(routes[k].method, f->port, pq, routes[k].upload ? "evil" : NULL, 4, "f.bin", &r);
            json_t *j = r.body ? json_loads(r.body, 0, NULL) : NULL;
            const char *msg = json_string_value(json_object_get(j, "message"));
            if (st != 422 || !msg) {
                fprintf(stderr, "%s %s -> %ld %s\n", routes[k].method, pq, st, r.body ? r.body : "");
                fail();
            }
            const char *sent = rows[i].sent;
            int dotdot = strstr(sent, "..") || strstr(sent, "%2e%2e");
            if (rows[i].message)
                assert_string_equal(msg, rows[i].message);
            else if (dotdot)
                assert_string_equal(msg, traversal);
            else
                assert_true(!strncmp(msg, "Illegal argument: ", 18));
            json_decref(j);
            free(r.body);
        }
    }
    /* deeper _flows paths on upload: Kestra's flow-import text */
    json_t *j;
    resp r;
    assert_int_equal(req("POST", f->port, BASE "?path=%2F_flows%2Fa%2Fb.yml", "x", 1, "b.yml", &r), 422);
    j = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "Illegal argument: Invalid flow file path: /_flows/a/b.yml");
    json_decref(j);
    free(r.body);
    /* nothing made, moved or removed anywhere under the test's folder */
    assert_int_equal(entries_under(f->dir) + kt_it_stored_count(f->dir), before);
    assert_int_equal(on_disk(f, "ok.txt"), 'f');
    assert_int_equal(on_disk(f, "moved.txt"), 0);

    /* an absolute path is namespace-relative, as in Kestra: it reads and writes inside the namespace only */
    assert_int_equal(req_json("GET", f->port, BASE "?path=%2Fetc%2Fpasswd", &j), 404);
    json_decref(j);
    assert_int_equal(upload(f->port, "%2Fetc%2Fpasswd", "mine", 4), 200);
    assert_int_equal(on_disk(f, "etc/passwd"), 'f');
    /* `%252e%252e` is decoded once: the literal name `%2e%2e`, a plain folder inside the namespace */
    assert_int_equal(upload(f->port, "%252e%252e%2Fx", "lit", 3), 200);
    assert_int_equal(on_disk(f, "%2e%2e/x"), 'f');
    assert_int_equal(req("GET", f->port, BASE "?path=%252e%252e%2Fx", NULL, 0, NULL, &r), 200);
    assert_int_equal(r.len, 3);
    free(r.body);
    /* moving the root, or onto it, is refused */
    assert_int_equal(req_json("PUT", f->port, BASE "?from=%2F&to=%2Fz", &j), 422);
    json_decref(j);
    /* not multipart, no fileContent part */
    assert_int_equal(kt_it_http("POST", f->port, BASE "?path=%2Fj.txt", "application/json", "{}", NULL), 415);
    assert_int_equal(on_disk(f, "j.txt"), 0);
}

/* Also registered as test_nsfiles_on_s3 (KITE_IT_STORAGE=s3): the same routes with the server's storage on S3. */
int main(void)
{
    int rc = kt_it_s3_check();
    if (rc)
        return rc;
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_upload_read_stats_list, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_dirs_move_delete_search, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_traversal_table, kt_it_setup, kt_it_teardown),
    };
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
