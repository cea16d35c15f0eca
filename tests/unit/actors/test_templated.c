/* TemplatedTask on a real worker (actors/worker/tasks_templated.c): the task its rendered `spec` describes runs in
 * its place, under its id; a spec that is not YAML, not a runnable task, or another TemplatedTask fails the attempt
 * with Kestra's message. */
#include "tests/unit/actors/worker_fixture.h"

#define TT "io.kestra.plugin.core.templating.TemplatedTask"

static void test_runs_the_spec(void **state)
{
    fixture *f = *state;
    probe p;
    run_task(f, TT, "{\"spec\":\"type: io.kestra.plugin.core.debug.Return\\nformat: from the spec\\n\"}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_string_equal(json_string_value(json_object_get(p.outputs, "value")), "from the spec");
    probe_clear(&p);
    /* the legacy alias, and a script task with its own properties */
    run_task(f, "io.kestra.core.tasks.templating.TemplatedTask",
             "{\"spec\":\"type: io.kestra.plugin.scripts.shell.Commands\\ntaskRunner:\\n  type: "
             "io.kestra.plugin.core.runner.Process\\ncommands:\\n  - echo templated-shell\\n\"}",
             "tr2", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_true(logged(&p, "INFO", "templated-shell"));
    probe_clear(&p);
}

static void test_refused_specs(void **state)
{
    fixture *f = *state;
    assert_failed(f, TT, "{\"spec\":\"type: io.kestra.plugin.core.flow.Sequential\\ntasks: []\\n\"}",
                  "The templated task must be a runnable task");
    assert_failed(f, TT, "{\"spec\":\"type: " TT "\\nspec: x\\n\"}",
                  "The templated task cannot be of type '" TT "'");
    assert_failed(f, TT, "{\"spec\":\"type: [unclosed\\n\"}", "Unable to parse the templated task");
    assert_failed(f, TT, "{\"spec\":\"just text\"}", "a task with a `type` is expected");
    assert_failed(f, TT, "{}", "spec: must not be null");
    assert_failed(f, TT, "{\"spec\":\"type: io.kestra.plugin.core.Nope\\n\"}",
                  "Task type 'io.kestra.plugin.core.Nope' is not supported by this worker");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_runs_the_spec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_specs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
