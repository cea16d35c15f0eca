/* Kite as separate component processes on 127.0.0.1 (harness.h, kt_it_topology): one executor listening, a
 * webserver, a scheduler, an indexer and two workers joining it (and a second executor with
 * KITE_IT_TOPO_EXECUTORS=2 on PostgreSQL; one worker with KITE_IT_TOPO_WORKERS=1), all on one store. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../pg/pg_schema.h"

#define KT_IT_TOPO_HEARTBEAT "200"
#define KT_IT_TOPO_LIVENESS "3000"

static kt_it_proc *kt_it_topo_spawn(kt_it_topology *t, const char *name, const char *const *args)
{
    if (t->nprocs == sizeof t->procs / sizeof *t->procs)
        fail_msg("topology: too many processes");
    snprintf(t->names[t->nprocs], sizeof t->names[t->nprocs], "%s", name);
    /* kept for kt_it_topology_restart: the same component comes back with the same arguments and node id */
    size_t n = 0;
    for (; args[n] && n + 1 < sizeof t->args[0] / sizeof t->args[0][0]; n++)
        t->args[t->nprocs][n] = strdup(args[n]);
    t->args[t->nprocs][n] = NULL;
    t->procs[t->nprocs] = kt_it_spawn(t->dir, name, args);
    return &t->procs[t->nprocs++];
}

/* A component that needs the store: `kite server ROLE --store URL --data DIR/NAME --node-id NAME` + the rest. */
static void kt_it_topo_component(kt_it_topology *t, const char *role, const char *name, const char *const *extra)
{
    char data[512];
    snprintf(data, sizeof data, "%s/%s", t->dir, name);
    const char *args[32] = {"server", role, "--store", t->store, "--data", data, "--node-id", name,
                            "--heartbeat", KT_IT_TOPO_HEARTBEAT, "--liveness-timeout", KT_IT_TOPO_LIVENESS};
    size_t n = 12;
    for (size_t i = 0; extra && extra[i] && n < 31; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    kt_it_topo_spawn(t, name, args);
}

/* Until the process's log holds text (max 10 s): 0 when it does. */
static int kt_it_topo_wait_log(const kt_it_proc *p, const char *text)
{
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(p->log_path, "r");
        char line[2048];
        int found = 0;
        while (f && !found && fgets(line, sizeof line, f))
            found = strstr(line, text) != NULL;
        if (f)
            fclose(f);
        if (found)
            return 0;
        kt_it_sleep_ms(50);
    }
    return -1;
}

int kt_it_topology_start(kt_it_topology *t, int on_pg)
{
    memset(t, 0, sizeof *t);
    kt_it_tmpdir(t->dir, sizeof t->dir);
    t->port = kt_it_free_port();
    snprintf(t->join, sizeof t->join, "tcp://127.0.0.1:%d", kt_it_free_port());
    if (on_pg) {
        int rc = kt_test_pg_url(t->pg_base, sizeof t->pg_base);
        if (rc)
            return rc;
        char err[512];
        kt_test_pg_schema_name("topo", t->pg_schema, sizeof t->pg_schema);
        if (kt_test_pg_schema_create(t->pg_base, t->pg_schema, t->store, sizeof t->store, err, sizeof err)) {
            fprintf(stderr, "topology: %s\n", err);
            t->pg_schema[0] = 0;
            return 1;
        }
    } else {
        /* one SQLite directory shared by the processes of one machine: for tests only (cmd/node.c) */
        snprintf(t->store, sizeof t->store, "sqlite://%s/store", t->dir);
        setenv("KITE_TEST_SHARED_SQLITE", "1", 1);
    }
    /* the internal storage is shared as the store is: the worker writes the files the webserver serves */
    char storage[512];
    snprintf(storage, sizeof storage, "%s/storage", t->dir);
    if (!kt_it_on_s3())
        setenv("KITE_STORAGE_LOCAL_BASE_PATH", storage, 1);
    const char *exec_extra[] = {"--listen", t->join, NULL};
    kt_it_topo_component(t, "executor", "executor", exec_extra);
    /* the others once the executor has migrated the store (SQLite has no lock around two processes' migrations) */
    if (kt_it_topo_wait_log(&t->procs[0], "ready")) {
        kt_it_topology_dump(t);
        fail_msg("topology: the executor did not start");
    }
    char port[16];
    snprintf(port, sizeof port, "%d", t->port);
    const char *web_extra[] = {"--join", t->join, "--host", "127.0.0.1", "--port", port, NULL};
    kt_it_topo_component(t, "webserver", "webserver", web_extra);
    const char *sched_extra[] = {"--join", t->join, NULL};
    kt_it_topo_component(t, "scheduler", "scheduler", sched_extra);
    kt_it_topo_component(t, "indexer", "indexer", sched_extra);
    /* KITE_IT_TOPO_EXECUTORS=2 on PostgreSQL: a second executor, the executions' partitions shared between the two
     * (SQLite is one process's store: each executor there takes every partition) */
    const char *execs = getenv("KITE_IT_TOPO_EXECUTORS");
    if (on_pg && execs && atoi(execs) > 1)
        kt_it_topo_component(t, "executor", "executor-2", sched_extra);
    /* KITE_IT_TOPO_SCHEDULERS=2: a second scheduler, both arming every trigger (the store's claims decide who fires) */
    const char *scheds_env = getenv("KITE_IT_TOPO_SCHEDULERS");
    size_t want_scheds = scheds_env && atoi(scheds_env) > 1 ? 2 : 1;
    if (want_scheds > 1)
        kt_it_topo_component(t, "scheduler", "scheduler-2", sched_extra);
    /* KITE_IT_TOPO_WORKERS=1: one worker (a test that kills the worker running a task leaves none running it) */
    const char *workers_env = getenv("KITE_IT_TOPO_WORKERS");
    int nworkers = workers_env && atoi(workers_env) == 1 ? 1 : 2;
    for (int i = 1; i <= nworkers; i++) {
        char name[24]; /* room for any int: -Wformat-truncation in Debug builds */
        snprintf(name, sizeof name, "worker-%d", i);
        const char *args[] = {"server", "worker", "--join", t->join, "--node-id", name, "--thread", "4",
                              "--heartbeat", KT_IT_TOPO_HEARTBEAT, "--liveness-timeout", KT_IT_TOPO_LIVENESS, NULL};
        kt_it_topo_spawn(t, name, args);
    }
    if (kt_it_wait_healthy(t->port)) {
        kt_it_topology_dump(t);
        fail_msg("topology: the webserver (port %d) did not become healthy", t->port);
    }
    /* every member seen from the webserver, the scheduler's actor included (it starts once the executor is there) */
    for (int i = 0; i < 200; i++) {
        json_t *nodes = NULL;
        kt_it_http_json("GET", t->port, "/api/v1/cluster/nodes", NULL, NULL, &nodes);
        size_t n = json_array_size(nodes), scheds = 0, idx;
        json_t *node;
        json_array_foreach(nodes, idx, node) {
            json_t *actors = json_object_get(node, "actors"), *a;
            size_t k;
            json_array_foreach(actors, k, a) scheds += !strcmp(json_string_value(a), "scheduler");
        }
        json_decref(nodes);
        if (n == t->nprocs && scheds == want_scheds)
            return 0;
        kt_it_sleep_ms(50);
    }
    kt_it_topology_dump(t);
    fail_msg("topology: the %zu processes did not all join", t->nprocs);
    return 1;
}

int kt_it_topology_restart(kt_it_topology *t, const char *name, int sig)
{
    for (size_t i = 0; i < t->nprocs; i++) {
        if (strcmp(t->names[i], name))
            continue;
        int rc = t->procs[i].pid ? kt_it_stop(&t->procs[i], sig) : -1;
        /* the new process appends to the same log (kt_it_spawn opens it O_APPEND): a marker says where it starts */
        FILE *f = fopen(t->procs[i].log_path, "a");
        if (f) {
            fprintf(f, "---- topology: %s stopped by signal %d (status %d), restarted ----\n", name, sig, rc);
            fclose(f);
        }
        t->procs[i] = kt_it_spawn(t->dir, name, (const char *const *)t->args[i]);
        return rc;
    }
    return -1;
}

void kt_it_topology_dump(const kt_it_topology *t)
{
    for (size_t i = 0; i < t->nprocs; i++)
        kt_it_dump_log(&t->procs[i]);
}

int kt_it_topology_stop(kt_it_topology *t)
{
    int bad = 0;
    /* the workers and the scheduler first, the executor last: nobody is left holding messages for a gone executor */
    for (size_t i = t->nprocs; i-- > 0;) {
        if (!t->procs[i].pid)
            continue;
        int rc = kt_it_stop(&t->procs[i], SIGTERM);
        if (rc != 0) {
            fprintf(stderr, "topology: %s exited %d after SIGTERM\n", t->names[i], rc);
            kt_it_dump_log(&t->procs[i]);
            bad++;
        }
    }
    for (size_t i = 0; i < t->nprocs; i++)
        for (size_t k = 0; t->args[i][k]; k++)
            free(t->args[i][k]);
    char err[512];
    if (t->pg_schema[0] && kt_test_pg_schema_drop(t->pg_base, t->pg_schema, err, sizeof err))
        fprintf(stderr, "topology: %s\n", err);
    kt_it_rmdir(t->dir);
    return bad;
}
