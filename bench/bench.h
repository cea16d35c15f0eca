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

#endif
