/* YAML loader: scalar typing, merge keys, aliases and their cap, duplicate keys, positions, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/yaml.h"

/* Loads src as one document and returns its root serialized compactly (caller frees), or NULL on error. */
static char *load_json(const char *src, kt_diags *dg)
{
    kt_yaml_doc **docs;
    size_t n;
    if (kt_yaml_load(src, strlen(src), "t.yml", &docs, &n, dg) != KT_OK)
        return NULL;
    assert_int_equal(n, 1);
    char *s = json_dumps(kt_yaml_doc_root(docs[0]), JSON_COMPACT | JSON_ENCODE_ANY);
    kt_yaml_docs_free(docs, n);
    return s;
}

static void test_scalar_typing(void **state)
{
    (void)state;
    static const struct { const char *yaml, *json; } cases[] = {
        {"a: 1", "{\"a\":1}"},
        {"a: -17", "{\"a\":-17}"},
        {"a: +5", "{\"a\":5}"},
        {"a: 1_000", "{\"a\":1000}"},
        {"a: 0x1F", "{\"a\":31}"},
        {"a: 010", "{\"a\":8}"},
        {"a: 0", "{\"a\":0}"},
        {"a: 1.5", "{\"a\":1.5}"},
        {"a: -.5", "{\"a\":-0.5}"},
        {"a: 1e3", "{\"a\":1000.0}"},
        {"a: 1.0e+2", "{\"a\":100.0}"},
        {"a: .inf", "{\"a\":\".inf\"}"},
        {"a: true", "{\"a\":true}"},
        {"a: False", "{\"a\":false}"},
        {"a: TRUE", "{\"a\":true}"},
        {"a: yes", "{\"a\":\"yes\"}"},  /* Jackson >= 2.14 keeps YAML 1.1 yes/no/on/off as strings */
        {"a: off", "{\"a\":\"off\"}"},
        {"a: tRue", "{\"a\":\"tRue\"}"},
        {"a: null", "{\"a\":null}"},
        {"a: ~", "{\"a\":null}"},
        {"a:", "{\"a\":null}"},
        {"a: \"1\"", "{\"a\":\"1\"}"},
        {"a: 'true'", "{\"a\":\"true\"}"},
        {"a: \"\"", "{\"a\":\"\"}"},
        {"a: 2023-01-01", "{\"a\":\"2023-01-01\"}"},
        {"a: PT5M", "{\"a\":\"PT5M\"}"},
        {"a: 1.2.3", "{\"a\":\"1.2.3\"}"},
        {"a: 12:30", "{\"a\":\"12:30\"}"},
        {"a: 99999999999999999999", "{\"a\":1e20}"},
        {"a: |\n  x\n  y\n", "{\"a\":\"x\\ny\\n\"}"},
        {"a: >\n  x\n  y\n", "{\"a\":\"x y\\n\"}"},
        {"a: {{ b }}", NULL}, /* flow mapping as key: rejected */
        {"1: x\ntrue: y", "{\"1\":\"x\",\"true\":\"y\"}"},
        {"- 1\n- a\n- [x, 2]", "[1,\"a\",[\"x\",2]]"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kt_diags dg;
        kt_diags_init(&dg);
        char *got = load_json(cases[i].yaml, &dg);
        if (!cases[i].json) {
            if (got)
                fail_msg("case %zu '%s' should fail, got %s", i, cases[i].yaml, got);
        } else if (!got || strcmp(got, cases[i].json) != 0) {
            char *m = kt_diags_format(&dg);
            fail_msg("case %zu '%s': got %s want %s (%s)", i, cases[i].yaml, got ? got : "(error)", cases[i].json,
                     m ? m : "");
        }
        free(got);
        kt_diags_clear(&dg);
    }
}

static void test_merge_and_alias(void **state)
{
    (void)state;
    static const struct { const char *yaml, *json; } cases[] = {
        {"base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n", "{\"base\":{\"x\":1,\"y\":2},\"m\":{\"y\":3,\"x\":1}}"},
        {"a: &a {x: 1}\nb: &b {x: 2, z: 2}\nm:\n  <<: [*a, *b]\n", "{\"a\":{\"x\":1},\"b\":{\"x\":2,\"z\":2},\"m\":{\"x\":1,\"z\":2}}"},
        {"r: &r PT1S\nl: [*r, *r]\n", "{\"r\":\"PT1S\",\"l\":[\"PT1S\",\"PT1S\"]}"},
        {"a: &a {k: &k {v: 1}}\nb:\n  <<: *a\n  c: *k\n", "{\"a\":{\"k\":{\"v\":1}},\"b\":{\"c\":{\"v\":1},\"k\":{\"v\":1}}}"},
        {"m:\n  <<: 5\n", NULL},
        {"'<<': {x: 1}\n", "{\"<<\":{\"x\":1}}"}, /* a quoted << is an ordinary key */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kt_diags dg;
        kt_diags_init(&dg);
        char *got = load_json(cases[i].yaml, &dg);
        if (!cases[i].json) {
            if (got)
                fail_msg("case %zu should fail, got %s", i, got);
        } else if (!got || strcmp(got, cases[i].json) != 0) {
            fail_msg("case %zu: got %s want %s", i, got ? got : "(error)", cases[i].json);
        }
        free(got);
        kt_diags_clear(&dg);
    }
}

/* Errors and where they are reported. */
static void test_errors_table(void **state)
{
    (void)state;
    static const struct { const char *yaml; int line, col; const char *path, *needle; } cases[] = {
        {"a: 1\na: 2\n", 2, 1, "a", "Duplicate field 'a'"},
        {"t:\n  - id: x\n    id: y\n", 3, 5, "t[0].id", "Duplicate field 'id'"},
        {"a: [1, 2\nb: 3\n", 2, 2, "", "did not find expected"},
        {"a: *nope\n", 1, 4, "", "undefined alias"},
        {"a:\n\t- b\n", 2, 1, "", "cannot start any token"},
        {"a: b: c\n", 1, 5, "", "mapping values are not allowed"},
        {"a: 'x\n", 2, 1, "", "unexpected end of stream"},
        {"m:\n  <<: [1]\n", 2, 8, "m", "merge key"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kt_diags dg;
        kt_diags_init(&dg);
        kt_yaml_doc **docs = NULL;
        size_t n = 0;
        kt_status st = kt_yaml_load(cases[i].yaml, strlen(cases[i].yaml), "bad.yml", &docs, &n, &dg);
        if (st != KT_EINVAL)
            fail_msg("case %zu: status %d", i, st);
        assert_null(docs);
        if (dg.count < 1)
            fail_msg("case %zu: no diag", i);
        const kt_diag *g = &dg.items[0];
        if (g->line != cases[i].line || g->col != cases[i].col || strcmp(g->path, cases[i].path) != 0 ||
            !strstr(g->message, cases[i].needle))
            fail_msg("case %zu: got %d:%d '%s' '%s', want %d:%d '%s' ~'%s'", i, g->line, g->col, g->path, g->message,
                     cases[i].line, cases[i].col, cases[i].path, cases[i].needle);
        assert_string_equal(g->file, "bad.yml");
        kt_diags_clear(&dg);
    }
}

static void test_alias_bomb(void **state)
{
    (void)state;
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    kt_diags dg;
    kt_diags_init(&dg);
    kt_yaml_doc **docs;
    size_t n;
    assert_int_equal(kt_yaml_load(bomb, strlen(bomb), "bomb.yml", &docs, &n, &dg), KT_EINVAL);
    assert_int_equal(dg.count, 1);
    assert_non_null(strstr(dg.items[0].message, "alias"));
    kt_diags_clear(&dg);

    /* A self-referencing anchor must not recurse forever. */
    const char *cyc = "a: &a [*a]\n";
    kt_diags_init(&dg);
    kt_status st = kt_yaml_load(cyc, strlen(cyc), "cyc.yml", &docs, &n, &dg);
    assert_int_equal(st, KT_EINVAL);
    assert_true(dg.count >= 1);
    kt_diags_clear(&dg);
}

static void test_positions(void **state)
{
    (void)state;
    const char *src = "id: hello\n"
                      "namespace: dev\n"
                      "tasks:\n"
                      "  - id: t1\n"
                      "    type: io.kestra.plugin.core.log.Log\n"
                      "    retry:\n"
                      "      maxAttempt: 3\n";
    kt_diags dg;
    kt_diags_init(&dg);
    kt_yaml_doc **docs;
    size_t n;
    assert_int_equal(kt_yaml_load(src, strlen(src), "p.yml", &docs, &n, &dg), KT_OK);
    assert_int_equal(n, 1);
    static const struct { const char *path; int line, col, kline, kcol; } cases[] = {
        {"", 1, 1, 1, 1},
        {"id", 1, 5, 1, 1},
        {"tasks", 4, 3, 3, 1},
        {"tasks[0]", 4, 5, 4, 5},
        {"tasks[0].type", 5, 11, 5, 5},
        {"tasks[0].retry", 7, 7, 6, 5},
        {"tasks[0].retry.maxAttempt", 7, 19, 7, 7},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int l = 0, c = 0, kl = 0, kc = 0;
        if (kt_yaml_doc_pos(docs[0], cases[i].path, &l, &c) || kt_yaml_doc_key_pos(docs[0], cases[i].path, &kl, &kc))
            fail_msg("%s not found", cases[i].path);
        if (l != cases[i].line || c != cases[i].col || kl != cases[i].kline || kc != cases[i].kcol)
            fail_msg("%s: %d:%d key %d:%d", cases[i].path, l, c, kl, kc);
    }
    assert_int_not_equal(kt_yaml_doc_pos(docs[0], "tasks[1]", NULL, NULL), 0);
    kt_yaml_docs_free(docs, n);
}

static void test_multi_docs_and_format(void **state)
{
    (void)state;
    const char *src = "a: 1\n---\nb: 2\n---\n- x\n";
    kt_diags dg;
    kt_diags_init(&dg);
    kt_yaml_doc **docs;
    size_t n;
    assert_int_equal(kt_yaml_load(src, strlen(src), "m.yml", &docs, &n, &dg), KT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(json_integer_value(json_object_get(kt_yaml_doc_root(docs[1]), "b")), 2);
    assert_true(json_is_array(kt_yaml_doc_root(docs[2])));
    kt_yaml_docs_free(docs, n);

    assert_int_equal(kt_yaml_load("", 0, "e.yml", &docs, &n, &dg), KT_OK);
    assert_int_equal(n, 0);
    kt_yaml_docs_free(docs, n);

    kt_diags_add(&dg, "f.yml", 3, 7, "tasks[0].id", "must not be %s", "null");
    kt_diags_add(&dg, "f.yml", 0, 0, "", "whole file");
    char *s = kt_diags_format(&dg);
    assert_string_equal(s, "f.yml:3:7 tasks[0].id: must not be null\nf.yml: whole file");
    free(s);
    kt_diags_clear(&dg);
    assert_int_equal(dg.count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalar_typing),  cmocka_unit_test(test_merge_and_alias),
        cmocka_unit_test(test_errors_table),   cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_positions),      cmocka_unit_test(test_multi_docs_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
