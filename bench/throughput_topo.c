/* kite-bench --only throughput, the cluster rows: one-task executions per second on PostgreSQL with the executors as
 * separate processes, one `kite server executor` and then two sharing the store (the executions' partitions split
 * between them by their leases), each row with the same other processes: one `kite server worker` (8 slots) and one
 * `kite server indexer`. This process submits the executions as the webserver does: a node joining the first
 * executor over nng tcp on 127.0.0.1, ExecutionCreate addressed to "executor" (its node picks the first executor it
 * knows; an executor passes an execution of a partition it does not own on to its owner), with wait set, so that the
 * executor which ran it answers once it ended. In-process loops would share one process's globals (the metrics
 * registry among them), and one loop's turns would serialize what two processes do at once.
 *
 * The measurement is the in-process rows' (throughput.c): a window of executions in flight, a new one submitted as
 * each ends, the first tenth a warm-up not counted. The window starts once every process has joined and the
 * partitions' leases are where the membership says (a second executor takes its half within a lease renewal).
 * KITE_BENCH_TP_KEYED=1 sends each execution to its partition's owner directly (kt_node_send_keyed), to measure what
 * the executors' passing on costs; KITE_BENCH_TP_SLOTS=N gives the worker N slots instead of 8 (each executor counts
 * a worker's slots as its own: two executors may give it twice as many jobs at once); KITE_BENCH_TP_CPU=1 prints the
 * median latency (submitted -> ended), each process's CPU time per execution (and the PostgreSQL server's, its
 * postmaster's pid in KITE_BENCH_PG_PID) and the database's transactions per execution (the group commits' size). */
#include "bench.h"

#include "actors/names.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/limits.h"
#include "flow/model.h"
#include "runtime/msg.h"
#include "runtime/node.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KB_CL_PROCS 4           /* the executors (at most 2), the worker, the indexer */
#define KB_CL_SETTLE_MS 60000.0 /* joining and leases: a loaded machine is slow, a broken one never gets there */
#define KB_CL_STALL_MS 60000.0  /* no execution ended for this long: something is stuck */
#define KB_CL_TICK_MS 50

typedef enum kb_cl_phase { KB_CL_MEMBERS, KB_CL_LEASES, KB_CL_RUN } kb_cl_phase;

typedef struct kb_cl {
    uv_loop_t *loop;
    uv_timer_t tick;
    kt_node *node;
    kt_store *store;
    const char *client;
    kb_proc procs[KB_CL_PROCS];
    int nprocs, executors, revision, keyed, window;
    kb_cl_phase phase;
    double phase_since, last_progress;
    unsigned ticks;
    double cpu_ms[KB_CL_PROCS]; /* at the start of the window */
    double pg_cpu_ms;           /* the PostgreSQL server's processes' (KITE_BENCH_PG_PID), at the start */
    double self_cpu_ms;         /* this process's: the client node's, at the start */
    double commits;             /* the database's transactions committed, at the start */
    const char *where;
    int total, warmup, started, ended, failed, refused;
    double t_warm, t_end;
    double *sent_at; /* by corr id (1..total): when each execution was submitted */
    double *latency; /* by end (0..total-1): submitted -> ended, ms */
} kb_cl;

/* Something went wrong: what every process wrote, then the bench exits (the processes die with it). */
static void kb_cl_fail(kb_cl *b, const char *what)
{
    for (int i = 0; i < b->nprocs; i++)
        kb_proc_dump(&b->procs[i]);
    fprintf(stderr, "kite-bench: cluster of %d executor(s): %s (%d of %d executions ended)\n", b->executors, what,
            b->ended, b->total);
    exit(1);
}

/* 0 when sent; 1 when the executor's way is full for now (the tick tries again). */
static int kb_cl_submit(kb_cl *b)
{
    char id[KT_ID_LEN + 1];
    kt_id_new(id);
    json_t *execution = kt_execution_new(id, "kite.bench", KB_TP_FLOW, b->revision, NULL, NULL, NULL, kt_now_us());
    kt_outmsg o;
    uint64_t corr = (uint64_t)b->started + 1; /* the same again after a refusal: nothing was sent */
    kt_outmsg_begin(&o, KT_MSG_EXECUTION_CREATE, KT_EXECUTOR_ACTOR, b->client, corr);
    kt_msg_execution_create body = {.execution = execution, .wait = 1};
    kt_msg_encode_execution_create(&o, &body);
    kt_status st = b->keyed ? kt_node_send_keyed(b->node, KT_EXECUTOR_ACTOR, id, &o)
                            : kt_node_send(b->node, KT_EXECUTOR_ACTOR, &o);
    json_decref(execution);
    if (st == KT_EAGAIN)
        return 1;
    if (st) {
        char why[128];
        snprintf(why, sizeof why, "an execution could not be sent: %s", kt_strerror(st));
        kb_cl_fail(b, why);
    }
    b->sent_at[corr] = kb_now_ms();
    b->started++;
    return 0;
}

static void kb_cl_fill(kb_cl *b)
{
    while (b->started < b->total && b->started - b->ended < b->window && !kb_cl_submit(b))
        ;
}

/* Two replies per execution: once its creation is committed (no data), once it ended (the execution). A refusal
 * ends it as failed. */
static void kb_cl_receive(kt_actor *a, const kt_msg *m)
{
    kb_cl *b = kt_actor_state(a);
    kt_msg_reply r;
    if (m->type != KT_MSG_REPLY || kt_msg_decode_reply(m->body, &r))
        return;
    int ended = 0, ok = 0;
    if (r.status != KT_OK) {
        ended = 1;
        if (b->refused++ < 3)
            fprintf(stderr, "kite-bench: an execution was refused: %s: %s\n", kt_strerror((kt_status)r.status),
                    r.message ? r.message : "");
    } else if (r.data) {
        const char *state = kt_state_current(r.data);
        ended = 1;
        ok = state && !strcmp(state, KT_S(SUCCESS));
    }
    kt_msg_reply_clear(&r);
    if (!ended)
        return;
    b->failed += !ok;
    b->last_progress = kb_now_ms();
    if (m->corr >= 1 && m->corr <= (uint64_t)b->total)
        b->latency[b->ended] = b->last_progress - b->sent_at[m->corr];
    if (++b->ended == b->warmup)
        b->t_warm = b->last_progress;
    if (b->ended == b->total) {
        b->t_end = b->last_progress;
        uv_stop(b->loop);
        return;
    }
    kb_cl_fill(b);
}

static const kt_actor_ops kb_cl_client_ops = {.receive = kb_cl_receive};

/* Every process seen by this node: the executors, the worker and the indexer. */
static int kb_cl_joined(kb_cl *b)
{
    json_t *members = kt_node_members(b->node), *m;
    int executors = 0, worker = 0, indexer = 0;
    size_t i;
    json_array_foreach(members, i, m) {
        json_t *actors = json_object_get(m, "actors"), *a;
        size_t k;
        json_array_foreach(actors, k, a) {
            const char *name = json_string_value(a);
            executors += name && !strcmp(name, KT_EXECUTOR_ACTOR);
            worker |= name && !strcmp(name, KT_WORKER_ACTOR);
            indexer |= name && !strcmp(name, KT_INDEXER_ACTOR);
        }
    }
    json_decref(members);
    return executors == b->executors && worker && indexer;
}

/* Every partition's lease held, and by the executor this node's membership names its owner. */
static int kb_cl_leases_settled(kb_cl *b)
{
    json_t *rows = NULL, *row;
    int64_t now = 0;
    if (kt_store_leases(b->store, KT_EXECUTOR_ACTOR, &rows, &now))
        kb_cl_fail(b, "the leases could not be read");
    size_t i, settled = 0;
    json_array_foreach(rows, i, row) {
        const char *owner = json_string_value(json_object_get(row, "owner"));
        const char *should = kt_node_partition_owner(b->node, KT_EXECUTOR_ACTOR,
                                                     (int)json_integer_value(json_object_get(row, "id")));
        settled += owner && should && !strcmp(owner, should) &&
                   json_integer_value(json_object_get(row, "expiresUs")) > now;
    }
    json_decref(rows);
    return settled == KT_PARTITIONS;
}

static void kb_cl_on_tick(uv_timer_t *t)
{
    kb_cl *b = t->data;
    double now = kb_now_ms();
    b->ticks++;
    for (int i = 0; i < b->nprocs; i++)
        if (!kb_proc_alive(&b->procs[i])) {
            char why[96];
            snprintf(why, sizeof why, "%s exited", b->procs[i].name);
            kb_cl_fail(b, why);
        }
    switch (b->phase) {
    case KB_CL_MEMBERS:
        if (kb_cl_joined(b)) {
            b->phase = KB_CL_LEASES;
            b->phase_since = now;
        } else if (now - b->phase_since > KB_CL_SETTLE_MS) {
            kb_cl_fail(b, "the processes did not all join");
        }
        break;
    case KB_CL_LEASES:
        if (b->ticks % 4) /* the store every 200 ms */
            break;
        if (kb_cl_leases_settled(b)) {
            for (int i = 0; i < b->nprocs; i++)
                b->cpu_ms[i] = kb_proc_cpu_ms(b->procs[i].pid);
            const char *pg_pid = getenv("KITE_BENCH_PG_PID");
            b->pg_cpu_ms = pg_pid ? kb_pg_cpu_ms(atoi(pg_pid)) : 0;
            b->self_cpu_ms = kb_proc_cpu_ms(getpid());
            if (getenv("KITE_BENCH_TP_CPU"))
                b->commits = kb_pg_commits(b->where);
            b->phase = KB_CL_RUN;
            b->last_progress = now;
            kb_cl_fill(b);
        } else if (now - b->phase_since > KB_CL_SETTLE_MS) {
            kb_cl_fail(b, "the partitions' leases did not settle");
        }
        break;
    case KB_CL_RUN:
        kb_cl_fill(b); /* after a full way (KT_EAGAIN) */
        if (now - b->last_progress > KB_CL_STALL_MS)
            kb_cl_fail(b, "no execution ended for 60 s");
        break;
    }
}

/* `kite server ROLE --node-id NAME --data DIR/NAME --log-level warn` and the rest (NULL-terminated). */
static void kb_cl_start(kb_cl *b, const char *dir, const char *role, const char *name, const char *const *rest)
{
    char data[600];
    snprintf(data, sizeof data, "%s/%s", dir, name);
    const char *args[24] = {"server", role, "--node-id", name, "--data", data, "--log-level", "warn"};
    size_t n = 8;
    for (size_t i = 0; rest[i] && n < 23; i++)
        args[n++] = rest[i];
    args[n] = NULL;
    kb_proc_start(&b->procs[b->nprocs++], dir, name, args);
}

double kb_tp_cluster(const char *where, int executors, int n, int window, int *failed)
{
    char dir[] = "/tmp/kite-bench-cluster-XXXXXX", join[64];
    if (!mkdtemp(dir))
        exit(1);
    snprintf(join, sizeof join, "tcp://127.0.0.1:%d", kb_free_port());
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *keyed = getenv("KITE_BENCH_TP_KEYED");
    kb_cl b = {.loop = &loop, .where = where, .executors = executors, .total = n, .warmup = n / 10, .window = window,
               .keyed = keyed && !strcmp(keyed, "1")};
    b.sent_at = calloc((size_t)n + 1, sizeof *b.sent_at);
    b.latency = calloc((size_t)n, sizeof *b.latency);
    b.store = kb_tp_open(where); /* made the schema's tables: the processes find them */
    int changed;
    if (kt_store_flow_save(b.store, "kite.bench", KB_TP_FLOW, kb_tp_yaml, &b.revision, &changed)) {
        fprintf(stderr, "kite-bench: the flow was not saved: %s\n", kt_store_errmsg(b.store));
        exit(1);
    }
    kb_cl_start(&b, dir, "executor", "executor-1", (const char *[]){"--store", where, "--listen", join, NULL});
    if (executors > 1)
        kb_cl_start(&b, dir, "executor", "executor-2", (const char *[]){"--store", where, "--join", join, NULL});
    const char *slots = getenv("KITE_BENCH_TP_SLOTS"); /* the worker's, 8 as the in-process rows' */
    kb_cl_start(&b, dir, "worker", "worker",
                (const char *[]){"--join", join, "--thread", slots && atoi(slots) > 0 ? slots : "8", NULL});
    kb_cl_start(&b, dir, "indexer", "indexer", (const char *[]){"--store", where, "--join", join, NULL});

    kt_node_config nc = {.node_id = "bench-client"};
    char err[256];
    kt_actor *client;
    if (kt_node_new(&loop, &nc, &b.node) || kt_node_spawn(b.node, "client", &kb_cl_client_ops, &b, &client) ||
        kt_node_join(b.node, join, err, sizeof err)) {
        fprintf(stderr, "kite-bench: the client node did not start\n");
        exit(1);
    }
    b.client = kt_actor_address(client);
    uv_timer_init(&loop, &b.tick);
    b.tick.data = &b;
    b.phase_since = kb_now_ms();
    uv_timer_start(&b.tick, kb_cl_on_tick, KB_CL_TICK_MS, KB_CL_TICK_MS);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (getenv("KITE_BENCH_TP_CPU")) { /* where the CPU went: each process's, per execution */
        fprintf(stderr, "cluster of %d executor(s): %.0f ms, latency median %.1f ms; CPU ms per execution:", executors,
                b.t_end - b.t_warm, kb_median(b.latency + b.warmup, n - b.warmup));
        for (int i = 0; i < b.nprocs; i++)
            fprintf(stderr, " %s %.3f", b.procs[i].name, (kb_proc_cpu_ms(b.procs[i].pid) - b.cpu_ms[i]) / n);
        fprintf(stderr, " client %.3f", (kb_proc_cpu_ms(getpid()) - b.self_cpu_ms) / n);
        const char *pg_pid = getenv("KITE_BENCH_PG_PID");
        if (pg_pid)
            fprintf(stderr, " postgres %.3f", (kb_pg_cpu_ms(atoi(pg_pid)) - b.pg_cpu_ms) / n);
    }
    uv_close((uv_handle_t *)&b.tick, NULL);
    kt_node_stop(b.node);
    kb_close_loop(&loop);
    kt_node_free(b.node);
    /* the worker and the indexer first, the first executor last (the one the others joined) */
    for (int i = b.nprocs; i-- > 0;) {
        int rc = kb_proc_stop(&b.procs[i]);
        if (rc) {
            fprintf(stderr, "kite-bench: %s exited %d after SIGTERM\n", b.procs[i].name, rc);
            kb_proc_dump(&b.procs[i]);
        }
    }
    kt_store_close(b.store);
    if (getenv("KITE_BENCH_TP_CPU")) /* once every connection is closed: their counts are all in */
        fprintf(stderr, "; transactions per execution %.2f\n", (kb_pg_commits(where) - b.commits) / n);
    free(b.sent_at);
    free(b.latency);
    nftw(dir, kb_rm, 16, FTW_DEPTH | FTW_PHYS);
    *failed = b.failed;
    return (double)(n - b.warmup) / ((b.t_end - b.t_warm) / 1000.0);
}

double kb_tp_commits_parallel(const char *where, int writers, int n, const json_t *ended)
{
    int ready[2], go[2];
    pid_t pids[8];
    if (writers > 8 || pipe(ready) || pipe(go))
        exit(1);
    fflush(NULL);
    for (int w = 0; w < writers; w++) {
        if ((pids[w] = fork()) < 0)
            exit(1);
        if (pids[w])
            continue;
        /* a writer: its own connection, opened before the start so that only the commits are timed */
        close(ready[0]);
        close(go[1]);
        kt_store *store = kb_tp_open(where);
        char c = 'r';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0) /* read: until the parent closes go */
            _exit(1);
        kb_tp_commit_loop(store, n / writers, ended);
        kt_store_close(store);
        _exit(0);
    }
    close(ready[1]);
    close(go[0]);
    char c;
    for (int w = 0; w < writers; w++)
        if (read(ready[0], &c, 1) != 1)
            break;
    double t0 = kb_now_ms();
    close(go[1]);
    int bad = 0;
    for (int w = 0; w < writers; w++) {
        int status;
        waitpid(pids[w], &status, 0);
        bad |= !WIFEXITED(status) || WEXITSTATUS(status);
    }
    double t = kb_now_ms() - t0;
    close(ready[0]);
    if (bad) {
        fprintf(stderr, "kite-bench: a writer of the two-connection floor failed\n");
        exit(1);
    }
    return (double)(n / writers * writers) / (t / 1000.0);
}
