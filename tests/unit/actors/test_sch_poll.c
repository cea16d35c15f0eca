/* The scheduler's side of polling triggers (actors/scheduler/poll.c) on one node with a real store (SQLite, or
 * PostgreSQL: tests/pg/pg_schema.h) and stand-ins for the worker and the executor: an evaluation sent at once and no
 * other while it is in flight; a yes starting an execution with the worker's output as its trigger variables,
 * committed with the row it locks (no poll while it runs); a failed evaluation starting nothing and the next poll one
 * interval later; an evaluation nobody answers given up after the scheduler's limit, the trigger polling on, and the
 * late answer dropped. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/names.h"
#include "actors/scheduler/scheduler.h"
#include "base/clock.h"
#include "tests/pg/pg_schema.h"
#include "tests/unit/json_parse.h"

static const char *FLOW = "id: f\nnamespace: a.b\nlabels:\n  team: t\n"
                          "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
                          "triggers:\n"
                          "  - id: http\n    type: io.kestra.plugin.core.http.Trigger\n"
                          "    uri: http://127.0.0.1:1/x\n    interval: PT1S\n";

typedef enum mode { SILENT, YES, FAIL } mode;

typedef struct world {
    uv_loop_t loop;
    kt_node *node;
    kt_store *store;
    char root[64];
    char where[1280]; /* the store: root (SQLite) or a schema's URL (PostgreSQL, tests/pg/pg_schema.h) */
    char schema[64];
    mode mode;
    int requests;
    uint64_t corrs[16];
    json_t *last_request;
    int creates;
    json_t *execution;   /* the last ExecutionCreate's execution */
    uv_timer_t late;     /* SILENT: answers the first request after it was given up */
    int late_sent;
} world;

static void reply(world *w, uint64_t corr, kt_status st, const char *msg, json_t *data)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_REPLY, KT_SCHEDULER_ACTOR, "worker@solo", corr);
    kt_msg_reply r = {.status = (uint32_t)st, .message = (char *)msg, .data = data};
    kt_msg_encode_reply(&o, &r);
    assert_int_equal(kt_node_send(w->node, KT_SCHEDULER_ACTOR, &o), KT_OK);
}

static json_t *yes(void)
{
    return parse("{\"execute\": true, \"variables\": {\"uri\": \"http://127.0.0.1:1/x\", \"code\": 200, "
                 "\"headers\": {\"X\": [\"1\"]}, \"body\": \"{\\\"price\\\": 99}\"}}");
}

static void on_late(uv_timer_t *t)
{
    world *w = t->data;
    json_t *d = yes();
    reply(w, w->corrs[0], KT_OK, NULL, d);
    json_decref(d);
    w->late_sent = 1;
}

static void worker_receive(kt_actor *a, const kt_msg *m)
{
    world *w = kt_actor_state(a);
    if (m->type != KT_MSG_TRIGGER_EVALUATE)
        return;
    if (w->requests < 16)
        w->corrs[w->requests] = m->corr;
    w->requests++;
    json_decref(w->last_request);
    assert_int_equal(kt_msg_decode_object(m->body, &w->last_request), KT_OK);
    if (w->mode == YES) {
        json_t *d = yes();
        reply(w, m->corr, KT_OK, NULL, d);
        json_decref(d);
    } else if (w->mode == FAIL) {
        reply(w, m->corr, KT_EIO, "Connect Timeout", NULL);
    }
}

static void executor_receive(kt_actor *a, const kt_msg *m)
{
    world *w = kt_actor_state(a);
    if (m->type != KT_MSG_EXECUTION_CREATE)
        return;
    kt_msg_execution_create c;
    assert_int_equal(kt_msg_decode_execution_create(m->body, &c), KT_OK);
    w->creates++;
    json_decref(w->execution);
    w->execution = json_incref(c.execution);
    kt_msg_execution_create_clear(&c);
}

static const kt_actor_ops worker_ops = {.receive = worker_receive};
static const kt_actor_ops executor_ops = {.receive = executor_receive};

static int rm_entry(const char *p, const struct stat *sb, int f, struct FTW *ftw)
{
    (void)sb, (void)f, (void)ftw;
    return remove(p);
}

static void on_stop(uv_timer_t *t) { uv_stop(t->loop); }

/* Runs a scheduler for ms with the worker stand-in in mode m; lost_after_us: the scheduler's limit. */
static void run(world *w, mode m, int ms, int64_t lost_after_us)
{
    memset(w, 0, sizeof *w);
    w->mode = m;
    snprintf(w->root, sizeof w->root, "/tmp/kite-schpoll-XXXXXX");
    assert_non_null(mkdtemp(w->root));
    char err[512];
    assert_int_equal(kt_test_store_where(w->root, w->where, sizeof w->where, w->schema, sizeof w->schema), 0);
    assert_int_equal(kt_store_open(w->where, NULL, &w->store, err, sizeof err), KT_OK);
    int rev, changed;
    assert_int_equal(kt_store_flow_save(w->store, "a.b", "f", FLOW, &rev, &changed), KT_OK);
    uv_loop_init(&w->loop);
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&w->loop, &cfg, &w->node), KT_OK);
    assert_int_equal(kt_node_spawn(w->node, KT_WORKER_ACTOR, &worker_ops, w, NULL), KT_OK);
    assert_int_equal(kt_node_spawn(w->node, KT_EXECUTOR_ACTOR, &executor_ops, w, NULL), KT_OK);
    uv_timer_init(&w->loop, &w->late);
    w->late.data = w;
    if (m == SILENT)
        uv_timer_start(&w->late, on_late, (uint64_t)(lost_after_us / 1000) + 200, 0);
    kt_scheduler *s;
    kt_scheduler_options o = {.recover = KT_SCHED_RECOVER_ALL, .poll_lost_after_us = lost_after_us};
    assert_int_equal(kt_scheduler_start(w->node, w->store, &o, &s), KT_OK);
    uv_timer_t t;
    uv_timer_init(&w->loop, &t);
    uv_timer_start(&t, on_stop, (uint64_t)ms, 0);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_close((uv_handle_t *)&w->late, NULL);
    kt_node_stop(w->node);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    kt_node_free(w->node);
}

static json_t *row_of(world *w)
{
    json_t *row = NULL;
    assert_int_equal(kt_store_trigger_get(w->store, "a.b", "f", "http", &row), KT_OK);
    return row;
}

static void done(world *w)
{
    json_decref(w->last_request);
    json_decref(w->execution);
    kt_store_close(w->store);
    kt_test_store_drop(w->schema);
    nftw(w->root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void test_yes_starts_an_execution_and_locks(void **state)
{
    (void)state;
    world w;
    run(&w, YES, 1600, 0);
    assert_int_equal(w.requests, 1); /* locked by its execution, which never ends here: no second poll */
    assert_string_equal(json_string_value(json_object_get(w.last_request, "triggerId")), "http");
    assert_string_equal(json_string_value(json_object_get(json_object_get(w.last_request, "trigger"), "uri")),
                        "http://127.0.0.1:1/x");
    assert_int_equal(json_integer_value(json_object_get(w.last_request, "revision")), 1);
    assert_int_equal(w.creates, 1);
    json_t *trig = json_object_get(w.execution, "trigger");
    assert_string_equal(json_string_value(json_object_get(trig, "id")), "http");
    assert_string_equal(json_string_value(json_object_get(trig, "type")), "io.kestra.plugin.core.http.Trigger");
    json_t *vars = json_object_get(trig, "variables");
    assert_int_equal(json_integer_value(json_object_get(vars, "code")), 200);
    assert_string_equal(json_string_value(json_object_get(vars, "body")), "{\"price\": 99}");
    char *labels = json_dumps(json_object_get(w.execution, "labels"), JSON_COMPACT);
    assert_string_equal(labels, "[{\"key\":\"team\",\"value\":\"t\"}]");
    free(labels);
    json_t *row = row_of(&w);
    const char *id = json_string_value(json_object_get(w.execution, "id"));
    assert_string_equal(json_string_value(json_object_get(row, "executionId")), id);
    assert_null(json_object_get(row, "evaluateRunningDate"));
    json_t *stored = NULL;
    assert_int_equal(kt_store_execution_get(w.store, id, &stored), KT_OK); /* committed before it was handed over */
    json_decref(stored);
    json_decref(row);
    done(&w);
}

static void test_failure_polls_on(void **state)
{
    (void)state;
    world w;
    run(&w, FAIL, 2500, 0);
    /* at once, then one interval after each failed answer (about 0, 1 and 2 s; a slow machine may see one less) */
    assert_true(w.requests >= 2 && w.requests <= 3);
    assert_int_equal(w.creates, 0);
    json_t *row = row_of(&w);
    assert_null(json_object_get(row, "executionId"));
    json_decref(row);
    done(&w);
}

static void test_unanswered_is_given_up(void **state)
{
    (void)state;
    world w;
    /* at 0 sent; nobody answers; lost at 0.4 s, next poll at 1.4 s; the answer to the first arriving at 0.6 s is
     * dropped (no execution) */
    int64_t t0 = kt_now_us();
    run(&w, SILENT, 1000, 400000);
    assert_int_equal(w.requests, 1); /* none while in flight, and none before the interval after the loss */
    json_t *row = row_of(&w);
    int64_t next = 0;
    assert_int_equal(kt_time_parse(json_string_value(json_object_get(row, "nextExecutionDate")), &next), 0);
    assert_true(next >= t0 + 1400000 - 20000);
    assert_null(json_object_get(row, "evaluateRunningDate"));
    json_decref(row);
    assert_true(w.late_sent);
    assert_int_equal(w.creates, 0);
    done(&w);
    t0 = kt_now_us();
    run(&w, SILENT, 2200, 400000); /* the second poll at about 1.4 s, lost at 1.8 s, the third not before 2.8 s */
    assert_int_equal(w.requests, 2);
    assert_true(w.corrs[1] != w.corrs[0]);
    assert_int_equal(w.creates, 0);
    row = row_of(&w);
    assert_int_equal(kt_time_parse(json_string_value(json_object_get(row, "nextExecutionDate")), &next), 0);
    assert_true(next >= t0 + 2800000 - 20000);
    json_decref(row);
    done(&w);
}

int main(void)
{
    int backend = kt_test_store_check(); /* 77: PostgreSQL asked for, none there */
    if (backend)
        return backend;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yes_starts_an_execution_and_locks),
        cmocka_unit_test(test_failure_polls_on),
        cmocka_unit_test(test_unanswered_is_given_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
