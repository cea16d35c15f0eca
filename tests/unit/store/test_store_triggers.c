/* Trigger rows and multiple-condition windows in a real SQLite file: round trip, the indexed columns, search filters,
 * sort and paging, delete, window expiry, and that a write inside a rolled back transaction leaves nothing. */
#include "tests/unit/store/store_fixture.h"

static json_t *trig(const char *ns, const char *flow, const char *id, const char *next, const char *exec,
                    const char *worker)
{
    json_t *t = json_pack("{s:s, s:s, s:s, s:s, s:b}", "namespace", ns, "flowId", flow, "triggerId", id, "date",
                          "2024-12-20T10:00:00Z", "disabled", 0);
    if (next)
        json_object_set_new(t, "nextExecutionDate", json_string(next));
    if (exec)
        json_object_set_new(t, "executionId", json_string(exec));
    if (worker)
        json_object_set_new(t, "workerId", json_string(worker));
    return t;
}

static void put(kt_store *s, json_t *t)
{
    assert_int_equal(kt_store_trigger_put(s, t), KT_OK);
    json_decref(t);
}

/* The triggerIds of a result list, joined with commas. */
static const char *ids(const json_t *list)
{
    static char buf[512];
    buf[0] = 0;
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t) {
        if (i)
            strcat(buf, ",");
        strcat(buf, json_string_value(json_object_get(t, "flowId")));
        strcat(buf, ".");
        strcat(buf, json_string_value(json_object_get(t, "triggerId")));
    }
    return buf;
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    json_t *t = trig("company.team", "hello", "schedule", "2024-12-20T11:00:00Z", NULL, NULL);
    json_object_set_new(t, "backfill", json_pack("{s:s, s:s, s:s, s:b}", "start", "2024-12-01T00:00:00Z", "end",
                                                 "2024-12-02T00:00:00Z", "currentDate", "2024-12-01T00:00:00Z", "paused",
                                                 0));
    json_object_set_new(t, "stopAfter", json_pack("[s]", "FAILED"));
    assert_int_equal(kt_store_trigger_put(f->s, t), KT_OK);
    json_t *got = NULL;
    assert_int_equal(kt_store_trigger_get(f->s, "company.team", "hello", "schedule", &got), KT_OK);
    assert_json_equal(got, t);
    json_decref(got);
    /* the indexed columns come from the JSON */
    assert_int_equal(sql_int(f->data, "SELECT next_execution_date FROM triggers"), 1734692400000000LL);
    assert_int_equal(sql_int(f->data, "SELECT execution_id IS NULL AND worker_id IS NULL FROM triggers"), 1);

    /* an update replaces the row, its columns too; reopening keeps it */
    json_object_set_new(t, "executionId", json_string("exec1"));
    json_object_set_new(t, "workerId", json_string("w1"));
    json_object_del(t, "nextExecutionDate");
    assert_int_equal(kt_store_trigger_put(f->s, t), KT_OK);
    reopen(f);
    assert_int_equal(kt_store_trigger_get(f->s, "company.team", "hello", "schedule", &got), KT_OK);
    assert_json_equal(got, t);
    json_decref(got);
    assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM triggers"), 1);
    assert_int_equal(sql_int(f->data, "SELECT next_execution_date IS NULL FROM triggers"), 1);
    assert_int_equal(sql_int(f->data, "SELECT execution_id = 'exec1' AND worker_id = 'w1' FROM triggers"), 1);
    json_decref(t);

    assert_int_equal(kt_store_trigger_get(f->s, "company.team", "hello", "other", &got), KT_ENOTFOUND);
    assert_int_equal(kt_store_trigger_delete(f->s, "company.team", "hello", "schedule"), KT_OK);
    assert_int_equal(kt_store_trigger_get(f->s, "company.team", "hello", "schedule", &got), KT_ENOTFOUND);
    assert_int_equal(kt_store_trigger_delete(f->s, "company.team", "hello", "schedule"), KT_OK); /* absent: no-op */
}

static void test_put_refuses_bad_rows(void **state)
{
    fixture *f = *state;
    json_t *t = json_pack("{s:s, s:s}", "namespace", "a", "flowId", "f"); /* no triggerId */
    assert_int_equal(kt_store_trigger_put(f->s, t), KT_EINVAL);
    json_object_set_new(t, "triggerId", json_string("t"));
    json_object_set_new(t, "nextExecutionDate", json_string("tomorrow"));
    assert_int_equal(kt_store_trigger_put(f->s, t), KT_EINVAL);
    json_decref(t);
    assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM triggers"), 0);
}

static void seed(kt_store *s)
{
    put(s, trig("a", "f1", "t1", "2024-01-03T00:00:00Z", NULL, NULL));
    put(s, trig("a", "f1", "t2", "2024-01-01T00:00:00Z", "e2", "w1"));
    put(s, trig("a.b", "f2", "t1", "2024-01-02T00:00:00Z", NULL, "w2"));
    put(s, trig("ab", "f3", "t1", NULL, NULL, NULL));
    put(s, trig("c", "f1", "x", "2024-01-04T00:00:00+01:00", "e1", NULL));
}

static void search(kt_store *s, kt_trigger_query q, const char *want, int64_t want_total)
{
    json_t *res = NULL;
    int64_t total = -1;
    assert_int_equal(kt_store_triggers_search(s, &q, &res, &total), KT_OK);
    assert_string_equal(ids(res), want);
    assert_int_equal(total, want_total);
    json_decref(res);
}

static void test_search_filters(void **state)
{
    fixture *f = *state;
    seed(f->s);
    search(f->s, (kt_trigger_query){0}, "f1.t1,f1.t2,f2.t1,f3.t1,f1.x", 5);
    /* namespace is a prefix of whole segments: a matches a and a.b, not ab */
    search(f->s, (kt_trigger_query){.namespace_ = "a"}, "f1.t1,f1.t2,f2.t1", 3);
    search(f->s, (kt_trigger_query){.namespace_ = "a.b"}, "f2.t1", 1);
    search(f->s, (kt_trigger_query){.namespace_ = "a_"}, "", 0); /* _ is not a pattern */
    search(f->s, (kt_trigger_query){.flow_id = "f1"}, "f1.t1,f1.t2,f1.x", 3);
    search(f->s, (kt_trigger_query){.namespace_ = "c", .flow_id = "f1"}, "f1.x", 1);
    search(f->s, (kt_trigger_query){.worker_id = "w2"}, "f2.t1", 1);
    search(f->s, (kt_trigger_query){.q = "t2"}, "f1.t2", 1);   /* triggerId */
    search(f->s, (kt_trigger_query){.q = "f3"}, "f3.t1", 1);   /* flowId */
    search(f->s, (kt_trigger_query){.q = "a.b"}, "f2.t1", 1);  /* namespace */
    search(f->s, (kt_trigger_query){.q = "zzz"}, "", 0);
}

static void test_search_sort_and_paging(void **state)
{
    fixture *f = *state;
    seed(f->s);
    /* a row without a next date sorts first ascending; c's 00:00+01:00 is 2024-01-03T23:00Z */
    search(f->s, (kt_trigger_query){.sort_column = "nextExecutionDate"}, "f3.t1,f1.t2,f2.t1,f1.t1,f1.x", 5);
    search(f->s, (kt_trigger_query){.sort_column = "nextExecutionDate", .sort_desc = 1}, "f1.x,f1.t1,f2.t1,f1.t2,f3.t1",
           5);
    search(f->s, (kt_trigger_query){.sort_column = "triggerId", .sort_desc = 1}, "f1.x,f1.t2,f3.t1,f2.t1,f1.t1", 5);
    search(f->s, (kt_trigger_query){.sort_column = "flowId"}, "f1.t1,f1.t2,f1.x,f2.t1,f3.t1", 5);
    search(f->s, (kt_trigger_query){.sort_column = "executionId", .sort_desc = 1}, "f1.t2,f1.x,f3.t1,f2.t1,f1.t1", 5);
    /* an unknown field keeps the default order (never spliced into SQL) */
    search(f->s, (kt_trigger_query){.sort_column = "x; DROP TABLE triggers"}, "f1.t1,f1.t2,f2.t1,f3.t1,f1.x", 5);
    /* paging: total counts every match, the page holds size of them */
    search(f->s, (kt_trigger_query){.sort_column = "flowId", .page = 1, .size = 2}, "f1.t1,f1.t2", 5);
    search(f->s, (kt_trigger_query){.sort_column = "flowId", .page = 2, .size = 2}, "f1.x,f2.t1", 5);
    search(f->s, (kt_trigger_query){.sort_column = "flowId", .page = 3, .size = 2}, "f3.t1", 5);
    search(f->s, (kt_trigger_query){.sort_column = "flowId", .page = 4, .size = 2}, "", 5);
}

static void test_list(void **state)
{
    fixture *f = *state;
    seed(f->s);
    json_t *all;
    assert_int_equal(kt_store_triggers_list(f->s, NULL, NULL, &all), KT_OK);
    assert_string_equal(ids(all), "f1.t1,f1.t2,f2.t1,f3.t1,f1.x");
    json_decref(all);
    assert_int_equal(kt_store_triggers_list(f->s, "a", "f1", &all), KT_OK);
    assert_string_equal(ids(all), "f1.t1,f1.t2");
    json_decref(all);
    assert_int_equal(kt_store_triggers_list(f->s, "a", "nope", &all), KT_OK);
    assert_int_equal(json_array_size(all), 0);
    json_decref(all);
}

static void test_rollback_leaves_nothing(void **state)
{
    fixture *f = *state;
    put(f->s, trig("a", "f1", "kept", "2024-01-01T00:00:00Z", NULL, NULL));
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    put(f->s, trig("a", "f1", "t1", "2024-01-01T00:00:00Z", NULL, NULL));
    assert_int_equal(kt_store_trigger_delete(f->s, "a", "f1", "kept"), KT_OK);
    json_t *w = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:b}}", "namespace", "a", "flowId", "f1", "conditionId", "c",
                          "start", "2024-01-01T00:00:00Z", "end", "2024-01-02T00:00:00Z", "results", "up", 1);
    assert_int_equal(kt_store_window_put(f->s, w), KT_OK);
    json_decref(w);
    json_t *got;
    assert_int_equal(kt_store_trigger_get(f->s, "a", "f1", "t1", &got), KT_OK); /* visible inside */
    json_decref(got);
    kt_store_rollback(f->s);
    assert_int_equal(kt_store_trigger_get(f->s, "a", "f1", "t1", &got), KT_ENOTFOUND);
    assert_int_equal(kt_store_window_get(f->s, "a", "f1", "c", &got), KT_ENOTFOUND);
    assert_int_equal(kt_store_trigger_get(f->s, "a", "f1", "kept", &got), KT_OK);
    json_decref(got);
    reopen(f);
    assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM triggers"), 1);
    assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM windows"), 0);
}

static json_t *window(const char *flow, const char *cond, const char *end)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:b}}", "namespace", "a", "flowId", flow, "conditionId", cond,
                     "start", "2024-01-01T00:00:00Z", "end", end, "results", "upstream", 1);
}

/* The claims several schedulers rely on: a trigger read for a write (in the transaction that writes it), and a notice
 * taken by whoever's transaction deletes it first. */
static void test_claims(void **state)
{
    fixture *f = *state;
    put(f->s, trig("company.team", "hello", "schedule", "2024-12-20T11:00:00Z", NULL, NULL));
    json_t *got = NULL;
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_trigger_claim(f->s, "company.team", "hello", "schedule", &got), KT_OK);
    assert_string_equal(json_string_value(json_object_get(got, "nextExecutionDate")), "2024-12-20T11:00:00Z");
    json_decref(got);
    got = NULL;
    assert_int_equal(kt_store_trigger_claim(f->s, "company.team", "hello", "other", &got), KT_ENOTFOUND);
    assert_null(got);
    kt_store_rollback(f->s);

    int taken = -1;
    assert_int_equal(kt_store_notice_add(f->s, "e1", "SUCCESS"), KT_OK);
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_notice_take(f->s, "e1", "SUCCESS", &taken), KT_OK);
    assert_int_equal(taken, 1);
    kt_store_rollback(f->s); /* not acted on: still there */
    assert_int_equal(kt_store_notice_take(f->s, "e1", "SUCCESS", &taken), KT_OK);
    assert_int_equal(taken, 1);
    assert_int_equal(kt_store_notice_take(f->s, "e1", "SUCCESS", &taken), KT_OK);
    assert_int_equal(taken, 0);
    assert_int_equal(kt_store_notice_take(f->s, "e1", "RUNNING", &taken), KT_OK);
    assert_int_equal(taken, 0);

    /* two notices alike are two changes: each take (and each done) removes one */
    assert_int_equal(kt_store_notice_add(f->s, "e2", "FAILED"), KT_OK);
    assert_int_equal(kt_store_notice_add(f->s, "e2", "FAILED"), KT_OK);
    assert_int_equal(kt_store_notice_add(f->s, "e2", "FAILED"), KT_OK);
    assert_int_equal(kt_store_notice_take(f->s, "e2", "FAILED", &taken), KT_OK);
    assert_int_equal(taken, 1);
    assert_int_equal(kt_store_notice_done(f->s, "e2", "FAILED"), KT_OK);
    json_t *left = NULL;
    assert_int_equal(kt_store_notices(f->s, &left), KT_OK);
    assert_int_equal(json_array_size(left), 1);
    json_decref(left);
    assert_int_equal(kt_store_notice_take(f->s, "e2", "FAILED", &taken), KT_OK);
    assert_int_equal(taken, 1);
    assert_int_equal(kt_store_notice_take(f->s, "e2", "FAILED", &taken), KT_OK);
    assert_int_equal(taken, 0);
}

/* A row made from nothing never overwrites one that exists (another scheduler made it since the caller looked), and
 * a window is claimed and inserted the same way. */
static void test_insert_if_absent(void **state)
{
    fixture *f = *state;
    json_t *t = trig("company.team", "hello", "schedule", "2024-12-20T11:00:00Z", NULL, NULL);
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_trigger_insert(f->s, t), KT_OK);
    assert_int_equal(kt_store_commit(f->s), KT_OK);
    json_t *other = trig("company.team", "hello", "schedule", "2024-12-21T11:00:00Z", "exec9", NULL);
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_trigger_insert(f->s, other), KT_ECONFLICT);
    kt_store_rollback(f->s);
    json_t *got = NULL;
    assert_int_equal(kt_store_trigger_get(f->s, "company.team", "hello", "schedule", &got), KT_OK);
    assert_json_equal(got, t); /* the first one's, untouched */
    json_decref(got);
    assert_int_equal(kt_store_trigger_insert(f->s, NULL), KT_EINVAL);
    json_decref(t);
    json_decref(other);

    json_t *w1 = window("f", "c1", "2024-01-01T01:00:00Z"), *w2 = window("f", "c1", "2024-01-01T02:00:00Z");
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    got = NULL;
    assert_int_equal(kt_store_window_claim(f->s, "a", "f", "c1", &got), KT_ENOTFOUND);
    assert_null(got);
    assert_int_equal(kt_store_window_insert(f->s, w1), KT_OK);
    assert_int_equal(kt_store_window_insert(f->s, w2), KT_ECONFLICT);
    assert_int_equal(kt_store_window_claim(f->s, "a", "f", "c1", &got), KT_OK);
    assert_json_equal(got, w1);
    json_decref(got);
    assert_int_equal(kt_store_commit(f->s), KT_OK);
    assert_int_equal(kt_store_window_get(f->s, "a", "f", "c1", &got), KT_OK);
    assert_json_equal(got, w1);
    json_decref(got);
    json_decref(w1);
    json_decref(w2);
}

/* The scheduler's inbox: notices in the order added, done deleting every notice of an execution and state. */
static void test_notices(void **state)
{
    fixture *f = *state;
    json_t *got;
    assert_int_equal(kt_store_notices(f->s, &got), KT_OK);
    assert_int_equal(json_array_size(got), 0);
    json_decref(got);
    static const char *const adds[][2] = {{"e2", "SUCCESS"}, {"e1", "RUNNING"}, {"e1", "SUCCESS"}, {"e2", "SUCCESS"}};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(kt_store_notice_add(f->s, adds[i][0], adds[i][1]), KT_OK);
    assert_int_equal(kt_store_notices(f->s, &got), KT_OK);
    json_t *want = parse("[{\"executionId\":\"e2\",\"state\":\"SUCCESS\"},{\"executionId\":\"e1\",\"state\":\"RUNNING\"},"
                         "{\"executionId\":\"e1\",\"state\":\"SUCCESS\"},{\"executionId\":\"e2\",\"state\":\"SUCCESS\"}]");
    assert_json_equal(got, want);
    json_decref(got);
    json_decref(want);
    /* done deletes one notice of that execution and state, the oldest (two alike are two changes), the others stay in
     * order */
    assert_int_equal(kt_store_notice_done(f->s, "e2", "SUCCESS"), KT_OK);
    assert_int_equal(kt_store_notice_done(f->s, "e9", "SUCCESS"), KT_OK); /* none: fine */
    assert_int_equal(kt_store_notices(f->s, &got), KT_OK);
    want = parse("[{\"executionId\":\"e1\",\"state\":\"RUNNING\"},{\"executionId\":\"e1\",\"state\":\"SUCCESS\"},"
                 "{\"executionId\":\"e2\",\"state\":\"SUCCESS\"}]");
    assert_json_equal(got, want);
    json_decref(got);
    json_decref(want);
    assert_int_equal(kt_store_notice_done(f->s, "e2", "SUCCESS"), KT_OK);
    reopen(f);
    assert_int_equal(kt_store_notices(f->s, &got), KT_OK);
    want = parse("[{\"executionId\":\"e1\",\"state\":\"RUNNING\"},{\"executionId\":\"e1\",\"state\":\"SUCCESS\"}]");
    assert_json_equal(got, want);
    json_decref(got);
    json_decref(want);
    /* take: the first one takes it, a second finds it gone */
    int taken = -1;
    assert_int_equal(kt_store_notice_take(f->s, "e1", "RUNNING", &taken), KT_OK);
    assert_int_equal(taken, 1);
    assert_int_equal(kt_store_notice_take(f->s, "e1", "RUNNING", &taken), KT_OK);
    assert_int_equal(taken, 0);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM notices WHERE execution_id='e1' AND state='SUCCESS'"), 1);
}

static void test_windows(void **state)
{
    fixture *f = *state;
    json_t *w1 = window("f", "c1", "2024-01-01T01:00:00Z"), *w2 = window("f", "c2", "2024-01-01T03:00:00+01:00");
    json_t *w3 = window("g", "c1", "2024-01-01T05:00:00Z");
    assert_int_equal(kt_store_window_put(f->s, w1), KT_OK);
    assert_int_equal(kt_store_window_put(f->s, w2), KT_OK);
    assert_int_equal(kt_store_window_put(f->s, w3), KT_OK);
    json_t *got;
    assert_int_equal(kt_store_window_get(f->s, "a", "f", "c2", &got), KT_OK);
    assert_json_equal(got, w2);
    json_decref(got);
    assert_int_equal(sql_int(f->data, "SELECT end_us FROM windows WHERE condition_id='c2'"), 1704074400000000LL);
    /* an update replaces */
    json_object_set_new(json_object_get(w1, "results"), "other", json_true());
    assert_int_equal(kt_store_window_put(f->s, w1), KT_OK);
    assert_int_equal(kt_store_window_get(f->s, "a", "f", "c1", &got), KT_OK);
    assert_json_equal(got, w1);
    json_decref(got);
    /* expiry: end before now is gone; w2 ends at 02:00Z, which is not before now = 02:00Z */
    int64_t now;
    assert_int_equal(kt_time_parse("2024-01-01T02:00:00Z", &now), 0);
    assert_int_equal(kt_store_windows_expire(f->s, now), KT_OK);
    assert_int_equal(kt_store_window_get(f->s, "a", "f", "c1", &got), KT_ENOTFOUND);
    assert_int_equal(kt_store_window_get(f->s, "a", "f", "c2", &got), KT_OK);
    json_decref(got);
    assert_int_equal(kt_store_window_delete(f->s, "a", "f", "c2"), KT_OK);
    assert_int_equal(kt_store_window_get(f->s, "a", "f", "c2", &got), KT_ENOTFOUND);
    assert_int_equal(kt_store_window_get(f->s, "a", "g", "c1", &got), KT_OK);
    json_decref(got);
    /* a window without a readable end is refused */
    json_object_set_new(w3, "end", json_string("soon"));
    assert_int_equal(kt_store_window_put(f->s, w3), KT_EINVAL);
    /* nor one without a condition */
    json_object_set_new(w3, "end", json_string("2024-01-01T05:00:00Z"));
    json_object_set_new(w3, "conditionId", json_string(""));
    assert_int_equal(kt_store_window_put(f->s, w3), KT_EINVAL);
    /* inside a rolled back transaction: nothing */
    assert_int_equal(kt_store_begin(f->s), KT_OK);
    assert_int_equal(kt_store_window_put(f->s, w2), KT_OK);
    kt_store_rollback(f->s);
    assert_int_equal(kt_store_window_get(f->s, "a", "f", "c2", &got), KT_ENOTFOUND);
    assert_int_equal(sql_int(f->data, "SELECT count(*) FROM windows"), 1);
    json_decref(w1);
    json_decref(w2);
    json_decref(w3);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    int backend = fixture_backend(); /* 77: PostgreSQL asked for, none there */
    if (backend)
        return backend;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_refuses_bad_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_sort_and_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_windows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_if_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notices, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
