/* The webserver's reads through the store's read pool (web/api_read.c), in process: a node, an SQLite store, a pool
 * of one reader thread and the webserver on 127.0.0.1, clients on a thread (libcurl). The one reader is held busy by
 * a job of the test's own, so requests wait in the pool while their clients go away (h2c notices at once, HTTP/1.1
 * when the answer is written); their reads then complete on requests that are gone, which must only free them (run
 * under ASan: SANITIZE=ON). A read completing after the server answered 503 at its stop is not answered twice, and
 * the loop closes. Writes (kt_api_txn) run on the loop's own session on SQLite: they go on while the reader is held,
 * and /health answers from its last probe while the pool is full. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/log.h"
#include "runtime/node.h"
#include "store/db_pool.h"
#include "store/store.h"
#include "web/api.h"

static const char flow_src[] = "id: f\nnamespace: web.test\ntasks:\n  - id: hello\n    type: "
                               "io.kestra.plugin.core.log.Log\n    message: hi\n";

typedef struct world {
    char dir[64];
    uv_loop_t loop;
    kt_node *node;
    kt_store *store;
    kt_db_pool *pool;
    kt_webserver *web;
    int port;
    int queue; /* the pool's bound; 0: the default */
} world;

/* ---- the test's own job, holding the pool's only thread until the gate opens ---- */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_open;
static int g_gate_done;

static kt_status gated(kt_store *s, void *ud)
{
    (void)s;
    (void)ud;
    pthread_mutex_lock(&g_mu);
    while (!g_open)
        pthread_cond_wait(&g_cv, &g_mu);
    pthread_mutex_unlock(&g_mu);
    return KT_OK;
}

static void gated_done(kt_status st, void *ud)
{
    (void)ud;
    assert_int_equal(st, KT_OK);
    g_gate_done++;
}

static void gate(int open)
{
    pthread_mutex_lock(&g_mu);
    g_open = open;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static void hold_reader(world *w)
{
    gate(0);
    assert_int_equal(kt_db_read(w->pool, gated, gated_done, NULL), KT_OK);
}

/* ---- clients, on a thread of their own while the loop runs here ---- */
typedef struct call {
    const char *path;
    int post; /* POST with an empty body (a creation), else GET */
    const char *method, *yaml; /* another method; a YAML body (POST) */
    long version, timeout_ms;
    CURLcode rc;
    long status;
    char body[4096];
    size_t n;
} call;

typedef struct calls {
    call *v;
    size_t n;
    int port;
    atomic_int done;
} calls;

static size_t on_data(char *p, size_t sz, size_t nm, void *ud)
{
    call *c = ud;
    size_t len = sz * nm, room = sizeof c->body - 1 - c->n;
    memcpy(c->body + c->n, p, len < room ? len : room);
    c->n += len < room ? len : room;
    c->body[c->n] = 0;
    return len;
}

static void *client_main(void *arg)
{
    calls *cs = arg;
    for (size_t i = 0; i < cs->n; i++) {
        call *c = &cs->v[i];
        char url[512];
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", cs->port, c->path);
        CURL *e = curl_easy_init();
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, c->version);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
        struct curl_slist *hdr = NULL;
        if (c->post || c->yaml)
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->yaml ? c->yaml : "");
        if (c->yaml) {
            hdr = curl_slist_append(hdr, "Content-Type: application/x-yaml");
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
        }
        if (c->method)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
        c->rc = curl_easy_perform(e);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->status);
        curl_easy_cleanup(e); /* the connection closes here: a client that gave up is gone */
        curl_slist_free_all(hdr);
    }
    atomic_store(&cs->done, 1);
    return NULL;
}

/* Runs the loop until cond(w) holds (at most 10 s). */
static void pump(world *w, int (*cond)(world *, void *), void *arg)
{
    for (int i = 0; i < 10000 && !cond(w, arg); i++) {
        uv_run(&w->loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    assert_true(cond(w, arg));
}

static int clients_done(world *w, void *arg)
{
    (void)w;
    return atomic_load(&((calls *)arg)->done);
}

static int pool_pending_is(world *w, void *arg) { return kt_db_pool_pending(w->pool) == *(int *)arg; }

static void run_calls(world *w, call *v, size_t n)
{
    calls cs = {.v = v, .n = n, .port = w->port};
    pthread_t t;
    pthread_create(&t, NULL, client_main, &cs);
    pump(w, clients_done, &cs);
    pthread_join(t, NULL);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void world_start(world *w)
{
    snprintf(w->dir, sizeof w->dir, "/tmp/kite-test-api-read-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    char err[512] = "";
    assert_int_equal(kt_store_open(w->dir, NULL, &w->store, err, sizeof err), KT_OK);
    int rev, changed;
    assert_int_equal(kt_store_flow_save(w->store, "web.test", "f", flow_src, &rev, &changed), KT_OK);
    /* a flow whose id is a command's name: POST /api/v1/executions/web.test/pause is its creation */
    static const char pause_src[] = "id: pause\nnamespace: web.test\ntasks:\n  - id: hello\n    type: "
                                    "io.kestra.plugin.core.log.Log\n    message: hi\n";
    assert_int_equal(kt_store_flow_save(w->store, "web.test", "pause", pause_src, &rev, &changed), KT_OK);
    uv_loop_init(&w->loop);
    kt_node_config nc = {.node_id = "api-read-test"};
    assert_int_equal(kt_node_new(&w->loop, &nc, &w->node), KT_OK);
    kt_db_pool_options po = {.readers = 1, .queue = w->queue, .loop_store = w->store};
    assert_int_equal(kt_db_pool_open(&w->loop, w->dir, &po, &w->pool, err, sizeof err), KT_OK);
    kt_webserver_config wc = {.host = "127.0.0.1", .port = 0, .instance_uuid = "test", .pool = w->pool};
    assert_int_equal(kt_webserver_start(w->node, w->store, &wc, &w->web, err, sizeof err), KT_OK);
    w->port = kt_webserver_port(w->web);
}

/* As cmd/node.c stops: the node (the server answers what waits 503), the pool (the reads still running complete),
 * the webserver, then the loop must close. */
static void world_stop(world *w)
{
    kt_node_stop(w->node);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    kt_db_pool_close(w->pool);
    kt_webserver_free(w->web);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    kt_node_free(w->node);
    kt_store_close(w->store);
    nftw(w->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_client_gone_before_the_read(void **state)
{
    (void)state;
    world w = {0};
    world_start(&w);
    g_gate_done = 0;
    hold_reader(&w);
    /* each client gives up while its read waits behind the held reader */
    call gone[] = {
        {.path = "/api/v1/flows/web.test/f", .version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, .timeout_ms = 300},
        {.path = "/api/v1/executions/search", .version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, .timeout_ms = 300},
        {.path = "/api/v1/logs/search?q=x", .version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, .timeout_ms = 300},
        {.path = "/api/v1/flows/web.test/f", .version = CURL_HTTP_VERSION_1_1, .timeout_ms = 300},
        /* a creation hands the read's handle on to the pending creation (kt_http_req_retain) */
        {.path = "/api/v1/executions/web.test/f", .post = 1, .version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE,
         .timeout_ms = 300},
    };
    size_t ngone = sizeof gone / sizeof *gone;
    run_calls(&w, gone, ngone);
    for (size_t i = 0; i < ngone; i++)
        assert_int_equal(gone[i].rc, CURLE_OPERATION_TIMEDOUT);
    int want = 1 + (int)ngone; /* the held job and one read per request, none completed */
    assert_int_equal(kt_db_pool_pending(w.pool), want);
    gate(1);
    want = 0;
    pump(&w, pool_pending_is, &want);
    assert_int_equal(g_gate_done, 1);
    /* the pool and the server go on serving */
    call ok[] = {
        {.path = "/api/v1/flows/web.test/f", .version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, .timeout_ms = 5000},
        {.path = "/api/v1/flows/web.test/nope", .version = CURL_HTTP_VERSION_1_1, .timeout_ms = 5000},
        {.path = "/api/v1/executions/search", .version = CURL_HTTP_VERSION_1_1, .timeout_ms = 5000},
        {.path = "/api/v1/executions/web.test/f", .post = 1, .version = CURL_HTTP_VERSION_1_1, .timeout_ms = 5000},
        {.path = "/api/v1/executions/web.test/nope", .post = 1, .version = CURL_HTTP_VERSION_1_1, .timeout_ms = 5000},
        /* the pause route's read finds no execution "web.test": the creation it falls back to reads its flow in turn */
        {.path = "/api/v1/executions/web.test/pause", .post = 1, .version = CURL_HTTP_VERSION_1_1, .timeout_ms = 5000},
        {.path = "/api/v1/executions/nope/pause", .post = 1, .version = CURL_HTTP_VERSION_1_1, .timeout_ms = 5000},
    };
    run_calls(&w, ok, 7);
    assert_int_equal(ok[0].status, 200);
    json_t *flow = json_loads(ok[0].body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(flow, "id")), "f");
    assert_string_equal(json_string_value(json_object_get(flow, "namespace")), "web.test");
    json_decref(flow);
    assert_int_equal(ok[1].status, 404);
    assert_int_equal(ok[2].status, 200);
    json_t *page = json_loads(ok[2].body, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(page, "total")), 0);
    json_decref(page);
    /* the flow was read and the creation checked; no executor in this process: 503, not a crash nor a 500 */
    assert_int_equal(ok[3].status, 503);
    assert_non_null(strstr(ok[3].body, "no executor is reachable"));
    assert_int_equal(ok[4].status, 404);
    assert_int_equal(ok[5].status, 503);
    assert_non_null(strstr(ok[5].body, "no executor is reachable"));
    assert_int_equal(ok[6].status, 404);
    world_stop(&w);
}

/* A read still waiting when the server stops: the client gets the server's 503, the stopping loop waits for the read,
 * which completes on a request already answered, and nothing is sent twice. */
static void test_stop_with_a_read_waiting(void **state)
{
    (void)state;
    world w = {0};
    world_start(&w);
    g_gate_done = 0;
    hold_reader(&w);
    call c = {.path = "/api/v1/flows/web.test/f", .version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, .timeout_ms = 10000};
    calls cs = {.v = &c, .n = 1, .port = w.port};
    pthread_t t;
    pthread_create(&t, NULL, client_main, &cs);
    int want = 2;
    pump(&w, pool_pending_is, &want); /* the request's read waits behind the held job */
    kt_node_stop(w.node);
    pump(&w, clients_done, &cs);
    pthread_join(t, NULL);
    assert_int_equal(c.status, 503);
    gate(1);
    uv_run(&w.loop, UV_RUN_DEFAULT); /* the pool keeps the loop until the reads are done: the request's completes on
                                        an answered request */
    assert_int_equal(g_gate_done, 1);
    assert_int_equal(kt_db_pool_pending(w.pool), 0);
    kt_db_pool_close(w.pool);
    kt_webserver_free(w.web);
    uv_run(&w.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&w.loop), 0);
    kt_node_free(w.node);
    kt_store_close(w.store);
    nftw(w.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The one reader held and the pool full but for one job: a flow saved and another deleted (SQLite: on the loop's
 * session, not behind the reader) answer at once; /health answers 200 from its last probe (the probe it starts waits
 * in the pool, or is refused), where a read answers 503. Once the reader is free, the reads see the writes. */
static void test_writes_and_health_with_readers_busy(void **state)
{
    (void)state;
    world w = {.queue = 3};
    world_start(&w);
    g_gate_done = 0;
    hold_reader(&w);
    static const char g_src[] = "id: g\nnamespace: web.test\ntasks:\n  - id: hello\n    type: "
                                "io.kestra.plugin.core.log.Log\n    message: hi\n";
    call busy[] = {
        {.path = "/api/v1/flows", .yaml = g_src, .version = CURL_HTTP_VERSION_1_1, .timeout_ms = 5000},
        {.path = "/api/v1/flows/web.test/pause", .method = "DELETE", .version = CURL_HTTP_VERSION_1_1,
         .timeout_ms = 5000},
        {.path = "/api/v1/flows/web.test/nope", .method = "DELETE", .version = CURL_HTTP_VERSION_1_1,
         .timeout_ms = 5000},
        {.path = "/health", .version = CURL_HTTP_VERSION_1_1, .timeout_ms = 5000},  /* its probe takes a slot */
        /* one more read, which waits: its client gives up (the calls are one after the other) */
        {.path = "/api/v1/flows/web.test/f", .version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, .timeout_ms = 300},
        {.path = "/api/v1/flows/web.test/f", .version = CURL_HTTP_VERSION_1_1, .timeout_ms = 5000}, /* full */
        {.path = "/health", .version = CURL_HTTP_VERSION_1_1, .timeout_ms = 5000},
    };
    run_calls(&w, busy, sizeof busy / sizeof *busy);
    assert_int_equal(busy[0].status, 200);
    json_t *saved = json_loads(busy[0].body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(saved, "id")), "g");
    assert_int_equal(json_integer_value(json_object_get(saved, "revision")), 1);
    json_decref(saved);
    assert_int_equal(busy[1].status, 204);
    assert_int_equal(busy[2].status, 404);
    assert_int_equal(busy[3].status, 200);
    assert_non_null(strstr(busy[3].body, "\"status\":\"UP\""));
    assert_int_equal(busy[4].rc, CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(busy[5].status, 503);
    assert_int_equal(busy[6].status, 200);
    assert_int_equal(kt_db_pool_pending(w.pool), 3); /* the held job, the probe and one read, all waiting */
    gate(1);
    int want = 0;
    pump(&w, pool_pending_is, &want);
    call after[] = {
        {.path = "/api/v1/flows/web.test/g", .version = CURL_HTTP_VERSION_1_1, .timeout_ms = 5000},
        {.path = "/api/v1/flows/web.test/pause", .version = CURL_HTTP_VERSION_1_1, .timeout_ms = 5000},
    };
    run_calls(&w, after, 2);
    assert_int_equal(after[0].status, 200);
    assert_int_equal(after[1].status, 404);
    world_stop(&w);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_gone_before_the_read),
        cmocka_unit_test(test_stop_with_a_read_waiting),
        cmocka_unit_test(test_writes_and_health_with_readers_busy),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
