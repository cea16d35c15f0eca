/* HTTP server: h2o 2.2.5 (libuv flavour) on the caller's loop. See http.h for the contract and
 * ../shared/reference/SPIKE.md §2 for the h2o facts this relies on.
 *
 * Ownership in one paragraph: every accepted socket is a kt_http_conn we allocate and track, so kt_http_close can
 * reach every connection (h2o 2.2 has no "close all connections" call in libuv mode). Closing does not cut
 * sockets under h2o: it shuts down their read side, so h2o sees EOF and tears the connection down itself,
 * freeing its own state, and only then calls our close callback. A kt_http_req lives in the request pool;
 * kt_http_defer copies it to the heap with two references (the caller's, and one held by a pool entry whose
 * dispose callback tells us h2o is done with the request). SSE streams are refcounted the same way (owner
 * until kt_http_sse_end, h2o until stop() or the final send; web/http_sse.c). */
#include "web/http.h"
#include "base/json.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/log.h"
#include "web/http_priv.h"

#define MOD KT_HTTP_MOD
#define CLOSE_GRACE_MS 2000 /* then connections that did not close are cut (SHUT_RDWR) */

struct kt_http_conn {
    uv_tcp_t tcp; /* first: h2o gives the handle back to on_conn_closed; h2o owns tcp.data */
    kt_http *srv;
    kt_http_conn *prev, *next;
};

struct kt_http_listener {
    uv_tcp_t tcp; /* tcp.data = this */
    kt_http *srv;
};

typedef struct glue {
    h2o_handler_t super; /* first: h2o passes &super to on_req */
    kt_http *srv;
} glue;

/* ------------------------------------------------------------------------------------------------ */
/* small helpers */

const char *kt_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Requested Range Not Satisfiable";
    case 422: return "Unprocessable Entity";
    case 423: return "Locked";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    }
    return "Unknown";
}

/* A JSON string from bytes that may not be UTF-8 (raw request paths): invalid bytes become '?', since
 * jansson refuses to build or dump such strings. */
static json_t *json_str_lossy(const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);
    if (j)
        return j;
    char *c = malloc(len + 1);
    if (!c)
        return NULL;
    for (size_t i = 0; i < len;) {
        unsigned char b = (unsigned char)s[i];
        size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        int ok = n > 0 && i + n <= len && b != 0;
        for (size_t k = 1; ok && k < n; k++)
            ok = ((unsigned char)s[i + k] >> 6) == 2;
        if (ok && n > 1 && json_stringn(s + i, n) == NULL) /* overlong or surrogate: let jansson judge */
            ok = 0;
        if (ok) {
            memcpy(c + i, s + i, n);
            i += n;
        } else {
            c[i++] = '?';
        }
    }
    j = json_stringn(c, len);
    free(c);
    return j;
}

kt_http_req *kt_http__answerable(kt_http_req *r, const char *what)
{
    r = kt_http__resolve(r);
    if (!r || !r->req)
        return NULL;
    if (r->answered) {
        KT_WARN(MOD, "%s on %s %s: the request was already answered", what, r->method, r->m.path);
        return NULL;
    }
    return r;
}

/* ------------------------------------------------------------------------------------------------ */
/* accessors */

const char *kt_http_method(const kt_http_req *r)
{
    r = kt_http__resolve(r);
    return r && r->req ? r->method : NULL;
}

const char *kt_http_path(const kt_http_req *r)
{
    r = kt_http__resolve(r);
    return r && r->req ? r->m.path : NULL;
}

const char *kt_http_param(const kt_http_req *r, const char *name)
{
    r = kt_http__resolve(r);
    if (!r || !r->req || !name)
        return NULL;
    for (size_t i = 0; i < r->m.nparams; i++)
        if (!strcmp(r->m.names[i], name))
            return r->m.values[i];
    return NULL;
}

const char *kt_http_query(const kt_http_req *r, const char *name)
{
    const char *v = NULL;
    return kt_http_query_all(r, name, &v, 1) ? v : NULL;
}

size_t kt_http_query_all(const kt_http_req *r, const char *name, const char **vals, size_t max)
{
    r = kt_http__resolve(r);
    if (!r || !r->req || !name)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < r->nq; i++) {
        if (strcmp(r->q[i].name, name))
            continue;
        if (n < max)
            vals[n] = r->q[i].value;
        n++;
    }
    return n;
}

const char *kt_http_header(const kt_http_req *r, const char *name)
{
    r = kt_http__resolve(r);
    if (!r || !r->req || !name)
        return NULL;
    h2o_req_t *req = r->req;
    char lc[128]; /* h2o keeps header names lower-case (HTTP/1 names are folded, HTTP/2 requires it) */
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(lc))
        return NULL;
    for (size_t i = 0; i < n; i++)
        lc[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    if (n == 4 && !memcmp(lc, "host", 4)) /* h2o moves Host (and h2 :authority) to req->authority */
        return req->authority.base ? h2o_strdup(&req->pool, req->authority.base, req->authority.len).base : NULL;
    ssize_t i = h2o_find_header_by_str(&req->headers, lc, n, -1);
    if (i < 0)
        return NULL;
    const h2o_iovec_t *v = &req->headers.entries[i].value;
    return h2o_strdup(&req->pool, v->base, v->len).base;
}

static void kt_http_multimap_add(json_t *m, const char *name, size_t nlen, const char *value, size_t vlen)
{
    char key[256];
    if (nlen >= sizeof key)
        return;
    memcpy(key, name, nlen);
    key[nlen] = 0;
    json_t *list = json_object_get(m, key);
    if (!list) {
        list = json_array();
        json_object_set_new(m, key, list);
    }
    json_array_append_new(list, json_stringn(value, vlen));
}

json_t *kt_http_headers_json(const kt_http_req *r)
{
    r = kt_http__resolve(r);
    if (!r || !r->req)
        return NULL;
    json_t *m = json_object();
    const h2o_headers_t *h = &r->req->headers;
    for (size_t i = 0; i < h->size; i++)
        kt_http_multimap_add(m, h->entries[i].name->base, h->entries[i].name->len, h->entries[i].value.base,
                             h->entries[i].value.len);
    if (r->req->authority.base)
        kt_http_multimap_add(m, "host", 4, r->req->authority.base, r->req->authority.len);
    return m;
}

json_t *kt_http_query_json(const kt_http_req *r)
{
    r = kt_http__resolve(r);
    if (!r || !r->req)
        return NULL;
    json_t *m = json_object();
    for (size_t i = 0; i < r->nq; i++)
        kt_http_multimap_add(m, r->q[i].name, strlen(r->q[i].name), r->q[i].value, strlen(r->q[i].value));
    return m;
}

const char *kt_http_body(const kt_http_req *r, size_t *len)
{
    r = kt_http__resolve(r);
    if (len)
        *len = 0;
    if (!r || !r->req)
        return NULL;
    if (!r->req->entity.base)
        return "";
    if (len)
        *len = r->req->entity.len;
    return r->req->entity.base;
}

/* ------------------------------------------------------------------------------------------------ */
/* responses */

void kt_http__add_header(h2o_req_t *req, const char *name, const char *value)
{
    size_t n = strlen(name);
    h2o_iovec_t nm = h2o_strdup(&req->pool, name, n);
    for (size_t i = 0; i < n; i++) /* h2 requires lower-case names, and tokens are matched lower-case */
        if (nm.base[i] >= 'A' && nm.base[i] <= 'Z')
            nm.base[i] = (char)(nm.base[i] + 32);
    h2o_iovec_t v = h2o_strdup(&req->pool, value, SIZE_MAX);
    for (size_t i = 0; i < v.len; i++) /* h2o writes values as given: a CR or LF would split the response */
        if ((unsigned char)v.base[i] < 0x20 && v.base[i] != '\t')
            v.base[i] = ' ';
    h2o_add_header_by_str(&req->pool, &req->res.headers, nm.base, nm.len, 1, NULL, v.base, v.len);
}

void kt_http_add_header(kt_http_req *r, const char *name, const char *value)
{
    r = kt_http__resolve(r);
    if (!r || !r->req || r->answered || !name || !value)
        return;
    kt_http__add_header(r->req, name, value);
}

void kt_http__start_status(h2o_req_t *req, int status, const char *content_type)
{
    req->res.status = status;
    req->res.reason = kt_http_reason(status);
    if (content_type)
        kt_http__add_header(req, "content-type", content_type);
}

void kt_http_send(kt_http_req *r, int status, const char *content_type, const char *body, size_t len)
{
    if (!(r = kt_http__answerable(r, "send")))
        return;
    r->answered = 1;
    kt_http__start_status(r->req, status, content_type);
    r->req->res.content_length = len; /* h2o_send_inline does not, and HTTP/1.1 would then go chunked */
    h2o_send_inline(r->req, body && len ? body : "", body ? len : 0);
}

void kt_http_send_empty(kt_http_req *r, int status)
{
    if (!(r = kt_http__answerable(r, "send_empty")))
        return;
    r->answered = 1;
    kt_http__start_status(r->req, status, NULL);
    if (status != 204 && status != 304)
        r->req->res.content_length = 0;
    h2o_send_inline(r->req, "", 0);
}

void kt_http_send_json(kt_http_req *r, int status, json_t *body)
{
    kt_http_req *h = kt_http__answerable(r, "send_json");
    if (!h) {
        json_decref(body);
        return;
    }
    if (!body && status == 200) {
        /* json_pack refuses what it cannot hold (text that is not UTF-8...): a 200 with no body would pass for success */
        KT_ERROR(MOD, "%s %s: the response JSON could not be built", h->method, h->m.path);
        static const char msg[] = "{\"message\":\"Internal server error: the response could not be built\"}";
        kt_http_send(h, 500, "application/json", msg, sizeof(msg) - 1);
        return;
    }
    if (!body) {
        kt_http_send_empty(h, status);
        return;
    }
    /* Jackson's rendering (0.1 not 0.10000000000000001, 1.0 for a whole double), as Kestra's API answers */
    size_t len = 0;
    char *txt = kt_json_dump_jackson(body, &len);
    json_decref(body);
    if (!txt) {
        KT_ERROR(MOD, "%s %s: the response JSON cannot be serialized", h->method, h->m.path);
        static const char msg[] = "{\"message\":\"Internal server error: the response cannot be serialized\"}";
        kt_http_send(h, 500, "application/json", msg, sizeof(msg) - 1);
        return;
    }
    kt_http_send(h, status, "application/json", txt, len);
    free(txt);
}

void kt_http_send_error(kt_http_req *r, int status, const char *message, json_t *errors)
{
    kt_http_req *h = kt_http__answerable(r, "send_error");
    if (!h) {
        json_decref(errors);
        return;
    }
    /* Micronaut links the request URI as sent: raw path and query. */
    json_t *self = json_object(), *links = json_object(), *o = json_object();
    json_object_set_new(self, "href", json_str_lossy(h->req->path.base, h->req->path.len));
    json_object_set_new(self, "templated", json_false());
    json_object_set_new(links, "self", self);
    const char *msg = message ? message : kt_http_reason(status);
    json_object_set_new(o, "message", json_str_lossy(msg, strlen(msg)));
    json_object_set_new(o, "_links", links);
    if (errors) {
        json_t *emb = json_object();
        json_object_set_new(emb, "errors", errors);
        json_object_set_new(o, "_embedded", emb);
    }
    kt_http_send_json(h, status, o);
}

/* ------------------------------------------------------------------------------------------------ */
/* deferred requests */

static void req_unref(kt_http_req *h)
{
    if (--h->refs == 0)
        free(h);
}

/* h2o is clearing the request pool: the request is over (answered and written, or the client left). */
static void on_req_disposed(void *slot)
{
    kt_http_req *h = *(kt_http_req **)slot;
    h->req = NULL;
    DLIST_UNLINK(h->srv->deferred, h);
    req_unref(h);
}

kt_http_req *kt_http_defer(kt_http_req *r)
{
    if (!r)
        return NULL;
    if (r->handle)
        return r->handle;
    if (r->is_handle)
        return r;
    if (!r->req || r->answered)
        return NULL;
    kt_http_req *h = malloc(sizeof(*h));
    if (!h)
        return NULL;
    *h = *r;
    h->is_handle = 1;
    h->refs = 2;
    kt_http_req **slot = h2o_mem_alloc_shared(&r->req->pool, sizeof(*slot), on_req_disposed);
    *slot = h;
    DLIST_LINK(r->srv->deferred, h);
    r->handle = h;
    return h;
}

int kt_http_req_alive(const kt_http_req *r)
{
    r = kt_http__resolve(r);
    return r && r->req != NULL;
}

int kt_http_req_waiting(const kt_http_req *r)
{
    r = kt_http__resolve(r);
    return r && r->req != NULL && !r->answered;
}

void kt_http_req_retain(kt_http_req *r)
{
    kt_http_req *h = kt_http__resolve(r);
    if (h && h->is_handle)
        h->refs++;
}

void kt_http_req_release(kt_http_req *r)
{
    kt_http_req *h = kt_http__resolve(r);
    if (!h || !h->is_handle)
        return;
    /* the last holder (besides h2o's own reference while the request lives) answers what nobody did: otherwise the
     * client would wait until it times out */
    if (h->req && !h->answered && h->refs <= 2) {
        KT_WARN(MOD, "%s %s: deferred request released without an answer", h->method, h->m.path);
        kt_http_send_error(h, 500, "Internal server error: the request was dropped", NULL);
    }
    req_unref(h);
}

/* ------------------------------------------------------------------------------------------------ */
/* request dispatch */

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    kt_http *s = ((glue *)self)->srv;
    char err[160];
    kt_http_req *r = h2o_mem_alloc_pool(&req->pool, sizeof(*r));
    memset(r, 0, sizeof(*r));
    r->req = req;
    r->srv = s;
    r->method = h2o_strdup(&req->pool, req->method.base, req->method.len).base;

    const char *path = req->path.base;
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    if (plen > 8 && path[0] != '/') { /* absolute-form target (RFC 9112 3.2.2): route on its path part */
        const char *a = memmem(path, plen, "://", 3), *sl = a ? memchr(a + 3, '/', plen - (size_t)(a + 3 - path)) : NULL;
        if (sl)
            plen -= (size_t)(sl - path), path = sl;
    }
    char *scratch = h2o_mem_alloc_pool(&req->pool, kt_web_scratch_size(plen));
    if (kt_web_router_match(s->router, r->method, path, plen, scratch, &r->m, err, sizeof(err))) {
        r->m.path = h2o_strdup(&req->pool, path, plen).base;
        kt_http_send_error(r, 400, err, NULL);
        return 0;
    }
    if (!r->m.route && !strcmp(r->method, "HEAD")) /* h2o_send_inline drops the body of HEAD answers */
        kt_web_router_match(s->router, "GET", path, plen, scratch, &r->m, err, sizeof(err));
    if (req->query_at != SIZE_MAX) {
        const char *q = req->path.base + req->query_at + 1;
        size_t qlen = req->path.len - req->query_at - 1, cnt = kt_web_query_count(q, qlen);
        r->q = h2o_mem_alloc_pool(&req->pool, cnt * sizeof(*r->q));
        char *qs = h2o_mem_alloc_pool(&req->pool, kt_web_query_scratch_size(qlen, cnt));
        if (kt_web_query_parse(q, qlen, qs, r->q, &r->nq, err, sizeof(err))) {
            kt_http_send_error(r, 400, err, NULL);
            return 0;
        }
    }
    if (s->guard && s->guard(r, s->guard_ud))
        return 0;
    if (!r->m.route) {
        /* Micronaut: a path routed for other methods answers 405 naming them (and in Allow) */
        kt_web_match other;
        char *scratch2 = h2o_mem_alloc_pool(&req->pool, kt_web_scratch_size(plen)); /* r->m keeps the first */
        if (!kt_web_router_match(s->router, NULL, path, plen, scratch2, &other, err, sizeof(err)) && other.allow[0]) {
            char msg[512];
            snprintf(msg, sizeof msg, "Method [%s] not allowed for URI [%.*s]. Allowed methods: [%s]", r->method,
                     (int)plen, path, other.allow);
            kt_http_add_header(r, "Allow", other.allow);
            kt_http_send_error(r, 405, "Method Not Allowed", json_pack("[{s:s}]", "message", msg));
            return 0;
        }
        /* Micronaut's answer when no route matches */
        json_t *e = json_pack("[{s:s}]", "message", "Page Not Found");
        kt_http_send_error(r, 404, "Not Found", e);
        return 0;
    }
    kt_web_route_handler(r->m.route)(r, kt_web_route_ud(r->m.route));
    if (!r->handle && !r->answered) {
        KT_ERROR(MOD, "%s %s: the handler for %s returned without an answer", r->method, r->m.path,
                 kt_web_route_pattern(r->m.route));
        kt_http_send_error(r, 500, "Internal server error: no response", NULL);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* connections and lifecycle */

static void finish_close(kt_http *s);

static void on_conn_closed(uv_handle_t *h)
{
    kt_http_conn *c = (kt_http_conn *)h;
    kt_http *s = c->srv;
    KT_DEBUG(MOD, "connection closed (%zu left)", s->nconns - 1);
    DLIST_UNLINK(s->conns, c);
    s->nconns--;
    free(c);
    if (s->closing)
        finish_close(s);
}

static void on_reject_closed(uv_handle_t *h) { free(h); }

static void on_accept(uv_stream_t *ls, int status)
{
    kt_http_listener *l = ls->data;
    kt_http *s = l->srv;
    if (status != 0) {
        KT_WARN(MOD, "accept: %s", uv_strerror(status));
        return;
    }
    kt_http_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        KT_ERROR(MOD, "accept: out of memory");
        return;
    }
    c->srv = s;
    uv_tcp_init(s->loop, &c->tcp);
    if (uv_accept(ls, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_reject_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    DLIST_LINK(s->conns, c);
    s->nconns++;
    /* h2o owns the handle from here and calls on_conn_closed once it has closed it */
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, on_conn_closed);
    h2o_accept(&s->actx, sock); /* sniffs HTTP/1.1, the h2c preface, or Upgrade: h2c */
}

static void unref_h2o_queue(uv_handle_t *h, void *queue)
{
    if ((void *)h == queue && h->type == UV_ASYNC)
        uv_unref(h);
}

kt_status kt_http_new(uv_loop_t *loop, kt_http **out)
{
    *out = NULL;
    kt_http *s = calloc(1, sizeof(*s));
    if (!s)
        return KT_ENOMEM;
    s->loop = loop;
    if (kt_web_router_new(&s->router)) {
        free(s);
        return KT_ENOMEM;
    }
    /* libuv writes with write(2): a peer that has gone would otherwise kill the process with SIGPIPE */
    signal(SIGPIPE, SIG_IGN);

    h2o_config_init(&s->config);
    s->config.server_name = h2o_iovec_init(H2O_STRLIT("kite"));
    s->config.max_request_entity_size = KT_HTTP_MAX_BODY; /* bodies are buffered whole; default is 1 GiB */
    s->config.http1.upgrade_to_http2 = 1;
    h2o_hostconf_t *host = h2o_config_register_host(&s->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0); /* prefix match: our router does the rest */
    glue *g = (glue *)h2o_create_handler(pc, sizeof(*g));
    g->super.on_req = on_req;
    g->srv = s;

    h2o_context_init(&s->ctx, loop, &s->config);
    /* h2o's cross-thread queue is an active uv_async: unref it so the server keeps uv_run alive only through
     * its listeners and connections (the async is closed by h2o_context_dispose in kt_http_free). */
    uv_walk(loop, unref_h2o_queue, (void *)s->ctx.queue);
    s->actx.ctx = &s->ctx;
    s->actx.hosts = s->config.hosts;
    *out = s;
    return KT_OK;
}

kt_status kt_http_route(kt_http *s, const char *method, const char *pattern, kt_http_handler h, void *ud)
{
    char err[200] = "";
    kt_status st = kt_web_router_add(s->router, method, pattern, h, ud, err, sizeof(err));
    if (st)
        KT_ERROR(MOD, "route %s %s: %s", method ? method : "?", pattern ? pattern : "?", err);
    return st;
}

static void on_listener_closed(uv_handle_t *h)
{
    kt_http_listener *l = h->data;
    l->srv->closing_handles--;
    free(l);
}

kt_status kt_http_listen(kt_http *s, const char *host, int port)
{
    struct sockaddr_storage ss;
    if (s->closing || s->nlisteners == KT_HTTP_MAX_LISTENERS || port < 0 || port > 65535)
        return KT_EINVAL;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) && uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)) {
        KT_ERROR(MOD, "listen: '%s' is not a numeric IPv4 or IPv6 address", host);
        return KT_EINVAL;
    }
    kt_http_listener *l = calloc(1, sizeof(*l));
    if (!l)
        return KT_ENOMEM;
    l->srv = s;
    uv_tcp_init(s->loop, &l->tcp);
    l->tcp.data = l;
    int rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&l->tcp, 511, on_accept);
    if (rc) {
        KT_ERROR(MOD, "listen on %s:%d: %s", host, port, uv_strerror(rc));
        s->closing_handles++;
        uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
        return KT_EIO;
    }
    struct sockaddr_storage bound;
    int blen = sizeof(bound), bport = port;
    if (!uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&bound, &blen))
        bport = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    if (!s->port)
        s->port = bport;
    s->listeners[s->nlisteners++] = l;
    KT_INFO(MOD, "listening on %s:%d (HTTP/1.1, h2c)", host, bport);
    return KT_OK;
}

int kt_http_port(const kt_http *s) { return s ? s->port : 0; }

void kt_http_set_limits(kt_http *s, uint64_t max_body, uint64_t idle_ms)
{
    if (max_body) /* h2o reads it from the global configuration on each request */
        s->config.max_request_entity_size = (size_t)max_body;
    if (idle_ms) { /* the context's timeouts were made from the configuration: set both */
        s->config.http1.req_timeout = s->config.http2.idle_timeout = idle_ms;
        s->ctx.http1.req_timeout.timeout = s->ctx.http2.idle_timeout.timeout = idle_ms;
    }
}

void kt_http_set_guard(kt_http *s, kt_http_guard guard, void *ud)
{
    s->guard = guard;
    s->guard_ud = ud;
}

static void shutdown_conns(kt_http *s, int how)
{
    for (kt_http_conn *c = s->conns; c; c = c->next) {
        uv_os_fd_t fd;
        if (!uv_is_closing((uv_handle_t *)&c->tcp) && uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
            shutdown(fd, how);
    }
}

static void on_grace_closed(uv_handle_t *h)
{
    kt_http *s = h->data;
    s->closing_handles--;
}

static void on_grace(uv_timer_t *t)
{
    kt_http *s = t->data;
    KT_WARN(MOD, "close: cutting %zu connection(s) still open after %d ms", s->nconns, CLOSE_GRACE_MS);
    shutdown_conns(s, SHUT_RDWR); /* pending writes fail, so h2o closes even a client that does not read */
}

/* h2o unlinks timeout entries without stopping the uv timer behind them, so a timer armed for a connection
 * that is gone would still hold uv_run for up to 10 s. Stop those with no entry left. */
static void stop_idle_h2o_timers(kt_http *s)
{
    h2o_timeout_t *ts[] = {&s->ctx.zero_timeout,         &s->ctx.one_sec_timeout,  &s->ctx.hundred_ms_timeout,
                           &s->ctx.handshake_timeout,    &s->ctx.http1.req_timeout, &s->ctx.http2.idle_timeout,
                           &s->ctx.http2.graceful_shutdown_timeout, &s->ctx.proxy.io_timeout};
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
        if (h2o_linklist_is_empty(&ts[i]->_entries))
            uv_timer_stop(&ts[i]->_backend.timer);
}

/* Runs during close once the last connection is gone: nothing of ours may keep the loop alive after it. */
static void finish_close(kt_http *s)
{
    if (s->nconns)
        return;
    stop_idle_h2o_timers(s);
    if (!s->grace_inited || s->grace_closing)
        return;
    s->grace_closing = 1;
    s->closing_handles++;
    uv_close((uv_handle_t *)&s->grace, on_grace_closed);
}

void kt_http_close(kt_http *s)
{
    if (!s || s->closing)
        return;
    s->closing = 1;
    s->ctx.shutdown_requested = 1; /* HTTP/1.1 answers from now on say "Connection: close" */
    for (size_t i = 0; i < s->nlisteners; i++) {
        s->closing_handles++;
        uv_close((uv_handle_t *)&s->listeners[i]->tcp, on_listener_closed);
    }
    s->nlisteners = 0;

    /* Answering may dispose requests and unlink them, so rescan from the head after each one. */
    for (int again = 1; again;) {
        again = 0;
        for (kt_http_req *h = s->deferred; h; h = h->next) {
            if (h->req && !h->answered) {
                kt_http_send_error(h, 503, "Service Unavailable: the server is shutting down", NULL);
                again = 1;
                break;
            }
        }
    }
    kt_http__sse_shutdown(s);

    /* EOF on the read side makes h2o close idle connections itself; those busy writing an answer close
     * after it (shutdown_requested turned keep-alive off). */
    shutdown_conns(s, SHUT_RD);
    finish_close(s);
    if (s->nconns) {
        uv_timer_init(s->loop, &s->grace);
        s->grace.data = s;
        s->grace_inited = 1;
        uv_timer_start(&s->grace, on_grace, CLOSE_GRACE_MS, 0);
    }
}

void kt_http_free(kt_http *s)
{
    if (!s)
        return;
    kt_http_close(s);
    while (s->nconns || s->closing_handles)
        uv_run(s->loop, UV_RUN_ONCE);
    h2o_context_dispose(&s->ctx); /* closes h2o's timers and queue; runs the loop once (NOWAIT) */
    h2o_config_dispose(&s->config);
    kt_web_router_free(s->router);
    free(s);
}
