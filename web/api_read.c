/* A handler's store reads off the loop (api_int.h kt_api_read): the request is deferred while the read runs on the
 * store's read pool, and answered from the read's completion when its client is still there. Its writes the same way
 * (kt_api_txn: kt_db_txn, BEGIN; fn; COMMIT on a write session). The job belongs to the handler; this file owns only
 * the envelope around it. */
#include "web/api_int.h"
#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct kt_api_read_job {
    kt_webserver *w;
    kt_http_req *r; /* the deferred handle */
    kt_api_read_fn fn;
    kt_api_answer_fn answer;
    void *job;
    void (*job_free)(void *job);
    int txn;       /* kt_api_txn: answer runs even when the client left, for what the commit releases */
    int ran;       /* fn ran (a pool closing completes the jobs it never started with KT_ECLOSED) */
    char err[512]; /* the session's message when fn failed; written on the pool thread before done */
} kt_api_read_job;

void kt_api_send_store_error(kt_http_req *r, const char *err)
{
    char msg[600];
    snprintf(msg, sizeof msg, "Internal server error: %s", err && *err ? err : "the store failed");
    kt_http_send_error(r, 500, msg, NULL);
}

int kt_api_read_failed(kt_http_req *r, kt_status st, const char *err, const char *not_found, const char *arg)
{
    if (st == KT_OK)
        return 0;
    if (st == KT_ENOTFOUND && not_found) {
        char msg[600];
        snprintf(msg, sizeof msg, not_found, arg ? arg : "");
        kt_http_send_error(r, 404, msg, NULL);
    } else {
        kt_api_send_store_error(r, err);
    }
    return 1;
}

/* On a pool thread: the handler's fn, and the session's message while the session is still this job's. */
static kt_status kt_api_read_run(kt_store *s, void *ud)
{
    kt_api_read_job *j = ud;
    j->ran = 1;
    kt_status st = j->fn(s, j->job);
    if (st != KT_OK && st != KT_ENOTFOUND)
        snprintf(j->err, sizeof j->err, "%s", kt_store_errmsg(s));
    return st;
}

static void kt_api_read_finish(kt_api_read_job *j)
{
    kt_http_req_release(j->r);
    if (j->job_free)
        j->job_free(j->job);
    free(j);
}

static void kt_api_read_done(kt_status st, void *ud)
{
    kt_api_read_job *j = ud;
    int waiting = kt_http_req_waiting(j->r); /* else the client left, or the server answered 503 as it stopped */
    if (j->ran && (waiting || j->txn)) /* a commit's messages go whether or not anyone reads the response */
        j->answer(j->w, j->r, st, j->err, j->job);
    else if (waiting)
        kt_http_send_error(j->r, 503, "Service Unavailable: the server is shutting down", NULL);
    kt_api_read_finish(j);
}

/* Without a pool: BEGIN; fn; COMMIT on the loop's session, fn re-run on KT_EAGAIN as kt_db_txn would. */
static kt_status kt_api_txn_inline(kt_store *s, kt_api_read_fn fn, void *job)
{
    kt_status st = KT_EAGAIN;
    for (int attempt = 0; attempt < KT_DB_TXN_ATTEMPTS && st == KT_EAGAIN; attempt++) {
        if ((st = kt_store_begin(s)) != KT_OK)
            return st;
        st = fn(s, job);
        if (st == KT_OK)
            st = kt_store_commit(s);
        else
            kt_store_rollback(s);
    }
    return st;
}

static void kt_api_job(kt_webserver *w, kt_http_req *r, int txn, kt_api_read_fn fn, kt_api_answer_fn answer,
                       void *job, void (*job_free)(void *job))
{
    if (!w->pool) {
        kt_status st = txn ? kt_api_txn_inline(w->store, fn, job) : fn(w->store, job);
        answer(w, r, st, st != KT_OK && st != KT_ENOTFOUND ? kt_store_errmsg(w->store) : "", job);
        if (job_free)
            job_free(job);
        return;
    }
    kt_api_read_job *j = calloc(1, sizeof *j);
    kt_http_req *h = j ? kt_http_defer(r) : NULL;
    if (h && h == r) /* r is already a handle (a read from another read's answer): this job holds its own reference */
        kt_http_req_retain(h);
    if (!h) {
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        free(j);
        if (job_free)
            job_free(job);
        return;
    }
    *j = (kt_api_read_job){.w = w, .r = h, .txn = txn, .fn = fn, .answer = answer, .job = job, .job_free = job_free};
    kt_status st = (txn ? kt_db_txn : kt_db_read)(w->pool, kt_api_read_run, kt_api_read_done, j);
    if (st == KT_OK)
        return;
    if (st == KT_EAGAIN) { /* the pool is busy: the client tries again (Kestra's clients retry a 503) */
        kt_http_add_header(h, "Retry-After", "1");
        kt_http_send_error(h, 503, "Service Unavailable: too many requests waiting for the store", NULL);
    } else {
        kt_http_send_error(h, 503, "Service Unavailable: the server is shutting down", NULL);
    }
    kt_api_read_finish(j);
}

void kt_api_read(kt_webserver *w, kt_http_req *r, kt_api_read_fn fn, kt_api_answer_fn answer, void *job,
                 void (*job_free)(void *job))
{
    kt_api_job(w, r, 0, fn, answer, job, job_free);
}

void kt_api_txn(kt_webserver *w, kt_http_req *r, kt_api_read_fn fn, kt_api_answer_fn answer, void *job,
                void (*job_free)(void *job))
{
    kt_api_job(w, r, 1, fn, answer, job, job_free);
}

/* ---- what jobs keep of their request ---- */

const char *kt_api_keep(kt_api_strs *a, const char *s)
{
    if (!s)
        return NULL;
    char **v = kt_xrealloc(a->v, (a->n + 1) * sizeof *v);
    a->v = v;
    return v[a->n++] = kt_xstrdup(s);
}

void kt_api_strs_clear(kt_api_strs *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

void kt_api_exec_filter_keep(kt_api_exec_filter *f, kt_api_strs *a)
{
    kt_exec_query *q = &f->q;
    q->namespace_ = kt_api_keep(a, q->namespace_);
    q->flow_id = kt_api_keep(a, q->flow_id);
    q->q = kt_api_keep(a, q->q);
    for (size_t i = 0; i < q->nstates; i++)
        f->states[i] = kt_api_keep(a, q->states[i]);
    for (size_t i = 0; i < 2 * q->nlabels; i++)
        f->labels[i] = kt_api_keep(a, q->labels[i]);
    q->states = f->states; /* f may have been copied since it was read: point into this one */
    q->labels = f->labels;
}

/* ---- the execution of an id ---- */

static kt_status kt_api_exec_job_read(kt_store *s, void *ud)
{
    kt_api_exec_job *j = ud;
    return kt_store_execution_get(s, j->id, &j->ex);
}

static void kt_api_exec_job_free(void *ud)
{
    kt_api_exec_job *j = ud;
    json_decref(j->ex);
    free(j->data);
    free(j);
}

void kt_api_read_execution(kt_webserver *w, kt_http_req *r, const char *id, kt_api_answer_fn answer, void *data)
{
    kt_api_exec_job *j = kt_xcalloc(1, sizeof *j);
    snprintf(j->id, sizeof j->id, "%s", id ? id : "");
    j->data = data;
    kt_api_read(w, r, kt_api_exec_job_read, answer, j, kt_api_exec_job_free);
}

/* ---- a stored flow revision ---- */

static kt_status kt_api_flow_job_read(kt_store *s, void *ud)
{
    kt_api_flow_job *j = ud;
    kt_status st = j->any ? kt_store_flow_get_any(s, j->ns, j->id, j->revision, &j->row)
                          : kt_store_flow_get(s, j->ns, j->id, j->revision, &j->row);
    /* the trigger rows are an extra the answer does without when they cannot be read */
    if (st == KT_OK && j->with_states && kt_store_triggers_list(s, j->ns, j->id, &j->states) != KT_OK)
        j->states = NULL;
    return st;
}

static void kt_api_flow_job_free(void *ud)
{
    kt_api_flow_job *j = ud;
    kt_flow_row_clear(&j->row);
    kt_flow_free(j->flow);
    kt_diags_clear(&j->d);
    json_decref(j->states);
    free(j->ns);
    free(j->id);
    free(j->data);
    free(j);
}

void kt_api_read_flow(kt_webserver *w, kt_http_req *r, const char *ns, const char *id, int revision, int any,
                      kt_api_answer_fn answer, void *data)
{
    kt_api_read_flow_ex(w, r, ns, id, revision, any ? KT_API_FLOW_ANY : 0, answer, data);
}

void kt_api_read_flow_ex(kt_webserver *w, kt_http_req *r, const char *ns, const char *id, int revision, int flags,
                         kt_api_answer_fn answer, void *data)
{
    int any = (flags & KT_API_FLOW_ANY) != 0;
    kt_api_flow_job *j = kt_xcalloc(1, sizeof *j);
    j->with_states = (flags & KT_API_FLOW_STATES) != 0;
    j->ns = kt_xstrdup(ns ? ns : "");
    j->id = kt_xstrdup(id ? id : "");
    j->revision = revision;
    j->any = any;
    j->data = data;
    kt_diags_init(&j->d);
    kt_api_read(w, r, kt_api_flow_job_read, answer, j, kt_api_flow_job_free);
}

kt_status kt_api_flow_job_parse(kt_webserver *w, kt_api_flow_job *j)
{
    if (kt_flow_parse_pinned(j->row.source, strlen(j->row.source), "flow.yaml", w->plugin_defaults, j->row.dialect,
                             &j->flow, &j->d) != KT_OK) {
        j->flow = NULL;
        return KT_EINVAL;
    }
    return KT_OK;
}

/* ---- lists of flows: the latest revisions, a flow's revisions, the namespaces, a namespace's ids ---- */

static kt_status kt_api_flows_job_read(kt_store *s, void *ud)
{
    kt_api_flows_job *j = ud;
    switch (j->kind) {
    case KT_API_FLOWS_LATEST: return kt_store_flows_latest(s, j->ns, NULL, &j->rows);
    case KT_API_FLOWS_REVISIONS: return kt_store_flow_revisions(s, j->ns, j->id, &j->rows);
    case KT_API_FLOWS_NAMESPACES: return kt_store_flow_namespaces(s, &j->rows);
    case KT_API_FLOWS_IDS: return kt_store_flow_ids(s, j->ns, &j->rows);
    case KT_API_FLOWS_SOURCE:
        if (j->none) {
            j->rows = json_array();
            return j->rows ? KT_OK : KT_ENOMEM;
        }
        return kt_store_flows_source_search(s, j->ns, (const char *const *)j->words, j->nwords, &j->rows);
    }
    return KT_EINTERNAL;
}

static void kt_api_flows_job_free(void *ud)
{
    kt_api_flows_job *j = ud;
    json_decref(j->rows);
    free(j->ns);
    free(j->id);
    for (size_t i = 0; i < j->nwords; i++)
        free(j->words[i]);
    free(j->words);
    free(j->data);
    free(j);
}

void kt_api_read_flow_list(kt_webserver *w, kt_http_req *r, kt_api_flows_kind kind, const char *ns, const char *id,
                           kt_api_answer_fn answer, void *data)
{
    kt_api_flows_job *j = kt_xcalloc(1, sizeof *j);
    j->kind = kind;
    j->ns = ns ? kt_xstrdup(ns) : NULL;
    j->id = id ? kt_xstrdup(id) : NULL;
    j->data = data;
    kt_api_read(w, r, kt_api_flows_job_read, answer, j, kt_api_flows_job_free);
}

void kt_api_read_flows(kt_webserver *w, kt_http_req *r, const char *ns_prefix, kt_api_answer_fn answer, void *data)
{
    kt_api_read_flow_list(w, r, KT_API_FLOWS_LATEST, ns_prefix, NULL, answer, data);
}

void kt_api_read_flow_sources(kt_webserver *w, kt_http_req *r, const char *ns_prefix, const char *q,
                              kt_api_answer_fn answer, void *data)
{
    kt_api_flows_job *j = kt_xcalloc(1, sizeof *j);
    j->kind = KT_API_FLOWS_SOURCE;
    j->ns = ns_prefix ? kt_xstrdup(ns_prefix) : NULL;
    j->data = data;
    if (q && *q && strcmp(q, "*")) {
        j->words = kt_xcalloc(32, sizeof *j->words);
        j->none = kt_api_q_word_copies(q, j->words, 32, &j->nwords) == 0; /* H2's falseCondition */
    }
    kt_api_read(w, r, kt_api_flows_job_read, answer, j, kt_api_flows_job_free);
}

/* ---- the execution of the path's {executionId} ---- */

typedef struct kt_api_path_exec {
    char not_found[256];
    kt_api_exec_cont cont;
} kt_api_path_exec;

static void kt_api_path_execution_read(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_exec_job *j = ud;
    kt_api_path_exec *p = j->data;
    if (st == KT_ENOTFOUND) {
        if (!kt_api_create_fallback(w, r)) {
            char msg[600];
            snprintf(msg, sizeof msg, p->not_found, j->id);
            kt_http_send_error(r, 404, msg, NULL);
        }
        return;
    }
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    p->cont(w, r, json_incref(j->ex));
}

void kt_api_path_execution_then(kt_webserver *w, kt_http_req *r, const char *not_found, kt_api_exec_cont cont)
{
    kt_api_path_exec *p = kt_xcalloc(1, sizeof *p);
    snprintf(p->not_found, sizeof p->not_found, "%s", not_found);
    p->cont = cont;
    kt_api_read_execution(w, r, kt_http_param(r, "executionId"), kt_api_path_execution_read, p);
}

/* ---- flow revisions written together ---- */

kt_api_flow_writes *kt_api_flow_writes_new(void *data, void (*data_free)(void *data))
{
    kt_api_flow_writes *j = kt_xcalloc(1, sizeof *j);
    j->data = data;
    j->data_free = data_free;
    return j;
}

void kt_api_flow_writes_add(kt_api_flow_writes *j, const char *ns, const char *id, const char *source, int dialect)
{
    j->v = kt_xrealloc(j->v, (j->n + 1) * sizeof *j->v);
    j->v[j->n++] = (kt_api_flow_write){.ns = kt_xstrdup(ns), .id = kt_xstrdup(id),
                                       .source = source ? kt_xstrdup(source) : NULL, .dialect = dialect};
}

static kt_status kt_api_flow_writes_fn(kt_store *s, void *ud)
{
    kt_api_flow_writes *j = ud;
    for (size_t i = 0; i < j->n; i++) {
        kt_api_flow_write *x = &j->v[i];
        x->revision = x->changed = 0;
        kt_status st = !x->source       ? kt_store_flow_delete(s, x->ns, x->id)
                       : x->dialect < 0 ? kt_store_flow_save(s, x->ns, x->id, x->source, &x->revision, &x->changed)
                                        : kt_store_flow_save_dialect(s, x->ns, x->id, x->source, (kt_dialect)x->dialect,
                                                                     &x->revision, &x->changed);
        if (st)
            return st;
        if (!x->source)
            x->changed = 1;
    }
    return KT_OK;
}

static void kt_api_flow_writes_answer(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_flow_writes *j = ud;
    for (size_t i = 0; st == KT_OK && i < j->n; i++)
        if (j->v[i].changed)
            kt_api_notify_scheduler(w, KT_MSG_FLOW_CHANGED,
                                    json_pack("{s:s, s:s}", "namespace", j->v[i].ns, "id", j->v[i].id));
    j->then(w, r, st, err, j);
}

void kt_api_flow_writes_free(void *ud)
{
    kt_api_flow_writes *j = ud;
    for (size_t i = 0; i < j->n; i++) {
        free(j->v[i].ns);
        free(j->v[i].id);
        free(j->v[i].source);
    }
    free(j->v);
    if (j->data_free)
        j->data_free(j->data);
    else
        free(j->data);
    free(j);
}

void kt_api_flow_writes_run(kt_webserver *w, kt_http_req *r, kt_api_flow_writes *j, kt_api_answer_fn then)
{
    j->then = then;
    kt_api_txn(w, r, kt_api_flow_writes_fn, kt_api_flow_writes_answer, j, kt_api_flow_writes_free);
}
