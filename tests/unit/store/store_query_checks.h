/* Checks of the store suite's query tests (test_store_queries.c, test_store_exec_search.c), on the backend the suite
 * runs on (store_fixture.h): answers joined as text and compared with the explicit answer both backends must give,
 * in the same order. Static helpers: each test file is its own program. */
#ifndef KT_TEST_STORE_QUERY_CHECKS_H
#define KT_TEST_STORE_QUERY_CHECKS_H

#include "tests/unit/store/store_fixture.h"

/* The backend the failures name. */
static inline const char *backend_name(void) { return fixture_on_pg() ? "postgresql" : "sqlite"; }

/* The member `key` of each object of a list, joined with commas (a static inline buffer, one at a time). */
static inline const char *joined(const json_t *list, const char *key)
{
    static char buf[2048];
    buf[0] = 0;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *v = json_string_value(json_object_get(e, key));
        strncat(buf, i ? "," : "", sizeof buf - strlen(buf) - 1);
        strncat(buf, v ? v : "?", sizeof buf - strlen(buf) - 1);
    }
    return buf;
}

static inline void assert_json_same(const char *what, const json_t *got, const json_t *want)
{
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        char *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
        fail_msg("%s on %s differs\n got: %s\nwant: %s", what, backend_name(), g ? g : "NULL", w ? w : "NULL");
    }
}

static inline void check_logs(kt_store *s, const char *exec_id, const kt_log_filter *f, const char *want)
{
    json_t *arr = NULL;
    kt_status st = kt_store_logs_get(s, exec_id, f, &arr);
    if (st)
        fail_msg("logs_get on %s: %d", backend_name(), st);
    if (strcmp(joined(arr, "message"), want))
        fail_msg("logs on %s (min %s task %s run %s attempt %d): [%s], want [%s]", backend_name(),
                 f && f->min_level ? f->min_level : "-", f && f->task_id ? f->task_id : "-",
                 f && f->taskrun_id ? f->taskrun_id : "-", f ? f->attempt : -1, joined(arr, "message"), want);
    json_decref(arr);
}

/* A log search: the messages of the page and the total. */
static inline void log_search(kt_store *s, kt_log_query q, const char *want, int64_t want_total)
{
    json_t *res = NULL;
    int64_t total = -1;
    kt_status st = kt_store_logs_search(s, &q, &res, &total);
    if (st)
        fail_msg("logs_search on %s: %d", backend_name(), st);
    if (strcmp(joined(res, "message"), want) || total != want_total)
        fail_msg("logs_search on %s: [%s] of %lld, want [%s] of %lld", backend_name(), joined(res, "message"),
                 (long long)total, want, (long long)want_total);
    json_decref(res);
}

#endif
