/* Round trip of every message type through the envelope, plus malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/clock.h"
#include "base/id.h"
#include "base/mpjson.h"
#include "runtime/msg.h"

/* Encodes with begin+encode, decodes the envelope, checks the header and returns the body via u. */
static void roundtrip_head(kt_outmsg *o, msgpack_unpacked *u, kt_msg *m, kt_msg_type type)
{
    msgpack_unpacked_init(u);
    assert_int_equal(kt_msg_decode(o->sb.data, o->sb.size, u, m), KT_OK);
    assert_int_equal(m->type, type);
    assert_int_equal(m->version, KT_PROTO_VERSION);
    assert_string_equal(m->to, "executor");
    assert_string_equal(m->from, "worker@n1");
    assert_int_equal(m->corr, 42);
}

static void test_hello(void **s)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_HELLO, "executor", "worker@n1", 42);
    kt_msg_hello in = {.node_id = "n1", .actors = "worker,indexer", .proto = 1, .slots = 8, .url = "tcp://10.0.0.1:7600"}, out;
    kt_msg_encode_hello(&o, &in);
    msgpack_unpacked u;
    kt_msg m;
    roundtrip_head(&o, &u, &m, KT_MSG_HELLO);
    assert_int_equal(kt_msg_decode_hello(m.body, &out), KT_OK);
    assert_string_equal(out.node_id, "n1");
    assert_string_equal(out.actors, "worker,indexer");
    assert_int_equal(out.slots, 8);
    assert_string_equal(out.url, "tcp://10.0.0.1:7600");
    kt_msg_hello_clear(&out);
    /* a Hello body is not a WorkerJob body */
    kt_msg_worker_job job;
    assert_int_equal(kt_msg_decode_worker_job(m.body, &job), KT_EPROTO);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);
}

static void test_heartbeat(void **s)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_HEARTBEAT, "executor", "worker@n1", 42);
    kt_msg_heartbeat in = {.node_id = "n1", .running = 3}, out;
    kt_msg_encode_heartbeat(&o, &in);
    msgpack_unpacked u;
    kt_msg m;
    roundtrip_head(&o, &u, &m, KT_MSG_HEARTBEAT);
    assert_int_equal(kt_msg_decode_heartbeat(m.body, &out), KT_OK);
    assert_string_equal(out.node_id, "n1");
    assert_int_equal(out.running, 3);
    kt_msg_heartbeat_clear(&out);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);
}

static void test_execution_create_and_reply(void **s)
{
    json_t *ex = json_pack("{s:s, s:s, s:i, s:{s:s}, s:[{s:s, s:s}], s:f, s:b, s:n}", "id", "abc", "namespace",
                           "company.team", "flowRevision", 3, "inputs", "name", "Kite", "labels", "key", "env",
                           "value", "dev", "ratio", 0.5, "deleted", 0, "nothing");
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXECUTION_CREATE, "executor", "worker@n1", 42);
    kt_msg_execution_create in = {.execution = ex, .wait = 1, .stored = 1}, out;
    kt_msg_encode_execution_create(&o, &in);
    msgpack_unpacked u;
    kt_msg m;
    roundtrip_head(&o, &u, &m, KT_MSG_EXECUTION_CREATE);
    assert_int_equal(kt_msg_decode_execution_create(m.body, &out), KT_OK);
    assert_true(json_equal(ex, out.execution));
    assert_int_equal(out.wait, 1);
    assert_int_equal(out.stored, 1);
    kt_msg_execution_create_clear(&out);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);

    kt_outmsg_begin(&o, KT_MSG_REPLY, "executor", "worker@n1", 42);
    kt_msg_reply r = {.status = KT_ENOTFOUND, .message = "no flow", .data = ex}, rout;
    kt_msg_encode_reply(&o, &r);
    roundtrip_head(&o, &u, &m, KT_MSG_REPLY);
    assert_int_equal(kt_msg_decode_reply(m.body, &rout), KT_OK);
    assert_int_equal(rout.status, KT_ENOTFOUND);
    assert_string_equal(rout.message, "no flow");
    assert_true(json_equal(ex, rout.data));
    kt_msg_reply_clear(&rout);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);
    /* nullable fields */
    kt_outmsg_begin(&o, KT_MSG_REPLY, "executor", "worker@n1", 42);
    kt_msg_reply r2 = {.status = 0};
    kt_msg_encode_reply(&o, &r2);
    roundtrip_head(&o, &u, &m, KT_MSG_REPLY);
    assert_int_equal(kt_msg_decode_reply(m.body, &rout), KT_OK);
    assert_null(rout.message);
    assert_null(rout.data);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);
    json_decref(ex);
}

static void test_worker_job_and_result(void **s)
{
    json_t *task = json_pack("{s:s, s:s, s:[s,s]}", "id", "t1", "type", "io.kestra.plugin.scripts.shell.Commands",
                             "commands", "echo 1", "echo 2");
    json_t *run = json_pack("{s:s, s:s}", "namespace", "ns", "flowId", "f");
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_WORKER_JOB, "executor", "worker@n1", 42);
    kt_msg_worker_job in = {.execution_id = "e1", .taskrun_id = "tr1", .attempt = 2, .epoch = 7, .task = task,
                            .run = run},
                      out;
    kt_msg_encode_worker_job(&o, &in);
    msgpack_unpacked u;
    kt_msg m;
    roundtrip_head(&o, &u, &m, KT_MSG_WORKER_JOB);
    assert_int_equal(kt_msg_decode_worker_job(m.body, &out), KT_OK);
    assert_string_equal(out.execution_id, "e1");
    assert_string_equal(out.taskrun_id, "tr1");
    assert_int_equal(out.attempt, 2);
    assert_int_equal(out.epoch, 7);
    assert_true(json_equal(task, out.task));
    assert_true(json_equal(run, out.run));
    kt_msg_worker_job_clear(&out);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);

    json_t *outputs = json_pack("{s:{s:i}, s:i}", "vars", "n", -5, "exitCode", 0);
    int64_t now = kt_now_us();
    kt_outmsg_begin(&o, KT_MSG_WORKER_RESULT, "executor", "worker@n1", 42);
    kt_msg_worker_result r = {.execution_id = "e1", .taskrun_id = "tr1", .attempt = 2, .epoch = 7, .state = "SUCCESS",
                              .outputs = outputs, .started_us = now - 5, .ended_us = now},
                         rout;
    kt_msg_encode_worker_result(&o, &r);
    roundtrip_head(&o, &u, &m, KT_MSG_WORKER_RESULT);
    assert_int_equal(kt_msg_decode_worker_result(m.body, &rout), KT_OK);
    assert_string_equal(rout.state, "SUCCESS");
    assert_int_equal(rout.epoch, 7);
    assert_true(json_equal(outputs, rout.outputs));
    assert_int_equal(rout.started_us, now - 5);
    assert_int_equal(rout.ended_us, now);
    assert_null(rout.taskrun);
    kt_msg_worker_result_clear(&rout);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);

    /* a WorkingDirectory's job carries its render context; its children come back as whole task runs */
    json_t *ctx = json_pack("{s:{s:s}, s:{s:s}}", "flow", "id", "f", "execution", "id", "e1");
    kt_outmsg_begin(&o, KT_MSG_WORKER_JOB, "executor", "worker@n1", 42);
    in.context = ctx;
    kt_msg_encode_worker_job(&o, &in);
    roundtrip_head(&o, &u, &m, KT_MSG_WORKER_JOB);
    assert_int_equal(kt_msg_decode_worker_job(m.body, &out), KT_OK);
    assert_true(json_equal(ctx, out.context));
    kt_msg_worker_job_clear(&out);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);
    json_t *child = json_pack("{s:s, s:s, s:s}", "id", "c1", "taskId", "a", "parentTaskRunId", "tr1");
    kt_outmsg_begin(&o, KT_MSG_WORKER_RESULT, "executor", "worker@n1", 42);
    r.taskrun = child;
    kt_msg_encode_worker_result(&o, &r);
    roundtrip_head(&o, &u, &m, KT_MSG_WORKER_RESULT);
    assert_int_equal(kt_msg_decode_worker_result(m.body, &rout), KT_OK);
    assert_true(json_equal(child, rout.taskrun));
    kt_msg_worker_result_clear(&rout);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);
    json_decref(child);
    json_decref(ctx);
    json_decref(outputs);
    json_decref(task);
    json_decref(run);
}

static void test_log_batch_and_ping(void **s)
{
    json_t *entries = json_pack("[{s:s, s:s}, {s:s, s:s}]", "level", "INFO", "message", "héllo ✓", "level", "ERROR",
                                "message", "");
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_LOG_BATCH, "executor", "worker@n1", 42);
    kt_msg_log_batch in = {.entries = entries}, out;
    kt_msg_encode_log_batch(&o, &in);
    msgpack_unpacked u;
    kt_msg m;
    roundtrip_head(&o, &u, &m, KT_MSG_LOG_BATCH);
    assert_int_equal(kt_msg_decode_log_batch(m.body, &out), KT_OK);
    assert_true(json_equal(entries, out.entries));
    assert_null(out.metrics); /* none sent: none received */
    assert_int_equal(out.copy, 0);
    kt_msg_log_batch_clear(&out);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);

    /* with task metrics beside the lines */
    json_t *metrics = json_pack("[{s:s, s:s, s:f}]", "name", "count", "type", "counter", "value", 2.5);
    kt_outmsg_begin(&o, KT_MSG_LOG_BATCH, "executor", "worker@n1", 42);
    in.metrics = metrics;
    kt_msg_encode_log_batch(&o, &in);
    roundtrip_head(&o, &u, &m, KT_MSG_LOG_BATCH);
    assert_int_equal(kt_msg_decode_log_batch(m.body, &out), KT_OK);
    assert_true(json_equal(entries, out.entries));
    assert_true(json_equal(metrics, out.metrics));
    kt_msg_log_batch_clear(&out);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);
    json_decref(metrics);

    /* a copy (the ERROR lines the executor reads for errorLogs() and never writes) says so */
    kt_outmsg_begin(&o, KT_MSG_LOG_BATCH, "executor", "worker@n1", 42);
    in.metrics = NULL;
    in.copy = 1;
    kt_msg_encode_log_batch(&o, &in);
    roundtrip_head(&o, &u, &m, KT_MSG_LOG_BATCH);
    assert_int_equal(kt_msg_decode_log_batch(m.body, &out), KT_OK);
    assert_true(json_equal(entries, out.entries));
    assert_int_equal(out.copy, 1);
    kt_msg_log_batch_clear(&out);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);
    in.copy = 0;

    /* a third field that is not a boolean is refused */
    kt_outmsg_begin(&o, KT_MSG_LOG_BATCH, "executor", "worker@n1", 42);
    msgpack_pack_array(&o.pk, 3);
    msgpack_pack_array(&o.pk, 0);
    msgpack_pack_nil(&o.pk);
    msgpack_pack_int(&o.pk, 1);
    roundtrip_head(&o, &u, &m, KT_MSG_LOG_BATCH);
    assert_int_equal(kt_msg_decode_log_batch(m.body, &out), KT_EPROTO);
    assert_null(out.entries);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);

    /* the one-field body of a peer without metrics still decodes */
    kt_outmsg_begin(&o, KT_MSG_LOG_BATCH, "executor", "worker@n1", 42);
    msgpack_pack_array(&o.pk, 1);
    msgpack_pack_array(&o.pk, 0);
    roundtrip_head(&o, &u, &m, KT_MSG_LOG_BATCH);
    assert_int_equal(kt_msg_decode_log_batch(m.body, &out), KT_OK);
    assert_int_equal(json_array_size(out.entries), 0);
    assert_null(out.metrics);
    kt_msg_log_batch_clear(&out);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);
    json_decref(entries);

    kt_outmsg_begin(&o, KT_MSG_PING, "executor", "worker@n1", 42);
    kt_msg_ping p = {.seq = 7, .sent_ns = 123456789}, pout;
    kt_msg_encode_ping(&o, &p);
    roundtrip_head(&o, &u, &m, KT_MSG_PING);
    assert_int_equal(kt_msg_decode_ping(m.body, &pout), KT_OK);
    assert_int_equal(pout.seq, 7);
    assert_int_equal(pout.sent_ns, 123456789);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);
}

/* An ExecutionCommand body written by hand: [execution, taskrun, command name, data]. */
static kt_status decode_raw_command(const char *taskrun, const char *name, kt_msg_exec_command *out)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, "executor", "worker@n1", 42);
    msgpack_pack_array(&o.pk, 4);
    msgpack_pack_str_with_body(&o.pk, "e1", 2);
    msgpack_pack_str_with_body(&o.pk, taskrun, strlen(taskrun));
    msgpack_pack_str_with_body(&o.pk, name, strlen(name));
    msgpack_pack_nil(&o.pk);
    msgpack_unpacked u;
    kt_msg m;
    roundtrip_head(&o, &u, &m, KT_MSG_EXEC_COMMAND);
    kt_status st = kt_msg_decode_exec_command(m.body, out);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);
    return st;
}

/* The wire names are runtime/command.h's table: each decodes to its command; anything else, or a command that names
 * a task run without one, is malformed. */
static void test_exec_command_names(void **s)
{
    (void)s;
    static const struct {
        const char *name;
        kt_cmd cmd;
        unsigned flags;
    } want[] = {
        {"KILL", KT_CMD_KILL, KT_CF_API | KT_CF_WORKER},
        {"RESUME", KT_CMD_RESUME, KT_CF_API | KT_CF_DATA},
        {"RETRY", KT_CMD_RETRY, KT_CF_TIMER | KT_CF_TASKRUN},
        {"RESUME_FLOW", KT_CMD_RESUME_FLOW, KT_CF_TIMER | KT_CF_TASKRUN},
        {"PAUSE_TIMEOUT", KT_CMD_PAUSE_TIMEOUT, KT_CF_TIMER | KT_CF_TASKRUN},
        {"UNQUEUE", KT_CMD_UNQUEUE, KT_CF_SELF | KT_CF_API},
        {"PAUSE", KT_CMD_PAUSE, KT_CF_API},
        {"FORCE_RUN", KT_CMD_FORCE_RUN, KT_CF_API},
        {"SCHEDULED", KT_CMD_SCHEDULED, KT_CF_TIMER},
        {"SUBFLOW_CREATE", KT_CMD_SUBFLOW_CREATE, KT_CF_SELF | KT_CF_TASKRUN | KT_CF_DATA},
        {"SUBFLOW_ENDED", KT_CMD_SUBFLOW_ENDED, KT_CF_SELF | KT_CF_DATA},
        {"SUBFLOW_CHECK", KT_CMD_SUBFLOW_CHECK, KT_CF_SELF | KT_CF_TASKRUN | KT_CF_DATA},
        {"SLA", KT_CMD_SLA, KT_CF_TIMER | KT_CF_TASKRUN},
        {"RETRY_FLOW", KT_CMD_RETRY_FLOW, KT_CF_TIMER | KT_CF_TASKRUN},
        {"RESTART", KT_CMD_RESTART, KT_CF_API | KT_CF_DATA},
        {"REPLAY", KT_CMD_REPLAY, KT_CF_API | KT_CF_DATA},
        {"MARK_AS", KT_CMD_MARK_AS, KT_CF_API | KT_CF_TASKRUN | KT_CF_DATA},
        {"CHANGE_STATUS", KT_CMD_CHANGE_STATUS, KT_CF_API | KT_CF_DATA},
    };
    assert_int_equal(sizeof want / sizeof *want, KT_CMD_COUNT);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        kt_msg_exec_command out;
        assert_int_equal(kt_cmd_of(want[i].name), want[i].cmd);
        assert_string_equal(kt_cmd_name(want[i].cmd), want[i].name);
        assert_int_equal(kt_cmd_flags(want[i].cmd), want[i].flags);
        assert_int_equal(decode_raw_command("tr1", want[i].name, &out), KT_OK);
        assert_int_equal(out.command, want[i].cmd);
        kt_msg_exec_command_clear(&out);
        /* without a task run: malformed exactly when the command names one */
        kt_status st = decode_raw_command("", want[i].name, &out);
        assert_int_equal(st, (want[i].flags & KT_CF_TASKRUN) ? KT_EPROTO : KT_OK);
        if (st == KT_OK)
            kt_msg_exec_command_clear(&out);
    }
    static const char *const bad[] = {"kill", "KILL ", "", "RESTARTED", "RETRIED"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kt_msg_exec_command out;
        assert_int_equal(decode_raw_command("tr1", bad[i], &out), KT_EPROTO);
        assert_int_equal(kt_cmd_of(bad[i]), KT_CMD_NONE);
    }
    assert_null(kt_cmd_name(KT_CMD_NONE));
    assert_null(kt_cmd_name(KT_CMD_COUNT));
}

static void test_exec_command(void **s)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, "executor", "worker@n1", 42);
    json_t *data = json_pack("{s:s}", "approved", "yes");
    kt_msg_exec_command in = {.execution_id = "e1", .taskrun_id = "tr9", .command = KT_CMD_RESUME, .data = data}, out;
    kt_msg_encode_exec_command(&o, &in);
    msgpack_unpacked u;
    kt_msg m;
    roundtrip_head(&o, &u, &m, KT_MSG_EXEC_COMMAND);
    assert_int_equal(kt_msg_decode_exec_command(m.body, &out), KT_OK);
    assert_string_equal(out.execution_id, "e1");
    assert_string_equal(out.taskrun_id, "tr9");
    assert_int_equal(out.command, KT_CMD_RESUME);
    assert_true(json_equal(out.data, data));
    kt_msg_exec_command_clear(&out);
    json_decref(data);
    kt_msg_ping ping;
    assert_int_equal(kt_msg_decode_ping(m.body, &ping), KT_EPROTO); /* strings where a ping has integers */
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);
}

/* Anything off the wire: truncations and garbage must fail cleanly. */
static void test_malformed(void **s)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_HEARTBEAT, "executor", "worker@n1", 42);
    kt_msg_heartbeat in = {.node_id = "n1", .running = 3};
    kt_msg_encode_heartbeat(&o, &in);
    for (size_t cut = 0; cut < o.sb.size; cut++) {
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        kt_msg m;
        assert_int_equal(kt_msg_decode(o.sb.data, cut, &u, &m), KT_EPROTO);
        msgpack_unpacked_destroy(&u);
    }
    kt_outmsg_destroy(&o);
    const char garbage[] = "\x96\x01\xcc\xff\xa0\xa0\x00\x90"; /* type 255 */
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    kt_msg m;
    assert_int_equal(kt_msg_decode(garbage, sizeof garbage - 1, &u, &m), KT_EPROTO);
    msgpack_unpacked_destroy(&u);
    /* wrong version */
    kt_outmsg_begin(&o, KT_MSG_PING, "a", "b", 1);
    o.sb.data[1] = 9;
    msgpack_unpacked_init(&u);
    assert_int_equal(kt_msg_decode(o.sb.data, o.sb.size, &u, &m), KT_EPROTO);
    msgpack_unpacked_destroy(&u);
    kt_outmsg_destroy(&o);
}

static void test_ids_and_clock(void **s)
{
    char a[KT_ID_LEN + 1], b[KT_ID_LEN + 1];
    kt_id_new(a);
    kt_id_new(b);
    assert_true(strlen(a) >= 15 && strlen(a) <= KT_ID_LEN);
    assert_string_not_equal(a, b);
    for (const char *p = a; *p; p++)
        assert_true((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'));
    char buf[64];
    kt_time_format(1734689730000000LL, buf, sizeof buf);
    assert_string_equal(buf, "2024-12-20T10:15:30Z");
    kt_time_format(1734689730123000LL, buf, sizeof buf);
    assert_string_equal(buf, "2024-12-20T10:15:30.123Z");
    kt_time_format(1734689730123456LL, buf, sizeof buf);
    assert_string_equal(buf, "2024-12-20T10:15:30.123456Z");
    int64_t us;
    assert_int_equal(kt_time_parse("2024-12-20T11:15:30.123+01:00", &us), 0);
    assert_int_equal(us, 1734689730123000LL);
    assert_int_not_equal(kt_time_parse("2024-13-20T11:15:30Z", &us), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello),
        cmocka_unit_test(test_heartbeat),
        cmocka_unit_test(test_execution_create_and_reply),
        cmocka_unit_test(test_worker_job_and_result),
        cmocka_unit_test(test_log_batch_and_ping),
        cmocka_unit_test(test_exec_command),
        cmocka_unit_test(test_exec_command_names),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_ids_and_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
