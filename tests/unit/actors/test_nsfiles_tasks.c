/* The namespace-file tasks (actors/worker/tasks_nsfiles.c) on a real worker and a real local storage: Kestra's
 * pattern rules (a pattern starting with a word character matches at any depth; glob: and regex: against "/path"),
 * DownloadFiles' outputs, DeleteFiles, UploadFiles' filesMap with its conflict rules, and the refusals. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "tests/unit/actors/worker_fixture.h"

#define NS "io.kestra.plugin.core.namespace."
#define TR_PREFIX "kestra:///a/b/f/executions/x1/tasks/t1/"

static void put_tree(fixture *f)
{
    put(f, "a/b/_files/scripts/run.sh", "echo hi");
    put(f, "a/b/_files/data/in.csv", "1,2");
    put(f, "a/b/_files/data/deep/x.csv", "3,4");
    put(f, "a/b/_files/top.txt", "top");
    put(f, "c/_files/other.txt", "other ns");
}

static void run_ok(fixture *f, const char *type, const char *props, probe *p)
{
    run_task(f, type, props, "tr1", 1, p);
    if (strcmp(p->state, "SUCCESS")) {
        size_t i;
        json_t *e;
        json_array_foreach(p->logs, i, e)
            print_message("%s\n", json_string_value(json_object_get(e, "message")));
        fail_msg("%s %s ended %s", type, props, p->state);
    }
}

/* The output `files` map, as "key=uri;" in key order. */
static void assert_files(const probe *p, const char *want)
{
    json_t *files = json_object_get(p->outputs, "files");
    assert_true(json_is_object(files));
    char got[2048] = "";
    const char *keys[32];
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(files, k, v) keys[n++] = k;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(keys[j], keys[i]) < 0) {
                const char *t = keys[i];
                keys[i] = keys[j];
                keys[j] = t;
            }
    for (size_t i = 0; i < n; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s=%s;", keys[i],
                 json_string_value(json_object_get(files, keys[i])));
    assert_string_equal(got, want);
}

/* The run's one task metric: Kestra's counter `name` with its value. */
static void assert_counter(const probe *p, const char *name, double value)
{
    assert_int_equal(json_array_size(p->metrics), 1);
    json_t *m = json_array_get(p->metrics, 0);
    assert_string_equal(json_string_value(json_object_get(m, "name")), name);
    assert_string_equal(json_string_value(json_object_get(m, "type")), "counter");
    if (json_number_value(json_object_get(m, "value")) != value)
        fail_msg("%s = %g, want %g", name, json_number_value(json_object_get(m, "value")), value);
}

static void test_download(void **state)
{
    fixture *f = *state;
    probe p;
    put_tree(f);
    /* "data/..." and "top.txt" start with a word character: they match at any depth */
    run_ok(f, NS "DownloadFiles", "{\"namespace\":\"a.b\", \"files\":[\"data/**\", \"top.txt\"]}", &p);
    assert_files(&p, "/data/deep/x.csv=" TR_PREFIX "tr1/data/deep/x.csv;/data/in.csv=" TR_PREFIX
                     "tr1/data/in.csv;/top.txt=" TR_PREFIX "tr1/top.txt;");
    char *b = stored(f, TR_PREFIX "tr1/data/deep/x.csv");
    assert_string_equal(b, "3,4");
    free(b);
    assert_counter(&p, "downloaded", 3);
    probe_clear(&p);
    /* a pattern not starting with a word character is matched as written against "/path" */
    run_ok(f, NS "DownloadFiles", "{\"namespace\":\"a.b\", \"files\":\"*.csv\"}", &p);
    assert_files(&p, "");
    assert_counter(&p, "downloaded", 0);
    probe_clear(&p);
    run_ok(f, NS "DownloadFiles", "{\"namespace\":\"a.b\", \"files\":\"/**.csv\", \"destination\":\"out/\"}", &p);
    assert_files(&p, "/data/deep/x.csv=" TR_PREFIX "tr1/out/data/deep/x.csv;/data/in.csv=" TR_PREFIX
                     "tr1/out/data/in.csv;");
    probe_clear(&p);
    run_ok(f, NS "DownloadFiles", "{\"namespace\":\"a.b\", \"files\":[\"regex:/scripts/.*\\\\.sh\", \"glob:/*.txt\"]}",
           &p);
    assert_files(&p, "/scripts/run.sh=" TR_PREFIX "tr1/scripts/run.sh;/top.txt=" TR_PREFIX "tr1/top.txt;");
    probe_clear(&p);
    /* a namespace without files: nothing */
    run_ok(f, NS "DownloadFiles", "{\"namespace\":\"nope\", \"files\":\"**\"}", &p);
    assert_files(&p, "");
    probe_clear(&p);
    assert_failed(f, NS "DownloadFiles", "{\"namespace\":\"a.b\", \"files\":{\"a\":1}}",
                  "The files property must be a string or a list of strings");
    assert_failed(f, NS "DownloadFiles", "{\"namespace\":\"a.b\"}", "files: must not be null");
    assert_failed(f, NS "DownloadFiles", "{\"files\":\"**\"}", "namespace: must not be null");
    assert_failed(f, NS "DownloadFiles", "{\"namespace\":\"a.b\", \"files\":\"top.txt\", \"destination\":\"../../\"}",
                  "does not make a valid file name");
    assert_failed(f, NS "DownloadFiles", "{\"namespace\":\"a.b\", \"files\":\"[z-a]\"}", "invalid glob");
}

static void test_delete(void **state)
{
    fixture *f = *state;
    probe p;
    put_tree(f);
    run_ok(f, NS "DeleteFiles", "{\"namespace\":\"a.b\", \"files\":[\"/**.csv\"]}", &p);
    assert_true(!p.outputs || !json_object_size(p.outputs));
    assert_counter(&p, "deleted", 2);
    probe_clear(&p);
    char *b = stored(f, "kestra:///a/b/_files/data/in.csv");
    assert_null(b);
    assert_null(stored(f, "kestra:///a/b/_files/data/deep/x.csv"));
    b = stored(f, "kestra:///a/b/_files/top.txt");
    assert_string_equal(b, "top");
    free(b);
    b = stored(f, "kestra:///a/b/_files/scripts/run.sh");
    assert_string_equal(b, "echo hi");
    free(b);
    run_ok(f, NS "DeleteFiles", "{\"namespace\":\"c\", \"files\":\"other.txt\"}", &p);
    probe_clear(&p);
    assert_null(stored(f, "kestra:///c/_files/other.txt"));
    assert_failed(f, NS "DeleteFiles", "{\"namespace\":\"a.b\", \"files\":3}", "Files must be a String or a list of String");
}

static void test_upload(void **state)
{
    fixture *f = *state;
    probe p;
    put(f, "a/b/f/executions/x1/src.txt", "v1");
    run_ok(f, NS "UploadFiles",
           "{\"namespace\":\"a.b\", \"destination\":\"up/\", \"filesMap\":{\"new/a.txt\":\"kestra:///a/b/f/executions/x1/src.txt\","
           " \"missing.txt\":\"kestra:///a/b/f/executions/x1/none.txt\"}}",
           &p);
    assert_true(!p.outputs || !json_object_size(p.outputs));
    probe_clear(&p);
    char *b = stored(f, "kestra:///a/b/_files/up/new/a.txt");
    assert_string_equal(b, "v1");
    free(b);
    assert_null(stored(f, "kestra:///a/b/_files/up/missing.txt"));
    /* filesMap as a JSON string; destination "/" by default: "/" + key */
    put(f, "a/b/f/executions/x1/src.txt", "v2");
    run_ok(f, NS "UploadFiles", "{\"namespace\":\"a.b\", \"filesMap\":\"{\\\"b.txt\\\":\\\"kestra:///a/b/f/executions/x1/src.txt\\\"}\"}",
           &p);
    probe_clear(&p);
    b = stored(f, "kestra:///a/b/_files/b.txt");
    assert_string_equal(b, "v2");
    free(b);
    /* conflicts: SKIP keeps the old file, ERROR fails, OVERWRITE (the default) replaces */
    const char *again = "{\"namespace\":\"a.b\", \"destination\":\"/up/\", \"filesMap\":{\"new/a.txt\":"
                        "\"kestra:///a/b/f/executions/x1/src.txt\"}";
    char props[512];
    snprintf(props, sizeof props, "%s, \"conflict\":\"SKIP\"}", again);
    run_ok(f, NS "UploadFiles", props, &p);
    probe_clear(&p);
    b = stored(f, "kestra:///a/b/_files/up/new/a.txt");
    assert_string_equal(b, "v1");
    free(b);
    snprintf(props, sizeof props, "%s, \"conflict\":\"ERROR\"}", again);
    assert_failed(f, NS "UploadFiles", props,
                  "File '/up/new/a.txt' already exists in namespace 'a.b' and conflict is set to ERROR");
    snprintf(props, sizeof props, "%s}", again);
    run_ok(f, NS "UploadFiles", props, &p);
    probe_clear(&p);
    b = stored(f, "kestra:///a/b/_files/up/new/a.txt");
    assert_string_equal(b, "v2");
    free(b);
    /* files: matched in the task's own (fresh) working directory: nothing there outside a WorkingDirectory */
    run_ok(f, NS "UploadFiles", "{\"namespace\":\"a.b\", \"files\":[\"**\"]}", &p);
    probe_clear(&p);
    assert_int_equal(entries(f->work), 0);
    assert_failed(f, NS "UploadFiles", "{\"namespace\":\"a.b\"}", "files or filesMap is required");
    assert_failed(f, NS "UploadFiles", "{\"namespace\":\"a.b\", \"filesMap\":{\"x\":1}}",
                  "filesMap must be a Map<String, String>");
    assert_failed(f, NS "UploadFiles",
                  "{\"namespace\":\"a.b\", \"filesMap\":{\"../../../etc/x\":\"kestra:///a/b/f/executions/x1/src.txt\"}}",
                  "is not a valid namespace file path");
    assert_failed(f, NS "UploadFiles", "{\"namespace\":\"a.b\", \"filesMap\":{\"x\":\"file:///etc/passwd\"}}",
                  "Invalid internal storage scheme, got uri 'file:///etc/passwd'");
    assert_failed(f, NS "UploadFiles",
                  "{\"namespace\":\"a.b\", \"conflict\":\"MERGE\", \"filesMap\":{\"x\":\"kestra:///a/b/x\"}}",
                  "conflict: must be one of OVERWRITE, ERROR, SKIP");
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_download, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
