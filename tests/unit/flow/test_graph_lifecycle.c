/* Kestra 1.x's FlowGraph additions (GraphUtils.fillAlternativePaths): a cluster's finally and afterExecution nodes
 * (GraphClusterFinally, GraphClusterAfterExecution), the tasks and errors leading to finally, finally to
 * afterExecution, afterExecution to the end, each branch's tasks with their branchType; absent lists leave the 0.21
 * graph. Start, end, finally and afterExecution ids come from a counter, in that order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/graph.h"
#include "flow/yaml.h"

static void counter_id(void *ud, char *out, size_t cap)
{
    int *n = ud;
    snprintf(out, cap, "id%d", (*n)++);
}

static json_t *graph_of(const char *yaml)
{
    kt_diags d;
    kt_diags_init(&d);
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    assert_int_equal(kt_yaml_load(yaml, strlen(yaml), "g.yml", &docs, &n, &d), KT_OK);
    int counter = 0, status = 0;
    char err[256];
    kt_graph_opts o = {.next_id = counter_id, .id_ud = &counter};
    json_t *g = kt_graph_flow(kt_yaml_doc_root(docs[0]), &o, &status, err, sizeof err);
    assert_non_null(g);
    kt_yaml_docs_free(docs, n);
    kt_diags_clear(&d);
    return g;
}

static const json_t *node(const json_t *g, const char *uid)
{
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(g, "nodes"), i, n) if (!strcmp(json_string_value(json_object_get(n, "uid")), uid))
        return n;
    return NULL;
}

/* The edge source -> target ("" relationType/value = absent); fails when missing. */
static void edge(const json_t *g, const char *s, const char *t, const char *rel, const char *value)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(g, "edges"), i, e) {
        if (strcmp(json_string_value(json_object_get(e, "source")), s) ||
            strcmp(json_string_value(json_object_get(e, "target")), t))
            continue;
        json_t *r = json_object_get(e, "relation");
        const char *gr = json_string_value(json_object_get(r, "relationType")),
                   *gv = json_string_value(json_object_get(r, "value"));
        assert_string_equal(gr ? gr : "", rel);
        assert_string_equal(gv ? gv : "", value);
        return;
    }
    char *dump = json_dumps(json_object_get(g, "edges"), JSON_INDENT(1));
    fail_msg("no edge %s -> %s in %s", s, t, dump);
}

static const char *type_of(const json_t *n)
{
    const char *t = json_string_value(json_object_get(n, "type"));
    return t + strlen("io.kestra.core.models.hierarchies.");
}


static void test_flow_finally_after_execution(void **state)
{
    (void)state;
    json_t *g = graph_of("id: f\nnamespace: n\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n"
                         "    message: m\nerrors:\n  - id: e\n    type: io.kestra.plugin.core.log.Log\n    message: m\n"
                         "finally:\n  - id: f1\n    type: io.kestra.plugin.core.log.Log\n    message: m\n"
                         "  - id: f2\n    type: io.kestra.plugin.core.log.Log\n    message: m\n"
                         "afterExecution:\n  - id: x\n    type: io.kestra.plugin.core.log.Log\n    message: m\n");
    assert_string_equal(type_of(node(g, "root.finally-id2")), "GraphClusterFinally");
    assert_string_equal(type_of(node(g, "root.after-execution-id3")), "GraphClusterAfterExecution");
    edge(g, "root.id0", "root.a", "", "");
    edge(g, "root.a", "root.finally-id2", "", "");
    edge(g, "root.id0", "root.e", "ERROR", "");
    edge(g, "root.e", "root.finally-id2", "", "");
    edge(g, "root.finally-id2", "root.f1", "", "");
    edge(g, "root.f1", "root.f2", "FINALLY", "");
    edge(g, "root.f2", "root.after-execution-id3", "", "");
    edge(g, "root.after-execution-id3", "root.x", "", "");
    edge(g, "root.x", "root.id1", "", "");
    const json_t *f1 = node(g, "root.f1"), *x = node(g, "root.x");
    assert_string_equal(json_string_value(json_object_get(f1, "branchType")), "FINALLY");
    assert_string_equal(json_string_value(json_object_get(f1, "relationType")), "FINALLY");
    assert_string_equal(json_string_value(json_object_get(x, "branchType")), "AFTER_EXECUTION");
    assert_null(json_object_get(node(g, "root.a"), "branchType"));
    /* start, end, finally, afterExecution, a, e, f1, f2, x; 9 edges */
    assert_int_equal(json_array_size(json_object_get(g, "nodes")), 9);
    assert_int_equal(json_array_size(json_object_get(g, "edges")), 9);
    json_decref(g);

    /* afterExecution alone: the tasks lead to it (removeFinally) */
    g = graph_of("id: f\nnamespace: n\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: m\n"
                 "afterExecution:\n  - id: x\n    type: io.kestra.plugin.core.log.Log\n    message: m\n");
    edge(g, "root.a", "root.after-execution-id2", "", "");
    edge(g, "root.after-execution-id2", "root.x", "", "");
    edge(g, "root.x", "root.id1", "", "");
    assert_int_equal(json_array_size(json_object_get(g, "edges")), 4);
    json_decref(g);
}

/* A flowable's finally (Sequential, Parallel): inside its cluster, after its tasks. */
static void test_flowable_finally(void **state)
{
    (void)state;
    json_t *g = graph_of("id: f\nnamespace: n\ntasks:\n  - id: p\n    type: io.kestra.plugin.core.flow.Parallel\n"
                         "    tasks:\n      - id: a\n        type: io.kestra.plugin.core.log.Log\n        message: m\n"
                         "      - id: b\n        type: io.kestra.plugin.core.log.Log\n        message: m\n"
                         "    finally:\n      - id: c\n        type: io.kestra.plugin.core.log.Log\n        message: m\n");
    /* ids: top start id0, end id1; p's start id2, end id3, finally id4 */
    assert_string_equal(type_of(node(g, "root.p.finally-id4")), "GraphClusterFinally");
    edge(g, "root.p.a", "root.p.finally-id4", "", "");
    edge(g, "root.p.b", "root.p.finally-id4", "", "");
    edge(g, "root.p.finally-id4", "root.p.c", "PARALLEL", "");
    edge(g, "root.p.c", "root.p.id3", "", "");
    json_decref(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow_finally_after_execution),
        cmocka_unit_test(test_flowable_finally),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
