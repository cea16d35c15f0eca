/* The KV store against a real server: every type written by kv.Set is read back by kv() in a later task and by the
 * API (GET …/kv/{key}: {type, value}); every Kestra PUT body comes back through the kv.Get task with its type; a TTL
 * expires (PT1S: the API answers 410 and leaves it out of the listing, kv() fails the task); listing, single and
 * bulk delete; and keys checked on each path (API 422, task and kv() failures with Kestra's message). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define NS "io.kite.kv"
#define KV "/api/v1/namespaces/" NS "/kv"
#define KEY_MSG                                                                                                        \
    "Key must start with an alphanumeric character (uppercase or lowercase) and can contain alphanumeric characters " \
    "(uppercase or lowercase), dots (.), underscores (_), and hyphens (-) only."

/* Runs flow id of NS to its end; the execution (caller decrefs). */
static json_t *run(int port, const char *id)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/" NS "/%s", id);
    const char *fields[] = {NULL};
    json_t *created = NULL;
    assert_int_equal(kt_it_post_form(port, path, fields, &created), 200);
    char exid[64];
    snprintf(exid, sizeof exid, "%s", json_string_value(json_object_get(created, "id")));
    json_decref(created);
    json_t *ex = kt_it_wait_execution(port, exid, 20000);
    assert_non_null(ex);
    return ex;
}

/* A task run's output `name` as compact JSON ("<missing>" when absent). */
static char *output(json_t *ex, const char *task, const char *name)
{
    json_t *tr = kt_it_taskrun(ex, task);
    assert_non_null(tr);
    json_t *v = json_object_get(json_object_get(tr, "outputs"), name);
    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("<missing>");
}

static void assert_output(json_t *ex, const char *task, const char *name, const char *want)
{
    char *got = output(ex, task, name);
    if (strcmp(got, want))
        fail_msg("%s.%s: got %s, want %s", task, name, got, want);
    free(got);
}

/* 1 when some log line of the execution holds text. */
static int logged(int port, json_t *ex, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/logs/%s", json_string_value(json_object_get(ex, "id")));
    char *body = NULL;
    assert_int_equal(kt_it_http("GET", port, path, NULL, NULL, &body), 200);
    int found = body && strstr(body, text);
    free(body);
    return found;
}

/* GET …/kv/{key}: the status, and "TYPE value" in out. */
static long api_get(int port, const char *key, char *out, size_t cap)
{
    char path[256];
    snprintf(path, sizeof path, KV "/%s", key);
    json_t *j = NULL;
    long st = kt_it_http_json("GET", port, path, NULL, NULL, &j);
    char *v = j ? json_dumps(st == 200 ? json_object_get(j, "value") : json_object_get(j, "message"),
                             JSON_COMPACT | JSON_ENCODE_ANY)
                : NULL;
    snprintf(out, cap, "%s %s", st == 200 ? json_string_value(json_object_get(j, "type")) : "-", v ? v : "");
    free(v);
    json_decref(j);
    return st;
}

static void assert_api(int port, const char *key, const char *want)
{
    char got[1024];
    assert_int_equal(api_get(port, key, got, sizeof got), 200);
    if (strcmp(got, want))
        fail_msg("GET %s: got %s, want %s", key, got, want);
}

#define SET(id, rest) "  - {id: " id ", type: io.kestra.plugin.core.kv.Set, " rest "}\n"
static const char SET_FLOW[] =
    "id: kv_set\nnamespace: " NS "\ntasks:\n"
    SET("s_str", "key: str, value: hello")
    SET("s_num", "key: num, value: '123.45', kvType: NUMBER")
    SET("s_bool", "key: bool, value: 'true', kvType: BOOLEAN")
    SET("s_dt", "key: dt, value: '2023-05-02T01:02:03Z', kvType: DATETIME")
    SET("s_date", "key: date, value: '2023-05-02', kvType: DATE")
    SET("s_dur", "key: dur, value: PT5M, kvType: DURATION")
    SET("s_json", "key: json, value: '{\"a\":[1,2]}', kvType: JSON")
    SET("s_typed", "key: typed, value: \"{{ 41 + 1 }}\"") /* renderTyped: a number without kvType */
    SET("s_map", "key: map, value: \"{{ {'k': [true]} }}\"")
    "  - id: read\n    type: io.kestra.plugin.core.debug.Return\n"
    "    format: \"{{ kv('str') }}|{{ kv('num') + 1 }}|{{ kv('bool') ? 'yes' : 'no' }}|"
    "{{ kv('dt') }}|{{ kv('date') }}|{{ kv('dur') }}|{{ kv('json').a[1] }}|{{ kv('none') ?? 'null' }}\"\n"
    "  - {id: keys, type: io.kestra.plugin.core.kv.GetKeys}\n"
    "  - {id: keys_d, type: io.kestra.plugin.core.kv.GetKeys, prefix: d}\n";

static void test_set_kv_api_every_type(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, SET_FLOW, NULL);
    json_t *ex = run(f->port, "kv_set");
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    assert_output(ex, "read", "value", "\"hello|124.45|yes|2023-05-02T01:02:03Z|2023-05-02|PT5M|2|null\"");
    assert_output(ex, "keys", "keys", "[\"bool\",\"date\",\"dt\",\"dur\",\"json\",\"map\",\"num\",\"str\",\"typed\"]");
    assert_output(ex, "keys_d", "keys", "[\"date\",\"dt\",\"dur\"]");
    json_decref(ex);
    assert_api(f->port, "str", "STRING \"hello\"");
    assert_api(f->port, "num", "NUMBER 123.45");
    assert_api(f->port, "bool", "BOOLEAN true");
    assert_api(f->port, "dt", "DATETIME \"2023-05-02T01:02:03Z\"");
    assert_api(f->port, "date", "DATE \"2023-05-02\"");
    assert_api(f->port, "dur", "DURATION \"PT5M\"");
    assert_api(f->port, "json", "JSON {\"a\":[1,2]}");
    assert_api(f->port, "typed", "NUMBER 42");
    assert_api(f->port, "map", "JSON {\"k\":[true]}");
    /* the listing: KVEntry's fields, no expirationDate without a TTL */
    json_t *list = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, KV, NULL, NULL, &list), 200);
    assert_int_equal(json_array_size(list), 9);
    json_t *first = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(first, "key")), "bool");
    assert_non_null(json_string_value(json_object_get(first, "creationDate")));
    assert_non_null(json_string_value(json_object_get(first, "updateDate")));
    assert_null(json_object_get(first, "expirationDate"));
    json_decref(list);
}

static const char GET_FLOW[] = "id: kv_get\nnamespace: " NS "\ntasks:\n"
                               "  - {id: get, type: io.kestra.plugin.core.kv.Get, key: put}\n"
                               "  - id: typed\n    type: io.kestra.plugin.core.debug.Return\n"
                               "    format: \"{{ kv('put') }}\"\n";

static void test_put_api_get_task(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, GET_FLOW, NULL);
    /* Kestra's KVControllerTest bodies: the value the Get task outputs, the type the API answers */
    static const char *const cases[][4] = {
        {"{\"hello\":\"world\"}", "{\"hello\":\"world\"}", "JSON", "{\"hello\":\"world\"}"},
        {"[\"hello\",\"world\"]", "[\"hello\",\"world\"]", "JSON", "[\"hello\", \"world\"]"},
        {"\"hello\"", "\"hello\"", "STRING", "hello"},
        {"1", "1", "NUMBER", "1"},
        {"1.0", "1.0", "NUMBER", "1.0"},
        {"true", "true", "BOOLEAN", "true"},
        {"2021-09-01", "\"2021-09-01\"", "DATE", "2021-09-01"},
        {"2021-09-01T01:02:03Z", "\"2021-09-01T01:02:03Z\"", "DATETIME", "2021-09-01T01:02:03Z"},
        {"\"PT5S\"", "\"PT5S\"", "DURATION", "PT5S"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *body = NULL;
        long st = kt_it_http("PUT", f->port, KV "/put", "application/json", cases[i][0], &body);
        if (st != 200)
            fail_msg("PUT %s -> %ld %s", cases[i][0], st, body ? body : "");
        free(body);
        json_t *ex = run(f->port, "kv_get");
        assert_string_equal(kt_it_state(ex), "SUCCESS");
        assert_output(ex, "get", "value", cases[i][1]);
        char want[256];
        snprintf(want, sizeof want, "\"%s\"", cases[i][3]);
        char *got = output(ex, "typed", "value");
        if (strcmp(got, want) && strcmp(cases[i][2], "JSON")) /* a JSON value prints as Pebble prints a map */
            fail_msg("kv() of %s: got %s, want %s", cases[i][0], got, want);
        free(got);
        json_decref(ex);
        char api[512];
        assert_int_equal(api_get(f->port, "put", api, sizeof api), 200);
        assert_int_equal(strncmp(api, cases[i][2], strlen(cases[i][2])), 0);
    }
    /* a body that is not Ion: Kestra's message */
    json_t *j = NULL;
    assert_int_equal(kt_it_http_json("PUT", f->port, KV "/put", "application/json", "{oops", &j), 422);
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "Illegal argument: Invalid JSON value for: {oops");
    json_decref(j);
}

/* PUT …/kv/{key} with a `ttl` header; the status. */
static long put_ttl(int port, const char *key, const char *body, const char *ttl)
{
    char url[512], hdr[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d" KV "/%s", port, key);
    snprintf(hdr, sizeof hdr, "ttl: %s", ttl);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, hdr);
    h = curl_slist_append(h, "Content-Type: application/json");
    kt_it_resp r = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, kt_it_resp_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    long st = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(r.body);
    return st;
}

static const char TTL_FLOW[] = "id: kv_ttl\nnamespace: " NS "\ntasks:\n"
                               "  - {id: set, type: io.kestra.plugin.core.kv.Set, key: short, value: soon, ttl: PT1S}\n"
                               "  - {id: now, type: io.kestra.plugin.core.kv.Get, key: short}\n";
static const char TTL_READ_FLOW[] =
    "id: kv_ttl_read\nnamespace: " NS "\ntasks:\n"
    "  - {id: read, type: io.kestra.plugin.core.debug.Return, format: \"{{ kv('short') }}\"}\n";

static void test_ttl_expiry(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, TTL_FLOW, NULL);
    kt_it_create_flow(f->port, TTL_READ_FLOW, NULL);
    json_t *ex = run(f->port, "kv_ttl");
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    assert_output(ex, "now", "value", "\"soon\"");
    json_decref(ex);
    json_t *list = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, KV, NULL, NULL, &list), 200);
    assert_int_equal(json_array_size(list), 1);
    assert_non_null(json_string_value(json_object_get(json_array_get(list, 0), "expirationDate")));
    json_decref(list);
    kt_it_sleep_ms(1300);
    /* kv() in a render: expired, the task fails with Kestra's message, and the entry is deleted (InternalKVStore
     * deletes an expired entry it reads, KvFunction's reads included) */
    ex = run(f->port, "kv_ttl_read");
    assert_string_equal(kt_it_state(ex), "FAILED");
    assert_true(logged(f->port, ex, "The requested value has expired"));
    json_decref(ex);
    assert_int_equal(kt_it_http_json("GET", f->port, KV, NULL, NULL, &list), 200);
    assert_int_equal(json_array_size(list), 0); /* gone from the listing */
    json_decref(list);
    char got[512];
    kt_it_sleep_ms(100); /* the render started the deletion; it lands on the storage's thread pool */
    assert_int_equal(api_get(f->port, "short", got, sizeof got), 404); /* the render's read deleted it */
    assert_string_equal(got, "- \"Not Found: No value found for key 'short' in namespace '" NS "'\"");
    /* the ttl header of PUT: alive, then expired */
    assert_int_equal(put_ttl(f->port, "hdr", "\"v\"", "PT1S"), 200);
    assert_api(f->port, "hdr", "STRING \"v\"");
    assert_int_equal(put_ttl(f->port, "hdr2", "\"v\"", "soon"), 422);
    assert_int_equal(put_ttl(f->port, "hdr3", "\"v\"", "-PT1S"), 422); /* ttl cannot be negative */
    kt_it_sleep_ms(1300);
    assert_int_equal(api_get(f->port, "hdr", got, sizeof got), 410);
    assert_string_equal(got, "- \"Resource has expired: The requested value has expired\"");
    assert_int_equal(api_get(f->port, "hdr", got, sizeof got), 404); /* the expired read deleted it */
}

static const char BAD_FLOW[] = "id: kv_bad\nnamespace: " NS "\ntasks:\n"
                               "  - {id: set, type: io.kestra.plugin.core.kv.Set, key: 'bad$key', value: x}\n";
static const char BAD_READ_FLOW[] =
    "id: kv_bad_read\nnamespace: " NS "\ntasks:\n"
    "  - {id: read, type: io.kestra.plugin.core.debug.Return, format: \"{{ kv('bad$key') }}\"}\n";
static const char MISSING_FLOW[] =
    "id: kv_missing\nnamespace: " NS "\ntasks:\n"
    "  - {id: get, type: io.kestra.plugin.core.kv.Get, key: nope, errorOnMissing: true}\n";

static void test_keys_validated_and_delete(void **state)
{
    kt_it_fixture *f = *state;
    json_t *j = NULL;
    static const char *const methods[] = {"GET", "PUT", "DELETE"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(kt_it_http_json(methods[i], f->port, KV "/bad$key", "application/json", "\"x\"", &j), 422);
        assert_string_equal(json_string_value(json_object_get(j, "message")), "Illegal argument: " KEY_MSG);
        json_decref(j);
    }
    assert_int_equal(kt_it_http_json("DELETE", f->port, KV, "application/json", "{\"keys\":[\"ok\",\"-no\"]}", &j),
                     422);
    json_decref(j);
    kt_it_create_flow(f->port, BAD_FLOW, NULL);
    kt_it_create_flow(f->port, BAD_READ_FLOW, NULL);
    kt_it_create_flow(f->port, MISSING_FLOW, NULL);
    json_t *ex = run(f->port, "kv_bad");
    assert_string_equal(kt_it_state(ex), "FAILED");
    assert_true(logged(f->port, ex, KEY_MSG));
    json_decref(ex);
    ex = run(f->port, "kv_bad_read");
    assert_string_equal(kt_it_state(ex), "FAILED");
    assert_true(logged(f->port, ex, KEY_MSG));
    json_decref(ex);
    ex = run(f->port, "kv_missing");
    assert_string_equal(kt_it_state(ex), "FAILED");
    assert_true(logged(f->port, ex, "No value found for key 'nope' in namespace '" NS
                                    "' and `errorOnMissing` is set to true"));
    json_decref(ex);
    /* delete: true then false; bulk: the keys that were there */
    char *body = NULL;
    assert_int_equal(kt_it_http("PUT", f->port, KV "/a", "application/json", "1", &body), 200);
    free(body);
    assert_int_equal(kt_it_http("PUT", f->port, KV "/b", "text/plain", "2", &body), 200);
    free(body);
    assert_int_equal(kt_it_http("PUT", f->port, KV "/c", "text/plain", "3", &body), 200);
    free(body);
    assert_int_equal(kt_it_http("DELETE", f->port, KV "/a", NULL, NULL, &body), 200);
    assert_string_equal(body, "true");
    free(body);
    assert_int_equal(kt_it_http("DELETE", f->port, KV "/a", NULL, NULL, &body), 200);
    assert_string_equal(body, "false");
    free(body);
    const char *bulk = "{\"keys\":[\"b\",\"a\",\"c\"]}";
    assert_int_equal(kt_it_http_json("DELETE", f->port, KV, "application/json", bulk, &j), 200);
    char *keys = json_dumps(json_object_get(j, "keys"), JSON_COMPACT);
    assert_string_equal(keys, "[\"b\",\"c\"]");
    free(keys);
    json_decref(j);
    assert_int_equal(kt_it_http_json("GET", f->port, KV, NULL, NULL, &j), 200);
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);
}

int main(void)
{
    int rc = kt_it_s3_check(); /* the _on_s3 variant without an S3 server: skipped or failed, as it says */
    if (rc)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_kv_api_every_type, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_put_api_get_task, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_ttl_expiry, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_keys_validated_and_delete, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
