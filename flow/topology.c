/* Kestra's flow dependencies (topology.h). */
#include "flow/topology.h"

#include "flow/flow.h"
#include "flow/tasks.h"

#include <stdio.h>
#include <string.h>

#define KT_TOPO_COND "io.kestra.plugin.core.condition."

typedef struct kt_topo_find {
    const char *ns, *id;
    const json_t *root;
    int found;
} kt_topo_find;

/* The node at a validator path ("tasks[0].then[1]") of root. */
static const json_t *kt_topo_at(const json_t *root, const char *path)
{
    const json_t *cur = root;
    const char *p = path;
    while (*p && cur) {
        if (*p == '.')
            p++;
        if (*p == '[') {
            size_t i = 0;
            for (p++; *p >= '0' && *p <= '9'; p++)
                i = i * 10 + (size_t)(*p - '0');
            if (*p++ != ']')
                return NULL;
            cur = json_array_get(cur, i);
            continue;
        }
        char key[256];
        size_t n = strcspn(p, ".[");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = 0;
        cur = json_object_get(cur, key);
        p += n;
    }
    return cur;
}

static void kt_topo_visit(void *ud, const char *path, const char *type, const kt_task_def *d)
{
    kt_topo_find *f = ud;
    const char *t = kt_task_canonical_type(type);
    if (f->found || strcmp(kt_task_kind_name(d), "task") ||
        (strcmp(t, "io.kestra.plugin.core.flow.Subflow") && strcmp(t, "io.kestra.plugin.core.flow.ForEachItem")))
        return;
    const json_t *task = kt_topo_at(f->root, path);
    const char *ns = json_string_value(json_object_get(task, "namespace"));
    const char *id = json_string_value(json_object_get(task, "flowId"));
    f->found = ns && id && !strcmp(ns, f->ns) && !strcmp(id, f->id);
}

static int kt_topo_is(const char *type, const char *name)
{
    size_t l = strlen(KT_TOPO_COND);
    return !strncmp(type, KT_TOPO_COND, l) && !strcmp(type + l, name);
}

/* FlowTopologyService.isFilterCondition. */
static int kt_topo_filter(const char *type)
{
    static const char *const names[] = {"DateTimeBetween", "DayWeek",         "DayWeekInMonth", "ExecutionLabels",
                                        "ExecutionOutputs", "ExecutionStatus", "Expression",     "HasRetryAttempt",
                                        "PublicHoliday",    "TimeBetween",     "Weekend"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (kt_topo_is(type, names[i]))
            return 1;
    return 0;
}

static int kt_topo_cond(const json_t *cond, const char *pns, const char *pid);

/* validateMultipleConditions: any non-filter condition holds (Expression, the one mandatory kind, is a filter). */
static int kt_topo_multiple(const json_t *conditions, const char *pns, const char *pid)
{
    const char *k;
    json_t *c;
    json_object_foreach((json_t *)conditions, k, c) {
        const char *type = json_string_value(json_object_get(c, "type"));
        if (type && !kt_topo_filter(kt_task_canonical_type(type)) && kt_topo_cond(c, pns, pid))
            return 1;
    }
    return 0;
}

static int kt_topo_cond(const json_t *cond, const char *pns, const char *pid)
{
    const char *raw = json_string_value(json_object_get(cond, "type"));
    if (!raw)
        return 0;
    const char *type = kt_task_canonical_type(raw);
    const char *ns = json_string_value(json_object_get(cond, "namespace"));
    const char *fid = json_string_value(json_object_get(cond, "flowId"));
    if (kt_topo_filter(type))
        return 1;
    if (kt_topo_is(type, "MultipleCondition"))
        return kt_topo_multiple(json_object_get(cond, "conditions"), pns, pid);
    if (kt_topo_is(type, "ExecutionFlow") || kt_topo_is(type, "FlowCondition"))
        return ns && fid && !strcmp(ns, pns) && !strcmp(fid, pid);
    if (!ns)
        return 0;
    if (kt_topo_is(type, "ExecutionNamespace")) {
        const char *cmp = json_string_value(json_object_get(cond, "comparison"));
        int prefix = json_is_true(json_object_get(cond, "prefix"));
        if (!cmp)
            cmp = prefix ? "PREFIX" : "EQUALS";
        size_t a = strlen(pns), b = strlen(ns);
        if (!strcmp(cmp, "PREFIX"))
            return !strncmp(pns, ns, b);
        if (!strcmp(cmp, "SUFFIX"))
            return a >= b && !strcmp(pns + a - b, ns);
        return !strcmp(pns, ns);
    }
    if (kt_topo_is(type, "FlowNamespaceCondition"))
        return json_is_true(json_object_get(cond, "prefix")) ? !strncmp(pns, ns, strlen(ns)) : !strcmp(pns, ns);
    return 0;
}

/* Preconditions.getConditions as a multiple condition: the upstream flows (a simulated execution matches on
 * namespace and flowId only); the `where` filters are not evaluated. */
static int kt_topo_preconditions(const json_t *pre, const char *pns, const char *pid)
{
    size_t i;
    json_t *up;
    json_array_foreach(json_object_get(pre, "flows"), i, up) {
        const char *ns = json_string_value(json_object_get(up, "namespace"));
        const char *fid = json_string_value(json_object_get(up, "flowId"));
        if ((!ns || !strcmp(ns, pns)) && (!fid || !strcmp(fid, pid)))
            return 1;
    }
    return 0;
}

static int kt_topo_trigger_child(const json_t *parent, const json_t *child)
{
    const char *pns = json_string_value(json_object_get(parent, "namespace"));
    const char *pid = json_string_value(json_object_get(parent, "id"));
    int any = 0, conditions = 1, preconditions = 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(child, "triggers"), i, t) {
        const char *type = json_string_value(json_object_get(t, "type"));
        if (!type || strcmp(kt_task_canonical_type(type), "io.kestra.plugin.core.trigger.Flow"))
            continue;
        any = 1;
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(t, "conditions"), k, c) conditions &= kt_topo_cond(c, pns, pid);
        if (json_is_object(json_object_get(t, "conditions"))) { /* conditions written as a map */
            const char *key;
            json_object_foreach(json_object_get(t, "conditions"), key, c) conditions &= kt_topo_cond(c, pns, pid);
        }
        json_t *pre = json_object_get(t, "preconditions");
        preconditions |= !pre || json_is_null(pre) || kt_topo_preconditions(pre, pns, pid);
    }
    return any && conditions && preconditions && pns && pid;
}

const char *kt_topology_relation(const json_t *parent, const json_t *child)
{
    const char *pns = json_string_value(json_object_get(parent, "namespace"));
    const char *pid = json_string_value(json_object_get(parent, "id"));
    const char *cns = json_string_value(json_object_get(child, "namespace"));
    const char *cid = json_string_value(json_object_get(child, "id"));
    if (!pns || !pid || !cns || !cid || (!strcmp(pns, cns) && !strcmp(pid, cid)))
        return NULL; /* no self link */
    kt_topo_find f = {.ns = cns, .id = cid, .root = parent};
    kt_task_walk_flow(parent, kt_topo_visit, &f);
    if (f.found)
        return "FLOW_TASK";
    return kt_topo_trigger_child(parent, child) ? "FLOW_TRIGGER" : NULL;
}

static void kt_topo_node(json_t *nodes, json_t *seen, const json_t *flow, char *uid, size_t cap)
{
    const char *ns = json_string_value(json_object_get(flow, "namespace"));
    const char *id = json_string_value(json_object_get(flow, "id"));
    snprintf(uid, cap, "%s_%s", ns, id); /* IdUtils.fromParts(tenant = null, namespace, id) */
    if (json_object_get(seen, uid))
        return;
    json_object_set_new(seen, uid, json_true());
    json_array_append_new(nodes, json_pack("{s:s, s:s, s:s}", "uid", uid, "namespace", ns, "id", id));
}

json_t *kt_topology_graph(const json_t *flows, const char *ns, const char *id, int destination_only)
{
    json_t *nodes = json_array(), *edges = json_array(), *seen = json_object();
    const json_t *self = NULL;
    size_t i;
    json_t *f;
    json_array_foreach(flows, i, f) {
        const char *fns = json_string_value(json_object_get(f, "namespace"));
        const char *fid = json_string_value(json_object_get(f, "id"));
        if (fns && fid && !strcmp(fns, ns) && !strcmp(fid, id))
            self = f;
    }
    if (self) {
        json_array_foreach(flows, i, f) {
            if (f == self)
                continue;
            char a[512], b[512];
            const char *rel = kt_topology_relation(f, self); /* f starts this flow */
            if (rel) {
                kt_topo_node(nodes, seen, f, a, sizeof a);
                kt_topo_node(nodes, seen, self, b, sizeof b);
                json_array_append_new(edges, json_pack("{s:s, s:s, s:s}", "source", a, "target", b, "relation", rel));
            }
            rel = destination_only ? NULL : kt_topology_relation(self, f); /* this flow starts f */
            if (rel) {
                kt_topo_node(nodes, seen, self, a, sizeof a);
                kt_topo_node(nodes, seen, f, b, sizeof b);
                json_array_append_new(edges, json_pack("{s:s, s:s, s:s}", "source", a, "target", b, "relation", rel));
            }
        }
    }
    json_decref(seen);
    return json_pack("{s:o, s:o}", "nodes", nodes, "edges", edges);
}

json_t *kt_topology_namespace_graph(const json_t *flows, const char *ns)
{
    json_t *nodes = json_array(), *edges = json_array(), *seen = json_object();
    size_t i, j;
    json_t *p, *c;
    json_array_foreach(flows, i, p) {
        const char *pns = json_string_value(json_object_get(p, "namespace"));
        json_array_foreach(flows, j, c) {
            const char *cns = json_string_value(json_object_get(c, "namespace"));
            if (p == c || !pns || !cns || (strcmp(pns, ns) && strcmp(cns, ns)))
                continue;
            const char *rel = kt_topology_relation(p, c);
            if (!rel)
                continue;
            char a[512], b[512];
            kt_topo_node(nodes, seen, p, a, sizeof a);
            kt_topo_node(nodes, seen, c, b, sizeof b);
            json_array_append_new(edges, json_pack("{s:s, s:s, s:s}", "source", a, "target", b, "relation", rel));
        }
    }
    json_decref(seen);
    return json_pack("{s:o, s:o}", "nodes", nodes, "edges", edges);
}
