/* Real HTTP round trips on 127.0.0.1 (ephemeral port). The server runs on the test's main thread (as in
 * kite: h2o keeps per-thread recycle lists that a finished thread would leak under LSan); each test starts
 * a libcurl client thread and pumps the uv loop until the client is done, then asserts on what it got.
 * Covers HTTP/1.1, h2c (prior knowledge and Upgrade), JSON, Kestra errors, deferred answers from a uv
 * timer, SSE, an oversize body, and an orderly shutdown with live connections ending in
 * uv_loop_close() == 0. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/log.h"
#include "web/http.h"

/* ------------------------------------------------------------------------------------------------ */
/* server side (runs on the server thread only) */

typedef struct fixture {
    uv_loop_t loop;
    kt_http *srv;
    uv_async_t stop, wake; /* sent by the client thread: close the server; the client is done */
    int port;
    atomic_int hang_received, forever_started, forever_closed;
    kt_http_req *hang;           /* a deferred request nobody answers: the shutdown answers it */
    kt_http_stream *forever;     /* an SSE stream that only the shutdown ends */
} fixture;

static fixture F;

static void h_json(kt_http_req *r, void *ud)
{
    kt_http_send_json(r, 200, json_pack("{s:b,s:i,s:s}", "ok", 1, "n", 42, "s", "caf\xc3\xa9"));
}

static void h_echo(kt_http_req *r, void *ud)
{
    const char *labels[8];
    size_t n = kt_http_query_all(r, "labels", labels, 8), len;
    json_t *arr = json_array();
    for (size_t i = 0; i < n && i < 8; i++)
        json_array_append_new(arr, json_string(labels[i]));
    const char *body = kt_http_body(r, &len);
    json_t *o = json_pack("{s:s,s:s,s:s*,s:o,s:s*,s:s*,s:s%,s:s*}", "method", kt_http_method(r), "path", kt_http_path(r),
                          "id", kt_http_param(r, "id"), "labels", arr, "q", kt_http_query(r, "q"), "hdr",
                          kt_http_header(r, "X-Test"), "body", body, len, "none", kt_http_query(r, "absent"));
    kt_http_add_header(r, "X-Echo", "yes");
    kt_http_send_json(r, 200, o);
}

static void h_error(kt_http_req *r, void *ud)
{
    kt_http_send_error(r, 422, "Invalid entity: flow.id: bad id",
                       json_pack("[{s:s,s:s}]", "message", "bad id", "path", "flow.id"));
}

static void h_empty(kt_http_req *r, void *ud) { kt_http_send_empty(r, 204); }
static void h_noanswer(kt_http_req *r, void *ud) { (void)r; }

static void on_timer_closed(uv_handle_t *h) { free(h); }

static void deferred_fire(uv_timer_t *t)
{
    kt_http_req *h = t->data;
    if (kt_http_req_alive(h)) {
        kt_http_add_header(h, "X-Deferred", kt_http_param(h, "tag"));
        kt_http_send_json(h, 202, json_pack("{s:b,s:s}", "deferred", 1, "tag", kt_http_param(h, "tag")));
    }
    kt_http_req_release(h);
    uv_close((uv_handle_t *)t, on_timer_closed);
}

static void h_deferred(kt_http_req *r, void *ud)
{
    kt_http_req *h = kt_http_defer(r);
    assert_non_null(h);
    assert_ptr_equal(h, kt_http_defer(r)); /* idempotent */
    uv_timer_t *t = malloc(sizeof(*t));
    uv_timer_init(&F.loop, t);
    t->data = h;
    uv_timer_start(t, deferred_fire, 30, 0);
}

typedef struct sse_job {
    kt_http_stream *s;
    uv_timer_t timer;
    int n;
} sse_job;

static void sse_job_closed(uv_handle_t *h) { free(h->data); }

static void sse_tick(uv_timer_t *t)
{
    sse_job *j = t->data;
    char data[64];
    j->n++;
    snprintf(data, sizeof(data), "{\"n\":%d}", j->n);
    kt_http_sse_event(j->s, "progress", NULL, data);
    if (j->n == 2) /* queued while the previous write may still be in flight: coalesced */
        kt_http_sse_event(j->s, "progress", "multi", "line1\nline2");
    if (j->n == 3) {
        kt_http_sse_event(j->s, "end", NULL, "{\"done\":true}");
        kt_http_sse_end(j->s);
        uv_timer_stop(t);
        uv_close((uv_handle_t *)t, sse_job_closed);
    }
}

static void h_sse(kt_http_req *r, void *ud)
{
    sse_job *j = calloc(1, sizeof(*j));
    j->s = kt_http_sse_start(r, NULL, NULL);
    assert_non_null(j->s);
    uv_timer_init(&F.loop, &j->timer);
    j->timer.data = j;
    uv_timer_start(&j->timer, sse_tick, 10, 10);
}

static void forever_closed(void *ud)
{
    atomic_fetch_add(&F.forever_closed, 1);
    kt_http_sse_end(F.forever);
    F.forever = NULL;
}

static void h_forever(kt_http_req *r, void *ud)
{
    F.forever = kt_http_sse_start(r, forever_closed, NULL);
    kt_http_sse_event(F.forever, "progress", NULL, "{\"first\":true}");
    atomic_fetch_add(&F.forever_started, 1);
}

static void h_hang(kt_http_req *r, void *ud)
{
    F.hang = kt_http_defer(r);
    atomic_fetch_add(&F.hang_received, 1);
}

static void on_stop(uv_async_t *a)
{
    kt_http_close(F.srv); /* answers /hang with 503, ends the /forever stream (forever_closed runs) */
    kt_http_req_release(F.hang);
    F.hang = NULL;
    uv_close((uv_handle_t *)a, NULL);
}

static void on_wake(uv_async_t *a) { (void)a; }

static int group_setup(void **state)
{
    static const struct { const char *m, *p; kt_http_handler h; } routes[] = {
        {"GET", "/api/v1/json", h_json},         {"POST", "/api/v1/echo/{id}", h_echo},
        {"GET", "/api/v1/echo/{id}", h_echo},    {"GET", "/api/v1/error", h_error},
        {"DELETE", "/api/v1/empty", h_empty},    {"GET", "/api/v1/noanswer", h_noanswer},
        {"GET", "/deferred/{tag}", h_deferred},  {"GET", "/sse", h_sse},
        {"GET", "/forever", h_forever},          {"GET", "/hang", h_hang},
    };
    kt_log_set_level(getenv("KT_DEBUG") ? KT_LOG_DEBUG : KT_LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    assert_int_equal(uv_loop_init(&F.loop), 0);
    assert_int_equal(kt_http_new(&F.loop, &F.srv), KT_OK);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        assert_int_equal(kt_http_route(F.srv, routes[i].m, routes[i].p, routes[i].h, NULL), KT_OK);
    assert_int_equal(kt_http_route(F.srv, "GET", "/api/v1/echo/{other}", h_echo, NULL), KT_ECONFLICT);
    assert_int_equal(kt_http_listen(F.srv, "127.0.0.1", 0), KT_OK);
    assert_int_equal(kt_http_listen(F.srv, "not-an-ip", 0), KT_EINVAL);
    F.port = kt_http_port(F.srv);
    assert_true(F.port > 0);
    uv_async_init(&F.loop, &F.stop, on_stop);
    uv_async_init(&F.loop, &F.wake, on_wake);
    return 0;
}

static int group_teardown(void **state)
{
    if (F.srv) { /* test_shutdown did not run to the end */
        kt_http_free(F.srv);
        uv_close((uv_handle_t *)&F.wake, NULL);
        if (!uv_is_closing((uv_handle_t *)&F.stop))
            uv_close((uv_handle_t *)&F.stop, NULL);
        uv_run(&F.loop, UV_RUN_DEFAULT);
        uv_loop_close(&F.loop);
    }
    curl_global_cleanup();
    return 0;
}

/* Runs fn(arg) on a client thread while the loop serves it here. */
typedef struct job {
    void (*fn)(void *);
    void *arg;
    atomic_int done;
} job;

static void *client_main(void *p)
{
    job *j = p;
    j->fn(j->arg);
    atomic_store(&j->done, 1);
    uv_async_send(&F.wake);
    return NULL;
}

static void run_client(void (*fn)(void *), void *arg)
{
    job j = {fn, arg, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, client_main, &j), 0);
    while (!atomic_load(&j.done))
        uv_run(&F.loop, UV_RUN_ONCE);
    pthread_join(t, NULL);
}

/* ------------------------------------------------------------------------------------------------ */
/* client side (client thread: no cmocka asserts here, results are checked on the main thread) */

typedef struct buf {
    char *p;
    size_t n;
} buf;

static size_t on_data(char *d, size_t sz, size_t nm, void *ud)
{
    buf *b = ud;
    b->p = realloc(b->p, b->n + sz * nm + 1);
    memcpy(b->p + b->n, d, sz * nm);
    b->n += sz * nm;
    b->p[b->n] = '\0';
    return sz * nm;
}

typedef struct call {
    const char *method, *path, *body;
    long version;       /* CURL_HTTP_VERSION_1_1, _2_0 (Upgrade: h2c), _2_PRIOR_KNOWLEDGE */
    const char *header; /* one extra request header, or NULL */
    /* results */
    CURLcode rc;
    long status, got_version;
    buf body_out, hdrs;
} call;

#define CALL(m, p, b, v, h) {.method = (m), .path = (p), .body = (b), .version = (v), .header = (h)}

static void call_free(call *c)
{
    free(c->body_out.p);
    free(c->hdrs.p);
}

static CURL *easy(call *c)
{
    char url[512];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", F.port, c->path);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
    if (!strcmp(c->method, "HEAD"))
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    if (c->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
    }
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, c->version ? c->version : CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &c->body_out);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &c->hdrs);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 20L);
    return e;
}

static void finish(CURL *e, call *c)
{
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->status);
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &c->got_version);
}

static void perform(call *c)
{
    CURL *e = easy(c);
    struct curl_slist *h = c->header ? curl_slist_append(NULL, c->header) : NULL;
    if (h)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    c->rc = curl_easy_perform(e);
    finish(e, c);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
}

/* arg: array of calls ended by one with method NULL, performed one after the other */
static void do_calls(void *arg)
{
    for (call *c = arg; c->method; c++)
        perform(c);
}

static int has_header(const call *c, const char *line) /* case-insensitive prefix of a header line */
{
    size_t n = strlen(line);
    for (const char *p = c->hdrs.p; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "")
        if (!strncasecmp(p, line, n))
            return 1;
    return 0;
}

static void assert_ok(const call *c, long status)
{
    if (c->rc != CURLE_OK)
        fail_msg("%s %s: %s", c->method, c->path, curl_easy_strerror(c->rc));
    if (c->status != status)
        fail_msg("%s %s: status %ld, want %ld; body %s", c->method, c->path, c->status, status,
                 c->body_out.p ? c->body_out.p : "");
}

static void assert_json(const call *c, const char *want)
{
    json_t *got = json_loads(c->body_out.p ? c->body_out.p : "", 0, NULL), *exp = json_loads(want, 0, NULL);
    assert_non_null(exp);
    if (!got || !json_equal(got, exp))
        fail_msg("body %s\nwant %s", c->body_out.p ? c->body_out.p : "(none)", want);
    json_decref(got);
    json_decref(exp);
}

/* ------------------------------------------------------------------------------------------------ */
/* tests */

static void test_get_json(void **state)
{
    call cs[] = {CALL("GET", "/api/v1/json", NULL, CURL_HTTP_VERSION_1_1, NULL),
                 CALL("GET", "/api/v1/json", NULL, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, NULL),
                 {.method = NULL}};
    run_client(do_calls, cs);
    for (size_t i = 0; i < 2; i++) {
        assert_ok(&cs[i], 200);
        assert_int_equal(cs[i].got_version, i ? CURL_HTTP_VERSION_2_0 : CURL_HTTP_VERSION_1_1);
        assert_string_equal(cs[i].body_out.p, "{\"ok\":true,\"n\":42,\"s\":\"caf\xc3\xa9\"}"); /* compact */
        assert_true(has_header(&cs[i], "content-type: application/json\r"));
        char cl[64];
        snprintf(cl, sizeof(cl), "content-length: %zu\r", strlen(cs[i].body_out.p));
        assert_true(has_header(&cs[i], cl));
        assert_true(has_header(&cs[i], "server: kite\r"));
        call_free(&cs[i]);
    }
}

static void test_post_echo(void **state)
{
    /* CURL_HTTP_VERSION_2_0 on http:// sends "Upgrade: h2c" with the POST: h2o upgrades and answers on h2 */
    const char *path = "/api/v1/echo/a%2Fb%20c?labels=k:1&q=x+y&labels=k2%3A2";
    call cs[] = {CALL("POST", path, "{\"x\":[1,2]}", CURL_HTTP_VERSION_1_1, "X-Test: h\xc3\xa9llo"),
                 CALL("POST", path, "{\"x\":[1,2]}", CURL_HTTP_VERSION_2_0, "X-Test: h\xc3\xa9llo"),
                 CALL("POST", path, "{\"x\":[1,2]}", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, "x-test: h\xc3\xa9llo"),
                 CALL("HEAD", "/api/v1/echo/z", NULL, CURL_HTTP_VERSION_1_1, NULL),
                 {.method = NULL}};
    run_client(do_calls, cs);
    for (size_t i = 0; i < 3; i++) {
        assert_ok(&cs[i], 200);
        assert_int_equal(cs[i].got_version, i ? CURL_HTTP_VERSION_2_0 : CURL_HTTP_VERSION_1_1);
        assert_json(&cs[i], "{\"method\":\"POST\",\"path\":\"/api/v1/echo/a/b c\",\"id\":\"a/b c\","
                            "\"labels\":[\"k:1\",\"k2:2\"],\"q\":\"x y\",\"hdr\":\"h\xc3\xa9llo\","
                            "\"body\":\"{\\\"x\\\":[1,2]}\"}");
        assert_true(has_header(&cs[i], "x-echo: yes\r"));
        call_free(&cs[i]);
    }
    /* HEAD is served by the GET route, without a body but with the GET's length */
    assert_ok(&cs[3], 200);
    assert_null(cs[3].body_out.p);
    assert_true(has_header(&cs[3], "content-length: "));
    call_free(&cs[3]);
}

static void test_errors(void **state)
{
    call cs[] = {CALL("GET", "/api/v1/nothing/here?x=1", NULL, CURL_HTTP_VERSION_1_1, NULL),
                 CALL("PUT", "/api/v1/json", NULL, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, NULL),
                 CALL("GET", "/api/v1/echo/%zz", NULL, CURL_HTTP_VERSION_1_1, NULL),
                 CALL("GET", "/api/v1/echo/x?a=%G0", NULL, CURL_HTTP_VERSION_1_1, NULL),
                 CALL("GET", "/api/v1/error", NULL, CURL_HTTP_VERSION_1_1, NULL),
                 CALL("GET", "/api/v1/noanswer", NULL, CURL_HTTP_VERSION_1_1, NULL),
                 CALL("DELETE", "/api/v1/empty", NULL, CURL_HTTP_VERSION_1_1, NULL),
                 {.method = NULL}};
    run_client(do_calls, cs);
    assert_ok(&cs[0], 404);
    assert_true(has_header(&cs[0], "content-type: application/json\r"));
    assert_json(&cs[0], "{\"message\":\"Not Found\",\"_links\":{\"self\":{\"href\":\"/api/v1/nothing/here?x=1\","
                        "\"templated\":false}},\"_embedded\":{\"errors\":[{\"message\":\"Page Not Found\"}]}}");
    /* a known path with another method: Micronaut's 405 naming the methods it has, in Allow too */
    assert_ok(&cs[1], 405);
    assert_true(has_header(&cs[1], "allow: GET\r"));
    assert_json(&cs[1], "{\"message\":\"Method Not Allowed\",\"_links\":{\"self\":{\"href\":\"/api/v1/json\","
                        "\"templated\":false}},\"_embedded\":{\"errors\":[{\"message\":\"Method [PUT] not allowed for "
                        "URI [/api/v1/json]. Allowed methods: [GET]\"}]}}");
    assert_ok(&cs[2], 400);
    assert_json(&cs[2], "{\"message\":\"Bad Request: malformed percent-encoding in the path at byte 13\","
                        "\"_links\":{\"self\":{\"href\":\"/api/v1/echo/%zz\",\"templated\":false}}}");
    assert_ok(&cs[3], 400);
    assert_non_null(strstr(cs[3].body_out.p, "query string at byte 2"));
    assert_ok(&cs[4], 422);
    assert_json(&cs[4], "{\"message\":\"Invalid entity: flow.id: bad id\",\"_links\":{\"self\":{\"href\":"
                        "\"/api/v1/error\",\"templated\":false}},\"_embedded\":{\"errors\":[{\"message\":\"bad id\","
                        "\"path\":\"flow.id\"}]}}");
    assert_ok(&cs[5], 500);
    assert_non_null(strstr(cs[5].body_out.p, "Internal server error"));
    assert_ok(&cs[6], 204);
    assert_null(cs[6].body_out.p);
    assert_false(has_header(&cs[6], "content-length"));
    for (call *c = cs; c->method; c++)
        call_free(c);
}

/* four deferred requests at once: three multiplexed on one h2c connection, one on HTTP/1.1 */
static void deferred_client(void *arg)
{
    call *cs = arg;
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    CURL *es[4];
    for (int i = 0; i < 4; i++)
        curl_multi_add_handle(m, es[i] = easy(&cs[i]));
    for (int running = 1; running;) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    for (int i = 0; i < 4; i++) {
        finish(es[i], &cs[i]);
        curl_multi_remove_handle(m, es[i]);
        curl_easy_cleanup(es[i]);
    }
    curl_multi_cleanup(m);
}

static void test_deferred(void **state)
{
    call cs[4] = {CALL("GET", "/deferred/t0", NULL, CURL_HTTP_VERSION_1_1, NULL),
                  CALL("GET", "/deferred/t1", NULL, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, NULL),
                  CALL("GET", "/deferred/t2", NULL, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, NULL),
                  CALL("GET", "/deferred/t3", NULL, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, NULL)};
    run_client(deferred_client, cs);
    for (int i = 0; i < 4; i++) {
        char want[64];
        assert_ok(&cs[i], 202);
        snprintf(want, sizeof(want), "{\"deferred\":true,\"tag\":\"t%d\"}", i);
        assert_json(&cs[i], want);
        snprintf(want, sizeof(want), "x-deferred: t%d\r", i);
        assert_true(has_header(&cs[i], want));
        call_free(&cs[i]);
    }
}

static void test_sse(void **state)
{
    static const char want[] = "id: progress\ndata: {\"n\":1}\n\n"
                               "id: progress\ndata: {\"n\":2}\n\n"
                               "id: progress\nevent: multi\ndata: line1\ndata: line2\n\n"
                               "id: progress\ndata: {\"n\":3}\n\n"
                               "id: end\ndata: {\"done\":true}\n\n";
    call cs[] = {CALL("GET", "/sse", NULL, CURL_HTTP_VERSION_1_1, NULL),
                 CALL("GET", "/sse", NULL, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, NULL),
                 {.method = NULL}};
    run_client(do_calls, cs);
    for (size_t i = 0; i < 2; i++) {
        assert_ok(&cs[i], 200);
        assert_true(has_header(&cs[i], "content-type: text/event-stream\r"));
        assert_true(has_header(&cs[i], "cache-control: no-cache\r"));
        assert_string_equal(cs[i].body_out.p, want);
        call_free(&cs[i]);
    }
}

static int connect_raw(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)F.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
        close(fd);
        return -1;
    }
    return fd;
}

/* h2o answers 413 from the Content-Length alone, before any of the body is sent */
static void oversize_client(void *arg)
{
    char *got = arg;
    int fd = connect_raw();
    if (fd < 0)
        return;
    char req[256];
    int n = snprintf(req, sizeof(req), "POST /api/v1/echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: %u\r\n\r\n",
                     KT_HTTP_MAX_BODY + 1);
    if (write(fd, req, (size_t)n) == n) {
        ssize_t k = read(fd, got, 511);
        got[k > 0 ? k : 0] = '\0';
    }
    close(fd);
}

static void test_oversize_body(void **state)
{
    char got[512] = "";
    run_client(oversize_client, got);
    assert_non_null(strstr(got, "HTTP/1.1 413"));
}

typedef struct shut {
    call keep1, keep2, hang, forever;
    int stopped, forever_rc, raw_eof;
    double ms; /* from the close request to the last connection gone */
} shut;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Live at shutdown: idle keep-alive HTTP/1.1 and h2c connections, a raw connection that never sent a byte,
 * a deferred request nobody answers, an open SSE stream. */
static void shutdown_client(void *arg)
{
    shut *sh = arg;
    CURL *k1 = easy(&sh->keep1), *k2 = easy(&sh->keep2);
    curl_easy_perform(k1);
    curl_easy_perform(k2);
    finish(k1, &sh->keep1);
    finish(k2, &sh->keep2);
    int raw = connect_raw();

    CURLM *m = curl_multi_init();
    CURL *hang = easy(&sh->hang), *forever = easy(&sh->forever);
    curl_multi_add_handle(m, hang);
    curl_multi_add_handle(m, forever);
    double t0 = 0;
    for (int running = 1; running;) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 20, NULL);
        if (!sh->stopped && atomic_load(&F.hang_received) && atomic_load(&F.forever_started) &&
            sh->forever.body_out.p) {
            t0 = now_ms();
            uv_async_send(&F.stop); /* the main thread runs kt_http_close */
            sh->stopped = 1;
        }
    }
    int msgs;
    for (CURLMsg *msg; (msg = curl_multi_info_read(m, &msgs));)
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == forever)
            sh->forever_rc = msg->data.result;
    finish(hang, &sh->hang);
    finish(forever, &sh->forever);
    char c;
    sh->raw_eof = raw >= 0 && read(raw, &c, 1) == 0;
    sh->ms = now_ms() - t0;
    if (raw >= 0)
        close(raw);
    curl_multi_remove_handle(m, hang);
    curl_multi_remove_handle(m, forever);
    curl_easy_cleanup(hang);
    curl_easy_cleanup(forever);
    curl_multi_cleanup(m);
    curl_easy_cleanup(k1);
    curl_easy_cleanup(k2);
}

static void test_shutdown(void **state)
{
    shut sh = {.keep1 = CALL("GET", "/api/v1/json", NULL, CURL_HTTP_VERSION_1_1, NULL),
               .keep2 = CALL("GET", "/api/v1/json", NULL, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, NULL),
               .hang = CALL("GET", "/hang", NULL, CURL_HTTP_VERSION_1_1, NULL),
               .forever = CALL("GET", "/forever", NULL, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, NULL),
               .forever_rc = -1};
    run_client(shutdown_client, &sh);
    assert_true(sh.stopped);
    assert_int_equal(sh.keep1.status, 200);
    assert_int_equal(sh.keep2.status, 200);
    assert_ok(&sh.hang, 503);
    assert_json(&sh.hang, "{\"message\":\"Service Unavailable: the server is shutting down\","
                          "\"_links\":{\"self\":{\"href\":\"/hang\",\"templated\":false}}}");
    assert_int_equal(sh.forever_rc, CURLE_OK); /* the stream was ended, not cut */
    assert_string_equal(sh.forever.body_out.p, "id: progress\ndata: {\"first\":true}\n\n");
    assert_int_equal(atomic_load(&F.forever_closed), 1);
    assert_true(sh.raw_eof);
    print_message("connections gone %.1f ms after the close\n", sh.ms);
    assert_true(sh.ms < 1500); /* closed by EOF, not by the 2 s grace timer */

    /* What kite's main does: the loop ends by itself once the server has let go of everything. */
    double t0 = now_ms();
    uv_close((uv_handle_t *)&F.wake, NULL);
    uv_run(&F.loop, UV_RUN_DEFAULT);
    assert_true(now_ms() - t0 < 1000);
    kt_http_free(F.srv);
    F.srv = NULL;
    assert_int_equal(uv_loop_close(&F.loop), 0);
    call_free(&sh.keep1);
    call_free(&sh.keep2);
    call_free(&sh.hang);
    call_free(&sh.forever);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_json), cmocka_unit_test(test_post_echo),     cmocka_unit_test(test_errors),
        cmocka_unit_test(test_deferred), cmocka_unit_test(test_sse),           cmocka_unit_test(test_oversize_body),
        cmocka_unit_test(test_shutdown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
