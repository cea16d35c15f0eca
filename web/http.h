/* Kite's HTTP server: h2o 2.2 on the caller's uv loop (HTTP/1.1, h2c by prior knowledge and by Upgrade),
 * a router with Micronaut precedence, Kestra-shaped JSON errors, deferred responses and Server-Sent Events.
 * Everything here runs on the loop thread; no function is thread-safe.
 *
 * Lifecycle:
 *     kt_http_new(loop, &s);  kt_http_route(s, ...)...;  kt_http_listen(s, "0.0.0.0", 8080);
 *     ... uv_run ...
 *     kt_http_close(s);        from any loop callback (a signal handler, say). It stops accepting, answers
 *                              every deferred request still pending with 503, ends every SSE stream (their
 *                              on_close runs), and lets h2o close each connection; a connection still open
 *                              after 2 s is cut.
 *     ... let uv_run return (the server holds no handle that keeps the loop alive once its connections
 *         are gone) ...
 *     kt_http_free(s);         NOT from inside a loop callback: it finishes any close still in progress by
 *                              running the loop itself, then disposes h2o (which runs uv_run NOWAIT).
 *     uv_loop_close(loop) == 0 as far as the server is concerned.
 *
 * Requests: a handler must answer exactly once, either before it returns (kt_http_send*), or later through
 * kt_http_defer, or by starting an SSE stream. A handler that returns without any of these gets a 500.
 * Strings returned by the accessors live as long as the request (h2o's pool); copy what you keep. */
#ifndef KT_WEB_HTTP_H
#define KT_WEB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "base/limits.h" /* KT_HTTP_MAX_BODY */
#include "base/status.h"

typedef struct kt_http kt_http;         /* the server */
typedef struct kt_http_req kt_http_req; /* one request in flight (wraps h2o_req_t) */
typedef void (*kt_http_handler)(kt_http_req *r, void *ud);

kt_status kt_http_new(uv_loop_t *loop, kt_http **out);
/* pattern: "/api/v1/flows/{namespace}/{id}", optionally ending in a "{name:*}" catch-all (the rest of the
 * path, possibly empty). method: "GET", "POST"... Literal segments outrank parameters (web/router.h).
 * KT_ECONFLICT if the same method already has a route of the same shape; KT_EINVAL for a bad pattern.
 * Unmatched method+path: 404 Kestra JSON. Routes may be added before or after kt_http_listen. */
kt_status kt_http_route(kt_http *s, const char *method, const char *pattern, kt_http_handler h, void *ud);
/* host: a numeric IPv4 or IPv6 address ("127.0.0.1", "0.0.0.0", "::"); port 0 = ephemeral. May be called
 * more than once (several listeners). KT_EIO if the address is in use or cannot be bound. */
kt_status kt_http_listen(kt_http *s, const char *host, int port);
int kt_http_port(const kt_http *s); /* the port bound by the first listener; 0 before kt_http_listen */
/* Limits from the configuration, before kt_http_listen: bodies over max_body bytes are refused by h2o before they
 * are read (413 on HTTP/1.1, a reset stream on h2); a connection idle for idle_ms (no request coming in) is closed.
 * 0 keeps the default (KT_HTTP_MAX_BODY, h2o's 10 s). */
void kt_http_set_limits(kt_http *s, uint64_t max_body, uint64_t idle_ms);
/* A guard runs on every request before its handler (once routed, also for unknown paths): returning nonzero means
 * it answered and the handler is skipped (basic auth answers 401 this way). NULL removes it. */
typedef int (*kt_http_guard)(kt_http_req *r, void *ud);
void kt_http_set_guard(kt_http *s, kt_http_guard guard, void *ud);
void kt_http_close(kt_http *s);     /* see the lifecycle above; idempotent */
void kt_http_free(kt_http *s);      /* see the lifecycle above; NULL is fine */

/* --- request accessors (NULL on a deferred request whose client is gone) --- */
const char *kt_http_method(const kt_http_req *r);
const char *kt_http_path(const kt_http_req *r);                    /* decoded path, no query */
const char *kt_http_param(const kt_http_req *r, const char *name); /* path parameter, decoded; NULL if absent */
const char *kt_http_query(const kt_http_req *r, const char *name); /* first value, decoded ('+' = space) */
/* Fills vals with up to max values of a repeatable parameter (?labels=a:1&labels=b:2), in order; returns
 * how many there are in total (may exceed max). */
size_t kt_http_query_all(const kt_http_req *r, const char *name, const char **vals, size_t max);
const char *kt_http_header(const kt_http_req *r, const char *name); /* first value, case-insensitive name */
/* The whole request body (h2o buffers it before the handler runs). Never NULL while the request is alive
 * ("" with *len 0 when there is none). NOT NUL-terminated: use *len. len may be NULL. */
const char *kt_http_body(const kt_http_req *r, size_t *len);
/* Every header and every query parameter as {name: [values...]} (header names lower-case, as HTTP/2 has them).
 * New references; NULL when the request is gone. */
json_t *kt_http_headers_json(const kt_http_req *r);
json_t *kt_http_query_json(const kt_http_req *r);

/* --- responses: each ends the request; a second answer is ignored with a warning --- */
/* content_type may be NULL (no Content-Type). body is copied. Content-Length is always set. */
void kt_http_send(kt_http_req *r, int status, const char *content_type, const char *body, size_t len);
/* Compact JSON (jansson, JSON_COMPACT), application/json. Steals the reference to body; any JSON value is
 * accepted, not only objects and arrays; NULL sends no body (as kt_http_send_empty), except with 200 where it means a
 * json_pack that failed and gives a 500. A value jansson cannot serialize (invalid UTF-8 built with *_nocheck, NaN)
 * gives a 500 instead. */
void kt_http_send_json(kt_http_req *r, int status, json_t *body);
/* No body. 204 and 304 get no Content-Length header (RFC 9110), other statuses "Content-Length: 0". */
void kt_http_send_empty(kt_http_req *r, int status);
/* Kestra/Micronaut error body:
 *   {"message": msg, "_links":{"self":{"href": <path>, "templated":false}}, "_embedded":{"errors":[...]}}
 * errors: stolen, a JSON array of {"message","path"} objects, or NULL (then no "_embedded"). */
void kt_http_send_error(kt_http_req *r, int status, const char *message, json_t *errors);
/* Adds a response header; call before the answer. Name and value are copied. */
void kt_http_add_header(kt_http_req *r, const char *name, const char *value);

/* --- deferred responses ---
 * Call from the handler, before it answers. The returned handle stays valid until kt_http_req_release
 * (exactly once), whatever happens to the client; answer through it with the kt_http_send* functions from
 * any later loop callback. If the client disconnected meanwhile (h2o disposed the request),
 * kt_http_req_alive() is 0, accessors return NULL and sending is a silent no-op. Calling kt_http_defer again
 * returns the same handle without adding a reference; on an already answered request it returns NULL.
 * Note: HTTP/1.1 does not read from the socket while a request is pending, so a disconnect there is only
 * noticed when the answer is written; h2c notices at once. */
kt_http_req *kt_http_defer(kt_http_req *r);
int kt_http_req_alive(const kt_http_req *r);
/* Alive and not answered yet (kt_http_close answers the deferred requests 503 when the server stops). */
int kt_http_req_waiting(const kt_http_req *r);
void kt_http_req_release(kt_http_req *r);
/* One more reference to a deferred handle, released by its own kt_http_req_release: for code that hands a handle it
 * was lent on to another owner. */
void kt_http_req_retain(kt_http_req *r);

/* --- Server-Sent Events ---
 * kt_http_sse_start answers r with 200 text/event-stream (Cache-Control: no-cache) and flushes the headers
 * at once; it works on a live request or deferred handle (returns NULL if r is gone or already answered).
 * Events are queued and coalesced while h2o is still writing the previous ones.
 * on_close(ud) runs at most once, when the stream ends for a reason other than kt_http_sse_end: the client
 * went away, the server is closing, or the client reads so slowly that 8 MiB of events piled up. After it,
 * events are dropped. Whatever happens, the owner calls kt_http_sse_end(s) exactly once (it may do so inside
 * on_close): it sends what is queued, ends the response and releases s. s must not be used afterwards.
 * If r was a deferred handle, the handle is still released separately with kt_http_req_release. */
typedef struct kt_http_stream kt_http_stream;
kt_http_stream *kt_http_sse_start(kt_http_req *r, void (*on_close)(void *ud), void *ud);
/* id and event may be NULL (line omitted); data may hold newlines (one "data:" line each); NULL = "". */
void kt_http_sse_event(kt_http_stream *s, const char *id, const char *event, const char *data);
void kt_http_sse_end(kt_http_stream *s);

/* --- streamed bodies (a download: never the whole body in memory) ---
 * kt_http_body_start answers r (live or deferred) with status and content_type, Content-Length when
 * content_length >= 0 (headers added with kt_http_add_header before are kept), and flushes the headers. Then:
 * on_drain(ud) runs each time h2o has taken everything written so far (the first time once the headers are out):
 * the owner writes its next chunk (kt_http_body_write copies it), or ends with kt_http_sse_end. Write one chunk per
 * on_drain to keep one chunk in memory. on_close is as for SSE (client gone, server closing): after it nothing is
 * sent, and the owner still calls kt_http_sse_end exactly once. NULL when r is gone or answered. */
kt_http_stream *kt_http_body_start(kt_http_req *r, int status, const char *content_type, int64_t content_length,
                                   void (*on_drain)(void *ud), void (*on_close)(void *ud), void *ud);
void kt_http_body_write(kt_http_stream *s, const void *data, size_t len);
/* Ends a body that could not be completed (a read failed after the headers): like kt_http_sse_end, but the
 * connection is closed so the client sees the response cut rather than waiting for the missing bytes. */
void kt_http_body_abort(kt_http_stream *s);

/* Reason phrase for a status code ("Unprocessable Entity"); "Unknown" for codes it does not know. */
const char *kt_http_reason(int status);

#endif
