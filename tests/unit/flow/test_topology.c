/* Kestra's flow dependencies: FLOW_TASK through Subflow/ForEachItem at any depth, FLOW_TRIGGER through Flow triggers
 * (conditions on the parent's namespace and id, filter conditions holding, preconditions' upstream flows), no self
 * link, and the graph around one flow with destinationOnly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "flow/topology.h"
#include "flow/yaml.h"

static json_t *load(const char *src)
{
    kt_diags d;
    kt_diags_init(&d);
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    assert_int_equal(kt_yaml_load(src, strlen(src), "t.yml", &docs, &n, &d), KT_OK);
    json_t *root = json_incref(kt_yaml_doc_root(docs[0]));
    kt_yaml_docs_free(docs, n);
    kt_diags_clear(&d);
    return root;
}

#define LOG "    type: io.kestra.plugin.core.log.Log\n    message: m\n"

static void test_relations(void **state)
{
    (void)state;
    json_t *parent = load("id: parent\nnamespace: a.b\ntasks:\n  - id: seq\n    type: io.kestra.plugin.core.flow.Sequential\n"
                          "    tasks:\n      - id: call\n        type: io.kestra.plugin.core.flow.Subflow\n"
                          "        namespace: a.b\n        flowId: child\n");
    json_t *child = load("id: child\nnamespace: a.b\ntasks:\n  - id: t\n" LOG);
    json_t *listener = load("id: listener\nnamespace: c\ntasks:\n  - id: t\n" LOG
                            "triggers:\n  - id: on\n    type: io.kestra.plugin.core.trigger.Flow\n    conditions:\n"
                            "      - type: io.kestra.plugin.core.condition.ExecutionStatus\n        in: [SUCCESS]\n"
                            "      - type: io.kestra.plugin.core.condition.ExecutionNamespace\n        namespace: a.\n"
                            "        comparison: PREFIX\n");
    json_t *upstream = load("id: up\nnamespace: c\ntasks:\n  - id: t\n" LOG
                            "triggers:\n  - id: on\n    type: io.kestra.plugin.core.trigger.Flow\n    preconditions:\n"
                            "      id: p\n      flows:\n        - namespace: a.b\n          flowId: child\n");
    assert_string_equal(kt_topology_relation(parent, child), "FLOW_TASK");
    assert_null(kt_topology_relation(child, parent));
    assert_null(kt_topology_relation(parent, parent));
    /* the namespace prefix condition: every flow of a.* starts the listener */
    assert_string_equal(kt_topology_relation(parent, listener), "FLOW_TRIGGER");
    assert_string_equal(kt_topology_relation(child, listener), "FLOW_TRIGGER");
    assert_null(kt_topology_relation(upstream, listener)); /* namespace c */
    /* preconditions: only the upstream flow named */
    assert_string_equal(kt_topology_relation(child, upstream), "FLOW_TRIGGER");
    assert_null(kt_topology_relation(parent, upstream));

    json_t *all = json_pack("[O, O, O, O]", parent, child, listener, upstream);
    json_t *g = kt_topology_graph(all, "a.b", "child", 0);
    /* parent -> child (task), child -> listener, child -> up (triggers) */
    assert_int_equal(json_array_size(json_object_get(g, "edges")), 3);
    assert_int_equal(json_array_size(json_object_get(g, "nodes")), 4);
    json_t *e0 = json_array_get(json_object_get(g, "edges"), 0);
    assert_string_equal(json_string_value(json_object_get(e0, "source")), "a.b_parent");
    assert_string_equal(json_string_value(json_object_get(e0, "target")), "a.b_child");
    assert_string_equal(json_string_value(json_object_get(e0, "relation")), "FLOW_TASK");
    json_decref(g);
    g = kt_topology_graph(all, "a.b", "child", 1); /* only what starts it */
    assert_int_equal(json_array_size(json_object_get(g, "edges")), 1);
    json_decref(g);
    g = kt_topology_graph(all, "x", "none", 0);
    assert_int_equal(json_array_size(json_object_get(g, "nodes")), 0);
    json_decref(g);
    json_decref(all);
    json_decref(parent);
    json_decref(child);
    json_decref(listener);
    json_decref(upstream);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_relations)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
