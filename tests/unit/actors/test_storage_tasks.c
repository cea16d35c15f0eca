/* The internal-storage tasks (actors/worker/tasks_storage.c) on a real worker with a real local storage in a
 * temporary folder: Size, Delete, Concat and Reverse, their outputs and their refusals (bad schemes, traversal,
 * missing files, no storage). */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "actors/executor/executor.h"
#include "actors/worker/task.h"
#include "actors/worker/worker.h"
#include "base/log.h"
#include "store/storage.h"
#include "store/storage_uri.h"
#include "tests/unit/json_parse.h"
#include "tests/unit/actors/worker_fixture.h"


#define ST "io.kestra.plugin.core.storage."
#define TR_PREFIX "kestra:///a/b/f/executions/x1/tasks/t1/"

/* The output URI is a new file <id><ext> in the task run's folder. */
static void assert_output_uri(const char *uri, const char *taskrun, const char *ext)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, TR_PREFIX "%s/", taskrun);
    assert_non_null(uri);
    if (strncmp(uri, prefix, strlen(prefix)))
        fail_msg("%s is not under %s", uri, prefix);
    const char *last = uri + strlen(prefix);
    size_t idlen = strspn(last, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    assert_true(idlen >= 1 && idlen <= 22);
    assert_string_equal(last + idlen, ext);
}

static void test_size(void **state)
{
    fixture *f = *state;
    probe p;
    put(f, "a/b/f/executions/x1/in.txt", "hello world");
    run_task(f, ST "Size", "{\"uri\":\"kestra:///a/b/f/executions/x1/in.txt\"}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "size")), 11);
    probe_clear(&p);
    /* the legacy alias runs the same task; Kestra checks no execution prefix for Size */
    put(f, "other/ns/file.bin", "");
    run_task(f, "io.kestra.core.tasks.storages.Size", "{\"uri\":\"kestra:///other/ns/file.bin\"}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "size")), 0);
    probe_clear(&p);
    assert_failed(f, ST "Size", "{\"uri\":\"kestra:///a/b/none.txt\"}", "none.txt");
    assert_failed(f, ST "Size", "{\"uri\":\"/a/b/f/executions/x1/in.txt\"}",
                  "Invalid internal storage uri, got uri '/a/b/f/executions/x1/in.txt'");
    assert_failed(f, ST "Size", "{\"uri\":\"file:///etc/passwd\"}",
                  "Invalid internal storage scheme, got uri 'file:///etc/passwd'");
    assert_failed(f, ST "Size", "{\"uri\":\"kestra:///a/%2e%2e/%2e%2e/etc/passwd\"}", "kestra:///a/%2e%2e");
    assert_failed(f, ST "Size", "{}", "uri: must not be null");
    run_task(f, ST "Size", "{\"uri\":\"kestra:///a/b/f/executions/x1/in.txt\"}", "tr1", 0, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "no internal storage"));
    probe_clear(&p);
}

static void test_delete(void **state)
{
    fixture *f = *state;
    probe p;
    put(f, "a/b/f/executions/x1/d.txt", "x");
    run_task(f, ST "Delete", "{\"uri\":\"kestra:///a/b/f/executions/x1/d.txt\"}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_string_equal(json_string_value(json_object_get(p.outputs, "uri")), "kestra:///a/b/f/executions/x1/d.txt");
    assert_true(json_is_true(json_object_get(p.outputs, "deleted")));
    assert_null(stored(f, "kestra:///a/b/f/executions/x1/d.txt"));
    probe_clear(&p);
    /* missing: false by default, Kestra's error with errorOnMissing */
    run_task(f, ST "Delete", "{\"uri\":\"kestra:///a/b/f/executions/x1/d.txt\"}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_true(json_is_false(json_object_get(p.outputs, "deleted")));
    probe_clear(&p);
    assert_failed(f, ST "Delete", "{\"uri\":\"kestra:///a/b/f/executions/x1/d.txt\", \"errorOnMissing\":true}",
                  "Unable to find file 'kestra:///a/b/f/executions/x1/d.txt'");
    /* a folder goes whole, as LocalStorage.delete does; the root never */
    put(f, "a/b/f/executions/x2/sub/one.txt", "1");
    put(f, "a/b/f/executions/x2/two.txt", "2");
    run_task(f, ST "Delete", "{\"uri\":\"kestra:///a/b/f/executions/x2\"}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_true(json_is_true(json_object_get(p.outputs, "deleted")));
    assert_null(stored(f, "kestra:///a/b/f/executions/x2/two.txt"));
    probe_clear(&p);
    put(f, "a/b/f/executions/x1/keep.txt", "k");
    assert_failed(f, ST "Delete", "{\"uri\":\"kestra:///\"}", "kestra:///");
    char *kept = stored(f, "kestra:///a/b/f/executions/x1/keep.txt");
    assert_string_equal(kept, "k");
    free(kept);
    assert_failed(f, ST "Delete", "{\"uri\":\"s3://bucket/x\"}", "Invalid internal storage scheme, got uri 's3://bucket/x'");
    assert_failed(f, ST "Delete", "{\"uri\":\"kestra:///a/../b\"}", "kestra:///a/../b");
}

static void test_concat(void **state)
{
    fixture *f = *state;
    probe p;
    put(f, "a/b/f/executions/x1/1.txt", "one");
    put(f, "a/b/f/executions/x1/2.txt", "two\n");
    /* a file bigger than one storage chunk streams through */
    size_t big = 3 * KT_STORAGE_CHUNK + 17;
    char *body = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        body[i] = (char)('a' + i % 26);
    body[big] = 0;
    put(f, "a/b/f/executions/x1/big.txt", body);
    run_task(f, ST "Concat",
             "{\"files\":[\"kestra:///a/b/f/executions/x1/1.txt\", \"kestra:///a/b/f/executions/x1/2.txt\"],"
             " \"separator\":\"|\"}",
             "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    const char *uri = json_string_value(json_object_get(p.outputs, "uri"));
    assert_output_uri(uri, "tr1", ".tmp");
    char *got = stored(f, uri);
    assert_string_equal(got, "one|two\n|"); /* the separator after each file, the last one too */
    free(got);
    probe_clear(&p);
    /* files as a JSON string, an extension, no separator, the big file in the middle */
    run_task(f, ST "Concat",
             "{\"files\":\"[\\\"kestra:///a/b/f/executions/x1/1.txt\\\", \\\"kestra:///a/b/f/executions/x1/big.txt\\\","
             " \\\"kestra:///a/b/f/executions/x1/1.txt\\\"]\", \"extension\":\".csv\"}",
             "tr2", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    uri = json_string_value(json_object_get(p.outputs, "uri"));
    assert_output_uri(uri, "tr2", ".csv");
    char path[1100], err[256], file[1400];
    assert_int_equal(kt_suri_path(uri, path, sizeof path, err, sizeof err), KT_OK);
    snprintf(file, sizeof file, "%s/%s", f->storage, path);
    FILE *fp = fopen(file, "rb");
    assert_non_null(fp);
    char *all = calloc(1, big + 16);
    size_t n = fread(all, 1, big + 16, fp);
    fclose(fp);
    assert_int_equal(n, big + 6);
    assert_memory_equal(all, "one", 3);
    assert_memory_equal(all + 3, body, big);
    assert_memory_equal(all + 3 + big, "one", 3);
    free(all);
    free(body);
    probe_clear(&p);
    /* errors: a missing file (nothing left behind), a bad scheme, bad shapes */
    assert_failed(f, ST "Concat", "{\"files\":[\"kestra:///a/b/f/executions/x1/1.txt\", \"kestra:///a/b/none\"]}",
                  "none");
    assert_failed(f, ST "Concat", "{\"files\":[\"http://x/y\"]}", "Invalid internal storage scheme, got uri 'http://x/y'");
    assert_failed(f, ST "Concat", "{\"files\":{\"a\":1}}",
                  "Invalid `files` properties with type 'class java.util.LinkedHashMap'");
    assert_failed(f, ST "Concat", "{\"files\":\"not json\"}", "is not a JSON list of URIs");
    assert_failed(f, ST "Concat", "{\"files\":[1]}", "files[0]: must be a string");
    assert_failed(f, ST "Concat", "{\"files\":[\"kestra:///a/b/f/executions/x1/1.txt\"], \"extension\":\"/x\"}",
                  "does not make a valid file name");
    char tr9[256];
    snprintf(tr9, sizeof tr9, "%s/a/b/f/executions/x1/tasks/t1/tr9", f->storage);
    struct stat sb;
    if (stat(tr9, &sb) == 0) { /* the failed writers left no file */
        char cmd[400];
        snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s)\"", tr9);
        assert_int_equal(system(cmd), 0);
    }
}

static void reversed(fixture *f, const char *in, const char *props_extra, const char *want)
{
    probe p;
    char props[512];
    put(f, "a/b/f/executions/x1/r.yml", in);
    snprintf(props, sizeof props, "{\"from\":\"kestra:///a/b/f/executions/x1/r.yml\"%s}", props_extra);
    run_task(f, ST "Reverse", props, "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    const char *uri = json_string_value(json_object_get(p.outputs, "uri"));
    assert_output_uri(uri, "tr1", ".yml"); /* the extension of `from` is kept */
    char *got = stored(f, uri);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    probe_clear(&p);
}

static void test_reverse(void **state)
{
    fixture *f = *state;
    reversed(f, "1\n2\n3\n", "", "3\n2\n1\n"); /* Kestra's ReverseTest */
    reversed(f, "1\n2\n3", "", "3\n2\n1\n");
    reversed(f, "a\r\nb\rc\n", ", \"separator\":\";\"", "c;b;a;");
    reversed(f, "", "", "");
    /* ReversedLinesFileReader skips the first empty line it meets, wherever it is */
    reversed(f, "a\n\nb", "", "b\na\n");
    reversed(f, "a\n\n", "", "\na\n");
    reversed(f, "\n\n", "", "\n");
    reversed(f, "\na", "", "a\n");
    /* a line longer than the scan block */
    size_t big = 200 * 1024;
    char *in = malloc(big + 8), *want = malloc(big + 8);
    memset(in, 'x', big);
    memcpy(in + big, "\nyy\n", 5);
    memcpy(want, "yy\n", 3);
    memset(want + 3, 'x', big);
    memcpy(want + 3 + big, "\n", 2);
    probe p;
    put(f, "a/b/f/executions/x1/long", in);
    run_task(f, ST "Reverse", "{\"from\":\"kestra:///a/b/f/executions/x1/long\"}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    const char *uri = json_string_value(json_object_get(p.outputs, "uri"));
    assert_output_uri(uri, "tr1", ".tmp"); /* no extension: Files.createTempFile's .tmp */
    char path[1100], err[256], file[1400];
    assert_int_equal(kt_suri_path(uri, path, sizeof path, err, sizeof err), KT_OK);
    snprintf(file, sizeof file, "%s/%s", f->storage, path);
    FILE *fp = fopen(file, "rb");
    assert_non_null(fp);
    char *got = calloc(1, big + 16);
    assert_int_equal(fread(got, 1, big + 16, fp), big + 4);
    fclose(fp);
    assert_memory_equal(got, want, big + 4);
    free(got);
    free(in);
    free(want);
    probe_clear(&p);
    assert_failed(f, ST "Reverse", "{\"from\":\"kestra:///a/b/none.txt\"}", "none.txt");
    assert_failed(f, ST "Reverse", "{\"from\":\"a/b\"}", "Invalid internal storage uri, got uri 'a/b'");
    assert_failed(f, ST "Reverse", "{\"from\":\"kestra:///a/b/f/executions/x1/r.yml\", \"charset\":\"UTF-16\"}",
                  "charset 'UTF-16' is not supported");
    assert_failed(f, ST "Reverse", "{}", "from: must not be null");
    /* the local temporary files are gone */
    char cmd[300];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s)\"", f->work);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reverse, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
