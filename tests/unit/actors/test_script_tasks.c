/* Script tasks' issue-10 additions (actors/worker/tasks_script.c), as real attempts on one node: node.Commands and
 * node.Script (skipped, and said so, where no `node` is installed), `::{"metrics":...}::` lines recorded in the task
 * run's logs, and containerImage without a task runner (run with the Process runner, said once at WARN). */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/actors/worker_fixture.h"

static int have_node(void)
{
    return system("command -v node >/dev/null 2>&1") == 0;
}

static int count_logged(const probe *p, const char *text)
{
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(p->logs, i, e) {
        const char *m = json_string_value(json_object_get(e, "message"));
        n += m && strstr(m, text) != NULL;
    }
    return n;
}

static void test_node_commands_and_script(void **state)
{
    fixture *f = *state;
    if (!have_node()) {
        fprintf(stderr, "test_node_commands_and_script: no `node` on this machine: skipped\n");
        skip();
    }
    probe p;
    run_task(f, "io.kestra.plugin.scripts.node.Commands",
             "{\"commands\":[\"node -e \\\"console.log('sum ' + (40 + 2))\\\"\"]}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_true(logged(&p, "INFO", "sum 42"));
    probe_clear(&p);

    run_task(f, "io.kestra.plugin.scripts.node.Script",
             "{\"beforeCommands\":[\"echo before\"],\"script\":"
             "\"const n = [1, 2, 3].reduce((a, b) => a + b);\\nconsole.log('::' + JSON.stringify({outputs: {n}}) + "
             "'::');\\nconsole.error('to stderr');\"}",
             "tr2", 1, &p);
    assert_string_equal(p.state, "WARNING"); /* a stderr line, with warningOnStdErr's default (true) */
    assert_true(logged(&p, "INFO", "before"));
    assert_true(logged(&p, "ERROR", "to stderr"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(p.outputs, "vars"), "n")), 6);
    probe_clear(&p);

    /* a script that throws fails the attempt */
    run_task(f, "io.kestra.plugin.scripts.node.Script", "{\"script\":\"throw new Error('boom')\"}", "tr3", 1, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "boom"));
    probe_clear(&p);
}

static void test_metrics_lines(void **state)
{
    fixture *f = *state;
    probe p;
    run_task(f, "io.kestra.plugin.scripts.shell.Commands",
             "{\"commands\":[\"echo '::{\\\"metrics\\\":[{\\\"name\\\":\\\"rows\\\",\\\"type\\\":\\\"counter\\\","
             "\\\"value\\\":3,\\\"tags\\\":{\\\"table\\\":\\\"a\\\"}},{\\\"name\\\":\\\"took\\\",\\\"type\\\":"
             "\\\"timer\\\",\\\"value\\\":1.5},{\\\"name\\\":\\\"bad\\\"}],\\\"outputs\\\":{\\\"k\\\":1}}::'\"]}",
             "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    /* two task metrics of the run (the timer in whole milliseconds), the third refused at WARN */
    assert_int_equal(json_array_size(p.metrics), 2);
    json_t *want = parse("[{\"namespace\":\"a.b\",\"flowId\":\"f\",\"taskId\":\"t1\",\"executionId\":\"x1\","
                         "\"taskRunId\":\"tr1\",\"type\":\"counter\",\"name\":\"rows\",\"value\":3.0,"
                         "\"tags\":{\"table\":\"a\"},\"deleted\":false},"
                         "{\"namespace\":\"a.b\",\"flowId\":\"f\",\"taskId\":\"t1\",\"executionId\":\"x1\","
                         "\"taskRunId\":\"tr1\",\"type\":\"timer\",\"name\":\"took\",\"value\":1500.0,"
                         "\"tags\":{},\"deleted\":false}]");
    for (size_t i = 0; i < 2; i++) {
        json_t *got = json_array_get(p.metrics, i);
        assert_non_null(json_string_value(json_object_get(got, "timestamp")));
        json_object_del(got, "timestamp");
        assert_true(json_equal(got, json_array_get(want, i)));
    }
    json_decref(want);
    assert_true(logged(&p, "WARN", "Invalid metric #2"));
    assert_int_equal(count_logged(&p, "metric counter"), 0); /* no longer DEBUG lines */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(p.outputs, "vars"), "k")), 1);
    assert_int_equal(count_logged(&p, "::{"), 0); /* the protocol line itself is not a log line */
    probe_clear(&p);
}

/* Return records Kestra's counter `length` (UTF-16 units: é is one, 😀 two) and timer `duration`, tagged format=. */
static void test_return_metrics(void **state)
{
    fixture *f = *state;
    probe p;
    run_task(f, "io.kestra.plugin.core.debug.Return", "{\"format\":\"h\\u00e9 \\ud83d\\ude00\"}", "tr1", 0, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_array_size(p.metrics), 2);
    json_t *len = json_array_get(p.metrics, 0), *dur = json_array_get(p.metrics, 1);
    assert_string_equal(json_string_value(json_object_get(len, "name")), "length");
    assert_string_equal(json_string_value(json_object_get(len, "type")), "counter");
    assert_true(json_number_value(json_object_get(len, "value")) == 5.0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(len, "tags"), "format")), "h\u00e9 \U0001F600");
    assert_string_equal(json_string_value(json_object_get(dur, "name")), "duration");
    assert_string_equal(json_string_value(json_object_get(dur, "type")), "timer");
    assert_string_equal(json_string_value(json_object_get(dur, "taskRunId")), "tr1");
    probe_clear(&p);
}

static void test_container_image_without_runner(void **state)
{
    fixture *f = *state;
    probe p;
    run_task(f, "io.kestra.plugin.scripts.shell.Commands",
             "{\"containerImage\":\"ubuntu:22.04\",\"commands\":[\"echo ran here\"]}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_true(logged(&p, "INFO", "ran here"));
    assert_true(logged(&p, "WARN", "containerImage 'ubuntu:22.04' ignored: Kite has no Docker runner yet; running "
                                   "with the Process runner"));
    assert_int_equal(count_logged(&p, "containerImage"), 1);
    probe_clear(&p);

    /* with the Process runner named, the image is not in play: nothing to say */
    run_task(f, "io.kestra.plugin.scripts.shell.Commands",
             "{\"containerImage\":\"ubuntu:22.04\",\"taskRunner\":{\"type\":\"io.kestra.plugin.core.runner.Process\"},"
             "\"commands\":[\"echo ran here\"]}",
             "tr2", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(count_logged(&p, "containerImage"), 0);
    probe_clear(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_node_commands_and_script, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_return_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_image_without_runner, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
