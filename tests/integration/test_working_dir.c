/* WorkingDirectory through a real server (issue 9): a namespace file uploaded through the API reaches the directory
 * through namespaceFiles (include and exclude), inputFiles are there too, a Shell child writes a file the next child
 * (a Python script) reads, the WorkingDirectory's outputFiles are uploaded and downloaded back through
 * GET /api/v1/executions/{id}/file; every child is a task run of its own under the WorkingDirectory's. A kill
 * reaches the child running inside it; a server killed mid-way runs the WorkingDirectory again whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define NS "io.kite.wd"

static const char *FLOW = "id: wd\n"
                          "namespace: " NS "\n"
                          "tasks:\n"
                          "  - id: dir\n"
                          "    type: io.kestra.plugin.core.flow.WorkingDirectory\n"
                          "    namespaceFiles:\n"
                          "      include:\n"
                          "        - scripts/**\n"
                          "        - ignore/**\n"
                          "      exclude:\n"
                          "        - /ignore/**\n"
                          "    inputFiles:\n"
                          "      in.txt: from {{ flow.id }}\n"
                          "    outputFiles:\n"
                          "      - result.txt\n"
                          "    tasks:\n"
                          "      - id: write\n"
                          "        type: io.kestra.plugin.scripts.shell.Commands\n"
                          "        taskRunner:\n"
                          "          type: io.kestra.plugin.core.runner.Process\n"
                          "        commands:\n"
                          "          - sh scripts/greet.sh > result.txt\n"
                          "          - cat in.txt >> result.txt\n"
                          "          - echo >> result.txt\n"
                          "          - test -e ignore/secret.txt || echo no-secret >> result.txt\n"
                          "      - id: read\n"
                          "        type: io.kestra.plugin.scripts.python.Script\n"
                          "        taskRunner:\n"
                          "          type: io.kestra.plugin.core.runner.Process\n"
                          "        script: |\n"
                          "          import json\n"
                          "          lines = open('result.txt').read().splitlines()\n"
                          "          print('::' + json.dumps({'outputs': {'lines': lines}}) + '::')\n"
                          "  - id: after\n"
                          "    type: io.kestra.plugin.core.debug.Return\n"
                          "    format: \"{{ outputs.read.vars.lines | join(',') }}\"\n";

/* Uploads a namespace file (multipart `fileContent`). */
static long ns_upload(int port, const char *path, const char *text)
{
    CURL *c = curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/namespaces/" NS "/files?path=%s", port, path);
    kt_it_resp r = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, kt_it_resp_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_mime *mime = curl_mime_init(c);
    curl_mimepart *part = curl_mime_addpart(mime);
    curl_mime_name(part, "fileContent");
    curl_mime_filename(part, "f");
    curl_mime_data(part, text, strlen(text));
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    long st = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_mime_free(mime);
    curl_easy_cleanup(c);
    free(r.body);
    return st;
}

static void test_workdir_files(void **state)
{
    kt_it_fixture *f = *state;
    assert_int_equal(ns_upload(f->port, "/scripts/greet.sh", "echo ns-greeting\n"), 200);
    assert_int_equal(ns_upload(f->port, "/ignore/secret.txt", "secret\n"), 200);
    kt_it_create_flow(f->port, FLOW, NULL);
    json_t *res = NULL;
    const char *none[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/" NS "/wd", none, &res), 200);
    char exid[64];
    snprintf(exid, sizeof exid, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_t *ex = kt_it_wait_execution(f->port, exid, 30000);
    assert_non_null(ex);
    if (strcmp(kt_it_state(ex), "SUCCESS"))
        kt_it_dump_log(&f->server);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    assert_int_equal(json_array_size(json_object_get(ex, "taskRunList")), 4);
    json_t *dir = kt_it_taskrun(ex, "dir"), *write = kt_it_taskrun(ex, "write"), *read = kt_it_taskrun(ex, "read");
    const char *dir_id = json_string_value(json_object_get(dir, "id"));
    assert_string_equal(json_string_value(json_object_get(write, "parentTaskRunId")), dir_id);
    assert_string_equal(json_string_value(json_object_get(read, "parentTaskRunId")), dir_id);
    assert_string_equal(kt_it_state(write), "SUCCESS");
    assert_null(json_object_get(dir, "attempts")); /* as Kestra's: a flowable run, no attempt */
    assert_string_equal(json_string_value(json_object_get(json_object_get(kt_it_taskrun(ex, "after"), "outputs"),
                                                          "value")),
                        "ns-greeting,from wd,no-secret");
    const char *uri = json_string_value(
        json_object_get(json_object_get(json_object_get(dir, "outputs"), "outputFiles"), "result.txt"));
    assert_non_null(uri);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "kestra:///io/kite/wd/wd/executions/%s/tasks/dir/%s/", exid, dir_id);
    assert_int_equal(strncmp(uri, prefix, strlen(prefix)), 0);
    /* downloaded back through the execution file API */
    CURL *c = curl_easy_init();
    char *enc = curl_easy_escape(c, uri, 0), path[2048];
    snprintf(path, sizeof path, "/api/v1/executions/%s/file?path=%s", exid, enc);
    curl_free(enc);
    curl_easy_cleanup(c);
    char *body = NULL;
    assert_int_equal(kt_it_http("GET", f->port, path, NULL, NULL, &body), 200);
    assert_string_equal(body, "ns-greeting\nfrom wd\nno-secret\n");
    free(body);
    json_decref(ex);
}

/* DELETE .../kill while a child runs: the child, the WorkingDirectory and the execution end KILLED at once, the
 * children after it never run. */
static void test_workdir_kill(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, "id: long\nnamespace: " NS "\ntasks:\n"
                               "  - id: dir\n    type: io.kestra.plugin.core.flow.WorkingDirectory\n    tasks:\n"
                               "      - id: nap\n        type: io.kestra.plugin.scripts.shell.Commands\n"
                               "        commands:\n          - sleep 30\n"
                               "      - id: never\n        type: io.kestra.plugin.core.log.Log\n        message: x\n",
                      NULL);
    json_t *res = NULL;
    const char *none[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/" NS "/long", none, &res), 200);
    char exid[64], path[256];
    snprintf(exid, sizeof exid, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    assert_int_equal(kt_it_wait_task_running(f->port, exid, "nap", 10000), 0);
    snprintf(path, sizeof path, "/api/v1/executions/%s/kill", exid);
    char *body = NULL;
    assert_int_equal(kt_it_http("DELETE", f->port, path, NULL, NULL, &body), 202);
    free(body);
    json_t *ex = kt_it_wait_execution(f->port, exid, 5000);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "KILLED");
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "dir")), "KILLED");
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "nap")), "KILLED");
    assert_null(kt_it_taskrun(ex, "never"));
    json_decref(ex);
}

/* SIGKILL while a child runs: after the restart the WorkingDirectory runs again whole (its reported children removed
 * first), so each child has one run, from the second job, and the execution completes. */
static void test_workdir_restart(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, "id: again\nnamespace: " NS "\ntasks:\n"
                               "  - id: dir\n    type: io.kestra.plugin.core.flow.WorkingDirectory\n    tasks:\n"
                               "      - id: first\n        type: io.kestra.plugin.core.storage.LocalFiles\n"
                               "        inputs:\n          a.txt: x\n"
                               "      - id: nap\n        type: io.kestra.plugin.scripts.shell.Commands\n"
                               "        commands:\n          - sleep 1\n          - cat a.txt\n"
                               "  - id: last\n    type: io.kestra.plugin.core.log.Log\n    message: after\n",
                      NULL);
    json_t *res = NULL;
    const char *none[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/" NS "/again", none, &res), 200);
    char exid[64];
    snprintf(exid, sizeof exid, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    assert_int_equal(kt_it_wait_task_running(f->port, exid, "nap", 10000), 0);
    json_t *before = kt_it_get_execution(f->port, exid);
    char old_nap[64];
    snprintf(old_nap, sizeof old_nap, "%s", json_string_value(json_object_get(kt_it_taskrun(before, "nap"), "id")));
    json_decref(before);
    kt_it_stop(&f->server, SIGKILL);
    f->server = kt_it_start_server(f->dir, "server", f->port, NULL);
    json_t *ex = kt_it_wait_execution(f->port, exid, 20000);
    if (!ex || strcmp(kt_it_state(ex), "SUCCESS"))
        kt_it_dump_log(&f->server);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    assert_int_equal(json_array_size(json_object_get(ex, "taskRunList")), 4); /* dir, first, nap, last */
    json_t *nap = kt_it_taskrun(ex, "nap");
    assert_string_equal(kt_it_state(nap), "SUCCESS");
    assert_string_not_equal(json_string_value(json_object_get(nap, "id")), old_nap);
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "dir")), "SUCCESS");
    json_decref(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_workdir_files, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_workdir_kill, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_workdir_restart, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
