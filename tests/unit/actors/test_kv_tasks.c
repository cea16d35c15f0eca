/* The KV tasks (actors/worker/tasks_kv.c) on a real worker with a real local storage: what kv.Set writes (the Ion file
 * `kestra:///a/b/_kv/<key>.ion` and its expirationDate metadata), Get's typed value back, overwrite, expiry (the
 * entry deleted, Kestra's message), GetKeys' prefix and live keys, Delete's `deleted`, and Kestra's key rule and
 * messages on every task. The run's flow is a.b/f. */
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
#include "base/clock.h"
#include "base/log.h"
#include "expr/kv.h"
#include "flow/render.h"
#include "store/storage.h"
#include "store/storage_uri.h"
#include "tests/unit/json_parse.h"
#include "tests/unit/actors/worker_fixture.h"

#define KV "io.kestra.plugin.core.kv."

static void set_ok(fixture *f, const char *props)
{
    probe p;
    run_task(f, KV "Set", props, "tr1", 1, &p);
    if (strcmp(p.state, "SUCCESS"))
        fail_msg("Set %s: %s", props, p.state);
    assert_true(p.outputs == NULL || json_object_size(p.outputs) == 0); /* VoidOutput */
    probe_clear(&p);
}

/* Get's output value as compact JSON ("<missing>" when the output has none). */
static char *get_value(fixture *f, const char *props)
{
    probe p;
    run_task(f, KV "Get", props, "tr1", 1, &p);
    if (strcmp(p.state, "SUCCESS"))
        fail_msg("Get %s: %s", props, p.state);
    json_t *v = json_object_get(p.outputs, "value");
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("<missing>");
    probe_clear(&p);
    return s;
}

static void round_trip(fixture *f, const char *value_json, const char *kv_type, const char *want_file,
                       const char *want_value)
{
    char props[512];
    snprintf(props, sizeof props, "{\"key\":\"k1\",\"value\":%s%s%s%s}", value_json, kv_type ? ",\"kvType\":\"" : "",
             kv_type ? kv_type : "", kv_type ? "\"" : "");
    set_ok(f, props);
    char *file = stored(f, "kestra:///a/b/_kv/k1.ion");
    assert_non_null(file);
    assert_string_equal(file, want_file);
    free(file);
    char *v = get_value(f, "{\"key\":\"k1\"}");
    assert_string_equal(v, want_value);
    free(v);
}

static void test_set_get_every_type(void **state)
{
    fixture *f = *state;
    round_trip(f, "\"hello\"", NULL, "\"hello\"", "\"hello\"");
    round_trip(f, "\"123.45\"", "NUMBER", "123.45e0", "123.45");
    round_trip(f, "\"true\"", "BOOLEAN", "true", "true");
    round_trip(f, "\"2023-05-02T01:02:03Z\"", "DATETIME", "2023-05-02T01:02:03Z", "\"2023-05-02T01:02:03Z\"");
    round_trip(f, "\"2023-05-02\"", "DATE", "2023-05-02", "\"2023-05-02\"");
    round_trip(f, "\"P1DT5S\"", "DURATION", "\"PT24H5S\"", "\"PT24H5S\"");
    round_trip(f, "\"{\\\"a\\\":[1,2]}\"", "JSON", "{a:[1,2]}", "{\"a\":[1,2]}");
    round_trip(f, "{\"a\":\"b\"}", NULL, "{a:\"b\"}", "{\"a\":\"b\"}");
    /* another namespace, given explicitly */
    set_ok(f, "{\"key\":\"other\",\"value\":\"x\",\"namespace\":\"c.d\"}");
    char *file = stored(f, "kestra:///c/d/_kv/other.ion");
    assert_string_equal(file, "\"x\"");
    free(file);
    char *v = get_value(f, "{\"key\":\"other\",\"namespace\":\"c.d\"}");
    assert_string_equal(v, "\"x\"");
    free(v);
    assert_failed(f, KV "Set", "{\"key\":\"k1\",\"value\":\"abc\",\"kvType\":\"NUMBER\"}", "abc");
}

static void test_overwrite_and_ttl(void **state)
{
    fixture *f = *state;
    set_ok(f, "{\"key\":\"k\",\"value\":\"one\"}");
    assert_failed(f, KV "Set", "{\"key\":\"k\",\"value\":\"two\",\"overwrite\":false}",
                  "Cannot set value for key 'k'. Key already exists and `overwrite` is set to `false`.");
    char *v = get_value(f, "{\"key\":\"k\"}");
    assert_string_equal(v, "\"one\"");
    free(v);
    set_ok(f, "{\"key\":\"k\",\"value\":\"two\"}"); /* overwrite defaults to true */
    v = get_value(f, "{\"key\":\"k\"}");
    assert_string_equal(v, "\"two\"");
    free(v);
    /* a ttl leaves an expirationDate in the metadata (an Instant a few minutes from now) */
    set_ok(f, "{\"key\":\"t\",\"value\":\"v\",\"ttl\":\"PT5M\"}");
    char *meta = stored(f, "kestra:///a/b/_kv/t.ion.metadata");
    assert_non_null(meta);
    json_t *m = json_loads(meta, 0, NULL);
    int64_t exp = 0;
    assert_int_equal(kt_kv_expiration(m, &exp), 1);
    assert_true(exp > kt_now_us() + 4 * 60 * INT64_C(1000000) && exp < kt_now_us() + 6 * 60 * INT64_C(1000000));
    json_decref(m);
    free(meta);
    assert_failed(f, KV "Set", "{\"key\":\"t\",\"value\":\"v\",\"ttl\":\"PT-5M\"}", "ttl cannot be negative");
    /* an expired entry: Get fails with Kestra's message and deletes it; overwrite=false may replace it */
    put(f, "a/b/_kv/old.ion", "\"gone\"");
    put(f, "a/b/_kv/old.ion.metadata", "{\"expirationDate\":\"2020-01-01T00:00:00Z\"}");
    assert_failed(f, KV "Get", "{\"key\":\"old\"}", "The requested value has expired");
    char *gone = stored(f, "kestra:///a/b/_kv/old.ion");
    assert_null(gone);
    put(f, "a/b/_kv/old.ion", "\"gone\"");
    put(f, "a/b/_kv/old.ion.metadata", "{\"expirationDate\":\"2020-01-01T00:00:00Z\"}");
    set_ok(f, "{\"key\":\"old\",\"value\":\"new\",\"overwrite\":false}");
    v = get_value(f, "{\"key\":\"old\"}");
    assert_string_equal(v, "\"new\"");
    free(v);
}

static void test_get_missing(void **state)
{
    fixture *f = *state;
    char *v = get_value(f, "{\"key\":\"nothing\"}");
    assert_string_equal(v, "<missing>");
    free(v);
    assert_failed(f, KV "Get", "{\"key\":\"nothing\",\"errorOnMissing\":true}",
                  "No value found for key 'nothing' in namespace 'a.b' and `errorOnMissing` is set to true");
}

static void test_get_keys(void **state)
{
    fixture *f = *state;
    probe p;
    run_task(f, KV "GetKeys", "{}", "tr1", 1, &p); /* no KV folder yet: no keys */
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_array_size(json_object_get(p.outputs, "keys")), 0);
    probe_clear(&p);
    set_ok(f, "{\"key\":\"my_var1\",\"value\":\"1\"}");
    set_ok(f, "{\"key\":\"my_var2\",\"value\":\"2\"}");
    set_ok(f, "{\"key\":\"other\",\"value\":\"3\"}");
    put(f, "a/b/_kv/my_var3.ion", "\"expired\"");
    put(f, "a/b/_kv/my_var3.ion.metadata", "{\"expirationDate\":\"2020-01-01T00:00:00Z\"}");
    run_task(f, KV "GetKeys", "{\"prefix\":\"my_var\"}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    char *keys = json_dumps(json_object_get(p.outputs, "keys"), JSON_COMPACT);
    assert_string_equal(keys, "[\"my_var1\",\"my_var2\"]");
    free(keys);
    probe_clear(&p);
    run_task(f, KV "GetKeys", "{}", "tr1", 1, &p);
    keys = json_dumps(json_object_get(p.outputs, "keys"), JSON_COMPACT);
    assert_string_equal(keys, "[\"my_var1\",\"my_var2\",\"other\"]");
    free(keys);
    probe_clear(&p);
}

static void test_delete(void **state)
{
    fixture *f = *state;
    probe p;
    set_ok(f, "{\"key\":\"d\",\"value\":\"x\"}");
    run_task(f, KV "Delete", "{\"key\":\"d\"}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_true(json_is_true(json_object_get(p.outputs, "deleted")));
    probe_clear(&p);
    assert_null(stored(f, "kestra:///a/b/_kv/d.ion"));
    run_task(f, KV "Delete", "{\"key\":\"d\"}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_true(json_is_false(json_object_get(p.outputs, "deleted")));
    probe_clear(&p);
    assert_failed(f, KV "Delete", "{\"key\":\"d\",\"errorOnMissing\":true}",
                  "No value found for key 'd' in namespace 'a.b' and `errorOnMissing` is set to true");
}

static void test_keys_validated(void **state)
{
    fixture *f = *state;
    assert_failed(f, KV "Set", "{\"key\":\"bad$key\",\"value\":\"x\"}", KT_KV_KEY_INVALID);
    assert_failed(f, KV "Set", "{\"key\":\"../escape\",\"value\":\"x\"}", KT_KV_KEY_INVALID);
    assert_failed(f, KV "Get", "{\"key\":\"bad$key\"}", KT_KV_KEY_INVALID);
    assert_failed(f, KV "Delete", "{\"key\":\"-x\"}", KT_KV_KEY_INVALID);
    assert_failed(f, KV "Get", "{\"key\":\"\"}", "Key cannot be null or empty");
    assert_failed(f, KV "Set", "{\"key\":\"k\",\"value\":\"x\",\"namespace\":\"a/../..\"}", "Invalid namespace");
    probe p;
    run_task(f, KV "Get", "{\"key\":\"k\"}", "tr1", 0, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "no internal storage"));
    probe_clear(&p);
}

/* The executor renders kv.Set's `value` as Kestra's renderTyped (one `{{ expr }}` is the value itself: a number, a
 * map), with the cache or without; text stays text, text mixed with values is concatenated (Kestra 0.23+, where
 * 0.20 failed with "Tried to add …"), and the other properties are rendered as usual. */
static void test_value_rendered_typed(void **state)
{
    (void)state;
    json_t *flow = json_loads("{\"id\":\"f\",\"namespace\":\"a.b\",\"tasks\":[]}", 0, NULL);
    json_t *ex = json_loads("{\"id\":\"x1\",\"namespace\":\"a.b\",\"flowId\":\"f\",\"inputs\":{\"n\":41},"
                            "\"taskRunList\":[],\"state\":{\"current\":\"RUNNING\"}}",
                            0, NULL);
    static const char *const cases[][2] = {
        {"{{ inputs.n + 1 }}", "42"},
        {"{{ {'k': [true]} }}", "{\"k\":[true]}"},
        {"n={{ inputs.n }}", "\"n=41\""},
        {"{{ inputs.n }}{{ inputs.n }}", "\"4141\""}, /* values mixed: a string, as Kestra 0.23+ */
        {"plain", "\"plain\""},
    };
    kt_tmpl_cache *cache = kt_tmpl_cache_new();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int cached = 0; cached < 2; cached++) {
            json_t *task = json_pack("{ss ss ss ss}", "id", "t", "type", KV "Set", "key", "{{ flow.id }}-k", "value",
                                     cases[i][0]);
            char err[256] = "";
            json_t *out = kt_render_task(flow, cached ? cache : NULL, NULL, ex, task, NULL, err, sizeof err);
            if (!out)
                fail_msg("render %s: %s", cases[i][0], err);
            char *v = json_dumps(json_object_get(out, "value"), JSON_COMPACT | JSON_ENCODE_ANY);
            assert_string_equal(v, cases[i][1]);
            assert_string_equal(json_string_value(json_object_get(out, "key")), "f-k");
            free(v);
            json_decref(out);
            json_decref(task);
        }
    kt_tmpl_cache_free(cache);
    json_decref(flow);
    json_decref(ex);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_get_every_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overwrite_and_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_validated, setup, teardown),
        cmocka_unit_test(test_value_rendered_typed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
