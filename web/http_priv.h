/* Internals shared by web/http.c and web/http_sse.c; nothing outside web/http*.c includes this. */
#ifndef KT_WEB_HTTP_PRIV_H
#define KT_WEB_HTTP_PRIV_H

#include <h2o.h>

#include "base/limits.h" /* KT_HTTP_MAX_LISTENERS */
#include "web/http.h"
#include "web/router.h"

#define KT_HTTP_MOD "http"

/* defined in web/http.c */
typedef struct kt_http_conn kt_http_conn;
typedef struct kt_http_listener kt_http_listener;

struct kt_http {
    uv_loop_t *loop;
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t actx;
    kt_web_router *router;
    kt_http_listener *listeners[KT_HTTP_MAX_LISTENERS];
    size_t nlisteners;
    int port;
    kt_http_conn *conns;
    size_t nconns;
    kt_http_req *deferred;   /* deferred handles whose h2o request is not disposed yet */
    kt_http_stream *streams; /* SSE streams h2o still holds */
    uv_timer_t grace;
    int grace_inited, grace_closing;
    size_t closing_handles; /* our handles whose close callback has not run yet */
    int closing;
    kt_http_guard guard;
    void *guard_ud;
};

struct kt_http_req {
    h2o_req_t *req; /* NULL once h2o disposed the request (deferred handles only) */
    kt_http *srv;
    const char *method;
    kt_web_match m;
    kt_web_qparam *q;
    size_t nq;
    kt_http_req *handle; /* pool copy only: the heap handle made by kt_http_defer */
    int answered;
    /* heap handles only */
    int is_handle;
    int refs;
    kt_http_req *prev, *next; /* srv->deferred, while req != NULL */
};

struct kt_http_stream {
    h2o_generator_t super; /* first: h2o passes &super to proceed/stop */
    h2o_req_t *req;        /* NULL once h2o stopped us or the final chunk went out */
    kt_http *srv;
    void (*on_close)(void *ud);
    void (*on_drain)(void *ud); /* raw bodies (kt_http_body_start): h2o took everything written so far */
    void *ud;
    char *pend, *fly; /* queued events; the buffer h2o is writing (valid until proceed) */
    size_t plen, pcap, flen, fcap;
    int inflight, ending, owner_ended, notified, shut, refs;
    int failed; /* ended by kt_http_body_abort: the response is cut, not complete */
    kt_http_stream *prev, *next; /* srv->streams, while req != NULL */
};


/* Intrusive doubly-linked lists: x has prev/next, head points at the first element. */

#define DLIST_LINK(head, x)                                                                                            \
    do {                                                                                                               \
        (x)->prev = NULL;                                                                                              \
        (x)->next = (head);                                                                                            \
        if (head)                                                                                                      \
            (head)->prev = (x);                                                                                        \
        (head) = (x);                                                                                                  \
    } while (0)
#define DLIST_UNLINK(head, x)                                                                                          \
    do {                                                                                                               \
        if ((x)->prev)                                                                                                 \
            (x)->prev->next = (x)->next;                                                                               \
        else if ((head) == (x))                                                                                        \
            (head) = (x)->next;                                                                                        \
        if ((x)->next)                                                                                                 \
            (x)->next->prev = (x)->prev;                                                                               \
        (x)->prev = (x)->next = NULL;                                                                                  \
    } while (0)

/* The request to act on: the heap handle if r was deferred. */
static inline kt_http_req *kt_http__resolve(const kt_http_req *r)
{
    return (kt_http_req *)(r && r->handle ? r->handle : r);
}
/* Resolved request that may still be answered, or NULL (gone: silently; answered twice: warning). */
kt_http_req *kt_http__answerable(kt_http_req *r, const char *what);
/* Status, reason phrase and (if not NULL) Content-Type of the response. */
void kt_http__start_status(h2o_req_t *req, int status, const char *content_type);
/* Adds a response header; name and value are copied into the request pool, the name lower-cased. */
void kt_http__add_header(h2o_req_t *req, const char *name, const char *value);
/* kt_http_close's part for SSE: notify each open stream's owner and end it. */
void kt_http__sse_shutdown(kt_http *s);

#endif
