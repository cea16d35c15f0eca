/* The dialect through the API (flow/dialect.h): POST /api/v1/flows/validate says each document's dialect and a 2.x
 * flow's deprecations (deprecationPaths, warnings with line:col); a saved flow keeps the dialect it was saved in when
 * the server's default (flows.dialect) changes: its revision is re-read pinned, the same source saved again stays
 * as it was, a new source or a new flow takes the default of its save. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "harness.h"

#define NS "io.kite.dialect"
#define PLAIN "id: pin\nnamespace: " NS "\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"

static json_t *call(int port, const char *method, const char *path, const char *ctype, const char *body, long want)
{
    json_t *out = NULL;
    long st = kt_it_http_json(method, port, path, ctype, body, &out);
    if (st != want) {
        char *d = out ? json_dumps(out, JSON_COMPACT) : NULL;
        fail_msg("%s %s: %ld, want %ld: %s", method, path, st, want, d ? d : "");
    }
    return out;
}

static const char *dialect_of(const json_t *j) { return json_string_value(json_object_get(j, "dialect")); }

static int has_string(const json_t *list, const char *needle)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
        if (json_is_string(x) && strstr(json_string_value(x), needle))
            return 1;
    return 0;
}

static void test_validate_route(void **state)
{
    kt_it_fixture *f = *state;
    json_t *v = call(f->port, "POST", "/api/v1/flows/validate", "application/x-yaml",
                     "dialect: 2.x\nid: mixed\nnamespace: " NS "\ninputs:\n  - id: b\n    type: BOOLEAN\ntasks:\n"
                     "  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"
                     "---\n" PLAIN
                     "---\n"
                     "dialect: 2.x\nid: gone\nnamespace: " NS "\ntasks:\n  - id: e\n"
                     "    type: io.kestra.plugin.core.debug.Echo\n    format: hi\n",
                     200);
    assert_int_equal(json_array_size(v), 3);
    const json_t *mixed = json_array_get(v, 0), *plain = json_array_get(v, 1), *gone = json_array_get(v, 2);
    assert_string_equal(dialect_of(mixed), "2.x");
    assert_null(json_object_get(mixed, "constraints"));
    assert_true(has_string(json_object_get(mixed, "deprecationPaths"), "inputs[0].type"));
    assert_true(has_string(json_object_get(mixed, "warnings"), "BOOL"));
    assert_true(has_string(json_object_get(mixed, "warnings"), "(at line 6, column 5)"));
    assert_string_equal(dialect_of(plain), "1.x");
    assert_int_equal(json_array_size(json_object_get(plain, "warnings")), 0);
    assert_string_equal(dialect_of(gone), "2.x");
    const char *c = json_string_value(json_object_get(gone, "constraints"));
    assert_non_null(c);
    assert_non_null(strstr(c, "debug.Echo is removed in Kestra 2.0: use io.kestra.plugin.core.log.Log"));
    json_decref(v);
}

static void test_dialect_pinned_across_default_change(void **state)
{
    kt_it_fixture *f = *state;
    unsetenv("KITE_FLOWS_DIALECT");
    f->server = kt_it_start_server(f->dir, "server", f->port, NULL);
    json_t *j = call(f->port, "POST", "/api/v1/flows", "application/x-yaml", PLAIN, 200);
    assert_string_equal(dialect_of(j), "1.x");
    json_decref(j);
    kt_it_stop_clean(&f->server);

    /* the same data under a 2.x default */
    setenv("KITE_FLOWS_DIALECT", "2.x", 1);
    f->server = kt_it_start_server(f->dir, "server2", f->port, NULL);
    unsetenv("KITE_FLOWS_DIALECT");
    j = call(f->port, "GET", "/api/v1/flows/" NS "/pin", NULL, NULL, 200);
    assert_string_equal(dialect_of(j), "1.x");
    json_decref(j);
    /* the same source again: no new revision, still 1.x */
    j = call(f->port, "PUT", "/api/v1/flows/" NS "/pin", "application/x-yaml", PLAIN, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "revision")), 1);
    assert_string_equal(dialect_of(j), "1.x");
    json_decref(j);
    /* a new flow of common constructs takes the default of its save */
    j = call(f->port, "POST", "/api/v1/flows", "application/x-yaml",
             "id: fresh\nnamespace: " NS "\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n", 200);
    assert_string_equal(dialect_of(j), "2.x");
    json_decref(j);
    /* a new source is a new revision, read under today's default; the old revision stays 1.x */
    j = call(f->port, "PUT", "/api/v1/flows/" NS "/pin", "application/x-yaml", PLAIN "description: two\n", 200);
    assert_int_equal(json_integer_value(json_object_get(j, "revision")), 2);
    assert_string_equal(dialect_of(j), "2.x");
    json_decref(j);
    j = call(f->port, "GET", "/api/v1/flows/" NS "/pin?revision=1", NULL, NULL, 200);
    assert_string_equal(dialect_of(j), "1.x");
    json_decref(j);
    json_t *revs = call(f->port, "GET", "/api/v1/flows/" NS "/pin/revisions", NULL, NULL, 200);
    assert_int_equal(json_array_size(revs), 2);
    assert_string_equal(dialect_of(json_array_get(revs, 0)), "1.x");
    assert_string_equal(dialect_of(json_array_get(revs, 1)), "2.x");
    json_decref(revs);
    /* a 1.x marker wins over the default: the flow is 1.x whatever the server says */
    j = call(f->port, "POST", "/api/v1/flows", "application/x-yaml",
             "id: old\nnamespace: " NS "\ninputs:\n  - id: b\n    type: BOOLEAN\ntasks:\n  - id: t\n"
             "    type: io.kestra.plugin.core.debug.Return\n",
             200);
    assert_string_equal(dialect_of(j), "1.x");
    json_decref(j);
    /* a reserved id is refused under the 2.x default, with the reason */
    j = call(f->port, "POST", "/api/v1/flows", "application/x-yaml",
             "id: pause\nnamespace: " NS "\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n", 422);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_non_null(strstr(text, "reserved"));
    free(text);
    json_decref(j);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_validate_route, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_dialect_pinned_across_default_change, kt_it_setup_dir, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
