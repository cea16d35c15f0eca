/* kite-bench --only split [MiB]: storage.Split of a large generated file (1 GiB by default) through a real worker and
 * a real local storage, the process's resident memory sampled every 20 ms. The split streams (the storage's 64 KiB
 * chunks, one 64 KiB read block and stdio buffers for the pieces), so the peak must stay near the baseline whatever
 * the file's size: the figure issue #9 asks for. */
#include "bench.h"

#include "actors/executor/executor.h"
#include "actors/worker/worker.h"
#include "base/log.h"
#include "runtime/msg.h"
#include "runtime/node.h"
#include "store/storage.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct kb_split_probe {
    uv_loop_t *loop;
    char state[32];
    size_t pieces;
    long rss_max_kib;
} kb_split_probe;

static long kb_rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *fp = fopen("/proc/self/statm", "r");
    if (fp) {
        if (fscanf(fp, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(fp);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void kb_split_receive(kt_actor *a, const kt_msg *m)
{
    kb_split_probe *p = kt_actor_state(a);
    if (m->type != KT_MSG_WORKER_RESULT)
        return;
    kt_msg_worker_result r;
    if (kt_msg_decode_worker_result(m->body, &r) == KT_OK) {
        snprintf(p->state, sizeof p->state, "%s", r.state);
        p->pieces = json_array_size(json_object_get(r.outputs, "uris"));
        kt_msg_worker_result_clear(&r);
    }
    uv_stop(p->loop);
}

static void kb_split_sample(uv_timer_t *t)
{
    kb_split_probe *p = t->data;
    long v = kb_rss_kib();
    if (v > p->rss_max_kib)
        p->rss_max_kib = v;
}

static const kt_actor_ops kb_split_ops = {.receive = kb_split_receive};

void kb_split(long mib, const char *bytes)
{
    char root[] = "/tmp/kite-bench-split-XXXXXX", storage[128], work[128], dir[256], file[320], err[256];
    if (!mkdtemp(root))
        exit(1);
    snprintf(storage, sizeof storage, "%s/storage", root);
    snprintf(work, sizeof work, "%s/work", root);
    snprintf(dir, sizeof dir, "%s/a/b/f/executions/x1", storage);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "mkdir -p %s %s", dir, work);
    if (system(cmd))
        exit(1);
    snprintf(file, sizeof file, "%s/big.csv", dir);
    FILE *fp = fopen(file, "wb");
    long long total = 0, lines = 0, want = (long long)mib * 1024 * 1024;
    char line[160];
    while (fp && total < want) {
        int n = snprintf(line, sizeof line, "%lld,item-%lld,%lld,some padding to make a line of a realistic size\n",
                         lines, lines * 31, lines % 977);
        fwrite(line, 1, (size_t)n, fp);
        total += n;
        lines++;
    }
    if (!fp || fclose(fp))
        exit(1);

    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *n;
    kt_node_config cfg = {.node_id = "bench"};
    kb_split_probe p = {.loop = &loop};
    kt_storage *s;
    kt_worker *w;
    if (kt_node_new(&loop, &cfg, &n) || kt_node_spawn(n, KT_EXECUTOR_ACTOR, &kb_split_ops, &p, NULL) ||
        kt_storage_local_open(&loop, storage, &s, err, sizeof err))
        exit(1);
    kt_worker_config wc = {.slots = 1, .tmp_dir = work, .storage = s};
    if (kt_worker_start(n, &wc, &w))
        exit(1);
    long base = kb_rss_kib();
    p.rss_max_kib = base;
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_WORKER_JOB, KT_WORKER_ACTOR, "executor@bench", 0);
    json_t *task = json_pack("{s:s, s:s, s:s, s:s}", "id", "t1", "type", "io.kestra.plugin.core.storage.Split", "from",
                             "kestra:///a/b/f/executions/x1/big.csv", "bytes", bytes);
    json_t *run = json_pack("{s:s, s:s, s:s, s:s, s:s}", "namespace", "a.b", "flowId", "f", "taskId", "t1",
                            "executionId", "x1", "taskRunId", "tr1");
    kt_msg_worker_job job = {.execution_id = "x1", .taskrun_id = "tr1", .attempt = 0, .task = task, .run = run};
    kt_msg_encode_worker_job(&o, &job);
    json_decref(task);
    json_decref(run);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    t.data = &p;
    uv_timer_start(&t, kb_split_sample, 20, 20);
    double t0 = kb_now_ms();
    if (kt_node_send(n, KT_WORKER_ACTOR, &o))
        exit(1);
    uv_run(&loop, UV_RUN_DEFAULT);
    double ms = kb_now_ms() - t0;
    uv_close((uv_handle_t *)&t, NULL);
    kt_node_stop(n);
    kt_storage_close(s, NULL, NULL);
    kb_close_loop(&loop);
    kt_node_free(n);
    kt_worker_free(w);
    nftw(root, kb_rm, 16, FTW_DEPTH | FTW_PHYS);
    printf("storage.Split of %lld MiB (%lld lines), bytes %s: %s in %.0f ms, %zu pieces; resident memory %ld KiB "
           "before, peak %ld KiB (+%ld KiB)\n",
           total / (1024 * 1024), lines, bytes, p.state, ms, p.pieces, base, p.rss_max_kib, p.rss_max_kib - base);
    printf("{\"bench\":\"split\",\"mib\":%lld,\"lines\":%lld,\"bytes\":\"%s\",\"state\":\"%s\",\"ms\":%.0f,\"pieces\":%zu,"
           "\"rss_base_kib\":%ld,\"rss_peak_kib\":%ld}\n",
           total / (1024 * 1024), lines, bytes, p.state, ms, p.pieces, base, p.rss_max_kib);
}
