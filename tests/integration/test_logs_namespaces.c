/* The log routes beyond one execution's list (issue 11) and the namespaces routes, against a real server:
 * GET /api/v1/logs/search (namespace and below, flow, level, q, dates, paging, order, errors), the text download of an
 * execution's lines (format, attachment name, more lines than one page of the stream), the two deletions (by
 * execution filter, by flow), and /api/v1/namespaces/search|{id}. */
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

static const char *FLOW_A =
    "id: noisy\nnamespace: io.kite.logs.a\ntasks:\n"
    "  - id: info\n    type: io.kestra.plugin.core.log.Log\n    message: plain needle-A info\n"
    "  - id: warn\n    type: io.kestra.plugin.core.log.Log\n    level: WARN\n    message: careful needle-A warn\n"
    "  - id: err\n    type: io.kestra.plugin.core.log.Log\n    level: ERROR\n    message: broken A\n";
static const char *FLOW_B =
    "id: other\nnamespace: io.kite.logs.b.deep\ntasks:\n"
    "  - id: warn\n    type: io.kestra.plugin.core.log.Log\n    level: WARN\n    message: careful B warn\n";
static const char *FLOW_C =
    "id: outside\nnamespace: io.kite.logsx\ntasks:\n"
    "  - id: warn\n    type: io.kestra.plugin.core.log.Log\n    level: WARN\n    message: careful needle-A outside\n";
/* more lines than one page of the download stream (500) */
static const char *FLOW_MANY =
    "id: many\nnamespace: io.kite.logs.a\ntasks:\n"
    "  - id: sh\n    type: io.kestra.plugin.scripts.shell.Commands\n    taskRunner:\n"
    "      type: io.kestra.plugin.core.runner.Process\n    commands:\n      - seq 1 1234 | sed 's/^/line /'\n";

static char *run(int port, const char *ns, const char *id)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s/%s", ns, id);
    json_t *e = NULL;
    assert_int_equal(kt_it_http_json("POST", port, path, NULL, NULL, &e), 200);
    char *eid = strdup(json_string_value(json_object_get(e, "id")));
    json_decref(e);
    json_t *done = kt_it_wait_execution(port, eid, 30000);
    assert_non_null(done);
    json_decref(done);
    return eid;
}

static json_t *search(int port, const char *query, long want_status)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/logs/search?%s", query);
    json_t *res = NULL;
    long st = kt_it_http_json("GET", port, path, NULL, NULL, &res);
    if (st != want_status)
        fail_msg("%s: status %ld, want %ld", path, st, want_status);
    return res;
}

static int count_with(const json_t *results, const char *needle)
{
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(results, i, e) n += strstr(json_string_value(json_object_get(e, "message")), needle) != NULL;
    return n;
}

static void test_search(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_A, NULL);
    kt_it_create_flow(f->port, FLOW_B, NULL);
    kt_it_create_flow(f->port, FLOW_C, NULL);
    free(run(f->port, "io.kite.logs.a", "noisy"));
    free(run(f->port, "io.kite.logs.b.deep", "other"));
    free(run(f->port, "io.kite.logsx", "outside"));

    /* the namespace and those under it, not a mere text prefix (io.kite.logsx) */
    json_t *r = search(f->port, "namespace=io.kite.logs&minLevel=WARN&size=50", 200);
    json_t *res = json_object_get(r, "results");
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 3);
    assert_int_equal(count_with(res, "careful needle-A warn"), 1);
    assert_int_equal(count_with(res, "broken A"), 1);
    assert_int_equal(count_with(res, "careful B warn"), 1);
    assert_int_equal(count_with(res, "outside"), 0);
    json_decref(r);

    r = search(f->port, "namespace=io.kite.logs.a&flowId=noisy&minLevel=ERROR", 200);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "results"), 0), "level")),
                        "ERROR");
    json_decref(r);

    r = search(f->port, "q=needle-A&size=50", 200); /* the message text, across namespaces */
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 3);
    json_decref(r);

    /* paging and order: the same three lines, one per page, newest first then oldest first */
    json_t *p1 = search(f->port, "namespace=io.kite.logs&minLevel=WARN&size=1&page=1&sort=timestamp:desc", 200);
    json_t *p3 = search(f->port, "namespace=io.kite.logs&minLevel=WARN&size=1&page=3&sort=timestamp:asc", 200);
    assert_int_equal(json_array_size(json_object_get(p1, "results")), 1);
    assert_int_equal(json_integer_value(json_object_get(p1, "total")), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(p1, "results"), 0), "message")),
                        json_string_value(json_object_get(json_array_get(json_object_get(p3, "results"), 0), "message")));
    json_decref(p1);
    json_decref(p3);

    r = search(f->port, "namespace=io.kite.logs&startDate=2000-01-01T00:00:00Z&endDate=2001-01-01T00:00:00Z", 200);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 0);
    json_decref(r);
    json_decref(search(f->port, "minLevel=LOUD", 422));
    json_decref(search(f->port, "startDate=2020-01-02T00:00:00Z&endDate=2020-01-01T00:00:00Z", 422));
    json_decref(search(f->port, "sort=message:asc", 422));
    json_decref(search(f->port, "page=0", 422));
}

static void test_download_and_delete(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_MANY, NULL);
    kt_it_create_flow(f->port, FLOW_A, NULL);
    char *many = run(f->port, "io.kite.logs.a", "many");
    char path[256];
    snprintf(path, sizeof path, "/api/v1/logs/%s", many);
    json_t *all = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &all), 200);
    size_t nlines = json_array_size(all);
    assert_true(nlines >= 1234);

    snprintf(path, sizeof path, "/api/v1/logs/%s/download", many);
    kt_it_resp d;
    memset(&d, 0, sizeof d);
    assert_int_equal(kt_it_request("GET", f->port, path, NULL, 0, NULL, NULL, &d), 200);
    char disp[200];
    snprintf(disp, sizeof disp, "filename=\"%s.log\"", many);
    assert_non_null(strstr(d.headers, disp));
    assert_non_null(strcasestr(d.headers, "content-type: text/plain"));
    size_t got = 0;
    for (size_t i = 0; i < d.len; i++)
        got += d.body[i] == '\n';
    assert_int_equal(got, nlines); /* every line, across the stream's pages */
    /* "<timestamp> <LEVEL> <message>", in order */
    json_t *e0 = json_array_get(all, 0), *last = json_array_get(all, nlines - 1);
    char first[512];
    snprintf(first, sizeof first, "%s %s %s\n", json_string_value(json_object_get(e0, "timestamp")),
             json_string_value(json_object_get(e0, "level")), json_string_value(json_object_get(e0, "message")));
    assert_memory_equal(d.body, first, strlen(first));
    assert_non_null(strstr(d.body, json_string_value(json_object_get(last, "message"))));
    assert_non_null(strstr(d.body, " INFO line 1234\n"));
    free(d.body);
    json_decref(all);

    /* an id holding CR LF cannot add a header line (response splitting) */
    memset(&d, 0, sizeof d);
    kt_it_request("GET", f->port, "/api/v1/logs/abc%0D%0ASet-Cookie:%20pwned=1/download", NULL, 0, NULL, NULL, &d);
    assert_null(strcasestr(d.headers, "\nSet-Cookie"));
    free(d.body);

    /* a filtered download: the task's lines only */
    snprintf(path, sizeof path, "/api/v1/logs/%s/download?minLevel=ERROR", many);
    memset(&d, 0, sizeof d);
    assert_int_equal(kt_it_request("GET", f->port, path, NULL, 0, NULL, NULL, &d), 200);
    assert_int_equal(d.len, 0);
    free(d.body);

    /* DELETE by execution: minLevel WARN removes WARN and ERROR, INFO stays */
    char *noisy = run(f->port, "io.kite.logs.a", "noisy");
    snprintf(path, sizeof path, "/api/v1/logs/%s?minLevel=WARN", noisy);
    assert_int_equal(kt_it_http("DELETE", f->port, path, NULL, NULL, NULL), 200);
    snprintf(path, sizeof path, "/api/v1/logs/%s", noisy);
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &all), 200);
    assert_int_equal(count_with(all, "careful needle-A warn"), 0);
    assert_int_equal(count_with(all, "broken A"), 0);
    assert_int_equal(count_with(all, "plain needle-A info"), 1);
    json_decref(all);

    /* DELETE by flow: every line of its executions, the other flow's stay */
    assert_int_equal(kt_it_http("DELETE", f->port, "/api/v1/logs/io.kite.logs.a/noisy", NULL, NULL, NULL), 200);
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &all), 200);
    assert_int_equal(json_array_size(all), 0);
    json_decref(all);
    snprintf(path, sizeof path, "/api/v1/logs/%s", many);
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &all), 200);
    assert_int_equal(json_array_size(all), nlines);
    json_decref(all);
    free(many);
    free(noisy);
}

static void test_namespaces(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_A, NULL);
    kt_it_create_flow(f->port, FLOW_B, NULL);
    json_t *r = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/namespaces/search?size=50", NULL, NULL, &r), 200);
    /* io.kite.logs.a and io.kite.logs.b.deep expanded to every parent, plus system */
    static const char *const want[] = {"io", "io.kite", "io.kite.logs", "io.kite.logs.a", "io.kite.logs.b",
                                       "io.kite.logs.b.deep", "system"};
    json_t *res = json_object_get(r, "results");
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 7);
    for (size_t i = 0; i < 7; i++) {
        json_t *e = json_array_get(res, i);
        assert_string_equal(json_string_value(json_object_get(e, "id")), want[i]);
        assert_true(json_is_true(json_object_get(e, "disabled")));
        assert_true(json_is_false(json_object_get(e, "deleted")));
    }
    json_decref(r);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/namespaces/search?q=LOGS.B&size=50", NULL, NULL, &r),
                     200);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 2);
    json_decref(r);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/namespaces/search?size=3&page=1&sort=id:desc", NULL,
                                     NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "results"), 0), "id")),
                        "system");
    assert_int_equal(json_array_size(json_object_get(r, "results")), 3);
    json_decref(r);
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/namespaces/io.kite.none", NULL, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r, "id")), "io.kite.none");
    assert_true(json_is_false(json_object_get(r, "deleted")));
    json_decref(r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_search, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_download_and_delete, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_namespaces, kt_it_setup, kt_it_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
