#include "runtime/msg.h"
#include "base/mpjson.h"

#include <stdlib.h>
#include <string.h>

static const char *const kt_msg_names[KT_MSG_TYPE_MAX] = {
    [KT_MSG_HELLO] = "Hello",
    [KT_MSG_WELCOME] = "Welcome",
    [KT_MSG_HEARTBEAT] = "Heartbeat",
    [KT_MSG_EXECUTION_CREATE] = "ExecutionCreate",
    [KT_MSG_REPLY] = "Reply",
    [KT_MSG_WORKER_JOB] = "WorkerJob",
    [KT_MSG_WORKER_RESULT] = "WorkerResult",
    [KT_MSG_LOG_BATCH] = "LogBatch",
    [KT_MSG_PING] = "Ping",
    [KT_MSG_EXEC_COMMAND] = "ExecutionCommand",
    [KT_MSG_FLOW_CHANGED] = "FlowChanged",
    [KT_MSG_TRIGGER_CHANGED] = "TriggerChanged",
    [KT_MSG_EXECUTION_CHANGED] = "ExecutionChanged",
    [KT_MSG_TRIGGER_TOGGLE] = "TriggerToggle",
    [KT_MSG_TASK_ASK] = "TaskAsk",
    [KT_MSG_TRIGGER_EVALUATE] = "TriggerEvaluate",
    [KT_MSG_PEER] = "Peer",
    [KT_MSG_WORKER_ATTEMPTS] = "WorkerAttempts",
};

const char *kt_msg_type_name(kt_msg_type t)
{
    if (t <= 0 || t >= KT_MSG_TYPE_MAX || !kt_msg_names[t])
        return "?";
    return kt_msg_names[t];
}

/* ---- small packing helpers ---------------------------------------------------------------------- */

static void kt_pack_cstr(msgpack_packer *pk, const char *s)
{
    if (!s)
        msgpack_pack_nil(pk);
    else
        msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* Reading helpers: each checks the type, so a peer sending a wrong shape gets KT_EPROTO, never a crash. */
static int kt_mp_str(const msgpack_object *o, char **out, int nullable)
{
    if (o->type == MSGPACK_OBJECT_NIL && nullable) {
        *out = NULL;
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_STR)
        return -1;
    *out = o->via.str.size ? strndup(o->via.str.ptr, o->via.str.size) : strdup("");
    return *out ? 0 : -1;
}

static int kt_mp_u64(const msgpack_object *o, uint64_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return -1;
    *out = o->via.u64;
    return 0;
}

static int kt_mp_u32(const msgpack_object *o, uint32_t *out)
{
    uint64_t v;
    if (kt_mp_u64(o, &v) || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int kt_mp_i64(const msgpack_object *o, int64_t *out)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= (uint64_t)INT64_MAX)
        *out = (int64_t)o->via.u64;
    else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = o->via.i64;
    else
        return -1;
    return 0;
}

static int kt_mp_json(const msgpack_object *o, json_t **out, int nullable)
{
    if (o->type == MSGPACK_OBJECT_NIL && nullable) {
        *out = NULL;
        return 0;
    }
    *out = kt_mp_to_json(o);
    return *out ? 0 : -1;
}

/* Returns the body's fields when it is an array of exactly n elements. */
static const msgpack_object *kt_mp_fields(const msgpack_object *body, uint32_t n)
{
    if (!body || body->type != MSGPACK_OBJECT_ARRAY || body->via.array.size != n)
        return NULL;
    return body->via.array.ptr;
}

/* ---- envelope ------------------------------------------------------------------------------------ */

void kt_outmsg_begin(kt_outmsg *o, kt_msg_type type, const char *to, const char *from, uint64_t corr)
{
    msgpack_sbuffer_init(&o->sb);
    msgpack_packer_init(&o->pk, &o->sb, msgpack_sbuffer_write);
    o->type = type;
    o->to_self = to && from && !strcmp(to, from);
    msgpack_pack_array(&o->pk, 6);
    msgpack_pack_uint32(&o->pk, KT_PROTO_VERSION);
    msgpack_pack_uint32(&o->pk, (uint32_t)type);
    kt_pack_cstr(&o->pk, to);
    kt_pack_cstr(&o->pk, from);
    msgpack_pack_uint64(&o->pk, corr);
}

void kt_outmsg_destroy(kt_outmsg *o) { msgpack_sbuffer_destroy(&o->sb); }

static int kt_mp_addr(const msgpack_object *o, char *dst)
{
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= KT_ADDR_MAX)
        return -1;
    if (o->via.str.size) /* an empty string may come with a NULL pointer */
        memcpy(dst, o->via.str.ptr, o->via.str.size);
    dst[o->via.str.size] = 0;
    return 0;
}

kt_status kt_msg_decode(const char *buf, size_t len, msgpack_unpacked *u, kt_msg *m)
{
    size_t off = 0;
    if (msgpack_unpack_next(u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len)
        return KT_EPROTO;
    const msgpack_object *f = kt_mp_fields(&u->data, 6);
    uint32_t type;
    if (!f || kt_mp_u32(&f[0], &m->version) || kt_mp_u32(&f[1], &type) || kt_mp_addr(&f[2], m->to) ||
        kt_mp_addr(&f[3], m->from) || kt_mp_u64(&f[4], &m->corr))
        return KT_EPROTO;
    if (m->version != KT_PROTO_VERSION || type == 0 || type >= KT_MSG_TYPE_MAX)
        return KT_EPROTO;
    m->type = (kt_msg_type)type;
    m->body = &f[5];
    return KT_OK;
}

/* ---- Hello / Welcome ----------------------------------------------------------------------------- */

void kt_msg_encode_hello(kt_outmsg *o, const kt_msg_hello *b)
{
    msgpack_pack_array(&o->pk, 5);
    kt_pack_cstr(&o->pk, b->node_id);
    kt_pack_cstr(&o->pk, b->actors);
    msgpack_pack_uint32(&o->pk, b->proto);
    msgpack_pack_uint32(&o->pk, b->slots);
    kt_pack_cstr(&o->pk, b->url);
}

kt_status kt_msg_decode_hello(const msgpack_object *body, kt_msg_hello *b)
{
    memset(b, 0, sizeof *b);
    const msgpack_object *f = kt_mp_fields(body, 5);
    if (!f || kt_mp_str(&f[0], &b->node_id, 0) || kt_mp_str(&f[1], &b->actors, 0) || kt_mp_u32(&f[2], &b->proto) ||
        kt_mp_u32(&f[3], &b->slots) || kt_mp_str(&f[4], &b->url, 0)) {
        kt_msg_hello_clear(b);
        return KT_EPROTO;
    }
    return KT_OK;
}

void kt_msg_hello_clear(kt_msg_hello *b)
{
    free(b->node_id);
    free(b->actors);
    free(b->url);
    memset(b, 0, sizeof *b);
}

/* ---- Heartbeat ----------------------------------------------------------------------------------- */

void kt_msg_encode_heartbeat(kt_outmsg *o, const kt_msg_heartbeat *b)
{
    msgpack_pack_array(&o->pk, 2);
    kt_pack_cstr(&o->pk, b->node_id);
    msgpack_pack_uint32(&o->pk, b->running);
}

kt_status kt_msg_decode_heartbeat(const msgpack_object *body, kt_msg_heartbeat *b)
{
    memset(b, 0, sizeof *b);
    const msgpack_object *f = kt_mp_fields(body, 2);
    if (!f || kt_mp_str(&f[0], &b->node_id, 0) || kt_mp_u32(&f[1], &b->running)) {
        kt_msg_heartbeat_clear(b);
        return KT_EPROTO;
    }
    return KT_OK;
}

void kt_msg_heartbeat_clear(kt_msg_heartbeat *b)
{
    free(b->node_id);
    memset(b, 0, sizeof *b);
}

/* ---- ExecutionCreate ----------------------------------------------------------------------------- */

void kt_msg_encode_execution_create(kt_outmsg *o, const kt_msg_execution_create *b)
{
    msgpack_pack_array(&o->pk, 3);
    kt_mp_pack_json(&o->pk, b->execution);
    msgpack_pack_uint32(&o->pk, b->wait);
    msgpack_pack_uint32(&o->pk, b->stored);
}

kt_status kt_msg_decode_execution_create(const msgpack_object *body, kt_msg_execution_create *b)
{
    memset(b, 0, sizeof *b);
    const msgpack_object *f = kt_mp_fields(body, 3);
    if (!f || kt_mp_json(&f[0], &b->execution, 0) || !json_is_object(b->execution) || kt_mp_u32(&f[1], &b->wait) ||
        kt_mp_u32(&f[2], &b->stored)) {
        kt_msg_execution_create_clear(b);
        return KT_EPROTO;
    }
    return KT_OK;
}

void kt_msg_execution_create_clear(kt_msg_execution_create *b)
{
    json_decref(b->execution);
    memset(b, 0, sizeof *b);
}

/* ---- one JSON object ---------------------------------------------------------------------------- */

void kt_msg_encode_object(kt_outmsg *o, const json_t *obj)
{
    msgpack_pack_array(&o->pk, 1);
    kt_mp_pack_json(&o->pk, obj);
}

void kt_msg_encode_object_except(kt_outmsg *o, const json_t *obj, const char *skip)
{
    msgpack_pack_array(&o->pk, 1);
    kt_mp_pack_json_except(&o->pk, obj, skip);
}

kt_status kt_msg_decode_object(const msgpack_object *body, json_t **out)
{
    *out = NULL;
    const msgpack_object *f = kt_mp_fields(body, 1);
    json_t *v = NULL;
    if (!f || kt_mp_json(&f[0], &v, 0) || !json_is_object(v)) {
        json_decref(v);
        return KT_EPROTO;
    }
    *out = v;
    return KT_OK;
}

/* ---- Reply --------------------------------------------------------------------------------------- */

void kt_msg_encode_reply(kt_outmsg *o, const kt_msg_reply *b)
{
    msgpack_pack_array(&o->pk, 3);
    msgpack_pack_uint32(&o->pk, b->status);
    kt_pack_cstr(&o->pk, b->message);
    kt_mp_pack_json(&o->pk, b->data);
}

kt_status kt_msg_decode_reply(const msgpack_object *body, kt_msg_reply *b)
{
    memset(b, 0, sizeof *b);
    const msgpack_object *f = kt_mp_fields(body, 3);
    if (!f || kt_mp_u32(&f[0], &b->status) || kt_mp_str(&f[1], &b->message, 1) || kt_mp_json(&f[2], &b->data, 1)) {
        kt_msg_reply_clear(b);
        return KT_EPROTO;
    }
    return KT_OK;
}

void kt_msg_reply_clear(kt_msg_reply *b)
{
    free(b->message);
    json_decref(b->data);
    memset(b, 0, sizeof *b);
}

/* ---- WorkerJob ----------------------------------------------------------------------------------- */

void kt_msg_encode_worker_job(kt_outmsg *o, const kt_msg_worker_job *b)
{
    msgpack_pack_array(&o->pk, 7);
    kt_pack_cstr(&o->pk, b->execution_id);
    kt_pack_cstr(&o->pk, b->taskrun_id);
    msgpack_pack_uint32(&o->pk, b->attempt);
    msgpack_pack_int64(&o->pk, b->epoch);
    kt_mp_pack_json(&o->pk, b->task);
    kt_mp_pack_json(&o->pk, b->run);
    if (b->context)
        kt_mp_pack_json(&o->pk, b->context);
    else
        msgpack_pack_nil(&o->pk);
}

kt_status kt_msg_decode_worker_job(const msgpack_object *body, kt_msg_worker_job *b)
{
    memset(b, 0, sizeof *b);
    const msgpack_object *f = kt_mp_fields(body, 7);
    if (!f || kt_mp_str(&f[0], &b->execution_id, 0) || kt_mp_str(&f[1], &b->taskrun_id, 0) ||
        kt_mp_u32(&f[2], &b->attempt) || kt_mp_i64(&f[3], &b->epoch) || kt_mp_json(&f[4], &b->task, 0) ||
        !json_is_object(b->task) || kt_mp_json(&f[5], &b->run, 0) || !json_is_object(b->run) ||
        kt_mp_json(&f[6], &b->context, 1) ||
        (b->context && !json_is_object(b->context))) {
        kt_msg_worker_job_clear(b);
        return KT_EPROTO;
    }
    return KT_OK;
}

void kt_msg_worker_job_clear(kt_msg_worker_job *b)
{
    free(b->execution_id);
    free(b->taskrun_id);
    json_decref(b->task);
    json_decref(b->run);
    json_decref(b->context);
    memset(b, 0, sizeof *b);
}

/* ---- WorkerResult -------------------------------------------------------------------------------- */

void kt_msg_encode_worker_result(kt_outmsg *o, const kt_msg_worker_result *b)
{
    msgpack_pack_array(&o->pk, 9);
    kt_pack_cstr(&o->pk, b->execution_id);
    kt_pack_cstr(&o->pk, b->taskrun_id);
    msgpack_pack_uint32(&o->pk, b->attempt);
    msgpack_pack_int64(&o->pk, b->epoch);
    kt_pack_cstr(&o->pk, b->state);
    kt_mp_pack_json(&o->pk, b->outputs);
    msgpack_pack_int64(&o->pk, b->started_us);
    msgpack_pack_int64(&o->pk, b->ended_us);
    if (b->taskrun)
        kt_mp_pack_json(&o->pk, b->taskrun);
    else
        msgpack_pack_nil(&o->pk);
}

kt_status kt_msg_decode_worker_result(const msgpack_object *body, kt_msg_worker_result *b)
{
    memset(b, 0, sizeof *b);
    const msgpack_object *f = kt_mp_fields(body, 9);
    if (!f || kt_mp_str(&f[0], &b->execution_id, 0) || kt_mp_str(&f[1], &b->taskrun_id, 0) ||
        kt_mp_u32(&f[2], &b->attempt) || kt_mp_i64(&f[3], &b->epoch) || kt_mp_str(&f[4], &b->state, 0) ||
        kt_mp_json(&f[5], &b->outputs, 1) || kt_mp_i64(&f[6], &b->started_us) || kt_mp_i64(&f[7], &b->ended_us) ||
        kt_mp_json(&f[8], &b->taskrun, 1) ||
        (b->taskrun && !json_is_object(b->taskrun))) {
        kt_msg_worker_result_clear(b);
        return KT_EPROTO;
    }
    return KT_OK;
}

void kt_msg_worker_result_clear(kt_msg_worker_result *b)
{
    free(b->execution_id);
    free(b->taskrun_id);
    free(b->state);
    json_decref(b->outputs);
    json_decref(b->taskrun);
    memset(b, 0, sizeof *b);
}

/* ---- LogBatch ------------------------------------------------------------------------------------ */

void kt_msg_encode_log_batch(kt_outmsg *o, const kt_msg_log_batch *b)
{
    msgpack_pack_array(&o->pk, b->copy ? 3 : 2);
    kt_mp_pack_json(&o->pk, b->entries);
    kt_mp_pack_json(&o->pk, json_array_size(b->metrics) ? b->metrics : NULL);
    if (b->copy)
        msgpack_pack_true(&o->pk);
}

kt_status kt_msg_decode_log_batch(const msgpack_object *body, kt_msg_log_batch *b)
{
    memset(b, 0, sizeof *b);
    /* [entries] from a peer without metrics, [entries, metrics|nil] otherwise, [entries, metrics|nil, true] for a
     * copy */
    uint32_t n = body && body->type == MSGPACK_OBJECT_ARRAY ? body->via.array.size : 0;
    const msgpack_object *f = n >= 1 && n <= 3 ? kt_mp_fields(body, n) : NULL;
    if (!f || kt_mp_json(&f[0], &b->entries, 0) || !json_is_array(b->entries))
        goto bad;
    if (n >= 2 && f[1].type != MSGPACK_OBJECT_NIL &&
        (kt_mp_json(&f[1], &b->metrics, 0) || !json_is_array(b->metrics)))
        goto bad;
    if (n == 3) {
        if (f[2].type != MSGPACK_OBJECT_BOOLEAN)
            goto bad;
        b->copy = f[2].via.boolean;
    }
    return KT_OK;
bad:
    kt_msg_log_batch_clear(b);
    return KT_EPROTO;
}

void kt_msg_log_batch_clear(kt_msg_log_batch *b)
{
    json_decref(b->entries);
    json_decref(b->metrics);
    memset(b, 0, sizeof *b);
}

/* ---- ExecutionCommand ---------------------------------------------------------------------------- */

void kt_msg_encode_exec_command(kt_outmsg *o, const kt_msg_exec_command *b)
{
    msgpack_pack_array(&o->pk, 4);
    kt_pack_cstr(&o->pk, b->execution_id);
    kt_pack_cstr(&o->pk, b->taskrun_id ? b->taskrun_id : "");
    kt_pack_cstr(&o->pk, kt_cmd_name(b->command));
    kt_mp_pack_json(&o->pk, b->data);
}

kt_status kt_msg_decode_exec_command(const msgpack_object *body, kt_msg_exec_command *b)
{
    memset(b, 0, sizeof *b);
    b->command = KT_CMD_NONE;
    const msgpack_object *f = kt_mp_fields(body, 4);
    char *name = NULL;
    if (!f || kt_mp_str(&f[0], &b->execution_id, 0) || kt_mp_str(&f[1], &b->taskrun_id, 0) ||
        kt_mp_str(&f[2], &name, 0) || kt_mp_json(&f[3], &b->data, 1))
        goto fail;
    b->command = kt_cmd_of(name);
    if (b->command == KT_CMD_NONE || ((kt_cmd_flags(b->command) & KT_CF_TASKRUN) && !*b->taskrun_id))
        goto fail;
    free(name);
    return KT_OK;
fail:
    free(name);
    kt_msg_exec_command_clear(b);
    return KT_EPROTO;
}

void kt_msg_exec_command_clear(kt_msg_exec_command *b)
{
    free(b->execution_id);
    free(b->taskrun_id);
    json_decref(b->data);
    memset(b, 0, sizeof *b);
    b->command = KT_CMD_NONE;
}

/* ---- Ping ---------------------------------------------------------------------------------------- */

void kt_msg_encode_ping(kt_outmsg *o, const kt_msg_ping *b)
{
    msgpack_pack_array(&o->pk, 2);
    msgpack_pack_uint64(&o->pk, b->seq);
    msgpack_pack_uint64(&o->pk, b->sent_ns);
}

kt_status kt_msg_decode_ping(const msgpack_object *body, kt_msg_ping *b)
{
    const msgpack_object *f = kt_mp_fields(body, 2);
    if (!f || kt_mp_u64(&f[0], &b->seq) || kt_mp_u64(&f[1], &b->sent_ns))
        return KT_EPROTO;
    return KT_OK;
}
