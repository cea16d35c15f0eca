/* The worker's side of polling triggers (actors/worker/poll.c) on a real worker against tests/http/server.py on
 * 127.0.0.1: a KT_MSG_TRIGGER_EVALUATE request answered by one Reply: execute with Request's output as the trigger
 * variables when responseCondition holds (default `statusCode < 400`), not when it does not or on a 500, the body
 * decrypted for the condition under encryptBody, properties rendered in the trigger's context, an unreachable
 * server, a condition that does not render and an unknown type as errors; no log line reaches the log sink. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/executor/executor.h"
#include "actors/names.h"
#include "actors/worker/worker.h"
#include "base/secrets.h"
#include "tests/http/http_server.h"
#include "tests/unit/json_parse.h"

static int port;
static pid_t server;

typedef struct answer {
    uv_loop_t *loop;
    int replies;
    uint64_t corr;
    kt_status status;
    char message[1024];
    json_t *data;
    int log_lines; /* lines the log sink (the executor) received */
} answer;

static void scheduler_receive(kt_actor *a, const kt_msg *m)
{
    answer *p = kt_actor_state(a);
    if (m->type != KT_MSG_REPLY)
        return;
    kt_msg_reply r;
    assert_int_equal(kt_msg_decode_reply(m->body, &r), KT_OK);
    p->replies++;
    p->corr = m->corr;
    p->status = (kt_status)r.status;
    snprintf(p->message, sizeof p->message, "%s", r.message ? r.message : "");
    p->data = json_incref(r.data);
    kt_msg_reply_clear(&r);
    uv_stop(p->loop);
}

static void sink_receive(kt_actor *a, const kt_msg *m)
{
    answer *p = kt_actor_state(a);
    if (m->type == KT_MSG_LOG_BATCH) {
        kt_msg_log_batch b;
        assert_int_equal(kt_msg_decode_log_batch(m->body, &b), KT_OK);
        p->log_lines += (int)json_array_size(b.entries);
        kt_msg_log_batch_clear(&b);
    }
}

static const kt_actor_ops scheduler_ops = {.receive = scheduler_receive};
static const kt_actor_ops sink_ops = {.receive = sink_receive};

static void on_timeout(uv_timer_t *t) { uv_stop(t->loop); }

/* Sends one evaluation of `trigger` (JSON with "@" standing for http://127.0.0.1:<port>) and waits for its Reply. */
static void evaluate(const char *trigger_fmt, answer *p)
{
    char base[64];
    int bl = snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    char *text = calloc(1, strlen(trigger_fmt) * (size_t)bl + 1), *o = text;
    for (const char *c = trigger_fmt; *c; c++) {
        if (*c == '@') {
            memcpy(o, base, (size_t)bl);
            o += bl;
        } else {
            *o++ = *c;
        }
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *n;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &n), KT_OK);
    *p = (answer){.loop = &loop};
    assert_int_equal(kt_node_spawn(n, KT_SCHEDULER_ACTOR, &scheduler_ops, p, NULL), KT_OK);
    assert_int_equal(kt_node_spawn(n, KT_EXECUTOR_ACTOR, &sink_ops, p, NULL), KT_OK);
    kt_worker *w;
    kt_worker_config wc = {.slots = 1};
    assert_int_equal(kt_worker_start(n, &wc, &w), KT_OK);
    json_t *body = json_pack("{s:s, s:s, s:s, s:i, s:o}", "namespace", "company.team", "flowId", "polled", "triggerId",
                             "http", "revision", 3, "trigger", parse(text));
    kt_outmsg om;
    kt_outmsg_begin(&om, KT_MSG_TRIGGER_EVALUATE, KT_WORKER_ACTOR, "scheduler@solo", 77);
    kt_msg_encode_object(&om, body);
    json_decref(body);
    assert_int_equal(kt_node_send(n, KT_WORKER_ACTOR, &om), KT_OK);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, on_timeout, 10000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    kt_node_stop(n);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    kt_node_free(n);
    kt_worker_free(w);
    free(text);
    assert_int_equal(p->replies, 1);
    assert_int_equal(p->corr, 77);
    assert_int_equal(p->log_lines, 0); /* a trigger's request logs to the process, not as an execution's lines */
}

static int group_setup(void **state)
{
    (void)state;
    char *const envp[] = {NULL};
    char *warn = NULL;
    kt_secrets_install(kt_secrets_new(envp, NULL, "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=", &warn));
    free(warn);
    return kt_test_http_start(KITE_SOURCE_DIR "/tests/http/server.py", &port, &server);
}

static int group_teardown(void **state)
{
    (void)state;
    kt_test_http_stop(server);
    return 0;
}

#define TRIG "\"id\": \"http\", \"type\": \"io.kestra.plugin.core.http.Trigger\", "

static void test_condition_holds(void **state)
{
    (void)state;
    answer a;
    /* the uri renders in the trigger's context: flow.id and trigger.id */
    evaluate("{" TRIG "\"uri\": \"@/count/{{ flow.id }}-{{ trigger.id }}/200\", \"interval\": \"PT1S\"}", &a);
    assert_int_equal(a.status, KT_OK);
    assert_true(json_is_true(json_object_get(a.data, "execute")));
    json_t *v = json_object_get(a.data, "variables");
    assert_int_equal(json_integer_value(json_object_get(v, "code")), 200);
    char want[128];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/count/polled-http/200", port);
    assert_string_equal(json_string_value(json_object_get(v, "uri")), want);
    json_t *body = parse(json_string_value(json_object_get(v, "body")));
    assert_string_equal(json_string_value(json_object_get(body, "name")), "polled-http");
    json_decref(body);
    assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(v, "headers"), "X-Multi"), 1)),
                        "two");
    json_decref(a.data);
}

static void test_condition_does_not_hold(void **state)
{
    (void)state;
    answer a;
    evaluate("{" TRIG "\"uri\": \"@/count/w1/200\", \"responseCondition\": "
             "\"{{ response.statusCode == 200 and json(response.body).hit > 1000 }}\"}",
             &a);
    assert_int_equal(a.status, KT_OK);
    assert_true(json_is_false(json_object_get(a.data, "execute")));
    json_decref(a.data);
    /* a 500 is an answer (allowFailed): the default condition says no */
    evaluate("{" TRIG "\"uri\": \"@/count/w2/500\"}", &a);
    assert_int_equal(a.status, KT_OK);
    assert_true(json_is_false(json_object_get(a.data, "execute")));
    json_decref(a.data);
    /* and a condition may want it */
    evaluate("{" TRIG "\"uri\": \"@/count/w3/503\", \"responseCondition\": "
             "\"{{ response.statusCode == 503 and response.headers['X-Multi'][0] == 'one' }}\"}",
             &a);
    assert_int_equal(a.status, KT_OK);
    assert_true(json_is_true(json_object_get(a.data, "execute")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(a.data, "variables"), "code")), 503);
    json_decref(a.data);
}

static void test_encrypted_body(void **state)
{
    (void)state;
    answer a;
    evaluate("{" TRIG "\"uri\": \"@/count/sealed/200\", \"encryptBody\": true, "
             "\"responseCondition\": \"{{ json(response.body).name == 'sealed' }}\"}",
             &a);
    assert_int_equal(a.status, KT_OK);
    assert_true(json_is_true(json_object_get(a.data, "execute")));
    json_t *v = json_object_get(a.data, "variables");
    assert_null(json_object_get(v, "body"));
    assert_non_null(json_object_get(json_object_get(v, "encryptedBody"), "value"));
    json_decref(a.data);
}

static void test_errors(void **state)
{
    (void)state;
    answer a;
    evaluate("{" TRIG "\"uri\": \"http://127.0.0.1:1/x\"}", &a);
    assert_int_equal(a.status, KT_EIO);
    assert_non_null(strstr(a.message, "127.0.0.1"));
    json_decref(a.data);
    evaluate("{" TRIG "\"uri\": \"@/count/w4/200\", \"responseCondition\": \"{{ nosuchfunction() }}\"}", &a);
    assert_int_equal(a.status, KT_EINVAL);
    assert_non_null(strstr(a.message, "responseCondition: "));
    json_decref(a.data);
    evaluate("{" TRIG "\"uri\": \"{{ nosuchfunction() }}\"}", &a);
    assert_int_equal(a.status, KT_EINVAL);
    assert_true(a.message[0] != '\0');
    json_decref(a.data);
    evaluate("{\"id\": \"s\", \"type\": \"io.kestra.plugin.core.trigger.Schedule\", \"cron\": \"* * * * *\"}", &a);
    assert_int_equal(a.status, KT_ENOTFOUND);
    assert_non_null(strstr(a.message, "cannot evaluate a trigger of type 'io.kestra.plugin.core.trigger.Schedule'"));
    json_decref(a.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_condition_holds),
        cmocka_unit_test(test_condition_does_not_hold),
        cmocka_unit_test(test_encrypted_body),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
