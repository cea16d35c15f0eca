/* The flow topology routes: GET /api/v1/flows/{namespace}/{id}/graph (a stored revision, the trigger contexts of the
 * flow's nodes from the store), POST /api/v1/flows/graph (a YAML source) and GET …/{namespace}/{id}/dependencies
 * (flow/topology.h over the live flows, computed when asked rather than kept in a table as Kestra does). The graph
 * itself is flow/graph.h; `subflows` lists the Subflow nodes drawn as their child flow's graph. */
#include "base/id.h"
#include "flow/graph.h"
#include "flow/topology.h"
#include "web/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void kt_api_graph_id(void *ud, char *out, size_t cap)
{
    (void)ud;
    char id[KT_ID_LEN + 1];
    kt_id_new(id);
    snprintf(out, cap, "%s", id);
}

/* An expanded subflow: its stored revision (0 = latest), defaults injected. */
static json_t *kt_api_graph_load(void *ud, const char *ns, const char *id, int revision)
{
    kt_webserver *w = ud;
    kt_flow_row row = {0};
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *f = NULL;
    json_t *out = NULL;
    if (kt_api_flow_load(w, ns, id, revision, &row, &f, &d) == KT_OK) {
        if (!row.deleted)
            out = json_deep_copy(kt_flow_json(f));
        kt_flow_free(f);
        kt_flow_row_clear(&row);
    } else
        kt_flow_row_clear(&row); /* KT_EINVAL leaves the row; otherwise it stays zeroed */
    kt_diags_clear(&d);
    return out;
}

/* The graph of flow answered on r (the `subflows` query parameter expanded). */
static void kt_api_graph_send(kt_webserver *w, kt_http_req *r, const json_t *flow, const json_t *states)
{
    const char *subs[64];
    size_t n = kt_http_query_all(r, "subflows", subs, 64);
    json_t *expand = json_array();
    for (size_t i = 0; i < n && i < 64; i++) /* a comma-separated value is a list too (Micronaut's conversion) */
        for (const char *p = subs[i]; *p;) {
            size_t l = strcspn(p, ",");
            if (l)
                json_array_append_new(expand, json_stringn(p, l));
            p += l + (p[l] == ',');
        }
    kt_graph_opts o = {.triggers_state = states, .expand = expand, .load = kt_api_graph_load, .load_ud = w,
                       .next_id = kt_api_graph_id};
    int status = 0;
    char err[600], msg[700];
    json_t *g = kt_graph_flow(flow, &o, &status, err, sizeof err);
    json_decref(expand);
    if (g) {
        kt_http_send_json(r, 200, g);
        return;
    }
    snprintf(msg, sizeof msg, "%s: %s", status == 404 ? "Not Found" : "Illegal argument", err);
    kt_http_send_error(r, status, msg, NULL);
}

/* Flow.uid / uidWithoutRevision (the parts joined with '_') in Kestra's "Unable to find flow" message. */
static void kt_api_graph_not_found(char *msg, size_t cap, char *uid, size_t ucap, const char *ns, const char *id,
                                   int revision)
{
    if (revision)
        snprintf(uid, ucap, "%s_%s_%d", ns, id, revision);
    else
        snprintf(uid, ucap, "%s_%s", ns, id);
    snprintf(msg, cap, "Not Found: Unable to find flow %s", uid);
}

static void kt_api_flow_graph_read(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_flow_job *j = ud;
    char uid[600], msg[2048];
    kt_api_graph_not_found(msg, sizeof msg, uid, sizeof uid, j->ns, j->id, j->revision);
    if (st == KT_ENOTFOUND) {
        kt_http_send_error(r, 404, msg, NULL);
        return;
    }
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    int load = kt_api_flow_job_parse(w, j);
    if (load == KT_OK && j->row.deleted) {
        kt_http_send_error(r, 404, msg, NULL);
        return;
    }
    if (load == KT_EINVAL) { /* a FlowWithException has no graph */
        char *why = kt_diags_format(&j->d);
        snprintf(msg, sizeof msg, "Illegal state: Unable to generate graph for flow %s because of exception %s", uid,
                 why ? why : "");
        free(why);
        kt_http_send_error(r, 409, msg, NULL);
        return;
    }
    kt_api_graph_send(w, r, kt_flow_json(j->flow), kt_flow_triggers(j->flow) ? j->states : NULL);
}

void kt_api_flow_graph(kt_http_req *r, void *ud)
{
    int revision;
    if (kt_api_int_param(r, "revision", 0, &revision))
        return;
    kt_api_read_flow_ex(ud, r, kt_http_param(r, "namespace"), kt_http_param(r, "id"), revision, KT_API_FLOW_STATES,
                        kt_api_flow_graph_read, NULL);
}

void kt_api_flow_graph_source(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    size_t len;
    const char *body = kt_http_body(r, &len);
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *f = NULL;
    if (kt_flow_parse_with_defaults(body, len, "flow.yaml", w->plugin_defaults, &f, &d) != KT_OK) {
        if (d.count)
            kt_api_send_diags(r, &d);
        else
            kt_http_send_error(r, 422, "Invalid entity: flow: cannot be parsed", NULL);
    } else
        kt_api_graph_send(w, r, kt_flow_json(f), NULL);
    kt_diags_clear(&d);
    kt_flow_free(f);
}

/* Every live flow as Flow JSON (defaults injected), or NULL after answering 500. */
static json_t *kt_api_all_flows(kt_webserver *w, kt_http_req *r)
{
    json_t *rows;
    if (kt_store_flows_latest(w->store, NULL, NULL, &rows) != KT_OK) {
        kt_api_send_db_error(w, r);
        return NULL;
    }
    json_t *flows = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *src = json_string_value(json_object_get(row, "source"));
        kt_diags d;
        kt_diags_init(&d);
        kt_flow *f = NULL;
        if (kt_flow_parse_pinned(src, strlen(src), "flow.yaml", w->plugin_defaults, kt_dialect_of_flow(row), &f, &d) ==
            KT_OK)
            json_array_append_new(flows, json_deep_copy(kt_flow_json(f)));
        kt_flow_free(f);
        kt_diags_clear(&d);
    }
    json_decref(rows);
    return flows;
}

/* GET /api/v1/flows/{namespace}/{id}/dependencies?destinationOnly=: the flows it starts and that start it. */
void kt_api_flow_dependencies(kt_http_req *r, void *ud)
{
    const char *dest = kt_http_query(r, "destinationOnly");
    json_t *flows = kt_api_all_flows(ud, r);
    if (!flows)
        return;
    kt_http_send_json(r, 200, kt_topology_graph(flows, kt_http_param(r, "namespace"), kt_http_param(r, "id"),
                                                dest && !strcmp(dest, "true")));
    json_decref(flows);
}

/* GET /api/v1/namespaces/{namespace}/dependencies: the links of the namespace's flows, either way */
void kt_api_namespace_dependencies(kt_http_req *r, void *ud)
{
    json_t *flows = kt_api_all_flows(ud, r);
    if (!flows)
        return;
    kt_http_send_json(r, 200, kt_topology_namespace_graph(flows, kt_http_param(r, "namespace")));
    json_decref(flows);
}
