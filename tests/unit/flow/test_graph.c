/* Kestra's FlowGraph (GraphUtils) of flow documents: uids, node types, the edges fillGraph draws (sequential chains,
 * parallel branches to the end, If/Switch values, error branches from the start with error: true, Dag dependencies),
 * clusters with their parents, start and end, and the triggers cluster linked to the start. Start and end ids come
 * from a counter. */
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

static void test_sequential_and_errors(void **state)
{
    (void)state;
    json_t *g = graph_of("id: f\nnamespace: n\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n"
                         "    message: m\n  - id: b\n    type: io.kestra.plugin.core.log.Log\n    message: m\n"
                         "errors:\n  - id: e\n    type: io.kestra.plugin.core.log.Log\n    message: m\n");
    /* the top start (id0) and end (id1), then a -> b -> end; the error branch from the start */
    assert_string_equal(type_of(node(g, "root.id0")), "GraphClusterRoot");
    assert_string_equal(type_of(node(g, "root.id1")), "GraphClusterEnd");
    const json_t *a = node(g, "root.a");
    assert_string_equal(type_of(a), "GraphTask");
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "task"), "id")), "a");
    assert_string_equal(json_string_value(json_object_get(a, "relationType")), "SEQUENTIAL");
    assert_false(json_is_true(json_object_get(a, "error")));
    edge(g, "root.id0", "root.a", "", "");
    edge(g, "root.a", "root.b", "SEQUENTIAL", "");
    edge(g, "root.b", "root.id1", "", "");
    edge(g, "root.id0", "root.e", "ERROR", "");
    edge(g, "root.e", "root.id1", "", "");
    assert_true(json_is_true(json_object_get(node(g, "root.e"), "error")));
    assert_int_equal(json_array_size(json_object_get(g, "nodes")), 5);
    assert_int_equal(json_array_size(json_object_get(g, "edges")), 5);
    assert_int_equal(json_array_size(json_object_get(g, "clusters")), 0);
    json_decref(g);
}

static void test_clusters(void **state)
{
    (void)state;
    json_t *g = graph_of(
        "id: f\nnamespace: n\ntriggers:\n  - id: sched\n    type: io.kestra.plugin.core.trigger.Schedule\n"
        "    cron: '* * * * *'\ntasks:\n  - id: par\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n"
        "      - id: p1\n        type: io.kestra.plugin.core.log.Log\n        message: m\n"
        "      - id: seq\n        type: io.kestra.plugin.core.flow.Sequential\n        tasks:\n"
        "          - id: s1\n            type: io.kestra.plugin.core.log.Log\n            message: m\n"
        "  - id: choose\n    type: io.kestra.plugin.core.flow.If\n    condition: '{{ true }}'\n    then:\n"
        "      - id: t1\n        type: io.kestra.plugin.core.log.Log\n        message: m\n    else:\n"
        "      - id: e1\n        type: io.kestra.plugin.core.log.Log\n        message: m\n"
        "  - id: sub\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: n\n    flowId: child\n");
    /* ids in creation order: root 0/1, Triggers 2/3, par 4/5, seq 6/7, choose 8/9 */
    assert_string_equal(type_of(node(g, "root.Triggers.sched")), "GraphTrigger");
    edge(g, "root.Triggers.id2", "root.Triggers.sched", "", "");
    edge(g, "root.Triggers.sched", "root.Triggers.id3", "", "");
    edge(g, "root.Triggers.id3", "root.id0", "", "");
    /* Parallel: start -> task node -> each branch (PARALLEL) -> end */
    edge(g, "root.id0", "root.par.id4", "", "");
    edge(g, "root.par.id4", "root.par", "", "");
    edge(g, "root.par", "root.par.p1", "PARALLEL", "");
    edge(g, "root.par", "root.par.seq.id6", "PARALLEL", "");
    edge(g, "root.par.p1", "root.par.id5", "", "");
    edge(g, "root.par.seq.id7", "root.par.id5", "", "");
    edge(g, "root.par.seq", "root.par.seq.s1", "SEQUENTIAL", "");
    /* the task node of a cluster is a GraphTask with the flowable */
    assert_string_equal(json_string_value(json_object_get(json_object_get(node(g, "root.par"), "task"), "type")),
                        "io.kestra.plugin.core.flow.Parallel");
    /* If: CHOICE then/else values; the next task follows the cluster's end */
    edge(g, "root.par.id5", "root.choose.id8", "SEQUENTIAL", "");
    edge(g, "root.choose", "root.choose.t1", "CHOICE", "then");
    edge(g, "root.choose", "root.choose.e1", "CHOICE", "else");
    edge(g, "root.choose.id9", "root.sub", "SEQUENTIAL", "");
    assert_string_equal(type_of(node(g, "root.sub")), "SubflowGraphTask");
    edge(g, "root.sub", "root.id1", "", "");
    /* clusters: parents, start and end */
    json_t *cl = json_object_get(g, "clusters");
    assert_int_equal(json_array_size(cl), 4);
    int seen_seq = 0;
    size_t i;
    json_t *c;
    json_array_foreach(cl, i, c) {
        const char *uid = json_string_value(json_object_get(json_object_get(c, "cluster"), "uid"));
        if (strcmp(uid, "cluster_root.par.seq"))
            continue;
        seen_seq = 1;
        assert_string_equal(json_string_value(json_array_get(json_object_get(c, "parents"), 0)), "cluster_root.par");
        assert_string_equal(json_string_value(json_object_get(c, "start")), "root.par.seq.id6");
        assert_string_equal(json_string_value(json_object_get(c, "end")), "root.par.seq.id7");
        assert_string_equal(json_string_value(json_object_get(json_object_get(c, "cluster"), "relationType")),
                            "SEQUENTIAL");
        assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(c, "cluster"), "taskNode"),
                                                              "uid")),
                            "root.par.seq");
    }
    assert_true(seen_seq);
    json_decref(g);
}

static void test_dag(void **state)
{
    (void)state;
    json_t *g = graph_of("id: f\nnamespace: n\ntasks:\n  - id: dag\n    type: io.kestra.plugin.core.flow.Dag\n    tasks:\n"
                         "      - task:\n          id: c\n          type: io.kestra.plugin.core.log.Log\n          message: m\n"
                         "        dependsOn: [a, b]\n"
                         "      - task:\n          id: a\n          type: io.kestra.plugin.core.log.Log\n          message: m\n"
                         "      - task:\n          id: b\n          type: io.kestra.plugin.core.log.Log\n          message: m\n"
                         "        dependsOn: [a]\n");
    /* a from the task node, b after a, c after a and b, only c (no one's dependency) to the end */
    edge(g, "root.dag", "root.dag.a", "PARALLEL", "");
    edge(g, "root.dag.a", "root.dag.b", "PARALLEL", "");
    edge(g, "root.dag.a", "root.dag.c", "PARALLEL", "");
    edge(g, "root.dag.b", "root.dag.c", "PARALLEL", "");
    edge(g, "root.dag.c", "root.dag.id3", "", "");
    /* a cycle stops instead of spinning */
    json_t *cyc = graph_of("id: f\nnamespace: n\ntasks:\n  - id: dag\n    type: io.kestra.plugin.core.flow.Dag\n"
                           "    tasks:\n      - task:\n          id: x\n          type: io.kestra.plugin.core.log.Log\n"
                           "          message: m\n        dependsOn: [y]\n      - task:\n          id: y\n"
                           "          type: io.kestra.plugin.core.log.Log\n          message: m\n        dependsOn: [x]\n");
    assert_non_null(cyc);
    json_decref(cyc);
    json_decref(g);
}

static json_t *load_child(void *ud, const char *ns, const char *id, int revision)
{
    (void)ud;
    if (strcmp(ns, "n") || strcmp(id, "child") || revision)
        return NULL;
    const char *src = "id: child\nnamespace: n\ntasks:\n  - id: c1\n    type: io.kestra.plugin.core.log.Log\n"
                      "    message: m\n";
    kt_diags d;
    kt_diags_init(&d);
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    assert_int_equal(kt_yaml_load(src, strlen(src), "c.yml", &docs, &n, &d), KT_OK);
    json_t *root = json_incref(kt_yaml_doc_root(docs[0]));
    kt_yaml_docs_free(docs, n);
    return root;
}

static void test_subflow_expansion(void **state)
{
    (void)state;
    const char *src = "id: f\nnamespace: n\ntasks:\n  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n"
                      "    namespace: n\n    flowId: child\n  - id: after\n    type: io.kestra.plugin.core.log.Log\n"
                      "    message: m\n  - id: dyn\n    type: io.kestra.plugin.core.flow.Subflow\n"
                      "    namespace: n\n    flowId: \"{{ inputs.f }}\"\n";
    kt_diags d;
    kt_diags_init(&d);
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    assert_int_equal(kt_yaml_load(src, strlen(src), "g.yml", &docs, &n, &d), KT_OK);
    int counter = 0, status = 0;
    char err[256];
    json_t *expand = json_pack("[s]", "root.call");
    kt_graph_opts o = {.expand = expand, .load = load_child, .next_id = counter_id, .id_ud = &counter};
    json_t *g = kt_graph_flow(kt_yaml_doc_root(docs[0]), &o, &status, err, sizeof err);
    assert_non_null(g);
    /* the subflow's cluster (ids 2/3): its task node, then the child's task; the next task follows its end */
    edge(g, "root.id0", "root.call.id2", "", "");
    edge(g, "root.call.id2", "root.call", "", "");
    edge(g, "root.call", "root.call.c1", "SEQUENTIAL", "");
    edge(g, "root.call.c1", "root.call.id3", "", "");
    edge(g, "root.call.id3", "root.after", "SEQUENTIAL", "");
    assert_string_equal(type_of(node(g, "root.call")), "SubflowGraphTask");
    json_t *cl = json_array_get(json_object_get(g, "clusters"), 0);
    assert_string_equal(type_of(json_object_get(cl, "cluster")), "SubflowGraphCluster");
    assert_string_equal(json_string_value(json_object_get(json_object_get(cl, "cluster"), "uid")), "cluster_root.call");
    json_decref(g);
    /* a dynamic flowId cannot be expanded, a missing subflow is a 404 */
    json_array_append_new(expand, json_string("root.dyn"));
    counter = 0;
    assert_null(kt_graph_flow(kt_yaml_doc_root(docs[0]), &o, &status, err, sizeof err));
    assert_int_equal(status, 422);
    assert_string_equal(err, "Can't expand subflow task 'dyn' because namespace and/or flowId contains dynamic values. "
                             "This can only be viewed on an execution.");
    o.load = NULL;
    json_array_remove(expand, 1);
    assert_null(kt_graph_flow(kt_yaml_doc_root(docs[0]), &o, &status, err, sizeof err));
    assert_int_equal(status, 404);
    assert_string_equal(err, "Unable to find subflow n_child for task call");
    json_decref(expand);
    kt_yaml_docs_free(docs, n);
    kt_diags_clear(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequential_and_errors),
        cmocka_unit_test(test_clusters),
        cmocka_unit_test(test_dag),
        cmocka_unit_test(test_subflow_expansion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
