/* The triggers API (/api/v1/triggers, KESTRA-system.md §1.5) against a real server on 127.0.0.1.
 *
 * The rows are the scheduler's: it creates them when a flow is saved. These tests run the server WITHOUT the
 * scheduler (--actors executor,worker,webserver) and stand in for it by writing the rows straight into the server's
 * SQLite file (the store is the truth, and WAL lets a second process write), so every answer checked here is a
 * function of rows the test chose. What needs the scheduler itself (rows appearing when a flow is saved) is in
 * test_rows_created_by_scheduler, on a server with every actor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

typedef kt_it_fixture fixture;

static const char *FLOW_SCHED = "id: sched\nnamespace: it.triggers\n"
                                "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
                                "triggers:\n"
                                "  - id: daily\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                                "    cron: \"0 0 * * *\"\n    recoverMissedSchedules: NONE\n"
                                "  - id: hourly\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                                "    cron: \"0 * * * *\"\n    recoverMissedSchedules: ALL\n";
static const char *FLOW_CHILD = "id: other\nnamespace: it.triggers.child\n"
                                "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
                                "triggers:\n"
                                "  - id: weekly\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                                "    cron: \"0 0 * * 1\"\n";
static const char *FLOW_NO_TRIGGERS = "id: plain\nnamespace: it.triggers\n"
                                      "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n";

/* Writes a row as the scheduler would (store/sqlite.c migration 3). */
static void seed(const fixture *f, const char *json)
{
    char path[512];
    snprintf(path, sizeof path, "%s/data/kite.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st;
    const char *sql = "INSERT OR REPLACE INTO triggers(namespace, flow_id, trigger_id, next_execution_date, "
                      "execution_id, worker_id, body) VALUES(json_extract(?1, '$.namespace'), "
                      "json_extract(?1, '$.flowId'), json_extract(?1, '$.triggerId'), "
                      "strftime('%s', json_extract(?1, '$.nextExecutionDate')) * 1000000, "
                      "json_extract(?1, '$.executionId'), json_extract(?1, '$.workerId'), json(?1))";
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Server without the scheduler, three flows, four rows:
 *   it.triggers/sched/daily   locked by an execution, next 2024-01-02
 *   it.triggers/sched/hourly  a backfill in progress, worker w1
 *   it.triggers.child/other/weekly
 *   it.triggers/gone/t        its flow does not exist (search leaves it out) */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    *state = f;
    kt_it_fixture_init(f, 0);
    const char *extra[] = {"--actors", "executor,worker,webserver", NULL};
    f->server = kt_it_start_server(f->dir, "server", f->port, extra);
    kt_it_create_flow(f->port, FLOW_SCHED, NULL);
    kt_it_create_flow(f->port, FLOW_CHILD, NULL);
    kt_it_create_flow(f->port, FLOW_NO_TRIGGERS, NULL);
    seed(f, "{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"daily\",\"date\":\"2024-01-01T00:00:00Z\","
            "\"nextExecutionDate\":\"2024-01-02T00:00:00Z\",\"disabled\":false,\"executionId\":\"exec1\","
            "\"updatedDate\":\"2024-01-01T00:00:01Z\"}");
    seed(f, "{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"hourly\",\"date\":\"2024-01-01T05:00:00Z\","
            "\"nextExecutionDate\":\"2024-01-01T06:00:00Z\",\"disabled\":false,\"workerId\":\"w1\","
            "\"backfill\":{\"start\":\"2023-12-01T00:00:00Z\",\"end\":\"2023-12-02T00:00:00Z\","
            "\"currentDate\":\"2023-12-01T10:00:00Z\",\"paused\":false,"
            "\"previousNextExecutionDate\":\"2024-01-01T03:00:00Z\"}}");
    seed(f, "{\"namespace\":\"it.triggers.child\",\"flowId\":\"other\",\"triggerId\":\"weekly\","
            "\"date\":\"2024-01-01T00:00:00Z\",\"nextExecutionDate\":\"2024-01-08T00:00:00Z\",\"disabled\":false}");
    seed(f, "{\"namespace\":\"it.triggers\",\"flowId\":\"gone\",\"triggerId\":\"t\",\"date\":\"2024-01-01T00:00:00Z\","
            "\"nextExecutionDate\":\"2024-01-05T00:00:00Z\",\"disabled\":false}");
    return 0;
}

static int teardown(void **state) { return kt_it_teardown(state); }

static const char *str(const json_t *j, const char *name) { return json_string_value(json_object_get(j, name)); }

/* GET path, 200 expected; the body. */
static json_t *get(const fixture *f, const char *path)
{
    json_t *res = NULL;
    long status = kt_it_http_json("GET", f->port, path, NULL, NULL, &res);
    if (status != 200)
        fail_msg("GET %s: %ld", path, status);
    return res;
}

/* A request with a JSON body; the status, the answer in *out (may be NULL). */
static long send_json(const fixture *f, const char *method, const char *path, const char *body, json_t **out)
{
    json_t *res = NULL;
    long status = kt_it_http_json(method, f->port, path, "application/json", body, &res);
    if (out)
        *out = res;
    else
        json_decref(res);
    return status;
}

static void expect_error(const fixture *f, const char *method, const char *path, const char *body, long want_status,
                         const char *want_message)
{
    json_t *res;
    long status = send_json(f, method, path, body, &res);
    if (status != want_status || !res || strcmp(str(res, "message") ? str(res, "message") : "", want_message))
        fail_msg("%s %s: %ld %s, want %ld %s", method, path, status, res ? str(res, "message") : "(no JSON)",
                 want_status, want_message);
    json_decref(res);
}

/* The stored row, through the flow endpoint. */
static json_t *row(const fixture *f, const char *ns, const char *flow, const char *trigger)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/triggers/%s/%s?size=100", ns, flow);
    json_t *res = get(f, path), *t, *found = NULL;
    size_t i;
    json_array_foreach(json_object_get(res, "results"), i, t) if (!strcmp(str(t, "triggerId"), trigger)) found =
        json_incref(t);
    json_decref(res);
    if (!found)
        fail_msg("no row %s.%s.%s", ns, flow, trigger);
    return found;
}

/* "flowId.triggerId" of each search result, comma separated. */
static void search_ids(const json_t *res, char *out, size_t cap)
{
    size_t i, n = 0;
    json_t *item;
    out[0] = 0;
    json_array_foreach(json_object_get(res, "results"), i, item) {
        json_t *ctx = json_object_get(item, "triggerContext");
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s.%s", i ? "," : "", str(ctx, "flowId"),
                              str(ctx, "triggerId"));
    }
}

static void test_search(void **state)
{
    fixture *f = *state;
    char ids[512];
    json_t *res = get(f, "/api/v1/triggers/search?namespace=it.triggers");
    /* the gone flow's row is counted but not listed (Kestra skips it after the query) */
    assert_int_equal(json_integer_value(json_object_get(res, "total")), 4);
    search_ids(res, ids, sizeof ids);
    assert_string_equal(ids, "sched.daily,sched.hourly,other.weekly");
    json_t *first = json_array_get(json_object_get(res, "results"), 0);
    json_t *def = json_object_get(first, "abstractTrigger");
    assert_string_equal(str(def, "id"), "daily");
    assert_string_equal(str(def, "type"), "io.kestra.plugin.core.trigger.Schedule");
    assert_string_equal(str(def, "cron"), "0 0 * * *");
    json_t *ctx = json_object_get(first, "triggerContext");
    assert_string_equal(str(ctx, "nextExecutionDate"), "2024-01-02T00:00:00Z");
    assert_string_equal(str(ctx, "executionId"), "exec1");
    assert_true(json_is_false(json_object_get(ctx, "disabled")));
    json_decref(res);

    res = get(f, "/api/v1/triggers/search?namespace=it.triggers&sort=nextExecutionDate:desc&size=2&page=1");
    search_ids(res, ids, sizeof ids);
    assert_string_equal(ids, "other.weekly"); /* page 1 is weekly and gone.t; gone is left out */
    assert_int_equal(json_integer_value(json_object_get(res, "total")), 4);
    json_decref(res);
    res = get(f, "/api/v1/triggers/search?namespace=it.triggers&sort=nextExecutionDate:desc&size=2&page=2");
    search_ids(res, ids, sizeof ids);
    assert_string_equal(ids, "sched.daily,sched.hourly");
    json_decref(res);

    res = get(f, "/api/v1/triggers/search?workerId=w1");
    search_ids(res, ids, sizeof ids);
    assert_string_equal(ids, "sched.hourly");
    json_decref(res);
    res = get(f, "/api/v1/triggers/search?q=week");
    search_ids(res, ids, sizeof ids);
    assert_string_equal(ids, "other.weekly");
    json_decref(res);
    res = get(f, "/api/v1/triggers/search?flowId=sched&sort=triggerId:desc");
    search_ids(res, ids, sizeof ids);
    assert_string_equal(ids, "sched.hourly,sched.daily");
    json_decref(res);
    res = get(f, "/api/v1/triggers/search?namespace=nothing");
    assert_int_equal(json_integer_value(json_object_get(res, "total")), 0);
    assert_int_equal(json_array_size(json_object_get(res, "results")), 0);
    json_decref(res);

    expect_error(f, "GET", "/api/v1/triggers/search?sort=nextExecutionDate", NULL, 422, "Invalid sort parameter");
    expect_error(f, "GET", "/api/v1/triggers/search?page=0", NULL, 422,
                 "Illegal argument: page and size must be at least 1");
}

static void test_flow_rows(void **state)
{
    fixture *f = *state;
    json_t *res = get(f, "/api/v1/triggers/it.triggers/sched");
    assert_int_equal(json_integer_value(json_object_get(res, "total")), 2);
    json_t *list = json_object_get(res, "results");
    assert_int_equal(json_array_size(list), 2);
    /* PagedResults<Trigger>: the rows themselves */
    assert_string_equal(str(json_array_get(list, 0), "triggerId"), "daily");
    assert_string_equal(str(json_object_get(json_array_get(list, 1), "backfill"), "currentDate"),
                        "2023-12-01T10:00:00Z");
    json_decref(res);
    res = get(f, "/api/v1/triggers/it.triggers/sched?q=hour");
    assert_int_equal(json_integer_value(json_object_get(res, "total")), 1);
    json_decref(res);
    res = get(f, "/api/v1/triggers/it.triggers/nope");
    assert_int_equal(json_integer_value(json_object_get(res, "total")), 0);
    json_decref(res);
}

static void test_unlock_and_restart(void **state)
{
    fixture *f = *state;
    json_t *res;
    assert_int_equal(send_json(f, "POST", "/api/v1/triggers/it.triggers/sched/daily/unlock", NULL, &res), 200);
    assert_null(json_object_get(res, "executionId"));
    assert_null(json_object_get(res, "updatedDate"));
    assert_string_equal(str(res, "nextExecutionDate"), "2024-01-02T00:00:00Z");
    json_decref(res);
    res = row(f, "it.triggers", "sched", "daily"); /* written */
    assert_null(json_object_get(res, "executionId"));
    json_decref(res);
    expect_error(f, "POST", "/api/v1/triggers/it.triggers/sched/daily/unlock", NULL, 409,
                 "Illegal state: Trigger is not locked");
    expect_error(f, "POST", "/api/v1/triggers/it.triggers/sched/nope/unlock", NULL, 404, "Not Found");

    assert_int_equal(send_json(f, "POST", "/api/v1/triggers/it.triggers/sched/hourly/restart", NULL, &res), 200);
    assert_null(json_object_get(res, "date"));
    assert_null(json_object_get(res, "workerId"));
    assert_non_null(json_object_get(res, "backfill"));
    json_decref(res);
    res = row(f, "it.triggers", "sched", "hourly");
    assert_null(json_object_get(res, "date"));
    json_decref(res);
    expect_error(f, "POST", "/api/v1/triggers/it.triggers/sched/nope/restart", NULL, 404, "Not Found");
}

static void test_unlock_bulk(void **state)
{
    fixture *f = *state;
    json_t *res;
    /* locked, not locked (skipped), no row (counted, as Kestra's loop counts a 404 it does not throw) */
    assert_int_equal(send_json(f, "POST", "/api/v1/triggers/unlock/by-triggers",
                               "[{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"daily\"},"
                               "{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"hourly\"},"
                               "{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"nope\"}]",
                               &res),
                     200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 2);
    json_decref(res);
    /* the hourly row is locked by its worker (evaluateRunningDate), daily is already unlocked */
    seed(f, "{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"hourly\",\"date\":\"2024-01-01T05:00:00Z\","
            "\"disabled\":false,\"evaluateRunningDate\":\"2024-01-01T05:00:00Z\",\"workerId\":\"w1\"}");
    assert_int_equal(send_json(f, "POST", "/api/v1/triggers/unlock/by-query?namespace=it.triggers", NULL, &res), 200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 1);
    json_decref(res);
    res = row(f, "it.triggers", "sched", "hourly");
    assert_null(json_object_get(res, "evaluateRunningDate"));
    assert_null(json_object_get(res, "workerId"));
    json_decref(res);
    expect_error(f, "POST", "/api/v1/triggers/unlock/by-triggers", "{\"not\": \"a list\"}", 422,
                 "Invalid json mapping: expected a list of triggers");
}

static void test_disable_enable(void **state)
{
    fixture *f = *state;
    json_t *res;
    assert_int_equal(send_json(f, "PUT", "/api/v1/triggers",
                               "{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"daily\","
                               "\"disabled\":true}",
                               &res),
                     200);
    assert_true(json_is_true(json_object_get(res, "disabled")));
    assert_null(json_object_get(res, "nextExecutionDate")); /* Kestra clears it */
    assert_string_equal(str(res, "executionId"), "exec1");   /* the rest of the row is kept */
    json_decref(res);
    res = row(f, "it.triggers", "sched", "daily");
    assert_true(json_is_true(json_object_get(res, "disabled")));
    json_decref(res);
    /* enabling again: recoverMissedSchedules NONE puts the next date after now, at a midnight */
    time_t before = time(NULL);
    assert_int_equal(send_json(f, "PUT", "/api/v1/triggers",
                               "{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"daily\","
                               "\"disabled\":false}",
                               &res),
                     200);
    assert_true(json_is_false(json_object_get(res, "disabled")));
    const char *next = str(res, "nextExecutionDate");
    assert_non_null(next);
    struct tm tm = {0};
    assert_non_null(strptime(next, "%Y-%m-%dT%H:%M:%SZ", &tm));
    time_t t = timegm(&tm);
    assert_true(t > before && t <= before + 86400);
    assert_int_equal(t % 86400, 0);
    json_decref(res);
    /* ALL keeps every missed date: the first occurrence after the last evaluation */
    assert_int_equal(send_json(f, "POST", "/api/v1/triggers/set-disabled/by-triggers",
                               "{\"triggers\":[{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":"
                               "\"hourly\"}],\"disabled\":true}",
                               &res),
                     200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 1);
    json_decref(res);
    assert_int_equal(send_json(f, "PUT", "/api/v1/triggers",
                               "{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"hourly\"}", &res),
                     200); /* disabled absent = false */
    /* the row has a backfill in progress: the next date follows its current date (2023-12-01T10:00) */
    assert_string_equal(str(res, "nextExecutionDate"), "2023-12-01T11:00:00Z");
    json_decref(res);

    expect_error(f, "PUT", "/api/v1/triggers",
                 "{\"namespace\":\"it.triggers\",\"flowId\":\"nope\",\"triggerId\":\"daily\",\"disabled\":true}", 404,
                 "Not Found: Flow of trigger daily not found");
    expect_error(f, "PUT", "/api/v1/triggers",
                 "{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"nope\",\"disabled\":true}", 404,
                 "Not Found: Flow sched has no trigger nope");
    expect_error(f, "PUT", "/api/v1/triggers", "{\"namespace\":\"it.triggers\",\"flowId\":\"sched\"}", 422,
                 "Invalid entity: trigger.triggerId: must not be null");
    assert_int_equal(send_json(f, "PUT", "/api/v1/triggers", "{oops", &res), 422);
    assert_int_equal(strncmp(str(res, "message"), "Invalid json: ", 14), 0);
    json_decref(res);

    /* by query: every matching row is counted, the gone flow's too (it is skipped, not refused) */
    assert_int_equal(send_json(f, "POST", "/api/v1/triggers/set-disabled/by-query?namespace=it.triggers", NULL, &res),
                     200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 4);
    json_decref(res);
    res = row(f, "it.triggers.child", "other", "weekly");
    assert_true(json_is_true(json_object_get(res, "disabled")));
    json_decref(res);
    assert_int_equal(send_json(f, "POST", "/api/v1/triggers/set-disabled/by-query?q=weekly&disabled=false", NULL, &res),
                     200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 1);
    json_decref(res);
    res = row(f, "it.triggers.child", "other", "weekly");
    assert_true(json_is_false(json_object_get(res, "disabled")));
    assert_non_null(json_object_get(res, "nextExecutionDate"));
    json_decref(res);
    expect_error(f, "POST", "/api/v1/triggers/set-disabled/by-triggers", "{\"triggers\":[],\"disabled\":true}", 422,
                 "Invalid entity: setDisabledRequest.triggers: must not be empty");
}

static void test_backfill(void **state)
{
    fixture *f = *state;
    json_t *res;
    const char *key = "\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"daily\"";
    char body[512];
    snprintf(body, sizeof body,
             "{%s,\"backfill\":{\"start\":\"2023-06-01T00:00:00Z\",\"end\":\"2023-06-03T00:00:00Z\","
             "\"labels\":[{\"key\":\"k\",\"value\":\"v\"}]}}",
             key);
    assert_int_equal(send_json(f, "PUT", "/api/v1/triggers", body, &res), 200);
    json_t *bf = json_object_get(res, "backfill");
    assert_string_equal(str(bf, "start"), "2023-06-01T00:00:00Z");
    assert_string_equal(str(bf, "end"), "2023-06-03T00:00:00Z");
    assert_string_equal(str(bf, "currentDate"), "2023-06-01T00:00:00Z");
    assert_string_equal(str(bf, "previousNextExecutionDate"), "2024-01-02T00:00:00Z");
    assert_true(json_is_false(json_object_get(bf, "paused")));
    assert_string_equal(str(json_array_get(json_object_get(bf, "labels"), 0), "value"), "v");
    json_decref(res);

    snprintf(body, sizeof body, "{%s}", key);
    assert_int_equal(send_json(f, "PUT", "/api/v1/triggers/backfill/pause", body, &res), 200);
    assert_true(json_is_true(json_object_get(json_object_get(res, "backfill"), "paused")));
    json_decref(res);
    assert_int_equal(send_json(f, "PUT", "/api/v1/triggers/backfill/unpause", body, &res), 200);
    assert_true(json_is_false(json_object_get(json_object_get(res, "backfill"), "paused")));
    json_decref(res);
    assert_int_equal(send_json(f, "POST", "/api/v1/triggers/backfill/delete", body, &res), 200);
    assert_null(json_object_get(res, "backfill"));
    assert_string_equal(str(res, "nextExecutionDate"), "2024-01-02T00:00:00Z"); /* restored */
    json_decref(res);
    res = row(f, "it.triggers", "sched", "daily");
    assert_null(json_object_get(res, "backfill"));
    json_decref(res);
    expect_error(f, "POST", "/api/v1/triggers/backfill/delete", body, 400, "Bad Request: No backfill found");
    expect_error(f, "PUT", "/api/v1/triggers/backfill/pause", body, 400, "Bad Request: No backfill found");
    expect_error(f, "PUT", "/api/v1/triggers/backfill/pause",
                 "{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"nope\"}", 404, "Not Found");
    snprintf(body, sizeof body, "{%s,\"backfill\":{\"end\":\"2023-06-03T00:00:00Z\"}}", key);
    expect_error(f, "PUT", "/api/v1/triggers", body, 400, "Bad Request: backfill.start: must not be null");

    /* bulk: hourly has a backfill, daily none any more (skipped), weekly none */
    assert_int_equal(send_json(f, "POST", "/api/v1/triggers/backfill/pause/by-query?namespace=it.triggers", NULL, &res),
                     200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 1);
    json_decref(res);
    res = row(f, "it.triggers", "sched", "hourly");
    assert_true(json_is_true(json_object_get(json_object_get(res, "backfill"), "paused")));
    json_decref(res);
    assert_int_equal(send_json(f, "POST", "/api/v1/triggers/backfill/unpause/by-triggers",
                               "[{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"hourly\"},"
                               "{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"daily\"}]",
                               &res),
                     200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 1);
    json_decref(res);
    assert_int_equal(send_json(f, "POST", "/api/v1/triggers/backfill/delete/by-triggers",
                               "[{\"namespace\":\"it.triggers\",\"flowId\":\"sched\",\"triggerId\":\"hourly\"}]", &res),
                     200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 1);
    json_decref(res);
    res = row(f, "it.triggers", "sched", "hourly");
    assert_null(json_object_get(res, "backfill"));
    assert_string_equal(str(res, "nextExecutionDate"), "2024-01-01T03:00:00Z");
    json_decref(res);
    assert_int_equal(send_json(f, "POST", "/api/v1/triggers/backfill/delete/by-query?q=sched", NULL, &res), 200);
    assert_int_equal(json_integer_value(json_object_get(res, "count")), 0);
    json_decref(res);
}

/* With the scheduler hosted (the default actors), saving a flow creates its rows: the next date of a daily Schedule
 * is the next midnight. */
static void test_rows_created_by_scheduler(void **state)
{
    fixture *f = *state;
    kt_it_create_flow(f->port, FLOW_SCHED, NULL);
    json_t *res = NULL;
    for (int i = 0; i < 100; i++) {
        json_decref(res);
        res = get(f, "/api/v1/triggers/it.triggers/sched");
        if (json_integer_value(json_object_get(res, "total")) == 2)
            break;
        kt_it_sleep_ms(50);
    }
    assert_int_equal(json_integer_value(json_object_get(res, "total")), 2);
    json_t *daily = json_array_get(json_object_get(res, "results"), 0);
    assert_string_equal(str(daily, "triggerId"), "daily");
    struct tm tm = {0};
    assert_non_null(strptime(str(daily, "nextExecutionDate"), "%Y-%m-%dT%H:%M:%SZ", &tm));
    time_t t = timegm(&tm);
    assert_int_equal(t % 86400, 0);
    assert_true(t > time(NULL) - 5);
    json_decref(res);
    res = get(f, "/api/v1/triggers/search?namespace=it.triggers");
    assert_int_equal(json_integer_value(json_object_get(res, "total")), 2);
    json_decref(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flow_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlock_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlock_bulk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disable_enable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backfill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_created_by_scheduler, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
