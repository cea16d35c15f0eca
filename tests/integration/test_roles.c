/* Components as processes (issue 12): `kite server executor`, `webserver`, `scheduler`, `indexer` and two `server
 * worker` on 127.0.0.1, each hosting only its actor, joined over nng, sharing one store (harness_topology.c). Flows are
 * saved through the webserver's API; executions run a Log task, a shell task on a worker process and a Subflow; a Flow
 * trigger fires when they end (executor -> scheduler) and fetches its logs (worker -> executor); a Schedule trigger
 * fires through the scheduler process until a Toggle task disables it (worker -> scheduler); an http.Trigger is
 * evaluated by a worker for the scheduler (scheduler -> worker); a kill goes webserver -> executor -> worker; logs,
 * follow and the cluster's members are read back through the API; every process stops with exit status 0 on SIGTERM.
 *
 * The store: a shared SQLite directory (KITE_TEST_SHARED_SQLITE=1, tests only) unless KITE_IT_TOPOLOGY_STORE=postgres,
 * which gives the topology a fresh schema of the test PostgreSQL (the CTest fixture pg). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static int on_pg(void)
{
    const char *v = getenv("KITE_IT_TOPOLOGY_STORE");
    return v && !strcmp(v, "postgres");
}

static int skipped; /* the topology could not run here (77): the process says so to CTest */

static void start(kt_it_topology *t)
{
    int rc = kt_it_topology_start(t, on_pg());
    if (rc == 77) {
        skipped = 1;
        skip();
    }
    assert_int_equal(rc, 0);
}

static void run(const kt_it_topology *t, const char *flow, char *exid, size_t cap)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/company.team/%s", flow);
    json_t *res = NULL;
    const char *none[] = {NULL};
    long st = kt_it_post_form(t->port, path, none, &res);
    if (st != 200)
        kt_it_topology_dump(t);
    assert_int_equal(st, 200);
    snprintf(exid, cap, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
}

static json_t *wait_end(const kt_it_topology *t, const char *id)
{
    json_t *ex = kt_it_wait_execution(t->port, id, 30000);
    if (!ex)
        kt_it_topology_dump(t);
    assert_non_null(ex);
    return ex;
}

static pid_t pid_of(const kt_it_topology *t, const char *name)
{
    for (size_t i = 0; i < t->nprocs; i++)
        if (!strcmp(t->names[i], name))
            return t->procs[i].pid;
    return 0;
}

/* The messages of an execution's logs, joined by '\n' (malloc'd). */
static char *log_text(const kt_it_topology *t, const char *id)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/logs/%s", id);
    json_t *logs = NULL;
    assert_int_equal(kt_it_http_json("GET", t->port, path, NULL, NULL, &logs), 200);
    size_t cap = 1, i;
    json_t *l;
    json_array_foreach(logs, i, l) cap += strlen(json_string_value(json_object_get(l, "message"))) + 1;
    char *out = calloc(1, cap);
    json_array_foreach(logs, i, l) {
        strcat(out, json_string_value(json_object_get(l, "message")));
        strcat(out, "\n");
    }
    json_decref(logs);
    return out;
}

/* Whether the execution's logs hold text, waiting for them up to 10 s: the lines reach the store through the indexer
 * process, in its own transactions, possibly a moment after the execution ended (as Kestra's indexer). */
static int has_log(const kt_it_topology *t, const char *id, const char *text)
{
    for (int i = 0; i < 100; i++) {
        char *all = log_text(t, id);
        int found = strstr(all, text) != NULL;
        if (!found && i == 99)
            fprintf(stderr, "logs of %s: [%s], want [%s]\n", id, all, text);
        free(all);
        if (found)
            return 1;
        kt_it_sleep_ms(100);
    }
    return 0;
}

static const char CHILD[] = "id: child\nnamespace: company.team\ntasks:\n"
                            "  - id: c\n    type: io.kestra.plugin.core.log.Log\n    message: child of {{ trigger.executionId ?? 'none' }}\n";

static const char PARENT[] = "id: parent\nnamespace: company.team\ntasks:\n"
                             "  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: hello from {{ execution.id }}\n"
                             "  - id: sh\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands:\n"
                             "      - echo \"::{\\\"outputs\\\":{\\\"parent\\\":$PPID}}::\"\n"
                             "  - id: sub\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: company.team\n"
                             "    flowId: child\n    wait: true\n    transmitFailed: true\n";

static const char TICKER[] = "id: ticker\nnamespace: company.team\ntasks:\n"
                             "  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: tick {{ trigger.date }}\n"
                             "triggers:\n  - id: every\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                             "    cron: \"* * * * * *\"\n    withSeconds: true\n";

/* Fired by the scheduler process when the executor process tells it a parent execution ended (ExecutionChanged);
 * its Fetch asks the executor for the execution's logs from a worker process (TaskAsk). */
static const char WATCHER[] = "id: watcher\nnamespace: company.team\ntasks:\n"
                              "  - id: saw\n    type: io.kestra.plugin.core.log.Log\n"
                              "    message: watched {{ trigger.executionId }}\n"
                              "  - id: fetch\n    type: io.kestra.plugin.core.log.Fetch\n"
                              "triggers:\n  - id: after\n    type: io.kestra.plugin.core.trigger.Flow\n    conditions:\n"
                              "      - type: io.kestra.plugin.core.condition.ExecutionFlow\n        namespace: company.team\n"
                              "        flowId: parent\n";

/* A worker process asks the scheduler process to disable the ticker's trigger (TriggerToggle and its reply). */
static const char SWITCH[] = "id: switch\nnamespace: company.team\ntasks:\n"
                             "  - id: off\n    type: io.kestra.plugin.core.trigger.Toggle\n    flowId: ticker\n"
                             "    trigger: every\n    enabled: false\n";

static const char SLOW[] = "id: slow\nnamespace: company.team\ntasks:\n"
                           "  - id: nap\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands:\n"
                           "      - sleep 60\n";

/* The SUCCESS executions of a flow once there are at least `want` (max 15 s), as GET executions/search answers. */
static json_t *search(const kt_it_topology *t, const char *flow, size_t want)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/search?namespace=company.team&flowId=%s&state=SUCCESS&size=100",
             flow);
    json_t *page = NULL;
    for (int i = 0; i < 150; i++) {
        json_decref(page);
        page = NULL;
        kt_it_http_json("GET", t->port, path, NULL, NULL, &page);
        if (json_array_size(json_object_get(page, "results")) >= want)
            return page;
        kt_it_sleep_ms(100);
    }
    kt_it_topology_dump(t);
    fail_msg("%s: fewer than %zu SUCCESS executions after 15 s", flow, want);
    return NULL;
}

/* Executions made through the webserver run on the executor and the workers, their Subflow included. */
static void check_executions(kt_it_topology *t)
{
    kt_it_create_flow(t->port, CHILD, NULL);
    kt_it_create_flow(t->port, PARENT, NULL);
    kt_it_create_flow(t->port, WATCHER, NULL);
    char ids[4][64];
    for (int i = 0; i < 4; i++)
        run(t, "parent", ids[i], sizeof ids[i]);
    pid_t w1 = pid_of(t, "worker-1"), w2 = pid_of(t, "worker-2");
    for (int i = 0; i < 4; i++) {
        json_t *ex = wait_end(t, ids[i]);
        assert_string_equal(kt_it_state(ex), "SUCCESS");
        json_t *sh = kt_it_taskrun(ex, "sh");
        json_int_t ran_in = json_integer_value(
            json_object_get(json_object_get(json_object_get(sh, "outputs"), "vars"), "parent"));
        assert_true(ran_in == w1 || ran_in == w2); /* the shell ran in a worker process */
        const char *child = json_string_value(json_object_get(json_object_get(kt_it_taskrun(ex, "sub"), "outputs"),
                                                              "executionId"));
        assert_non_null(child);
        json_t *cex = wait_end(t, child);
        assert_string_equal(kt_it_state(cex), "SUCCESS");
        char want[400];
        snprintf(want, sizeof want, "child of %s", ids[i]);
        assert_true(has_log(t, child, want));
        json_decref(cex);
        json_decref(ex);
        snprintf(want, sizeof want, "hello from %s", ids[i]);
        assert_true(has_log(t, ids[i], want)); /* the worker's log batch reached the store through the indexer */
    }
    /* the Flow trigger: one watcher execution per parent that ended, each naming its parent */
    json_t *page = search(t, "watcher", 4);
    size_t i;
    json_t *ex;
    json_array_foreach(json_object_get(page, "results"), i, ex) {
        const char *parent = json_string_value(
            json_object_get(json_object_get(json_object_get(ex, "trigger"), "variables"), "executionId"));
        int known = 0;
        for (int k = 0; k < 4; k++)
            known |= parent && !strcmp(parent, ids[k]);
        assert_true(known);
        json_t *full = kt_it_get_execution(t->port, json_string_value(json_object_get(ex, "id")));
        json_t *fetched = json_object_get(kt_it_taskrun(full, "fetch"), "outputs");
        /* the executor answered (TaskAsk): its own Log line, or none yet, as the indexer process may not have
         * committed it when the next task asks (Kestra's log.Fetch reads its indexer's repository the same way) */
        assert_true(json_is_integer(json_object_get(fetched, "size")));
        assert_true(json_integer_value(json_object_get(fetched, "size")) <= 1);
        assert_non_null(json_string_value(json_object_get(fetched, "uri")));
        json_decref(full);
    }
    assert_int_equal(json_array_size(json_object_get(page, "results")), 4);
    json_decref(page);
}

/* The Schedule fires through the scheduler process, once per second, each tick once; deleting the flow stops it. */
static void check_schedule(kt_it_topology *t)
{
    kt_it_create_flow(t->port, TICKER, NULL);
    json_t *page = search(t, "ticker", 5); /* five ticks: with two schedulers each arming it, none twice */
    size_t i;
    json_t *ex;
    char seen[16][64];
    size_t nseen = 0;
    json_array_foreach(json_object_get(page, "results"), i, ex) {
        json_t *trig = json_object_get(ex, "trigger");
        assert_string_equal(json_string_value(json_object_get(trig, "id")), "every");
        const char *date = json_string_value(json_object_get(json_object_get(trig, "variables"), "date"));
        assert_non_null(date);
        for (size_t k = 0; k < nseen; k++)
            assert_string_not_equal(seen[k], date); /* no tick fired twice */
        if (nseen < 16)
            snprintf(seen[nseen++], sizeof seen[0], "%s", date);
        assert_true(has_log(t, json_string_value(json_object_get(ex, "id")), "tick "));
    }
    json_decref(page);
    /* the Toggle task (worker process -> scheduler process, and its answer): the schedule stops */
    kt_it_create_flow(t->port, SWITCH, NULL);
    char id[64];
    run(t, "switch", id, sizeof id);
    ex = wait_end(t, id);
    assert_string_equal(kt_it_state(ex), "SUCCESS");
    json_decref(ex);
    kt_it_sleep_ms(1500); /* a tick handed over before the toggle ends */
    page = search(t, "ticker", 1);
    size_t before = json_array_size(json_object_get(page, "results"));
    json_decref(page);
    kt_it_sleep_ms(2500);
    page = search(t, "ticker", 1);
    assert_int_equal(json_array_size(json_object_get(page, "results")), before);
    json_decref(page);
    assert_int_equal(kt_it_http("DELETE", t->port, "/api/v1/flows/company.team/ticker", NULL, NULL, NULL), 204);
}

/* A polling trigger: the scheduler process has a worker process evaluate it (TriggerEvaluate and its reply), here an
 * http.Trigger on the webserver's own /health; the execution it starts sees the response. */
static void check_polling(kt_it_topology *t)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "id: poller\nnamespace: company.team\ntasks:\n"
             "  - id: show\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{ trigger.code }}\"\n"
             "triggers:\n  - id: http\n    type: io.kestra.plugin.core.http.Trigger\n"
             "    uri: http://127.0.0.1:%d/health\n    interval: PT1S\n",
             t->port);
    kt_it_create_flow(t->port, yaml, NULL);
    json_t *page = search(t, "poller", 1);
    json_t *first = json_array_get(json_object_get(page, "results"), 0);
    json_t *ex = kt_it_get_execution(t->port, json_string_value(json_object_get(first, "id")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(ex, "trigger"), "type")),
                        "io.kestra.plugin.core.http.Trigger");
    assert_string_equal(json_string_value(json_object_get(json_object_get(kt_it_taskrun(ex, "show"), "outputs"),
                                                          "value")), "200");
    json_decref(ex);
    json_decref(page);
    assert_int_equal(kt_it_http("DELETE", t->port, "/api/v1/flows/company.team/poller", NULL, NULL, NULL), 204);
}

/* A kill goes webserver -> executor -> the worker running the task; follow (SSE) ends with the KILLED execution. */
static void check_kill_and_follow(kt_it_topology *t)
{
    kt_it_create_flow(t->port, SLOW, NULL);
    char id[64], path[256];
    run(t, "slow", id, sizeof id);
    assert_int_equal(kt_it_wait_task_running(t->port, id, "nap", 15000), 0);
    snprintf(path, sizeof path, "/api/v1/executions/%s/kill", id);
    assert_int_equal(kt_it_http("DELETE", t->port, path, NULL, NULL, NULL), 202);
    json_t *ex = kt_it_wait_state(NULL, t->port, id, "KILLED", 15000);
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "nap")), "KILLED");
    json_decref(ex);
    kt_it_resp r = {0};
    snprintf(path, sizeof path, "/api/v1/executions/%s/follow", id);
    assert_int_equal(kt_it_request("GET", t->port, path, NULL, 0, NULL, NULL, &r), 200);
    assert_non_null(r.body);
    assert_non_null(strstr(r.body, "event:end") ? strstr(r.body, "event:end") : strstr(r.body, "id: end"));
    assert_non_null(strstr(r.body, "\"KILLED\""));
    free(r.body);
}

/* The cluster as the webserver sees it: every process a member, each with its one actor (six, or eight with a
 * second executor and a second scheduler). */
static void check_members(kt_it_topology *t)
{
    json_t *nodes = NULL;
    assert_int_equal(kt_it_http_json("GET", t->port, "/api/v1/cluster/nodes", NULL, NULL, &nodes), 200);
    assert_int_equal(json_array_size(nodes), t->nprocs);
    const char *want[][2] = {{"executor", "executor"}, {"webserver", "webserver"}, {"scheduler", "scheduler"},
                             {"indexer", "indexer"}, {"worker-1", "worker"}, {"worker-2", "worker"},
                             {"executor-2", "executor"}, {"scheduler-2", "scheduler"}};
    for (size_t w = 0; w < t->nprocs; w++) {
        int found = 0;
        size_t i;
        json_t *n;
        json_array_foreach(nodes, i, n) {
            if (strcmp(json_string_value(json_object_get(n, "id")), want[w][0]))
                continue;
            found = 1;
            json_t *actors = json_object_get(n, "actors");
            assert_int_equal(json_array_size(actors), 1);
            assert_string_equal(json_string_value(json_array_get(actors, 0)), want[w][1]);
        }
        assert_true(found);
    }
    json_decref(nodes);
}

static void test_components_as_processes(void **state)
{
    (void)state;
    kt_it_topology t;
    start(&t);
    check_members(&t);
    check_executions(&t);
    check_schedule(&t);
    check_polling(&t);
    check_kill_and_follow(&t);
    assert_int_equal(kt_it_topology_stop(&t), 0); /* each process: SIGTERM, exit 0 */
}

/* `kite server executor` (scheduler, webserver) on an SQLite directory: refused, as no other process could share it. */
static void test_roles_refuse_an_unshared_store(void **state)
{
    (void)state;
    char dir[256];
    kt_it_tmpdir(dir, sizeof dir);
    const char *prev = getenv("KITE_TEST_SHARED_SQLITE");
    char *saved = prev ? strdup(prev) : NULL;
    unsetenv("KITE_TEST_SHARED_SQLITE");
    const char *roles[] = {"executor", "scheduler", "webserver"};
    for (size_t i = 0; i < 3; i++) {
        char data[300], name[32];
        snprintf(data, sizeof data, "%s/data", dir);
        snprintf(name, sizeof name, "refused-%s", roles[i]);
        const char *args[] = {"server", roles[i], "--data", data, NULL};
        kt_it_proc p = kt_it_spawn(dir, name, args);
        int status = 0;
        waitpid(p.pid, &status, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 2);
        FILE *f = fopen(p.log_path, "r");
        char line[512] = "";
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof line, f));
        fclose(f);
        assert_non_null(strstr(line, "needs a shared store: --store postgres"));
    }
    if (saved)
        setenv("KITE_TEST_SHARED_SQLITE", saved, 1);
    free(saved);
    kt_it_rmdir(dir);
}

/* `kite server standalone`: every component in one process (as `server local`); --worker-thread 0 and --no-indexer
 * (Kestra's flags) leave the worker and the indexer out. */
static void test_standalone(void **state)
{
    (void)state;
    /* in the order the actors are spawned */
    const char *want[2] = {"worker,executor,indexer,scheduler,webserver", "executor,scheduler,webserver"};
    for (int k = 0; k < 2; k++) {
        char dir[256], data[300], port[16];
        kt_it_tmpdir(dir, sizeof dir);
        snprintf(data, sizeof data, "%s/data", dir);
        int p = kt_it_free_port();
        snprintf(port, sizeof port, "%d", p);
        const char *all[] = {"server", "standalone", "--host", "127.0.0.1", "--port", port, "--data", data, NULL};
        const char *few[] = {"server", "standalone", "--host", "127.0.0.1", "--port", port, "--data", data,
                             "--worker-thread", "0", "--no-indexer", NULL};
        kt_it_proc proc = kt_it_spawn(dir, "standalone", k ? few : all);
        if (kt_it_wait_healthy(p))
            kt_it_dump_log(&proc);
        json_t *nodes = NULL;
        assert_int_equal(kt_it_http_json("GET", p, "/api/v1/cluster/nodes", NULL, NULL, &nodes), 200);
        json_t *actors = json_object_get(json_array_get(nodes, 0), "actors"), *a;
        char got[256] = "";
        size_t i;
        json_array_foreach(actors, i, a) {
            strcat(got, i ? "," : "");
            strcat(got, json_string_value(a));
        }
        assert_string_equal(got, want[k]);
        json_decref(nodes);
        kt_it_stop_clean(&proc);
        kt_it_rmdir(dir);
    }
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles_refuse_an_unshared_store),
        cmocka_unit_test(test_standalone),
        cmocka_unit_test(test_components_as_processes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc == 0 && skipped ? 77 : rc;
}
