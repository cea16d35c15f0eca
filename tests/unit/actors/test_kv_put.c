/* io.kestra.plugin.core.kv.Put (actors/worker/tasks_kv_put.c) on a real worker with a real local storage: the Ion a
 * merge writes, the entry's metadata (its expirationDate) kept across a Put, an expired entry treated as missing,
 * errorOnMissing, and Kestra's messages for the entry lists it refuses (mixed keyed and whole entries, a key that is
 * not a string, keyed updates on a value that is not a map, conflicting paths). The run's flow is a.b/f. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "expr/kv.h"
#include "tests/unit/actors/worker_fixture.h"

#define PUT "io.kestra.plugin.core.kv.Put"

static void put_ok(fixture *f, const char *props)
{
    probe p;
    run_task(f, PUT, props, "tr1", 1, &p);
    if (strcmp(p.state, "SUCCESS"))
        fail_msg("Put %s: %s", props, p.state);
    assert_true(p.outputs == NULL || json_object_size(p.outputs) == 0); /* VoidOutput */
    probe_clear(&p);
}

/* The entry's value read back as JSON (compact), from the stored Ion. */
static char *value_of(fixture *f, const char *key)
{
    char uri[256], err[256];
    snprintf(uri, sizeof uri, "kestra:///a/b/_kv/%s.ion", key);
    char *ion = stored(f, uri);
    if (!ion)
        return strdup("<none>");
    kt_kv_type t;
    json_t *v = kt_kv_decode(ion, strlen(ion), &t, err, sizeof err);
    free(ion);
    assert_non_null(v);
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    return s;
}

static void assert_value(fixture *f, const char *key, const char *want)
{
    char *got = value_of(f, key);
    if (strcmp(got, want))
        fail_msg("%s: got %s, want %s", key, got, want);
    free(got);
}

static void test_merge_rules(void **state)
{
    fixture *f = *state;
    /* created when missing (errorOnMissing defaults to false) */
    put_ok(f, "{\"key\":\"p\",\"value\":{\"a\":{\"x\":1,\"y\":2},\"b\":[1]}}");
    assert_value(f, "p", "{\"a\":{\"x\":1,\"y\":2},\"b\":[1]}");
    /* maps deep-merge: nested keys kept, lists replaced, new keys after the old ones */
    put_ok(f, "{\"key\":\"p\",\"value\":{\"a\":{\"y\":3},\"b\":[2],\"c\":true}}");
    assert_value(f, "p", "{\"a\":{\"x\":1,\"y\":3},\"b\":[2],\"c\":true}");
    /* keyed entries: dotted paths, maps made on the way */
    put_ok(f, "{\"key\":\"p\",\"value\":[{\"key\":\"a.z\",\"value\":\"z\"},{\"key\":\"d.e.f\",\"value\":null}]}");
    assert_value(f, "p", "{\"a\":{\"x\":1,\"y\":3,\"z\":\"z\"},\"b\":[2],\"c\":true,\"d\":{\"e\":{\"f\":null}}}");
    /* a single {value} replaces the whole value; a scalar replaces a map */
    put_ok(f, "{\"key\":\"p\",\"value\":[{\"value\":[1,2]}]}");
    assert_value(f, "p", "[1,2]");
    put_ok(f, "{\"key\":\"p\",\"value\":\"text\"}");
    assert_value(f, "p", "\"text\"");
    /* keyed entries on a missing key: the nested map, keys sorted (flattenToNestedMap's TreeMap) */
    put_ok(f, "{\"key\":\"n\",\"value\":[{\"key\":\"z\",\"value\":1},{\"key\":\"a.b\",\"value\":2}]}");
    assert_value(f, "n", "{\"a\":{\"b\":2},\"z\":1}");
    /* a list that is not an entry list is a value like any other */
    put_ok(f, "{\"key\":\"l\",\"value\":[{\"key\":\"k\",\"other\":1}]}");
    assert_value(f, "l", "[{\"key\":\"k\",\"other\":1}]");
    /* another namespace */
    put_ok(f, "{\"key\":\"o\",\"namespace\":\"c.d\",\"value\":1}");
    char *other = stored(f, "kestra:///c/d/_kv/o.ion");
    assert_non_null(other);
    free(other);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    put_ok(f, "{\"key\":\"s\",\"value\":\"plain\"}");
    assert_failed(f, PUT, "{\"key\":\"s\",\"value\":[{\"key\":\"a\",\"value\":1}]}",
                  "Cannot apply keyed `value` updates to a non-JSON existing KV value.");
    assert_value(f, "s", "\"plain\""); /* nothing written */
    assert_failed(f, PUT, "{\"key\":\"s\",\"value\":[{\"value\":1},{\"key\":\"a\",\"value\":2}]}",
                  "`value` entries without `key` can only be used as a single replacement item.");
    assert_failed(f, PUT, "{\"key\":\"s\",\"value\":[{\"key\":\"\",\"value\":2}]}",
                  "Each keyed `value` entry must have a non-empty string `key`.");
    assert_failed(f, PUT, "{\"key\":\"s\",\"value\":[{\"key\":3,\"value\":2}]}",
                  "Each keyed `value` entry must have a non-empty string `key`.");
    assert_failed(f, PUT, "{\"key\":\"m\",\"value\":[{\"key\":\"a\",\"value\":1},{\"key\":\"a.b\",\"value\":2}]}",
                  "Conflict at key: ");
    assert_failed(f, PUT, "{\"key\":\"missing\",\"value\":1,\"errorOnMissing\":true}",
                  "No value found for key 'missing' in namespace 'a.b' and `errorOnMissing` is set to true");
    assert_value(f, "missing", "<none>");
    assert_failed(f, PUT, "{\"key\":\"bad key\",\"value\":1}", "Key must start with an alphanumeric character");
    assert_failed(f, PUT, "{\"key\":\"k\",\"value\":1,\"errorOnMissing\":\"maybe\"}", "errorOnMissing");
}

static void test_metadata(void **state)
{
    fixture *f = *state;
    /* a live entry with an expiration: Put keeps it */
    put(f, "a/b/_kv/t.ion", "{a:1}");
    put(f, "a/b/_kv/t.ion.metadata", "{\"expirationDate\":\"2999-01-01T00:00:00Z\"}");
    put_ok(f, "{\"key\":\"t\",\"value\":{\"b\":2},\"errorOnMissing\":true}");
    assert_value(f, "t", "{\"a\":1,\"b\":2}");
    char *meta = stored(f, "kestra:///a/b/_kv/t.ion.metadata");
    assert_non_null(meta);
    assert_non_null(strstr(meta, "2999-01-01T00:00:00Z"));
    free(meta);
    /* an expired entry is missing: errorOnMissing fails, otherwise it is written anew, without the old expiration */
    put(f, "a/b/_kv/old.ion", "{a:1}");
    put(f, "a/b/_kv/old.ion.metadata", "{\"expirationDate\":\"2020-01-01T00:00:00Z\"}");
    assert_failed(f, PUT, "{\"key\":\"old\",\"value\":{\"b\":2},\"errorOnMissing\":true}",
                  "No value found for key 'old'");
    put(f, "a/b/_kv/old.ion", "{a:1}");
    put(f, "a/b/_kv/old.ion.metadata", "{\"expirationDate\":\"2020-01-01T00:00:00Z\"}");
    put_ok(f, "{\"key\":\"old\",\"value\":{\"b\":2}}");
    assert_value(f, "old", "{\"b\":2}");
    meta = stored(f, "kestra:///a/b/_kv/old.ion.metadata");
    assert_true(meta == NULL || strstr(meta, "2020-01-01") == NULL);
    free(meta);
    /* no storage: a clear error */
    probe p;
    run_task(f, PUT, "{\"key\":\"k\",\"value\":1}", "tr2", 0, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "this worker has no internal storage"));
    probe_clear(&p);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_merge_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
