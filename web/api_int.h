/* Internals of the webserver actor (api.h), shared by its files and included by nothing else:
 *   api.c             the actor, the route table, and what every handler answers with (422 diagnostics, store
 *                     errors, paging and label query parameters);
 *   api_flows.c       /api/v1/flows: create, update (YAML or JSON), validate, get, delete, namespace and bulk
 *                     update, search, list;
 *   api_flows_more.c  revisions, one task, PATCH of a task, distinct namespaces, source search, task/trigger validation;
 *   api_flows_bulk.c  delete/disable/enable by ids or query, the zip export and the import;
 *   api_flows_graph.c the flow topology (FlowGraph) of a stored flow or of a posted source;
 *   api_executions.c  /api/v1/executions: the executor's reply to a creation, get, search, kill, resume;
 *   api_create.c      execution creation: multipart inputs, FILE parts streamed into the storage first;
 *   api_files.c       the execution file API (/file, /file/metas, /file/preview) over the storage;
 *   api_nsfiles.c     the namespace files API (/api/v1/namespaces/{namespace}/files…) over the storage;
 *   api_nsfiles_zip.c its zip export and import;
 *   api_kv.c          the KV store API (/api/v1/namespaces/{namespace}/kv…);
 *   api_logs.c        /api/v1/logs;
 *   api_follow.c      the follow endpoints (Server-Sent Events) of executions and logs;
 *   api_triggers.c    /api/v1/triggers: the stored trigger rows (search, disable/enable, unlock, backfill...);
 *   api_triggers_set.c  its set-disabled, PUT and backfill start (api_triggers_int.h: what the two share);
 *   api_exec_manage.c execution delete and labels (no executor needed), the FlowForExecution routes;
 *   api_exec_bulk.c   the bulk routes (…/by-ids, …/by-query): collection, checks, delete and labels;
 *   api_exec_commands.c pause, unqueue and force-run, single and bulk;
 *   api_namespaces.c  /api/v1/namespaces/{id} and /search (the flows' namespaces);
 *   api_server.c      /ping, /api/v1/configs, /api/v1/version, /health (+ the management port) and basic auth;
 *   api_metrics.c     /api/v1/metrics (task metrics from the store) and /prometheus (base/metrics.h).
 * Handlers have the kt_http_handler shape; their ud is the kt_webserver. */
#ifndef KT_WEB_API_INT_H
#define KT_WEB_API_INT_H

#include <stdint.h>

#include <jansson.h>

#include "flow/flow.h"
#include "flow/trigger.h"
#include "base/map.h"
#include "runtime/msg.h"
#include "runtime/node.h"
#include "store/store.h"
#include "web/api.h"
#include "web/http.h"
#include "web/multipart.h"

/* A request waiting for another actor's reply. */
typedef struct kt_pending {
    kt_http_req *req;
    json_t *execution;
    int wait; /* answer when the execution ends, not when it is created */
    int manual; /* a restart, replay, markAs or change-status (api_exec_restart.c): the reply's data is the answer */
    int created; /* a wait: the executor answered the creation, the end is to come */
    json_t *webhook; /* a Webhook trigger's wait: its definition, whose returnOutputs and responseContentType shape the
                        answer (kt_api_webhook_answer); NULL otherwise */
} kt_pending;

/* The answer to a Webhook's wait once its execution ended (api_webhook.c): the execution, or with returnOutputs its
 * flow outputs in responseContentType. */
void kt_api_webhook_answer(kt_webserver *w, kt_http_req *r, const json_t *ex, const json_t *webhook);

struct kt_webserver {
    kt_actor *self;
    kt_store *store;   /* the loop's session: writes (and reads without a pool) */
    kt_db_pool *pool;  /* reads (kt_api_read); NULL: on store */
    kt_http *http;
    kt_map *pending; /* corr id (decimal) -> kt_pending */
    kt_map *executors; /* the node ids of the members hosting an executor (value: the map itself, a non-NULL mark) */
    uint64_t next_corr;
    char public_url[512];
    json_t *plugin_defaults; /* the configuration's plugins.defaults, or NULL */
    char *default_zone;      /* Schedules without a timezone (NULL: UTC) */
    kt_sched_recover default_recover;
    kt_storage *storage; /* borrowed; NULL when the node has none */
    uv_loop_t *http_loop;
    kt_http *management; /* endpoints.all.port: /health, /version (no auth); NULL when not configured */
    /* basic auth (api_server.c): NULL auth_expected = off */
    char *auth_expected; /* base64(user:password) */
    char auth_challenge[160];
    char *auth_open_urls; /* comma-separated path prefixes */
    char instance_uuid[40];
    char env_name[128], env_color[32];
    char data_dir[1024]; /* what /health measures the free space of; "" = not measured */
    /* /health's repository indicator (api_server.c): the last probe's result, answered at once; a probe through the
     * read pool refreshes it in the background, so a saturated pool never turns /health DOWN */
    kt_status health_st;
    char health_err[256];
    int64_t health_at_us; /* 0: never probed */
    int health_probing;
};

/* ---- api_read.c: a handler's store reads off the loop (store/db_pool.h) ----------------------------------------
 * A handler parses its request into a job (copies of what it needs: the request's strings die with it), then
 * kt_api_read(w, r, fn, answer, job, job_free): r is deferred, fn(session, job) runs on a pool thread and may touch
 * only its job and the session (no w, no r, no base/metrics), then answer(w, r, st, err, job) runs on the loop if the
 * client is still waiting, and job_free(job) always (NULL: nothing to free). err is the session's message when fn
 * failed with another status than KT_ENOTFOUND ("" otherwise). A full pool answers 503 (Retry-After: 1) without
 * running fn, a stopping one 503. Without a pool, fn runs at once on w->store and answer before kt_api_read returns. */
typedef kt_status (*kt_api_read_fn)(kt_store *s, void *job);
typedef void (*kt_api_answer_fn)(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *job);
void kt_api_read(kt_webserver *w, kt_http_req *r, kt_api_read_fn fn, kt_api_answer_fn answer, void *job,
                 void (*job_free)(void *job));
/* A handler's write, the same way (store/db_pool.h kt_db_txn): fn runs inside BEGIN ... COMMIT on a write session,
 * and again (up to KT_DB_TXN_ATTEMPTS runs) after a serialization failure, a deadlock or its own KT_EAGAIN, so fn is
 * re-runnable: it resets its job's outputs first and has no effect outside the session. A failure of fn rolls back.
 * What a commit releases (FLOW_CHANGED, TRIGGER_CHANGED, the response) goes in answer, which runs after the commit,
 * and runs even when the client has left meanwhile (its sends then do nothing; it reads nothing from r but what
 * kt_http_param/kt_http_query return, NULL then), so those messages always go. */
void kt_api_txn(kt_webserver *w, kt_http_req *r, kt_api_read_fn fn, kt_api_answer_fn answer, void *job,
                void (*job_free)(void *job));
/* Flow revisions written in one transaction (kt_api_txn): each item saves source as a new revision of ns/id, or
 * deletes the flow when source is NULL. After the commit, a FLOW_CHANGED per item that changed something goes to the
 * scheduler, then then(w, r, st, err, j) answers (j->v[i].revision, .changed set); on a failure nothing was written
 * and then gets the status. data (malloc'ed, may be NULL) is the handler's, freed with the job by data_free (NULL:
 * free). */
typedef struct kt_api_flow_write {
    char *ns, *id, *source;
    int dialect; /* the kt_dialect the source was read in (kept on the revision), -1 when not said */
    int revision, changed;
} kt_api_flow_write;
typedef struct kt_api_flow_writes {
    kt_api_flow_write *v;
    size_t n;
    void *data;
    void (*data_free)(void *data);
    kt_api_answer_fn then;
} kt_api_flow_writes;
kt_api_flow_writes *kt_api_flow_writes_new(void *data, void (*data_free)(void *data));
void kt_api_flow_writes_add(kt_api_flow_writes *j, const char *ns, const char *id, const char *source, int dialect);
void kt_api_flow_writes_run(kt_webserver *w, kt_http_req *r, kt_api_flow_writes *j, kt_api_answer_fn then);
void kt_api_flow_writes_free(void *j); /* a job not run */
/* Copies of request strings a job keeps (the request's own die with it if its client leaves). */
typedef struct kt_api_strs {
    char **v;
    size_t n;
} kt_api_strs;
const char *kt_api_keep(kt_api_strs *a, const char *s); /* NULL stays NULL */
void kt_api_strs_clear(kt_api_strs *a);
/* The execution of an id, read by a job: answer gets the kt_api_exec_job (ex set when st is KT_OK); data (malloc'ed,
 * may be NULL) is the handler's, freed with the job. */
typedef struct kt_api_exec_job {
    char id[256];
    json_t *ex;
    void *data;
} kt_api_exec_job;
void kt_api_read_execution(kt_webserver *w, kt_http_req *r, const char *id, kt_api_answer_fn answer, void *data);
/* kt_api_path_execution through the pool: cont(w, r, ex (taken)) runs on the loop with the path's execution; a
 * missing one answers 404 with not_found (a format taking the id) or becomes the creation kt_api_create_fallback
 * makes of it, a store failure 500. */
typedef void (*kt_api_exec_cont)(kt_webserver *w, kt_http_req *r, json_t *ex);
void kt_api_path_execution_then(kt_webserver *w, kt_http_req *r, const char *not_found, kt_api_exec_cont cont);
/* A stored flow revision (kt_store_flow_get, or kt_store_flow_get_any when any), read by a job: answer gets the
 * kt_api_flow_job (row set when st is KT_OK); kt_api_flow_job_parse then parses it on the loop (KT_OK: flow; KT_EINVAL:
 * d says why). data as for kt_api_read_execution. */
typedef struct kt_api_flow_job {
    char *ns, *id;
    int revision, any;
    kt_flow_row row;
    kt_flow *flow;
    kt_diags d;
    int with_states;
    json_t *states; /* KT_API_FLOW_STATES: the flow's trigger rows (kt_store_triggers_list), NULL when unreadable */
    void *data;
} kt_api_flow_job;
void kt_api_read_flow(kt_webserver *w, kt_http_req *r, const char *ns, const char *id, int revision, int any,
                      kt_api_answer_fn answer, void *data);
#define KT_API_FLOW_ANY 1    /* kt_store_flow_get_any */
#define KT_API_FLOW_STATES 2 /* the trigger rows too */
void kt_api_read_flow_ex(kt_webserver *w, kt_http_req *r, const char *ns, const char *id, int revision, int flags,
                         kt_api_answer_fn answer, void *data);
kt_status kt_api_flow_job_parse(kt_webserver *w, kt_api_flow_job *j);
/* A list of flows read by a job: the latest revisions (kt_store_flows_latest(ns: a prefix, NULL = all; no q)), a
 * flow's revisions (ns, id), the live namespaces, or the live ids of namespace ns. answer gets the kt_api_flows_job. */
typedef enum {
    KT_API_FLOWS_LATEST,
    KT_API_FLOWS_REVISIONS,
    KT_API_FLOWS_NAMESPACES,
    KT_API_FLOWS_IDS,
    KT_API_FLOWS_SOURCE /* kt_store_flows_source_search: the latest whose source holds every word */
} kt_api_flows_kind;
typedef struct kt_api_flows_job {
    kt_api_flows_kind kind;
    char *ns, *id;
    char **words;   /* KT_API_FLOWS_SOURCE */
    size_t nwords;
    int none;       /* KT_API_FLOWS_SOURCE: q has no word, nothing matches */
    json_t *rows;
    void *data;
} kt_api_flows_job;
void kt_api_read_flow_list(kt_webserver *w, kt_http_req *r, kt_api_flows_kind kind, const char *ns, const char *id,
                           kt_api_answer_fn answer, void *data);
void kt_api_read_flows(kt_webserver *w, kt_http_req *r, const char *ns_prefix, kt_api_answer_fn answer, void *data);
/* The latest flows (ns_prefix as kt_store_flows_latest's) whose source holds q by the web's word rules (kt_api_fulltext:
 * q split into its words, "*" or no q: every flow, a q without words: none), the store doing the search
 * (kt_store_flows_source_search). */
void kt_api_read_flow_sources(kt_webserver *w, kt_http_req *r, const char *ns_prefix, const char *q,
                              kt_api_answer_fn answer, void *data);
/* q's words (kt_api_fulltext's split), the non-empty ones copied into out (at most max); the count of all words,
 * empty ones included (0: q has none). */
size_t kt_api_q_word_copies(const char *q, char **out, size_t max, size_t *ncopied);
/* 500 "Internal server error: <err>" (kt_api_send_db_error with a message a read job brought back). */
void kt_api_send_store_error(kt_http_req *r, const char *err);
/* A read job's answer for the common statuses: 404 with not_found (a format taking arg) on KT_ENOTFOUND, 500 with
 * err otherwise; 1 when it answered (st not KT_OK). */
int kt_api_read_failed(kt_http_req *r, kt_status st, const char *err, const char *not_found, const char *arg);

/* ---- api_server.c: what the server says about itself, and basic auth ---------------------------------------- */

/* The API version Kite answers as (the Kestra line whose API it implements) and its own version. */
#define KT_API_KESTRA_VERSION "0.21.0"
#define KT_API_KITE_VERSION "0.1.0"
#define KT_API_COMMIT "kite"
/* Checks and keeps the basic-auth settings of cfg; KT_EINVAL with the reason (Kestra's) in err. */
kt_status kt_api_auth_init(kt_webserver *w, const kt_webserver_config *cfg, char *err, size_t errcap);
int kt_api_auth_guard(kt_http_req *r, void *ud); /* a kt_http_guard, ud the webserver */
void kt_api_auth_free(kt_webserver *w);
void kt_api_ping(kt_http_req *r, void *ud);
/* api_metrics.c */
void kt_api_metrics_by_execution(kt_http_req *r, void *ud);
void kt_api_metrics_names(kt_http_req *r, void *ud);
void kt_api_metrics_task_names(kt_http_req *r, void *ud);
void kt_api_metrics_tasks(kt_http_req *r, void *ud);
void kt_api_metrics_aggregates(kt_http_req *r, void *ud);
void kt_api_metrics_task_aggregates(kt_http_req *r, void *ud);
void kt_api_prometheus(kt_http_req *r, void *ud);
void kt_api_configs(kt_http_req *r, void *ud);
void kt_api_version(kt_http_req *r, void *ud);
void kt_api_health(kt_http_req *r, void *ud);
void kt_api_health_liveness(kt_http_req *r, void *ud);
void kt_api_cluster_nodes(kt_http_req *r, void *ud);

/* ---- api.c: answers and query parameters shared by the handlers -------------------------------- */

/* 422 "Invalid entity: path: msg, ..." with one _embedded error per diagnostic (Kestra's ConstraintViolation). */
void kt_api_send_diags(kt_http_req *r, const kt_diags *d);
/* status "Invalid entity: path: message" with that one error. */
void kt_api_send_one_error(kt_http_req *r, int status, const char *path, const char *message);
/* Content-Disposition: attachment; filename="<prefix><suffix>" (suffix may be NULL), escaped as a quoted-string. */
void kt_api_attachment(kt_http_req *r, const char *prefix, const char *suffix);
/* The stored execution of the path's {executionId} (new reference), or NULL after answering: 404 with not_found (a
 * format taking the id), or the creation kt_api_create_fallback makes of a POST shaped like one, or 500. */
json_t *kt_api_path_execution(kt_webserver *w, kt_http_req *r, const char *not_found);
/* ?<name>= as a terminal state, or NULL after answering 400/422 with Kestra's texts. */
const char *kt_api_terminal_state_param(kt_http_req *r, const char *name);
/* 500 with the store's last error. */
void kt_api_send_db_error(kt_webserver *w, kt_http_req *r);
/* Query parameter `name` as an int in [0, 1e9] (dflt when absent); -1 after sending 422. */
int kt_api_int_param(kt_http_req *r, const char *name, int dflt, int *out);
/* page (>= 1, default 1) and size (>= 1, default 10); -1 after sending 422. */
int kt_api_paging(kt_http_req *r, int *page, int *size);
/* labels=key:value (repeatable) -> [key, value, key, value...] in out (strings in buf); the number of pairs.
 * *bad is set, and 422 sent, on a malformed one. */
size_t kt_api_label_filters(kt_http_req *r, const char **out, char *buf, size_t cap, int *bad);

/* ---- api_follow.c ------------------------------------------------------------------------------- */
void kt_api_execution_follow(kt_http_req *r, void *ud);
void kt_api_logs_follow(kt_http_req *r, void *ud);
void kt_api_logs_download(kt_http_req *r, void *ud);
void kt_api_namespace_get(kt_http_req *r, void *ud);    /* api_namespaces.c */
/* api_exec_manage.c */
void kt_api_execution_delete(kt_http_req *r, void *ud);
void kt_api_execution_labels(kt_http_req *r, void *ud);
void kt_api_execution_flow_get(kt_http_req *r, void *ud);
void kt_api_execution_flow_by_id(kt_http_req *r, void *ud);
void kt_api_execution_namespaces(kt_http_req *r, void *ud);
void kt_api_execution_namespace_flows(kt_http_req *r, void *ud);
void kt_api_execution_validate(kt_http_req *r, void *ud);
void kt_api_execution_eval(kt_http_req *r, void *ud);
void kt_api_execution_resume_validate(kt_http_req *r, void *ud);
/* Deletes a terminated execution's rows (and logs when logs, metrics when metrics) in one transaction, then its
 * storage folder when storage (done runs then; KT_OK). KT_EAGAIN: the rows are gone and nothing asynchronous started
 * (the caller answers). */
kt_status kt_api_execution_delete_one(kt_webserver *w, const json_t *ex, int logs, int metrics, int storage,
                                      kt_storage_count_cb done, void *data, char *err, size_t errcap);
/* Kestra's setLabels merge: given wins, old's other labels stay; a system.* label only unchanged. NULL after 422. */
json_t *kt_api_merge_labels(kt_http_req *r, const json_t *old, const json_t *given);
/* api_exec_bulk.c: the bulk routes. A check returns NULL when the execution (NULL: not found) may go through, or the
 * message of its invalid entry. */
typedef const char *(*kt_api_bulk_check)(const json_t *ex, void *ud);
/* The executions of a bulk route: body_ids (a JSON array of ids; NULL: the search filters of r's query), each
 * checked; a JSON array of their ids, or NULL after answering (400 "invalid bulk <op>" with every invalid one, 4xx,
 * 500). Only ids are kept, so a by-query over many executions holds one document at a time (kt_api_bulk_load). */
json_t *kt_api_bulk_collect(kt_webserver *w, kt_http_req *r, const json_t *body_ids, const char *op,
                            kt_api_bulk_check check, void *ud);
int kt_api_is_terminated(const json_t *ex);
/* The stored execution of a JSON id string (new reference), or NULL. */
json_t *kt_api_bulk_load(kt_webserver *w, const json_t *id);
/* The request's body as JSON; NULL after answering 400. */
json_t *kt_api_json_request(kt_http_req *r);
/* An ExecutionCommand to the executor (taskrun may be NULL; data borrowed). */
kt_status kt_api_send_command(kt_webserver *w, const char *id, const char *taskrun, kt_cmd cmd, json_t *data);
/* Sends cmd for each execution id of exs (taken), data_of giving its data and task run (NULL: none);
 * answers 200 {"count"} or 503. */
typedef json_t *(*kt_api_bulk_data)(kt_webserver *w, const json_t *ex, void *ud, const char **taskrun);
void kt_api_bulk_commands(kt_webserver *w, kt_http_req *r, json_t *exs, kt_cmd cmd, kt_api_bulk_data data_of,
                          void *ud);
void kt_api_bulk_delete_by_ids(kt_http_req *r, void *ud);
void kt_api_bulk_delete_by_query(kt_http_req *r, void *ud);
void kt_api_bulk_labels_by_ids(kt_http_req *r, void *ud);
void kt_api_bulk_labels_by_query(kt_http_req *r, void *ud);
void kt_api_bulk_kill_by_ids(kt_http_req *r, void *ud);
void kt_api_bulk_kill_by_query(kt_http_req *r, void *ud);
void kt_api_bulk_resume_by_ids(kt_http_req *r, void *ud);
void kt_api_bulk_resume_by_query(kt_http_req *r, void *ud);
/* api_exec_commands.c: pause, unqueue, force-run */
void kt_api_execution_pause(kt_http_req *r, void *ud);
void kt_api_execution_unqueue(kt_http_req *r, void *ud);
void kt_api_execution_force_run(kt_http_req *r, void *ud);
void kt_api_bulk_pause_by_ids(kt_http_req *r, void *ud);
void kt_api_bulk_pause_by_query(kt_http_req *r, void *ud);
void kt_api_bulk_unqueue_by_ids(kt_http_req *r, void *ud);
void kt_api_bulk_unqueue_by_query(kt_http_req *r, void *ud);
void kt_api_bulk_force_run_by_ids(kt_http_req *r, void *ud);
void kt_api_bulk_force_run_by_query(kt_http_req *r, void *ud);
void kt_api_bulk_restart_by_ids(kt_http_req *r, void *ud);
void kt_api_bulk_restart_by_query(kt_http_req *r, void *ud);
void kt_api_bulk_replay_by_ids(kt_http_req *r, void *ud);
void kt_api_bulk_replay_by_query(kt_http_req *r, void *ud);
void kt_api_bulk_change_status_by_ids(kt_http_req *r, void *ud);
void kt_api_bulk_change_status_by_query(kt_http_req *r, void *ud);
/* Kestra's FlowForExecution of f (id, namespace, revision, inputs, tasks as TaskForExecution, triggers' id/type). */
json_t *kt_api_flow_for_execution(const kt_flow *f, int revision);
void kt_api_namespace_search(kt_http_req *r, void *ud);
void kt_api_namespace_dependencies(kt_http_req *r, void *ud); /* api_flows_graph.c */
void kt_api_logs_search(kt_http_req *r, void *ud);
void kt_api_logs_delete(kt_http_req *r, void *ud);
void kt_api_logs_delete_flow(kt_http_req *r, void *ud);

/* A stored flow revision (0 = latest) and its parse. KT_ENOTFOUND or KT_EDB leave nothing to free; KT_EINVAL (the
 * stored source no longer validates) leaves *row filled and d holding why; KT_OK gives *row and *flow. */
kt_status kt_api_flow_load(kt_webserver *w, const char *ns, const char *id, int revision, kt_flow_row *row,
                           kt_flow **flow, kt_diags *d);
/* The same for a handler: a missing flow answers 404 with not_found, a store failure 503, and -1 says r was
 * answered (nothing to free); otherwise KT_OK or KT_EINVAL as above. */
int kt_api_flow_load_or_answer(kt_webserver *w, kt_http_req *r, const char *ns, const char *id, int revision,
                               const char *not_found, kt_flow_row *row, kt_flow **flow, kt_diags *d);

/* ---- api_flows.c -------------------------------------------------------------------------------- */

/* Flow (or FlowWithSource when source != NULL) as the API returns it. */
json_t *kt_api_flow_json(const kt_flow *f, int revision, const char *source);
void kt_api_flow_create(kt_http_req *r, void *ud);
void kt_api_flow_update(kt_http_req *r, void *ud);
void kt_api_flow_validate(kt_http_req *r, void *ud);
void kt_api_flow_get(kt_http_req *r, void *ud);
void kt_api_flow_delete(kt_http_req *r, void *ud);
void kt_api_flow_namespace_update(kt_http_req *r, void *ud);
void kt_api_flow_search(kt_http_req *r, void *ud);
void kt_api_flow_list_namespace(kt_http_req *r, void *ud);
void kt_api_flow_bulk(kt_http_req *r, void *ud);
/* Kestra's full-text condition (H2): q split on punctuation, symbols and spaces, every word found in text ignoring
 * case; "*" matches everything, a q of separators only nothing. */
int kt_api_fulltext(const char *text, const char *q);
/* ?sort=field:asc|desc for flows (id, namespace, revision): field "" when absent; -1 after answering 422. */
int kt_api_flow_sort_param(kt_http_req *r, char *field, size_t cap, int *desc);
/* Sorts Flow JSON objects (or store rows) by field ("" = leave the namespace, id order). */
void kt_api_flows_sort(json_t *flows, const char *field, int desc);
/* Whether a Flow JSON carries every key:value pair of labels ([key, value, key, value...], n pairs). */
int kt_api_flow_has_labels(const json_t *flow, const char *const *labels, size_t n);

/* ---- api_flows_more.c: revisions, one task, PATCH of a task, distinct namespaces, source search, validation ---- */
void kt_api_flow_revisions(kt_http_req *r, void *ud);
void kt_api_flow_task(kt_http_req *r, void *ud);
void kt_api_flow_patch_task(kt_http_req *r, void *ud);
void kt_api_flow_distinct_namespaces(kt_http_req *r, void *ud);
void kt_api_flow_source_search(kt_http_req *r, void *ud);
void kt_api_flow_validate_task(kt_http_req *r, void *ud);
void kt_api_flow_validate_trigger(kt_http_req *r, void *ud);

/* ---- api_flows_graph.c: GET …/{namespace}/{id}/graph, POST /api/v1/flows/graph ---------------------------------- */
void kt_api_flow_graph(kt_http_req *r, void *ud);
void kt_api_flow_graph_source(kt_http_req *r, void *ud);
void kt_api_flow_dependencies(kt_http_req *r, void *ud);

/* ---- api_flows_bulk.c: by ids / by query, export, import ------------------------------------------------------- */

/* Kestra's system namespace (kestra.system-flows.namespace). */
#define KT_API_SYSTEM_NAMESPACE "system"
/* The latest live revisions matching r's q, namespace (prefix), labels and scope: [{namespace, id, revision, source,
 * disabled}]. NULL after answering r. */
json_t *kt_api_flows_by_query(kt_webserver *w, kt_http_req *r);
void kt_api_flows_delete_by_ids(kt_http_req *r, void *ud);
void kt_api_flows_delete_by_query(kt_http_req *r, void *ud);
void kt_api_flows_disable_by_ids(kt_http_req *r, void *ud);
void kt_api_flows_disable_by_query(kt_http_req *r, void *ud);
void kt_api_flows_enable_by_ids(kt_http_req *r, void *ud);
void kt_api_flows_enable_by_query(kt_http_req *r, void *ud);
void kt_api_flows_export_by_ids(kt_http_req *r, void *ud);
void kt_api_flows_export_by_query(kt_http_req *r, void *ud);
void kt_api_flows_import(kt_http_req *r, void *ud);

/* ---- api_executions.c --------------------------------------------------------------------------- */

/* The multipart body of r: text parts as {name: value}, and the parsed form in *form (NULL without a multipart
 * body; the caller frees it, and it points into r's body). NULL after answering 422 on a malformed body. */
json_t *kt_api_form_inputs(kt_http_req *r, kt_multipart **form);
/* The execution search's filters (namespace, flowId, q, state, labels, sort, startDate/endDate/timeRange; page and
 * size when paging) read from r, with the arrays the query points into; -1 after answering 4xx. */
typedef struct kt_api_exec_filter {
    kt_exec_query q;
    const char *states[16];
    const char *labels[64];
    char lbuf[4096];
} kt_api_exec_filter;
int kt_api_exec_filter_read(kt_http_req *r, kt_api_exec_filter *f, int paging);
/* Makes f's query point only at copies kept in a (and at f's own arrays): for a read job. */
void kt_api_exec_filter_keep(kt_api_exec_filter *f, kt_api_strs *a);
/* ?labels=key:value (repeatable) -> [{key, value}]; NULL after answering 422. */
json_t *kt_api_labels(kt_http_req *r);
/* Answers 409 when a stored flow cannot be executed (load == KT_EINVAL, or disabled); 1 when it did. */
int kt_api_refuse_unrunnable(kt_http_req *r, int load, const kt_flow *f, const kt_diags *d, const char *invalid_prefix,
                             const char *disabled);
/* Hands ex (taken) to the executor; r is answered on its reply. 1 when r waits in w->pending (holding r's deferred
 * handle: a caller that deferred r passes its reference on), 0 when r was answered with an error. */
int kt_api_execution_submit(kt_webserver *w, kt_http_req *r, json_t *ex, int wait);

/* api_exec_restart.c: the executor's manual changes of an execution; the reply of one (kt_api_on_reply passes it on). */
void kt_api_execution_restart(kt_http_req *r, void *ud);
void kt_api_execution_replay(kt_http_req *r, void *ud);
void kt_api_execution_change_status(kt_http_req *r, void *ud);
void kt_api_execution_mark_as(kt_http_req *r, void *ud);
void kt_api_manual_reply(kt_http_req *r, const kt_msg_reply *rep);

/* ---- api_create.c ------------------------------------------------------------------------------- */

/* POST /api/v1/executions/{namespace}/{id}: inputs (FILE parts stored first), labels, the new execution. */
void kt_api_execution_create(kt_http_req *r, void *ud);
void kt_api_execution_create_in(kt_webserver *w, kt_http_req *r, const char *ns, const char *id);
/* A POST /api/v1/executions/{a}/{b} routed to an execution action while no execution a exists: when flow (a, b) does,
 * it is created (1, answered); 0 otherwise. */
int kt_api_create_fallback(kt_webserver *w, kt_http_req *r);
void kt_api_execution_webhook(kt_http_req *r, void *ud);
/* The executor's Reply to an ExecutionCreate: answers the request waiting under m->corr. */
void kt_api_on_reply(kt_webserver *w, const kt_msg *m);
/* An executor's node went away: the requests still waiting for an executor's first answer get 503. */
void kt_api_executor_gone(kt_webserver *w, const char *node_id);
void kt_api_execution_get(kt_http_req *r, void *ud);
void kt_api_execution_search(kt_http_req *r, void *ud);
void kt_api_execution_kill(kt_http_req *r, void *ud);
void kt_api_execution_resume(kt_http_req *r, void *ud);
/* The resume's end (api_executions.c): the onResume inputs typed from raw, the executor told; 204 or an error
 * answered on r. 1 when resumed. */
int kt_api_resume_send(kt_webserver *w, kt_http_req *r, const char *id, const char *paused_run, const json_t *defs,
                       const json_t *raw);
/* A resume with FILE parts (api_create.c): they are stored as at creation, under the paused execution's inputs
 * folder, their URIs set in raw, then kt_api_resume_send. Takes ex, f (defs points into it), raw and form; r is
 * answered (refused: this request's files deleted again). */
void kt_api_resume_uploads(kt_webserver *w, kt_http_req *r, json_t *ex, kt_flow *f, const json_t *defs,
                           const char *paused_run, json_t *raw, kt_multipart *form);

/* ---- api_files.c -------------------------------------------------------------------------------- */

void kt_api_execution_file(kt_http_req *r, void *ud);
/* Answers r with the file at uri (a checked kestra:// URI), streamed chunk by chunk as application/octet-stream
 * (Content-Length from the file; Content-Disposition: attachment with its name when attachment), or with the
 * storage's failure (kt_api_storage_error). */
void kt_api_download(kt_webserver *w, kt_http_req *r, const char *uri, int attachment);
/* The answer to a storage failure on uri: 404 "Not Found: <uri> (No such file)" for KT_ENOTFOUND and KT_EINVAL (a
 * folder is no file either), 503 once the storage closes, 500 with err otherwise. */
void kt_api_storage_error(kt_http_req *r, kt_status st, const char *uri, const char *err);
void kt_api_execution_file_metas(kt_http_req *r, void *ud);
void kt_api_execution_file_preview(kt_http_req *r, void *ud);

/* ---- api_nsfiles.c ------------------------------------------------------------------------------ */

void kt_api_nsfile_get(kt_http_req *r, void *ud);
void kt_api_nsfile_stats(kt_http_req *r, void *ud);
void kt_api_nsfile_list(kt_http_req *r, void *ud);
void kt_api_nsfile_mkdir(kt_http_req *r, void *ud);
void kt_api_nsfile_upload(kt_http_req *r, void *ud);
void kt_api_nsfile_move(kt_http_req *r, void *ud);
void kt_api_nsfile_delete(kt_http_req *r, void *ud);
void kt_api_nsfile_search(kt_http_req *r, void *ud);
/* The namespace files root URI (`kestra:///<ns as path>/_files/`) of r's {namespace}; -1 after answering (no storage:
 * 503, a bad namespace: 422). */
int kt_api_nsf_root(kt_webserver *w, kt_http_req *r, char *root, size_t cap);
/* The URI of rel (a path checked by kt_suri_relative, "" = the root) under root; -1 when it does not fit. */
int kt_api_nsf_uri(const char *root, const char *rel, char *out, size_t cap);

/* ---- api_kv.c ----------------------------------------------------------------------------------- */

void kt_api_kv_list(kt_http_req *r, void *ud);
void kt_api_kv_get(kt_http_req *r, void *ud);
void kt_api_kv_put(kt_http_req *r, void *ud);
void kt_api_kv_delete(kt_http_req *r, void *ud);
void kt_api_kv_delete_bulk(kt_http_req *r, void *ud);

/* ---- api_nsfiles_zip.c ---------------------------------------------------------------------------- */

/* GET …/files/export: every namespace file and the namespace's flows (`_flows/<id>.yml`) as a streamed zip. */
void kt_api_nsfile_export(kt_http_req *r, void *ud);
/* POST …/files with a `.zip` fileContent: r's upload, its form (taken) and part, under the root URI. */
void kt_api_nsfile_import(kt_webserver *w, kt_http_req *r, kt_multipart *form, const kt_multipart_part *part,
                          const char *root);

/* api_flows.c: a flow parsed from source saved as its namespace's latest revision (created or updated, Kestra's
 * importFlow), the scheduler told. KT_EDB when the store fails. */
kt_status kt_api_flow_import(kt_webserver *w, const kt_flow *f, const char *source);

/* ---- api_triggers.c ----------------------------------------------------------------------------- */

/* Sends a one-object message (FlowChanged, TriggerChanged) to the scheduler; takes body. No scheduler hosted is
 * fine (it reads the store when it starts). */
void kt_api_notify_scheduler(kt_webserver *w, kt_msg_type type, json_t *body);
void kt_api_trigger_search(kt_http_req *r, void *ud);
void kt_api_trigger_flow(kt_http_req *r, void *ud);
void kt_api_trigger_update(kt_http_req *r, void *ud);
void kt_api_trigger_unlock(kt_http_req *r, void *ud);
void kt_api_trigger_restart(kt_http_req *r, void *ud);
void kt_api_unlock_by_triggers(kt_http_req *r, void *ud);
void kt_api_unlock_by_query(kt_http_req *r, void *ud);
void kt_api_backfill_pause(kt_http_req *r, void *ud);
void kt_api_backfill_unpause(kt_http_req *r, void *ud);
void kt_api_backfill_delete(kt_http_req *r, void *ud);
void kt_api_backfill_pause_by_triggers(kt_http_req *r, void *ud);
void kt_api_backfill_unpause_by_triggers(kt_http_req *r, void *ud);
void kt_api_backfill_delete_by_triggers(kt_http_req *r, void *ud);
void kt_api_backfill_pause_by_query(kt_http_req *r, void *ud);
void kt_api_backfill_unpause_by_query(kt_http_req *r, void *ud);
void kt_api_backfill_delete_by_query(kt_http_req *r, void *ud);
void kt_api_set_disabled_by_triggers(kt_http_req *r, void *ud);
void kt_api_set_disabled_by_query(kt_http_req *r, void *ud);

/* ---- api_logs.c --------------------------------------------------------------------------------- */

void kt_api_logs_get(kt_http_req *r, void *ud);

/* Appends s (taken; freed on failure) to the growing string array *arr of *n entries (room for *cap): 0, or -1 when
 * s is NULL or memory ran out. */
int kt_api_strv_push(char ***arr, size_t *n, size_t *cap, char *s);

#endif
