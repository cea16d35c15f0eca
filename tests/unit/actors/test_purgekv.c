/* kv.PurgeKV (Kestra 1.x, actors/worker/tasks_kv.c) on a real worker with a real local storage, and an executor
 * stand-in that answers the flows' namespaces (KT_MSG_TASK_ASK flows.namespaces) with company.team and other: the
 * matrix of namespaces / namespacePattern / includeChildNamespaces, expiredOnly vs behavior (expiredOnly wins),
 * keyPattern globs, the version behavior on Kite's one-version store, the exclusive properties refused when the
 * task runs and when the flow is saved. Entries are written by kv.Set (an expired one with ttl PT0S). */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors/executor/executor.h"
#include "actors/names.h"
#include "actors/worker/task.h"
#include "actors/worker/worker.h"
#include "flow/deprecation.h"
#include "flow/flow.h"
#include "store/storage.h"
#include "tests/unit/json_parse.h"
#include "tests/unit/actors/worker_fixture.h"

#define KV "io.kestra.plugin.core.kv."

static int asks; /* flows.namespaces requests answered */

static void ask_receive(kt_actor *a, const kt_msg *m)
{
    if (m->type != KT_MSG_TASK_ASK) {
        executor_receive(a, m);
        return;
    }
    json_t *req = NULL;
    assert_int_equal(kt_msg_decode_object(m->body, &req), KT_OK);
    assert_string_equal(json_string_value(json_object_get(req, "op")), "flows.namespaces");
    json_decref(req);
    asks++;
    probe *p = kt_actor_state(a);
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_REPLY, m->from, kt_actor_address(a), m->corr);
    json_t *data = parse("{\"namespaces\":[\"company.team\",\"other\"]}");
    kt_msg_reply rep = {.status = KT_OK, .data = data};
    kt_msg_encode_reply(&o, &rep);
    assert_int_equal(kt_node_send(p->node, m->from, &o), KT_OK);
    json_decref(data);
}

static const kt_actor_ops ask_ops = {.receive = ask_receive};

/* run_job with the stand-in that answers the namespaces. */
static void purge(fixture *f, const char *props, probe *p)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *n;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &n), KT_OK);
    *p = (probe){.loop = &loop, .work = f->work, .logs = json_array(), .metrics = json_array(),
                 .children = json_array(), .node = n};
    assert_int_equal(kt_node_spawn(n, KT_EXECUTOR_ACTOR, &ask_ops, p, NULL), KT_OK);
    kt_storage *s = NULL;
    char err[256];
    assert_int_equal(kt_storage_local_open(&loop, f->storage, &s, err, sizeof err), KT_OK);
    kt_worker *w;
    kt_worker_config wc = {.slots = 1, .tmp_dir = f->work, .storage = s};
    assert_int_equal(kt_worker_start(n, &wc, &w), KT_OK);
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_WORKER_JOB, KT_WORKER_ACTOR, "executor@solo", 0);
    json_t *task = parse(props);
    json_object_set_new(task, "id", json_string("t1"));
    json_object_set_new(task, "type", json_string(KV "PurgeKV"));
    json_t *run = json_pack("{s:s, s:s, s:s, s:s, s:s}", "namespace", "system", "flowId", "f", "taskId", "t1",
                            "executionId", "x1", "taskRunId", "trp");
    kt_msg_worker_job job = {.execution_id = "x1", .taskrun_id = "trp", .attempt = 0, .task = task, .run = run};
    kt_msg_encode_worker_job(&o, &job);
    json_decref(task);
    json_decref(run);
    assert_int_equal(kt_node_send(n, KT_WORKER_ACTOR, &o), KT_OK);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, on_timeout, 10000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    kt_node_stop(n);
    int closed = 0;
    kt_storage_close(s, on_storage_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
    kt_node_free(n);
    kt_worker_free(w);
    assert_int_equal(p->results, 1);
}

static void set(fixture *f, const char *ns, const char *key, int expired)
{
    char props[256];
    snprintf(props, sizeof props, "{\"namespace\":\"%s\",\"key\":\"%s\",\"value\":\"v\"%s}", ns, key,
             expired ? ",\"ttl\":\"PT0S\"" : "");
    probe p;
    run_task(f, KV "Set", props, "trs", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    probe_clear(&p);
}

/* company: k1 (expired), k2, AI_x (expired); company.team: k3 (expired), k4; companyX: k5 (expired);
 * other: k6 (expired). */
static void seed(fixture *f)
{
    set(f, "company", "k1", 1);
    set(f, "company", "k2", 0);
    set(f, "company", "AI_x", 1);
    set(f, "company.team", "k3", 1);
    set(f, "company.team", "k4", 0);
    set(f, "companyX", "k5", 1);
    set(f, "other", "k6", 1);
    usleep(2000); /* the PT0S ones are before the purge's clock */
}

static int there(fixture *f, const char *ns_path, const char *key)
{
    char uri[256];
    snprintf(uri, sizeof uri, "kestra:///%s/_kv/%s.ion", ns_path, key);
    char *b = stored(f, uri);
    free(b);
    return b != NULL;
}

/* Runs the purge, checks SUCCESS and the size output; returns the probe's logs' "purging" line check. */
static void purged(fixture *f, const char *props, long long want)
{
    probe p;
    purge(f, props, &p);
    if (strcmp(p.state, "SUCCESS"))
        fail_msg("PurgeKV %s: %s", props, p.state);
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "size")), want);
    char line[64];
    snprintf(line, sizeof line, "purged %lld keys", want);
    assert_true(logged(&p, "INFO", line));
    probe_clear(&p);
}

/* The documented example: expiredOnly, namespaces [company], children included: company's expired ones and
 * company.team's (a flow namespace under it), and companyX too (Kestra's startsWith), never other's. */
static void test_expired_only_with_children(void **state)
{
    fixture *f = *state;
    seed(f);
    asks = 0;
    purged(f, "{\"expiredOnly\":true,\"namespaces\":[\"company\"],\"includeChildNamespaces\":true}", 3);
    assert_int_equal(asks, 1);
    assert_false(there(f, "company", "k1"));
    assert_false(there(f, "company", "AI_x"));
    assert_true(there(f, "company", "k2"));
    assert_false(there(f, "company/team", "k3"));
    assert_true(there(f, "company/team", "k4"));
    assert_true(there(f, "companyX", "k5")); /* no flow there: not a candidate */
    assert_true(there(f, "other", "k6"));
}

/* includeChildNamespaces false: exactly the namespaces listed (the executor is not asked); the default behavior is
 * expired-only. */
static void test_listed_only(void **state)
{
    fixture *f = *state;
    seed(f);
    asks = 0;
    purged(f, "{\"namespaces\":[\"company\"],\"includeChildNamespaces\":false}", 2);
    assert_int_equal(asks, 0);
    assert_true(there(f, "company", "k2"));
    assert_true(there(f, "company/team", "k3"));
}

/* namespacePattern matches the flows' namespaces; keyPattern filters the keys; behavior key with expiredOnly false
 * purges live keys too. */
static void test_pattern_and_key_glob(void **state)
{
    fixture *f = *state;
    seed(f);
    purged(f, "{\"namespacePattern\":\"comp*\",\"keyPattern\":\"k?\",\"behavior\":{\"type\":\"key\","
              "\"expiredOnly\":false}}", 2);
    assert_false(there(f, "company/team", "k3"));
    assert_false(there(f, "company/team", "k4"));
    assert_true(there(f, "company", "k1")); /* company has no flow: not matched */
    assert_true(there(f, "other", "k6"));
    /* a glob with no match purges nothing */
    purged(f, "{\"namespaces\":[\"company\"],\"includeChildNamespaces\":false,\"keyPattern\":\"AI_*\","
              "\"behavior\":{\"type\":\"key\",\"expiredOnly\":false}}", 1);
    assert_false(there(f, "company", "AI_x"));
    assert_true(there(f, "company", "k1"));
}

/* expiredOnly (deprecated) wins over behavior when both are set, either way. */
static void test_expired_only_wins(void **state)
{
    fixture *f = *state;
    seed(f);
    purged(f, "{\"expiredOnly\":false,\"behavior\":{\"type\":\"key\",\"expiredOnly\":true},"
              "\"namespaces\":[\"company\"],\"includeChildNamespaces\":false}", 3);
    assert_false(there(f, "company", "k2"));
    seed(f);
    purged(f, "{\"expiredOnly\":true,\"behavior\":{\"type\":\"key\",\"expiredOnly\":false},"
              "\"namespaces\":[\"company\"],\"includeChildNamespaces\":false}", 2);
    assert_true(there(f, "company", "k2"));
}

/* version: the store keeps one version per key, so keepAmount >= 1 and before keep it, neither purges it. */
static void test_version_behavior(void **state)
{
    fixture *f = *state;
    seed(f);
    const char *ns = "\"namespaces\":[\"company.team\"],\"includeChildNamespaces\":false";
    char props[256];
    snprintf(props, sizeof props, "{%s,\"behavior\":{\"type\":\"version\",\"keepAmount\":1}}", ns);
    purged(f, props, 0);
    snprintf(props, sizeof props, "{%s,\"behavior\":{\"type\":\"version\",\"before\":\"2100-01-01T00:00:00Z\"}}", ns);
    purged(f, props, 0);
    snprintf(props, sizeof props, "{%s,\"behavior\":{\"type\":\"version\"}}", ns);
    purged(f, props, 2);
    assert_false(there(f, "company/team", "k4"));
}

/* The refusals: both namespaces and namespacePattern, when run and when saved; both before and keepAmount. */
static void test_refusals(void **state)
{
    fixture *f = *state;
    probe p;
    purge(f, "{\"namespaces\":[\"company\"],\"namespacePattern\":\"c*\"}", &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "Properties `namespaces` and `namespacePattern` can't be used at the same time"));
    probe_clear(&p);
    const char *yaml = "id: purge\nnamespace: system\ntasks:\n  - id: p\n    type: io.kestra.plugin.core.kv.PurgeKV\n"
                       "    namespaces: [company]\n    namespacePattern: \"c*\"\n";
    kt_flow *fl = NULL;
    kt_diags d;
    kt_diags_init(&d);
    assert_int_not_equal(kt_flow_parse(yaml, strlen(yaml), "f.yml", &fl, &d), KT_OK);
    assert_true(d.count >= 1);
    assert_non_null(strstr(d.items[0].message, "can't be used at the same time"));
    kt_diags_clear(&d);
    const char *ver = "id: purge\nnamespace: system\ntasks:\n  - id: p\n    type: io.kestra.plugin.core.kv.PurgeKV\n"
                      "    behavior:\n      type: version\n      before: \"2020-01-01T00:00:00Z\"\n      keepAmount: 2\n";
    kt_diags_init(&d);
    assert_int_not_equal(kt_flow_parse(ver, strlen(ver), "f.yml", &fl, &d), KT_OK);
    assert_non_null(strstr(d.items[0].message, "Cannot set both 'before' and 'keepAmount'"));
    kt_diags_clear(&d);
    const char *bad = "id: purge\nnamespace: system\ntasks:\n  - id: p\n    type: io.kestra.plugin.core.kv.PurgeKV\n"
                      "    behavior:\n      type: versions\n";
    kt_diags_init(&d);
    assert_int_not_equal(kt_flow_parse(bad, strlen(bad), "f.yml", &fl, &d), KT_OK);
    kt_diags_clear(&d);
    const char *ok = "id: purge\nnamespace: system\ntasks:\n  - id: p\n    type: io.kestra.plugin.core.kv.PurgeKV\n"
                     "    behavior:\n      type: key\n      expiredOnly: true\n    namespacePattern: \"company*\"\n"
                     "    keyPattern: \"AI_*\"\n";
    kt_diags_init(&d);
    assert_int_equal(kt_flow_parse(ok, strlen(ok), "f.yml", &fl, &d), KT_OK);
    kt_flow_free(fl);
    kt_diags_clear(&d);
    /* expiredOnly is deprecated (behavior replaces it), reported as Kestra's validate route reports it */
    json_t *flow = parse("{\"id\":\"p\",\"namespace\":\"system\",\"tasks\":[{\"id\":\"p\",\"type\":"
                         "\"io.kestra.plugin.core.kv.PurgeKV\",\"expiredOnly\":true},{\"id\":\"q\",\"type\":"
                         "\"io.kestra.plugin.core.kv.PurgeKV\",\"behavior\":{\"type\":\"key\"}}]}");
    json_t *paths = kt_flow_deprecation_paths(flow);
    assert_int_equal(json_array_size(paths), 1);
    assert_string_equal(json_string_value(json_array_get(paths, 0)), "tasks[0].expiredOnly");
    json_decref(paths);
    json_decref(flow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_expired_only_with_children, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listed_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pattern_and_key_glob, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_only_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_behavior, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
