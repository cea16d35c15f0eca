/* ForEachItem through a real server: a FILE of lines cut into batches, one child execution per batch reading its
 * batch with read(), the children's outputs merged into one Ion file that downloads with a line per batch; a server
 * SIGKILLed while the children end still finishes the run after its restart with every batch counted once (the
 * batches that ended while it was away are found in the store and their outputs stored again); a fan-out above
 * KT_FOREACHITEM_MAX_BATCHES fails with a message instead of freezing the executor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "harness.h"

static const char *CHILD = "id: batch\n"
                           "namespace: company.team\n"
                           "inputs:\n"
                           "  - id: items\n"
                           "    type: STRING\n"
                           "tasks:\n"
                           "  - id: r\n"
                           "    type: io.kestra.plugin.core.debug.Return\n"
                           "    format: \"{{ read(inputs.items) | trim }}\"\n"
                           "outputs:\n"
                           "  - id: o\n"
                           "    type: STRING\n"
                           "    value: \"line {{ outputs.r.value }}\"\n";

static const char *PARENT = "id: fan\n"
                            "namespace: company.team\n"
                            "inputs:\n"
                            "  - id: file\n"
                            "    type: FILE\n"
                            "tasks:\n"
                            "  - id: each\n"
                            "    type: io.kestra.plugin.core.flow.ForEachItem\n"
                            "    items: \"{{ inputs.file }}\"\n"
                            "    batch:\n"
                            "      rows: 1\n"
                            "    namespace: company.team\n"
                            "    flowId: batch\n"
                            "    inputs:\n"
                            "      items: \"{{ taskrun.items }}\"\n"
                            "  - id: merged\n"
                            "    type: io.kestra.plugin.core.debug.Return\n"
                            "    format: \"{{ outputs.each_merge.subflowOutputs }}\"\n";

/* Starts the parent over `lines` numbered lines; its execution id into out. */
static void start_fan(int port, int lines, char *out, size_t cap)
{
    size_t len = (size_t)lines * 8 + 1;
    char *text = calloc(1, len);
    for (int i = 1; i <= lines; i++)
        snprintf(text + strlen(text), len - strlen(text), "%d\n", i);
    kt_it_resp r;
    long st = kt_it_request("POST", port, "/api/v1/executions/company.team/fan", text, strlen(text), "files", "file",
                            &r);
    free(text);
    assert_int_equal(st, 200);
    json_t *res = json_loads(r.body, 0, NULL);
    free(r.body);
    snprintf(out, cap, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
}

/* The merged outputs downloaded: one Ion record per batch, `{o:"line N"}`, every N from 1 to lines once. */
static void check_merged(int port, const char *exid, json_t *ex, int lines)
{
    const char *uri = json_string_value(json_object_get(json_object_get(kt_it_taskrun(ex, "merged"), "outputs"), "value"));
    assert_non_null(uri);
    char path[1024];
    snprintf(path, sizeof path, "/api/v1/executions/%s/file?path=%s", exid, uri);
    kt_it_resp r;
    assert_int_equal(kt_it_request("GET", port, path, NULL, 0, NULL, NULL, &r), 200);
    char *seen = calloc((size_t)lines + 1, 1);
    int records = 0;
    for (char *line = r.body, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        int n = 0;
        assert_int_equal(sscanf(line, "{o:\"line %d\"}", &n), 1);
        assert_true(n >= 1 && n <= lines);
        assert_false(seen[n]);
        seen[n] = 1;
        records++;
    }
    assert_int_equal(records, lines);
    free(seen);
    free(r.body);
}

static json_t *items_outputs(json_t *ex) { return json_object_get(kt_it_taskrun(ex, "each_items"), "outputs"); }

static void test_fan_out_and_merge(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, CHILD, NULL);
    kt_it_create_flow(f->port, PARENT, NULL);
    char exid[64];
    start_fan(f->port, 40, exid, sizeof exid);
    json_t *ex = kt_it_wait_state(&f->server, f->port, exid, "SUCCESS", 60000);
    json_t *out = items_outputs(ex);
    assert_int_equal(json_integer_value(json_object_get(out, "numberOfBatches")), 40);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "iterations"), "SUCCESS")), 40);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "iterations"), "CREATED")), 0);
    check_merged(f->port, exid, ex, 40);
    json_decref(ex);
}

/* SIGKILL as soon as the first batches have been counted: the restarted server counts the rest, those that ended
 * while it was down included, and the run ends with all of them merged once. */
static void test_restart_while_batches_end(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, CHILD, NULL);
    kt_it_create_flow(f->port, PARENT, NULL);
    char exid[64];
    const int lines = 300;
    start_fan(f->port, lines, exid, sizeof exid);
    for (int waited = 0; waited < 30000; waited += 20) {
        json_t *ex = kt_it_get_execution(f->port, exid);
        long done = json_integer_value(json_object_get(json_object_get(items_outputs(ex), "iterations"), "SUCCESS"));
        json_decref(ex);
        if (done > 0)
            break;
        kt_it_sleep_ms(20);
    }
    kt_it_stop(&f->server, SIGKILL);
    f->server = kt_it_start_server(f->dir, "server", f->port, NULL);
    json_t *ex = kt_it_wait_state(&f->server, f->port, exid, "SUCCESS", 60000);
    json_t *out = items_outputs(ex);
    assert_int_equal(json_integer_value(json_object_get(out, "numberOfBatches")), lines);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "iterations"), "SUCCESS")), lines);
    check_merged(f->port, exid, ex, lines);
    json_decref(ex);
}

/* More batches than one run may start: the `_items` run fails saying so, and no child is created. */
static void test_too_many_batches(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_create_flow(f->port, CHILD, NULL);
    kt_it_create_flow(f->port, PARENT, NULL);
    char exid[64];
    start_fan(f->port, KT_FOREACHITEM_MAX_BATCHES + 1, exid, sizeof exid);
    json_t *ex = kt_it_wait_state(&f->server, f->port, exid, "FAILED", 120000);
    assert_string_equal(kt_it_state(kt_it_taskrun(ex, "each_items")), "FAILED");
    json_decref(ex);
    json_t *res = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, "/api/v1/executions/search?namespace=company.team&flowId=batch",
                                     NULL, NULL, &res),
                     200);
    assert_int_equal(json_integer_value(json_object_get(res, "total")), 0);
    json_decref(res);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/logs/%s", exid);
    json_t *logs = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &logs), 200);
    int said = 0;
    size_t i;
    json_t *l;
    json_array_foreach(logs, i, l) said |= strstr(json_string_value(json_object_get(l, "message")), "use bigger batches") != NULL;
    json_decref(logs);
    assert_true(said);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fan_out_and_merge, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_restart_while_batches_end, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_too_many_batches, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
