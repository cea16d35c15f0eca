/* Kite's messages. Every message, local or remote, travels as one msgpack envelope
 *     [version, type, to, from, corr_id, body]
 * where body is a msgpack array whose layout depends on type. Each type has one encode/decode pair here
 * and a round-trip test in tests/unit/rt/test_msg.c. Decoded structs own their strings and JSON values
 * (free them with the matching _clear). */
#ifndef KT_MSG_H
#define KT_MSG_H

#include <jansson.h>
#include <msgpack.h>
#include <stdint.h>

#include "base/status.h"
#include "runtime/command.h"

#define KT_PROTO_VERSION 1
#define KT_ADDR_MAX 128 /* "actor@node" */

typedef enum kt_msg_type {
    KT_MSG_HELLO = 1,          /* dialer -> listener: I am node X hosting these actors */
    KT_MSG_WELCOME,            /* listener -> dialer: same fields, for the other direction */
    KT_MSG_HEARTBEAT,          /* every node -> every peer, periodically */
    KT_MSG_EXECUTION_CREATE,   /* webserver -> executor: persist and start this execution */
    KT_MSG_REPLY,              /* answer to a request, matched by corr_id */
    KT_MSG_WORKER_JOB,         /* executor -> worker: run this task attempt */
    KT_MSG_WORKER_RESULT,      /* worker -> executor: the attempt ended */
    KT_MSG_LOG_BATCH,          /* worker, executor -> indexer (or the executor when no indexer is reachable): task
                                  log entries and task metrics; worker -> executor: a copy of the ERROR lines */
    KT_MSG_PING,               /* benchmarks and tests */
    KT_MSG_EXEC_COMMAND,       /* to the executor (kill, resume, a delay that is over) or a worker (kill) */
    KT_MSG_FLOW_CHANGED,       /* webserver -> scheduler: a flow was saved or deleted; body {namespace, id} */
    KT_MSG_TRIGGER_CHANGED,    /* anyone -> scheduler: a trigger row was written; body {namespace, flowId, triggerId} */
    KT_MSG_EXECUTION_CHANGED,  /* executor -> scheduler: an execution's state changed (committed); body: the
                                  execution without its taskRunList */
    KT_MSG_TRIGGER_TOGGLE,     /* worker -> scheduler (request, corr id set): the Toggle task. Body: one object
                                  {namespace: string, flowId: string, trigger: string, enabled: bool}, namespace and
                                  flowId already defaulted to the running flow's. Answered with a KT_MSG_REPLY under
                                  the same corr id: status KT_OK and data = the trigger row as stored; otherwise the
                                  status (KT_ENOTFOUND: no such flow or row; KT_EINVAL: malformed, or the trigger does
                                  not compile; KT_EDB) and message = the text the task logs ("Unable to find trigger t
                                  for the flow ns.f"). actors/scheduler/toggle.h: kt_trigger_toggle_on_request */
    KT_MSG_TASK_ASK,           /* worker -> executor (request, corr id set): what a task asks of the executor, whose
                                  node holds the store. Body: one object {op: string, ...}; answered with a
                                  KT_MSG_REPLY under the same corr id: status KT_OK and data (per op), otherwise the
                                  status (KT_ENOTFOUND, KT_EINVAL, KT_ECONFLICT, KT_EDB) and message = the text the task
                                  logs. The ops and their fields: actors/executor/task_requests.c */
    KT_MSG_TRIGGER_EVALUATE,   /* scheduler -> worker (request, corr id set): evaluate one polling trigger now
                                  (flow/poll.h). Body: one object {namespace, flowId, triggerId: string, revision:
                                  int, trigger: the trigger's JSON (plugin defaults applied), dialect: the flow's,
                                  "1.x" | "2.x" (optional: absent, as from an older scheduler, reads 1.x)}.
                                  Answered with a KT_MSG_REPLY under the same corr id: status KT_OK and data = {execute: bool,
                                  variables: the trigger's output (http.Trigger: Request's {uri, code, headers,
                                  body})} when it was evaluated (execute: the condition held); otherwise the status
                                  (KT_EINVAL: malformed or a property that does not render; KT_EIO: the evaluation
                                  failed; KT_ENOTSUP: a type the worker cannot evaluate) and message = why.
                                  actors/worker/poll.c; the scheduler's side: actors/scheduler/poll.c */
    KT_MSG_PEER,               /* node -> node: another member of the cluster (a Hello body: its id, actors, slots and
                                  inbound address), so that a node which joined one member learns the others and
                                  dials them itself (runtime/node.c) */
    KT_MSG_WORKER_ATTEMPTS,    /* executor -> worker: which of these attempts do you run? Body: one object {round:
                                  int, attempts: [[execution id, taskrun id, attempt], ...]}, the attempts a previous
                                  owner of their partitions dispatched (actors/executor/attempts.c). worker -> the
                                  asker: {round: the same, slots: int, running: [[execution id, taskrun id, attempt,
                                  epoch], ...]}, those of them it runs; the results of those it ended lately are sent
                                  again as WorkerResults (actors/worker/recent.c) */
    KT_MSG_TYPE_MAX
} kt_msg_type;

const char *kt_msg_type_name(kt_msg_type t);

/* A received message, valid for the duration of one receive call. */
typedef struct kt_msg {
    uint32_t version;
    kt_msg_type type;
    uint64_t corr;
    char to[KT_ADDR_MAX];
    char from[KT_ADDR_MAX];
    const msgpack_object *body;
} kt_msg;

/* An outgoing message under construction: the envelope head is written by kt_outmsg_begin, then the body
 * by one kt_msg_encode_* call. */
typedef struct kt_outmsg {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    kt_msg_type type; /* as given to kt_outmsg_begin (the router's mailbox rule reads it) */
    int to_self;      /* `to` and `from` are the same address: an actor's message to itself (never refused) */
} kt_outmsg;

void kt_outmsg_begin(kt_outmsg *o, kt_msg_type type, const char *to, const char *from, uint64_t corr);
void kt_outmsg_destroy(kt_outmsg *o);
/* Decodes the envelope of buf into m; the body points into zone-owned memory of *u. */
kt_status kt_msg_decode(const char *buf, size_t len, msgpack_unpacked *u, kt_msg *m);

/* --- bodies ----------------------------------------------------------------------------------- */

typedef struct kt_msg_hello {
    char *node_id;
    char *actors; /* comma-separated actor names hosted by the node */
    uint32_t proto;
    uint32_t slots; /* worker slots, 0 when the node has no worker */
    char *url;      /* the node's inbound address: where peers reach it */
} kt_msg_hello;
void kt_msg_encode_hello(kt_outmsg *o, const kt_msg_hello *b);
kt_status kt_msg_decode_hello(const msgpack_object *body, kt_msg_hello *b);
void kt_msg_hello_clear(kt_msg_hello *b);

typedef struct kt_msg_heartbeat {
    char *node_id;
    uint32_t running; /* jobs in flight on the node */
} kt_msg_heartbeat;
void kt_msg_encode_heartbeat(kt_outmsg *o, const kt_msg_heartbeat *b);
kt_status kt_msg_decode_heartbeat(const msgpack_object *body, kt_msg_heartbeat *b);
void kt_msg_heartbeat_clear(kt_msg_heartbeat *b);

typedef struct kt_msg_execution_create {
    json_t *execution; /* Kestra Execution JSON in state CREATED */
    uint32_t wait;     /* also reply when it ends, with the final execution as data (API `wait=true`) */
    uint32_t stored;   /* the sender committed it already (a trigger's tick, a handed-over child): the executor
                          answers a create of one the store holds past CREATED without running it again */
} kt_msg_execution_create;
void kt_msg_encode_execution_create(kt_outmsg *o, const kt_msg_execution_create *b);
kt_status kt_msg_decode_execution_create(const msgpack_object *body, kt_msg_execution_create *b);
void kt_msg_execution_create_clear(kt_msg_execution_create *b);

typedef struct kt_msg_reply {
    uint32_t status; /* kt_status of the request */
    char *message;   /* human text, may be NULL */
    json_t *data;    /* may be NULL */
} kt_msg_reply;
void kt_msg_encode_reply(kt_outmsg *o, const kt_msg_reply *b);
kt_status kt_msg_decode_reply(const msgpack_object *body, kt_msg_reply *b);
void kt_msg_reply_clear(kt_msg_reply *b);

typedef struct kt_msg_worker_job {
    char *execution_id;
    char *taskrun_id;
    uint32_t attempt;  /* 0-based attempt index, as Kestra's attemptNumber */
    int64_t epoch;     /* the sender's lease epoch of the execution's partition: echoed by the result */
    json_t *task;      /* rendered task properties, with id and type */
    json_t *run;       /* {namespace, flowId, taskId, ...}: what logs and storage need */
    json_t *context;   /* NULL, or for a WorkingDirectory (whose children the worker renders when each runs) or an
                          execution.Count (its expression, once the counts are in):
                          {flow: the Flow JSON, execution: the execution as dispatched} */
} kt_msg_worker_job;
void kt_msg_encode_worker_job(kt_outmsg *o, const kt_msg_worker_job *b);
kt_status kt_msg_decode_worker_job(const msgpack_object *body, kt_msg_worker_job *b);
void kt_msg_worker_job_clear(kt_msg_worker_job *b);

typedef struct kt_msg_worker_result {
    char *execution_id;
    char *taskrun_id;
    uint32_t attempt;
    int64_t epoch;     /* the job's (kt_msg_worker_job.epoch): a result of an older lease is stale */
    char *state;       /* SUCCESS, WARNING, FAILED, KILLED */
    json_t *outputs;   /* object or NULL */
    int64_t started_us;
    int64_t ended_us;
    json_t *taskrun;   /* NULL, or a WorkingDirectory child's whole task run (Kestra's TaskRun JSON, made by the
                          worker): taskrun_id then names the WorkingDirectory run, attempt its job's, and state,
                          outputs and the dates are unused. The executor appends it (or replaces it when known) */
} kt_msg_worker_result;
void kt_msg_encode_worker_result(kt_outmsg *o, const kt_msg_worker_result *b);
kt_status kt_msg_decode_worker_result(const msgpack_object *body, kt_msg_worker_result *b);
void kt_msg_worker_result_clear(kt_msg_worker_result *b);

typedef struct kt_msg_log_batch {
    json_t *entries; /* array of Kestra LogEntry objects */
    json_t *metrics; /* array of Kestra MetricEntry objects (task metrics), or NULL */
    /* 1: a copy of lines another actor writes (the ERROR lines a worker sent the indexer, copied to the executor for
     * errorLogs()): the receiver reads them and never writes them. */
    int copy;
} kt_msg_log_batch;
void kt_msg_encode_log_batch(kt_outmsg *o, const kt_msg_log_batch *b);
kt_status kt_msg_decode_log_batch(const msgpack_object *body, kt_msg_log_batch *b);
void kt_msg_log_batch_clear(kt_msg_log_batch *b);

/* Something to do to an execution (runtime/command.h lists the commands). On the wire the command is its name; a
 * name that is not in the table, or a KT_CF_TASKRUN command without a task run, does not decode (KT_EPROTO). */
typedef struct kt_msg_exec_command {
    char *execution_id;
    char *taskrun_id; /* "" when the command is for the whole execution */
    kt_cmd command;
    json_t *data;     /* may be NULL */
} kt_msg_exec_command;
void kt_msg_encode_exec_command(kt_outmsg *o, const kt_msg_exec_command *b);
kt_status kt_msg_decode_exec_command(const msgpack_object *body, kt_msg_exec_command *b);
void kt_msg_exec_command_clear(kt_msg_exec_command *b);

/* Bodies that are one JSON object (FlowChanged, TriggerChanged, ExecutionChanged, TriggerToggle: their members are
 * listed with the type above). Decoding refuses anything but an object (KT_EPROTO). */
void kt_msg_encode_object(kt_outmsg *o, const json_t *obj);
/* The same without obj's member `skip` (an ExecutionChanged without its task runs, which the scheduler reads from the
 * store only when a Flow trigger needs them). */
void kt_msg_encode_object_except(kt_outmsg *o, const json_t *obj, const char *skip);
kt_status kt_msg_decode_object(const msgpack_object *body, json_t **out);

typedef struct kt_msg_ping {
    uint64_t seq;
    uint64_t sent_ns;
} kt_msg_ping;
void kt_msg_encode_ping(kt_outmsg *o, const kt_msg_ping *b);
kt_status kt_msg_decode_ping(const msgpack_object *body, kt_msg_ping *b);

#endif
