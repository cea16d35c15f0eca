/* kite-bench, the scheduler's cost (issue 8): a node (executor, worker, scheduler) over a store holding N flows with
 * a daily Schedule each. Measured: the scheduler's start (loading N flows, writing N trigger rows), the resident
 * memory it adds, the CPU an idle server burns while holding them (one loop timer for the earliest date: no
 * polling), and the tick latency under that load: a withSeconds schedule added among them, from each tick's date
 * to its execution's creation (and to its end, a one-task flow). */
#include "bench.h"

#include "actors/executor/executor.h"
#include "actors/scheduler/scheduler.h"
#include "actors/worker/worker.h"
#include "base/clock.h"
#include "flow/model.h"
#include "runtime/node.h"
#include "store/store.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/resource.h>

#define KB_TICKS 10

typedef struct kb_sched_run {
    uv_loop_t *loop;
    double created_ms[KB_TICKS], ended_ms[KB_TICKS];
    int n;
} kb_sched_run;

/* VmRSS of this process in KiB. */
static long kb_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

static double kb_cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void kb_sched_on_end(void *ud, const json_t *ex)
{
    kb_sched_run *r = ud;
    const char *date = json_string_value(
        json_object_get(json_object_get(json_object_get(ex, "trigger"), "variables"), "date"));
    const char *created = json_string_value(
        json_object_get(json_array_get(json_object_get(json_object_get(ex, "state"), "histories"), 0), "date"));
    int64_t tick, made, now = kt_now_us();
    if (!date || !created || kt_time_parse(date, &tick) || kt_time_parse(created, &made) || r->n >= KB_TICKS)
        return;
    r->created_ms[r->n] = (double)(made - tick) / 1e3;
    r->ended_ms[r->n] = (double)(now - tick) / 1e3;
    if (++r->n == KB_TICKS)
        uv_stop(r->loop);
}

static void kb_stop_loop(uv_timer_t *t) { uv_stop(t->loop); }

static void kb_run_for(uv_loop_t *loop, uint64_t ms)
{
    uv_timer_t t;
    uv_timer_init(loop, &t);
    uv_timer_start(&t, kb_stop_loop, ms, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void kb_client_receive_sched(kt_actor *a, const kt_msg *m) { (void)a, (void)m; }

void kb_scheduler(int nflows, int idle_s, kb_sched_result *out)
{
    char dir[] = "/tmp/kite-bench-sched-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_store *store;
    char err[256];
    if (kt_store_open(dir, NULL, &store, err, sizeof err)) {
        fprintf(stderr, "kite-bench: %s\n", err);
        exit(1);
    }
    kt_store_begin(store);
    for (int i = 0; i < nflows; i++) {
        char yaml[512], id[32];
        snprintf(id, sizeof id, "daily%05d", i);
        snprintf(yaml, sizeof yaml,
                 "id: %s\nnamespace: kite.bench.sched\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
                 "    message: hi\ntriggers:\n  - id: daily\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                 "    cron: \"%d %d * * *\"\n",
                 id, i % 60, (i / 60) % 24);
        int rev, changed;
        kt_store_flow_save(store, "kite.bench.sched", id, yaml, &rev, &changed);
    }
    kt_store_commit(store);
    kb_node n;
    kb_node_start(&loop, store, 0, &n); /* the scheduler is started below, measured */
    kt_node *node = n.node;
    kb_sched_run r = {.loop = &loop};
    kt_executor_observe(n.executor, kb_sched_on_end, &r);
    static const kt_actor_ops client_ops = {.receive = kb_client_receive_sched};
    kt_actor *client;
    kt_node_spawn(node, "client", &client_ops, NULL, &client);
    long rss0 = kb_rss_kib();
    size_t heap0 = mallinfo2().uordblks;
    double t0 = kb_now_ms();
    kt_scheduler *sched;
    kt_scheduler_options so = {.recover = KT_SCHED_RECOVER_ALL};
    kt_scheduler_start(node, store, &so, &sched);
    out->start_ms = kb_now_ms() - t0;
    kb_run_for(&loop, 200); /* let the start's own work settle before measuring idle */
    out->rss_kib = kb_rss_kib() - rss0;
    out->heap_kib = (long)((mallinfo2().uordblks - heap0) / 1024); /* held, not only touched once while loading */
    double c0 = kb_cpu_ms(), w0 = kb_now_ms();
    uint64_t ev0 = kt_scheduler_evaluations(sched);
    kb_run_for(&loop, (uint64_t)idle_s * 1000);
    out->idle_cpu_pct = 100.0 * (kb_cpu_ms() - c0) / (kb_now_ms() - w0);
    out->idle_evaluations = kt_scheduler_evaluations(sched) - ev0;
    /* a flow with a tick every second among them */
    int rev, changed;
    kt_store_flow_save(store, "kite.bench.sched", "every_second",
                       "id: every_second\nnamespace: kite.bench.sched\ntasks:\n  - id: t\n"
                       "    type: io.kestra.plugin.core.log.Log\n    message: tick\ntriggers:\n  - id: s\n"
                       "    type: io.kestra.plugin.core.trigger.Schedule\n    cron: \"* * * * * *\"\n"
                       "    withSeconds: true\n",
                       &rev, &changed);
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_FLOW_CHANGED, KT_SCHEDULER_ACTOR, kt_actor_address(client), 0);
    json_t *body = json_pack("{s:s, s:s}", "namespace", "kite.bench.sched", "id", "every_second");
    kt_msg_encode_object(&o, body);
    json_decref(body);
    kt_node_send(node, KT_SCHEDULER_ACTOR, &o);
    kb_run_for(&loop, (KB_TICKS + 5) * 1000);
    if (r.n < KB_TICKS) {
        fprintf(stderr, "kite-bench: only %d of %d ticks seen\n", r.n, KB_TICKS);
        exit(1);
    }
    out->tick_created_ms = kb_median(r.created_ms, KB_TICKS);
    out->tick_ended_ms = kb_median(r.ended_ms, KB_TICKS);
    out->flows = nflows;
    kb_node_stop(&loop, &n);
    kt_store_close(store);
    nftw(dir, kb_rm, 16, FTW_DEPTH | FTW_PHYS);
}
