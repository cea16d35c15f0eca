/* The executor's side of io.kestra.plugin.core.flow.PurgeFlows (the flows.purge task request, task_requests.c) and of
 * metric.PurgeMetrics (metrics.purge, at the end): the
 * store is on this node, so the worker's task asks here. The flows chosen are the live ones (a deleted flow has no
 * revision to keep), by the filters of both forms of the task Kestra documents:
 *   namespace + flowId     that one flow (the plugin page's form);
 *   namespace alone        that namespace and its children (the page: "a namespace prefix");
 *   namespaces             each, with its children unless includeChildNamespaces is false (Kestra's class);
 *   namespacePattern       a glob over the namespace;
 *   flowPattern            a glob over the flow id;
 *   none of them           every namespace.
 * For each, the revisions Version.revisionsToPurge names are deleted (kt_store_flow_purge_revisions: keep newest, or
 * saved before a date, never the latest), all in one transaction; {size} is how many. */
#include "actors/executor/executor_int.h"
#include "store/store.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

/* ns is root or one of its children (company, company.team; not companyX). */
static int kt_fp_within(const char *ns, const char *root, int children)
{
    size_t n = strlen(root);
    if (strncmp(ns, root, n))
        return 0;
    return ns[n] == 0 || (children && ns[n] == '.');
}

static int kt_fp_chosen(const json_t *req, const char *ns, const char *id)
{
    const char *one_ns = json_string_value(json_object_get(req, "namespace"));
    const char *flow_id = json_string_value(json_object_get(req, "flowId"));
    const json_t *list = json_object_get(req, "namespaces");
    const char *ns_glob = json_string_value(json_object_get(req, "namespacePattern"));
    const char *id_glob = json_string_value(json_object_get(req, "flowPattern"));
    int children = !json_is_false(json_object_get(req, "includeChildNamespaces"));
    if (flow_id && (strcmp(id, flow_id) || !one_ns || strcmp(ns, one_ns)))
        return 0;
    if (!flow_id && one_ns && !kt_fp_within(ns, one_ns, 1))
        return 0;
    if (json_array_size(list)) {
        int in = 0;
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v) in |= json_is_string(v) && kt_fp_within(ns, json_string_value(v), children);
        if (!in)
            return 0;
    }
    if (ns_glob && fnmatch(ns_glob, ns, 0))
        return 0;
    if (id_glob && fnmatch(id_glob, id, 0))
        return 0;
    return 1;
}

kt_status kt_executor_purge_flows(kt_executor *ex, const json_t *req, json_t **out, char *err, size_t cap)
{
    const json_t *jkeep = json_object_get(req, "keep"), *jbefore = json_object_get(req, "beforeUs");
    int keep = json_is_integer(jkeep) ? (int)json_integer_value(jkeep) : 0;
    int64_t before = json_is_integer(jbefore) ? (int64_t)json_integer_value(jbefore) : -1;
    json_t *flows = NULL;
    kt_status st = kt_store_flows_latest(ex->store, NULL, NULL, &flows);
    if (!st)
        st = kt_store_begin(ex->store);
    int64_t total = 0;
    size_t i;
    json_t *f;
    json_array_foreach(flows, i, f) {
        const char *ns = json_string_value(json_object_get(f, "namespace"));
        const char *id = json_string_value(json_object_get(f, "id"));
        if (st || !ns || !id || !kt_fp_chosen(req, ns, id))
            continue;
        int64_t n = 0;
        st = kt_store_flow_purge_revisions(ex->store, ns, id, keep, before, &n);
        total += n;
    }
    if (flows && !st)
        st = kt_store_commit(ex->store);
    else if (flows)
        kt_store_rollback(ex->store);
    json_decref(flows);
    if (st) {
        snprintf(err, cap, "Unable to purge flow revisions: %s", kt_store_errmsg(ex->store));
        return st;
    }
    *out = json_pack("{s:I}", "size", (json_int_t)total);
    return KT_OK;
}

/* metric.PurgeMetrics: {namespace?, flowId?, fromUs, toUs} -> {count}. */
kt_status kt_executor_purge_metrics(kt_executor *ex, const json_t *req, json_t **out, char *err, size_t cap)
{
    int64_t n = 0;
    kt_status st = kt_store_metrics_purge(ex->store, json_string_value(json_object_get(req, "namespace")),
                                          json_string_value(json_object_get(req, "flowId")),
                                          (int64_t)json_integer_value(json_object_get(req, "fromUs")),
                                          (int64_t)json_integer_value(json_object_get(req, "toUs")), &n);
    if (st) {
        snprintf(err, cap, "Unable to purge metrics: %s", kt_store_errmsg(ex->store));
        return st;
    }
    *out = json_pack("{s:I}", "count", (json_int_t)n);
    return KT_OK;
}
