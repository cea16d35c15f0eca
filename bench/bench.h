/* What the parts of kite-bench share (bench.c: messages and flows; sched.c: the scheduler). */
#ifndef KT_BENCH_H
#define KT_BENCH_H

#include <ftw.h>
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
 * SQLite, 1 PostgreSQL at KITE_BENCH_PG_URL (measured[1] is 0 without it). */
typedef struct kb_tp_result {
    int executions;               /* per run */
    double executions_per_s[2];   /* median */
    double commits_per_s[2];      /* median: the floor */
    int measured[2];
    int failed;                   /* executions that did not end SUCCESS (must be 0) */
} kb_tp_result;
void kb_throughput(int quick, kb_tp_result *out);
/* Prints kb_throughput's rows of the table. */
void kb_throughput_print(const kb_tp_result *r);
/* A fresh store location for one measurement (throughput.c): a temporary directory (pg_url NULL), or a new schema of
 * pg_url's database (where = its URL with search_path set); kb_tp_unplace removes it. */
void kb_tp_place(const char *pg_url, char *where, size_t cap, char *cleanup, size_t ccap);
void kb_tp_unplace(const char *pg_url, const char *cleanup);

/* The log search on `lines` log lines (search.c): with the full-text index and by the scan it replaced, on SQLite
 * and on PostgreSQL at KITE_BENCH_PG_URL; printed. */
void kb_search(int lines);

#endif
