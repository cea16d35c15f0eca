/* POST /api/v1/executions/{namespace}/{id}: an execution from multipart inputs (KESTRA-system.md "Multipart input
 * handling"). Text parts are values as sent. A file part is keyed by its filename attribute (Kestra's clients send
 * field `files`, filename = the input id); when that names a declared input, the file is streamed into the storage
 * at <execution root>/inputs/<inputId>/<inputId>_<random digits><extension> (the name Kestra's
 * File.createTempFile gives it) before the inputs are typed, and its value is that kestra:// URI. So the execution
 * id is chosen first. A request that fails after some files were stored deletes the execution's folder before it
 * answers: a refused creation leaves nothing behind.
 *
 * The request body is already whole in memory (h2o buffers it, up to KT_HTTP_MAX_BODY, before the handler runs),
 * so "streaming" here means: one KT_STORAGE_CHUNK copy at a time through a storage writer, never a second copy of
 * the file. A body streamed from the socket would need h2o's request streaming, which the server does not use. */
#include "base/clock.h"
#include "base/env.h"
#include "base/id.h"
#include "base/log.h"
#include "base/partition.h"
#include "flow/checks.h"
#include "flow/inputs.h"
#include "flow/model.h"
#include "flow/secret_inputs.h"
#include "store/storage.h"
#include "store/storage_env.h"
#include "store/storage_uri.h"
#include "web/api_int.h"
#include "web/multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "api"
#define KT_URI_MAX (KT_SURI_PATH_MAX * 3 + 16) /* a checked path percent-encoded, and the scheme */

typedef struct kt_api_create {
    kt_webserver *w;
    kt_http_req *req; /* the request, or its deferred handle once an upload started (then deferred = 1) */
    int deferred, wait;
    kt_flow_row row;
    kt_flow *flow;
    const json_t *defs;         /* the inputs the file parts may name: the flow's, or the paused task's onResume */
    const char *ns, *flow_id;   /* where the execution's files live (borrowed from row or ex) */
    /* resume: the paused execution (its files are kept when the resume is refused: only this request's go) */
    int resume;
    json_t *ex, *stored_uris;   /* stored_uris: what this request committed (resume) */
    char paused_run[128];
    kt_multipart *form;
    json_t *raw, *labels;
    char exid[KT_ID_LEN + 1];
    int64_t schedule_us; /* ?scheduleDate: it waits CREATED until then (0: none) */
    char root[KT_URI_MAX]; /* the execution's folder: what a failure deletes */
    /* the upload in progress */
    size_t part, off;
    kt_storage_writer *wr;
    char *buf;
    char uri[KT_URI_MAX];
    int stored; /* a file was committed under root */
    /* the answer of a refused request, sent once the uploads are deleted: diags (422) or status + message */
    kt_diags d;
    int fail_status;
    char fail_msg[1024];
} kt_api_create;

static void kt_api_create_free(kt_api_create *c)
{
    kt_storage_writer_abort(c->wr);
    if (c->deferred)
        kt_http_req_release(c->req);
    kt_multipart_free(c->form);
    kt_flow_free(c->flow);
    kt_flow_row_clear(&c->row);
    json_decref(c->raw);
    json_decref(c->labels);
    kt_diags_clear(&c->d);
    json_decref(c->ex);
    json_decref(c->stored_uris);
    free(c->buf);
    free(c);
}

static void kt_api_create_answer_failure(kt_api_create *c)
{
    if (c->d.count)
        kt_api_send_diags(c->req, &c->d);
    else
        kt_http_send_error(c->req, c->fail_status ? c->fail_status : 500, c->fail_msg, NULL);
    kt_api_create_free(c);
}

static void kt_api_create_cleaned(kt_status st, size_t count, const char *err, void *data)
{
    kt_api_create *c = data;
    (void)count;
    if (st)
        KT_WARN(MOD, "a refused execution's uploads under %s stay: %s", c->root, err);
    kt_api_create_answer_failure(c);
}

static void kt_api_orphan_deleted(kt_status st, const char *err, void *data)
{
    (void)data;
    if (st && st != KT_ENOTFOUND)
        KT_WARN(MOD, "an upload of a refused resume stays: %s", err);
}

/* A refused resume's own uploads: deleted one by one (the execution's other files stay), in the background. */
static void kt_api_resume_forget(kt_api_create *c)
{
    size_t i;
    json_t *u;
    char err[512];
    json_array_foreach(c->stored_uris, i, u)
        if (kt_storage_delete(c->w->storage, json_string_value(u), kt_api_orphan_deleted, NULL, err, sizeof err))
            KT_WARN(MOD, "an upload of a refused resume stays: %s", err);
}

/* Refuses the request with what c->d or c->fail_* hold, after deleting what it stored. */
static void kt_api_create_refuse(kt_api_create *c)
{
    char err[512];
    kt_storage_writer_abort(c->wr);
    c->wr = NULL;
    if (c->resume) {
        kt_api_resume_forget(c);
    } else if (c->stored) {
        kt_status st = kt_storage_delete_prefix(c->w->storage, c->root, kt_api_create_cleaned, c, err, sizeof err);
        if (st == KT_OK)
            return;
        KT_WARN(MOD, "a refused execution's uploads under %s stay: %s", c->root, err);
    }
    kt_api_create_answer_failure(c);
}

static void kt_api_create_fail(kt_api_create *c, int status, const char *msg)
{
    c->fail_status = status;
    snprintf(c->fail_msg, sizeof c->fail_msg, "%s", msg);
    kt_api_create_refuse(c);
}

static void kt_api_orphans_deleted(kt_status st, size_t count, const char *err, void *data)
{
    (void)count, (void)data;
    if (st)
        KT_WARN(MOD, "uploads of an execution the executor refused stay: %s", err);
}

/* Every input is here: type them, make the execution and hand it over (or resume the paused one). */
static void kt_api_create_finish(kt_api_create *c)
{
    json_t *inputs = NULL;
    if (!kt_http_req_alive(c->req)) { /* the client left during the uploads: only clean up */
        kt_api_create_fail(c, 500, "the client left");
        return;
    }
    if (c->resume) {
        if (!kt_api_resume_send(c->w, c->req, c->exid, c->paused_run, c->defs, c->raw))
            kt_api_resume_forget(c); /* answered with an error: its files are nobody's */
        kt_api_create_free(c);
        return;
    }
    /* dynamic defaults render here (the flow's dialect, its storage for kv() and read()); SECRET inputs are then
     * stored sealed with the configured key, as Kestra stores them */
    kt_env env;
    kt_env_init_real(&env);
    env.dialect = kt_dialect_of_flow(kt_flow_json(c->flow));
    kt_env_files files;
    if (c->w->storage) {
        kt_storage_env_files(c->w->storage, &files);
        env.files = &files;
    }
    if (kt_inputs_resolve_in(kt_flow_inputs(c->flow), c->raw, kt_flow_json(c->flow), &env, &inputs, &c->d) != KT_OK) {
        json_decref(inputs);
        kt_api_create_refuse(c);
        return;
    }
    json_t *failed = NULL;
    kt_check_behavior checked = kt_checks_evaluate(kt_flow_json(c->flow), inputs, &env, &failed);
    if (checked == KT_CHECK_BLOCK) {
        /* Kestra's IllegalArgumentException: 422, and no execution (its uploaded files are deleted) */
        char *why = kt_checks_blocked_message(failed), msg[sizeof c->fail_msg];
        snprintf(msg, sizeof msg, "Illegal argument: %s", why);
        free(why);
        json_decref(failed);
        json_decref(inputs);
        kt_api_create_fail(c, 422, msg);
        return;
    }
    json_decref(failed);
    char serr[512];
    if (kt_secret_inputs_seal(kt_flow_inputs(c->flow), inputs, &env, serr, sizeof serr)) {
        json_decref(inputs);
        kt_http_send_error(c->req, 422, serr, NULL);
        if (c->stored) { /* refused: its uploaded files have no execution */
            char err[256];
            kt_storage_delete_prefix(c->w->storage, c->root, kt_api_orphans_deleted, NULL, err, sizeof err);
        }
        kt_api_create_free(c);
        return;
    }
    json_t *ex = kt_execution_new(c->exid, c->row.namespace_, c->row.id, c->row.revision, inputs,
                                  json_object_get(kt_flow_json(c->flow), "labels"), c->labels, kt_now_us());
    json_decref(inputs);
    if (checked == KT_CHECK_FAIL) { /* Kestra: created FAILED, with a warning in the execution's log */
        kt_state_set(json_object_get(ex, "state"), KT_S(FAILED), kt_now_us());
        KT_WARN(MOD, "[namespace: %s] [flow: %s] [execution: %s] Flow execution failed because one or more condition "
                     "checks evaluated to false.", c->row.namespace_, c->row.id, c->exid);
    }
    if (c->schedule_us) {
        char at[48];
        kt_time_format(c->schedule_us, at, sizeof at);
        json_object_set_new(ex, "scheduleDate", json_string(at));
    }
    if (kt_api_execution_submit(c->w, c->req, ex, c->wait))
        c->deferred = 0; /* the pending entry holds the handle now */
    else if (c->stored) { /* answered with an error: the files have no execution */
        char err[256];
        kt_storage_delete_prefix(c->w->storage, c->root, kt_api_orphans_deleted, NULL, err, sizeof err);
    }
    kt_api_create_free(c);
}

/* The declared input a file part is for (its filename attribute is the input id), or NULL. */
static const json_t *kt_api_file_input(const kt_api_create *c, const kt_multipart_part *p)
{
    size_t i;
    const json_t *def;
    if (!p->filename)
        return NULL;
    json_array_foreach(c->defs, i, def) {
        const char *id = kt_input_id(def);
        if (id && !strcmp(id, p->filename))
            return def;
    }
    return NULL;
}

static void kt_api_upload_next(kt_api_create *c);
static void kt_api_uploads_start(kt_api_create *c, kt_http_req *r);

static void kt_api_upload_committed(kt_status st, const char *err, void *data)
{
    kt_api_create *c = data;
    c->wr = NULL; /* the storage frees it after this callback */
    if (st) {
        char msg[1024];
        snprintf(msg, sizeof msg, "Internal server error: Can't upload file: %s (%s)",
                 kt_multipart_get(c->form, c->part)->filename, err);
        kt_api_create_fail(c, 500, msg);
        return;
    }
    c->stored = 1;
    if (c->resume)
        json_array_append_new(c->stored_uris, json_string(c->uri));
    json_object_set_new(c->raw, kt_multipart_get(c->form, c->part)->filename, json_string(c->uri));
    c->part++;
    c->off = 0;
    kt_api_upload_next(c);
}

static void kt_api_upload_written(kt_status st, const char *err, void *data)
{
    kt_api_create *c = data;
    if (st) {
        char msg[1024];
        snprintf(msg, sizeof msg, "Internal server error: Can't upload file: %s (%s)",
                 kt_multipart_get(c->form, c->part)->filename, err);
        c->stored = 1; /* the folder may hold earlier files */
        kt_api_create_fail(c, 500, msg);
        return;
    }
    kt_api_upload_next(c);
}

/* Opens the writer for the file part c->part: <root>/inputs/<id>/<id>_<digits><extension>. */
static int kt_api_upload_open(kt_api_create *c, const kt_multipart_part *p, const json_t *def)
{
    char name[KT_SURI_NAME_MAX + 1], err[512], msg[1024];
    const char *ext = json_string_value(json_object_get(def, "extension"));
    const char *type = json_string_value(json_object_get(def, "type"));
    if (!ext || !type || strcmp(type, "FILE"))
        ext = ".upl";
    /* Java's createTempFile: prefix, an unsigned random long, suffix (a dot added when the extension has none) */
    int n = snprintf(name, sizeof name, "%s_%llu%s%s", p->filename, (unsigned long long)kt_env_random_seed(),
                     ext[0] == '.' ? "" : ".", ext);
    if (n < 0 || (size_t)n >= sizeof name ||
        kt_suri_input_file(c->ns, c->flow_id, c->exid, p->filename, name, c->uri, sizeof c->uri) ||
        kt_storage_writer_open(c->w->storage, c->uri, NULL, &c->wr, err, sizeof err)) {
        snprintf(msg, sizeof msg, "Internal server error: Can't upload file: %s (no valid storage name from `%s`)",
                 p->filename, name);
        c->wr = NULL;
        kt_api_create_fail(c, 500, msg);
        return -1;
    }
    return 0;
}

/* One step of the uploads: open the next file's writer, write its next chunk, or commit it; then finish. */
static void kt_api_upload_next(kt_api_create *c)
{
    const kt_multipart_part *p = NULL;
    const json_t *def = NULL;
    for (; c->part < kt_multipart_count(c->form); c->part++) {
        p = kt_multipart_get(c->form, c->part);
        if ((def = kt_api_file_input(c, p)))
            break;
    }
    if (c->part == kt_multipart_count(c->form)) {
        kt_api_create_finish(c);
        return;
    }
    if (!kt_http_req_alive(c->req)) { /* the body lives in the request: stop before reading it */
        kt_api_create_fail(c, 500, "the client left");
        return;
    }
    if (!c->wr && kt_api_upload_open(c, p, def))
        return;
    char err[512];
    kt_status st;
    if (c->off < p->len) {
        /* a copy: the request (and its body) may be disposed while the storage's thread writes */
        size_t n = p->len - c->off < KT_STORAGE_CHUNK ? p->len - c->off : KT_STORAGE_CHUNK;
        memcpy(c->buf, p->data + c->off, n);
        c->off += n;
        st = kt_storage_write(c->wr, c->buf, n, kt_api_upload_written, c);
    } else {
        st = kt_storage_writer_commit(c->wr, kt_api_upload_committed, c);
    }
    if (st) {
        snprintf(err, sizeof err, "Internal server error: Can't upload file: %s (%s)", p->filename, kt_strerror(st));
        kt_api_create_fail(c, 500, err);
    }
}

void kt_api_execution_create(kt_http_req *r, void *ud)
{
    kt_api_execution_create_in(ud, r, kt_http_param(r, "namespace"), kt_http_param(r, "id"));
}

/* POST /api/v1/executions/{a}/{b} is also the shape of …/{executionId}/pause (unqueue, resume...), which rank first
 * (a literal segment): when no execution a exists but flow (a, b) does, the request is a creation after all. */
int kt_api_create_fallback(kt_webserver *w, kt_http_req *r)
{
    const char *path = kt_http_path(r), *pre = "/api/v1/executions/", *method = kt_http_method(r);
    if (!path || !method || strcmp(method, "POST") || strncmp(path, pre, strlen(pre)))
        return 0;
    const char *a = path + strlen(pre), *slash = strchr(a, '/');
    if (!slash || slash == a || !slash[1] || strchr(slash + 1, '/'))
        return 0;
    char ns[256];
    snprintf(ns, sizeof ns, "%.*s", (int)(slash - a), a);
    kt_flow_row row;
    if (kt_store_flow_get(w->store, ns, slash + 1, 0, &row) != KT_OK)
        return 0;
    int live = !row.deleted;
    kt_flow_row_clear(&row);
    if (live)
        kt_api_execution_create_in(w, r, ns, slash + 1);
    return live;
}

/* The flow was read (a job of the read pool): r is the read's deferred handle, lent for this call; c takes a
 * reference of its own, which the pending creation or kt_api_create_free releases. */
static void kt_api_execution_create_read(kt_webserver *w, kt_http_req *r, kt_status got, const char *err, void *ud)
{
    kt_api_flow_job *j = ud;
    if (kt_api_read_failed(r, got, err, "Not Found: Requested Flow is not found.", NULL))
        return;
    kt_api_create *c = calloc(1, sizeof *c);
    if (!c) {
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        return;
    }
    c->w = w;
    kt_http_req_retain(r);
    c->req = r;
    c->deferred = 1;
    kt_diags_init(&c->d);
    int st = kt_api_flow_job_parse(w, j);
    c->row = j->row; /* the job's row and flow move to c */
    memset(&j->row, 0, sizeof j->row);
    c->flow = j->flow;
    j->flow = NULL;
    if (c->row.deleted) {
        kt_http_send_error(r, 404, "Not Found: Requested Flow is not found.", NULL);
        goto done;
    }
    if (kt_api_refuse_unrunnable(r, st, c->flow, &j->d, "Illegal state: Requested Flow is not valid. Error: ",
                                 "Illegal state: Requested Flow is disabled."))
        goto done;
    if (!(c->labels = kt_api_labels(r)) || !(c->raw = kt_api_form_inputs(r, &c->form)))
        goto done;
    const char *wait = kt_http_query(r, "wait");
    c->wait = wait && !strcmp(wait, "true");
    const char *sched = kt_http_query(r, "scheduleDate");
    if (sched && *sched && kt_time_parse(sched, &c->schedule_us)) {
        kt_http_send_error(r, 400, "Bad Request: Failed to convert argument [scheduleDate]: an ISO-8601 date-time "
                                   "with its offset (2024-12-20T10:00:00+01:00)", NULL);
        goto done;
    }
    c->defs = kt_flow_inputs(c->flow);
    c->ns = c->row.namespace_;
    c->flow_id = c->row.id;
    /* before the uploads: the files live under the execution's folder */
    kt_exec_id_for(c->ns, c->flow_id, kt_flow_concurrency_limit(kt_flow_json(c->flow)) > 0, c->exid);
    kt_api_uploads_start(c, r);
    return;
done:
    kt_api_create_free(c);
}

void kt_api_execution_create_in(kt_webserver *w, kt_http_req *r, const char *ns, const char *id)
{
    int revision;
    if (kt_api_int_param(r, "revision", 0, &revision))
        return;
    kt_api_read_flow(w, r, ns, id, revision, 0, kt_api_execution_create_read, NULL);
}

/* The file parts that name an input of c->defs are checked, then streamed into the storage one after the other
 * (kt_api_upload_next), and kt_api_create_finish runs; without any, it runs at once. */
static void kt_api_uploads_start(kt_api_create *c, kt_http_req *r)
{
    size_t files = 0;
    for (size_t i = 0; c->form && i < kt_multipart_count(c->form); i++) {
        const kt_multipart_part *p = kt_multipart_get(c->form, i);
        if (!kt_api_file_input(c, p))
            continue; /* undeclared inputs are ignored, as Kestra drops them */
        if (!p->len) { /* Kestra's RuntimeException, answered as any unexpected one */
            char msg[512];
            snprintf(msg, sizeof msg, "Internal server error: Can't upload file: %s", p->filename);
            kt_http_send_error(r, 500, msg, NULL);
            goto done;
        }
        files++;
    }
    if (!files) {
        kt_api_create_finish(c);
        return;
    }
    if (!c->w->storage) {
        kt_http_send_error(r, 503, "Service Unavailable: this node has no internal storage for file inputs", NULL);
        goto done;
    }
    if (kt_suri_execution_root(c->ns, c->flow_id, c->exid, c->root, sizeof c->root) ||
        !(c->buf = malloc(KT_STORAGE_CHUNK)) || (c->resume && !(c->stored_uris = json_array()))) {
        kt_http_send_error(r, 500, "Internal server error: no storage folder for this execution", NULL);
        goto done;
    }
    c->req = kt_http_defer(r);
    c->deferred = 1;
    kt_api_upload_next(c);
    return;
done:
    kt_api_create_free(c);
}

void kt_api_resume_uploads(kt_webserver *w, kt_http_req *r, json_t *ex, kt_flow *f, const json_t *defs,
                           const char *paused_run, json_t *raw, kt_multipart *form)
{
    kt_api_create *c = calloc(1, sizeof *c);
    if (!c) {
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        json_decref(ex);
        kt_flow_free(f);
        json_decref(raw);
        kt_multipart_free(form);
        return;
    }
    c->w = w;
    c->req = r;
    kt_diags_init(&c->d);
    c->resume = 1;
    c->ex = ex;
    c->flow = f;
    c->defs = defs;
    c->raw = raw;
    c->form = form;
    c->ns = json_string_value(json_object_get(ex, "namespace"));
    c->flow_id = json_string_value(json_object_get(ex, "flowId"));
    snprintf(c->exid, sizeof c->exid, "%s", json_string_value(json_object_get(ex, "id")));
    snprintf(c->paused_run, sizeof c->paused_run, "%s", paused_run);
    kt_api_uploads_start(c, r);
}
