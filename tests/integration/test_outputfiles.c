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

/* The bytes the local storage holds for a kestra:/// URI (no percent-encoding in the names used here). */
static char *stored(const fixture *f, const char *uri)
{
    char file[1024];
    snprintf(file, sizeof file, "%s/data/storage/%s", f->dir, uri + strlen("kestra:///"));
    FILE *fp = fopen(file, "rb");
    if (!fp)
        return NULL;
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, fp);
    buf[n] = 0;
    fclose(fp);
    return buf;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_output_files_to_input_files, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
