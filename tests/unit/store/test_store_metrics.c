/* store.h "task metrics": append (incomplete entries skipped), one execution's page with the taskId/taskRunId
 * filters and sorts, distinct names and task ids per flow, aggregates by bucket, deletion by execution, the bucket
 * starts; and the commit latency histogram the store feeds (base/metrics.h). */
#include "tests/unit/store/store_fixture.h"
#include "base/metrics.h"

static void put(kt_store *s, const char *json)
{
    json_t *e = parse(json);
    assert_int_equal(kt_store_metrics_append(s, e), KT_OK);
    json_decref(e);
}

static void seed(kt_store *s)
{
    assert_int_equal(kt_store_begin(s), KT_OK);
    put(s, "[{\"namespace\":\"n\",\"flowId\":\"f\",\"taskId\":\"a\",\"executionId\":\"e1\",\"taskRunId\":\"r1\","
           "\"type\":\"counter\",\"name\":\"count\",\"value\":3.0,\"timestamp\":\"2024-12-02T10:00:00Z\","
           "\"tags\":{\"k\":\"v\"},\"deleted\":false},"
           "{\"namespace\":\"n\",\"flowId\":\"f\",\"taskId\":\"b\",\"executionId\":\"e1\",\"taskRunId\":\"r2\","
           "\"type\":\"timer\",\"name\":\"duration\",\"value\":1500.0,\"timestamp\":\"2024-12-02T10:00:01Z\"},"
           "{\"namespace\":\"n\",\"flowId\":\"f\",\"taskId\":\"a\",\"executionId\":\"e2\",\"taskRunId\":\"r3\","
           "\"type\":\"counter\",\"name\":\"count\",\"value\":5.0,\"timestamp\":\"2024-12-03T11:00:00Z\"},"
           "{\"namespace\":\"n\",\"flowId\":\"f\",\"taskId\":\"a\",\"executionId\":\"e2\",\"taskRunId\":\"r3\","
           "\"type\":\"counter\",\"name\":\"count\",\"value\":1.0,\"timestamp\":\"2024-12-03T12:00:00Z\"},"
           "{\"namespace\":\"n\",\"flowId\":\"f\",\"type\":\"counter\",\"name\":\"bad\",\"value\":\"x\","
           "\"timestamp\":\"2024-12-03T12:00:00Z\"},"
           "{\"namespace\":\"n\",\"flowId\":\"other\",\"taskId\":\"z\",\"executionId\":\"e3\",\"type\":\"counter\","
           "\"name\":\"count\",\"value\":100.0,\"timestamp\":\"2024-12-03T12:00:00Z\"}]");
    assert_int_equal(kt_store_commit(s), KT_OK);
}

static json_t *search(kt_store *s, const char *exec, const char *task, const char *taskrun, const char *sort,
                      int desc, int page, int size, int64_t *total)
{
    kt_metric_query q = {.execution_id = exec, .task_id = task, .taskrun_id = taskrun, .sort_column = sort,
                         .sort_desc = desc, .page = page, .size = size};
    json_t *r = NULL;
    assert_int_equal(kt_store_metrics_search(s, &q, &r, total), KT_OK);
    return r;
}

static void test_search(void **state)
{
    fixture *f = *state;
    seed(f->s);
    assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM metrics"), 5); /* the one without a number skipped */
    int64_t total;
    json_t *r = search(f->s, "e1", NULL, NULL, NULL, 0, 1, 10, &total);
    assert_int_equal(total, 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "name")), "count");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(r, 0), "tags"), "k")), "v");
    assert_true(json_real_value(json_object_get(json_array_get(r, 1), "value")) == 1500.0);
    json_decref(r);
    /* taskId wins over taskRunId */
    r = search(f->s, "e1", "b", "r1", NULL, 0, 1, 10, &total);
    assert_int_equal(total, 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "taskId")), "b");
    json_decref(r);
    r = search(f->s, "e1", NULL, "r1", NULL, 0, 1, 10, &total);
    assert_int_equal(total, 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "taskRunId")), "r1");
    json_decref(r);
    /* sort by value, descending; paging */
    assert_string_equal(kt_store_metric_sort_column("value"), "value");
    assert_null(kt_store_metric_sort_column("body"));
    r = search(f->s, "e2", NULL, NULL, "value", 1, 1, 1, &total);
    assert_int_equal(total, 2);
    assert_int_equal(json_array_size(r), 1);
    assert_true(json_real_value(json_object_get(json_array_get(r, 0), "value")) == 5.0);
    json_decref(r);
    r = search(f->s, "e2", NULL, NULL, "value", 1, 2, 1, &total);
    assert_true(json_real_value(json_object_get(json_array_get(r, 0), "value")) == 1.0);
    json_decref(r);
}

static void test_distinct_aggregate_delete(void **state)
{
    fixture *f = *state;
    seed(f->s);
    json_t *v = NULL;
    assert_int_equal(kt_store_metrics_distinct(f->s, "n", "f", NULL, 0, &v), KT_OK);
    json_t *want = parse("[\"count\",\"duration\"]");
    assert_json_equal(v, want);
    json_decref(v);
    json_decref(want);
    assert_int_equal(kt_store_metrics_distinct(f->s, "n", "f", "b", 0, &v), KT_OK);
    want = parse("[\"duration\"]");
    assert_json_equal(v, want);
    json_decref(v);
    json_decref(want);
    assert_int_equal(kt_store_metrics_distinct(f->s, "n", "f", NULL, 1, &v), KT_OK);
    want = parse("[\"a\",\"b\"]");
    assert_json_equal(v, want);
    json_decref(v);
    json_decref(want);

    int64_t from, to, d2, d3;
    kt_time_parse("2024-12-01T00:00:00Z", &from);
    kt_time_parse("2024-12-04T00:00:00Z", &to);
    kt_time_parse("2024-12-02T00:00:00Z", &d2);
    kt_time_parse("2024-12-03T00:00:00Z", &d3);
    assert_int_equal(kt_store_metrics_aggregate(f->s, "n", "f", NULL, "count", from, to, "sum", KT_MB_DAY, &v), KT_OK);
    assert_int_equal(json_array_size(v), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(v, 0), "start")), d2);
    assert_true(json_real_value(json_object_get(json_array_get(v, 0), "value")) == 3.0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(v, 1), "start")), d3);
    assert_true(json_real_value(json_object_get(json_array_get(v, 1), "value")) == 6.0);
    json_decref(v);
    assert_int_equal(kt_store_metrics_aggregate(f->s, "n", "f", "a", "count", from, to, "max", KT_MB_DAY, &v), KT_OK);
    assert_true(json_real_value(json_object_get(json_array_get(v, 1), "value")) == 5.0);
    json_decref(v);
    assert_int_equal(kt_store_metrics_aggregate(f->s, "n", "f", NULL, "count", from, to, "avg", KT_MB_MONTH, &v),
                     KT_OK);
    assert_int_equal(json_array_size(v), 1);
    assert_true(json_real_value(json_object_get(json_array_get(v, 0), "value")) == 3.0);
    json_decref(v);
    assert_int_equal(kt_store_metrics_aggregate(f->s, "n", "f", NULL, "count", from, to, "median", KT_MB_DAY, &v),
                     KT_EINVAL);

    int64_t n = -1;
    assert_int_equal(kt_store_metrics_delete(f->s, "e2", &n), KT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM metrics"), 3);
}

static void test_buckets_and_commit_histogram(void **state)
{
    fixture *f = *state;
    int64_t t, want;
    kt_time_parse("2024-12-05T13:47:12.5Z", &t); /* a Thursday */
    kt_time_parse("2024-12-05T13:47:00Z", &want);
    assert_int_equal(kt_store_metric_bucket_start(t, KT_MB_MINUTE), want);
    kt_time_parse("2024-12-05T13:00:00Z", &want);
    assert_int_equal(kt_store_metric_bucket_start(t, KT_MB_HOUR), want);
    kt_time_parse("2024-12-05T00:00:00Z", &want);
    assert_int_equal(kt_store_metric_bucket_start(t, KT_MB_DAY), want);
    kt_time_parse("2024-12-02T00:00:00Z", &want); /* its Monday */
    assert_int_equal(kt_store_metric_bucket_start(t, KT_MB_WEEK), want);
    kt_time_parse("2024-12-01T00:00:00Z", &want);
    assert_int_equal(kt_store_metric_bucket_start(t, KT_MB_MONTH), want);

    kt_metric *h = kt_metrics_histogram("kestra_store_commit_duration_seconds", NULL, NULL, NULL, 0);
    unsigned long long before = kt_metric_count(h);
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_commit(f->s), KT_OK);
    assert_int_equal(kt_metric_count(h), before + 1);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    int backend = fixture_backend(); /* 77: PostgreSQL asked for, none there */
    if (backend)
        return backend;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_search),
        T(test_distinct_aggregate_delete),
        T(test_buckets_and_commit_histogram),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
