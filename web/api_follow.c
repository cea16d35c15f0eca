/* The follow endpoints (KESTRA-system.md §2): Server-Sent Events with Kestra's framing, the SSE id used as the
 * event kind (`progress`, then `end` for executions). The webserver reads the repository on a short timer rather
 * than subscribing to the executor: it works the same whether the executor runs in this process or elsewhere, and
 * the repository is what GET answers too. */
#include "flow/model.h"
#include "base/json.h"
#include "base/clock.h"
#include "web/api_int.h"

#include <stdlib.h>
#include <string.h>

#define KT_FOLLOW_POLL_MS 100

typedef struct kt_follow {
    kt_webserver *w;
    kt_http_stream *s;
    uv_timer_t timer;
    char execution_id[256];
    int logs;             /* following logs (never ends on its own) or the execution */
    char min_level[16];
    int64_t after;        /* logs: position of the last one sent (the read job's while reading) */
    char *last;           /* execution: the JSON last sent, to send only changes */
    int ended;
    /* one poll in flight at most (a slow store skips ticks rather than piling reads up); while it runs the pool
     * thread owns after and got, and the follow is freed only once both it and the timer are done */
    int reading, timer_closed;
    kt_status got_st;
    json_t *got; /* what the poll read: the logs after `after`, or the execution */
} kt_follow;

static void kt_follow_free(kt_follow *f)
{
    json_decref(f->got);
    free(f->last);
    free(f);
}

static void kt_follow_closed(uv_handle_t *h)
{
    kt_follow *f = h->data;
    f->timer_closed = 1;
    if (!f->reading)
        kt_follow_free(f);
}

/* Ends the stream (if the http layer has not) and releases everything. */
static void kt_follow_finish(kt_follow *f)
{
    if (f->ended)
        return;
    f->ended = 1;
    uv_timer_stop(&f->timer);
    kt_http_sse_end(f->s);
    uv_close((uv_handle_t *)&f->timer, kt_follow_closed);
}

static void kt_follow_on_close(void *ud) { kt_follow_finish(ud); }

static void kt_follow_send(kt_follow *f, const char *id, const json_t *v)
{
    char *txt = kt_json_dump_jackson(v, NULL);
    if (txt)
        kt_http_sse_event(f->s, id, NULL, txt);
    free(txt);
}

static void kt_follow_logs(kt_follow *f, json_t *logs)
{
    size_t i;
    json_t *l;
    json_array_foreach(logs, i, l) kt_follow_send(f, "progress", l);
}

/* Sends the execution when it changed; `end` (after a last `progress`) once it is terminated and not paused. */
static void kt_follow_execution(kt_follow *f, json_t *ex)
{
    json_t *shown = kt_execution_present(ex, kt_now_us());
    const char *st = kt_state_current(shown);
    if (!f->last && kt_state_is_terminated(st)) { /* already finished: a single `end` */
        kt_follow_send(f, "end", shown);
        json_decref(shown);
        kt_follow_finish(f);
        return;
    }
    /* duration grows while running: compare without it */
    json_t *cmp = json_deep_copy(shown);
    json_object_del(json_object_get(cmp, "state"), "duration");
    char *sig = kt_json_dump_jackson(cmp, NULL);
    json_decref(cmp);
    if (sig && (!f->last || strcmp(sig, f->last))) {
        kt_follow_send(f, "progress", shown);
        free(f->last);
        f->last = sig;
        sig = NULL;
    }
    free(sig);
    if (kt_state_is_terminated(st)) { /* the last state went as `progress`; Kestra sends it again as `end` */
        kt_follow_send(f, "end", shown);
        json_decref(shown);
        kt_follow_finish(f);
        return;
    }
    json_decref(shown);
}

/* The poll's read, on a pool thread: touches the store and the fields the follow left to it (after, got). */
static kt_status kt_follow_read(kt_store *s, void *ud)
{
    kt_follow *f = ud;
    if (f->logs)
        return kt_store_logs_after(s, f->execution_id, f->min_level[0] ? f->min_level : NULL, &f->after, &f->got);
    return kt_store_execution_get(s, f->execution_id, &f->got);
}

static void kt_follow_read_done(kt_status st, void *ud)
{
    kt_follow *f = ud;
    f->reading = 0;
    json_t *got = f->got;
    f->got = NULL;
    if (f->timer_closed) { /* the stream ended while the read ran */
        json_decref(got);
        kt_follow_free(f);
        return;
    }
    if (st == KT_OK && !f->ended) { /* a failed poll is tried again at the next tick */
        if (f->logs)
            kt_follow_logs(f, got);
        else
            kt_follow_execution(f, got);
    }
    json_decref(got);
}

static void kt_follow_tick(uv_timer_t *t)
{
    kt_follow *f = t->data;
    if (f->reading || f->ended)
        return;
    if (!f->w->pool) {
        kt_follow_read_done(kt_follow_read(f->w->store, f), f);
        return;
    }
    f->reading = kt_db_read(f->w->pool, kt_follow_read, kt_follow_read_done, f) == KT_OK; /* else: next tick */
}

/* What the request asked, copied: the request's strings die with it. */
typedef struct kt_follow_job {
    int logs;
    int bad_min; /* minLevel is not a level: 422, once the execution is known to exist (404 first) */
    char execution_id[256];
    char min_level[16];
} kt_follow_job;

static kt_status kt_follow_check(kt_store *s, void *ud)
{
    kt_follow_job *j = ud;
    json_t *ex = NULL;
    kt_status st = kt_store_execution_get(s, j->execution_id, &ex);
    json_decref(ex);
    return st;
}

/* The execution exists: the stream starts, with what exists now sent at once. */
static void kt_follow_start(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_follow_job *j = ud;
    if (kt_api_read_failed(r, st, err, "Not Found: Unable to find the execution %s", j->execution_id))
        return;
    if (j->bad_min) {
        kt_http_send_error(r, 422, "Invalid format: minLevel is one of TRACE, DEBUG, INFO, WARN, ERROR", NULL);
        return;
    }
    kt_follow *f = calloc(1, sizeof *f);
    if (!f) {
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        return;
    }
    f->w = w;
    f->logs = j->logs;
    snprintf(f->execution_id, sizeof f->execution_id, "%s", j->execution_id);
    memcpy(f->min_level, j->min_level, sizeof f->min_level);
    uv_timer_init(kt_node_loop(kt_actor_node(w->self)), &f->timer);
    f->timer.data = f;
    f->s = kt_http_sse_start(r, kt_follow_on_close, f);
    if (!f->s) {
        f->ended = 1;
        uv_close((uv_handle_t *)&f->timer, kt_follow_closed);
        return;
    }
    kt_follow_tick(&f->timer); /* what exists now, at once */
    if (!f->ended)
        uv_timer_start(&f->timer, kt_follow_tick, KT_FOLLOW_POLL_MS, KT_FOLLOW_POLL_MS);
}

static void kt_api_follow(kt_http_req *r, kt_webserver *w, int logs)
{
    const char *id = kt_http_param(r, "executionId");
    const char *min = kt_http_query(r, "minLevel");
    kt_follow_job *j = calloc(1, sizeof *j);
    if (!j) {
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        return;
    }
    j->logs = logs;
    j->bad_min = logs && min && *min && kt_store_level_rank(min) < 0;
    snprintf(j->execution_id, sizeof j->execution_id, "%s", id ? id : "");
    if (logs && min)
        snprintf(j->min_level, sizeof j->min_level, "%s", min);
    kt_api_read(w, r, kt_follow_check, kt_follow_start, j, free);
}

void kt_api_execution_follow(kt_http_req *r, void *ud) { kt_api_follow(r, ud, 0); }
void kt_api_logs_follow(kt_http_req *r, void *ud) { kt_api_follow(r, ud, 1); }
