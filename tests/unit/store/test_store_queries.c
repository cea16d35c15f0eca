/* The store's log, trigger and metric queries beyond test_store_logs.c, test_store_triggers.c and
 * test_store_metrics.c (follow, pages, the log search and deletions, sorts, buckets, more of the rows' columns): explicit
 * answers both backends must give, in the same order (the store suite runs on SQLite and, as *_pg, on PostgreSQL). */
#include "tests/unit/store/store_query_checks.h"

/* ---- logs (beyond test_store_logs.c's cases): many lines, follow, pages, search and deletions ------------------- */

/* Appended out of timestamp order; "n" is the expected position in timestamp order (ties: append order). */
static const char *const log_json =
    "["
    "{\"executionId\":\"ex1\",\"taskId\":\"t1\",\"taskRunId\":\"r1\",\"attemptNumber\":0,\"level\":\"INFO\","
    " \"timestamp\":\"2024-01-01T00:00:02Z\",\"message\":\"m2\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t1\",\"taskRunId\":\"r1\",\"attemptNumber\":0,\"level\":\"ERROR\","
    " \"timestamp\":\"2024-01-01T00:00:01Z\",\"message\":\"m1\"},"
    "{\"executionId\":\"ex1\",\"level\":\"TRACE\",\"timestamp\":\"2024-01-01T00:00:00.5Z\",\"message\":\"m0\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t1\",\"taskRunId\":\"r1\",\"attemptNumber\":1,\"level\":\"WARN\","
    " \"timestamp\":\"2024-01-01T00:00:03Z\",\"message\":\"m3\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t2\",\"taskRunId\":\"r2\",\"attemptNumber\":0,\"level\":\"DEBUG\","
    " \"timestamp\":\"2024-01-01T00:00:04Z\",\"message\":\"m4\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t2\",\"taskRunId\":\"r2\",\"attemptNumber\":0,\"level\":\"WARN\","
    " \"timestamp\":\"2024-01-01T00:00:04Z\",\"message\":\"m5\"},"
    "{\"executionId\":\"ex1\",\"taskId\":\"t2\",\"taskRunId\":\"r2\",\"attemptNumber\":0,\"level\":\"INFO\","
    " \"timestamp\":\"2024-01-01T01:00:05+01:00\",\"message\":\"m6\"},"
    "{\"executionId\":\"ex2\",\"taskId\":\"t1\",\"taskRunId\":\"x1\",\"attemptNumber\":0,\"level\":\"ERROR\","
    " \"timestamp\":\"2024-01-01T00:00:00Z\",\"message\":\"other execution\"},"
    /* not storable: skipped */
    "{\"taskId\":\"t1\",\"level\":\"ERROR\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"message\":\"no execution\"},"
    "{\"executionId\":\"ex1\",\"level\":\"ERROR\",\"message\":\"no timestamp\"},"
    "{\"executionId\":\"ex1\",\"level\":\"ERROR\",\"timestamp\":\"yesterday\",\"message\":\"bad timestamp\"}"
    "]";

/* More lines than one INSERT of pg_logs.c holds: every one stored, in the entries' order. */
static void test_logs_many(void **state)
{
    fixture *f = *state;
    json_t *entries = json_array();
    for (int i = 0; i < 150; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "l%03d", i);
        json_array_append_new(entries, json_pack("{s:s, s:s, s:s, s:s}", "executionId", "ex", "level", "INFO",
                                                 "timestamp", "2024-01-01T00:00:00Z", "message", msg));
    }
    {
        assert_int_equal(kt_store_logs_append(f->s, entries), KT_OK);
        json_t *got = NULL;
        assert_int_equal(kt_store_logs_get(f->s, "ex", NULL, &got), KT_OK);
        assert_json_same("150 lines", got, entries);
        json_decref(got);
    }
    json_decref(entries);
}

static void test_logs_follow_and_pages(void **state)
{
    fixture *f = *state;
    json_t *entries = parse(log_json);
    {
        kt_store *s = f->s;
        assert_int_equal(kt_store_logs_append(s, entries), KT_OK);
        /* follow: write order, the cursor moves to the last line given */
        int64_t after = 0;
        json_t *got = NULL;
        assert_int_equal(kt_store_logs_after(s, "ex1", "INFO", &after, &got), KT_OK);
        assert_string_equal(joined(got, "message"), "m2,m1,m3,m5,m6");
        json_decref(got);
        int64_t cursor = after;
        assert_true(after > 0);
        assert_int_equal(kt_store_logs_after(s, "ex1", NULL, &after, &got), KT_OK);
        assert_int_equal(json_array_size(got), 0);
        assert_int_equal(after, cursor); /* nothing new: the cursor stays */
        json_decref(got);
        json_t *more = parse("[{\"executionId\":\"ex1\",\"level\":\"ERROR\",\"timestamp\":\"2023-01-01T00:00:00Z\","
                             "\"message\":\"late\"},{\"executionId\":\"ex1\",\"level\":\"DEBUG\","
                             "\"timestamp\":\"2023-01-01T00:00:00Z\",\"message\":\"quiet\"}]");
        assert_int_equal(kt_store_logs_append(s, more), KT_OK);
        json_decref(more);
        assert_int_equal(kt_store_logs_after(s, "ex1", "WARN", &after, &got), KT_OK);
        assert_string_equal(joined(got, "message"), "late"); /* written later, though older */
        json_decref(got);
        assert_int_equal(kt_store_logs_after(s, "ex1", "LOUD", &after, &got), KT_EINVAL);

        /* pages of the kt_store_logs_get filter, in write order */
        kt_log_filter lf = {.task_id = "t1", .attempt = -1};
        int64_t pos = 0;
        char all[256] = "";
        for (int page = 0; page < 4; page++) {
            assert_int_equal(kt_store_logs_page(s, "ex1", &lf, &pos, 2, &got), KT_OK);
            if (page == 3)
                assert_int_equal(json_array_size(got), 0);
            if (json_array_size(got)) {
                strcat(all, all[0] ? "," : "");
                strcat(all, joined(got, "message"));
            }
            json_decref(got);
        }
        assert_string_equal(all, "m2,m1,m3");
        pos = 0;
        kt_log_filter warn = {.min_level = "WARN", .taskrun_id = "r1", .attempt = 1};
        assert_int_equal(kt_store_logs_page(s, "ex1", &warn, &pos, 0, &got), KT_OK); /* a limit of at least 1 */
        assert_string_equal(joined(got, "message"), "m3");
        json_decref(got);
        kt_log_filter bogus = {.min_level = "nope", .attempt = -1};
        assert_int_equal(kt_store_logs_page(s, "ex1", &bogus, &pos, 5, &got), KT_EINVAL);
        assert_null(got);

        /* deletion by the same filter */
        int64_t n = -1;
        kt_log_filter r2 = {.taskrun_id = "r2", .attempt = 0};
        assert_int_equal(kt_store_logs_delete(s, "ex1", &r2, &n), KT_OK);
        assert_int_equal(n, 3);
        check_logs(s, "ex1", NULL, "late,quiet,m0,m1,m2,m3");
        assert_int_equal(kt_store_logs_delete(s, "ex1", &bogus, &n), KT_EINVAL);
        assert_int_equal(kt_store_logs_delete(s, "ex1", NULL, NULL), KT_OK);
        check_logs(s, "ex1", NULL, "");
        check_logs(s, "ex2", NULL, "other execution");
    }
    json_decref(entries);
}

static void test_logs_search(void **state)
{
    fixture *f = *state;
    json_t *entries = parse(log_json);
    json_t *trig = parse("[{\"executionId\":\"ex3\",\"triggerId\":\"poll\",\"level\":\"WARN\","
                         "\"timestamp\":\"2024-01-01T00:00:03Z\",\"message\":\"from a trigger: M2 m2\"},"
                         "{\"executionId\":\"ex3\",\"triggerId\":\"other\",\"level\":\"INFO\","
                         "\"timestamp\":\"2024-01-01T00:00:03Z\",\"message\":\"tab\\there \\u00e9t\\u00e9 \\\"q\\\"\"}]");
    int64_t t1, t3;
    kt_time_parse("2024-01-01T00:00:01Z", &t1);
    kt_time_parse("2024-01-01T00:00:03Z", &t3);
    {
        kt_store *s = f->s;
        assert_int_equal(kt_store_logs_append(s, entries), KT_OK);
        assert_int_equal(kt_store_logs_append(s, trig), KT_OK);
        /* every line, by timestamp then write order (m4 and m5 share a timestamp; so do m3 and ex3's two) */
        log_search(s, (kt_log_query){.size = 20},
                   "other execution,m0,m1,m2,m3,from a trigger: M2 m2,tab\there \xc3\xa9t\xc3\xa9 \"q\",m4,m5,m6", 10);
        log_search(s, (kt_log_query){.size = 20, .sort_desc = 1},
                   "m6,m5,m4,tab\there \xc3\xa9t\xc3\xa9 \"q\",from a trigger: M2 m2,m3,m2,m1,m0,other execution", 10);
        /* q: a substring of the message, case and all; an escaped character matches as itself */
        log_search(s, (kt_log_query){.q = "m2"}, "m2,from a trigger: M2 m2", 2);
        log_search(s, (kt_log_query){.q = "M2"}, "from a trigger: M2 m2", 1);
        log_search(s, (kt_log_query){.q = "\there \xc3\xa9t"}, "tab\there \xc3\xa9t\xc3\xa9 \"q\"", 1);
        log_search(s, (kt_log_query){.q = "\"q\""}, "tab\there \xc3\xa9t\xc3\xa9 \"q\"", 1);
        log_search(s, (kt_log_query){.q = "%"}, "", 0); /* not a pattern */
        log_search(s, (kt_log_query){.trigger_id = "poll"}, "from a trigger: M2 m2", 1);
        log_search(s, (kt_log_query){.min_level = "warn"}, "other execution,m1,m3,from a trigger: M2 m2,m5", 5);
        log_search(s, (kt_log_query){.from_us = t1, .to_us = t3}, "m1,m2,m3,from a trigger: M2 m2,"
                   "tab\there \xc3\xa9t\xc3\xa9 \"q\"", 5);
        log_search(s, (kt_log_query){.from_us = t3, .min_level = "INFO", .q = "m"}, "m3,from a trigger: M2 m2,m5,m6",
                   4);
        /* paging: the total counts every match */
        log_search(s, (kt_log_query){.page = 2, .size = 3}, "m2,m3,from a trigger: M2 m2", 10);
        log_search(s, (kt_log_query){.page = 4, .size = 3}, "m6", 10);
        log_search(s, (kt_log_query){.page = 5, .size = 3}, "", 10);
        json_t *res = NULL;
        int64_t total = 0;
        assert_int_equal(kt_store_logs_search(s, &(kt_log_query){.min_level = "LOUD"}, &res, &total), KT_EINVAL);
        assert_null(res);
    }
    json_decref(trig);
    json_decref(entries);
}

/* ---- triggers (test_store_triggers.c) ----------------------------------------------------------------------------- */

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

static void put_trigger(kt_store *s, json_t *t)
{
    assert_int_equal(kt_store_trigger_put(s, t), KT_OK);
    json_decref(t);
}

/* flowId.triggerId of each row */
static const char *trigger_ids(const json_t *list)
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

static void test_triggers_round_trip(void **state)
{
    fixture *f = *state;
    {
        json_t *t = trig("company.team", "hello", "schedule", "2024-12-20T11:00:00Z", NULL, NULL);
        json_object_set_new(t, "backfill", json_pack("{s:s, s:s, s:s, s:b}", "start", "2024-12-01T00:00:00Z", "end",
                                                     "2024-12-02T00:00:00Z", "currentDate", "2024-12-01T00:00:00Z",
                                                     "paused", 0));
        json_object_set_new(t, "stopAfter", json_pack("[s]", "FAILED"));
        assert_int_equal(kt_store_trigger_put(f->s, t), KT_OK);
        json_t *got = NULL;
        assert_int_equal(kt_store_trigger_get(f->s, "company.team", "hello", "schedule", &got), KT_OK);
        assert_json_same("trigger", got, t);
        json_decref(got);
        /* the indexed columns come from the JSON */
        assert_int_equal(sql_int(f->data, "SELECT next_execution_date FROM triggers"), 1734692400000000LL);
        assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM triggers WHERE execution_id IS NULL AND worker_id IS NULL"),
                         1);
        /* an update replaces the row, its columns too; reopening keeps it */
        json_object_set_new(t, "executionId", json_string("exec1"));
        json_object_set_new(t, "workerId", json_string("w1"));
        json_object_del(t, "nextExecutionDate");
        assert_int_equal(kt_store_trigger_put(f->s, t), KT_OK);
        reopen(f);
        assert_int_equal(kt_store_trigger_get(f->s, "company.team", "hello", "schedule", &got), KT_OK);
        assert_json_same("updated trigger", got, t);
        json_decref(got);
        assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM triggers"), 1);
        assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM triggers WHERE next_execution_date IS NULL"), 1);
        assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM triggers WHERE execution_id = 'exec1' AND worker_id = 'w1'"),
                         1);
        json_decref(t);

        /* the definition's fingerprint, beside the JSON: kept by a put of the row */
        char *fp = (char *)1;
        assert_int_equal(kt_store_trigger_fingerprint(f->s, "company.team", "hello", "schedule", &fp), KT_OK);
        assert_null(fp);
        assert_int_equal(kt_store_trigger_set_fingerprint(f->s, "company.team", "hello", "schedule", "abc"), KT_OK);
        t = trig("company.team", "hello", "schedule", NULL, NULL, NULL);
        put_trigger(f->s, t);
        assert_int_equal(kt_store_trigger_fingerprint(f->s, "company.team", "hello", "schedule", &fp), KT_OK);
        assert_string_equal(fp, "abc");
        free(fp);
        assert_int_equal(kt_store_trigger_fingerprint(f->s, "company.team", "hello", "none", &fp), KT_ENOTFOUND);
        assert_null(fp);

        assert_int_equal(kt_store_trigger_get(f->s, "company.team", "hello", "other", &got), KT_ENOTFOUND);
        assert_int_equal(kt_store_trigger_delete(f->s, "company.team", "hello", "schedule"), KT_OK);
        assert_int_equal(kt_store_trigger_get(f->s, "company.team", "hello", "schedule", &got), KT_ENOTFOUND);
        assert_int_equal(kt_store_trigger_delete(f->s, "company.team", "hello", "schedule"), KT_OK); /* no-op */

        /* refused rows write nothing */
        t = json_pack("{s:s, s:s}", "namespace", "a", "flowId", "f"); /* no triggerId */
        assert_int_equal(kt_store_trigger_put(f->s, t), KT_EINVAL);
        json_object_set_new(t, "triggerId", json_string("t"));
        json_object_set_new(t, "nextExecutionDate", json_string("tomorrow"));
        assert_int_equal(kt_store_trigger_put(f->s, t), KT_EINVAL);
        json_decref(t);
        assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM triggers"), 0);
    }
}

static void seed_triggers(kt_store *s)
{
    put_trigger(s, trig("a", "f1", "t1", "2024-01-03T00:00:00Z", NULL, NULL));
    put_trigger(s, trig("a", "f1", "t2", "2024-01-01T00:00:00Z", "e2", "w1"));
    put_trigger(s, trig("a.b", "f2", "t1", "2024-01-02T00:00:00Z", NULL, "w2"));
    put_trigger(s, trig("ab", "f3", "t1", NULL, NULL, NULL));
    put_trigger(s, trig("c", "f1", "x", "2024-01-04T00:00:00+01:00", "e1", NULL));
    /* upper case sorts before lower case by bytes, whatever the database's collation */
    put_trigger(s, trig("A", "F1", "T1", "2024-01-05T00:00:00Z", "E0", NULL));
}

static void trigger_search(kt_store *s, kt_trigger_query q, const char *want, int64_t want_total)
{
    json_t *res = NULL;
    int64_t total = -1;
    kt_status st = kt_store_triggers_search(s, &q, &res, &total);
    if (st)
        fail_msg("triggers_search on %s: %d", backend_name(), st);
    if (strcmp(trigger_ids(res), want) || total != want_total)
        fail_msg("triggers_search on %s: [%s] of %lld, want [%s] of %lld", backend_name(), trigger_ids(res),
                 (long long)total, want, (long long)want_total);
    json_decref(res);
}

static void test_triggers_search(void **state)
{
    fixture *f = *state;
    {
        kt_store *s = f->s;
        seed_triggers(s);
        trigger_search(s, (kt_trigger_query){0}, "F1.T1,f1.t1,f1.t2,f2.t1,f3.t1,f1.x", 6);
        /* namespace is a prefix of whole segments: a matches a and a.b, not ab nor A; the namespaces under it
         * ignore ASCII case (SQLite's LIKE, Kestra's likeIgnoreCase), the namespace itself does not */
        trigger_search(s, (kt_trigger_query){.namespace_ = "a"}, "f1.t1,f1.t2,f2.t1", 3);
        trigger_search(s, (kt_trigger_query){.namespace_ = "A"}, "F1.T1,f2.t1", 2);
        trigger_search(s, (kt_trigger_query){.namespace_ = "a.b"}, "f2.t1", 1);
        trigger_search(s, (kt_trigger_query){.namespace_ = "A.B"}, "", 0);
        trigger_search(s, (kt_trigger_query){.namespace_ = "a_"}, "", 0); /* _ is not a pattern */
        trigger_search(s, (kt_trigger_query){.namespace_ = "%"}, "", 0);
        trigger_search(s, (kt_trigger_query){.flow_id = "f1"}, "f1.t1,f1.t2,f1.x", 3);
        trigger_search(s, (kt_trigger_query){.namespace_ = "c", .flow_id = "f1"}, "f1.x", 1);
        trigger_search(s, (kt_trigger_query){.worker_id = "w2"}, "f2.t1", 1);
        trigger_search(s, (kt_trigger_query){.q = "t2"}, "f1.t2", 1);  /* triggerId */
        trigger_search(s, (kt_trigger_query){.q = "f3"}, "f3.t1", 1);  /* flowId */
        trigger_search(s, (kt_trigger_query){.q = "a.b"}, "f2.t1", 1); /* namespace */
        trigger_search(s, (kt_trigger_query){.q = "T"}, "F1.T1", 1);   /* case counts */
        trigger_search(s, (kt_trigger_query){.q = "zzz"}, "", 0);

        /* a row without a next date sorts first ascending, last descending */
        trigger_search(s, (kt_trigger_query){.sort_column = "nextExecutionDate"},
                       "f3.t1,f1.t2,f2.t1,f1.t1,f1.x,F1.T1", 6);
        trigger_search(s, (kt_trigger_query){.sort_column = "nextExecutionDate", .sort_desc = 1},
                       "F1.T1,f1.x,f1.t1,f2.t1,f1.t2,f3.t1", 6);
        trigger_search(s, (kt_trigger_query){.sort_column = "triggerId", .sort_desc = 1},
                       "f1.x,f1.t2,f3.t1,f2.t1,f1.t1,F1.T1", 6);
        trigger_search(s, (kt_trigger_query){.sort_column = "flowId"}, "F1.T1,f1.t1,f1.t2,f1.x,f2.t1,f3.t1", 6);
        trigger_search(s, (kt_trigger_query){.sort_column = "executionId", .sort_desc = 1},
                       "f1.t2,f1.x,F1.T1,f3.t1,f2.t1,f1.t1", 6);
        trigger_search(s, (kt_trigger_query){.sort_column = "executionId"}, "f1.t1,f2.t1,f3.t1,F1.T1,f1.x,f1.t2",
                       6);
        /* an unknown field keeps the default order (never spliced into SQL) */
        trigger_search(s, (kt_trigger_query){.sort_column = "x; DROP TABLE triggers", .sort_desc = 1},
                       "F1.T1,f1.t1,f1.t2,f2.t1,f3.t1,f1.x", 6);
        /* paging: total counts every match, the page holds size of them */
        trigger_search(s, (kt_trigger_query){.sort_column = "flowId", .page = 1, .size = 2}, "F1.T1,f1.t1", 6);
        trigger_search(s, (kt_trigger_query){.sort_column = "flowId", .page = 2, .size = 2}, "f1.t2,f1.x", 6);
        trigger_search(s, (kt_trigger_query){.sort_column = "flowId", .page = 3, .size = 2}, "f2.t1,f3.t1", 6);
        trigger_search(s, (kt_trigger_query){.sort_column = "flowId", .page = 4, .size = 2}, "", 6);

        /* ASCII letters only fold: \u00e9 is not \u00c9 */
        put_trigger(s, trig("\xc3\xa9t\xc3\xa9.x", "f4", "t1", NULL, NULL, NULL));
        trigger_search(s, (kt_trigger_query){.namespace_ = "\xc3\xa9T\xc3\xa9"}, "f4.t1", 1);
        trigger_search(s, (kt_trigger_query){.namespace_ = "\xc3\x89T\xc3\x89"}, "", 0);
        assert_int_equal(kt_store_trigger_delete(s, "\xc3\xa9t\xc3\xa9.x", "f4", "t1"), KT_OK);

        json_t *all;
        assert_int_equal(kt_store_triggers_list(s, NULL, NULL, &all), KT_OK);
        assert_string_equal(trigger_ids(all), "F1.T1,f1.t1,f1.t2,f2.t1,f3.t1,f1.x");
        json_decref(all);
        assert_int_equal(kt_store_triggers_list(s, "a", NULL, &all), KT_OK);
        assert_string_equal(trigger_ids(all), "f1.t1,f1.t2");
        json_decref(all);
        assert_int_equal(kt_store_triggers_list(s, "a", "f1", &all), KT_OK);
        assert_string_equal(trigger_ids(all), "f1.t1,f1.t2");
        json_decref(all);
        assert_int_equal(kt_store_triggers_list(s, "a", "nope", &all), KT_OK);
        assert_int_equal(json_array_size(all), 0);
        json_decref(all);
    }
}

static void test_triggers_rollback(void **state)
{
    fixture *f = *state;
    {
        kt_store *s = f->s;
        put_trigger(s, trig("a", "f1", "kept", "2024-01-01T00:00:00Z", NULL, NULL));
        assert_int_equal(kt_store_begin(s), KT_OK);
        put_trigger(s, trig("a", "f1", "t1", "2024-01-01T00:00:00Z", NULL, NULL));
        assert_int_equal(kt_store_trigger_delete(s, "a", "f1", "kept"), KT_OK);
        json_t *got;
        assert_int_equal(kt_store_trigger_get(s, "a", "f1", "t1", &got), KT_OK); /* visible inside */
        json_decref(got);
        kt_store_rollback(s);
        assert_int_equal(kt_store_trigger_get(s, "a", "f1", "t1", &got), KT_ENOTFOUND);
        assert_int_equal(kt_store_trigger_get(s, "a", "f1", "kept", &got), KT_OK);
        json_decref(got);
        reopen(f);
        assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM triggers"), 1);
    }
}

/* ---- metrics (test_store_metrics.c) ------------------------------------------------------------------------------- */

static void put_metrics(kt_store *s, const char *json)
{
    json_t *e = parse(json);
    assert_int_equal(kt_store_metrics_append(s, e), KT_OK);
    json_decref(e);
}

static void seed_metrics(kt_store *s)
{
    assert_int_equal(kt_store_begin(s), KT_OK);
    put_metrics(s, "[{\"namespace\":\"n\",\"flowId\":\"f\",\"taskId\":\"a\",\"executionId\":\"e1\",\"taskRunId\":\"r1\","
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

static json_t *metric_search(kt_store *s, const char *exec, const char *task, const char *taskrun, const char *sort,
                             int desc, int page, int size, int64_t *total)
{
    kt_metric_query q = {.execution_id = exec, .task_id = task, .taskrun_id = taskrun, .sort_column = sort,
                         .sort_desc = desc, .page = page, .size = size};
    json_t *r = NULL;
    assert_int_equal(kt_store_metrics_search(s, &q, &r, total), KT_OK);
    return r;
}

static void test_metrics_search(void **state)
{
    fixture *f = *state;
    {
        kt_store *s = f->s;
        seed_metrics(s);
        assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM metrics"), 5); /* the one without a number skipped */
        int64_t total;
        json_t *r = metric_search(s, "e1", NULL, NULL, NULL, 0, 1, 10, &total);
        assert_int_equal(total, 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "name")), "count");
        assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(r, 0), "tags"), "k")),
                            "v");
        assert_true(json_real_value(json_object_get(json_array_get(r, 1), "value")) == 1500.0);
        json_decref(r);
        r = metric_search(s, "e1", "b", "r1", NULL, 0, 1, 10, &total); /* taskId wins over taskRunId */
        assert_int_equal(total, 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "taskId")), "b");
        json_decref(r);
        r = metric_search(s, "e1", NULL, "r1", NULL, 0, 1, 10, &total);
        assert_int_equal(total, 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "taskRunId")), "r1");
        json_decref(r);
        r = metric_search(s, "e2", NULL, NULL, "value", 1, 1, 1, &total);
        assert_int_equal(total, 2);
        assert_int_equal(json_array_size(r), 1);
        assert_true(json_real_value(json_object_get(json_array_get(r, 0), "value")) == 5.0);
        json_decref(r);
        r = metric_search(s, "e2", NULL, NULL, "value", 1, 2, 1, &total);
        assert_true(json_real_value(json_object_get(json_array_get(r, 0), "value")) == 1.0);
        json_decref(r);
        /* text by bytes, NULL first ascending and last descending, ties in write order */
        put_metrics(s, "[{\"namespace\":\"n\",\"flowId\":\"f\",\"executionId\":\"e1\",\"type\":\"counter\","
                       "\"name\":\"Zeta\",\"value\":0.1,\"timestamp\":\"2024-12-02T09:00:00Z\"},"
                       "{\"namespace\":\"n\",\"flowId\":\"f\",\"taskId\":\"a\",\"executionId\":\"e1\","
                       "\"type\":\"counter\",\"name\":\"count\",\"value\":0.30000000000000004,"
                       "\"timestamp\":\"2024-12-02T09:00:00Z\"}]");
        r = metric_search(s, "e1", NULL, NULL, kt_store_metric_sort_column("name"), 0, 1, 10, &total);
        assert_int_equal(total, 4);
        assert_string_equal(joined(r, "name"), "Zeta,count,count,duration");
        assert_true(json_real_value(json_object_get(json_array_get(r, 2), "value")) == 0.30000000000000004);
        json_decref(r);
        r = metric_search(s, "e1", NULL, NULL, kt_store_metric_sort_column("taskId"), 0, 1, 10, &total);
        assert_string_equal(joined(r, "taskId"), "?,a,a,b");
        assert_true(json_real_value(json_object_get(json_array_get(r, 1), "value")) == 3.0); /* seq breaks the tie */
        json_decref(r);
        r = metric_search(s, "e1", NULL, NULL, kt_store_metric_sort_column("taskId"), 1, 1, 10, &total);
        assert_string_equal(joined(r, "taskId"), "b,a,a,?");
        assert_true(json_real_value(json_object_get(json_array_get(r, 1), "value")) == 3.0);
        json_decref(r);
        r = metric_search(s, "e1", NULL, NULL, kt_store_metric_sort_column("timestamp"), 1, 2, 3, &total);
        assert_string_equal(joined(r, "name"), "count"); /* 09:00 twice: the first written comes first */
        assert_true(json_real_value(json_object_get(json_array_get(r, 0), "value")) == 0.30000000000000004);
        json_decref(r);
    }
}

static void test_metrics_distinct_aggregate_delete(void **state)
{
    fixture *f = *state;
    int64_t from, to, d2, d3;
    kt_time_parse("2024-12-01T00:00:00Z", &from);
    kt_time_parse("2024-12-04T00:00:00Z", &to);
    kt_time_parse("2024-12-02T00:00:00Z", &d2);
    kt_time_parse("2024-12-03T00:00:00Z", &d3);
    {
        kt_store *s = f->s;
        seed_metrics(s);
        json_t *v = NULL, *want;
        assert_int_equal(kt_store_metrics_distinct(s, "n", "f", NULL, 0, &v), KT_OK);
        want = parse("[\"count\",\"duration\"]");
        assert_json_same("names", v, want);
        json_decref(v);
        json_decref(want);
        assert_int_equal(kt_store_metrics_distinct(s, "n", "f", "b", 0, &v), KT_OK);
        want = parse("[\"duration\"]");
        assert_json_same("names of b", v, want);
        json_decref(v);
        json_decref(want);
        assert_int_equal(kt_store_metrics_distinct(s, "n", "f", NULL, 1, &v), KT_OK);
        want = parse("[\"a\",\"b\"]");
        assert_json_same("task ids", v, want);
        json_decref(v);
        json_decref(want);

        assert_int_equal(kt_store_metrics_aggregate(s, "n", "f", NULL, "count", from, to, "sum", KT_MB_DAY, &v), KT_OK);
        assert_int_equal(json_array_size(v), 2);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(v, 0), "start")), d2);
        assert_true(json_real_value(json_object_get(json_array_get(v, 0), "value")) == 3.0);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(v, 1), "start")), d3);
        assert_true(json_real_value(json_object_get(json_array_get(v, 1), "value")) == 6.0);
        json_decref(v);
        assert_int_equal(kt_store_metrics_aggregate(s, "n", "f", "a", "count", from, to, "max", KT_MB_DAY, &v), KT_OK);
        assert_true(json_real_value(json_object_get(json_array_get(v, 1), "value")) == 5.0);
        json_decref(v);
        assert_int_equal(kt_store_metrics_aggregate(s, "n", "f", "a", "count", from, to, "min", KT_MB_WEEK, &v), KT_OK);
        want = json_pack("[{s:I, s:f}]", "start", (json_int_t)d2, "value", 1.0); /* Monday 2 December */
        assert_json_same("weekly min", v, want);
        json_decref(want);
        json_decref(v);
        assert_int_equal(kt_store_metrics_aggregate(s, "n", "f", NULL, "count", from, to, "avg", KT_MB_MONTH, &v),
                         KT_OK);
        want = json_pack("[{s:I, s:f}]", "start", (json_int_t)from, "value", 3.0);
        assert_json_same("monthly avg", v, want);
        json_decref(want);
        json_decref(v);
        /* the bounds are inclusive */
        assert_int_equal(kt_store_metrics_aggregate(s, "n", "f", NULL, "count", d3 + 11 * 3600000000LL,
                                                    d3 + 11 * 3600000000LL, "sum", KT_MB_HOUR, &v),
                         KT_OK);
        want = json_pack("[{s:I, s:f}]", "start", (json_int_t)(d3 + 11 * 3600000000LL), "value", 5.0);
        assert_json_same("one hour", v, want);
        json_decref(want);
        json_decref(v);
        v = (json_t *)1;
        assert_int_equal(kt_store_metrics_aggregate(s, "n", "f", NULL, "count", from, to, "median", KT_MB_DAY, &v),
                         KT_EINVAL);
        assert_null(v);

        int64_t n = -1;
        assert_int_equal(kt_store_metrics_delete(s, "e2", &n), KT_OK);
        assert_int_equal(n, 2);
        assert_int_equal(sql_int(f->data, "SELECT COUNT(*) FROM metrics"), 3);
        assert_int_equal(kt_store_metrics_delete(s, "e2", NULL), KT_OK);
    }
}

/* Each bucket of the database is kt_store_metric_bucket_start's: one metric per instant, aggregated alone. SQLite's
 * expressions divide toward zero, so it is held to the rule from 1970 on; PostgreSQL's floor everywhere. */
static void test_metrics_buckets(void **state)
{
    fixture *f = *state;
    static const char *const instants[] = {
        "2024-12-05T13:47:12.5Z",      /* a Thursday */
        "2024-12-01T00:00:00Z",        /* a Sunday, first of the month */
        "2024-11-30T23:59:59.999999Z", /* the last microsecond of a month */
        "2024-02-29T12:00:00Z",        /* a leap day */
        "2024-03-01T00:00:00Z",
        "2023-01-01T00:00:00Z",        /* its ISO week began in the year before */
        "2024-12-02T00:00:00Z",        /* a Monday's first instant */
        "2024-12-08T23:59:59Z",        /* that week's last second */
        "1970-01-01T00:00:00Z",
        "2038-01-19T03:14:08Z",
        "2100-02-28T23:59:59Z",
        "1969-12-31T23:59:59.5Z",      /* before 1970 */
        "1969-12-15T10:30:00Z",
        "1900-03-01T00:00:00Z",
    };
    static const kt_metric_bucket buckets[] = {KT_MB_MINUTE, KT_MB_HOUR, KT_MB_DAY, KT_MB_WEEK, KT_MB_MONTH};
    size_t n = sizeof instants / sizeof *instants;
    int64_t us[sizeof instants / sizeof *instants];
    json_t *entries = json_array();
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(kt_time_parse(instants[i], &us[i]), 0);
        char name[16];
        snprintf(name, sizeof name, "m%zu", i);
        json_array_append_new(entries, json_pack("{s:s, s:s, s:s, s:s, s:f, s:s}", "namespace", "n", "flowId", "f",
                                                 "type", "counter", "name", name, "value", 1.0, "timestamp",
                                                 instants[i]));
    }
    {
        assert_int_equal(kt_store_metrics_append(f->s, entries), KT_OK);
        for (size_t i = 0; i < n; i++) {
            if (!fixture_on_pg() && us[i] < 0)
                continue;
            char name[16];
            snprintf(name, sizeof name, "m%zu", i);
            for (size_t k = 0; k < sizeof buckets / sizeof *buckets; k++) {
                json_t *v = NULL;
                assert_int_equal(kt_store_metrics_aggregate(f->s, "n", "f", NULL, name, us[i], us[i], "sum",
                                                            buckets[k], &v),
                                 KT_OK);
                int64_t got = json_integer_value(json_object_get(json_array_get(v, 0), "start"));
                int64_t want = kt_store_metric_bucket_start(us[i], buckets[k]);
                if (json_array_size(v) != 1 || got != want)
                    fail_msg("%s: bucket %d of %s starts at %lld, want %lld", backend_name(), (int)buckets[k], instants[i],
                             (long long)got, (long long)want);
                json_decref(v);
            }
        }
    }
    json_decref(entries);
    /* the rule itself, at a few points */
    int64_t t, want;
    kt_time_parse("2023-01-01T10:00:00Z", &t);
    kt_time_parse("2022-12-26T00:00:00Z", &want);
    assert_int_equal(kt_store_metric_bucket_start(t, KT_MB_WEEK), want);
    kt_time_parse("1969-12-31T23:59:59.5Z", &t);
    kt_time_parse("1969-12-01T00:00:00Z", &want);
    assert_int_equal(kt_store_metric_bucket_start(t, KT_MB_MONTH), want);
    kt_time_parse("1969-12-29T00:00:00Z", &want);
    assert_int_equal(kt_store_metric_bucket_start(t, KT_MB_WEEK), want);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    int rc = fixture_backend(); /* 77: PostgreSQL asked for, none there */
    if (rc)
        return rc;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_logs_many),
        T(test_logs_follow_and_pages),
        T(test_logs_search),
        T(test_triggers_round_trip),
        T(test_triggers_search),
        T(test_triggers_rollback),
        T(test_metrics_search),
        T(test_metrics_distinct_aggregate_delete),
        T(test_metrics_buckets),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
