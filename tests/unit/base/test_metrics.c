/* base/metrics.h: counters, gauges (set and callback), histograms with fixed buckets, and their rendering in the
 * Prometheus text format 0.0.4 (HELP/TYPE lines, label escaping, cumulative buckets, _sum/_count, +Inf). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/metrics.h"

static char *render(void)
{
    kt_buf b = {0};
    kt_metrics_render(&b);
    return kt_buf_take(&b);
}

static int teardown(void **state)
{
    (void)state;
    kt_metrics_reset();
    return 0;
}

static void test_counter(void **state)
{
    (void)state;
    const char *l[] = {"namespace_id", "io.kestra", "state", "SUCCESS", NULL};
    kt_metric *c = kt_metrics_counter("kestra_x_total", "Things done", l);
    assert_non_null(c);
    kt_metric_inc(c, 1);
    kt_metric_inc(c, 2.5);
    kt_metric_inc(c, -7); /* a counter never goes down */
    assert_true(kt_metric_value(c) == 3.5);
    /* the same name and labels: the same series */
    assert_ptr_equal(kt_metrics_counter("kestra_x_total", NULL, l), c);
    const char *l2[] = {"namespace_id", "io.kestra", "state", "FAILED", NULL};
    kt_metric_inc(kt_metrics_counter("kestra_x_total", NULL, l2), 1);
    char *t = render();
    assert_string_equal(t, "# HELP kestra_x_total Things done\n"
                           "# TYPE kestra_x_total counter\n"
                           "kestra_x_total{namespace_id=\"io.kestra\",state=\"SUCCESS\"} 3.5\n"
                           "kestra_x_total{namespace_id=\"io.kestra\",state=\"FAILED\"} 1\n");
    free(t);
}

static double read_slots(void *ud) { return (double)*(int *)ud; }

static void test_gauges(void **state)
{
    (void)state;
    kt_metric *g = kt_metrics_gauge("kestra_depth", "Depth", (const char *[]){"actor", "executor", NULL});
    kt_metric_set(g, 5);
    kt_metric_inc(g, -2);
    assert_true(kt_metric_value(g) == 3);
    int slots = 8;
    kt_metric *f = kt_metrics_gauge_fn("kestra_slots", "Slots", NULL, read_slots, &slots);
    assert_true(kt_metric_value(f) == 8);
    slots = 12; /* read when rendered, not when registered */
    char *t = render();
    assert_string_equal(t, "# HELP kestra_depth Depth\n# TYPE kestra_depth gauge\nkestra_depth{actor=\"executor\"} 3\n"
                           "# HELP kestra_slots Slots\n# TYPE kestra_slots gauge\nkestra_slots 12\n");
    free(t);
    /* a second owner of the same labels reads from now on; the first one's release leaves it alone */
    int other = 3;
    assert_ptr_equal(kt_metrics_gauge_fn("kestra_slots", "Slots", NULL, read_slots, &other), f);
    assert_true(kt_metric_value(f) == 3);
    kt_metric_release(f, &slots);
    assert_true(kt_metric_value(f) == 3);
    kt_metric_release(f, &other); /* the last owner goes: the family has no series left and is not rendered */
    kt_metric_release(f, &other); /* already gone: ignored */
    t = render();
    assert_null(strstr(t, "kestra_slots"));
    assert_non_null(strstr(t, "kestra_depth{actor=\"executor\"} 3\n"));
    free(t);
}

static void test_histogram(void **state)
{
    (void)state;
    const double bounds[] = {0.1, 1, 10};
    kt_metric *h = kt_metrics_histogram("kestra_d_seconds", "Durations", (const char *[]){"k", "v", NULL}, bounds, 3);
    assert_non_null(h);
    kt_metric_observe(h, 0.05);
    kt_metric_observe(h, 0.1); /* le is inclusive */
    kt_metric_observe(h, 5);
    kt_metric_observe(h, 50);
    assert_int_equal(kt_metric_count(h), 4);
    assert_true(kt_metric_value(h) == 55.15);
    char *t = render();
    assert_string_equal(t, "# HELP kestra_d_seconds Durations\n"
                           "# TYPE kestra_d_seconds histogram\n"
                           "kestra_d_seconds_bucket{k=\"v\",le=\"0.1\"} 2\n"
                           "kestra_d_seconds_bucket{k=\"v\",le=\"1\"} 2\n"
                           "kestra_d_seconds_bucket{k=\"v\",le=\"10\"} 3\n"
                           "kestra_d_seconds_bucket{k=\"v\",le=\"+Inf\"} 4\n"
                           "kestra_d_seconds_sum{k=\"v\"} 55.15\n"
                           "kestra_d_seconds_count{k=\"v\"} 4\n");
    free(t);
}

static void test_escaping_and_refusals(void **state)
{
    (void)state;
    kt_metric *c = kt_metrics_counter("kestra_e_total", "a \\ b\nc", (const char *[]){"flow_id", "a\"b\\c\nd", NULL});
    kt_metric_inc(c, 1);
    char *t = render();
    assert_string_equal(t, "# HELP kestra_e_total a \\\\ b\\nc\n# TYPE kestra_e_total counter\n"
                           "kestra_e_total{flow_id=\"a\\\"b\\\\c\\nd\"} 1\n");
    free(t);
    /* bad names, a kind clash, a reserved label, descending bounds: NULL, and NULL is accepted everywhere */
    assert_null(kt_metrics_counter("1bad", "", NULL));
    assert_null(kt_metrics_counter("bad-name", "", NULL));
    assert_null(kt_metrics_gauge("kestra_e_total", "", NULL));
    assert_null(kt_metrics_counter("kestra_f_total", "", (const char *[]){"le", "1", NULL}));
    assert_null(kt_metrics_counter("kestra_g_total", "", (const char *[]){"a:b", "1", NULL}));
    assert_null(kt_metrics_histogram("kestra_h", "", NULL, (const double[]){2, 1}, 2));
    kt_metric_inc(NULL, 1);
    kt_metric_observe(NULL, 1);
    kt_metric_drop(NULL);
    assert_true(kt_metric_value(NULL) == 0);
    /* observe on a counter and set on a counter are ignored */
    kt_metric_observe(c, 5);
    kt_metric_set(c, 100);
    assert_true(kt_metric_value(c) == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_counter, teardown),
        cmocka_unit_test_teardown(test_gauges, teardown),
        cmocka_unit_test_teardown(test_histogram, teardown),
        cmocka_unit_test_teardown(test_escaping_and_refusals, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
