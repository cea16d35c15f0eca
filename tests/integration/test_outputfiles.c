/* Files between script tasks through a real server (issue 9): the first task's outputFiles globs upload its files to
 * the internal storage (outputs.first.outputFiles {relative path: kestra:// URI under the task run's folder), the
 * second gets one back through inputFiles `{{ outputs.first.outputFiles['out.csv'] }}` and reads it. The bytes are
 * checked in the local storage under --data (DATA/storage).
 * Until cmd hands the worker its storage, the first task fails saying it has none: the test is then skipped, never
 * passed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef kt_it_fixture fixture;

static const char *FLOW = "id: files\n"
                          "namespace: company.team\n"
                          "tasks:\n"
                          "  - id: first\n"
                          "    type: io.kestra.plugin.scripts.shell.Commands\n"
                          "    taskRunner:\n"
                          "      type: io.kestra.plugin.core.runner.Process\n"
                          "    outputFiles:\n"
                          "      - \"*.csv\"\n"
                          "      - \"**/*.json\"\n"
                          "    commands:\n"
                          "      - printf 'id,n\\n1,2\\n' > out.csv\n"
                          "      - mkdir -p sub\n"
                          "      - echo '{\"k\":1}' > sub/a.json\n"
                          "      - echo skipped > top.txt\n"
                          "  - id: second\n"
                          "    type: io.kestra.plugin.scripts.shell.Commands\n"
                          "    taskRunner:\n"
                          "      type: io.kestra.plugin.core.runner.Process\n"
                          "    inputFiles:\n"
                          "      in.csv: \"{{ outputs.first.outputFiles['out.csv'] }}\"\n"
                          "      note.txt: \"from {{ task.id }}\"\n"
                          "    commands:\n"
                          "      - cat in.csv\n"
                          "      - cat note.txt\n";

/* 1 when one of the execution's log lines holds text (at level, when not NULL). */
static int logged(int port, const char *exid, const char *level, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/logs/%s", exid);
    json_t *logs = NULL;
    assert_int_equal(kt_it_http_json("GET", port, path, NULL, NULL, &logs), 200);
    int found = 0;
    size_t i;
    json_t *l;
    json_array_foreach(logs, i, l) {
        const char *msg = json_string_value(json_object_get(l, "message"));
        const char *lv = json_string_value(json_object_get(l, "level"));
        if (msg && strstr(msg, text) && (!level || (lv && !strcmp(lv, level))))
            found = 1;
    }
    json_decref(logs);
    return found;
}

/* The bytes the storage holds for a kestra:/// URI (no percent-encoding in the names used here). */
static char *stored(const fixture *f, const char *uri)
{
    return kt_it_stored_read(f->dir, uri + strlen("kestra:///"), NULL); /* the data folder, or the bucket */
}

static void test_output_files_to_input_files(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, FLOW, NULL);
    json_t *res = NULL;
    const char *fields[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/files", fields, &res), 200);
    char exid[64];
    snprintf(exid, sizeof exid, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_t *ex = kt_it_wait_execution(f->port, exid, 20000);
    assert_non_null(ex);
    if (logged(f->port, exid, "ERROR", "needs the internal storage, which this worker was not given")) {
        json_decref(ex);
        skip(); /* cmd does not give the worker a storage yet */
    }
    if (strcmp(kt_it_state(ex), "SUCCESS"))
        kt_it_dump_log(&f->server);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_t *first = kt_it_taskrun(ex, "first");
    json_t *files = json_object_get(json_object_get(first, "outputs"), "outputFiles");
    assert_int_equal(json_object_size(files), 2); /* out.csv and sub/a.json; not top.txt */
    char prefix[256];
    snprintf(prefix, sizeof prefix, "kestra:///company/team/files/executions/%s/tasks/first/%s/", exid,
             json_string_value(json_object_get(first, "id")));
    const char *csv = json_string_value(json_object_get(files, "out.csv"));
    const char *js = json_string_value(json_object_get(files, "sub/a.json"));
    assert_non_null(csv);
    assert_non_null(js);
    assert_int_equal(strncmp(csv, prefix, strlen(prefix)), 0);
    assert_int_equal(strncmp(js, prefix, strlen(prefix)), 0);
    assert_non_null(strstr(csv + strlen(prefix), "-out.csv"));
    assert_non_null(strstr(js + strlen(prefix), "-a.json"));
    char *body = stored(f, csv);
    assert_non_null(body);
    assert_string_equal(body, "id,n\n1,2\n");
    free(body);
    body = stored(f, js);
    assert_non_null(body);
    assert_string_equal(body, "{\"k\":1}\n");
    free(body);
    /* the second task read the first one's file */
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "second")), "SUCCESS");
    assert_true(logged(f->port, exid, "INFO", "id,n"));
    assert_true(logged(f->port, exid, "INFO", "1,2"));
    assert_true(logged(f->port, exid, "INFO", "from second"));
    json_decref(ex);
}

/* The files a task leaves, seen by the expressions of the next one (read(), fileSize(), isFileEmpty()) and by the
 * preview route in Kestra's renders: Ion records as a LIST, an image as base64, Markdown. */
static const char *FLOW_KINDS = "id: kinds\n"
                                "namespace: company.team\n"
                                "tasks:\n"
                                "  - id: first\n"
                                "    type: io.kestra.plugin.scripts.shell.Commands\n"
                                "    taskRunner:\n"
                                "      type: io.kestra.plugin.core.runner.Process\n"
                                "    outputFiles: [\"*.ion\", \"*.png\", \"*.md\", \"*.txt\"]\n"
                                "    commands:\n"
                                "      - printf '{a:1,b:\"x\"}\\n{a:2,b:null}\\n' > data.ion\n"
                                "      - printf 'PNG\\001\\002' > pic.png\n"
                                "      - printf '# Title\\nbody' > notes.md\n"
                                "      - touch empty.txt\n"
                                "      - awk 'BEGIN{for(i=0;i<10000;i++) printf \"{a:%d,b:\\\"%0200d\\\"}\\n\", i, 0}' > big.ion\n"
                                "  - id: second\n"
                                "    type: io.kestra.plugin.core.debug.Return\n"
                                "    format: \"{{ read(outputs.first.outputFiles['notes.md']) }}|"
                                "{{ fileSize(outputs.first.outputFiles['pic.png']) }}|"
                                "{{ isFileEmpty(outputs.first.outputFiles['empty.txt']) }}|"
                                "{{ isFileEmpty(outputs.first.outputFiles['data.ion']) }}\"\n";

static json_t *preview(int port, const char *exid, const char *uri)
{
    char path[1024];
    snprintf(path, sizeof path, "/api/v1/executions/%s/file/preview?path=%s", exid, uri);
    json_t *body = NULL;
    assert_int_equal(kt_it_http_json("GET", port, path, NULL, NULL, &body), 200);
    return body;
}

static void test_file_functions_and_previews(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_KINDS, NULL);
    json_t *res = NULL;
    const char *fields[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/company.team/kinds", fields, &res), 200);
    char exid[64];
    snprintf(exid, sizeof exid, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_t *ex = kt_it_wait_execution(f->port, exid, 20000);
    assert_non_null(ex);
    if (strcmp(kt_it_state(ex), "SUCCESS"))
        kt_it_dump_log(&f->server);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_t *second = kt_it_taskrun(ex, "second");
    assert_string_equal(json_string_value(json_object_get(json_object_get(second, "outputs"), "value")),
                        "# Title\nbody|5|true|false");
    json_t *files = json_object_get(json_object_get(kt_it_taskrun(ex, "first"), "outputs"), "outputFiles");

    json_t *p = preview(f->port, exid, json_string_value(json_object_get(files, "data.ion")));
    assert_string_equal(json_string_value(json_object_get(p, "type")), "LIST");
    assert_string_equal(json_string_value(json_object_get(p, "extension")), "ion");
    char *content = json_dumps(json_object_get(p, "content"), JSON_COMPACT);
    assert_string_equal(content, "[{\"a\":1,\"b\":\"x\"},{\"a\":2,\"b\":null}]");
    free(content);
    json_decref(p);

    /* 2 MiB of records: the 1 MiB a preview holds cuts one in the middle; the list stops before it */
    char big[1024];
    snprintf(big, sizeof big, "%s&maxRows=5000", json_string_value(json_object_get(files, "big.ion")));
    p = preview(f->port, exid, big);
    assert_string_equal(json_string_value(json_object_get(p, "type")), "LIST");
    assert_true(json_is_true(json_object_get(p, "truncated")));
    size_t nrec = json_array_size(json_object_get(p, "content"));
    assert_true(nrec > 1000 && nrec < 5000);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(p, "content"), nrec - 1), "a")),
                     (json_int_t)nrec - 1);
    json_decref(p);

    p = preview(f->port, exid, json_string_value(json_object_get(files, "pic.png")));
    assert_string_equal(json_string_value(json_object_get(p, "type")), "IMAGE");
    assert_string_equal(json_string_value(json_object_get(p, "content")), "UE5HAQI="); /* base64 of "PNG\1\2" */
    json_decref(p);

    p = preview(f->port, exid, json_string_value(json_object_get(files, "notes.md")));
    assert_string_equal(json_string_value(json_object_get(p, "type")), "MARKDOWN");
    assert_string_equal(json_string_value(json_object_get(p, "content")), "# Title\nbody");
    assert_true(json_is_false(json_object_get(p, "truncated")));
    json_decref(p);
    json_decref(ex);
}

/* Also registered as test_outputfiles_on_s3 (KITE_IT_STORAGE=s3): the servers' storage on S3. */
int main(void)
{
    int rc = kt_it_s3_check();
    if (rc)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_output_files_to_input_files, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_file_functions_and_previews, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
