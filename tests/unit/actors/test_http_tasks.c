/* http.Request and http.Download (actors/worker/tasks_http.c) on a real worker against tests/http/server.py on
 * 127.0.0.1: methods, bodies (JSON, form, multipart with files from storage), auth headers, redirects followed or
 * not, TLS trust options, read timeouts, a refused connection, status rules (allowFailed), response headers, Download's stored file
 * (Content-Disposition name, URL extension, empty and short bodies), a kill through the task's timeout, and a
 * 200 MiB download streamed into storage; encryptBody sealed, and opened by a later render. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/secrets.h"
#include "expr/expr.h"
#include "flow/render.h"
#include "flow/secret_inputs.h"
#include "tests/http/http_server.h"
#include "tests/unit/actors/worker_fixture.h"

#define REQ "io.kestra.plugin.core.http.Request"
#define DL "io.kestra.plugin.core.http.Download"

static int port;
static pid_t server;

static int group_setup(void **state)
{
    (void)state;
    /* kestra.encryption.secret-key for encryptBody: 32 bytes, base64; installed before any thread */
    char *const envp[] = {NULL};
    char *warn = NULL;
    kt_secrets_install(kt_secrets_new(envp, NULL, "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=", &warn));
    free(warn);
    return kt_test_http_start(KITE_SOURCE_DIR "/tests/http/server.py", &port, &server);
}

static int group_teardown(void **state)
{
    (void)state;
    kt_test_http_stop(server);
    return 0;
}

/* Props with every "@" replaced by http://127.0.0.1:<port>. */
static char *props(const char *fmt)
{
    char base[64];
    int bl = snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    char *out = calloc(1, strlen(fmt) * (size_t)bl + 1);
    char *o = out;
    for (const char *c = fmt; *c; c++) {
        if (*c == '@') {
            memcpy(o, base, (size_t)bl);
            o += bl;
        } else {
            *o++ = *c;
        }
    }
    return out;
}

static void run(fixture *f, const char *type, const char *fmt, probe *p)
{
    char *pr = props(fmt);
    run_task(f, type, pr, "tr1", 1, p);
    free(pr);
}

/* The echoed request (the server's JSON answer in outputs.body). */
static json_t *echoed(const probe *p)
{
    const char *body = json_string_value(json_object_get(p->outputs, "body"));
    assert_non_null(body);
    return parse(body);
}

static const char *echo_header(const json_t *e, const char *name)
{
    return json_string_value(json_object_get(json_object_get(e, "headers"), name));
}

static void test_get_and_headers(void **state)
{
    fixture *f = *state;
    probe p;
    run(f, REQ, "{\"uri\":\"@/echo?q=1\",\"headers\":{\"X-Token\":\"abc\",\"X-Num\":5}}", &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "code")), 200);
    char want[128];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/echo?q=1", port);
    assert_string_equal(json_string_value(json_object_get(p.outputs, "uri")), want);
    json_t *multi = json_object_get(json_object_get(p.outputs, "headers"), "X-Multi");
    assert_int_equal(json_array_size(multi), 2);
    assert_string_equal(json_string_value(json_array_get(multi, 1)), "two");
    json_t *e = echoed(&p);
    assert_string_equal(json_string_value(json_object_get(e, "method")), "GET");
    assert_string_equal(json_string_value(json_object_get(e, "path")), "/echo?q=1");
    assert_string_equal(echo_header(e, "x-token"), "abc");
    assert_string_equal(echo_header(e, "x-num"), "5");
    json_decref(e);
    /* Kestra's counter response.length: the announced Content-Length, tagged with the method and the code */
    assert_int_equal(json_array_size(p.metrics), 1);
    json_t *m = json_array_get(p.metrics, 0);
    assert_string_equal(json_string_value(json_object_get(m, "name")), "response.length");
    assert_true(json_number_value(json_object_get(m, "value")) ==
                (double)json_string_length(json_object_get(p.outputs, "body")));
    json_t *want_tags = json_pack("{s:s, s:s}", "request.method", "GET", "response.code", "200");
    assert_true(json_equal(json_object_get(m, "tags"), want_tags));
    json_decref(want_tags);
    probe_clear(&p);
    /* the fs.http alias runs the same task */
    run(f, "io.kestra.plugin.fs.http.Request", "{\"uri\":\"@/echo\"}", &p);
    assert_string_equal(p.state, "SUCCESS");
    probe_clear(&p);
}

static void test_methods_and_bodies(void **state)
{
    fixture *f = *state;
    probe p;
    run(f, REQ, "{\"uri\":\"@/echo\",\"method\":\"POST\",\"body\":\"{\\\"a\\\":1}\"}", &p);
    assert_string_equal(p.state, "SUCCESS");
    json_t *e = echoed(&p);
    assert_string_equal(json_string_value(json_object_get(e, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(e, "body")), "{\"a\":1}");
    assert_string_equal(echo_header(e, "content-type"), "application/json");
    json_decref(e);
    probe_clear(&p);

    run(f, REQ, "{\"uri\":\"@/echo\",\"method\":\"PUT\",\"body\":\"plain\",\"contentType\":\"text/plain\"}", &p);
    e = echoed(&p);
    assert_string_equal(json_string_value(json_object_get(e, "method")), "PUT");
    assert_string_equal(json_string_value(json_object_get(e, "body")), "plain");
    assert_string_equal(echo_header(e, "content-type"), "text/plain");
    json_decref(e);
    probe_clear(&p);

    run(f, REQ, "{\"uri\":\"@/echo\",\"method\":\"POST\",\"formData\":{\"user\":\"John Doe\",\"n\":3}}", &p);
    e = echoed(&p);
    assert_string_equal(json_string_value(json_object_get(e, "body")), "user=John%20Doe&n=3");
    assert_string_equal(echo_header(e, "content-type"), "application/x-www-form-urlencoded");
    json_decref(e);
    probe_clear(&p);

    run(f, REQ, "{\"uri\":\"@/echo\",\"method\":\"DELETE\"}", &p);
    e = echoed(&p);
    assert_string_equal(json_string_value(json_object_get(e, "method")), "DELETE");
    json_decref(e);
    probe_clear(&p);

    run(f, REQ, "{\"uri\":\"@/echo\",\"method\":\"HEAD\"}", &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "code")), 200);
    assert_null(json_object_get(p.outputs, "body"));
    probe_clear(&p);
}

static void test_multipart(void **state)
{
    fixture *f = *state;
    probe p;
    put(f, "a/b/f/executions/x1/up.txt", "file content here");
    run(f, REQ,
        "{\"uri\":\"@/echo\",\"method\":\"POST\",\"contentType\":\"multipart/form-data\",\"formData\":{"
        "\"text\":\"hello\",\"file\":\"kestra:///a/b/f/executions/x1/up.txt\","
        "\"named\":{\"name\":\"my.txt\",\"content\":\"kestra:///a/b/f/executions/x1/up.txt\"},\"obj\":{\"k\":1}}}",
        &p);
    assert_string_equal(p.state, "SUCCESS");
    json_t *e = echoed(&p);
    const char *body = json_string_value(json_object_get(e, "body"));
    assert_non_null(strstr(echo_header(e, "content-type"), "multipart/form-data; boundary="));
    assert_non_null(strstr(body, "name=\"text\"\r\n\r\nhello\r\n"));
    assert_non_null(strstr(body, "name=\"named\"; filename=\"my.txt\""));
    assert_non_null(strstr(body, ".tmp\""));
    assert_non_null(strstr(body, "file content here"));
    assert_non_null(strstr(body, "name=\"obj\"\r\n\r\n{\"k\":1}"));
    json_decref(e);
    probe_clear(&p);
    /* a missing file fails before anything is sent; its local copy folder is gone */
    run(f, REQ,
        "{\"uri\":\"@/echo\",\"method\":\"POST\",\"contentType\":\"multipart/form-data\","
        "\"formData\":{\"file\":\"kestra:///a/b/f/executions/x1/none.txt\"}}",
        &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "none.txt"));
    assert_int_equal(p.work_entries, 0);
    probe_clear(&p);
}

static void test_auth(void **state)
{
    fixture *f = *state;
    probe p;
    run(f, REQ, "{\"uri\":\"@/echo\",\"options\":{\"basicAuthUser\":\"user\",\"basicAuthPassword\":\"pass\"}}", &p);
    json_t *e = echoed(&p);
    assert_string_equal(echo_header(e, "authorization"), "Basic dXNlcjpwYXNz");
    json_decref(e);
    probe_clear(&p);
    run(f, REQ, "{\"uri\":\"@/echo\",\"options\":{\"auth\":{\"type\":\"BASIC\",\"username\":\"u\",\"password\":\"p\"}}}",
        &p);
    e = echoed(&p);
    assert_string_equal(echo_header(e, "authorization"), "Basic dTpw");
    json_decref(e);
    probe_clear(&p);
    run(f, REQ, "{\"uri\":\"@/echo\",\"options\":{\"auth\":{\"type\":\"BEARER\",\"token\":\"tok123\"}}}", &p);
    e = echoed(&p);
    assert_string_equal(echo_header(e, "authorization"), "Bearer tok123");
    json_decref(e);
    probe_clear(&p);
    run(f, REQ, "{\"uri\":\"@/echo\",\"options\":{\"auth\":{\"type\":\"NTLM\"}}}", &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "expected BASIC, BEARER or DIGEST"));
    probe_clear(&p);
}

static void test_redirects(void **state)
{
    fixture *f = *state;
    probe p;
    run(f, REQ, "{\"uri\":\"@/redirect\"}", &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "code")), 200);
    json_t *e = echoed(&p);
    assert_string_equal(json_string_value(json_object_get(e, "path")), "/echo/redirected");
    json_decref(e);
    /* only the last response's headers */
    assert_null(json_object_get(json_object_get(p.outputs, "headers"), "Location"));
    probe_clear(&p);
    run(f, REQ, "{\"uri\":\"@/redirect\",\"options\":{\"followRedirects\":false}}", &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "code")), 302);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(json_object_get(p.outputs, "headers"), "Location"), 0)),
        "/echo/redirected");
    probe_clear(&p);
}

static void test_status_and_errors(void **state)
{
    fixture *f = *state;
    probe p;
    run(f, REQ, "{\"uri\":\"@/status/404\"}", &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "Failed http request with response code '404'"));
    probe_clear(&p);
    run(f, REQ, "{\"uri\":\"@/status/503\",\"allowFailed\":true}", &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "code")), 503);
    assert_string_equal(json_string_value(json_object_get(p.outputs, "body")), "status 503");
    probe_clear(&p);
    run(f, REQ, "{\"uri\":\"@/status/204\"}", &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "code")), 204);
    probe_clear(&p);
    /* a body over maxContentLength */
    run(f, REQ, "{\"uri\":\"@/bytes/2000\",\"options\":{\"maxContentLength\":1000}}", &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "exceeds the maximum allowed content length [1000]"));
    probe_clear(&p);
    /* nobody listens on port 1 */
    run_task(f, REQ, "{\"uri\":\"http://127.0.0.1:1/\"}", "tr1", 1, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "127.0.0.1"));
    probe_clear(&p);
    assert_failed(f, REQ, "{\"uri\":\"ftp://127.0.0.1/x\"}", "unknown protocol: ftp");
    assert_failed(f, REQ, "{\"uri\":\"http://127.0.0.1:1/\",\"headers\":{\"X\":\"a\\r\\nB: c\"}}", "line break");
}

static void test_timeouts(void **state)
{
    fixture *f = *state;
    probe p;
    time_t t0 = time(NULL);
    run(f, REQ, "{\"uri\":\"@/slow/4\",\"options\":{\"readTimeout\":\"PT1S\"}}", &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "Read Timeout"));
    assert_true(time(NULL) - t0 < 4);
    probe_clear(&p);
    run(f, REQ, "{\"uri\":\"@/slow/1\",\"options\":{\"readTimeout\":\"PT3S\"}}", &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_string_equal(json_string_value(json_object_get(p.outputs, "body")), "late");
    probe_clear(&p);
    /* the task's timeout kills a hanging download at once: nothing is stored */
    t0 = time(NULL);
    run(f, DL, "{\"uri\":\"@/hang\",\"timeout\":\"PT1S\"}", &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(time(NULL) - t0 < 5);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/a/b/f/executions/x1/tasks/t1/tr1", f->storage);
    assert_true(entries(dir) <= 0);
    probe_clear(&p);
}

static long long file_size(const fixture *f, const char *uri)
{
    char path[1100], err[256], file[1400];
    assert_int_equal(kt_suri_path(uri, path, sizeof path, err, sizeof err), KT_OK);
    snprintf(file, sizeof file, "%s/%s", f->storage, path);
    struct stat st;
    return stat(file, &st) ? -1 : (long long)st.st_size;
}

static void test_download(void **state)
{
    fixture *f = *state;
    probe p;
    run(f, DL, "{\"uri\":\"@/file\"}", &p);
    assert_string_equal(p.state, "SUCCESS");
    const char *uri = json_string_value(json_object_get(p.outputs, "uri"));
    assert_string_equal(uri, "kestra:///a/b/f/executions/x1/tasks/t1/tr1/report+1.csv");
    char *got = stored(f, uri);
    assert_string_equal(got, "a,b\n1,2\n");
    free(got);
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "length")), 8);
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "code")), 200);
    json_t *m = json_array_get(p.metrics, 0); /* response.length: the bytes stored, tagged with the method only */
    assert_int_equal(json_array_size(p.metrics), 1);
    assert_string_equal(json_string_value(json_object_get(m, "name")), "response.length");
    assert_true(json_number_value(json_object_get(m, "value")) == 8.0);
    json_t *want_tags = json_pack("{s:s}", "request.method", "GET");
    assert_true(json_equal(json_object_get(m, "tags"), want_tags));
    json_decref(want_tags);
    assert_non_null(json_object_get(json_object_get(p.outputs, "headers"), "Content-Disposition"));
    probe_clear(&p);

    run(f, "io.kestra.plugin.fs.http.Download", "{\"uri\":\"@/echo/data.tar.gz?x=1\"}", &p);
    assert_string_equal(p.state, "SUCCESS");
    uri = json_string_value(json_object_get(p.outputs, "uri"));
    assert_non_null(uri);
    assert_string_equal(uri + strlen(uri) - 7, ".tar.gz");
    probe_clear(&p);

    run(f, DL, "{\"uri\":\"@/empty\"}", &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "No response from server"));
    probe_clear(&p);
    run(f, DL, "{\"uri\":\"@/empty\",\"failOnEmptyResponse\":false}", &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "length")), 0);
    assert_true(logged(&p, "WARN", "is empty"));
    assert_int_equal(file_size(f, json_string_value(json_object_get(p.outputs, "uri"))), 0);
    probe_clear(&p);

    run(f, DL, "{\"uri\":\"@/status/500\"}", &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "response code '500'"));
    probe_clear(&p);
    run(f, DL, "{\"uri\":\"@/status/500\",\"allowFailed\":true}", &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "code")), 500);
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "length")), 10);
    assert_int_equal(file_size(f, json_string_value(json_object_get(p.outputs, "uri"))), 0);
    probe_clear(&p);

    run(f, DL, "{\"uri\":\"@/short\"}", &p);
    assert_string_equal(p.state, "FAILED");
    probe_clear(&p);
}

static void test_download_big(void **state)
{
    fixture *f = *state;
    probe p;
    long long size = 200LL << 20;
    char fmt[64];
    snprintf(fmt, sizeof fmt, "{\"uri\":\"@/bytes/%lld\"}", size);
    run(f, DL, fmt, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "length")), size);
    assert_int_equal(file_size(f, json_string_value(json_object_get(p.outputs, "uri"))), size);
    probe_clear(&p);
}

/* HTTPS with a self-signed certificate (made here with openssl): refused by default, trusted with
 * sslOptions.insecureTrustAllCertificates (and Kestra 1.x's options.ssl). */
static void test_tls(void **state)
{
    fixture *f = *state;
    char cmd[1024], cert[256], key[256];
    snprintf(cert, sizeof cert, "%s/cert.pem", f->root);
    snprintf(key, sizeof key, "%s/key.pem", f->root);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 1 -subj /CN=127.0.0.1 "
             ">/dev/null 2>&1", key, cert);
    if (system(cmd))
        skip(); /* no openssl command on this machine */
    int tls_port = 0;
    pid_t tls = 0;
    assert_int_equal(kt_test_http_start_tls(KITE_SOURCE_DIR "/tests/http/server.py", cert, key, &tls_port, &tls), 0);
    char pr[256];
    probe p;
    snprintf(pr, sizeof pr, "{\"uri\":\"https://127.0.0.1:%d/echo\"}", tls_port);
    run_task(f, REQ, pr, "tr1", 1, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "certificate"));
    probe_clear(&p);
    snprintf(pr, sizeof pr, "{\"uri\":\"https://127.0.0.1:%d/echo\",\"sslOptions\":{\"insecureTrustAllCertificates\":true}}",
             tls_port);
    run_task(f, REQ, pr, "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "code")), 200);
    probe_clear(&p);
    snprintf(pr, sizeof pr,
             "{\"uri\":\"https://127.0.0.1:%d/file\",\"options\":{\"ssl\":{\"insecureTrustAllCertificates\":true}}}",
             tls_port);
    run_task(f, DL, pr, "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "length")), 8);
    probe_clear(&p);
    kt_test_http_stop(tls);
}

/* encryptBody: the body leaves the worker sealed as Kestra's EncryptedString (encryptedBody, no body), and a later
 * render reads it in clear under the same name (Kestra's Secret.decrypt of the outputs). */
static void test_encrypt_body(void **state)
{
    fixture *f = *state;
    probe p;
    run(f, REQ, "{\"uri\":\"@/status/201\",\"encryptBody\":true}", &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_null(json_object_get(p.outputs, "body"));
    json_t *enc = json_object_get(p.outputs, "encryptedBody");
    assert_string_equal(json_string_value(json_object_get(enc, "type")), KT_ENCRYPTED_STRING);
    const char *sealed = json_string_value(json_object_get(enc, "value"));
    assert_non_null(sealed);
    assert_null(strstr(sealed, "status 201"));
    char *clear = NULL, err[256];
    size_t len = 0;
    assert_int_equal(kt_expr_decrypt(kt_secrets_key(kt_secrets_installed()), sealed, &clear, &len, err, sizeof err), 0);
    assert_int_equal(len, 10);
    assert_memory_equal(clear, "status 201", 10);
    free(clear);
    json_t *ex = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:O}]}", "id", "x1", "namespace", "a.b", "flowId", "f",
                           "taskRunList", "id", "tr1", "taskId", "t1", "outputs", p.outputs);
    json_t *flow = json_pack("{s:s, s:s}", "id", "f", "namespace", "a.b");
    json_t *ctx = kt_render_context(flow, ex, NULL, NULL);
    json_t *t1 = json_object_get(json_object_get(ctx, "outputs"), "t1");
    assert_string_equal(json_string_value(json_object_get(t1, "encryptedBody")), "status 201");
    assert_int_equal(json_integer_value(json_object_get(t1, "code")), 201);
    /* the stored outputs stay sealed */
    assert_true(json_is_object(json_object_get(p.outputs, "encryptedBody")));
    json_decref(ctx);
    json_decref(flow);
    json_decref(ex);
    probe_clear(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_and_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_methods_and_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multipart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_download, setup, teardown),
        cmocka_unit_test_setup_teardown(test_download_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encrypt_body, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
