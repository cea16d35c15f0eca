/* Input coercion and validation with Kestra's messages (KESTRA-execution.md §4). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/inputs.h"

/* One input `x` defined by def (JSON), sent value raw (JSON; NULL = not sent). Either the typed result `want`
 * (JSON) or the exact error message `err`. */
static const struct icase {
    const char *def, *raw, *want, *err;
} cases[] = {
    /* STRING */
    {"{\"type\":\"STRING\"}", "\"hello\"", "\"hello\"", NULL},
    {"{\"type\":\"STRING\",\"validator\":\"A\\\\d+\"}", "\"A12\"", "\"A12\"", NULL},
    {"{\"type\":\"STRING\",\"validator\":\"A\\\\d+\"}", "\"xA12\"", NULL,
     "Invalid input for `x`, it must match the pattern `A\\d+`, but received `xA12`"},
    {"{\"type\":\"STRING\"}", NULL, NULL, "Invalid input for `x`, missing required input, but received `null`"},
    {"{\"type\":\"STRING\",\"required\":false}", NULL, "null", NULL},
    {"{\"type\":\"STRING\",\"defaults\":\"d\"}", NULL, "\"d\"", NULL},
    {"{\"type\":\"STRING\",\"defaults\":\"d\"}", "null", "\"d\"", NULL},
    {"{\"type\":\"STRING\",\"defaults\":\"\",\"required\":true}", NULL, "\"\"", NULL},
    /* INT */
    {"{\"type\":\"INT\"}", "\"42\"", "42", NULL},
    {"{\"type\":\"INT\"}", "-7", "-7", NULL},
    {"{\"type\":\"INT\"}", "\"+5\"", "5", NULL},
    {"{\"type\":\"INT\"}", "\"abc\"", NULL, "Invalid input for `x`, For input string: \"abc\", but received `abc`"},
    {"{\"type\":\"INT\"}", "\"1.5\"", NULL, "Invalid input for `x`, For input string: \"1.5\", but received `1.5`"},
    {"{\"type\":\"INT\"}", "\"3000000000\"", NULL,
     "Invalid input for `x`, For input string: \"3000000000\", but received `3000000000`"},
    {"{\"type\":\"INT\",\"min\":10,\"max\":20}", "\"5\"", NULL,
     "Invalid input for `x`, it must be more than `10`, but received `5`"},
    {"{\"type\":\"INT\",\"min\":10,\"max\":20}", "\"21\"", NULL,
     "Invalid input for `x`, it must be less than `20`, but received `21`"},
    {"{\"type\":\"INT\",\"min\":10,\"max\":20}", "\"20\"", "20", NULL},
    /* FLOAT */
    {"{\"type\":\"FLOAT\"}", "\"1.5\"", "1.5", NULL},
    {"{\"type\":\"FLOAT\"}", "\"0.1\"", "0.1", NULL},
    {"{\"type\":\"FLOAT\"}", "\"1e3\"", "1000.0", NULL},
    {"{\"type\":\"FLOAT\"}", "2", "2.0", NULL},
    {"{\"type\":\"FLOAT\"}", "\"x\"", NULL, "Invalid input for `x`, For input string: \"x\", but received `x`"},
    {"{\"type\":\"FLOAT\"}", "\" \"", NULL, "Invalid input for `x`, empty String, but received ` `"},
    {"{\"type\":\"FLOAT\",\"min\":0.1,\"max\":0.5}", "\"0.6\"", NULL,
     "Invalid input for `x`, it must be less than `0.5`, but received `0.6`"},
    {"{\"type\":\"FLOAT\",\"min\":1,\"max\":5}", "\"0.5\"", NULL,
     "Invalid input for `x`, it must be more than `1.0`, but received `0.5`"},
    /* BOOLEAN / BOOL */
    {"{\"type\":\"BOOLEAN\"}", "\"TRUE\"", "true", NULL},
    {"{\"type\":\"BOOLEAN\"}", "\"yes\"", "false", NULL},
    {"{\"type\":\"BOOLEAN\"}", "true", "true", NULL},
    {"{\"type\":\"BOOL\"}", "\"true\"", "true", NULL},
    /* DATETIME / DATE / TIME */
    {"{\"type\":\"DATETIME\"}", "\"2019-10-06T18:27:49Z\"", "\"2019-10-06T18:27:49Z\"", NULL},
    {"{\"type\":\"DATETIME\"}", "\"2019-10-06T20:27:49+02:00\"", "\"2019-10-06T18:27:49Z\"", NULL},
    {"{\"type\":\"DATETIME\"}", "\"2019-10-06T18:27:49.500Z\"", "\"2019-10-06T18:27:49.500Z\"", NULL},
    {"{\"type\":\"DATETIME\"}", "\"2019-10-06\"", NULL,
     "Invalid input for `x`, java.lang.Exception: Expected `DATETIME` but received `2019-10-06` with errors:\n```\n"
     "Text '2019-10-06' could not be parsed at index 10\n```, but received `2019-10-06`"},
    /* a failure at index 0 is a failure, not a date */
    {"{\"type\":\"DATETIME\"}", "\"abc\"", NULL,
     "Invalid input for `x`, java.lang.Exception: Expected `DATETIME` but received `abc` with errors:\n```\n"
     "Text 'abc' could not be parsed at index 0\n```, but received `abc`"},
    {"{\"type\":\"DATETIME\"}", "\"10:00\"", NULL,
     "Invalid input for `x`, java.lang.Exception: Expected `DATETIME` but received `10:00` with errors:\n```\n"
     "Text '10:00' could not be parsed at index 0\n```, but received `10:00`"},
    {"{\"type\":\"DATETIME\",\"after\":\"2023-01-01T00:00:00Z\"}", "\"2022-12-31T23:59:59Z\"", NULL,
     "Invalid input for `x`, it must be after `2023-01-01T00:00:00Z`, but received `2022-12-31T23:59:59Z`"},
    {"{\"type\":\"DATE\"}", "\"2024-01-31\"", "\"2024-01-31\"", NULL},
    {"{\"type\":\"DATE\"}", "\"2024-02-30\"", NULL,
     "Invalid input for `x`, java.lang.Exception: Expected `DATE` but received `2024-02-30` with errors:\n```\n"
     "Text '2024-02-30' could not be parsed: Invalid date 'FEBRUARY 30'\n```, but received `2024-02-30`"},
    {"{\"type\":\"DATE\",\"after\":\"2023-01-01\",\"before\":\"2023-12-31\"}", "\"2024-01-01\"", NULL,
     "Invalid input for `x`, it must be before `2023-12-31`, but received `2024-01-01`"},
    {"{\"type\":\"TIME\"}", "\"10:15:30\"", "\"10:15:30\"", NULL},
    {"{\"type\":\"TIME\"}", "\"10:15\"", "\"10:15\"", NULL},
    {"{\"type\":\"TIME\"}", "\"10:15:00\"", "\"10:15\"", NULL},
    {"{\"type\":\"TIME\"}", "\"25:00\"", NULL,
     "Invalid input for `x`, java.lang.Exception: Expected `TIME` but received `25:00` with errors:\n```\n"
     "Text '25:00' could not be parsed at index 0\n```, but received `25:00`"},
    /* DURATION */
    {"{\"type\":\"DURATION\"}", "\"PT5M6S\"", "\"PT5M6S\"", NULL},
    {"{\"type\":\"DURATION\"}", "\"P1D\"", "\"PT24H\"", NULL},
    {"{\"type\":\"DURATION\"}", "\"5m\"", NULL,
     "Invalid input for `x`, java.lang.Exception: Expected `DURATION` but received `5m` with errors:\n```\n"
     "Text cannot be parsed to a Duration\n```, but received `5m`"},
    {"{\"type\":\"DURATION\",\"min\":\"PT10S\",\"max\":\"PT20S\"}", "\"PT5S\"", NULL,
     "Invalid input for `x`, It must be more than `PT10S`, but received `PT5S`"},
    {"{\"type\":\"DURATION\",\"min\":\"PT10S\",\"max\":\"PT20S\"}", "\"PT1M\"", NULL,
     "Invalid input for `x`, It must be less than `PT20S`, but received `PT1M`"},
    /* ENUM / SELECT / MULTISELECT */
    {"{\"type\":\"ENUM\",\"values\":[\"A\",\"B\"]}", "\"A\"", "\"A\"", NULL},
    {"{\"type\":\"ENUM\",\"values\":[\"A\",\"B\"]}", "\"C\"", NULL,
     "Invalid input for `x`, it must match the values `[A, B]`, but received `C`"},
    {"{\"type\":\"SELECT\",\"values\":[\"A\",\"B\"],\"allowCustomValue\":true}", "\"C\"", "\"C\"", NULL},
    {"{\"type\":\"SELECT\",\"values\":[\"A\",\"B\"]}", "\"C\"", NULL,
     "Invalid input for `x`, it must match the values `[A, B]`, but received `C`"},
    {"{\"type\":\"MULTISELECT\",\"values\":[\"A\",\"B\",\"C\"]}", "\"[\\\"A\\\",\\\"C\\\"]\"", "[\"A\",\"C\"]", NULL},
    {"{\"type\":\"MULTISELECT\",\"values\":[\"A\",\"B\"]}", "[\"A\",\"D\"]", NULL,
     "Invalid input for `x`, it must match the values `[A, B]`, but received `[A, D]`"},
    {"{\"type\":\"MULTISELECT\",\"values\":[\"A\"],\"options\":[\"A\"]}", "[\"A\"]", NULL,
     "Invalid input for `x`, you can't define both `values` and `options`, but received `[A]`"},
    /* ARRAY */
    {"{\"type\":\"ARRAY\",\"itemType\":\"INT\"}", "\"[1, \\\"2\\\", 3]\"", "[1,2,3]", NULL},
    {"{\"type\":\"ARRAY\",\"itemType\":\"INT\"}", "[\"1\",\"x\"]", NULL,
     "Invalid input for `x`, Unable to parse array element as `INT` on `x`, but received `[1, x]`"},
    {"{\"type\":\"ARRAY\",\"itemType\":\"DATE\"}", "[\"2024-01-01\"]", "[\"2024-01-01\"]", NULL},
    /* JSON / YAML */
    {"{\"type\":\"JSON\"}", "\"{\\\"a\\\": [1, true]}\"", "{\"a\":[1,true]}", NULL},
    {"{\"type\":\"JSON\"}", "{\"a\":1}", "{\"a\":1}", NULL},
    {"{\"type\":\"YAML\"}", "\"a: 1\\nb: [x, 2]\\n\"", "{\"a\":1,\"b\":[\"x\",2]}", NULL},
    {"{\"type\":\"YAML\",\"defaults\":{\"property\":\"something\"}}", NULL, "{\"property\":\"something\"}", NULL},
    /* URI / EMAIL / FILE / SECRET */
    {"{\"type\":\"URI\"}", "\"https://kestra.io/docs\"", "\"https://kestra.io/docs\"", NULL},
    {"{\"type\":\"URI\"}", "\"not a uri\"", NULL,
     "Invalid input for `x`, Expected `URI` but received `not a uri`, but received `not a uri`"},
    {"{\"type\":\"EMAIL\"}", "\"a.b@example.com\"", "\"a.b@example.com\"", NULL},
    {"{\"type\":\"EMAIL\"}", "\"nope\"", NULL, "Invalid input for `x`, The input must be a valid email, but received `nope`"},
    {"{\"type\":\"FILE\"}", "\"kestra:///ns/f/executions/e/inputs/x/a.txt\"",
     "\"kestra:///ns/f/executions/e/inputs/x/a.txt\"", NULL},
    {"{\"type\":\"SECRET\",\"validator\":\"s.*\"}", "\"shh\"", "\"shh\"", NULL},
};

static void test_types_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct icase *c = &cases[i];
        json_error_t je;
        json_t *def = json_loads(c->def, 0, &je);
        if (!def)
            fail_msg("case %zu: bad def %s", i, je.text);
        json_object_set_new(def, "id", json_string("x"));
        json_t *defs = json_pack("[O]", def);
        json_t *raw = json_object();
        if (c->raw)
            json_object_set_new(raw, "x", json_loads(c->raw, JSON_DECODE_ANY, &je));
        kt_diags dg;
        kt_diags_init(&dg);
        json_t *out = NULL;
        kt_status st = kt_inputs_resolve(defs, raw, &out, &dg);
        if (c->want) {
            json_t *want = json_loads(c->want, JSON_DECODE_ANY, &je);
            if (st != KT_OK)
                fail_msg("case %zu (%s = %s): %s", i, c->def, c->raw, dg.count ? dg.items[0].message : "?");
            if (!json_equal(json_object_get(out, "x"), want)) {
                char *g = json_dumps(json_object_get(out, "x"), JSON_ENCODE_ANY);
                fail_msg("case %zu (%s = %s): got %s want %s", i, c->def, c->raw, g, c->want);
            }
            json_decref(want);
        } else {
            if (st != KT_EINVAL)
                fail_msg("case %zu (%s = %s) accepted", i, c->def, c->raw);
            assert_int_equal(dg.count, 1);
            if (strcmp(dg.items[0].message, c->err) != 0)
                fail_msg("case %zu:\n got  %s\n want %s", i, dg.items[0].message, c->err);
            assert_string_equal(dg.items[0].path, "inputs.x");
        }
        json_decref(out);
        json_decref(raw);
        json_decref(defs);
        json_decref(def);
        kt_diags_clear(&dg);
    }
}

static void test_nesting_sorting_and_unknown(void **state)
{
    (void)state;
    json_error_t je;
    json_t *defs = json_loads("[{\"id\":\"zeta\",\"type\":\"STRING\"},{\"id\":\"nested.more.int\",\"type\":\"INT\"},"
                              "{\"id\":\"nested.string\",\"type\":\"STRING\",\"required\":false},"
                              "{\"name\":\"alpha\",\"type\":\"INT\",\"defaults\":3}]",
                              0, &je);
    json_t *raw = json_loads("{\"zeta\":\"z\",\"nested.more.int\":\"7\",\"ignored\":\"x\"}", 0, &je);
    kt_diags dg;
    kt_diags_init(&dg);
    json_t *out = NULL;
    assert_int_equal(kt_inputs_resolve(defs, raw, &out, &dg), KT_OK);
    char *s = json_dumps(out, JSON_COMPACT);
    assert_string_equal(s, "{\"alpha\":3,\"nested\":{\"more\":{\"int\":7},\"string\":null},\"zeta\":\"z\"}");
    free(s);
    json_decref(out);
    json_decref(raw);
    json_decref(defs);

    /* Every failing input is reported, in declaration order. */
    defs = json_loads("[{\"id\":\"a\",\"type\":\"INT\"},{\"id\":\"b\",\"type\":\"STRING\"}]", 0, &je);
    raw = json_loads("{\"a\":\"x\"}", 0, &je);
    assert_int_equal(kt_inputs_resolve(defs, raw, &out, &dg), KT_EINVAL);
    assert_null(out);
    assert_int_equal(dg.count, 2);
    assert_string_equal(dg.items[0].path, "inputs.a");
    assert_string_equal(dg.items[1].path, "inputs.b");
    json_decref(raw);
    json_decref(defs);
    kt_diags_clear(&dg);

    /* No definitions: empty inputs. */
    assert_int_equal(kt_inputs_resolve(NULL, NULL, &out, &dg), KT_OK);
    assert_int_equal(json_object_size(out), 0);
    json_decref(out);
}

static void test_depends_on(void **state)
{
    (void)state;
    json_error_t je;
    /* b depends on a which is disabled through an unknown dependency? No: a is enabled; c depends on b. */
    json_t *defs = json_loads("[{\"id\":\"c\",\"type\":\"STRING\",\"dependsOn\":{\"inputs\":[\"b\"]}},"
                              "{\"id\":\"b\",\"type\":\"STRING\",\"defaults\":\"B\"},"
                              "{\"id\":\"a\",\"type\":\"STRING\",\"required\":false}]",
                              0, &je);
    json_t *raw = json_loads("{\"c\":\"C\"}", 0, &je);
    kt_diags dg;
    kt_diags_init(&dg);
    json_t *out = NULL;
    assert_int_equal(kt_inputs_resolve(defs, raw, &out, &dg), KT_OK);
    char *s = json_dumps(out, JSON_COMPACT);
    assert_string_equal(s, "{\"a\":null,\"b\":\"B\",\"c\":\"C\"}");
    free(s);
    json_decref(out);
    json_decref(raw);
    json_decref(defs);
    kt_diags_clear(&dg);
}

static void test_check_defs(void **state)
{
    (void)state;
    static const struct { const char *defs, *needle; int nerr; } dcases[] = {
        {"[{\"id\":\"a\",\"type\":\"STRING\"}]", NULL, 0},
        {"[{\"id\":\"a\",\"type\":\"NUMBER\"}]", "Invalid type: NUMBER", 1},
        {"[{\"id\":\"a\"}]", "Invalid type: null", 1},
        {"[{\"type\":\"STRING\"}]", "must not be null", 1},
        {"[{\"id\":\"-a\",\"type\":\"STRING\"}]", "must match", 1},
        {"[{\"id\":\"a\",\"type\":\"STRING\"},{\"id\":\"a\",\"type\":\"INT\"}]", "Duplicate input with name [a]", 1},
        {"[{\"id\":\"a\",\"type\":\"STRING\",\"min\":1}]", "Unrecognized field \"min\"", 1},
        {"[{\"id\":\"a\",\"type\":\"ARRAY\"}]", "must not be null", 1},
        {"[{\"id\":\"a\",\"type\":\"ARRAY\",\"itemType\":\"ARRAY\"}]", "`itemType` cannot be `ARRAY`", 1},
        {"[{\"id\":\"a\",\"type\":\"FILE\",\"defaults\":\"kestra:///x\"}]", "no `defaults` can be set", 1},
        {"[{\"id\":\"a\",\"type\":\"INT\",\"defaults\":\"x\"}]", "For input string", 1},
        {"[{\"id\":\"a\",\"type\":\"STRING\",\"validator\":\"(\"}]", "invalid pattern [(]", 1},
        {"[{\"id\":\"a\",\"type\":\"STRING\",\"dependsOn\":{\"inputs\":[\"zz\"]}}]", "depends on a non-existent input 'zz'", 1},
        {"[{\"id\":\"a\",\"type\":\"STRING\",\"dependsOn\":{\"inputs\":[\"b\"]}},"
         "{\"id\":\"b\",\"type\":\"STRING\",\"dependsOn\":{\"inputs\":[\"a\"]}}]", "Cycle dependency detected for input with id 'a'", 2},
        {"[{\"id\":\"a\",\"type\":\"DATE\",\"after\":\"someday\"}]", "invalid after", 1},
        {"[{\"id\":\"a\",\"type\":\"ENUM\"}]", "must not be null", 1},
    };
    for (size_t i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
        json_error_t je;
        json_t *defs = json_loads(dcases[i].defs, 0, &je);
        kt_diags dg;
        kt_diags_init(&dg);
        int n = kt_inputs_check_defs(defs, NULL, "f.yml", "inputs", &dg);
        if (n != dcases[i].nerr || (int)dg.count != n)
            fail_msg("case %zu: %d errors, want %d (%s)", i, n, dcases[i].nerr, dg.count ? dg.items[0].message : "");
        if (dcases[i].needle && !strstr(dg.items[0].message, dcases[i].needle))
            fail_msg("case %zu: '%s' lacks '%s'", i, dg.items[0].message, dcases[i].needle);
        json_decref(defs);
        kt_diags_clear(&dg);
    }
}

static void test_java_string(void **state)
{
    (void)state;
    json_error_t je;
    json_t *v = json_loads("[\"a\", 1, 2.5, true, null, {\"k\": [\"v\"]}]", 0, &je);
    char *s = kt_input_java_string(v);
    assert_string_equal(s, "[a, 1, 2.5, true, null, {k=[v]}]");
    free(s);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_table), cmocka_unit_test(test_nesting_sorting_and_unknown),
        cmocka_unit_test(test_depends_on),  cmocka_unit_test(test_check_defs),
        cmocka_unit_test(test_java_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
