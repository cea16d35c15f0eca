/* kt_store_flow_purge_revisions (flow.PurgeFlows, Version.revisionsToPurge) on the store's backend (SQLite here, and
 * PostgreSQL as test_store_flow_purge_pg): keep the N newest revisions, or delete those saved at or before a date,
 * or all but the latest; never the latest; other flows untouched; revisions that are not contiguous any more. And
 * kt_store_metrics_purge (metric.PurgeMetrics): by flow, by namespace with its children (not a sibling sharing the
 * prefix), by date range. */
#include "store_fixture.h"

#include <time.h>

static void save_n(kt_store *s, const char *ns, const char *id, int n)
{
    for (int i = 1; i <= n; i++) {
        char src[64];
        int rev, changed;
        snprintf(src, sizeof src, "source %d", i);
        assert_int_equal(kt_store_flow_save(s, ns, id, src, &rev, &changed), KT_OK);
    }
}

/* The revisions left, as "1,2,3". */
static void assert_revs(kt_store *s, const char *ns, const char *id, const char *want)
{
    json_t *rows = NULL;
    assert_int_equal(kt_store_flow_revisions(s, ns, id, &rows), KT_OK);
    char got[128] = "";
    size_t i, used = 0;
    json_t *r;
    json_array_foreach(rows, i, r) {
        long long rev = (long long)json_integer_value(json_object_get(r, "revision"));
        used += (size_t)snprintf(got + used, sizeof got - used, "%s%lld", i ? "," : "", rev);
    }
    json_decref(rows);
    assert_string_equal(got, want);
}

static void test_keep(void **state)
{
    fixture *f = *state;
    save_n(f->s, "a.b", "f", 5);
    save_n(f->s, "a.b", "g", 2);
    int64_t n = -1;
    assert_int_equal(kt_store_flow_purge_revisions(f->s, "a.b", "f", 2, -1, &n), KT_OK);
    assert_int_equal(n, 3);
    assert_revs(f->s, "a.b", "f", "4,5");
    assert_revs(f->s, "a.b", "g", "1,2");
    /* again with more to keep than there are: nothing */
    assert_int_equal(kt_store_flow_purge_revisions(f->s, "a.b", "f", 3, -1, &n), KT_OK);
    assert_int_equal(n, 0);
    /* a new revision after a purge is the next number; keep 1 leaves the latest alone */
    save_n(f->s, "a.b", "f", 1);
    assert_revs(f->s, "a.b", "f", "4,5,6");
    assert_int_equal(kt_store_flow_purge_revisions(f->s, "a.b", "f", 1, -1, &n), KT_OK);
    assert_int_equal(n, 2);
    assert_revs(f->s, "a.b", "f", "6");
    kt_flow_row row;
    assert_int_equal(kt_store_flow_get(f->s, "a.b", "f", 0, &row), KT_OK);
    assert_int_equal(row.revision, 6);
    kt_flow_row_clear(&row);
    /* keep 0 and no date: every revision but the latest */
    assert_int_equal(kt_store_flow_purge_revisions(f->s, "a.b", "g", 0, -1, &n), KT_OK);
    assert_int_equal(n, 1);
    assert_revs(f->s, "a.b", "g", "2");
    /* an unknown flow: nothing, no error */
    assert_int_equal(kt_store_flow_purge_revisions(f->s, "a.b", "none", 1, -1, &n), KT_OK);
    assert_int_equal(n, 0);
}

static void test_before(void **state)
{
    fixture *f = *state;
    save_n(f->s, "a.b", "f", 2);
    struct timespec pause = {0, 3000000};
    nanosleep(&pause, NULL);
    int64_t mid = kt_now_us();
    nanosleep(&pause, NULL);
    int rev, changed;
    assert_int_equal(kt_store_flow_save(f->s, "a.b", "f", "later 1", &rev, &changed), KT_OK);
    assert_int_equal(kt_store_flow_save(f->s, "a.b", "f", "later 2", &rev, &changed), KT_OK);
    int64_t n = -1;
    assert_int_equal(kt_store_flow_purge_revisions(f->s, "a.b", "f", 0, mid, &n), KT_OK);
    assert_int_equal(n, 2);
    assert_revs(f->s, "a.b", "f", "3,4");
    /* a date after everything still keeps the latest */
    assert_int_equal(kt_store_flow_purge_revisions(f->s, "a.b", "f", 0, kt_now_us() + 1000000, &n), KT_OK);
    assert_int_equal(n, 1);
    assert_revs(f->s, "a.b", "f", "4");
}

/* One counter of ns/flow at ts (ISO). */
static void metric(kt_store *s, const char *ns, const char *flow, const char *ts)
{
    json_t *e = json_pack("[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:s}]", "namespace", ns, "flowId", flow, "taskId",
                          "t", "executionId", "e", "taskRunId", "r", "type", "counter", "name", "n", "value", 1.0,
                          "timestamp", ts);
    assert_int_equal(kt_store_metrics_append(s, e), KT_OK);
    json_decref(e);
}

static int64_t at(const char *iso)
{
    int64_t us = 0;
    assert_int_equal(kt_time_parse(iso, &us), 0);
    return us;
}

static void test_metrics_purge(void **state)
{
    fixture *f = *state;
    metric(f->s, "a", "f", "2024-01-01T00:00:00Z");
    metric(f->s, "a", "g", "2024-01-02T00:00:00Z");
    metric(f->s, "a.b", "f", "2024-01-03T00:00:00Z");
    metric(f->s, "ab", "f", "2024-01-04T00:00:00Z");
    metric(f->s, "a", "f", "2024-02-01T00:00:00Z");
    int64_t n = -1;
    /* a flow: its namespace exactly, up to a date */
    assert_int_equal(kt_store_metrics_purge(f->s, "a", "f", 0, at("2024-01-31T00:00:00Z"), &n), KT_OK);
    assert_int_equal(n, 1);
    /* a namespace without a flow: its children too, not "ab"; from a date */
    assert_int_equal(kt_store_metrics_purge(f->s, "a", NULL, at("2024-01-02T00:00:00Z"), at("2024-01-31T00:00:00Z"),
                                            &n), KT_OK);
    assert_int_equal(n, 2);
    /* everything up to a date */
    assert_int_equal(kt_store_metrics_purge(f->s, NULL, NULL, 0, at("2024-12-31T00:00:00Z"), &n), KT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(kt_store_metrics_purge(f->s, NULL, NULL, 0, at("2024-12-31T00:00:00Z"), &n), KT_OK);
    assert_int_equal(n, 0);
}

int main(void)
{
    int backend = fixture_backend(); /* 77: PostgreSQL asked for, none there */
    if (backend)
        return backend;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_purge, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
