/* Kestra's FlowGraph of a flow (graph.h): GraphUtils.fillGraph / fillGraphDag and the flowables' tasksTree, ported
 * for a graph without an execution (one "task run" per task: none). */
#include "flow/graph.h"

#include "base/alloc.h"
#include "flow/flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KG_UID 512
#define KG_PKG "io.kestra.core.models.hierarchies."
#define KG_CORE "io.kestra.plugin.core.flow."

enum { KG_TASK, KG_SUBFLOW, KG_TRIGGER, KG_ROOT, KG_END, KG_CLUSTER, KG_SUBFLOW_CLUSTER, KG_FINALLY, KG_AFTER };

typedef struct kg_cluster kg_cluster;

typedef struct kg_node {
    int kind;
    char uid[KG_UID];    /* a cluster's without "cluster_" */
    const json_t *task;  /* borrowed task, or trigger declaration */
    const json_t *state; /* a trigger's context, borrowed */
    const char *rel;     /* relationType, NULL = none */
    const char *branch;  /* branchType of a finally or afterExecution task (Kestra 1.x), NULL otherwise */
    int error;
    kg_cluster *c; /* KG_CLUSTER */
} kg_node;

typedef struct kg_edge {
    kg_node *s, *t;
    const char *rel, *value;
} kg_edge;

struct kg_cluster {
    kg_node **nodes;
    size_t n, cap;
    kg_edge *edges;
    size_t ne, ecap;
    kg_node *self, *root, *end, *task_node;
    kg_node *fin, *after; /* GraphClusterFinally / GraphClusterAfterExecution, only when the lists are not empty */
    const char *rel;
};

typedef struct kg {
    kg_node **all; /* every node, for freeing */
    size_t n, cap;
    json_t *keep; /* synthesized tasks (ForEachItem's parts), loaded subflows */
    const kt_graph_opts *o;
    int status; /* an expansion refused: Kestra's status, why in err */
    char err[512];
    int depth;
} kg;

static kg_node *kg_node_new(kg *g, int kind, const char *uid)
{
    kg_node *n = kt_xmalloc(sizeof *n);
    memset(n, 0, sizeof *n);
    n->kind = kind;
    snprintf(n->uid, sizeof n->uid, "%s", uid);
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 32;
        g->all = kt_xrealloc(g->all, g->cap * sizeof *g->all);
    }
    g->all[g->n++] = n;
    return n;
}

static void kg_add_node(kg_cluster *c, kg_node *n)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->nodes[i] == n)
            return;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 8;
        c->nodes = kt_xrealloc(c->nodes, c->cap * sizeof *c->nodes);
    }
    c->nodes[c->n++] = n;
}

/* Guava's graph adds an edge's ends as nodes of this graph (another cluster's start or end among them). */
static void kg_add_edge(kg_cluster *c, kg_node *s, kg_node *t, const char *rel, const char *value)
{
    kg_add_node(c, s);
    kg_add_node(c, t);
    if (c->ne == c->ecap) {
        c->ecap = c->ecap ? 2 * c->ecap : 8;
        c->edges = kt_xrealloc(c->edges, c->ecap * sizeof *c->edges);
    }
    c->edges[c->ne++] = (kg_edge){s, t, rel, value};
}

/* new GraphCluster(path) with its start and end, and (for a flowable) its task node linked from the start. */
static kg_node *kg_cluster_new(kg *g, const char *path, const char *rel, const json_t *task)
{
    kg_node *self = kg_node_new(g, KG_CLUSTER, path);
    kg_cluster *c = kt_xmalloc(sizeof *c);
    memset(c, 0, sizeof *c);
    self->c = c;
    self->rel = rel;
    c->self = self;
    c->rel = rel;
    char id[64], uid[KG_UID];
    g->o->next_id(g->o->id_ud, id, sizeof id);
    snprintf(uid, sizeof uid, "%s.%s", path, id);
    c->root = kg_node_new(g, KG_ROOT, uid);
    g->o->next_id(g->o->id_ud, id, sizeof id);
    snprintf(uid, sizeof uid, "%s.%s", path, id);
    c->end = kg_node_new(g, KG_END, uid);
    kg_add_node(c, c->root);
    kg_add_node(c, c->end);
    if (task) {
        c->task_node = kg_node_new(g, KG_TASK, path);
        c->task_node->task = task;
        c->task_node->rel = rel;
        kg_add_node(c, c->task_node);
        kg_add_edge(c, c->root, c->task_node, NULL, NULL);
    }
    return self;
}

/* updateErrorWithChildren(true): a cluster marks itself, its task node, start and end (not its children). */
static void kg_mark_error(kg_node *n)
{
    n->error = 1;
    if (n->c) {
        if (n->c->task_node)
            n->c->task_node->error = 1;
        n->c->root->error = 1;
        n->c->end->error = 1;
    }
}

/* updateWithChildren(branchType) of a finally or afterExecution task: a cluster marks itself, its task node, start
 * and end. */
static void kg_mark_branch(kg_node *n, const char *branch)
{
    n->branch = branch;
    if (n->c) {
        if (n->c->task_node)
            n->c->task_node->branch = branch;
        n->c->root->branch = branch;
        n->c->end->branch = branch;
    }
}

static kg_node *kg_target(kg_node *n) { return n->c ? n->c->root : n; }
static kg_node *kg_exit(kg_node *n) { return n->c ? n->c->end : n; }

static int kg_is(const char *type, const char *name)
{
    return type && !strncmp(type, KG_CORE, strlen(KG_CORE)) && !strcmp(type + strlen(KG_CORE), name);
}

static kg_node *kg_task_tree(kg *g, const char *path, const json_t *task, const char *rel, int in_dag);
static void kg_fill(kg *g, kg_cluster *c, const json_t *tasks, const char *rel, const char *value);
static void kg_fill_dag(kg *g, kg_cluster *c, const json_t *tasks);

/* The cluster's finally and afterExecution nodes (Kestra 1.x's GraphCluster): made only for lists that are not empty,
 * as GraphUtils.removeFinally / removeAfterExecution take them out otherwise, so a graph without them is 0.21's. */
static void kg_prepare(kg *g, kg_cluster *c, const json_t *fin, const json_t *after)
{
    char id[64], uid[KG_UID];
    if (json_array_size(fin)) {
        g->o->next_id(g->o->id_ud, id, sizeof id);
        snprintf(uid, sizeof uid, "%.400s.finally-%s", c->self->uid, id);
        c->fin = kg_node_new(g, KG_FINALLY, uid);
        kg_add_node(c, c->fin);
    }
    if (json_array_size(after)) {
        g->o->next_id(g->o->id_ud, id, sizeof id);
        snprintf(uid, sizeof uid, "%.400s.after-execution-%s", c->self->uid, id);
        c->after = kg_node_new(g, KG_AFTER, uid);
        kg_add_node(c, c->after);
    }
}

/* GraphUtils.fillAlternativePaths: errors, then finally, then afterExecution. */
static void kg_alternatives(kg *g, kg_cluster *c, const json_t *errors, const json_t *fin, const json_t *after)
{
    if (json_array_size(errors))
        kg_fill(g, c, errors, "ERROR", NULL);
    if (json_array_size(fin))
        kg_fill(g, c, fin, "FINALLY", NULL);
    if (json_array_size(after))
        kg_fill(g, c, after, "AFTER_EXECUTION", NULL);
}

/* GraphUtils.iterate: the tasks, then the errors, finally and afterExecution. */
static void kg_iterate(kg *g, kg_cluster *c, const json_t *tasks, const json_t *errors, const json_t *fin,
                       const json_t *after, const char *rel)
{
    kg_prepare(g, c, fin, after);
    kg_fill(g, c, tasks, rel, NULL);
    kg_alternatives(g, c, errors, fin, after);
}

/* ForEachItem.getTasks(): its split, the subflow executions, the merge of their outputs. */
static json_t *kg_foreachitem_parts(kg *g, const json_t *task)
{
    const char *id = json_string_value(json_object_get(task, "id"));
    char a[KG_UID], b[KG_UID], m[KG_UID];
    snprintf(a, sizeof a, "%s_split", id);
    snprintf(b, sizeof b, "%s_items", id);
    snprintf(m, sizeof m, "%s_merge", id);
    json_t *parts = json_pack("[{s:s, s:s, s:O*, s:O*}, {s:s, s:s, s:O*, s:O*}, {s:s, s:s}]", "id", a, "type",
                              KG_CORE "ForEachItem$ForEachItemSplit", "items", json_object_get(task, "items"), "batch",
                              json_object_get(task, "batch"), "id", b, "type",
                              KG_CORE "ForEachItem$ForEachItemExecutable", "namespace",
                              json_object_get(task, "namespace"), "flowId", json_object_get(task, "flowId"), "id", m,
                              "type", KG_CORE "ForEachItem$ForEachItemMergeOutputs");
    json_array_append_new(g->keep, parts);
    return parts;
}

static int kg_in(const json_t *strings, const char *s)
{
    size_t i;
    json_t *x;
    json_array_foreach(strings, i, x) if (s && !strcmp(json_string_value(x), s)) return 1;
    return 0;
}

static void kg_of(kg *g, kg_cluster *c, const json_t *flow, const json_t *triggers_state);

/* GraphService's TaskToClusterReplacer: the Subflow node sub becomes a SubflowGraphCluster of the same uid, its task
 * node first, then the child flow's graph; the edges that reached the node reach its start, those leaving it its end
 * (kg_target/kg_exit, as the node is replaced before it is linked). On a refusal g->status is set and sub stays. */
static kg_node *kg_expand(kg *g, kg_node *sub)
{
    const char *ns = json_string_value(json_object_get(sub->task, "namespace"));
    const char *id = json_string_value(json_object_get(sub->task, "flowId"));
    const char *task_id = json_string_value(json_object_get(sub->task, "id"));
    json_t *rev = json_object_get(sub->task, "revision");
    if (g->status || g->depth > 16) /* a subflow calling itself: expansion stops there */
        return sub;
    if (!ns || !id || strstr(ns, "{{") || strstr(id, "{{")) {
        g->status = 422;
        snprintf(g->err, sizeof g->err,
                 "Can't expand subflow task '%s' because namespace and/or flowId contains dynamic values. This can "
                 "only be viewed on an execution.",
                 task_id ? task_id : "");
        return sub;
    }
    int revision = json_is_integer(rev) ? (int)json_integer_value(rev) : 0;
    json_t *child = g->o->load ? g->o->load(g->o->load_ud, ns, id, revision) : NULL;
    if (!child) {
        g->status = 404;
        if (revision)
            snprintf(g->err, sizeof g->err, "Unable to find subflow %s_%s_%d for task %s", ns, id, revision,
                     task_id ? task_id : "");
        else
            snprintf(g->err, sizeof g->err, "Unable to find subflow %s_%s for task %s", ns, id, task_id ? task_id : "");
        return sub;
    }
    json_array_append_new(g->keep, child);
    kg_node *self = kg_cluster_new(g, sub->uid, "SEQUENTIAL", NULL);
    self->kind = KG_SUBFLOW_CLUSTER;
    kg_cluster *c = self->c;
    c->task_node = sub; /* the SubflowGraphTask keeps its uid: the cluster is "cluster_" + it */
    kg_add_node(c, sub);
    kg_add_edge(c, c->root, sub, NULL, NULL);
    g->depth++;
    kg_of(g, c, child, NULL);
    g->depth--;
    return self;
}

/* A task as a node: flowables as clusters (their tasksTree), a Subflow as a SubflowGraphTask, others a GraphTask
 * (rel: the fillGraph relation, which a GraphTask keeps). In a Dag a subflow stays a GraphTask, as fillGraphDag
 * builds it. */
static kg_node *kg_task_tree(kg *g, const char *path, const json_t *task, const char *rel, int in_dag)
{
    const char *raw = json_string_value(json_object_get(task, "type"));
    const char *type = raw ? kt_task_canonical_type(raw) : "";
    const json_t *tasks = json_object_get(task, "tasks"), *errors = json_object_get(task, "errors");
    const json_t *fin = json_object_get(task, "finally");
    kg_node *n;
    if (kg_is(type, "Sequential") || kg_is(type, "WorkingDirectory") || kg_is(type, "AllowFailure") ||
        kg_is(type, "WaitFor") || kg_is(type, "LoopUntil") || (kg_is(type, "Pause") && json_array_size(tasks))) {
        n = kg_cluster_new(g, path, "SEQUENTIAL", task);
        kg_iterate(g, n->c, tasks, errors, fin, NULL, "SEQUENTIAL");
    } else if (kg_is(type, "ForEachItem")) {
        n = kg_cluster_new(g, path, "SEQUENTIAL", task);
        kg_iterate(g, n->c, kg_foreachitem_parts(g, task), errors, fin, NULL, "SEQUENTIAL");
    } else if (kg_is(type, "Parallel")) {
        n = kg_cluster_new(g, path, "PARALLEL", task);
        kg_iterate(g, n->c, tasks, errors, fin, NULL, "PARALLEL");
    } else if (kg_is(type, "EachSequential") || kg_is(type, "EachParallel") || kg_is(type, "ForEach") ||
               kg_is(type, "Loop")) {
        json_t *limit = json_object_get(task, "concurrencyLimit");
        /* Loop.tasksTree: its groups run concurrently, never the tasks in a group: always sequential */
        int sequential = kg_is(type, "EachSequential") || kg_is(type, "Loop") ||
                         (kg_is(type, "ForEach") && (!limit || (json_is_integer(limit) && json_integer_value(limit) == 1)));
        n = kg_cluster_new(g, path, "DYNAMIC", task);
        kg_iterate(g, n->c, tasks, errors, fin, NULL, sequential ? "SEQUENTIAL" : "PARALLEL");
    } else if (kg_is(type, "If")) {
        n = kg_cluster_new(g, path, "CHOICE", task);
        kg_prepare(g, n->c, fin, NULL);
        kg_fill(g, n->c, json_object_get(task, "then"), "SEQUENTIAL", "then");
        if (json_object_get(task, "else"))
            kg_fill(g, n->c, json_object_get(task, "else"), "SEQUENTIAL", "else");
        kg_alternatives(g, n->c, errors, fin, NULL);
    } else if (kg_is(type, "Switch")) {
        n = kg_cluster_new(g, path, "CHOICE", task);
        kg_prepare(g, n->c, fin, NULL);
        if (json_object_get(task, "defaults"))
            kg_fill(g, n->c, json_object_get(task, "defaults"), "SEQUENTIAL", "defaults");
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(task, "cases"), k, v) kg_fill(g, n->c, v, "SEQUENTIAL", k);
        kg_alternatives(g, n->c, errors, fin, NULL);
    } else if (kg_is(type, "Dag")) {
        n = kg_cluster_new(g, path, "DYNAMIC", task);
        kg_prepare(g, n->c, fin, NULL);
        kg_fill_dag(g, n->c, tasks);
        kg_alternatives(g, n->c, errors, fin, NULL);
    } else {
        int subflow = !in_dag && (kg_is(type, "Subflow") || kg_is(type, "ForEachItem$ForEachItemExecutable"));
        n = kg_node_new(g, subflow ? KG_SUBFLOW : KG_TASK, path);
        n->task = task;
        n->rel = kg_is(type, "Pause") ? "SEQUENTIAL" : rel;
        if (subflow && kg_in(g->o->expand, path))
            n = kg_expand(g, n);
    }
    return n;
}

static void kg_child_path(const kg_cluster *c, const json_t *task, char *out, size_t cap)
{
    const char *id = json_string_value(json_object_get(task, "id"));
    if (snprintf(out, cap, "%s.%s", c->self->uid, id ? id : "null") >= (int)cap)
        out[cap - 1] = 0; /* a path past KG_UID is cut: ids are at most 100 characters, nesting rarely deep */
}

/* Where a branch's last task leads: afterExecution to the end, finally to afterExecution (or the end), the others to
 * finally (or afterExecution, or the end): GraphUtils.fillGraph's nextEdge once the absent nodes were removed. */
static kg_node *kg_next(const kg_cluster *c, const char *rel)
{
    if (!strcmp(rel, "AFTER_EXECUTION"))
        return c->end;
    if (!strcmp(rel, "FINALLY"))
        return c->after ? c->after : c->end;
    return c->fin ? c->fin : c->after ? c->after : c->end;
}

/* GraphUtils.fillGraph without an execution. */
static void kg_fill(kg *g, kg_cluster *c, const json_t *tasks, const char *rel, const char *value)
{
    kg_node *previous = c->task_node ? c->task_node : c->root;
    kg_node *next = kg_next(c, rel);
    const char *branch = NULL;
    if (!strcmp(rel, "FINALLY")) {
        previous = c->fin;
        branch = "FINALLY";
    } else if (!strcmp(rel, "AFTER_EXECUTION")) {
        previous = c->after;
        branch = "AFTER_EXECUTION";
    }
    int first = 1, all_to_end = !strcmp(rel, "PARALLEL") || !strcmp(rel, "CHOICE");
    size_t count = json_array_size(tasks);
    for (size_t i = 0; i < count; i++) {
        const json_t *task = json_array_get(tasks, i);
        const char *edge_rel = c->rel;
        if (!strcmp(rel, "ERROR"))
            edge_rel = rel;
        else if (!first && strcmp(rel, "PARALLEL") && !(c->rel && !strcmp(c->rel, "DYNAMIC")))
            edge_rel = rel;
        char path[KG_UID];
        kg_child_path(c, task, path, sizeof path);
        kg_node *cur = kg_task_tree(g, path, task, rel, 0);
        kg_add_node(c, cur);
        if (!strcmp(rel, "ERROR")) {
            kg_mark_error(cur);
            if (first)
                previous = c->root;
        }
        if (branch)
            kg_mark_branch(cur, branch);
        kg_add_edge(c, kg_exit(previous), kg_target(cur), edge_rel, value);
        if (strcmp(rel, "PARALLEL"))
            previous = cur;
        if (all_to_end)
            kg_add_edge(c, kg_exit(cur), next, NULL, NULL);
        first = 0;
        if (i + 1 == count && !all_to_end)
            kg_add_edge(c, kg_exit(cur), next, NULL, NULL);
    }
}

/* GraphUtils.fillGraphDag: tasks placed once their dependencies are, linked from them (or from the start). */
static void kg_fill_dag(kg *g, kg_cluster *c, const json_t *tasks)
{
    json_t *created = json_array(), *deps = json_array();
    kg_node **task_nodes = kt_xmalloc((json_array_size(tasks) + 1) * sizeof *task_nodes);
    size_t ntask_nodes = 0, i;
    json_t *dt;
    json_array_foreach(tasks, i, dt) {
        size_t k;
        json_t *d;
        json_array_foreach(json_object_get(dt, "dependsOn"), k, d) if (!kg_in(deps, json_string_value(d)))
            json_array_append(deps, d);
    }
    kg_node *previous = c->task_node ? c->task_node : c->root;
    while (json_array_size(created) < json_array_size(tasks)) {
        int progress = 0;
        json_array_foreach(tasks, i, dt) {
            const json_t *task = json_object_get(dt, "task"), *depends = json_object_get(dt, "dependsOn");
            const char *id = json_string_value(json_object_get(task, "id"));
            int ready = !kg_in(created, id);
            size_t k;
            json_t *d;
            json_array_foreach(depends, k, d) ready &= kg_in(created, json_string_value(d));
            if (!ready)
                continue;
            char path[KG_UID];
            kg_child_path(c, task, path, sizeof path);
            kg_node *cur = kg_task_tree(g, path, task, "SEQUENTIAL", 1);
            kg_add_node(c, cur);
            if (!depends)
                kg_add_edge(c, previous, kg_target(cur), "PARALLEL", NULL);
            json_array_foreach(depends, k, d) {
                const char *dep = json_string_value(d);
                kg_node *prev = NULL;
                for (size_t t = 0; t < ntask_nodes && !prev; t++)
                    if (!strcmp(json_string_value(json_object_get(task_nodes[t]->task, "id")), dep))
                        prev = task_nodes[t];
                if (prev) {
                    kg_add_edge(c, prev, kg_target(cur), "PARALLEL", NULL);
                    continue;
                }
                size_t dl = strlen(dep);
                for (size_t t = 0; t < c->n; t++) { /* a cluster whose uid ends with the dependency */
                    kg_node *x = c->nodes[t];
                    size_t ul = strlen(x->uid);
                    if (x->c && ul >= dl && !strcmp(x->uid + ul - dl, dep)) {
                        kg_add_edge(c, x->c->end, kg_target(cur), "PARALLEL", NULL);
                        break;
                    }
                }
            }
            if (!kg_in(deps, id))
                kg_add_edge(c, kg_exit(cur), kg_next(c, "PARALLEL"), NULL, NULL);
            if (cur->kind == KG_TASK)
                task_nodes[ntask_nodes++] = cur;
            json_array_append_new(created, json_string(id ? id : ""));
            progress = 1;
        }
        if (!progress) /* a cycle or an unknown dependency: the validator reports it; stop rather than spin */
            break;
    }
    free(task_nodes);
    json_decref(created);
    json_decref(deps);
}

/* ---- the FlowGraph JSON ---------------------------------------------------------------------------------- */

static void kg_uid(const kg_node *n, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", n->c ? "cluster_" : "", n->uid);
}

static json_t *kg_node_json(const kg_node *n)
{
    static const char *const types[] = {KG_PKG "GraphTask",        KG_PKG "SubflowGraphTask", KG_PKG "GraphTrigger",
                                        KG_PKG "GraphClusterRoot", KG_PKG "GraphClusterEnd",  KG_PKG "GraphCluster",
                                        KG_PKG "SubflowGraphCluster", KG_PKG "GraphClusterFinally",
                                        KG_PKG "GraphClusterAfterExecution"};
    char uid[KG_UID + 16];
    kg_uid(n, uid, sizeof uid);
    json_t *j = json_pack("{s:s, s:s, s:b}", "uid", uid, "type", types[n->kind], "error", n->error);
    if (n->branch)
        json_object_set_new(j, "branchType", json_string(n->branch));
    if (n->kind == KG_TASK || n->kind == KG_SUBFLOW) {
        json_object_set_new(j, "task", json_deep_copy(n->task));
        if (n->rel)
            json_object_set_new(j, "relationType", json_string(n->rel));
    } else if (n->kind == KG_TRIGGER) {
        json_object_set_new(j, "triggerDeclaration", json_deep_copy(n->task));
        if (n->state)
            json_object_set_new(j, "trigger", json_deep_copy(n->state));
    } else if (n->c) {
        if (n->rel)
            json_object_set_new(j, "relationType", json_string(n->rel));
        if (n->c->task_node)
            json_object_set_new(j, "taskNode", kg_node_json(n->c->task_node));
    }
    return j;
}

static void kg_nodes(const kg_cluster *c, json_t *out, json_t *seen)
{
    for (size_t i = 0; i < c->n; i++) {
        const kg_node *n = c->nodes[i];
        if (n->c) {
            kg_nodes(n->c, out, seen);
            continue;
        }
        if (json_object_get(seen, n->uid))
            continue;
        json_object_set_new(seen, n->uid, json_true());
        json_array_append_new(out, kg_node_json(n));
    }
}

static void kg_edges(const kg_cluster *c, json_t *out)
{
    for (size_t i = 0; i < c->ne; i++) {
        char s[KG_UID + 16], t[KG_UID + 16];
        kg_uid(c->edges[i].s, s, sizeof s);
        kg_uid(c->edges[i].t, t, sizeof t);
        json_t *rel = json_object();
        if (c->edges[i].rel)
            json_object_set_new(rel, "relationType", json_string(c->edges[i].rel));
        if (c->edges[i].value)
            json_object_set_new(rel, "value", json_string(c->edges[i].value));
        json_array_append_new(out, json_pack("{s:s, s:s, s:o}", "source", s, "target", t, "relation", rel));
    }
    for (size_t i = 0; i < c->n; i++)
        if (c->nodes[i]->c)
            kg_edges(c->nodes[i]->c, out);
}

static void kg_clusters(const kg_cluster *c, const json_t *parents, json_t *out)
{
    for (size_t i = 0; i < c->n; i++) {
        const kg_node *n = c->nodes[i];
        if (!n->c)
            continue;
        json_t *nodes = json_array();
        char uid[KG_UID + 16];
        for (size_t k = 0; k < n->c->n; k++) {
            kg_uid(n->c->nodes[k], uid, sizeof uid);
            json_array_append_new(nodes, json_string(uid));
        }
        json_array_append_new(out, json_pack("{s:o, s:o, s:O, s:s, s:s}", "cluster", kg_node_json(n), "nodes", nodes,
                                             "parents", parents, "start", n->c->root->uid, "end", n->c->end->uid));
        json_t *deeper = json_deep_copy(parents);
        kg_uid(n, uid, sizeof uid);
        json_array_append_new(deeper, json_string(uid));
        kg_clusters(n->c, deeper, out);
        json_decref(deeper);
    }
}

/* GraphUtils.of(graph, flow): the triggers' cluster linked to the start, then the tasks and errors. */
static void kg_of(kg *g, kg_cluster *c, const json_t *flow, const json_t *triggers_state)
{
    const json_t *triggers = json_object_get(flow, "triggers");
    if (json_is_array(triggers)) {
        char path[KG_UID];
        snprintf(path, sizeof path, "%.490s.Triggers", c->self->uid);
        kg_node *tc = kg_cluster_new(g, path, NULL, NULL);
        kg_add_node(c, tc);
        size_t i;
        json_t *t;
        json_array_foreach(triggers, i, t) {
            const char *id = json_string_value(json_object_get(t, "id"));
            char uid[KG_UID];
            if (snprintf(uid, sizeof uid, "%s.%s", path, id ? id : "null") >= (int)sizeof uid)
                uid[sizeof uid - 1] = 0;
            kg_node *n = kg_node_new(g, KG_TRIGGER, uid);
            n->task = t;
            size_t k;
            json_t *st;
            json_array_foreach(triggers_state, k, st) {
                const char *sid = json_string_value(json_object_get(st, "triggerId"));
                if (id && sid && !strcmp(id, sid))
                    n->state = st;
            }
            kg_add_node(tc->c, n);
            kg_add_edge(tc->c, tc->c->root, n, NULL, NULL);
            kg_add_edge(tc->c, n, tc->c->end, NULL, NULL);
        }
        kg_add_edge(c, tc->c->end, c->root, NULL, NULL);
    }
    kg_iterate(g, c, json_object_get(flow, "tasks"), json_object_get(flow, "errors"), json_object_get(flow, "finally"),
               json_object_get(flow, "afterExecution"), "SEQUENTIAL");
}

json_t *kt_graph_flow(const json_t *flow, const kt_graph_opts *o, int *status, char *err, size_t errcap)
{
    kg g = {.o = o, .keep = json_array()};
    kg_node *top = kg_cluster_new(&g, "root", NULL, NULL);
    kg_cluster *c = top->c;
    kg_of(&g, c, flow, o->triggers_state);
    json_t *out = NULL;
    if (g.status) {
        *status = g.status;
        snprintf(err, errcap, "%s", g.err);
    } else {
        json_t *nodes = json_array(), *edges = json_array(), *clusters = json_array(), *seen = json_object(),
               *parents = json_array();
        kg_nodes(c, nodes, seen);
        kg_edges(c, edges);
        kg_clusters(c, parents, clusters);
        json_decref(seen);
        json_decref(parents);
        out = json_pack("{s:o, s:o, s:o}", "nodes", nodes, "edges", edges, "clusters", clusters);
    }
    for (size_t i = 0; i < g.n; i++) {
        if (g.all[i]->c) {
            free(g.all[i]->c->nodes);
            free(g.all[i]->c->edges);
            free(g.all[i]->c);
        }
        free(g.all[i]);
    }
    free(g.all);
    json_decref(g.keep); /* the nodes' JSON holds copies */
    return out;
}
