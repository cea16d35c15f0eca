/* What the server says about itself and who may ask (issue 11): /ping, /api/v1/configs (its uuid kept across
 * restarts, the configured environment), /api/v1/version, /health on the main and the management port, Kestra OSS's
 * basic auth (401 with the realm, the open URLs, the password never in the log, a username that is not an e-mail
 * refused at start), the configured request size limit (413) and the 415 of an execution created without multipart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

#define USER "admin@kite.io"
#define PASSWORD "Pa55-w0rd-kite"

/* GET with optional credentials; the status, the body and the headers into r */
static long get_auth(int port, const char *path, const char *userpwd, kt_it_resp *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, kt_it_resp_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, kt_it_resp_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (userpwd)
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    return code;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static void test_ping_configs_version(void **state)
{
    kt_it_fixture *f = *state;
    int mport = kt_it_free_port();
    char mp[16];
    snprintf(mp, sizeof mp, "%d", mport);
    setenv("KITE_ENDPOINTS_ALL_PORT", mp, 1);
    setenv("KITE_ENVIRONMENT_NAME", "staging", 1);
    f->server = kt_it_start_server(f->dir, "server", f->port, NULL);
    unsetenv("KITE_ENDPOINTS_ALL_PORT");
    unsetenv("KITE_ENVIRONMENT_NAME");

    char *body = NULL;
    assert_int_equal(kt_it_http("GET", f->port, "/ping", NULL, NULL, &body), 200);
    assert_string_equal(body, "pong");
    free(body);

    json_t *c = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/configs", NULL, NULL, &c), 200);
    const char *uuid = json_string_value(json_object_get(c, "uuid"));
    assert_non_null(uuid);
    assert_int_equal(strlen(uuid), 36);
    char kept[40];
    snprintf(kept, sizeof kept, "%s", uuid);
    assert_true(json_is_false(json_object_get(c, "isBasicAuthEnabled")));
    assert_true(json_is_false(json_object_get(c, "isTaskRunEnabled")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "environment"), "name")), "staging");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "preview"), "max")), 5000);
    assert_string_equal(json_string_value(json_object_get(c, "systemNamespace")), "system");
    json_decref(c);

    /* path bytes that are not UTF-8 are refused, not answered with an empty 200 */
    assert_int_equal(kt_it_http("GET", f->port, "/api/v1/namespaces/%FF", NULL, NULL, NULL), 400);
    /* the bulk route takes YAML only: a JSON [] deletes nothing */
    kt_it_create_flow(f->port, "id: kept\nnamespace: io.kite.srv\ntasks:\n  - id: t\n"
                               "    type: io.kestra.plugin.core.log.Log\n    message: hi\n", NULL);
    assert_int_equal(kt_it_http("POST", f->port, "/api/v1/flows/bulk", "application/json", "[]", NULL), 415);
    assert_int_equal(kt_it_http("GET", f->port, "/api/v1/flows/io.kite.srv/kept", NULL, NULL, NULL), 200);
    json_t *v = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/version", NULL, NULL, &v), 200);
    assert_non_null(strstr(json_string_value(json_object_get(v, "version")), "-oss"));
    json_decref(v);

    /* the management port: Micronaut's health answer with its indicators, and the version */
    json_t *h = NULL;
    assert_int_equal(kt_it_http_json("GET", mport, "/health", NULL, NULL, &h), 200);
    assert_string_equal(json_string_value(json_object_get(h, "name")), "kestra");
    assert_string_equal(json_string_value(json_object_get(h, "status")), "UP");
    json_t *repo = json_object_get(json_object_get(h, "details"), "repository");
    assert_string_equal(json_string_value(json_object_get(repo, "status")), "UP");
    json_t *disk = json_object_get(json_object_get(h, "details"), "diskSpace");
    assert_true(json_integer_value(json_object_get(json_object_get(disk, "details"), "free")) > 0);
    json_decref(h);
    assert_int_equal(kt_it_http_json("GET", mport, "/version", NULL, NULL, &v), 200);
    assert_non_null(json_object_get(v, "version"));
    json_decref(v);
    assert_int_equal(kt_it_http("GET", mport, "/api/v1/configs", NULL, NULL, NULL), 404); /* the API is not there */

    /* the uuid is the instance's: the same after a restart */
    kt_it_stop_clean(&f->server);
    f->server = kt_it_start_server(f->dir, "server2", f->port, NULL);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/configs", NULL, NULL, &c), 200);
    assert_string_equal(json_string_value(json_object_get(c, "uuid")), kept);
    assert_null(json_object_get(c, "environment"));
    json_decref(c);
}

/* the route consumes multipart/form-data only (Micronaut's 415); a form still works and no body means no inputs */
static void test_create_needs_multipart(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, "id: hello\nnamespace: io.kite.srv\ninputs:\n  - id: name\n    type: STRING\n"
                               "    defaults: world\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"
                               "    format: \"{{ inputs.name }}\"\n", NULL);
    json_t *e = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/io.kite.srv/hello", "application/json",
                                     "{\"name\":\"x\"}", &e), 415);
    assert_string_equal(json_string_value(json_object_get(e, "message")), "Unsupported Media Type");
    json_t *err0 = json_array_get(json_object_get(json_object_get(e, "_embedded"), "errors"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(err0, "message")), "application/json"));
    json_decref(e);
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/io.kite.srv/hello",
                                     "application/x-www-form-urlencoded", "name=x", &e), 415);
    json_decref(e);
    json_t *search = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/executions/search?namespace=io.kite.srv", NULL, NULL,
                                     &search), 200);
    assert_int_equal(json_integer_value(json_object_get(search, "total")), 0); /* nothing was created */
    json_decref(search);
    const char *fields[] = {"name", "form", NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/io.kite.srv/hello", fields, &e), 200);
    json_t *done = kt_it_wait_execution(f->port, json_string_value(json_object_get(e, "id")), 20000);
    assert_string_equal(kt_it_state(done), "SUCCESS");
    json_decref(done);
    json_decref(e);
}

static void test_basic_auth(void **state)
{
    kt_it_fixture *f = *state;
    setenv("KITE_SERVER_BASIC_AUTH_ENABLED", "true", 1);
    setenv("KITE_SERVER_BASIC_AUTH_USERNAME", USER, 1);
    setenv("KITE_SERVER_BASIC_AUTH_PASSWORD", PASSWORD, 1);
    f->server = kt_it_start_server(f->dir, "auth", f->port, NULL);
    kt_it_resp r;
    assert_int_equal(get_auth(f->port, "/api/v1/flows/search", NULL, &r), 401);
    assert_non_null(strcasestr(r.headers, "WWW-Authenticate: Basic realm=Kestra"));
    assert_true(r.len == 0);
    free(r.body);
    assert_int_equal(get_auth(f->port, "/api/v1/flows/search", USER ":wrong", &r), 401);
    free(r.body);
    assert_int_equal(get_auth(f->port, "/api/v1/flows/search", "other@kite.io:" PASSWORD, &r), 401);
    free(r.body);
    assert_int_equal(get_auth(f->port, "/api/v1/flows/nope/unknown", NULL, &r), 401); /* unknown paths too */
    free(r.body);
    assert_int_equal(get_auth(f->port, "/api/v1/flows/search", USER ":" PASSWORD, &r), 200);
    free(r.body);
    assert_int_equal(get_auth(f->port, "/api/v1/configs", USER ":" PASSWORD, &r), 200);
    json_t *c = json_loads(r.body, 0, NULL);
    assert_true(json_is_true(json_object_get(c, "isBasicAuthEnabled")));
    json_decref(c);
    free(r.body);
    /* Kestra's open URLs and the health endpoint need no credentials */
    assert_int_equal(get_auth(f->port, "/ping", NULL, &r), 200);
    free(r.body);
    assert_int_equal(get_auth(f->port, "/health", NULL, &r), 200);
    free(r.body);
    long webhook = get_auth(f->port, "/api/v1/executions/webhook/io.kite.srv/none/key", NULL, &r);
    assert_int_equal(webhook, 404); /* answered by the route (no such flow), not refused */
    free(r.body);
    kt_it_stop_clean(&f->server);
    char log[600];
    snprintf(log, sizeof log, "%s/auth.log", f->dir);
    char *text = read_file(log);
    assert_non_null(text);
    assert_null(strstr(text, PASSWORD));

    /* Kestra refuses a username that is not an e-mail address */
    setenv("KITE_SERVER_BASIC_AUTH_USERNAME", "admin", 1);
    kt_it_proc p = kt_it_spawn_server(f->dir, "bad", f->port, NULL);
    int status = kt_it_stop(&p, 0);
    assert_int_not_equal(status, 0);
    snprintf(log, sizeof log, "%s/bad.log", f->dir);
    text = read_file(log);
    assert_non_null(strstr(text, "valid email address"));
    assert_null(strstr(text, PASSWORD));
    unsetenv("KITE_SERVER_BASIC_AUTH_ENABLED");
    unsetenv("KITE_SERVER_BASIC_AUTH_USERNAME");
    unsetenv("KITE_SERVER_BASIC_AUTH_PASSWORD");
}

static void test_request_size_limit(void **state)
{
    kt_it_fixture *f = *state;
    setenv("KITE_SERVER_MAX_REQUEST_SIZE", "2KB", 1);
    f->server = kt_it_start_server(f->dir, "limit", f->port, NULL);
    unsetenv("KITE_SERVER_MAX_REQUEST_SIZE");
    char yaml[4096];
    int n = snprintf(yaml, sizeof yaml, "id: big\nnamespace: io.kite.srv\ndescription: \"");
    memset(yaml + n, 'x', 3000);
    snprintf(yaml + n + 3000, sizeof yaml - (size_t)n - 3000, "\"\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
                                                             "    message: hi\n");
    assert_int_equal(kt_it_http("POST", f->port, "/api/v1/flows", "application/x-yaml", yaml, NULL), 413);
    assert_int_equal(kt_it_http("GET", f->port, "/api/v1/flows/io.kite.srv/big", NULL, NULL, NULL), 404);
    /* a small one still goes through */
    kt_it_create_flow(f->port, "id: small\nnamespace: io.kite.srv\ntasks:\n  - id: t\n"
                               "    type: io.kestra.plugin.core.log.Log\n    message: hi\n", NULL);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ping_configs_version, kt_it_setup_dir, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_create_needs_multipart, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_basic_auth, kt_it_setup_dir, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_request_size_limit, kt_it_setup_dir, kt_it_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
