/* An executor SIGKILLed while its task runs on a worker (issue 12: "no task run ever has two live attempts"), in the
 * cluster on PostgreSQL with two executors and one worker (harness_topology.c): the attempt is not declared lost
 * while the worker still runs it. The other executor takes the partition over once the dead one's lease expires,
 * asks the worker, adopts the attempt, and the task run ends SUCCESS with its one attempt; the same when the killed
 * executor comes back at once under its node id and takes its partition back itself. When the worker is SIGKILLed
 * too (and started again, empty), the attempt is declared lost once the liveness timeout has passed and runs again:
 * two attempts, the first FAILED. Skips (77) without the test PostgreSQL (tests/pg/start.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#include "base/partition.h"
#include "base/clock.h"

#define LIVENESS_MS 3000 /* harness_topology.c's --liveness-timeout: the partitions' leases last as long */

static const char *FLOW = "id: longnap\nnamespace: company.team\ntasks:\n"
                          "  - id: nap\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands:\n"
                          "      - sleep 6\n";

static int skipped;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
    kt_it_topology *t = calloc(1, sizeof *t);
    setenv("KITE_IT_TOPO_EXECUTORS", "2", 1);
    setenv("KITE_IT_TOPO_WORKERS", "1", 1);
    int rc = kt_it_topology_start(t, 1);
    if (rc) {
        free(t);
        skipped = rc == 77;
        return rc == 77 ? 0 : -1;
    }
    kt_it_create_flow(t->port, FLOW, NULL);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    kt_it_topology *t = *state;
    if (!t)
        return 0;
    int bad = kt_it_topology_stop(t);
    free(t);
    return bad ? -1 : 0;
}

/* The index of the component called name. */
static size_t proc_of(const kt_it_topology *t, const char *name)
{
    for (size_t i = 0; i < t->nprocs; i++)
        if (!strcmp(t->names[i], name))
            return i;
    fail_msg("no component %s", name);
    return 0;
}

/* The executor owning the execution's partition while both live: the one rendezvous hashing names. */
static const char *owner_of(const char *id)
{
    int p = kt_exec_partition(id);
    return kt_partition_weight("executor", p) > kt_partition_weight("executor-2", p) ? "executor" : "executor-2";
}

/* Starts longnap and waits until its task runs on the worker; the execution id into id. owner: NULL, or the executor
 * that must own it (the executions another one would own are killed until one falls in the right partition). */
static void start_nap(kt_it_topology *t, const char *owner, char *id, size_t cap)
{
    for (int tries = 0;; tries++) {
        json_t *res = NULL;
        const char *none[] = {NULL};
        assert_int_equal(kt_it_post_form(t->port, "/api/v1/executions/company.team/longnap", none, &res), 200);
        snprintf(id, cap, "%s", json_string_value(json_object_get(res, "id")));
        json_decref(res);
        if (!owner || !strcmp(owner_of(id), owner))
            break;
        assert_true(tries < 30);
        char path[128];
        snprintf(path, sizeof path, "/api/v1/executions/%s/kill", id);
        assert_int_equal(kt_it_http("DELETE", t->port, path, NULL, NULL, NULL), 202);
        json_decref(kt_it_wait_state(NULL, t->port, id, "KILLED", 15000));
    }
    if (kt_it_wait_task_running(t->port, id, "nap", 15000)) {
        kt_it_topology_dump(t);
        fail_msg("execution %s: nap never ran", id);
    }
    kt_it_sleep_ms(300); /* the job is on the worker, not only dispatched */
}

/* Waits for the end of the execution; its nap task run's attempts (the execution is returned, the caller frees it). */
static json_t *wait_end(kt_it_topology *t, const char *id, json_t **attempts)
{
    json_t *ex = kt_it_wait_execution(t->port, id, 40000);
    if (!ex || strcmp(kt_it_state(ex), "SUCCESS"))
        kt_it_topology_dump(t);
    assert_non_null(ex);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_t *nap = kt_it_taskrun(ex, "nap");
    assert_non_null(nap);
    assert_string_equal(kt_it_state(nap), "SUCCESS");
    *attempts = json_object_get(nap, "attempts");
    return ex;
}

/* 1 when the log of component name holds text. */
static int log_has(const kt_it_topology *t, const char *name, const char *text)
{
    FILE *f = fopen(t->procs[proc_of(t, name)].log_path, "r");
    char line[4096];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, text) != NULL;
    if (f)
        fclose(f);
    return found;
}

static void test_adopted_after_the_owner_died(void **state)
{
    if (skipped)
        skip();
    kt_it_topology *t = *state;
    char id[64];
    start_nap(t, NULL, id, sizeof id);
    const char *dead = owner_of(id), *heir = strcmp(dead, "executor") ? "executor" : "executor-2";
    kt_it_stop(&t->procs[proc_of(t, dead)], SIGKILL); /* not started again: the other one takes its partitions */
    json_t *attempts;
    json_t *ex = wait_end(t, id, &attempts);
    if (json_array_size(attempts) != 1)
        kt_it_topology_dump(t);
    assert_int_equal(json_array_size(attempts), 1); /* no second attempt while the first one ran */
    assert_string_equal(kt_it_state(json_array_get(attempts, 0)), "SUCCESS");
    assert_true(log_has(t, heir, "adopted"));
    json_decref(ex);

    /* the dead executor comes back under its node id; then the owner of a new execution is SIGKILLed and started
     * again at once: it takes its partition back itself (its own lease) and adopts the attempt from the worker */
    kt_it_topology_restart(t, dead, SIGKILL);
    kt_it_sleep_ms(LIVENESS_MS / 2); /* it rejoined and took its partitions back */
    start_nap(t, NULL, id, sizeof id);
    kt_it_topology_restart(t, owner_of(id), SIGKILL);
    ex = wait_end(t, id, &attempts);
    if (json_array_size(attempts) != 1)
        kt_it_topology_dump(t);
    assert_int_equal(json_array_size(attempts), 1);
    json_decref(ex);
}

/* The date of an attempt's state history entry of the given state, in ms (0 when there is none). */
static int64_t attempt_date_ms(const json_t *attempt, const char *state)
{
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(json_object_get(attempt, "state"), "histories"), i, h) {
        int64_t us = 0;
        if (!strcmp(json_string_value(json_object_get(h, "state")), state) &&
            !kt_time_parse(json_string_value(json_object_get(h, "date")), &us))
            return us / 1000;
    }
    return 0;
}

static void test_lost_with_its_worker(void **state)
{
    if (skipped)
        skip();
    kt_it_topology *t = *state;
    char id[64];
    /* not the executor the others joined: the worker started again joins it */
    start_nap(t, "executor-2", id, sizeof id);
    const char *dead = owner_of(id);
    int64_t killed = now_ms();
    kt_it_stop(&t->procs[proc_of(t, dead)], SIGKILL);
    kt_it_topology_restart(t, "worker-1", SIGKILL); /* a new worker process, which runs nothing */
    json_t *attempts;
    json_t *ex = wait_end(t, id, &attempts);
    if (json_array_size(attempts) != 2)
        kt_it_topology_dump(t);
    assert_int_equal(json_array_size(attempts), 2);
    assert_string_equal(kt_it_state(json_array_get(attempts, 0)), "FAILED");
    assert_string_equal(kt_it_state(json_array_get(attempts, 1)), "SUCCESS");
    /* declared lost once the dead executor's lease expired (a liveness timeout after its last renewal, every third
     * of it) and the worker said it does not run it */
    int64_t retried = attempt_date_ms(json_array_get(attempts, 1), "RUNNING");
    if (retried - killed < LIVENESS_MS * 2 / 3)
        kt_it_topology_dump(t);
    assert_true(retried - killed >= LIVENESS_MS * 2 / 3);
    json_decref(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_adopted_after_the_owner_died, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_with_its_worker, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return skipped ? 77 : failed;
}
