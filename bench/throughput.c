/* kite-bench --only throughput: one-task executions per second, sustained, on a store (SQLite in a directory, or
 * PostgreSQL at KITE_BENCH_PG_URL), against the floor measured in the same run on the same store: its raw commit
 * rate, one transaction per execution transition written by hand (begin, the execution's header and task run,
 * commit), as the executor's group commit would write them one at a time.
 *
 * A client keeps a window of executions in flight and starts a new one as each ends, so the executor's group
 * commit sees the load of a busy server rather than one execution at a time. The first tenth of the executions are
 * a warm-up and not counted. On PostgreSQL the same is measured with the executors as separate processes, one and
 * two of them (throughput_topo.c), every row's run in turn. */
#include "bench.h"

#include "actors/executor/executor.h"
#include "base/clock.h"
#include "base/id.h"
#include "flow/model.h"
#include "runtime/msg.h"
#include "runtime/node.h"
#include "store/store.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char kb_tp_yaml[] = "id: " KB_TP_FLOW "\nnamespace: kite.bench\ntasks:\n"
                          "  - id: only\n    type: io.kestra.plugin.core.log.Log\n    message: one task\n";

typedef struct kb_tp {
    uv_loop_t *loop;
    kt_node *node;
    const char *client;
    int revision;
    int total, started, ended, warmup, failed;
    double t_warm, t_end;
    json_t *last; /* the last execution ended: what the floor writes */
} kb_tp;

static void kb_tp_start_one(kb_tp *b)
{
    char id[KT_ID_LEN + 1];
    kt_id_new(id);
    json_t *execution = kt_execution_new(id, "kite.bench", KB_TP_FLOW, b->revision, NULL, NULL, NULL, kt_now_us());
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXECUTION_CREATE, KT_EXECUTOR_ACTOR, b->client, 1);
    kt_msg_execution_create body = {.execution = execution};
    kt_msg_encode_execution_create(&o, &body);
    kt_node_send(b->node, KT_EXECUTOR_ACTOR, &o);
    json_decref(execution);
    b->started++;
}

static void kb_tp_on_end(void *ud, const json_t *execution)
{
    kb_tp *b = ud;
    if (strcmp(kt_state_current(execution), KT_S(SUCCESS)))
        b->failed++;
    json_decref(b->last);
    b->last = json_deep_copy(execution);
    if (++b->ended == b->warmup)
        b->t_warm = kb_now_ms();
    if (b->ended == b->total) {
        b->t_end = kb_now_ms();
        uv_stop(b->loop);
        return;
    }
    if (b->started < b->total)
        kb_tp_start_one(b);
}

static void kb_tp_receive(kt_actor *a, const kt_msg *m) { (void)a, (void)m; }
static const kt_actor_ops kb_tp_client_ops = {.receive = kb_tp_receive};

/* A fresh place for one measurement: a temporary directory, or a new schema of the PostgreSQL database (its URL
 * with search_path set). *cleanup says what to remove afterwards. */
void kb_tp_place(const char *pg_url, char *where, size_t cap, char *cleanup, size_t ccap)
{
    if (!pg_url) {
        snprintf(where, cap, "/tmp/kite-bench-tp-XXXXXX");
        if (!mkdtemp(where))
            exit(1);
        snprintf(cleanup, ccap, "%s", where);
        return;
    }
    char schema[64];
    snprintf(schema, sizeof schema, "kb_%d_%llu", (int)getpid(), (unsigned long long)kt_now_us());
    PGconn *c = PQconnectdb(pg_url);
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "kite-bench: %s: %s", sql, PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
    PQfinish(c);
    snprintf(where, cap, "%s%soptions=-csearch_path%%3D%s", pg_url, strchr(pg_url, '?') ? "&" : "?", schema);
    snprintf(cleanup, ccap, "%s", schema);
}

double kb_pg_commits(const char *url)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQstatus(c) == CONNECTION_OK
                      ? PQexec(c, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
                      : NULL;
    double v = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atof(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    PQfinish(c);
    return v;
}

void kb_tp_unplace(const char *pg_url, const char *cleanup)
{
    if (!pg_url) {
        nftw(cleanup, kb_rm, 16, FTW_DEPTH | FTW_PHYS);
        return;
    }
    PGconn *c = PQconnectdb(pg_url);
    char sql[160];
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA %s CASCADE", cleanup);
    PQclear(PQexec(c, sql));
    PQfinish(c);
}

kt_store *kb_tp_open(const char *where)
{
    kt_store *store;
    char err[512];
    if (kt_store_open(where, NULL, &store, err, sizeof err)) {
        fprintf(stderr, "kite-bench: %s\n", err);
        exit(1);
    }
    return store;
}

/* Executions per second of the one-task flow, window of them in flight; *last gets the last one ended. */
static double kb_tp_executions(const char *pg_url, int n, int window, int *failed, json_t **last)
{
    char where[1024], cleanup[1024];
    kb_tp_place(pg_url, where, sizeof where, cleanup, sizeof cleanup);
    kt_store *store = kb_tp_open(where);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kb_tp b = {.loop = &loop, .total = n, .warmup = n / 10};
    int changed;
    kt_store_flow_save(store, "kite.bench", KB_TP_FLOW, kb_tp_yaml, &b.revision, &changed);
    kb_node kn;
    kb_node_start(&loop, store, 0, &kn);
    b.node = kn.node;
    kt_actor *client;
    kt_node_spawn(kn.node, "client", &kb_tp_client_ops, NULL, &client);
    b.client = kt_actor_address(client);
    kt_executor_observe(kn.executor, kb_tp_on_end, &b);
    const char *pg_pid = getenv("KITE_BENCH_PG_PID"), *diag = getenv("KITE_BENCH_TP_CPU");
    double cpu0 = kb_proc_cpu_ms(getpid()), pg0 = pg_url && pg_pid ? kb_pg_cpu_ms(atoi(pg_pid)) : 0;
    double commits0 = pg_url && diag ? kb_pg_commits(where) : 0;
    for (int i = 0; i < window && b.started < n; i++)
        kb_tp_start_one(&b);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (diag) { /* throughput_topo.c prints the same of its processes */
        fprintf(stderr, "one node on %s: %.0f ms; CPU ms per execution: node %.3f", pg_url ? "PostgreSQL" : "SQLite",
                b.t_end - b.t_warm, (kb_proc_cpu_ms(getpid()) - cpu0) / n);
        if (pg_url && pg_pid)
            fprintf(stderr, " postgres %.3f", (kb_pg_cpu_ms(atoi(pg_pid)) - pg0) / n);
    }
    kb_node_stop(&loop, &kn);
    kt_store_close(store);
    if (diag)
        fprintf(stderr, pg_url ? "; transactions per execution %.2f\n" : "\n", (kb_pg_commits(where) - commits0) / n);
    kb_tp_unplace(pg_url, cleanup);
    *failed = b.failed;
    *last = b.last;
    return (double)(n - b.warmup) / ((b.t_end - b.t_warm) / 1000.0);
}

void kb_tp_commit_loop(kt_store *store, int n, const json_t *ended)
{
    json_t *execution = json_deep_copy(ended);
    size_t runs[1] = {0};
    for (int i = 0; i < n; i++) {
        char id[KT_ID_LEN + 1];
        kt_id_new(id);
        json_object_set_new(execution, "id", json_string(id));
        if (kt_store_begin(store) || kt_store_execution_put(store, execution, runs, 1) || kt_store_commit(store)) {
            fprintf(stderr, "kite-bench: commit failed: %s\n", kt_store_errmsg(store));
            exit(1);
        }
    }
    json_decref(execution);
}

/* The floor: commits per second of one execution's transition each (its header and its one task run, as the
 * executor wrote them last), written by hand. */
static double kb_tp_commits(const char *pg_url, int n, const json_t *ended)
{
    char where[1024], cleanup[1024];
    kb_tp_place(pg_url, where, sizeof where, cleanup, sizeof cleanup);
    kt_store *store = kb_tp_open(where);
    double t0 = kb_now_ms();
    kb_tp_commit_loop(store, n, ended);
    double t = kb_now_ms() - t0;
    kt_store_close(store);
    kb_tp_unplace(pg_url, cleanup);
    return (double)n / (t / 1000.0);
}

/* Executions in flight: 64, or KITE_BENCH_TP_WINDOW. */
static int kb_tp_window(void)
{
    const char *w = getenv("KITE_BENCH_TP_WINDOW");
    return w && atoi(w) > 0 ? atoi(w) : 64;
}

/* A fresh schema of the PostgreSQL at pg_url for one measurement of the cluster rows, its URL into where. */
typedef struct kb_tp_schema {
    char where[1024], cleanup[1024];
} kb_tp_schema;

void kb_throughput(int quick, kb_tp_result *out)
{
    memset(out, 0, sizeof *out);
    const char *pg_url = getenv("KITE_BENCH_PG_URL");
    int n = quick ? 1000 : 5000, runs = quick ? 1 : 3, window = kb_tp_window();
    for (int s = 0; s < 2; s++) {
        const char *url = s ? pg_url : NULL;
        if (s && (!url || !*url))
            break;
        double ex[3], cm[3], cl1[3], cl2[3], cm2[3];
        int failed = 0;
        /* one run of every row after the other, three times: a machine whose load changes moves them all alike */
        for (int i = 0; i < runs; i++) {
            json_t *last = NULL;
            ex[i] = kb_tp_executions(url, n, window, &failed, &last);
            out->failed += failed;
            cm[i] = kb_tp_commits(url, n, last);
            if (s) {
                kb_tp_schema sc;
                kb_tp_place(url, sc.where, sizeof sc.where, sc.cleanup, sizeof sc.cleanup);
                cl1[i] = kb_tp_cluster(sc.where, 1, n, window, &failed);
                kb_tp_unplace(url, sc.cleanup);
                out->failed += failed;
                kb_tp_place(url, sc.where, sizeof sc.where, sc.cleanup, sizeof sc.cleanup);
                cl2[i] = kb_tp_cluster(sc.where, 2, n, window, &failed);
                kb_tp_unplace(url, sc.cleanup);
                out->failed += failed;
                kb_tp_place(url, sc.where, sizeof sc.where, sc.cleanup, sizeof sc.cleanup);
                cm2[i] = kb_tp_commits_parallel(sc.where, 2, n, last);
                kb_tp_unplace(url, sc.cleanup);
            }
            json_decref(last);
        }
        out->executions_per_s[s] = kb_median(ex, runs);
        out->commits_per_s[s] = kb_median(cm, runs);
        out->measured[s] = 1;
        if (s) {
            out->cluster_executions_per_s[0] = kb_median(cl1, runs);
            out->cluster_executions_per_s[1] = kb_median(cl2, runs);
            out->cluster_commits_per_s[0] = out->commits_per_s[1];
            out->cluster_commits_per_s[1] = kb_median(cm2, runs);
        }
    }
    out->executions = n;
}

static void kb_tp_row(const char *name, double executions, double commits)
{
    printf("  %-42s %14.0f %14.0f %7.2fx\n", name, executions, commits, executions / commits);
}

void kb_throughput_print(const kb_tp_result *r)
{
    static const char *const names[2] = {"SQLite (WAL, synchronous=NORMAL)", "PostgreSQL (KITE_BENCH_PG_URL)"};
    static const char *const cluster[2] = {"PostgreSQL, 1 executor process", "PostgreSQL, 2 executor processes"};
    char head[64];
    snprintf(head, sizeof head, "one-task executions, %d in flight", kb_tp_window());
    printf("%-44s %14s %14s %8s\n", head, "executions/s", "floor commits/s", "ratio");
    for (int s = 0; s < 2; s++) {
        if (!r->measured[s]) {
            printf("  %-42s %14s\n", names[s], "not measured: set KITE_BENCH_PG_URL");
            continue;
        }
        kb_tp_row(names[s], r->executions_per_s[s], r->commits_per_s[s]);
    }
    for (int c = 0; c < 2; c++) {
        if (!r->measured[1])
            printf("  %-42s %14s\n", cluster[c], "not measured: set KITE_BENCH_PG_URL");
        else
            kb_tp_row(cluster[c], r->cluster_executions_per_s[c], r->cluster_commits_per_s[c]);
    }
    if (r->measured[1])
        printf("  (processes: the executor(s), a worker, an indexer; submitted over nng tcp%s; floor: 1 connection "
               "committing, 2 at once)\n",
               getenv("KITE_BENCH_TP_KEYED") && !strcmp(getenv("KITE_BENCH_TP_KEYED"), "1")
                   ? " to each partition's owner" : "");
    if (r->failed)
        printf("  (%d executions did not end SUCCESS)\n", r->failed);
}

void kb_throughput_json(const kb_tp_result *r, char *out, size_t cap)
{
    char pg[512] = "null";
    if (r->measured[1])
        snprintf(pg, sizeof pg,
                 "{\"executions_per_s\":%.0f,\"commits_per_s\":%.0f,\"cluster\":{\"executors_1\":{\"executions_per_s\":"
                 "%.0f,\"commits_per_s\":%.0f},\"executors_2\":{\"executions_per_s\":%.0f,\"commits_per_s\":%.0f}}}",
                 r->executions_per_s[1], r->commits_per_s[1], r->cluster_executions_per_s[0],
                 r->cluster_commits_per_s[0], r->cluster_executions_per_s[1], r->cluster_commits_per_s[1]);
    snprintf(out, cap,
             "{\"executions\":%d,\"sqlite\":{\"executions_per_s\":%.0f,\"commits_per_s\":%.0f},\"postgres\":%s,"
             "\"failed\":%d}",
             r->executions, r->executions_per_s[0], r->commits_per_s[0], pg, r->failed);
}
