/* kite-bench --only http [MiB]: http.Download of a large body (200 MiB by default) from tests/http/server.py on
 * 127.0.0.1 through a real worker into a real local storage, the process's resident memory sampled every 20 ms.
 * The download streams (two 64 KiB buffers, the transfer paused while a write is in flight), so the peak must stay
 * near the baseline whatever the body's size: the figure issue #10 asks for. */
#include "bench.h"

#include "actors/executor/executor.h"
#include "actors/worker/worker.h"
#include "runtime/msg.h"
#include "runtime/node.h"
#include "store/storage.h"
#include "tests/http/http_server.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct kb_http_probe {
    uv_loop_t *loop;
    char state[32];
    long long length;
    long rss_max_kib;
} kb_http_probe;

static long kb_http_rss_kib(void)
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

static void kb_http_receive(kt_actor *a, const kt_msg *m)
{
    kb_http_probe *p = kt_actor_state(a);
    if (m->type != KT_MSG_WORKER_RESULT)
        return;
    kt_msg_worker_result r;
    if (kt_msg_decode_worker_result(m->body, &r) == KT_OK) {
        snprintf(p->state, sizeof p->state, "%s", r.state);
        p->length = (long long)json_integer_value(json_object_get(r.outputs, "length"));
        kt_msg_worker_result_clear(&r);
    }
    uv_stop(p->loop);
}

static void kb_http_sample(uv_timer_t *t)
{
    kb_http_probe *p = t->data;
    long v = kb_http_rss_kib();
    if (v > p->rss_max_kib)
        p->rss_max_kib = v;
}

static const kt_actor_ops kb_http_ops = {.receive = kb_http_receive};

void kb_http_download(long mib)
{
    int port;
    pid_t server;
    if (kt_test_http_start(KITE_SOURCE_DIR "/tests/http/server.py", &port, &server)) {
        fprintf(stderr, "cannot start tests/http/server.py (python3)\n");
        exit(1);
    }
    char root[] = "/tmp/kite-bench-http-XXXXXX", storage[128], work[128], err[256], uri[128];
    if (!mkdtemp(root))
        exit(1);
    snprintf(storage, sizeof storage, "%s/storage", root);
    snprintf(work, sizeof work, "%s/work", root);
    if (mkdir(work, 0755))
        exit(1);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *n;
    kt_node_config cfg = {.node_id = "bench"};
    kb_http_probe p = {.loop = &loop};
    kt_storage *s;
    kt_worker *w;
    if (kt_node_new(&loop, &cfg, &n) || kt_node_spawn(n, KT_EXECUTOR_ACTOR, &kb_http_ops, &p, NULL) ||
        kt_storage_local_open(&loop, storage, &s, err, sizeof err))
        exit(1);
    kt_worker_config wc = {.slots = 1, .tmp_dir = work, .storage = s};
    if (kt_worker_start(n, &wc, &w))
        exit(1);
    long base = kb_http_rss_kib();
    p.rss_max_kib = base;
    snprintf(uri, sizeof uri, "http://127.0.0.1:%d/bytes/%lld", port, (long long)mib << 20);
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_WORKER_JOB, KT_WORKER_ACTOR, "executor@bench", 0);
    json_t *task = json_pack("{s:s, s:s, s:s}", "id", "t1", "type", "io.kestra.plugin.core.http.Download", "uri", uri);
    json_t *run = json_pack("{s:s, s:s, s:s, s:s, s:s}", "namespace", "a.b", "flowId", "f", "taskId", "t1",
                            "executionId", "x1", "taskRunId", "tr1");
    kt_msg_worker_job job = {.execution_id = "x1", .taskrun_id = "tr1", .attempt = 0, .task = task, .run = run};
    kt_msg_encode_worker_job(&o, &job);
    json_decref(task);
    json_decref(run);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    t.data = &p;
    uv_timer_start(&t, kb_http_sample, 20, 20);
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
    kt_test_http_stop(server);
    nftw(root, kb_rm, 16, FTW_DEPTH | FTW_PHYS);
    printf("http.Download of %ld MiB from 127.0.0.1: %s in %.0f ms, %lld bytes; resident memory %ld KiB before, "
           "peak %ld KiB (+%ld KiB)\n",
           mib, p.state, ms, p.length, base, p.rss_max_kib, p.rss_max_kib - base);
    printf("{\"bench\":\"http_download\",\"mib\":%ld,\"state\":\"%s\",\"ms\":%.0f,\"length\":%lld,"
           "\"rss_base_kib\":%ld,\"rss_peak_kib\":%ld}\n",
           mib, p.state, ms, p.length, base, p.rss_max_kib);
}
