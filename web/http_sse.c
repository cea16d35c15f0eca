/* Server-Sent Events on h2o: a generator whose proceed() releases the one write h2o allows in flight;
 * events that arrive meanwhile are queued and go out together. See http.h for the owner's contract. */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "web/http_priv.h"

#define MOD KT_HTTP_MOD
#define SSE_MAX_PENDING (8u << 20) /* events piled up for a client that does not read: end the stream */

static void sse_unref(kt_http_stream *s)
{
    if (--s->refs == 0) {
        free(s->pend);
        free(s->fly);
        free(s);
    }
}

/* h2o no longer holds s (stop() ran, or the final chunk is handed over): forget the request. */
static void sse_detach(kt_http_stream *s)
{
    s->req = NULL;
    DLIST_UNLINK(s->srv->streams, s);
}

/* Tells the owner the stream is over. on_close may call kt_http_sse_end, so the caller must hold a
 * reference of its own across this call. */
static void sse_notify(kt_http_stream *s)
{
    if (s->notified || s->owner_ended)
        return;
    s->notified = 1;
    if (s->on_close)
        s->on_close(s->ud);
}

/* Sends what is queued if h2o is not busy with the previous chunk (at most one h2o_send in flight). May
 * drop h2o's reference: the caller must hold its own or not touch s afterwards. */
static void sse_flush(kt_http_stream *s)
{
    if (!s->req || s->inflight || (!s->plen && !s->ending))
        return;
    if (s->ending) {
        /* After FINAL h2o never calls proceed/stop, but writes the bytes later: hand it pool memory. */
        h2o_req_t *req = s->req;
        h2o_iovec_t iov = h2o_strdup(&req->pool, s->pend ? s->pend : "", s->plen);
        s->plen = 0;
        sse_detach(s);
        /* ERROR, not FINAL, for a body cut short: h2o then closes the connection instead of leaving an HTTP/1.1
         * client waiting for the Content-Length it was promised */
        h2o_send(req, &iov, iov.len ? 1 : 0, s->failed ? H2O_SEND_STATE_ERROR : H2O_SEND_STATE_FINAL);
        sse_unref(s);
        return;
    }
    char *b = s->fly;
    size_t c = s->fcap;
    s->fly = s->pend, s->fcap = s->pcap, s->flen = s->plen;
    s->pend = b, s->pcap = c, s->plen = 0;
    s->inflight = 1;
    h2o_iovec_t iov = h2o_iovec_init(s->fly, s->flen);
    h2o_send(s->req, &iov, 1, H2O_SEND_STATE_IN_PROGRESS);
}

static void sse_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    kt_http_stream *s = (kt_http_stream *)g;
    s->inflight = 0;
    s->refs++;
    sse_flush(s);
    /* a raw body asks its owner for more once h2o holds nothing of ours (on_drain may write or end the stream) */
    if (s->on_drain && s->req && !s->inflight && !s->plen && !s->ending && !s->owner_ended)
        s->on_drain(s->ud);
    sse_unref(s);
}

static void sse_stop(h2o_generator_t *g, h2o_req_t *req)
{
    kt_http_stream *s = (kt_http_stream *)g;
    sse_detach(s);
    s->inflight = 0;
    sse_notify(s);  /* under h2o's reference, dropped just after */
    sse_unref(s);
}

/* The response of a stream: SSE, or a raw body (content_length >= 0 sets Content-Length). */
static kt_http_stream *stream_start(kt_http_req *r, int status, const char *content_type, int64_t content_length,
                                    void (*on_drain)(void *ud), void (*on_close)(void *ud), void *ud)
{
    if (!(r = kt_http__answerable(r, on_drain ? "body_start" : "sse_start")))
        return NULL;
    kt_http_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->super.proceed = sse_proceed;
    s->super.stop = sse_stop;
    s->req = r->req;
    s->srv = r->srv;
    s->on_close = on_close;
    s->on_drain = on_drain;
    s->ud = ud;
    s->refs = 2; /* the owner until kt_http_sse_end, h2o until stop() or the final send */
    DLIST_LINK(s->srv->streams, s);
    r->answered = 1;
    kt_http__start_status(s->req, status, content_type);
    if (!on_drain)
        kt_http__add_header(s->req, "cache-control", "no-cache");
    if (content_length >= 0)
        s->req->res.content_length = (size_t)content_length;
    h2o_start_response(s->req, &s->super);
    s->inflight = 1;
    h2o_send(s->req, NULL, 0, H2O_SEND_STATE_IN_PROGRESS); /* flushes the headers now */
    return s;
}

kt_http_stream *kt_http_sse_start(kt_http_req *r, void (*on_close)(void *ud), void *ud)
{
    return stream_start(r, 200, "text/event-stream", -1, NULL, on_close, ud);
}

kt_http_stream *kt_http_body_start(kt_http_req *r, int status, const char *content_type, int64_t content_length,
                                   void (*on_drain)(void *ud), void (*on_close)(void *ud), void *ud)
{
    return on_drain ? stream_start(r, status, content_type, content_length, on_drain, on_close, ud) : NULL;
}

static int sse_append(kt_http_stream *s, const char *a, size_t n)
{
    if (s->plen + n > s->pcap) {
        size_t cap = s->pcap ? s->pcap : 1024;
        while (cap < s->plen + n)
            cap *= 2;
        char *p = realloc(s->pend, cap);
        if (!p)
            return -1;
        s->pend = p, s->pcap = cap;
    }
    memcpy(s->pend + s->plen, a, n);
    s->plen += n;
    return 0;
}

void kt_http_sse_event(kt_http_stream *s, const char *id, const char *event, const char *data)
{
    if (!s || s->owner_ended || !s->req || s->ending)
        return;
    size_t before = s->plen;
    int bad = 0;
    if (!data)
        data = "";
    if (id)
        bad |= sse_append(s, "id: ", 4) | sse_append(s, id, strcspn(id, "\r\n")) | sse_append(s, "\n", 1);
    if (event)
        bad |= sse_append(s, "event: ", 7) | sse_append(s, event, strcspn(event, "\r\n")) | sse_append(s, "\n", 1);
    for (const char *p = data;;) { /* one data: line per line of data */
        size_t n = strcspn(p, "\n");
        size_t m = n && p[n - 1] == '\r' ? n - 1 : n;
        bad |= sse_append(s, "data: ", 6) | sse_append(s, p, m) | sse_append(s, "\n", 1);
        if (!p[n])
            break;
        p += n + 1;
    }
    bad |= sse_append(s, "\n", 1);
    if (bad || s->plen > SSE_MAX_PENDING) {
        KT_WARN(MOD, "SSE stream: %s; ending it", bad ? "out of memory" : "the client is not reading");
        s->plen = before;
        s->ending = 1;
        s->refs++;
        sse_notify(s);
        sse_flush(s);
        sse_unref(s);
        return;
    }
    s->refs++;
    sse_flush(s);
    sse_unref(s);
}

void kt_http_body_write(kt_http_stream *s, const void *data, size_t len)
{
    if (!s || s->owner_ended || !s->req || s->ending || !len)
        return;
    if (sse_append(s, data, len)) {
        KT_WARN(MOD, "response body: out of memory; ending it");
        s->ending = 1;
        s->refs++;
        sse_notify(s);
        sse_flush(s);
        sse_unref(s);
        return;
    }
    s->refs++;
    sse_flush(s);
    sse_unref(s);
}

void kt_http_sse_end(kt_http_stream *s)
{
    if (!s)
        return;
    if (s->owner_ended) {
        KT_WARN(MOD, "kt_http_sse_end called twice");
        return;
    }
    s->owner_ended = 1;
    s->ending = 1;
    sse_flush(s);
    sse_unref(s);
}

void kt_http_body_abort(kt_http_stream *s)
{
    if (s && !s->owner_ended)
        s->failed = 1;
    kt_http_sse_end(s);
}

void kt_http__sse_shutdown(kt_http *s)
{
    /* Ending a stream unlinks it (at once, or after the write in flight), so rescan after each one. */
    for (int again = 1; again;) {
        again = 0;
        for (kt_http_stream *st = s->streams; st; st = st->next) {
            if (st->shut)
                continue;
            st->shut = 1;
            st->refs++;
            sse_notify(st);
            if (st->req && !st->ending) {
                st->ending = 1;
                sse_flush(st);
            }
            sse_unref(st);
            again = 1;
            break;
        }
    }
}
