/* KV values (expr/kv.h) and kv() (expr/func_kv.c): Kestra's key rule and message, every type through the Ion text an
 * entry holds (kv.Set's conversions, the API's body, the type read back), the expirationDate metadata, and the
 * function over a fake storage hook (missing, errorOnMissing, expired, another namespace, a bad key). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "expr/expr.h"
#include "expr/kv.h"

/* 2023-11-14T22:13:20Z */
#define NOW INT64_C(1700000000000000)

static void test_key_rule(void **state)
{
    (void)state;
    char err[512];
    const char *good[] = {"a", "my-key", "A.b_c-9", "0", "x..y", NULL};
    for (int i = 0; good[i]; i++)
        assert_int_equal(kt_kv_key_check(good[i], err, sizeof err), KT_OK);
    const char *bad[] = {"bad$key", "-a", ".a", "_a", "a/b", "a b", "é", "a\n", NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(kt_kv_key_check(bad[i], err, sizeof err), KT_EINVAL);
        assert_string_equal(err, KT_KV_KEY_INVALID);
    }
    assert_int_equal(kt_kv_key_check("", err, sizeof err), KT_EINVAL);
    assert_string_equal(err, "Key cannot be null or empty");
    assert_int_equal(kt_kv_key_check(NULL, err, sizeof err), KT_EINVAL);
    char longkey[KT_KV_KEY_MAX + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    assert_int_equal(kt_kv_key_check(longkey, err, sizeof err), KT_EINVAL);
    char *uri = kt_kv_uri("company.team", "my-key");
    assert_string_equal(uri, "kestra:///company/team/_kv/my-key.ion");
    free(uri);
}

/* kv.Set's value (JSON from the render) with kvType -> Ion text -> the type and value read back. */
static void set_case(const char *value_json, const char *kv_type, const char *want_ion, kt_kv_type want_type,
                     const char *want_value_json)
{
    json_t *v = json_loads(value_json, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    kt_buf b = {0};
    char err[512] = "";
    if (kt_kv_encode(&b, v, kv_type, err, sizeof err))
        fail_msg("%s as %s: %s", value_json, kv_type ? kv_type : "-", err);
    assert_string_equal(b.p, want_ion);
    kt_kv_type t;
    json_t *back = kt_kv_decode(b.p, b.len, &t, err, sizeof err);
    assert_non_null(back);
    assert_string_equal(kt_kv_type_name(t), kt_kv_type_name(want_type));
    char *got = json_dumps(back, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_string_equal(got, want_value_json);
    free(got);
    json_decref(back);
    json_decref(v);
    free(b.p);
}

static void test_set_round_trip_every_type(void **state)
{
    (void)state;
    set_case("\"hello\"", NULL, "\"hello\"", KT_KV_STRING, "\"hello\"");
    set_case("\"hello\"", "STRING", "\"hello\"", KT_KV_STRING, "\"hello\"");
    set_case("\"123.45\"", "NUMBER", "123.45e0", KT_KV_NUMBER, "123.45");
    set_case("\"42\"", "NUMBER", "42", KT_KV_NUMBER, "42");
    set_case("42", NULL, "42", KT_KV_NUMBER, "42");
    set_case("\"true\"", "BOOLEAN", "true", KT_KV_BOOLEAN, "true");
    set_case("\"TRUE\"", "BOOLEAN", "true", KT_KV_BOOLEAN, "true"); /* Boolean.parseBoolean ignores case */
    set_case("\"nope\"", "BOOLEAN", "false", KT_KV_BOOLEAN, "false");
    set_case("\"2023-05-02T01:02:03Z\"", "DATETIME", "2023-05-02T01:02:03Z", KT_KV_DATETIME,
             "\"2023-05-02T01:02:03Z\"");
    set_case("\"2023-05-02T03:02:03+02:00\"", "DATETIME", "2023-05-02T01:02:03Z", KT_KV_DATETIME,
             "\"2023-05-02T01:02:03Z\""); /* an Instant: UTC */
    set_case("\"2023-05-02\"", "DATE", "2023-05-02", KT_KV_DATE, "\"2023-05-02\"");
    set_case("\"P1DT5S\"", "DURATION", "\"PT24H5S\"", KT_KV_DURATION, "\"PT24H5S\"");
    set_case("\"PT5M\"", NULL, "\"PT5M\"", KT_KV_DURATION, "\"PT5M\""); /* a duration-shaped string reads back so */
    set_case("\"[{\\\"some\\\":\\\"value\\\"},{\\\"another\\\":\\\"value\\\"}]\"", "JSON",
             "[{some:\"value\"},{another:\"value\"}]", KT_KV_JSON, "[{\"some\":\"value\"},{\"another\":\"value\"}]");
    set_case("{\"a\":[1,true,null]}", NULL, "{a:[1,true,null]}", KT_KV_JSON, "{\"a\":[1,true,null]}");
}

static void test_set_conversion_errors(void **state)
{
    (void)state;
    const char *cases[][2] = {{"\"abc\"", "NUMBER"}, {"\"yesterday\"", "DATETIME"}, {"\"2023-13-01\"", "DATE"},
                              {"\"5 minutes\"", "DURATION"}, {"\"{oops\"", "JSON"}, {"\"x\"", "WHATEVER"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *v = json_loads(cases[i][0], JSON_DECODE_ANY, NULL);
        kt_buf b = {0};
        char err[512] = "";
        assert_int_equal(kt_kv_encode(&b, v, cases[i][1], err, sizeof err), KT_EINVAL);
        assert_true(err[0]);
        free(b.p);
        json_decref(v);
    }
}

/* The API's PUT body (Kestra's KVControllerTest table: stored as Ion, type and value read back). */
static void put_case(const char *body, kt_kv_type want_type, const char *want_value_json)
{
    kt_buf b = {0};
    char err[512] = "";
    if (kt_kv_from_text(&b, body, strlen(body), err, sizeof err))
        fail_msg("%s: %s", body, err);
    kt_kv_type t;
    json_t *back = kt_kv_decode(b.p, b.len, &t, err, sizeof err);
    assert_non_null(back);
    assert_string_equal(kt_kv_type_name(t), kt_kv_type_name(want_type));
    char *got = json_dumps(back, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_string_equal(got, want_value_json);
    free(got);
    json_decref(back);
    free(b.p);
}

static void test_api_bodies(void **state)
{
    (void)state;
    put_case("{hello:\"world\"}", KT_KV_JSON, "{\"hello\":\"world\"}");
    put_case("{\"hello\":\"world\"}", KT_KV_JSON, "{\"hello\":\"world\"}");
    put_case("[\"hello\",\"world\"]", KT_KV_JSON, "[\"hello\",\"world\"]");
    put_case("\"hello\"", KT_KV_STRING, "\"hello\"");
    put_case("1", KT_KV_NUMBER, "1");
    put_case("1.0", KT_KV_NUMBER, "1.0");
    put_case("true", KT_KV_BOOLEAN, "true");
    put_case("false", KT_KV_BOOLEAN, "false");
    put_case("2021-09-01", KT_KV_DATE, "\"2021-09-01\"");
    put_case("2021-09-01T01:02:03Z", KT_KV_DATETIME, "\"2021-09-01T01:02:03Z\"");
    put_case("\"PT5S\"", KT_KV_DURATION, "\"PT5S\"");
    put_case("\"P\"", KT_KV_STRING, "\"P\""); /* not DURATION_PATTERN: nothing after P */
    put_case("\"PT\"", KT_KV_STRING, "\"PT\"");
    put_case("\"PT1.5S\"", KT_KV_STRING, "\"PT1.5S\"");
    kt_buf b = {0};
    char err[512] = "";
    assert_int_equal(kt_kv_from_text(&b, "{oops", 5, err, sizeof err), KT_EINVAL);
    assert_string_equal(err, "Invalid JSON value for: {oops");
    free(b.p);
}

static void test_expiration(void **state)
{
    (void)state;
    assert_null(kt_kv_metadata(NOW, -1));
    json_t *m = kt_kv_metadata(NOW, INT64_C(1000000));
    assert_string_equal(json_string_value(json_object_get(m, "expirationDate")), "2023-11-14T22:13:21Z");
    int64_t us = 0;
    assert_int_equal(kt_kv_expiration(m, &us), 1);
    assert_true(us == NOW + 1000000);
    assert_false(kt_kv_expired(m, NOW));
    assert_false(kt_kv_expired(m, NOW + 1000000)); /* isAfter: not at the instant itself */
    assert_true(kt_kv_expired(m, NOW + 1000001));
    json_decref(m);
    assert_false(kt_kv_expired(NULL, NOW));
    json_t *bad = json_pack("{ss}", "expirationDate", "soon");
    assert_int_equal(kt_kv_expiration(bad, &us), 0);
    json_decref(bad);
}

/* ---- kv() over a fake storage: one entry per URI ---- */

typedef struct fake_entry {
    const char *uri, *ion, *expiration;
} fake_entry;

static const fake_entry fake[] = {
    {"kestra:///company/team/_kv/my-key.ion", "{field:\"value\"}", NULL},
    {"kestra:///company/team/_kv/when.ion", "2021-09-01T01:02:03Z", NULL},
    {"kestra:///company/team/_kv/old.ion", "\"gone\"", "2023-11-14T22:13:19Z"},
    {"kestra:///company/team/_kv/fresh.ion", "\"here\"", "2023-11-14T22:13:21Z"},
    {"kestra:///company/_kv/parent-key.ion", "7", NULL},
    {NULL, NULL, NULL},
};

static int fake_read_meta(void *ud, const char *uri, char **out, size_t *len, json_t **meta, int64_t *modified_ms,
                          char *err, size_t errcap)
{
    (void)ud;
    *modified_ms = 0;
    for (const fake_entry *e = fake; e->uri; e++)
        if (!strcmp(e->uri, uri)) {
            *out = strdup(e->ion);
            *len = strlen(e->ion);
            *meta = e->expiration ? json_pack("{ss}", "expirationDate", e->expiration) : NULL;
            return KT_OK;
        }
    snprintf(err, errcap, "%s: no such file", uri);
    return KT_ENOTFOUND;
}

static const kt_env_files fake_files = {.read_meta = fake_read_meta};

static kt_status render_kv(const char *src, char **out, kt_expr_error *err)
{
    kt_env env;
    kt_env_init(&env, NOW, 1);
    env.files = &fake_files;
    json_t *ctx = json_pack("{s{ssss}}", "flow", "namespace", "company.team", "id", "f");
    kt_status st = kt_expr_render_string(src, ctx, &env, out, err);
    json_decref(ctx);
    return st;
}

static void kv_ok(const char *src, const char *want)
{
    char *out = NULL;
    kt_expr_error err = {0};
    if (render_kv(src, &out, &err))
        fail_msg("%s: %s", src, err.message);
    assert_string_equal(out, want);
    free(out);
}

static void kv_fails(const char *src, const char *want)
{
    char *out = NULL;
    kt_expr_error err = {0};
    assert_int_not_equal(render_kv(src, &out, &err), KT_OK);
    if (!strstr(err.message, want))
        fail_msg("%s: '%s' does not hold '%s'", src, err.message, want);
    free(out);
}

static void test_kv_function(void **state)
{
    (void)state;
    kv_ok("{{ kv('my-key').field }}", "value");
    kv_ok("{{ kv('when') }}", "2021-09-01T01:02:03Z");
    kv_ok("{{ kv('fresh') }}", "here");
    kv_ok("{{ kv('missing') ?? 'none' }}", "none");
    kv_ok("{{ kv('missing') is null }}", "true");
    kv_ok("{{ kv('parent-key', 'company') + 1 }}", "8");
    kv_ok("{{ kv(key='parent-key', namespace='company', errorOnMissing=true) }}", "7");
    kv_fails("{{ kv('missing', errorOnMissing=true) }}", "The key 'missing' does not exist in the namespace "
                                                         "'company.team'.");
    kv_fails("{{ kv('missing', 'company', true) }}", "The key 'missing' does not exist in the namespace 'company'.");
    kv_fails("{{ kv('old') }}", "The requested value has expired");
    kv_fails("{{ kv('bad$key') }}", KT_KV_KEY_INVALID);
    kv_fails("{{ kv('') }}", "Key cannot be null or empty");
    kv_fails("{{ kv() }}", "The 'kv' function expects an argument 'key'.");
    kv_fails("{{ kv('a', '../etc') }}", "Invalid namespace '../etc'");
    /* no storage in the environment: a clear error */
    kt_env env;
    kt_env_init(&env, NOW, 1);
    char *out = NULL;
    kt_expr_error err = {0};
    json_t *ctx = json_pack("{s{ss}}", "flow", "namespace", "company.team");
    assert_int_not_equal(kt_expr_render_string("{{ kv('my-key') }}", ctx, &env, &out, &err), KT_OK);
    assert_non_null(strstr(err.message, "needs the internal storage"));
    json_decref(ctx);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_rule),
        cmocka_unit_test(test_set_round_trip_every_type),
        cmocka_unit_test(test_set_conversion_errors),
        cmocka_unit_test(test_api_bodies),
        cmocka_unit_test(test_expiration),
        cmocka_unit_test(test_kv_function),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
