/* taskCache (Kestra 1.x, actors/executor/task_cache.h over store/task_cache.h), on SQLite and (unit/..._pg) on
 * PostgreSQL: the key of a rendered task (Kestra's hash of the rendered task, the task run's value beside it), whether
 * a task asks for caching, and the store's entries: a hit within the ttl gives the outputs back, a lookup after the
 * ttl misses and deletes the entry, another key, another flow or another value misses, no ttl never expires, a second
 * write replaces the first. */
#include "actors/executor/task_cache.h"
#include "flow/flow.h"
#include "store/task_cache.h"
#include "tests/unit/store/store_fixture.h"

#define HOUR (3600LL * 1000000)

static void test_key_and_settings(void **state)
{
    (void)state;
    json_t *a = parse("{\"id\":\"t\",\"type\":\"io.kestra.plugin.core.debug.Return\",\"format\":\"x\","
                      "\"taskCache\":{\"enabled\":true,\"ttl\":\"PT1H\"}}");
    json_t *same = parse("{\"taskCache\":{\"ttl\":\"PT1H\",\"enabled\":true},\"format\":\"x\",\"id\":\"t\","
                         "\"type\":\"io.kestra.plugin.core.debug.Return\"}");
    json_t *other = parse("{\"id\":\"t\",\"type\":\"io.kestra.plugin.core.debug.Return\",\"format\":\"y\","
                          "\"taskCache\":{\"enabled\":true,\"ttl\":\"PT1H\"}}");
    char k1[65], k2[65], k3[65], k4[65], k5[65];
    kt_task_cache_key(a, NULL, k1);
    kt_task_cache_key(same, NULL, k2);
    kt_task_cache_key(other, NULL, k3);
    kt_task_cache_key(a, "v1", k4);
    kt_task_cache_key(a, "v2", k5);
    assert_string_equal(k1, k2); /* the properties' order does not matter */
    assert_string_not_equal(k1, k3);
    assert_string_not_equal(k1, k4);
    assert_string_not_equal(k4, k5);
    assert_int_equal(strlen(k1), 64);
    int64_t ttl = 0;
    assert_int_equal(kt_task_cache_enabled(a, &ttl), 1);
    assert_int_equal(ttl, HOUR);
    json_t *no_ttl = parse("{\"taskCache\":{\"enabled\":true}}"), *off = parse("{\"taskCache\":{\"enabled\":false}}");
    assert_int_equal(kt_task_cache_enabled(no_ttl, &ttl), 1);
    assert_int_equal(ttl, -1);
    assert_int_equal(kt_task_cache_enabled(off, &ttl), 0);
    assert_int_equal(kt_task_cache_enabled(json_object_get(a, "format"), &ttl), 0);
    json_decref(a), json_decref(same), json_decref(other), json_decref(no_ttl), json_decref(off);
}

static void test_hit_expiry_and_misses(void **state)
{
    fixture *f = *state;
    int64_t t0 = 1700000000LL * 1000000;
    json_t *out = NULL, *want = parse("{\"value\":\"cached\",\"n\":[1,2]}");
    /* nothing yet */
    assert_int_equal(kt_task_cache_lookup(f->s, "a.b", "f", "k1", HOUR, t0, &out), KT_ENOTFOUND);
    assert_null(out);
    assert_int_equal(kt_task_cache_store(f->s, "a.b", "f", "k1", want, t0), KT_OK);
    /* a hit within the ttl */
    assert_int_equal(kt_task_cache_lookup(f->s, "a.b", "f", "k1", HOUR, t0 + HOUR / 2, &out), KT_OK);
    assert_json_equal(out, want);
    json_decref(out);
    /* another key, another flow, another namespace: misses */
    assert_int_equal(kt_task_cache_lookup(f->s, "a.b", "f", "k2", HOUR, t0, &out), KT_ENOTFOUND);
    assert_int_equal(kt_task_cache_lookup(f->s, "a.b", "g", "k1", HOUR, t0, &out), KT_ENOTFOUND);
    assert_int_equal(kt_task_cache_lookup(f->s, "a.c", "f", "k1", HOUR, t0, &out), KT_ENOTFOUND);
    /* after the ttl: a miss, and the entry is gone (even for a lookup without a ttl) */
    assert_int_equal(kt_task_cache_lookup(f->s, "a.b", "f", "k1", HOUR, t0 + 2 * HOUR, &out), KT_ENOTFOUND);
    assert_null(out);
    assert_int_equal(kt_task_cache_lookup(f->s, "a.b", "f", "k1", -1, t0, &out), KT_ENOTFOUND);
    /* no ttl: never expires; a second write replaces the first (and its date) */
    assert_int_equal(kt_task_cache_store(f->s, "a.b", "f", "k3", want, t0), KT_OK);
    assert_int_equal(kt_task_cache_lookup(f->s, "a.b", "f", "k3", -1, t0 + 1000 * HOUR, &out), KT_OK);
    json_decref(out);
    json_t *again = parse("{\"value\":\"newer\"}");
    assert_int_equal(kt_task_cache_store(f->s, "a.b", "f", "k3", again, t0 + 5 * HOUR), KT_OK);
    assert_int_equal(kt_task_cache_lookup(f->s, "a.b", "f", "k3", HOUR, t0 + 5 * HOUR + HOUR / 2, &out), KT_OK);
    assert_json_equal(out, again);
    json_decref(out);
    /* NULL outputs are stored as {} */
    assert_int_equal(kt_task_cache_store(f->s, "a.b", "f", "k4", NULL, t0), KT_OK);
    assert_int_equal(kt_task_cache_lookup(f->s, "a.b", "f", "k4", -1, t0, &out), KT_OK);
    assert_int_equal(json_object_size(out), 0);
    json_decref(out);
    json_decref(again);
    json_decref(want);
}

/* taskCache in a flow: accepted on a task (both dialects: a 1.x addition), `enabled` required, a ttl positive. */
static void test_flow_property(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"    taskCache:\n      enabled: true\n      ttl: PT1H\n", NULL},
        {"    taskCache:\n      enabled: false\n", NULL},
        {"    taskCache:\n      ttl: PT1H\n", "must not be null"},
        {"    taskCache:\n      enabled: true\n      ttl: PT0S\n", "must be a positive duration"},
        {"    taskCache:\n      enabled: true\n      size: 3\n", "size"},
    };
    for (int d = 0; d < 2; d++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char yaml[512];
            snprintf(yaml, sizeof yaml, "id: c\nnamespace: a.b\ndialect: %s\ntasks:\n  - id: t\n"
                     "    type: io.kestra.plugin.core.debug.Return\n    format: x\n%s", d ? "2.x" : "1.x", cases[i][0]);
            kt_flow *fl = NULL;
            kt_diags dg;
            kt_diags_init(&dg);
            kt_status st = kt_flow_parse(yaml, strlen(yaml), "c.yml", &fl, &dg);
            if (!cases[i][1]) {
                if (st)
                    fail_msg("case %zu refused: %s", i, dg.count ? dg.items[0].message : "?");
                kt_flow_free(fl);
            } else {
                assert_int_not_equal(st, KT_OK);
                assert_true(dg.count >= 1);
                if (!strstr(dg.items[0].message, cases[i][1]))
                    fail_msg("case %zu: %s", i, dg.items[0].message);
            }
            kt_diags_clear(&dg);
        }
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    int backend = fixture_backend(); /* 77: PostgreSQL asked for, none there */
    if (backend)
        return backend;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_and_settings),
        cmocka_unit_test(test_flow_property),
        cmocka_unit_test_setup_teardown(test_hit_expiry_and_misses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
