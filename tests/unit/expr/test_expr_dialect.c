/* What the expression functions do differently by dialect (kt_env.dialect, docs/dialects.md): kv() on a missing
 * key (1.x null as Kestra 0.21, 2.x an error unless errorOnMissing=false), json() and the `json` filter (the aliases
 * of fromJson()/toJson in both: a deprecation in a 2.x flow), read()/fileURI() revisions (1.x `version=`, 2.x
 * `revision=`, the other line's name refused). Every case renders the same template in both dialects. */
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

/* 2023-11-14T22:13:20Z */
#define NOW INT64_C(1700000000000000)

typedef struct fake_entry {
    const char *uri, *data, *expiration;
} fake_entry;

static const fake_entry fake[] = {
    {"kestra:///company/team/_kv/here.ion", "\"value\"", NULL},
    {"kestra:///company/team/_kv/old.ion", "\"gone\"", "2023-11-14T22:13:19Z"},
    {"kestra:///company/team/_files/scripts/a.sql", "select 1", NULL},
    {NULL, NULL, NULL},
};

static const fake_entry *find(const char *uri)
{
    for (const fake_entry *e = fake; e->uri; e++)
        if (!strcmp(e->uri, uri))
            return e;
    return NULL;
}

static int fake_read(void *ud, const char *uri, char **out, size_t *len, char *err, size_t errcap)
{
    (void)ud;
    const fake_entry *e = find(uri);
    if (!e) {
        snprintf(err, errcap, "%s: no such file", uri);
        return KT_ENOTFOUND;
    }
    *out = strdup(e->data);
    *len = strlen(e->data);
    return KT_OK;
}

static int fake_read_meta(void *ud, const char *uri, char **out, size_t *len, json_t **meta, int64_t *modified_ms,
                          char *err, size_t errcap)
{
    *modified_ms = 0;
    const fake_entry *e = find(uri);
    *meta = e && e->expiration ? json_pack("{ss}", "expirationDate", e->expiration) : NULL;
    return fake_read(ud, uri, out, len, err, errcap);
}

static const kt_env_files fake_files = {.read = fake_read, .read_meta = fake_read_meta};

static kt_status render(kt_dialect d, const char *src, char **out, kt_expr_error *err)
{
    kt_env env;
    kt_env_init(&env, NOW, 1);
    env.files = &fake_files;
    env.dialect = d;
    json_t *ctx = json_pack("{s{ssss}s{ss}}", "flow", "namespace", "company.team", "id", "f", "vars", "doc",
                            "{\"a\": [1, 2]}");
    kt_status st = kt_expr_render_string(src, ctx, &env, out, err);
    json_decref(ctx);
    return st;
}

static void ok(kt_dialect d, const char *src, const char *want)
{
    char *out = NULL;
    kt_expr_error err = {0};
    if (render(d, src, &out, &err))
        fail_msg("%s (%s): %s", src, kt_dialect_name(d), err.message);
    assert_string_equal(out, want);
    free(out);
}

static void fails(kt_dialect d, const char *src, const char *want)
{
    char *out = NULL;
    kt_expr_error err = {0};
    if (render(d, src, &out, &err) == KT_OK)
        fail_msg("%s (%s) rendered '%s'", src, kt_dialect_name(d), out);
    if (!strstr(err.message, want))
        fail_msg("%s (%s): '%s' does not hold '%s'", src, kt_dialect_name(d), err.message, want);
    free(out);
}

static void test_kv_missing(void **state)
{
    (void)state;
    /* 1.x: Kestra 0.21, null unless asked to fail */
    ok(KT_DIALECT_1X, "Hello {{ kv('NON_EXISTING_KV_PAIR') }}", "Hello ");
    ok(KT_DIALECT_1X, "{{ kv('NON_EXISTING_KV_PAIR') is null }}", "true");
    fails(KT_DIALECT_1X, "{{ kv('NON_EXISTING_KV_PAIR', errorOnMissing=true) }}",
          "The key 'NON_EXISTING_KV_PAIR' does not exist in the namespace 'company.team'.");
    fails(KT_DIALECT_1X, "{{ kv('old', errorOnMissing=false) }}", "The requested value has expired");
    /* 2.x: fails unless errorOnMissing=false, then null, an expired entry too */
    fails(KT_DIALECT_2X, "Hello {{ kv('NON_EXISTING_KV_PAIR') }}",
          "The key 'NON_EXISTING_KV_PAIR' does not exist in the namespace 'company.team'.");
    ok(KT_DIALECT_2X, "Hello {{ kv('NON_EXISTING_KV_PAIR', errorOnMissing=false) }}", "Hello ");
    ok(KT_DIALECT_2X, "{{ kv('old', errorOnMissing=false) is null }}", "true");
    fails(KT_DIALECT_2X, "{{ kv('old') }}", "The requested value has expired");
    /* an existing key is the same in both */
    ok(KT_DIALECT_1X, "{{ kv('here') }}", "value");
    ok(KT_DIALECT_2X, "{{ kv('here') }}", "value");
}

/* json() and `| json`, removed by Kestra 2.0, are a rename: a 2.x flow that still has them is half-migrated and they
 * are read as deprecations (docs/dialects.md C9), so they give what fromJson()/toJson give in both dialects. */
static void test_json_function_and_filter(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        ok((kt_dialect)d, "{{ json(vars.doc).a[0] }}", "1");
        ok((kt_dialect)d, "{{ {'a': 1} | json }}", "{\"a\":1}");
        ok((kt_dialect)d, "{{ fromJson(vars.doc).a[1] }}", "2");
        ok((kt_dialect)d, "{{ {'a': 1} | toJson }}", "{\"a\":1}");
        ok((kt_dialect)d, "{{ vars.doc is json }}", "true");
    }
}

static void test_read_revision_names(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        ok((kt_dialect)d, "{{ read('scripts/a.sql') }}", "select 1");
        ok((kt_dialect)d, "{{ fileURI('scripts/a.sql') }}", "kestra:///company/team/_files/scripts/a.sql");
    }
    /* the other line's name is refused, saying which to write */
    fails(KT_DIALECT_1X, "{{ read('scripts/a.sql', revision=2) }}", "write version=N");
    fails(KT_DIALECT_1X, "{{ fileURI('scripts/a.sql', revision=2) }}", "write version=N");
    fails(KT_DIALECT_2X, "{{ read('scripts/a.sql', version=2) }}", "write revision=N");
    fails(KT_DIALECT_2X, "{{ fileURI('scripts/a.sql', version=2) }}", "write revision=N");
    /* the dialect's own name is read; Kite keeps no older revision, so it is missing as Kestra says it */
    fails(KT_DIALECT_1X, "{{ read('scripts/a.sql', version=2) }}",
          "Version 2 of file 'scripts/a.sql' was not found in namespace 'company.team'.");
    fails(KT_DIALECT_2X, "{{ read('scripts/a.sql', revision=2) }}",
          "Version 2 of file 'scripts/a.sql' was not found in namespace 'company.team'.");
    fails(KT_DIALECT_2X, "{{ read('scripts/a.sql', revision='two') }}",
          "The 'read' function expects the 'revision' argument to be a valid integer.");
    fails(KT_DIALECT_1X, "{{ fileURI('scripts/a.sql', version='x') }}",
          "The 'fileURI' function expects the 'version' argument to be a valid integer.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_missing),
        cmocka_unit_test(test_json_function_and_filter),
        cmocka_unit_test(test_read_revision_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
