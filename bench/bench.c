/* kite-bench: the numbers issue #2 asks for, measured in one run on this machine.
 *
 *   1. messages/s between two actors: same node (local mailbox), and across two nodes over nng inproc, ipc, tcp;
 *   2. a flow of 100 sequential Log tasks: total time and orchestration cost per task, with durable commits
 *      (SQLite WAL synchronous=NORMAL, and FULL = fsync per commit);
 *   3. a flow of 100 sequential shell.Commands `true`: total time against the floor measured in the same run
 *      (the same 100 processes spawned one after another by this harness);
 *   4. the scheduler holding 10 000 daily schedules: start, memory, idle CPU, tick latency (sched.c);
 *   5. one-task executions per second sustained on SQLite, and on PostgreSQL when KITE_BENCH_PG_URL is set, against
 *      the store's raw commit rate measured in the same run (throughput.c); on PostgreSQL also with one and with two
 *      `kite server executor` processes, a worker's and an indexer's, against one and two connections committing at
 *      once (throughput_topo.c, procs.c);
 *   --only split: storage.Split of a 1 GiB file, resident memory sampled (split.c);
 *   --only search: the log search on 100 000 lines with the full-text index and by the scan (search.c).
 *
 * Prints a table, then one JSON line. Each figure is the median of several runs. Usage: kite-bench [--quick]
 * The flows run on a node with a scheduler, as `kite server local` has; KITE_BENCH_NO_SCHEDULER=1 leaves it out, to
 * see its share. */
#include "bench.h"

#include "actors/executor/executor.h"
#include "actors/indexer/indexer.h"
#include "actors/scheduler/scheduler.h"
#include "flow/model.h"
#include "actors/worker/worker.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/log.h"
#include "runtime/node.h"
#include "store/store.h"

#include <ftw.h>
#include <nng/nng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int kb_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double kb_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, kb_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double kb_now_ms(void) { return (double)uv_hrtime() / 1e6; }

int kb_rm(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb, (void)f, (void)w;
    remove(p);
    return 0;
}

void kb_close_loop(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_DEFAULT);
    if (uv_loop_close(loop)) {
        fprintf(stderr, "kite-bench: loop did not close\n");
        exit(1);
    }
}

/* ---- 1. messages between two actors ------------------------------------------------------------- */

#define KB_WINDOW 4096
#define KB_ACK_EVERY 1024

typedef struct kb_pingpong {
    uv_loop_t *loop;
    kt_node *src, *dst;
    long n, sent, acked, received;
    char src_addr[KT_ADDR_MAX], sink_addr[KT_ADDR_MAX];
    int joined;
    double t0, t1;
} kb_pingpong;

static void kb_send_ping(kt_node *node, const char *to, const char *from, uint64_t seq)
{
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_PING, to, from, 0);
    kt_msg_ping p = {.seq = seq};
    kt_msg_encode_ping(&o, &p);
    kt_node_send(node, to, &o);
}

static void kb_source_fill(kb_pingpong *b)
{
    while (b->sent < b->n && b->sent - b->acked < KB_WINDOW)
        kb_send_ping(b->src, b->sink_addr, b->src_addr, (uint64_t)++b->sent);
}

static void kb_source_receive(kt_actor *a, const kt_msg *m)
{
    kb_pingpong *b = kt_actor_state(a);
    kt_msg_ping p;
    if (kt_msg_decode_ping(m->body, &p))
        return;
    b->acked = (long)p.seq;
    if (b->acked >= b->n) {
        b->t1 = kb_now_ms();
        uv_stop(b->loop);
        return;
    }
    kb_source_fill(b);
}

static void kb_sink_receive(kt_actor *a, const kt_msg *m)
{
    kb_pingpong *b = kt_actor_state(a);
    if (++b->received % KB_ACK_EVERY == 0 || b->received == b->n)
        kb_send_ping(b->dst, b->src_addr, b->sink_addr, (uint64_t)b->received);
}

static void kb_peer_up(kt_actor *a, const kt_peer_info *i)
{
    kb_pingpong *b = kt_actor_state(a);
    if (++b->joined == 2)
        uv_stop(b->loop);
}

static const kt_actor_ops kb_source_ops = {.receive = kb_source_receive, .peer_up = kb_peer_up};
static const kt_actor_ops kb_sink_ops = {.receive = kb_sink_receive, .peer_up = kb_peer_up};

/* url NULL = both actors on one node. Returns messages per second. */
static double kb_messages(const char *url, long n)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kb_pingpong b = {.loop = &loop, .n = n};
    kt_node_config ca = {.node_id = "bench-a"}, cb = {.node_id = "bench-b"};
    kt_node_new(&loop, &ca, &b.dst);
    b.src = b.dst;
    if (url)
        kt_node_new(&loop, &cb, &b.src);
    kt_node_spawn(b.dst, "sink", &kb_sink_ops, &b, NULL);
    kt_actor *src;
    kt_node_spawn(b.src, "source", &kb_source_ops, &b, &src);
    snprintf(b.src_addr, sizeof b.src_addr, "%s", kt_actor_address(src));
    snprintf(b.sink_addr, sizeof b.sink_addr, "sink@%s", kt_node_id(b.dst));
    if (url) {
        char err[256];
        if (kt_node_listen(b.dst, url, err, sizeof err) || kt_node_join(b.src, url, err, sizeof err)) {
            fprintf(stderr, "kite-bench: %s\n", err);
            exit(1);
        }
        uv_run(&loop, UV_RUN_DEFAULT); /* until both sides saw the other join */
    }
    b.t0 = kb_now_ms();
    kb_source_fill(&b);
    uv_run(&loop, UV_RUN_DEFAULT);
    kt_node_stop(b.dst);
    if (url)
        kt_node_stop(b.src);
    kb_close_loop(&loop);
    kt_node_free(b.dst);
    if (url)
        kt_node_free(b.src);
    return (double)n / ((b.t1 - b.t0) / 1000.0);
}

/* ---- 2/3. flows ---------------------------------------------------------------------------------- */

typedef struct kb_flow_run {
    uv_loop_t *loop;
    double t0, t1;
    int done;
    char state[32];
} kb_flow_run;

static void kb_on_end(void *ud, const json_t *execution)
{
    kb_flow_run *r = ud;
    r->t1 = kb_now_ms();
    r->done = 1;
    snprintf(r->state, sizeof r->state, "%s", kt_state_current(execution));
    uv_stop(r->loop);
}

static const kt_actor_ops kb_client_ops = {.receive = NULL};
static void kb_client_receive(kt_actor *a, const kt_msg *m) { (void)a, (void)m; }

static char *kb_flow_yaml(const char *kind, int n)
{
    size_t cap = (size_t)n * 256 + 256, len = 0;
    char *y = malloc(cap);
    len += (size_t)snprintf(y + len, cap - len, "id: bench_%s\nnamespace: kite.bench\ntasks:\n", kind);
    for (int i = 0; i < n; i++) {
        if (!strcmp(kind, "log"))
            len += (size_t)snprintf(y + len, cap - len,
                                    "  - id: t%d\n    type: io.kestra.plugin.core.log.Log\n    message: task {{ taskrun.id }}\n", i);
        else
            len += (size_t)snprintf(y + len, cap - len,
                                    "  - id: t%d\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands:\n      - \"true\"\n", i);
    }
    return y;
}

void kb_node_start(uv_loop_t *loop, kt_store *store, int with_scheduler, kb_node *out)
{
    memset(out, 0, sizeof *out);
    kt_node_config nc = {.node_id = "bench"};
    kt_node_new(loop, &nc, &out->node);
    kt_worker_config wc = {.slots = 8};
    kt_worker_start(out->node, &wc, &out->worker);
    kt_executor_start(out->node, store, NULL, &out->executor);
    kt_executor_add_worker(out->executor, "worker@bench", "bench", 8);
    kt_indexer_start(out->node, store, NULL, &out->indexer); /* after the executor, as cmd/node.c spawns it */
    if (with_scheduler)
        kt_scheduler_start(out->node, store, NULL, &out->scheduler);
}

void kb_node_stop(uv_loop_t *loop, kb_node *n)
{
    kt_node_stop(n->node);
    kb_close_loop(loop);
    kt_worker_free(n->worker);
    kt_node_free(n->node);
}

/* Runs the flow once on a fresh node and store; returns the wall time from ExecutionCreate to the committed end. */
static double kb_flow(const char *kind, int n, int sync_full)
{
    char dir[] = "/tmp/kite-bench-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_store *store;
    char err[256];
    kt_store_options so = {.sync_full = sync_full};
    if (kt_store_open(dir, &so, &store, err, sizeof err)) {
        fprintf(stderr, "kite-bench: %s\n", err);
        exit(1);
    }
    char *yaml = kb_flow_yaml(kind, n);
    char flow_id[64];
    snprintf(flow_id, sizeof flow_id, "bench_%s", kind);
    int rev, changed;
    kt_store_flow_save(store, "kite.bench", flow_id, yaml, &rev, &changed);
    free(yaml);
    kb_node kn;
    /* as in `kite server local`: the executor tells the scheduler of every state change (Flow triggers) */
    kb_node_start(&loop, store, getenv("KITE_BENCH_NO_SCHEDULER") == NULL, &kn);
    kt_node *node = kn.node;
    kb_flow_run r = {.loop = &loop};
    kt_executor_observe(kn.executor, kb_on_end, &r);
    static kt_actor_ops client_ops;
    client_ops = kb_client_ops;
    client_ops.receive = kb_client_receive;
    kt_actor *client;
    kt_node_spawn(node, "client", &client_ops, NULL, &client);
    char id[KT_ID_LEN + 1];
    kt_id_new(id);
    json_t *execution = kt_execution_new(id, "kite.bench", flow_id, rev, NULL, NULL, NULL, kt_now_us());
    r.t0 = kb_now_ms();
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXECUTION_CREATE, KT_EXECUTOR_ACTOR, kt_actor_address(client), 1);
    kt_msg_execution_create body = {.execution = execution};
    kt_msg_encode_execution_create(&o, &body);
    kt_node_send(node, KT_EXECUTOR_ACTOR, &o);
    json_decref(execution);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (!r.done || strcmp(r.state, KT_S(SUCCESS))) {
        fprintf(stderr, "kite-bench: the %s flow ended %s\n", kind, r.done ? r.state : "never");
        exit(1);
    }
    kb_node_stop(&loop, &kn);
    kt_store_close(store);
    nftw(dir, kb_rm, 16, FTW_DEPTH | FTW_PHYS);
    return r.t1 - r.t0;
}

/* ---- the floor: the same processes, spawned by hand ---------------------------------------------- */

typedef struct kb_spawn {
    uv_process_t proc;
    uv_pipe_t out, err;
    int open;
} kb_spawn;

static void kb_spawn_closed(uv_handle_t *h)
{
    kb_spawn *s = h->data;
    if (--s->open == 0)
        uv_stop(h->loop);
}

static void kb_spawn_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    static char buf[4096];
    (void)h, (void)sz;
    b->base = buf;
    b->len = sizeof buf;
}

static void kb_spawn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    if (n < 0)
        uv_close((uv_handle_t *)st, kb_spawn_closed);
}

static void kb_spawn_exit(uv_process_t *p, int64_t status, int sig)
{
    (void)status, (void)sig;
    uv_close((uv_handle_t *)p, kb_spawn_closed);
}

extern char **environ;

/* What the worker runs for `commands: [true]`: /bin/sh -c "set -e\ntrue", stdout and stderr piped. */
static double kb_floor(int n)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    char *args[] = {"/bin/sh", "-c", "set -e\ntrue", NULL};
    double t0 = kb_now_ms();
    for (int i = 0; i < n; i++) {
        kb_spawn s = {.open = 3};
        s.proc.data = s.out.data = s.err.data = &s;
        uv_pipe_init(&loop, &s.out, 0);
        uv_pipe_init(&loop, &s.err, 0);
        uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE},
                                         {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&s.out},
                                         {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&s.err}};
        uv_process_options_t o = {.exit_cb = kb_spawn_exit, .file = args[0], .args = args, .env = environ,
                                  .stdio_count = 3, .stdio = stdio, .flags = UV_PROCESS_DETACHED};
        if (uv_spawn(&loop, &s.proc, &o))
            exit(1);
        uv_read_start((uv_stream_t *)&s.out, kb_spawn_alloc, kb_spawn_read);
        uv_read_start((uv_stream_t *)&s.err, kb_spawn_alloc, kb_spawn_read);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    double t = kb_now_ms() - t0;
    kb_close_loop(&loop);
    return t;
}

int main(int argc, char **argv)
{
    uv_replace_allocator(kt_xmalloc, kt_xrealloc, kt_xcalloc, free); /* the same out-of-memory policy as kite */
    int quick = 0;
    const char *only = NULL; /* profiling aid: --only log|shell runs that flow 20 times and prints its median;
                                --only sched runs the scheduler part alone */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else {
            fprintf(stderr, "usage: kite-bench [--quick] [--only log|shell|sched|split|http|throughput|search]\n");
            return 2;
        }
    }
    kb_sched_result sr;
    if (only && !strcmp(only, "split")) { /* KITE_BENCH_SPLIT_MIB: the file's size (1024 by default) */
        kt_log_set_level(KT_LOG_WARN);
        const char *mib = getenv("KITE_BENCH_SPLIT_MIB");
        kb_split(mib && atol(mib) > 0 ? atol(mib) : quick ? 256 : 1024, "64MB");
        nng_fini();
        return 0;
    }
    if (only && !strcmp(only, "http")) { /* KITE_BENCH_HTTP_MIB: the body's size (200 by default) */
        kt_log_set_level(KT_LOG_WARN);
        const char *mib = getenv("KITE_BENCH_HTTP_MIB");
        kb_http_download(mib && atol(mib) > 0 ? atol(mib) : 200);
        nng_fini();
        return 0;
    }
    if (only && !strcmp(only, "throughput")) {
        kt_log_set_level(KT_LOG_WARN);
        kb_tp_result tr;
        kb_throughput(quick, &tr);
        kb_throughput_print(&tr);
        char tp_json[1024];
        kb_throughput_json(&tr, tp_json, sizeof tp_json);
        printf("\n{\"bench\":\"kite\",\"runs\":%d,\"throughput\":%s}\n", quick ? 1 : 3, tp_json);
        nng_fini();
        return tr.failed ? 1 : 0;
    }
    if (only && !strcmp(only, "search")) { /* KITE_BENCH_SEARCH_LINES: the log lines (100000 by default) */
        kt_log_set_level(KT_LOG_WARN);
        const char *n = getenv("KITE_BENCH_SEARCH_LINES");
        kb_search(n && atoi(n) > 0 ? atoi(n) : quick ? 20000 : 100000);
        nng_fini();
        return 0;
    }
    if (only && !strcmp(only, "sched")) {
        kt_log_set_level(KT_LOG_WARN);
        kb_scheduler(quick ? 2000 : 10000, quick ? 3 : 10, &sr);
        printf("scheduler, %d daily schedules: start %.0f ms, +%ld KiB RSS (%ld KiB held), idle CPU %.3f%% (%llu "
               "evaluations), tick -> execution created %.2f ms, -> ended %.2f ms (medians of 10 ticks)\n",
               sr.flows, sr.start_ms, sr.rss_kib, sr.heap_kib, sr.idle_cpu_pct, sr.idle_evaluations,
               sr.tick_created_ms, sr.tick_ended_ms);
        nng_fini();
        return 0;
    }
    if (only) {
        kt_log_set_level(KT_LOG_WARN);
        double v[20];
        for (int i = 0; i < 20; i++)
            v[i] = kb_flow(!strcmp(only, "log") ? "log" : "shell", 100, 0);
        printf("%s flow: median %.2f ms per 100 tasks\n", only, kb_median(v, 20));
        nng_fini();
        return 0;
    }
    int runs = quick ? 3 : 5;
    long nmsg = quick ? 100000 : 500000;
    const int ntasks = 100;
    kt_log_set_level(KT_LOG_WARN);

    static const struct {
        const char *name, *url;
    } transports[] = {{"local", NULL},
                      {"nng inproc", "inproc://kite-bench"},
                      {"nng ipc", "ipc:///tmp/kite-bench.ipc"},
                      {"nng tcp", "tcp://127.0.0.1:47911"}};
    double msgs[4];
    for (int t = 0; t < 4; t++) {
        double v[7];
        for (int i = 0; i < runs; i++)
            v[i] = kb_messages(transports[t].url, transports[t].url ? nmsg / 2 : nmsg);
        msgs[t] = kb_median(v, runs);
    }

    double log_normal[7], log_full[7], sh[7], floor_v[7];
    for (int i = 0; i < runs; i++) {
        log_normal[i] = kb_flow("log", ntasks, 0);
        log_full[i] = kb_flow("log", ntasks, 1);
        floor_v[i] = kb_floor(ntasks);
        sh[i] = kb_flow("shell", ntasks, 0);
    }
    kb_scheduler(quick ? 2000 : 10000, quick ? 3 : 10, &sr);
    kb_tp_result tr;
    kb_throughput(quick, &tr);
    double ln = kb_median(log_normal, runs), lf = kb_median(log_full, runs), s = kb_median(sh, runs),
           fl = kb_median(floor_v, runs);

    printf("kite-bench (median of %d runs, %d-task sequential flows, 2-core machine)\n\n", runs, ntasks);
    printf("%-44s %14s\n", "messages between two actors", "msg/s");
    for (int t = 0; t < 4; t++)
        printf("  %-42s %14.0f\n", transports[t].name, msgs[t]);
    printf("\n%-44s %10s %14s\n", "flow", "total ms", "per task ms");
    printf("  %-42s %10.2f %14.3f\n", "100 x Log, commits synchronous=NORMAL", ln, ln / ntasks);
    printf("  %-42s %10.2f %14.3f\n", "100 x Log, commits synchronous=FULL (fsync)", lf, lf / ntasks);
    printf("  %-42s %10.2f %14.3f\n", "100 x shell.Commands true (Kite)", s, s / ntasks);
    printf("  %-42s %10.2f %14.3f\n", "100 x the same process spawned by hand", fl, fl / ntasks);
    printf("  %-42s %10.2f %14.3f\n", "shell: orchestration overhead (Kite - floor)", s - fl, (s - fl) / ntasks);
    printf("  %-42s %10.2fx\n\n", "shell: Kite / floor", s / fl);
    printf("%-44s %14s\n", "scheduler", "");
    printf("  %-42s %14d\n", "daily schedules held", sr.flows);
    printf("  %-42s %14.0f\n", "start: load flows, write trigger rows (ms)", sr.start_ms);
    printf("  %-42s %14ld\n", "resident memory added (KiB)", sr.rss_kib);
    printf("  %-42s %14ld\n", "heap held (KiB)", sr.heap_kib);
    printf("  %-42s %14.3f\n", "idle CPU of the node (%)", sr.idle_cpu_pct);
    printf("  %-42s %14llu\n", "trigger evaluations while idle", sr.idle_evaluations);
    printf("  %-42s %14.2f\n", "tick date -> execution created (ms)", sr.tick_created_ms);
    printf("  %-42s %14.2f\n\n", "tick date -> 1-task execution ended (ms)", sr.tick_ended_ms);
    kb_throughput_print(&tr);
    printf("\n");
    char tp_json[1024];
    kb_throughput_json(&tr, tp_json, sizeof tp_json);
    printf("{\"bench\":\"kite\",\"runs\":%d,\"tasks\":%d,\"msgs_per_s\":{\"local\":%.0f,\"inproc\":%.0f,\"ipc\":%.0f,"
           "\"tcp\":%.0f},\"log_flow_ms\":{\"normal\":%.3f,\"full\":%.3f},\"log_task_ms\":{\"normal\":%.4f,"
           "\"full\":%.4f},\"shell_flow_ms\":%.3f,\"shell_floor_ms\":%.3f,\"shell_overhead_task_ms\":%.4f,"
           "\"shell_ratio\":%.3f,\"scheduler\":{\"schedules\":%d,\"start_ms\":%.1f,\"rss_kib\":%ld,"
           "\"heap_kib\":%ld,\"idle_cpu_pct\":%.4f,\"idle_evaluations\":%llu,\"tick_created_ms\":%.3f,\"tick_ended_ms\":%.3f},"
           "\"throughput\":%s}\n",
           runs, ntasks, msgs[0], msgs[1], msgs[2], msgs[3], ln, lf, ln / ntasks, lf / ntasks, s, fl,
           (s - fl) / ntasks, s / fl, sr.flows, sr.start_ms, sr.rss_kib, sr.heap_kib, sr.idle_cpu_pct, sr.idle_evaluations,
           sr.tick_created_ms, sr.tick_ended_ms, tp_json);
    nng_fini();
    return 0;
}
