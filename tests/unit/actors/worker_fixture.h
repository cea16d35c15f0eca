/* What the worker-task tests share (test_script_files, test_storage_tasks): one real attempt on a fresh node — a
 * worker with a local storage in a temporary folder (or none) and an executor stand-in collecting the logs, the
 * result and what the worker's tmp_dir held when the result arrived. Included once per test program. */
#ifndef KT_TEST_WORKER_FIXTURE_H
#define KT_TEST_WORKER_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/executor/executor.h"
#include "actors/worker/task.h"
#include "actors/worker/worker.h"
#include "store/storage.h"
#include "store/storage_uri.h"
#include "tests/unit/json_parse.h"


typedef struct probe {
    uv_loop_t *loop;
    const char *work;  /* the worker's tmp_dir, looked at when the result arrives */
    int work_entries;  /* what it held then (-1: unreadable) */
    json_t *logs;
    json_t *metrics; /* MetricEntry objects sent with the logs */
    json_t *outputs;
    char state[32];
    int results;
    /* a WorkingDirectory's job: the child task runs it reported, in order (results with a task run) */
    json_t *children;
    kt_node *node;
    const char *kill_taskrun; /* when set: killed as soon as a first child reports RUNNING */
    int kill_sent;
} probe;

/* Entries in a folder (not . and ..), -1 when it cannot be read. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void executor_receive(kt_actor *a, const kt_msg *m)
{
    probe *p = kt_actor_state(a);
    if (m->type == KT_MSG_LOG_BATCH) {
        kt_msg_log_batch b;
        assert_int_equal(kt_msg_decode_log_batch(m->body, &b), KT_OK);
        json_array_extend(p->logs, b.entries);
        if (b.metrics)
            json_array_extend(p->metrics, b.metrics);
        kt_msg_log_batch_clear(&b);
    } else if (m->type == KT_MSG_WORKER_RESULT) {
        kt_msg_worker_result r;
        assert_int_equal(kt_msg_decode_worker_result(m->body, &r), KT_OK);
        if (r.taskrun) {
            json_array_append(p->children, r.taskrun);
            if (p->kill_taskrun && !p->kill_sent) {
                p->kill_sent = 1;
                kt_outmsg o;
                kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, KT_WORKER_ACTOR, "executor@solo", 0);
                kt_msg_exec_command k = {.execution_id = "x1", .taskrun_id = (char *)p->kill_taskrun,
                                         .command = KT_CMD_KILL};
                kt_msg_encode_exec_command(&o, &k);
                assert_int_equal(kt_node_send(p->node, KT_WORKER_ACTOR, &o), KT_OK);
            }
            kt_msg_worker_result_clear(&r);
            return;
        }
        snprintf(p->state, sizeof p->state, "%s", r.state);
        p->outputs = json_incref(r.outputs);
        p->results++;
        p->work_entries = entries(p->work);
        kt_msg_worker_result_clear(&r);
        uv_stop(p->loop);
    }
}

static const kt_actor_ops executor_ops = {.receive = executor_receive};

typedef struct fixture {
    char root[64];     /* the temporary folder: storage/ and work/ below it */
    char storage[128]; /* the local storage's base folder */
    char work[128];    /* the worker's tmp_dir */
} fixture;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/kite-wtask-XXXXXX");
    if (!f || !mkdtemp(f->root))
        return -1;
    snprintf(f->storage, sizeof f->storage, "%s/storage", f->root);
    snprintf(f->work, sizeof f->work, "%s/work", f->root);
    if (mkdir(f->work, 0755))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void on_timeout(uv_timer_t *t) { uv_stop(t->loop); }
static void on_storage_closed(void *data) { *(int *)data = 1; }

/* One attempt of a task of `type` (task `props`, run t1/<taskrun> of execution x1 of flow a.b/f) on a fresh node; the
 * result lands in p (the caller decrefs p->logs, p->outputs and p->children: probe_clear). with_storage 0: the worker
 * gets none. context (may be NULL): the job's render context (a WorkingDirectory's); kill: a task run id killed as
 * soon as a first child reports (NULL: none). */
static void run_job(fixture *f, const char *type, const char *props, const char *taskrun, int with_storage,
                    const json_t *context, const char *kill, probe *p)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *n;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &n), KT_OK);
    *p = (probe){.loop = &loop, .work = f->work, .logs = json_array(), .metrics = json_array(),
                 .children = json_array(), .node = n,
                 .kill_taskrun = kill};
    assert_int_equal(kt_node_spawn(n, KT_EXECUTOR_ACTOR, &executor_ops, p, NULL), KT_OK);
    kt_storage *s = NULL;
    char err[256];
    if (with_storage)
        assert_int_equal(kt_storage_local_open(&loop, f->storage, &s, err, sizeof err), KT_OK);
    kt_worker *w;
    kt_worker_config wc = {.slots = 1, .tmp_dir = f->work, .storage = s};
    assert_int_equal(kt_worker_start(n, &wc, &w), KT_OK);
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_WORKER_JOB, KT_WORKER_ACTOR, "executor@solo", 0);
    json_t *task = parse(props);
    json_object_set_new(task, "id", json_string("t1"));
    json_object_set_new(task, "type", json_string(type));
    json_t *run = json_pack("{s:s, s:s, s:s, s:s, s:s}", "namespace", "a.b", "flowId", "f", "taskId", "t1",
                            "executionId", "x1", "taskRunId", taskrun);
    kt_msg_worker_job job = {.execution_id = "x1", .taskrun_id = (char *)taskrun, .attempt = 0, .task = task,
                             .run = run, .context = (json_t *)context};
    kt_msg_encode_worker_job(&o, &job);
    json_decref(task);
    json_decref(run);
    assert_int_equal(kt_node_send(n, KT_WORKER_ACTOR, &o), KT_OK);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, on_timeout, 10000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    kt_node_stop(n);
    int closed = 0;
    if (s)
        kt_storage_close(s, on_storage_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, s ? 1 : 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    kt_node_free(n);
    kt_worker_free(w);
    assert_int_equal(p->results, 1);
}

static void run_task(fixture *f, const char *type, const char *props, const char *taskrun, int with_storage,
                     probe *p)
{
    run_job(f, type, props, taskrun, with_storage, NULL, NULL, p);
}

static void probe_clear(probe *p)
{
    json_decref(p->logs);
    json_decref(p->metrics);
    json_decref(p->outputs);
    json_decref(p->children);
}

static int logged(const probe *p, const char *level, const char *text)
{
    size_t i;
    json_t *e;
    json_array_foreach(p->logs, i, e) {
        const char *m = json_string_value(json_object_get(e, "message"));
        if (m && strstr(m, text) && !strcmp(json_string_value(json_object_get(e, "level")), level))
            return 1;
    }
    return 0;
}

/* The stored bytes behind a kestra:// URI (read from the local backend's folder), or NULL. */
static inline char *stored(const fixture *f, const char *uri)
{
    char path[1100], err[256], file[1400];
    if (kt_suri_path(uri, path, sizeof path, err, sizeof err))
        fail_msg("bad URI %s: %s", uri, err);
    snprintf(file, sizeof file, "%s/%s", f->storage, path);
    FILE *fp = fopen(file, "rb");
    if (!fp)
        return NULL;
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, fp);
    buf[n] = 0;
    fclose(fp);
    return buf;
}

/* Writes body under the storage's path (kestra:///<path>), making the folders. */
static inline void put(const fixture *f, const char *path, const char *body)
{
    char file[1400];
    snprintf(file, sizeof file, "%s/%s", f->storage, path);
    mkdir(f->storage, 0755);
    for (char *p = file + strlen(f->storage) + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(file, 0755);
            *p = '/';
        }
    FILE *fp = fopen(file, "wb");
    assert_non_null(fp);
    fputs(body, fp);
    fclose(fp);
}

/* One attempt (task run tr9) that must end FAILED with an ERROR line holding text. */
static inline void assert_failed(fixture *f, const char *type, const char *props, const char *text)
{
    probe p;
    run_task(f, type, props, "tr9", 1, &p);
    assert_string_equal(p.state, "FAILED");
    if (!logged(&p, "ERROR", text))
        fail_msg("%s %s: no ERROR line with '%s'", type, props, text);
    probe_clear(&p);
}

#endif
