/* Disabling and enabling stored trigger rows (actors/scheduler/toggle.c) on a real store (SQLite, or a PostgreSQL
 * schema with KITE_TEST_STORE=pg): the API's form (nextExecutionDate cleared on disable, recomputed with
 * recoverMissedSchedules on enable), the Toggle task's form (only the flag, unless the row has no next date) and their
 * errors; then the Toggle task end to end on one node: worker -> KT_MSG_TRIGGER_TOGGLE -> a scheduler stand-in
 * calling kt_trigger_toggle_on_request -> Reply -> the attempt's result. */
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

#include "actors/executor/executor.h"
#include "actors/scheduler/toggle.h"
#include "actors/worker/task.h"
#include "actors/worker/worker.h"
#include "base/clock.h"
#include "base/log.h"
#include "tests/pg/pg_schema.h"
#include "tests/unit/json_parse.h"

static const char *FLOW = "id: f\nnamespace: a.b\n"
                          "tasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
                          "triggers:\n"
                          "  - id: daily\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                          "    cron: \"0 0 * * *\"\n    recoverMissedSchedules: LAST\n";

typedef struct fixture {
    char root[64];
    char where[1280]; /* the store: root (SQLite) or a schema's URL (PostgreSQL, tests/pg/pg_schema.h) */
    char schema[64];
    kt_store *s;
    kt_trigger_env env;
} fixture;

static int rm_entry(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb, (void)f, (void)w;
    return remove(p);
}

static int64_t at(const char *iso)
{
    int64_t us;
    if (kt_time_parse(iso, &us))
        fail_msg("bad date %s", iso);
    return us;
}

static int teardown(void **state)
{
    fixture *f = *state;
    kt_store_close(f->s);
    kt_test_store_drop(f->schema);
    nftw(f->root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/kite-toggle-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    *state = f;
    char err[512];
    if (kt_test_store_where(f->root, f->where, sizeof f->where, f->schema, sizeof f->schema) ||
        kt_store_open(f->where, NULL, &f->s, err, sizeof err))
        goto fail;
    int rev, changed;
    if (kt_store_flow_save(f->s, "a.b", "f", FLOW, &rev, &changed))
        goto fail;
    json_t *row = parse("{\"namespace\":\"a.b\",\"flowId\":\"f\",\"triggerId\":\"daily\",\"date\":\"2024-03-01T00:00:00Z\","
                        "\"nextExecutionDate\":\"2024-03-02T00:00:00Z\",\"disabled\":false,\"executionId\":\"e1\"}");
    kt_status st = kt_store_trigger_put(f->s, row);
    json_decref(row);
    if (st)
        goto fail;
    f->env = (kt_trigger_env){.store = f->s, .default_recover = KT_SCHED_RECOVER_ALL,
                              .now_us = at("2024-03-10T12:00:00Z")};
    return 0;
fail: /* cmocka runs no teardown after a failed setup: the schema and the folder go now */
    teardown(state);
    return -1;
}

static json_t *stored(fixture *f)
{
    json_t *row;
    assert_int_equal(kt_store_trigger_get(f->s, "a.b", "f", "daily", &row), KT_OK);
    return row;
}

static const char *member(const json_t *j, const char *name) { return json_string_value(json_object_get(j, name)); }

static void test_definition(void **state)
{
    fixture *f = *state;
    json_t *flow;
    const json_t *def;
    char err[256];
    assert_int_equal(kt_trigger_definition(&f->env, "a.b", "f", "daily", &flow, &def, err, sizeof err), KT_OK);
    assert_string_equal(member(def, "cron"), "0 0 * * *");
    json_decref(flow);
    assert_int_equal(kt_trigger_definition(&f->env, "a.b", "nope", "daily", &flow, &def, err, sizeof err),
                     KT_ENOTFOUND);
    assert_string_equal(err, "Flow of trigger daily not found");
    assert_int_equal(kt_trigger_definition(&f->env, "a.b", "f", "nope", &flow, &def, err, sizeof err), KT_ENOTFOUND);
    assert_string_equal(err, "Flow f has no trigger nope");
    assert_null(flow);
    assert_int_equal(kt_store_flow_delete(f->s, "a.b", "f"), KT_OK); /* a deleted flow is gone */
    assert_int_equal(kt_trigger_definition(&f->env, "a.b", "f", "daily", &flow, &def, err, sizeof err), KT_ENOTFOUND);
}

static void test_api_disable_enable(void **state)
{
    fixture *f = *state;
    json_t *flow, *out;
    const json_t *def;
    char err[256];
    int changed;
    assert_int_equal(kt_trigger_definition(&f->env, "a.b", "f", "daily", &flow, &def, err, sizeof err), KT_OK);
    assert_int_equal(kt_trigger_set_disabled(&f->env, flow, def, "a.b", "f", "daily", 1, &out, &changed, err, sizeof err),
                     KT_OK);
    assert_true(changed);
    assert_true(json_is_true(json_object_get(out, "disabled")));
    assert_null(json_object_get(out, "nextExecutionDate"));
    assert_string_equal(member(out, "executionId"), "e1");
    json_decref(out);
    out = stored(f);
    assert_true(json_is_true(json_object_get(out, "disabled")));
    json_decref(out);
    /* already disabled: nothing written */
    assert_int_equal(kt_trigger_set_disabled(&f->env, flow, def, "a.b", "f", "daily", 1, NULL, &changed, err, sizeof err),
                     KT_OK);
    assert_false(changed);
    /* enabled at 2024-03-10T12:00Z with LAST: the latest missed midnight, as it is after the last evaluation */
    assert_int_equal(kt_trigger_set_disabled(&f->env, flow, def, "a.b", "f", "daily", 0, &out, &changed, err, sizeof err),
                     KT_OK);
    assert_true(changed);
    assert_true(json_is_false(json_object_get(out, "disabled")));
    assert_string_equal(member(out, "nextExecutionDate"), "2024-03-10T00:00:00Z");
    json_decref(out);
    out = stored(f);
    assert_string_equal(member(out, "nextExecutionDate"), "2024-03-10T00:00:00Z");
    json_decref(out);
    /* no row */
    assert_int_equal(kt_store_trigger_delete(f->s, "a.b", "f", "daily"), KT_OK);
    assert_int_equal(kt_trigger_set_disabled(&f->env, flow, def, "a.b", "f", "daily", 1, &out, &changed, err, sizeof err),
                     KT_ENOTFOUND);
    assert_null(out);
    json_decref(flow);
}

static void test_toggle_apply(void **state)
{
    fixture *f = *state;
    json_t *out;
    char err[256];
    int changed;
    /* Toggle only flips the flag: the next date stays */
    assert_int_equal(kt_trigger_toggle_apply(&f->env, "a.b", "f", "daily", 0, &out, &changed, err, sizeof err), KT_OK);
    assert_true(changed);
    assert_true(json_is_true(json_object_get(out, "disabled")));
    assert_string_equal(member(out, "nextExecutionDate"), "2024-03-02T00:00:00Z");
    json_decref(out);
    assert_int_equal(kt_trigger_toggle_apply(&f->env, "a.b", "f", "daily", 1, &out, &changed, err, sizeof err), KT_OK);
    assert_true(json_is_false(json_object_get(out, "disabled")));
    assert_string_equal(member(out, "nextExecutionDate"), "2024-03-02T00:00:00Z");
    json_decref(out);
    /* a row without a next date (disabled through the API) gets one when a Toggle enables it: the first midnight
     * after the last evaluation, no recovery applied */
    json_t *row = stored(f);
    json_object_del(row, "nextExecutionDate");
    json_object_set_new(row, "disabled", json_true());
    assert_int_equal(kt_store_trigger_put(f->s, row), KT_OK);
    json_decref(row);
    assert_int_equal(kt_trigger_toggle_apply(&f->env, "a.b", "f", "daily", 1, &out, &changed, err, sizeof err), KT_OK);
    assert_string_equal(member(out, "nextExecutionDate"), "2024-03-02T00:00:00Z");
    json_decref(out);

    assert_int_equal(kt_trigger_toggle_apply(&f->env, "a.b", "g", "daily", 1, &out, &changed, err, sizeof err),
                     KT_ENOTFOUND);
    assert_string_equal(err, "Unable to find flow a.b.g. Make sure the flow exists and the current execution is "
                             "authorized to access it.");
    assert_int_equal(kt_trigger_toggle_apply(&f->env, "a.b", "f", "weekly", 1, &out, &changed, err, sizeof err),
                     KT_ENOTFOUND);
    assert_string_equal(err, "Unable to find trigger weekly for the flow a.b.f");
    assert_false(changed);
}

/* ---- the task, end to end on one node ---- */

typedef struct probe {
    uv_loop_t *loop;
    kt_trigger_env *env;
    int toggles, changed;
    char state[32];
    int results;
    json_t *logs;
} probe;

static void scheduler_receive(kt_actor *a, const kt_msg *m)
{
    probe *p = kt_actor_state(a);
    if (m->type != KT_MSG_TRIGGER_TOGGLE)
        return;
    int changed;
    kt_trigger_toggle_on_request(p->env, a, m, &changed);
    p->toggles++;
    p->changed += changed;
}

static void executor_receive(kt_actor *a, const kt_msg *m)
{
    probe *p = kt_actor_state(a);
    if (m->type == KT_MSG_LOG_BATCH) {
        kt_msg_log_batch b;
        assert_int_equal(kt_msg_decode_log_batch(m->body, &b), KT_OK);
        json_array_extend(p->logs, b.entries);
        kt_msg_log_batch_clear(&b);
    } else if (m->type == KT_MSG_WORKER_RESULT) {
        kt_msg_worker_result r;
        assert_int_equal(kt_msg_decode_worker_result(m->body, &r), KT_OK);
        snprintf(p->state, sizeof p->state, "%s", r.state);
        p->results++;
        kt_msg_worker_result_clear(&r);
        uv_stop(p->loop);
    }
}

static const kt_actor_ops scheduler_ops = {.receive = scheduler_receive};
static const kt_actor_ops executor_ops = {.receive = executor_receive};

static void on_timeout(uv_timer_t *t) { uv_stop(t->loop); }

/* Runs one Toggle attempt with these task properties; with_scheduler 0: nobody answers. The attempt's state. */
static void run_toggle(fixture *f, const char *props, int with_scheduler, probe *p)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *n;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &n), KT_OK);
    *p = (probe){.loop = &loop, .env = &f->env, .logs = json_array()};
    if (with_scheduler)
        assert_int_equal(kt_node_spawn(n, KT_SCHEDULER_ACTOR, &scheduler_ops, p, NULL), KT_OK);
    assert_int_equal(kt_node_spawn(n, KT_EXECUTOR_ACTOR, &executor_ops, p, NULL), KT_OK);
    kt_worker *w;
    kt_worker_config wc = {.slots = 1};
    assert_int_equal(kt_worker_start(n, &wc, &w), KT_OK);
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_WORKER_JOB, KT_WORKER_ACTOR, "executor@solo", 0);
    json_t *task = parse(props);
    json_object_set_new(task, "id", json_string("toggle"));
    json_object_set_new(task, "type", json_string("io.kestra.plugin.core.trigger.Toggle"));
    json_t *run = parse("{\"namespace\":\"a.b\",\"flowId\":\"f\",\"taskId\":\"toggle\",\"executionId\":\"x1\","
                        "\"taskRunId\":\"tr1\"}");
    kt_msg_worker_job job = {.execution_id = "x1", .taskrun_id = "tr1", .attempt = 0, .task = task, .run = run};
    kt_msg_encode_worker_job(&o, &job);
    json_decref(task);
    json_decref(run);
    assert_int_equal(kt_node_send(n, KT_WORKER_ACTOR, &o), KT_OK);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, on_timeout, 5000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    kt_node_stop(n);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    kt_node_free(n);
    kt_worker_free(w);
    assert_int_equal(p->results, 1);
}

static int logged(const probe *p, const char *text)
{
    size_t i;
    json_t *e;
    json_array_foreach(p->logs, i, e) if (strstr(member(e, "message"), text)) return 1;
    return 0;
}

static void test_toggle_task(void **state)
{
    fixture *f = *state;
    assert_non_null(kt_worker_find_impl("io.kestra.plugin.core.trigger.Toggle"));
    probe p;
    /* namespace and flowId default to the running flow's; enabled defaults to false */
    run_toggle(f, "{\"trigger\":\"daily\"}", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(p.toggles, 1);
    assert_int_equal(p.changed, 1);
    json_decref(p.logs);
    json_t *row = stored(f);
    assert_true(json_is_true(json_object_get(row, "disabled")));
    json_decref(row);
    run_toggle(f, "{\"trigger\":\"daily\",\"enabled\":true,\"namespace\":\"a.b\",\"flowId\":\"f\"}", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    json_decref(p.logs);
    row = stored(f);
    assert_true(json_is_false(json_object_get(row, "disabled")));
    json_decref(row);
    /* the scheduler's refusal is the task's failure, with its text */
    run_toggle(f, "{\"trigger\":\"weekly\",\"enabled\":true}", 1, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "Unable to find trigger weekly for the flow a.b.f"));
    json_decref(p.logs);
    /* no scheduler hosted: a clear failure at once */
    run_toggle(f, "{\"trigger\":\"daily\"}", 0, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "Unable to toggle the trigger daily: no scheduler is reachable"));
    json_decref(p.logs);
}

int main(void)
{
    int backend = kt_test_store_check(); /* 77: PostgreSQL asked for, none there */
    if (backend)
        return backend;
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_definition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_disable_enable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_toggle_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_toggle_task, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
