/* The core task types Kestra 1.x and 2.0 added that Kite lacked (issue 13, WP8), through a real server over HTTP, with
 * the flows of tests/dialects/coretypes/ as users write them, each run in both dialects:
 *   kv.Put          (2.0 docs)      deep merge, keyed JSON-path entries, whole replacement, creation, errorOnMissing;
 *   http.SseRequest (both lines) against tests/http/sse_server.py on 127.0.0.1: events, size, concatJqExpression's
 *                   result, failedOnMissingJq, maxEvents, a failing status and a strict jq failing the task;
 *   metric.Publish  (both lines) its outputs and the metric entries the metrics API shows; metric.PurgeMetrics
 *                   deleting them by flow and by namespace tree;
 *   execution.Kill  (2.x-only type) the current execution killed (running siblings too, nothing after it starts),
 *                   runIf, and propagateKill to a Subflow child (and none without it);
 *   flow.PurgeFlows (2.0 docs)      keepAmount, before, the default behaviour, both forms of the flow filters.
 * Only execution.Kill is a 2.x marker (flow/dialect_markers.c): kv.Put and PurgeFlows may predate 2.0 on the 1.x
 * line, so they do not decide a flow's dialect. The 2.0-documented types run as written (the server's default dialect)
 * and with `dialect: 2.x`; the others with `dialect: 1.x` and `dialect: 2.x`. The behaviour is the same in each:
 * these types have one meaning in both lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "../http/http_server.h"

typedef kt_it_fixture fixture;

#define FLOWS KITE_SOURCE_DIR "/tests/dialects/coretypes/"

/* The two ways each flow runs: a dialect to declare (NULL: none, the server's default) and the id's suffix. */
typedef struct variant {
    const char *dialect;
    const char *suffix;
} variant;
static const variant both_lines[] = {{"1.x", "v1"}, {"2.x", "v2"}};
static const variant v2_only[] = {{NULL, "dflt"}, {"2.x", "v2"}};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sse_port;
static pid_t sse_pid;

/* The flow file with its id suffixed and, when dialect is set, `dialect:` after its namespace (malloc'd). */
static char *flow_variant(const char *file, const variant *v)
{
    char path[512];
    snprintf(path, sizeof path, FLOWS "%s", file);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *src = calloc(1, 65536);
    size_t n = fread(src, 1, 65535, f);
    fclose(f);
    src[n] = 0;
    char *out = calloc(1, n + 256);
    const char *nl = strchr(src, '\n'); /* the first line is `id: ...` */
    assert_true(nl && !strncmp(src, "id: ", 4));
    const char *ns_end = strchr(nl + 1, '\n'); /* the second `namespace: ...` */
    assert_true(ns_end && !strncmp(nl + 1, "namespace: ", 11));
    sprintf(out, "%.*s_%s\n%.*s\n", (int)(nl - src), src, v->suffix, (int)(ns_end - nl - 1), nl + 1);
    if (v->dialect)
        sprintf(out + strlen(out), "dialect: %s\n", v->dialect);
    strcat(out, ns_end + 1);
    free(src);
    return out;
}

static void create(fixture *f, const char *file, const variant *v)
{
    char *yaml = flow_variant(file, v);
    kt_it_create_flow(f->port, yaml, NULL);
    free(yaml);
}

/* Starts flow_<suffix> with the inputs and returns its terminal execution. */
static json_t *run(fixture *f, const char *flow, const variant *v, const char *const *inputs)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/company.team/%s_%s", flow, v->suffix);
    const char *none[] = {NULL};
    json_t *res = NULL;
    assert_int_equal(kt_it_post_form(f->port, path, inputs ? inputs : none, &res), 200);
    char id[64];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_t *ex = kt_it_wait_execution(f->port, id, 30000);
    if (!ex)
        kt_it_dump_log(&f->server);
    assert_non_null(ex);
    return ex;
}

static const json_t *outputs_of(json_t *ex, const char *task_id)
{
    return json_object_get(kt_it_taskrun(ex, task_id), "outputs");
}

static void assert_json(const json_t *got, const char *want)
{
    json_t *w = json_loads(want, JSON_DECODE_ANY, NULL);
    assert_non_null(w);
    if (!json_equal((json_t *)got, w)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        fail_msg("got %s, want %s", g ? g : "NULL", want);
    }
    json_decref(w);
}

/* Whether a line of the execution's logs contains text. */
static int logged(fixture *f, const json_t *ex, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/logs/%s", json_string_value(json_object_get(ex, "id")));
    json_t *logs = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &logs), 200);
    size_t i;
    json_t *l;
    int found = 0;
    json_array_foreach(logs, i, l) {
        const char *m = json_string_value(json_object_get(l, "message"));
        found |= m && strstr(m, text) != NULL;
    }
    json_decref(logs);
    return found;
}

/* ---- kv.Put ---------------------------------------------------------------------------------------------- */

static void test_kv_put(void **state)
{
    fixture *f = *state;
    for (size_t d = 0; d < 2; d++) {
        const variant *v = &v2_only[d];
        create(f, "kv_put.yaml", v);
        json_t *ex = run(f, "kv_put", v, NULL);
        /* the last task asks for a key that is not there with errorOnMissing: the execution fails there */
        assert_string_equal(kt_it_state(ex), "FAILED");
        static const char *const ok[] = {"seed", "merge", "patch", "replace", "created", "get", "get_fresh"};
        for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
            assert_string_equal(kt_it_state(kt_it_taskrun(ex, ok[i])), "SUCCESS");
        assert_json(outputs_of(ex, "merge"), "{}"); /* VoidOutput */
        /* maps deep-merge, keyed entries patch dotted paths (creating the maps on the way), the rest is kept */
        assert_json(json_object_get(outputs_of(ex, "get"), "value"),
                    "{\"name\":\"Ada\",\"address\":{\"city\":\"Paris\",\"zip\":\"75001\"},\"tags\":[\"a\"],"
                    "\"age\":36,\"meta\":{\"source\":\"42\"}}");
        /* a single {value} entry replaces the whole value, a missing key is created */
        assert_json(json_object_get(outputs_of(ex, "get_other"), "value"), "{\"whole\":true}");
        assert_json(json_object_get(outputs_of(ex, "get_fresh"), "value"), "\"new-value\"");
        assert_string_equal(kt_it_state(kt_it_taskrun(ex, "strict")), "FAILED");
        assert_true(logged(f, ex, "No value found for key 'absent' in namespace 'company.team' and `errorOnMissing` "
                                  "is set to true"));
        json_decref(ex);
    }
}

/* ---- http.SseRequest --------------------------------------------------------------------------------------- */

static int sse_setup(void **state)
{
    if (kt_test_http_start(KITE_SOURCE_DIR "/tests/http/sse_server.py", &sse_port, &sse_pid))
        return -1;
    return kt_it_setup(state);
}

static int sse_teardown(void **state)
{
    kt_test_http_stop(sse_pid);
    sse_pid = 0;
    return kt_it_teardown(state);
}

static void test_sse_request(void **state)
{
    fixture *f = *state;
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", sse_port);
    for (size_t d = 0; d < 2; d++) {
        const variant *v = &both_lines[d];
        create(f, "sse.yaml", v);
        const char *inputs[] = {"base", base, NULL};
        json_t *ex = run(f, "sse", v, inputs);
        if (strcmp(kt_it_state(ex), "SUCCESS"))
            kt_it_dump_log(&f->server);
        assert_string_equal(kt_it_state(ex), "SUCCESS");
        /* every event as HttpSseEvent: JSON data parsed, id, name, retry as a Duration, a comment-only event, data
         * lines joined, plain text kept as text */
        const json_t *o = outputs_of(ex, "events");
        char uri[128];
        snprintf(uri, sizeof uri, "%s/events", base);
        assert_string_equal(json_string_value(json_object_get(o, "uri")), uri);
        assert_int_equal(json_integer_value(json_object_get(o, "size")), 4);
        assert_null(json_object_get(o, "result"));
        assert_json(json_object_get(o, "events"),
                    "[{\"data\":{\"message\":\"hello\"},\"id\":\"1\",\"name\":\"greeting\",\"retry\":\"PT2.5S\"},"
                    "{\"comment\":\"a comment line\"},{\"data\":\"first line\\nsecond line\"},"
                    "{\"data\":\"plain text\"}]");
        /* concatJqExpression: the values joined, no events */
        o = outputs_of(ex, "numbers");
        assert_int_equal(json_integer_value(json_object_get(o, "size")), 3);
        assert_json(json_object_get(o, "result"), "\"123\"");
        assert_null(json_object_get(o, "events"));
        /* failedOnMissingJq false: the events without a value are skipped */
        assert_json(json_object_get(outputs_of(ex, "lenient"), "result"), "\"hello\"");
        /* maxEvents closes an endless stream */
        o = outputs_of(ex, "first5");
        assert_int_equal(json_integer_value(json_object_get(o, "size")), 5);
        assert_json(json_object_get(json_array_get(json_object_get(o, "events"), 4), "id"), "\"5\"");
        assert_json(json_object_get(outputs_of(ex, "summary"), "value"), "\"4 123 hello 5\"");
        json_decref(ex);

        /* a failing status, and a strict jq without a value, fail the task */
        create(f, "sse_fail.yaml", v);
        char uri500[128];
        snprintf(uri500, sizeof uri500, "%s/status/500", base);
        const char *bad_status[] = {"uri", uri500, "expr", ".data", NULL};
        ex = run(f, "sse_fail", v, bad_status);
        assert_string_equal(kt_it_state(ex), "FAILED");
        assert_true(logged(f, ex, "Failed http request with response code '500'"));
        json_decref(ex);
        const char *strict[] = {"uri", uri, "expr", ".data.message", NULL};
        ex = run(f, "sse_fail", v, strict);
        assert_string_equal(kt_it_state(ex), "FAILED");
        assert_true(logged(f, ex, "Failed to resolve JQ expression '.data.message'"));
        json_decref(ex);
    }
}

/* ---- metric.Publish ---------------------------------------------------------------------------------------- */

static const json_t *metric_named(const json_t *results, const char *name)
{
    size_t i;
    json_t *m;
    json_array_foreach(results, i, m) if (!strcmp(json_string_value(json_object_get(m, "name")), name)) return m;
    return NULL;
}

static void test_metric_publish(void **state)
{
    fixture *f = *state;
    char published[2][64];
    for (size_t d = 0; d < 2; d++) {
        const variant *v = &both_lines[d];
        create(f, "metric_publish.yaml", v);
        json_t *ex = run(f, "metric_publish", v, NULL);
        snprintf(published[d], sizeof published[d], "%s", json_string_value(json_object_get(ex, "id")));
        assert_string_equal(kt_it_state(ex), "SUCCESS");
        assert_json(json_object_get(outputs_of(ex, "publish"), "metrics"),
                    "[{\"name\":\"orders\",\"type\":\"counter\",\"value\":42.0,\"tags\":{\"project\":\"kestra\"}},"
                    "{\"name\":\"duration\",\"type\":\"timer\",\"value\":\"PT10M\",\"tags\":{}},"
                    "{\"name\":\"level\",\"type\":\"gauge\",\"value\":0.5,\"tags\":{}}]");
        char path[256];
        snprintf(path, sizeof path, "/api/v1/metrics/%s?size=50", json_string_value(json_object_get(ex, "id")));
        json_t *r = NULL;
        assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &r), 200);
        const json_t *res = json_object_get(r, "results");
        assert_int_equal(json_array_size(res), 3);
        assert_true(json_number_value(json_object_get(metric_named(res, "orders"), "value")) == 42.0);
        assert_string_equal(json_string_value(json_object_get(metric_named(res, "orders"), "type")), "counter");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(metric_named(res, "orders"), "tags"), "project")),
            "kestra");
        assert_true(json_number_value(json_object_get(metric_named(res, "duration"), "value")) == 600000.0);
        assert_string_equal(json_string_value(json_object_get(metric_named(res, "duration"), "type")), "timer");
        assert_true(json_number_value(json_object_get(metric_named(res, "level"), "value")) == 0.5);
        assert_string_equal(json_string_value(json_object_get(metric_named(res, "level"), "type")), "gauge");
        json_decref(r);
        json_decref(ex);
    }
    /* PurgeMetrics: one flow's metrics (namespace + flowId), then a namespace and its children: the stored ones go */
    for (size_t d = 0; d < 2; d++) {
        const variant *v = &both_lines[d];
        create(f, "purge_metrics.yaml", v);
        const char *inputs[] = {"flow", "metric_publish_v1", NULL};
        json_t *ex = run(f, "purge_metrics", v, inputs);
        assert_string_equal(kt_it_state(ex), "SUCCESS");
        /* the first run deletes metric_publish_v1's 3, then metric_publish_v2's 3 under company; the second none */
        assert_json(outputs_of(ex, "one_flow"), d == 0 ? "{\"count\":3}" : "{\"count\":0}");
        assert_json(outputs_of(ex, "tree"), d == 0 ? "{\"count\":3}" : "{\"count\":0}");
        json_decref(ex);
    }
    for (size_t d = 0; d < 2; d++) {
        char path[256];
        snprintf(path, sizeof path, "/api/v1/metrics/%s?size=50", published[d]);
        json_t *r = NULL;
        assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &r), 200);
        assert_int_equal(json_array_size(json_object_get(r, "results")), 0);
        json_decref(r);
    }
}

/* ---- execution.Kill ---------------------------------------------------------------------------------------- */

static void test_kill(void **state)
{
    fixture *f = *state;
    for (size_t d = 0; d < 2; d++) {
        const variant *v = &v2_only[d];
        create(f, "kill.yaml", v);
        const char *yes[] = {"shouldKill", "yes", NULL};
        int64_t t0 = mono_ms();
        json_t *ex = run(f, "kill", v, yes);
        if (strcmp(kt_it_state(ex), "KILLED"))
            kt_it_dump_log(&f->server);
        assert_string_equal(kt_it_state(ex), "KILLED");
        assert_string_equal(kt_it_state(kt_it_taskrun(ex, "before")), "SUCCESS");
        assert_string_equal(kt_it_state(kt_it_taskrun(ex, "kill")), "KILLED");
        assert_string_equal(kt_it_state(kt_it_taskrun(ex, "long")), "KILLED"); /* the running sibling stopped */
        assert_null(kt_it_taskrun(ex, "after"));
        assert_true(mono_ms() - t0 < 1900); /* without waiting for the 2 s sleep */
        assert_true(logged(f, ex, "Killing the execution"));
        json_decref(ex);
        /* runIf false: the Kill is SKIPPED and the execution goes on */
        const char *no[] = {"shouldKill", "no", NULL};
        ex = run(f, "kill", v, no);
        assert_string_equal(kt_it_state(ex), "SUCCESS");
        assert_string_equal(kt_it_state(kt_it_taskrun(ex, "kill")), "SKIPPED");
        assert_string_equal(kt_it_state(kt_it_taskrun(ex, "long")), "SUCCESS");
        assert_string_equal(kt_it_state(kt_it_taskrun(ex, "after")), "SUCCESS");
        json_decref(ex);
    }
}

/* propagateKill: the Subflow child started with wait: false is killed too; without it the child runs on. */
static void test_kill_propagate(void **state)
{
    fixture *f = *state;
    static const variant child = {NULL, "c"};
    create(f, "kill_child.yaml", &child);
    for (size_t d = 0; d < 2; d++) {
        const variant *v = &v2_only[d];
        char *yaml = flow_variant("kill_cascade.yaml", v);
        /* the child's id as kill_child.yaml's variant names it */
        char *p = strstr(yaml, "flowId: kill_child");
        assert_non_null(p);
        char *fixed = calloc(1, strlen(yaml) + 8);
        sprintf(fixed, "%.*sflowId: kill_child_c%s", (int)(p - yaml), yaml, p + strlen("flowId: kill_child"));
        kt_it_create_flow(f->port, fixed, NULL);
        free(fixed);
        free(yaml);
        for (int propagate = 1; propagate >= 0; propagate--) {
            const char *inputs[] = {"propagate", propagate ? "yes" : "no", NULL};
            json_t *ex = run(f, "kill_cascade", v, inputs);
            assert_string_equal(kt_it_state(ex), "KILLED");
            assert_string_equal(kt_it_state(kt_it_taskrun(ex, "kill")), "KILLED");
            const char *cid = json_string_value(json_object_get(outputs_of(ex, "child"), "executionId"));
            assert_non_null(cid);
            json_t *c = kt_it_wait_execution(f->port, cid, 15000);
            assert_non_null(c);
            assert_string_equal(kt_it_state(c), propagate ? "KILLED" : "SUCCESS");
            json_decref(c);
            json_decref(ex);
        }
    }
}

/* ---- flow.PurgeFlows --------------------------------------------------------------------------------------- */

/* Saves revisions 1..n of ns.id (each source differs). */
static void save_revisions(fixture *f, const char *ns, const char *id, int n)
{
    for (int i = 1; i <= n; i++) {
        char yaml[512], path[256];
        snprintf(yaml, sizeof yaml,
                 "id: %s\nnamespace: %s\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
                 "    message: revision %d\n",
                 id, ns, i);
        if (i == 1) {
            kt_it_create_flow(f->port, yaml, NULL);
            continue;
        }
        snprintf(path, sizeof path, "/api/v1/flows/%s/%s", ns, id);
        assert_int_equal(kt_it_http("PUT", f->port, path, "application/x-yaml", yaml, NULL), 200);
    }
}

/* The revisions left, as "1,2,3". */
static void assert_revisions(fixture *f, const char *ns, const char *id, const char *want)
{
    char path[256], got[128] = "";
    snprintf(path, sizeof path, "/api/v1/flows/%s/%s/revisions", ns, id);
    json_t *r = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &r), 200);
    size_t i, used = 0;
    json_t *v;
    json_array_foreach(r, i, v) used += (size_t)snprintf(got + used, sizeof got - used, "%s%lld", i ? "," : "",
                                                         (long long)json_integer_value(json_object_get(v, "revision")));
    json_decref(r);
    if (strcmp(got, want))
        fail_msg("%s.%s revisions: got %s, want %s", ns, id, got, want);
}

static void test_purge_flows(void **state)
{
    fixture *f = *state;
    for (size_t d = 0; d < 2; d++) {
        const variant *v = &v2_only[d];
        char ns[64], sub[80], outside[80];
        snprintf(ns, sizeof ns, "company.purge%s", v->suffix);
        snprintf(sub, sizeof sub, "%s.sub", ns);
        snprintf(outside, sizeof outside, "%sx", ns); /* a sibling whose name starts the same: not a child */
        save_revisions(f, ns, "target", 4);
        save_revisions(f, sub, "other_x", 3);
        save_revisions(f, outside, "target", 2);
        create(f, "purge_flows.yaml", v);
        const char *inputs[] = {"ns", ns, NULL};
        json_t *ex = run(f, "purge_flows", v, inputs);
        if (strcmp(kt_it_state(ex), "SUCCESS"))
            kt_it_dump_log(&f->server);
        assert_string_equal(kt_it_state(ex), "SUCCESS");
        /* keepAmount 2 over the namespace and its child: target loses 1 and 2, other_x loses 1 */
        assert_json(outputs_of(ex, "purge"), "{\"size\":3}");
        /* the class's form: namespaces (children included) and a flow-id glob, the default behaviour keeps 1 */
        assert_json(outputs_of(ex, "purge_other"), "{\"size\":1}");
        /* before: every revision saved until now but the latest */
        assert_json(outputs_of(ex, "purge_before"), "{\"size\":1}");
        assert_revisions(f, ns, "target", "4");
        assert_revisions(f, sub, "other_x", "3");
        assert_revisions(f, outside, "target", "1,2");
        /* the flows still run at their latest revision */
        char path[256];
        snprintf(path, sizeof path, "/api/v1/flows/%s/target", ns);
        json_t *flow = NULL;
        assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &flow), 200);
        assert_int_equal(json_integer_value(json_object_get(flow, "revision")), 4);
        json_decref(flow);
        json_decref(ex);
    }
}

/* ---- flow.Approval: known, refused as not supported yet (not "Invalid type") -------------------------------- */

static void test_approval_refused(void **state)
{
    fixture *f = *state;
    char *yaml = flow_variant("approval.yaml", &v2_only[1]);
    char *body = NULL;
    long code = kt_it_http("POST", f->port, "/api/v1/flows", "application/x-yaml", yaml, &body);
    free(yaml);
    assert_int_equal(code, 422);
    assert_non_null(body);
    assert_non_null(strstr(body, "io.kestra.plugin.core.flow.Approval"));
    assert_non_null(strstr(body, "is not supported yet by Kite"));
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kv_put, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_sse_request, sse_setup, sse_teardown),
        cmocka_unit_test_setup_teardown(test_metric_publish, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_kill, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_kill_propagate, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_purge_flows, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_approval_refused, kt_it_setup, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
