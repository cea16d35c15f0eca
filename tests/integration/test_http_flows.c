/* http.Download and http.Request in a real flow on a real server, against tests/http/server.py on 127.0.0.1: a file
 * downloaded into the execution's storage, then posted back as a multipart part from its kestra:// URI, the
 * outputs (code, headers, body) rendered by the next task; and a hanging download killed through the API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../http/http_server.h"

typedef kt_it_fixture fixture;

static int port;
static pid_t server;

static int group_setup(void **state)
{
    (void)state;
    return kt_test_http_start(KITE_SOURCE_DIR "/tests/http/server.py", &port, &server);
}

static int group_teardown(void **state)
{
    (void)state;
    kt_test_http_stop(server);
    return 0;
}

static char *start(const fixture *f, const char *flow)
{
    json_t *res = NULL;
    const char *none[] = {NULL};
    char path[128];
    snprintf(path, sizeof path, "/api/v1/executions/company.team/%s", flow);
    assert_int_equal(kt_it_post_form(f->port, path, none, &res), 200);
    char *id = strdup(json_string_value(json_object_get(res, "id")));
    json_decref(res);
    return id;
}

static void test_download_then_upload(void **state)
{
    fixture *f = *state;
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "id: http\nnamespace: company.team\ntasks:\n"
             "  - id: dl\n    type: io.kestra.plugin.core.http.Download\n    uri: http://127.0.0.1:%d/file\n"
             "  - id: up\n    type: io.kestra.plugin.core.http.Request\n    uri: http://127.0.0.1:%d/echo\n"
             "    method: POST\n    contentType: multipart/form-data\n    formData:\n"
             "      report: \"{{ outputs.dl.uri }}\"\n      note: \"from {{ flow.id }}\"\n"
             "  - id: get\n    type: io.kestra.plugin.fs.http.Request\n    uri: http://127.0.0.1:%d/echo\n"
             "    headers:\n      X-Length: \"{{ outputs.dl.length }}\"\n"
             "    options:\n      auth:\n        type: BEARER\n        token: t0k\n"
             "  - id: show\n    type: io.kestra.plugin.core.debug.Return\n"
             "    format: \"{{ outputs.get.code }}|{{ outputs.get.headers['Content-Type'][0] }}|"
             "{{ outputs.dl.headers['Content-Disposition'][0] }}\"\n",
             port, port, port);
    kt_it_create_flow(f->port, yaml, NULL);
    char *id = start(f, "http");
    json_t *ex = kt_it_wait_execution(f->port, id, 20000);
    assert_non_null(ex);
    if (strcmp(kt_it_state(ex), "SUCCESS"))
        kt_it_dump_log(&f->server);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_t *dl = json_object_get(kt_it_taskrun(ex, "dl"), "outputs");
    const char *uri = json_string_value(json_object_get(dl, "uri"));
    assert_non_null(uri);
    assert_non_null(strstr(uri, "/tasks/dl/"));
    assert_non_null(strstr(uri, "/report+1.csv"));
    size_t len = 0;
    char *bytes = kt_it_stored_read(f->dir, uri + strlen("kestra:///"), &len);
    assert_non_null(bytes);
    assert_int_equal(len, 8);
    assert_memory_equal(bytes, "a,b\n1,2\n", 8);
    free(bytes);
    assert_int_equal(json_integer_value(json_object_get(dl, "length")), 8);
    const char *up = json_string_value(json_object_get(json_object_get(kt_it_taskrun(ex, "up"), "outputs"), "body"));
    assert_non_null(up);
    assert_non_null(strstr(up, "name=\\\"report\\\"; filename=\\\""));
    assert_non_null(strstr(up, "a,b\\n1,2\\n"));
    assert_non_null(strstr(up, "from http"));
    const char *get = json_string_value(json_object_get(json_object_get(kt_it_taskrun(ex, "get"), "outputs"), "body"));
    assert_non_null(get);
    assert_non_null(strstr(get, "\"x-length\": \"8\""));
    assert_non_null(strstr(get, "\"authorization\": \"Bearer t0k\""));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(kt_it_taskrun(ex, "show"), "outputs"), "value")),
        "200|application/json|attachment; filename=\"report 1.csv\"");
    json_decref(ex);
    free(id);
}

static void test_kill_hanging_download(void **state)
{
    fixture *f = *state;
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "id: hang\nnamespace: company.team\ntasks:\n"
             "  - id: dl\n    type: io.kestra.plugin.core.http.Download\n    uri: http://127.0.0.1:%d/hang\n",
             port);
    kt_it_create_flow(f->port, yaml, NULL);
    char *id = start(f, "hang");
    assert_int_equal(kt_it_wait_task_running(f->port, id, "dl", 10000), 0);
    kt_it_sleep_ms(300); /* the transfer is under way */
    char path[256], *body = NULL;
    snprintf(path, sizeof path, "/api/v1/executions/%s/kill", id);
    assert_int_equal(kt_it_http("DELETE", f->port, path, NULL, NULL, &body), 202);
    free(body);
    json_t *ex = kt_it_wait_execution(f->port, id, 5000); /* long before the server's 60 s */
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "KILLED");
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "dl")), "KILLED");
    json_decref(ex);
    free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_download_then_upload, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_kill_hanging_download, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
