/* Task metrics and Prometheus against a real server (issue 11): a Shell script's `::{"metrics":[…]}::` lines and a
 * Return's length/duration become MetricEntry rows read back through GET /api/v1/metrics/{executionId} (filters,
 * paging, sort), the names/tasks/aggregates routes answer as Kestra's MetricController, an execution's deletion
 * honours deleteMetrics; GET /prometheus (main and management ports) counts the executions started and ended and
 * the task attempts' durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static const char *FLOW =
    "id: metered\nnamespace: io.kite.metrics\ntasks:\n"
    "  - id: sh\n    type: io.kestra.plugin.scripts.shell.Commands\n    taskRunner:\n"
    "      type: io.kestra.plugin.core.runner.Process\n    commands:\n      - |\n"
    "        echo '::{\"metrics\":[{\"name\":\"rows\",\"type\":\"counter\",\"value\":3,\"tags\":{\"table\":\"a\"}},"
    "{\"name\":\"took\",\"type\":\"timer\",\"value\":\"PT1.5S\"}]}::'\n"
    "        echo '::{\"metrics\":[{\"name\":\"rows\",\"type\":\"counter\",\"value\":4.5,\"tags\":{\"table\":\"b\"}}]}::'\n"
    "  - id: ret\n    type: io.kestra.plugin.core.debug.Return\n    format: hello\n";

static char *run(const kt_it_fixture *f)
{
    json_t *e = NULL;
    assert_int_equal(kt_it_http_json("POST", f->port, "/api/v1/executions/io.kite.metrics/metered", NULL, NULL, &e),
                     200);
    char *id = strdup(json_string_value(json_object_get(e, "id")));
    json_decref(e);
    json_decref(kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 30000));
    return id;
}

static json_t *get(int port, const char *path, long want)
{
    json_t *r = NULL;
    long st = kt_it_http_json("GET", port, path, NULL, NULL, &r);
    if (st != want)
        fail_msg("GET %s: %ld, want %ld", path, st, want);
    return r;
}

/* The entry named name whose tag key has value (key NULL: any), or NULL. */
static json_t *find(json_t *results, const char *name, const char *key, const char *value)
{
    size_t i;
    json_t *m;
    json_array_foreach(results, i, m) {
        if (strcmp(json_string_value(json_object_get(m, "name")), name))
            continue;
        const char *v = key ? json_string_value(json_object_get(json_object_get(m, "tags"), key)) : NULL;
        if (!key || (v && !strcmp(v, value)))
            return m;
    }
    return NULL;
}

static void check_entry(json_t *m, const char *task, const char *type, double value)
{
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "namespace")), "io.kite.metrics");
    assert_string_equal(json_string_value(json_object_get(m, "flowId")), "metered");
    assert_string_equal(json_string_value(json_object_get(m, "taskId")), task);
    assert_string_equal(json_string_value(json_object_get(m, "type")), type);
    assert_non_null(json_string_value(json_object_get(m, "timestamp")));
    assert_non_null(json_string_value(json_object_get(m, "taskRunId")));
    assert_true(json_is_false(json_object_get(m, "deleted")));
    if (value >= 0 && json_number_value(json_object_get(m, "value")) != value)
        fail_msg("%s: value %g, want %g", json_string_value(json_object_get(m, "name")),
                 json_number_value(json_object_get(m, "value")), value);
}

static void test_metric_entries(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW, NULL);
    char *id = run(f);
    char path[512];
    snprintf(path, sizeof path, "/api/v1/metrics/%s?size=50", id);
    json_t *r = get(f->port, path, 200);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 5);
    json_t *res = json_object_get(r, "results");
    check_entry(find(res, "rows", "table", "a"), "sh", "counter", 3.0);
    check_entry(find(res, "rows", "table", "b"), "sh", "counter", 4.5);
    check_entry(find(res, "took", NULL, NULL), "sh", "timer", 1500.0); /* PT1.5S in milliseconds */
    check_entry(find(res, "length", "format", "hello"), "ret", "counter", 5.0);
    check_entry(find(res, "duration", "format", "hello"), "ret", "timer", -1);
    assert_string_equal(json_string_value(json_object_get(find(res, "rows", "table", "a"), "executionId")), id);
    char sh_run[64];
    snprintf(sh_run, sizeof sh_run, "%s", json_string_value(json_object_get(find(res, "took", NULL, NULL),
                                                                            "taskRunId")));
    json_decref(r);

    /* taskId, taskRunId (taskId wins), paging, sort */
    snprintf(path, sizeof path, "/api/v1/metrics/%s?taskId=ret", id);
    r = get(f->port, path, 200);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 2);
    json_decref(r);
    snprintf(path, sizeof path, "/api/v1/metrics/%s?taskRunId=%s", id, sh_run);
    r = get(f->port, path, 200);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 3);
    json_decref(r);
    snprintf(path, sizeof path, "/api/v1/metrics/%s?taskRunId=%s&taskId=ret", id, sh_run);
    r = get(f->port, path, 200);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 2);
    json_decref(r);
    snprintf(path, sizeof path, "/api/v1/metrics/%s?page=3&size=2", id);
    r = get(f->port, path, 200);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 5);
    assert_int_equal(json_array_size(json_object_get(r, "results")), 1);
    json_decref(r);
    snprintf(path, sizeof path, "/api/v1/metrics/%s?sort=value:desc", id);
    r = get(f->port, path, 200);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "results"), 0), "name")),
                        "took");
    json_decref(r);
    snprintf(path, sizeof path, "/api/v1/metrics/%s?page=0", id);
    json_decref(get(f->port, path, 422));
    snprintf(path, sizeof path, "/api/v1/metrics/%s?sort=value", id);
    json_decref(get(f->port, path, 422));
    r = get(f->port, "/api/v1/metrics/nosuchexecution", 200); /* as Kestra: an empty page */
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 0);
    json_decref(r);

    /* names and tasks, in first-seen order */
    r = get(f->port, "/api/v1/metrics/names/io.kite.metrics/metered", 200);
    json_t *want = json_pack("[s,s,s,s]", "rows", "took", "length", "duration");
    assert_true(json_equal(r, want));
    json_decref(want);
    json_decref(r);
    r = get(f->port, "/api/v1/metrics/names/io.kite.metrics/metered/ret", 200);
    want = json_pack("[s,s]", "length", "duration");
    assert_true(json_equal(r, want));
    json_decref(want);
    json_decref(r);
    r = get(f->port, "/api/v1/metrics/tasks/io.kite.metrics/metered", 200);
    want = json_pack("[s,s]", "sh", "ret");
    assert_true(json_equal(r, want));
    json_decref(want);
    json_decref(r);
    r = get(f->port, "/api/v1/metrics/tasks/io.kite.metrics/nosuchflow", 200);
    assert_int_equal(json_array_size(r), 0);
    json_decref(r);

    /* a second run, then deletions: deleteMetrics=false keeps them, the default deletes them */
    char *id2 = run(f);
    snprintf(path, sizeof path, "/api/v1/executions/%s?deleteMetrics=false", id);
    assert_int_equal(kt_it_http("DELETE", f->port, path, NULL, NULL, NULL), 204);
    snprintf(path, sizeof path, "/api/v1/metrics/%s", id);
    r = get(f->port, path, 200);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 5);
    json_decref(r);
    snprintf(path, sizeof path, "/api/v1/executions/%s", id2);
    assert_int_equal(kt_it_http("DELETE", f->port, path, NULL, NULL, NULL), 204);
    snprintf(path, sizeof path, "/api/v1/metrics/%s", id2);
    r = get(f->port, path, 200);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 0);
    json_decref(r);
    free(id);
    free(id2);
}

/* The aggregation whose entry has a name (the bucket holding the metrics); fails unless exactly one has. */
static double named_value(json_t *r, const char *name)
{
    json_t *aggs = json_object_get(r, "aggregations"), *found = NULL, *a;
    size_t i;
    json_array_foreach(aggs, i, a) {
        if (json_object_get(a, "name")) {
            assert_null(found);
            found = a;
            assert_string_equal(json_string_value(json_object_get(a, "name")), name);
        } else {
            assert_true(json_number_value(json_object_get(a, "value")) == 0.0);
        }
        assert_non_null(json_string_value(json_object_get(a, "date")));
    }
    assert_non_null(found);
    return json_number_value(json_object_get(found, "value"));
}

static void iso(time_t t, char *buf, size_t cap)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void test_aggregates(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, FLOW, NULL);
    free(run(f));
    free(run(f));
    /* default range: the last 30 days by day, the empty days with 0; 31 steps as Kestra's two clock readings give */
    json_t *r = get(f->port, "/api/v1/metrics/aggregates/io.kite.metrics/metered/rows", 200);
    assert_string_equal(json_string_value(json_object_get(r, "groupBy")), "day");
    assert_int_equal(json_array_size(json_object_get(r, "aggregations")), 31);
    assert_true(named_value(r, "rows") == 15.0); /* (3 + 4.5) x 2 */
    json_decref(r);
    r = get(f->port, "/api/v1/metrics/aggregates/io.kite.metrics/metered/rows?aggregation=max", 200);
    assert_true(named_value(r, "rows") == 4.5);
    json_decref(r);
    r = get(f->port, "/api/v1/metrics/aggregates/io.kite.metrics/metered/sh/rows?aggregation=avg", 200);
    assert_true(named_value(r, "rows") == 3.75);
    json_decref(r);
    r = get(f->port, "/api/v1/metrics/aggregates/io.kite.metrics/metered/ret/length?aggregation=min", 200);
    assert_true(named_value(r, "length") == 5.0);
    json_decref(r);
    /* the last hour: by minute, 60 steps */
    char from[32], to[32], path[256];
    time_t now = time(NULL);
    iso(now - 3600, from, sizeof from);
    iso(now + 60, to, sizeof to);
    snprintf(path, sizeof path, "/api/v1/metrics/aggregates/io.kite.metrics/metered/took?startDate=%s&endDate=%s",
             from, to);
    r = get(f->port, path, 200);
    assert_string_equal(json_string_value(json_object_get(r, "groupBy")), "minute");
    assert_int_equal(json_array_size(json_object_get(r, "aggregations")), 61);
    json_t *aggs = json_object_get(r, "aggregations");
    double total = 0;
    size_t i;
    json_t *a;
    json_array_foreach(aggs, i, a) total += json_number_value(json_object_get(a, "value"));
    assert_true(total == 3000.0); /* the two runs may straddle a minute */
    json_decref(r);
    /* refusals */
    json_decref(get(f->port, "/api/v1/metrics/aggregates/io.kite.metrics/metered/rows?aggregation=median", 422));
    snprintf(path, sizeof path, "/api/v1/metrics/aggregates/io.kite.metrics/metered/rows?startDate=%s&endDate=%s", to,
             from);
    json_decref(get(f->port, path, 422));
    json_decref(get(f->port, "/api/v1/metrics/aggregates/io.kite.metrics/metered/rows?startDate=yesterday", 422));
}

/* The sum of the samples whose line starts with prefix and contains every one of the NULL-terminated needles. */
static double sample_sum(const char *text, const char *prefix, const char *const *needles)
{
    double sum = 0;
    const char *line = text;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[2048];
        snprintf(buf, sizeof buf, "%.*s", (int)len, line);
        int ok = !strncmp(buf, prefix, strlen(prefix));
        for (size_t i = 0; ok && needles && needles[i]; i++)
            ok = strstr(buf, needles[i]) != NULL;
        if (ok)
            sum += strtod(strrchr(buf, ' ') + 1, NULL);
        line = end ? end + 1 : NULL;
    }
    return sum;
}

static char *scrape(int port)
{
    kt_it_resp resp = {0};
    assert_int_equal(kt_it_request("GET", port, "/prometheus", NULL, 0, NULL, NULL, &resp), 200);
    assert_non_null(strstr(resp.headers, "text/plain; version=0.0.4"));
    return resp.body ? resp.body : strdup("");
}

static void test_prometheus(void **state)
{
    kt_it_fixture *f = *state;
    char mp[16];
    int mport = kt_it_free_port();
    snprintf(mp, sizeof mp, "%d", mport);
    setenv("KITE_ENDPOINTS_ALL_PORT", mp, 1);
    f->server = kt_it_start_server(f->dir, "server", f->port, NULL);
    unsetenv("KITE_ENDPOINTS_ALL_PORT");
    kt_it_create_flow(f->port, FLOW, NULL);
    const char *flow[] = {"flow_id=\"metered\"", "namespace_id=\"io.kite.metrics\"", NULL};
    char *before = scrape(f->port);
    assert_true(sample_sum(before, "kestra_executor_execution_started_count_total{", flow) == 0);
    free(before);
    for (int i = 0; i < 3; i++)
        free(run(f));
    char *t = scrape(f->port);
    const char *started[] = {"flow_id=\"metered\"", "namespace_id=\"io.kite.metrics\"", "state=\"CREATED\"", NULL};
    const char *ended[] = {"flow_id=\"metered\"", "namespace_id=\"io.kite.metrics\"", "state=\"SUCCESS\"", NULL};
    if (sample_sum(t, "kestra_executor_execution_started_count_total{", started) != 3 ||
        sample_sum(t, "kestra_executor_execution_end_count_total{", ended) != 3)
        fail_msg("started/ended counters not 3:\n%s", t);
    assert_true(sample_sum(t, "kestra_executor_execution_end_count_total{", flow) == 3); /* no other state */
    assert_true(sample_sum(t, "kestra_executor_execution_duration_seconds_count{", ended) == 3);
    /* the worker's histogram: every attempt of the flow's two tasks, per task type, with cumulative buckets */
    assert_true(sample_sum(t, "kestra_worker_ended_duration_seconds_count{", flow) >= 6);
    const char *shell[] = {"task_type=\"io.kestra.plugin.scripts.shell.Commands\"", "flow_id=\"metered\"",
                           "le=\"+Inf\"", NULL};
    assert_true(sample_sum(t, "kestra_worker_ended_duration_seconds_bucket{", shell) == 3);
    assert_true(sample_sum(t, "kestra_worker_started_count_total{", flow) >= 6);
    assert_non_null(strstr(t, "# TYPE kestra_worker_ended_duration_seconds histogram\n"));
    assert_non_null(strstr(t, "# TYPE kestra_executor_execution_started_count_total counter\n"));
    /* the store's commits, the mailboxes, the worker's slots */
    assert_true(sample_sum(t, "kestra_store_commit_duration_seconds_count", NULL) > 0);
    /* the indexer's (Kestra's names): the lines and the task metrics of those executions went through it */
    const char *log_entries[] = {"type=\"io.kestra.core.models.executions.LogEntry\"", NULL};
    const char *metric_entries[] = {"type=\"io.kestra.core.models.executions.MetricEntry\"", NULL};
    assert_true(sample_sum(t, "kestra_indexer_message_out_count_total{", log_entries) > 0);
    assert_true(sample_sum(t, "kestra_indexer_message_out_count_total{", metric_entries) > 0);
    assert_true(sample_sum(t, "kestra_indexer_request_duration_seconds_count{", log_entries) > 0);
    assert_non_null(strstr(t, "kestra_actor_mailbox_depth{actor=\"executor@"));
    assert_true(sample_sum(t, "kestra_worker_job_thread{", NULL) >= 1);
    assert_non_null(strstr(t, "kestra_worker_job_running{"));
    free(t);
    /* the management port serves the same registry */
    t = scrape(mport);
    assert_true(sample_sum(t, "kestra_executor_execution_end_count_total{", ended) == 3);
    free(t);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metric_entries, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_aggregates, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_prometheus, kt_it_setup_dir, kt_it_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
