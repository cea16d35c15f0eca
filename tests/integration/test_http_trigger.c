/* The polling io.kestra.plugin.core.http.Trigger in a real kite process against tests/http/server.py on 127.0.0.1,
 * whose /count/NAME/CODE endpoint counts the polls: an execution per positive poll with trigger.code / trigger.body /
 * trigger.uri / trigger.headers in a task's output, polling again once it ends; stopAfter disabling the trigger; a
 * false responseCondition, a 500 under the default condition and an unreachable server starting nothing while the
 * polls go on; one evaluation in flight at a time, and a restart not waiting for the one its predecessor left; a bad
 * uri or interval refused at save with its place. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "harness.h"
#include "../http/http_server.h"

typedef kt_it_fixture fixture;

static int port;
static pid_t server;

static int group_setup(void **state)
{
    (void)state;
    return kt_test_http_start(KITE_SOURCE_DIR "/tests/http/server.py", &port, &server);
}

static int group_teardown(void **state)
{
    (void)state;
    kt_test_http_stop(server);
    return 0;
}

/* How many times the server was polled under name. */
static int hits(const char *name)
{
    char path[128], *body = NULL;
    snprintf(path, sizeof path, "/hits/%s", name);
    assert_int_equal(kt_it_http("GET", port, path, NULL, NULL, &body), 200);
    int n = atoi(body);
    free(body);
    return n;
}

/* Every execution of company.team.flow, oldest first. */
static json_t *executions_of(int kport, const char *flow)
{
    char path[512];
    snprintf(path, sizeof path,
             "/api/v1/executions/search?namespace=company.team&flowId=%s&size=1000&sort=state.startDate:asc", flow);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("GET", kport, path, NULL, NULL, &res), 200);
    json_t *results = json_incref(json_object_get(res, "results"));
    json_decref(res);
    assert_non_null(results);
    return results;
}

/* Waits until flow has at least n ended executions (or timeout); returns them. */
static json_t *wait_ended(int kport, const char *flow, size_t n, int timeout_ms)
{
    for (int waited = 0;; waited += 100) {
        json_t *all = executions_of(kport, flow);
        size_t ended = 0, i;
        json_t *ex;
        json_array_foreach(all, i, ex) {
            const char *st = kt_it_state(ex);
            ended += st && (!strcmp(st, "SUCCESS") || !strcmp(st, "FAILED") || !strcmp(st, "WARNING"));
        }
        if (ended >= n || waited >= timeout_ms)
            return all;
        json_decref(all);
        kt_it_sleep_ms(100);
    }
}

static json_t *trigger_row(int kport, const char *flow)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/triggers/company.team/%s", flow);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("GET", kport, path, NULL, NULL, &res), 200);
    json_t *row = json_incref(json_array_get(json_object_get(res, "results"), 0));
    json_decref(res);
    assert_non_null(row);
    return row;
}

static void test_fires_with_the_response(void **state)
{
    fixture *f = *state;
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "id: poll_ok\nnamespace: company.team\nlabels:\n  team: it\ntasks:\n"
             "  - id: show\n    type: io.kestra.plugin.core.debug.Return\n"
             "    format: \"{{ trigger.code }}|{{ json(trigger.body).name }}|{{ trigger.uri }}|"
             "{{ trigger.headers['Content-Type'][0] }}|{{ json(trigger.body).hit }}\"\n"
             "triggers:\n  - id: http\n    type: io.kestra.plugin.core.http.Trigger\n"
             "    uri: \"http://127.0.0.1:%d/count/{{ flow.id }}/200\"\n    interval: PT1S\n"
             "    labels:\n      source: poll\n",
             port);
    kt_it_create_flow(f->port, yaml, NULL);
    /* no stopAfter: the trigger polls again once an execution ends, so a second one follows */
    json_t *all = wait_ended(f->port, "poll_ok", 2, 20000);
    if (json_array_size(all) < 2)
        kt_it_dump_log(&f->server);
    assert_true(json_array_size(all) >= 2);
    char want[256];
    int last_hit = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *ex = kt_it_get_execution(f->port, json_string_value(json_object_get(json_array_get(all, i), "id")));
        assert_non_null(ex);
        assert_string_equal(kt_it_state(ex), "SUCCESS");
        const char *out = json_string_value(
            json_object_get(json_object_get(kt_it_taskrun(ex, "show"), "outputs"), "value"));
        assert_non_null(out);
        snprintf(want, sizeof want, "200|poll_ok|http://127.0.0.1:%d/count/poll_ok/200|application/json|", port);
        assert_int_equal(strncmp(out, want, strlen(want)), 0);
        int hit = atoi(out + strlen(want));
        assert_true(hit > last_hit); /* a new poll each time */
        last_hit = hit;
        json_t *trig = json_object_get(ex, "trigger");
        assert_string_equal(json_string_value(json_object_get(trig, "id")), "http");
        assert_string_equal(json_string_value(json_object_get(trig, "type")), "io.kestra.plugin.core.http.Trigger");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(trig, "variables"), "code")), 200);
        char *labels = json_dumps(json_object_get(ex, "labels"), JSON_COMPACT);
        assert_non_null(strstr(labels, "{\"key\":\"team\",\"value\":\"it\"}"));
        assert_non_null(strstr(labels, "{\"key\":\"source\",\"value\":\"poll\"}"));
        free(labels);
        json_decref(ex);
    }
    json_decref(all);
    /* the row as the triggers API shows it: a next poll date after its last evaluation */
    json_t *row = trigger_row(f->port, "poll_ok");
    int64_t date = 0, next = 0;
    assert_int_equal(kt_time_parse(json_string_value(json_object_get(row, "date")), &date), 0);
    assert_int_equal(kt_time_parse(json_string_value(json_object_get(row, "nextExecutionDate")), &next), 0);
    assert_true(next > date);
    json_decref(row);
}

static void test_stop_after(void **state)
{
    fixture *f = *state;
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "id: poll_once\nnamespace: company.team\ntasks:\n"
             "  - id: show\n    type: io.kestra.plugin.core.debug.Return\n    format: \"{{ trigger.body }}\"\n"
             "triggers:\n  - id: http\n    type: io.kestra.plugin.fs.http.Trigger\n"
             "    uri: http://127.0.0.1:%d/count/poll_once/200\n    interval: PT1S\n    stopAfter:\n      - SUCCESS\n",
             port);
    kt_it_create_flow(f->port, yaml, NULL);
    json_t *all = wait_ended(f->port, "poll_once", 1, 15000);
    assert_int_equal(json_array_size(all), 1);
    json_decref(all);
    json_t *row = NULL;
    for (int i = 0; i < 50; i++) { /* the row is disabled when the execution's end is heard */
        json_decref(row);
        row = trigger_row(f->port, "poll_once");
        if (json_is_true(json_object_get(row, "disabled")))
            break;
        kt_it_sleep_ms(100);
    }
    assert_true(json_is_true(json_object_get(row, "disabled")));
    json_decref(row);
    int before = hits("poll_once");
    kt_it_sleep_ms(2500);
    assert_int_equal(hits("poll_once"), before);
    all = executions_of(f->port, "poll_once");
    assert_int_equal(json_array_size(all), 1);
    json_decref(all);
}

/* Nothing starts, the polls go on: a false responseCondition, a 500 under the default `statusCode < 400`, and a
 * server that does not answer (an evaluation error: logged, nothing started, the next poll at its date). */
static void test_no_execution_but_polling_goes_on(void **state)
{
    fixture *f = *state;
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "id: poll_never\nnamespace: company.team\ntasks:\n"
             "  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n"
             "triggers:\n  - id: http\n    type: io.kestra.plugin.core.http.Trigger\n"
             "    uri: http://127.0.0.1:%d/count/poll_never/200\n    interval: PT1S\n"
             "    responseCondition: \"{{ response.statusCode == 201 and json(response.body).name == 'poll_never' }}\"\n",
             port);
    kt_it_create_flow(f->port, yaml, NULL);
    snprintf(yaml, sizeof yaml,
             "id: poll_500\nnamespace: company.team\ntasks:\n"
             "  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n"
             "triggers:\n  - id: http\n    type: io.kestra.plugin.core.http.Trigger\n"
             "    uri: http://127.0.0.1:%d/count/poll_500/500\n    interval: PT1S\n",
             port);
    kt_it_create_flow(f->port, yaml, NULL);
    int closed = kt_it_free_port();
    snprintf(yaml, sizeof yaml,
             "id: poll_down\nnamespace: company.team\ntasks:\n"
             "  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n"
             "triggers:\n  - id: http\n    type: io.kestra.plugin.core.http.Trigger\n"
             "    uri: http://127.0.0.1:%d/nothing\n    interval: PT1S\n",
             closed);
    kt_it_create_flow(f->port, yaml, NULL);
    kt_it_sleep_ms(1500);
    json_t *row = trigger_row(f->port, "poll_down");
    int64_t next1 = 0, next2 = 0;
    assert_int_equal(kt_time_parse(json_string_value(json_object_get(row, "nextExecutionDate")), &next1), 0);
    json_decref(row);
    kt_it_sleep_ms(3000);
    row = trigger_row(f->port, "poll_down");
    assert_int_equal(kt_time_parse(json_string_value(json_object_get(row, "nextExecutionDate")), &next2), 0);
    json_decref(row);
    assert_true(next2 >= next1 + 2000000); /* it kept polling after each failure */
    /* one poll a second: at least 3 in 4.5 s, and not more than one per interval */
    int never = hits("poll_never"), five = hits("poll_500");
    if (never < 3 || five < 3)
        kt_it_dump_log(&f->server);
    assert_true(never >= 3 && never <= 6);
    assert_true(five >= 3 && five <= 6);
    /* the unreachable server's polls failed in the worker and were logged so, with curl's reason */
    size_t len = 0;
    FILE *lf = fopen(f->server.log_path, "r");
    assert_non_null(lf);
    char *log = NULL;
    assert_true(getdelim(&log, &len, '\0', lf) > 0);
    fclose(lf);
    const char *line = strstr(log, "trigger 'http' of company.team.poll_down: [date: ");
    assert_non_null(line);
    const char *eol = strchr(line, '\n');
    const char *why = strstr(line, "Trigger evaluation failed in the worker with error: ");
    assert_true(why && (!eol || why < eol));
    assert_null(strstr(log, "of company.team.poll_500: [date: ")); /* an answer, even a 500, is no failure */
    free(log);
    const char *flows[] = {"poll_never", "poll_500", "poll_down"};
    for (size_t i = 0; i < 3; i++) {
        json_t *all = executions_of(f->port, flows[i]);
        if (json_array_size(all))
            fail_msg("%s started %zu execution(s)", flows[i], json_array_size(all));
        json_decref(all);
    }
}

/* An evaluation in flight when the process dies does not hold the trigger until its limit: the restarted scheduler
 * clears the mark its predecessor left and polls again at once. */
/* The trigger's `conditions` are checked by the scheduler before any request: false, no request at all; failing to
 * evaluate, a FAILED execution (Kestra's "Unable to evaluate the trigger") and, with stopAfter FAILED, the end. */
static void test_trigger_conditions(void **state)
{
    fixture *f = *state;
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "id: poll_cond_false\nnamespace: company.team\ntasks:\n"
             "  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n"
             "triggers:\n  - id: http\n    type: io.kestra.plugin.core.http.Trigger\n"
             "    uri: http://127.0.0.1:%d/count/poll_cond_false/200\n    interval: PT1S\n"
             "    conditions:\n      - type: io.kestra.plugin.core.condition.Expression\n"
             "        expression: \"{{ flow.id == 'another' }}\"\n",
             port);
    kt_it_create_flow(f->port, yaml, NULL);
    snprintf(yaml, sizeof yaml,
             "id: poll_cond_err\nnamespace: company.team\ntasks:\n"
             "  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n"
             "triggers:\n  - id: http\n    type: io.kestra.plugin.core.http.Trigger\n"
             "    uri: http://127.0.0.1:%d/count/poll_cond_err/200\n    interval: PT1S\n"
             "    stopAfter:\n      - FAILED\n"
             "    conditions:\n      - type: io.kestra.plugin.core.condition.Expression\n"
             "        expression: \"{{ nosuchfunction() }}\"\n",
             port);
    kt_it_create_flow(f->port, yaml, NULL);
    json_t *all = wait_ended(f->port, "poll_cond_err", 1, 10000);
    assert_int_equal(json_array_size(all), 1);
    assert_string_equal(kt_it_state(json_array_get(all, 0)), "FAILED");
    json_decref(all);
    kt_it_sleep_ms(2500);
    all = executions_of(f->port, "poll_cond_err");
    assert_int_equal(json_array_size(all), 1); /* stopAfter FAILED disabled it */
    json_decref(all);
    json_t *row = trigger_row(f->port, "poll_cond_err");
    assert_true(json_is_true(json_object_get(row, "disabled")));
    json_decref(row);
    assert_int_equal(hits("poll_cond_err"), 0);
    assert_int_equal(hits("poll_cond_false"), 0);
    all = executions_of(f->port, "poll_cond_false");
    assert_int_equal(json_array_size(all), 0);
    json_decref(all);
    int64_t date1 = 0, date2 = 0; /* it is looked at every interval all the same */
    row = trigger_row(f->port, "poll_cond_false");
    assert_int_equal(kt_time_parse(json_string_value(json_object_get(row, "date")), &date1), 0);
    json_decref(row);
    kt_it_sleep_ms(2100);
    row = trigger_row(f->port, "poll_cond_false");
    assert_int_equal(kt_time_parse(json_string_value(json_object_get(row, "date")), &date2), 0);
    json_decref(row);
    assert_true(date2 >= date1 + 1000000);
    assert_int_equal(hits("poll_cond_false"), 0);
}

static void test_restart_during_an_evaluation(void **state)
{
    fixture *f = *state;
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "id: poll_slow\nnamespace: company.team\ntasks:\n"
             "  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n"
             "triggers:\n  - id: http\n    type: io.kestra.plugin.core.http.Trigger\n"
             "    uri: http://127.0.0.1:%d/count/poll_slow/200?sleep=30\n    interval: PT1S\n",
             port);
    kt_it_create_flow(f->port, yaml, NULL);
    json_t *row = NULL;
    for (int i = 0; i < 50 && hits("poll_slow") < 1; i++)
        kt_it_sleep_ms(100);
    assert_int_equal(hits("poll_slow"), 1);
    row = trigger_row(f->port, "poll_slow");
    assert_non_null(json_object_get(row, "evaluateRunningDate")); /* one evaluation in flight ... */
    json_decref(row);
    kt_it_sleep_ms(1500);
    assert_int_equal(hits("poll_slow"), 1); /* ... and only one, past the interval */
    kt_it_stop(&f->server, SIGKILL);
    f->server = kt_it_start_server(f->dir, "server2", f->port, NULL);
    for (int i = 0; i < 50 && hits("poll_slow") < 2; i++)
        kt_it_sleep_ms(100);
    if (hits("poll_slow") != 2)
        kt_it_dump_log(&f->server);
    assert_int_equal(hits("poll_slow"), 2);
}

static void test_refused_at_save(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *prop, *needle;
    } cases[] = {
        {"    uri: ftp://127.0.0.1/x\n", "triggers[0].uri"},
        {"    uri: http://127.0.0.1/x\n    interval: PT0S\n", "triggers[0].interval"},
        {"    uri: http://127.0.0.1/x\n    interval: often\n", "triggers[0].interval"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char yaml[512], *body = NULL;
        snprintf(yaml, sizeof yaml,
                 "id: poll_bad\nnamespace: company.team\ntasks:\n"
                 "  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n"
                 "triggers:\n  - id: http\n    type: io.kestra.plugin.core.http.Trigger\n%s",
                 cases[i].prop);
        long code = kt_it_http("POST", f->port, "/api/v1/flows", "application/x-yaml", yaml, &body);
        if (code != 422 || !strstr(body, cases[i].needle))
            fail_msg("case %zu: %ld %s", i, code, body ? body : "");
        free(body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fires_with_the_response, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_stop_after, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_no_execution_but_polling_goes_on, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_trigger_conditions, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_restart_during_an_evaluation, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_refused_at_save, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
