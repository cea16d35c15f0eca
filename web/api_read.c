/* A handler's store reads off the loop (api_int.h kt_api_read): the request is deferred while the read runs on the
 * store's read pool, and answered from the read's completion when its client is still there. The job belongs to the
 * handler; this file owns only the envelope around it. */
#include "web/api_int.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct kt_api_read_job {
    kt_webserver *w;
    kt_http_req *r; /* the deferred handle */
    kt_api_read_fn fn;
    kt_api_answer_fn answer;
    void *job;
    void (*job_free)(void *job);
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
    if (kt_http_req_waiting(j->r)) { /* else the client left, or the server answered 503 as it stopped */
        if (!j->ran)
            kt_http_send_error(j->r, 503, "Service Unavailable: the server is shutting down", NULL);
        else
            j->answer(j->w, j->r, st, j->err, j->job);
    }
    kt_api_read_finish(j);
}

void kt_api_read(kt_webserver *w, kt_http_req *r, kt_api_read_fn fn, kt_api_answer_fn answer, void *job,
                 void (*job_free)(void *job))
{
    if (!w->pool) {
        kt_status st = fn(w->store, job);
        answer(w, r, st, st != KT_OK && st != KT_ENOTFOUND ? kt_store_errmsg(w->store) : "", job);
        if (job_free)
            job_free(job);
        return;
    }
    kt_api_read_job *j = calloc(1, sizeof *j);
    kt_http_req *h = j ? kt_http_defer(r) : NULL;
    if (!h) {
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        free(j);
        if (job_free)
            job_free(job);
        return;
    }
    *j = (kt_api_read_job){.w = w, .r = h, .fn = fn, .answer = answer, .job = job, .job_free = job_free};
    kt_status st = kt_db_read(w->pool, kt_api_read_run, kt_api_read_done, j);
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
