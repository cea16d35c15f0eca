/* What the parts of kite-bench share (bench.c: messages and flows; sched.c: the scheduler; throughput*.c: executions
 * per second; procs.c: kite processes). */
#ifndef KT_BENCH_H
#define KT_BENCH_H

#include <ftw.h>
#include <jansson.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <uv.h>

double kb_median(double *v, int n);
double kb_now_ms(void);
int kb_rm(const char *p, const struct stat *sb, int f, struct FTW *w);
/* Runs the loop until its handles are closed and closes it; exits when it does not close. */
void kb_close_loop(uv_loop_t *loop);

/* A node like `kite server local`'s, without the API: a worker (8 slots), an executor, the indexer, and a scheduler
 * when asked. */
typedef struct kb_node {
    struct kt_node *node;
    struct kt_worker *worker;
    struct kt_executor *executor;
    struct kt_indexer *indexer;
    struct kt_scheduler *scheduler;
} kb_node;
struct kt_store;
void kb_node_start(uv_loop_t *loop, struct kt_store *store, int with_scheduler, kb_node *out);
/* Stops the node, runs its loop until everything is closed, frees it. */
void kb_node_stop(uv_loop_t *loop, kb_node *n);

typedef struct kb_sched_result {
    int flows;
    double start_ms;          /* kt_scheduler_start: load every flow, write every trigger row, arm */
    long rss_kib;             /* resident memory the scheduler added (start included: the allocator keeps what loading
                                 touched) */
    long heap_kib;            /* heap the scheduler holds once started */
    double idle_cpu_pct;      /* CPU of the whole idle node holding the schedules */
    unsigned long long idle_evaluations; /* trigger evaluations while idle (0: nothing polls) */
    double tick_created_ms;   /* median, tick date -> its execution created */
    double tick_ended_ms;     /* median, tick date -> its one-task execution ended */
} kb_sched_result;
void kb_scheduler(int nflows, int idle_s, kb_sched_result *out);

/* storage.Split of a generated file of mib MiB cut by `bytes` (split.c): time and resident memory, printed. */
void kb_split(long mib, const char *bytes);
/* http.Download of mib MiB from tests/http/server.py (http.c): time and resident memory, printed. */
void kb_http_download(long mib);

/* One-task executions per second sustained on a store, and the store's raw commit rate (throughput.c); index 0 is
 * SQLite, 1 PostgreSQL at KITE_BENCH_PG_URL (measured[1] is 0 without it). cluster_*: the same on PostgreSQL with
 * the executors as separate `kite server executor` processes (throughput_topo.c), index 0 one executor, 1 two;
 * their floors are one connection committing (commits_per_s[1]) and two committing at once. */
typedef struct kb_tp_result {
    int executions;               /* per run */
    double executions_per_s[2];   /* median */
    double commits_per_s[2];      /* median: the floor */
    int measured[2];
    double cluster_executions_per_s[2]; /* median; measured with measured[1] */
    double cluster_commits_per_s[2];    /* median: the floor, one connection and two at once */
    int failed;                   /* executions that did not end SUCCESS (must be 0) */
} kb_tp_result;
void kb_throughput(int quick, kb_tp_result *out);
/* Prints kb_throughput's rows of the table. */
void kb_throughput_print(const kb_tp_result *r);
/* The JSON line's "throughput" object. */
void kb_throughput_json(const kb_tp_result *r, char *out, size_t cap);

/* What throughput.c and throughput_topo.c share: the one-task flow; a fresh place for one measurement (a temporary
 * directory, or a new schema of the PostgreSQL at pg_url: where is then its URL) and its removal; the store opened
 * there (exits on failure); n commits of one execution's transition each, shaped as ended (exits on failure). */
#define KB_TP_FLOW "bench_throughput"
extern const char kb_tp_yaml[];
void kb_tp_place(const char *pg_url, char *where, size_t cap, char *cleanup, size_t ccap);
void kb_tp_unplace(const char *pg_url, const char *cleanup);
struct kt_store *kb_tp_open(const char *where);
void kb_tp_commit_loop(struct kt_store *store, int n, const json_t *ended);
/* Executions per second of the one-task flow on PostgreSQL (the schema at where) with `executors` separate
 * `kite server executor` processes, a worker and an indexer, submitted from this process over nng tcp on
 * 127.0.0.1 (throughput_topo.c). *failed counts those that did not end SUCCESS. */
double kb_tp_cluster(const char *where, int executors, int n, int window, int *failed);
/* Commits per second of `writers` processes committing at once on the PostgreSQL schema at where, n in all. */
double kb_tp_commits_parallel(const char *where, int writers, int n, const json_t *ended);

/* CPU time (user + system) process pid has used so far, in ms (0 when unknown); the same summed over the children of
 * a PostgreSQL postmaster (its backends: the connections of the processes under test among them). */
double kb_proc_cpu_ms(pid_t pid);
double kb_pg_cpu_ms(int postmaster);
/* Transactions committed in the database of the PostgreSQL at url so far (pg_stat_database.xact_commit: what the
 * servers' connections reported, each at its end at the latest); 0 when unknown. */
double kb_pg_commits(const char *url);

/* kite processes (procs.c): started from the `kite` next to kite-bench (or KITE_BIN), output to DIR/NAME.log. */
typedef struct kb_proc {
    pid_t pid;
    char name[32];
    char log_path[512];
} kb_proc;
int kb_free_port(void);
/* Starts `kite ARGS...` (args NULL-terminated); exits when it cannot. */
void kb_proc_start(kb_proc *p, const char *dir, const char *name, const char *const *args);
int kb_proc_alive(kb_proc *p);
/* SIGTERM, then SIGKILL after 6 s; returns the exit status (128 + signal when killed). */
int kb_proc_stop(kb_proc *p);
/* Its log to stderr. */
void kb_proc_dump(const kb_proc *p);

/* The log search on `lines` log lines (search.c): with the full-text index and by the scan it replaced, on SQLite
 * and on PostgreSQL at KITE_BENCH_PG_URL; printed. */
void kb_search(int lines);

#endif
