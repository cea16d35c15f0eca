/* The webserver actor (see api.h): its start (the route table, the listener) and stop, the replies it receives, and
 * what every handler answers with: Kestra's error shapes and the query parameters several endpoints read. The
 * handlers themselves are in api_flows.c, api_executions.c and api_logs.c; api_int.h has what they share. */
#include "web/api.h"
#include "base/alloc.h"
#include "flow/model.h"
#include "flow/yaml.h"
#include "base/map.h"
#include "actors/names.h"
#include "web/api_int.h"
#include "web/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors -------------------------------------------------------------------------------------- */

/* 422 "Invalid entity: path: msg, path: msg" with one _embedded error per diagnostic (Kestra's
 * ConstraintViolation answer); messages carry their line:col when the YAML gave one. */
void kt_api_send_diags(kt_http_req *r, const kt_diags *d)
{
    json_t *errors = json_array();
    size_t cap = 64;
    for (size_t i = 0; i < d->count; i++)
        cap += strlen(d->items[i].path ? d->items[i].path : "") + strlen(d->items[i].message) + 80;
    char *msg = malloc(cap), *p = msg;
    p += sprintf(p, "Invalid entity: ");
    for (size_t i = 0; i < d->count; i++) {
        const kt_diag *g = &d->items[i];
        char text[1024];
        if (g->line > 0)
            snprintf(text, sizeof text, "%s (at line %d, column %d)", g->message, g->line, g->col);
        else
            snprintf(text, sizeof text, "%s", g->message);
        const char *path = g->path && *g->path ? g->path : "flow";
        p += sprintf(p, "%s%s: %s", i ? ", " : "", path, text);
        json_t *e = json_pack("{s:s, s:s}", "message", text, "path", path);
        if (g->line > 0) {
            json_object_set_new(e, "line", json_integer(g->line));
            json_object_set_new(e, "column", json_integer(g->col));
        }
        json_array_append_new(errors, e);
    }
    kt_http_send_error(r, 422, msg, errors);
    free(msg);
}

void kt_api_send_one_error(kt_http_req *r, int status, const char *path, const char *message)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "Invalid entity: %s: %s", path, message);
    kt_http_send_error(r, status, msg, json_pack("[{s:s, s:s}]", "message", message, "path", path));
}

void kt_api_send_db_error(kt_webserver *w, kt_http_req *r)
{
    char msg[512];
    snprintf(msg, sizeof msg, "Internal server error: %s", kt_store_errmsg(w->store));
    kt_http_send_error(r, 500, msg, NULL);
}

/* Content-Disposition: attachment; filename="<prefix><suffix>" as a quoted-string: quotes and backslashes escaped,
 * control bytes dropped (a decoded path parameter may hold any byte). */
void kt_api_attachment(kt_http_req *r, const char *prefix, const char *suffix)
{
    char disp[600], *o = disp, *end = disp + sizeof disp - 8;
    o += sprintf(o, "attachment; filename=\"");
    for (int part = 0; part < 2; part++)
        for (const char *p = part ? suffix : prefix; p && *p && o < end; p++) {
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                continue;
            if (*p == '"' || *p == '\\')
                *o++ = '\\';
            *o++ = *p;
        }
    strcpy(o, "\"");
    kt_http_add_header(r, "Content-Disposition", disp);
}

/* ---- query parameters ---------------------------------------------------------------------------- */

int kt_api_int_param(kt_http_req *r, const char *name, int dflt, int *out)
{
    const char *v = kt_http_query(r, name);
    if (!v || !*v) {
        *out = dflt;
        return 0;
    }
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 0 || n > 1000000000) {
        char msg[256];
        snprintf(msg, sizeof msg, "Illegal argument: '%s' is not a valid value for %s", v, name);
        kt_http_send_error(r, 422, msg, NULL);
        return -1;
    }
    *out = (int)n;
    return 0;
}

json_t *kt_api_path_execution(kt_webserver *w, kt_http_req *r, const char *not_found)
{
    const char *id = kt_http_param(r, "executionId");
    json_t *ex = NULL;
    kt_status st = kt_store_execution_get(w->store, id, &ex);
    if (st == KT_ENOTFOUND) {
        if (!kt_api_create_fallback(w, r)) {
            char msg[300];
            snprintf(msg, sizeof msg, not_found, id ? id : "");
            kt_http_send_error(r, 404, msg, NULL);
        }
    } else if (st) {
        kt_api_send_db_error(w, r);
    }
    return st ? NULL : ex;
}

/* ?<name>=STATE, a terminal state (change-status, bulk too): its value, or NULL after answering 400 or 422 as
 * Kestra's controller does (a missing or unknown value is a bad parameter, a running state an illegal argument). */
const char *kt_api_terminal_state_param(kt_http_req *r, const char *name)
{
    const char *v = kt_http_query(r, name);
    char msg[300];
    if (!v || !*v) {
        snprintf(msg, sizeof msg, "Bad Request: Required QueryValue [%s] not specified", name);
        kt_http_send_error(r, 400, msg, NULL);
        return NULL;
    }
    if (!kt_state_is_valid(v)) {
        snprintf(msg, sizeof msg, "Bad Request: Failed to convert argument [%s] for value [%.200s]", name, v);
        kt_http_send_error(r, 400, msg, NULL);
        return NULL;
    }
    if (!kt_state_is_terminated(v)) {
        kt_http_send_error(r, 422, "Illegal argument: You can only change the status of an execution to a terminal state.",
                           NULL);
        return NULL;
    }
    return v;
}

kt_status kt_api_flow_load(kt_webserver *w, const char *ns, const char *id, int revision, kt_flow_row *row,
                           kt_flow **flow, kt_diags *d)
{
    *flow = NULL;
    kt_status st = kt_store_flow_get(w->store, ns, id, revision, row);
    if (st)
        return st;
    if (kt_flow_parse_pinned(row->source, strlen(row->source), "flow.yaml", w->plugin_defaults, row->dialect, flow,
                             d) != KT_OK) {
        *flow = NULL;
        return KT_EINVAL;
    }
    return KT_OK;
}

int kt_api_flow_load_or_answer(kt_webserver *w, kt_http_req *r, const char *ns, const char *id, int revision,
                               const char *not_found, kt_flow_row *row, kt_flow **flow, kt_diags *d)
{
    kt_status st = kt_api_flow_load(w, ns, id, revision, row, flow, d);
    if (st == KT_OK || st == KT_EINVAL)
        return st;
    if (st == KT_ENOTFOUND)
        kt_http_send_error(r, 404, not_found, NULL);
    else
        kt_api_send_db_error(w, r);
    kt_diags_clear(d);
    return -1;
}

/* page (>= 1, default 1) and size (>= 1, default 10); 422 otherwise. */
int kt_api_paging(kt_http_req *r, int *page, int *size)
{
    if (kt_api_int_param(r, "page", 1, page) || kt_api_int_param(r, "size", 10, size))
        return -1;
    if (*page < 1 || *size < 1) {
        kt_http_send_error(r, 422, "Illegal argument: page and size must be at least 1", NULL);
        return -1;
    }
    return 0;
}

/* labels=key:value (repeatable) -> [key, value, key, value...] in buf; NULL on a malformed one (422 sent). */
size_t kt_api_label_filters(kt_http_req *r, const char **out, char *buf, size_t cap, int *bad)
{
    const char *vals[32];
    size_t n = kt_http_query_all(r, "labels", vals, 32), k = 0, used = 0;
    *bad = 0;
    for (size_t i = 0; i < n && i < 32; i++) {
        const char *colon = strchr(vals[i], ':');
        size_t len = strlen(vals[i]);
        if (!colon || colon == vals[i] || used + len + 2 > cap) {
            kt_http_send_error(r, 422, "Invalid queryString parameter", NULL);
            *bad = 1;
            return 0;
        }
        char *key = buf + used;
        memcpy(key, vals[i], (size_t)(colon - vals[i]));
        key[colon - vals[i]] = 0;
        used += (size_t)(colon - vals[i]) + 1;
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        out[k++] = key;
        out[k++] = value;
    }
    return k / 2;
}

/* ---- the actor ----------------------------------------------------------------------------------- */

static void kt_webserver_receive(kt_actor *a, const kt_msg *m)
{
    kt_webserver *w = kt_actor_state(a);
    if (m->type == KT_MSG_REPLY)
        kt_api_on_reply(w, m);
}

static void kt_webserver_stop(kt_actor *a)
{
    kt_webserver *w = kt_actor_state(a);
    kt_http_close(w->http); /* deferred requests still pending get a 503 from the server */
    if (w->management)
        kt_http_close(w->management);
}

/* Kestra's management port (endpoints.all.port): health and version, never behind basic auth. */
static kt_status kt_api_management_start(kt_webserver *w, const char *host, int port, char *err, size_t errcap)
{
    kt_status st = kt_http_new(w->http_loop, &w->management);
    if (st)
        return st;
    static const struct {
        const char *pattern;
        kt_http_handler h;
    } routes[] = {
        {"/health", kt_api_health},
        {"/health/liveness", kt_api_health_liveness},
        {"/health/readiness", kt_api_health},
        {"/version", kt_api_version},
        {"/prometheus", kt_api_prometheus},
    };
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if ((st = kt_http_route(w->management, "GET", routes[i].pattern, routes[i].h, w)))
            return st;
    if ((st = kt_http_listen(w->management, host, port)))
        snprintf(err, errcap, "endpoints.all.port: cannot listen on %s:%d (%s)", host, port, kt_strerror(st));
    return st;
}

/* The executors' nodes are remembered as they come, so that when one goes its unanswered requests are answered. */
static void kt_webserver_peer_up(kt_actor *a, const kt_peer_info *peer)
{
    kt_webserver *w = kt_actor_state(a);
    if (kt_node_actors_has(peer->actors, KT_EXECUTOR_ACTOR, strlen(KT_EXECUTOR_ACTOR)))
        kt_map_put(w->executors, peer->node_id, w->executors, NULL);
}

static void kt_webserver_peer_down(kt_actor *a, const char *node_id)
{
    kt_webserver *w = kt_actor_state(a);
    if (kt_map_del(w->executors, node_id))
        kt_api_executor_gone(w, node_id);
}

static const kt_actor_ops kt_webserver_ops = {.receive = kt_webserver_receive, .stop = kt_webserver_stop,
                                              .peer_up = kt_webserver_peer_up, .peer_down = kt_webserver_peer_down};

kt_status kt_webserver_start(kt_node *node, kt_store *store, const kt_webserver_config *cfg, kt_webserver **out,
                             char *err, size_t errcap)
{
    kt_webserver *w = calloc(1, sizeof *w);
    if (!w)
        return KT_ENOMEM;
    w->store = store;
    w->pool = cfg ? cfg->pool : NULL;
    w->pending = kt_map_new();
    w->executors = kt_map_new();
    if (cfg && json_array_size(cfg->plugin_defaults))
        w->plugin_defaults = json_incref((json_t *)cfg->plugin_defaults);
    if (cfg && cfg->default_zone)
        w->default_zone = kt_xstrdup(cfg->default_zone);
    w->default_recover = cfg ? cfg->default_recover : KT_SCHED_RECOVER_ALL;
    w->storage = cfg ? cfg->storage : NULL;
    const char *host = cfg && cfg->host ? cfg->host : "0.0.0.0";
    int port = cfg ? cfg->port : 8080;
    w->http_loop = kt_node_loop(node);
    kt_status st = kt_http_new(w->http_loop, &w->http);
    if (st)
        goto fail;
    static const struct {
        const char *method, *pattern;
        kt_http_handler h;
    } routes[] = {
        {"GET", "/health", kt_api_health},
        {"GET", "/ping", kt_api_ping},
        {"GET", "/api/v1/configs", kt_api_configs},
        {"GET", "/api/v1/version", kt_api_version},
        {"GET", "/api/v1/cluster/nodes", kt_api_cluster_nodes},
        {"POST", "/api/v1/flows", kt_api_flow_create},
        {"POST", "/api/v1/flows/validate", kt_api_flow_validate},
        {"POST", "/api/v1/flows/{namespace}", kt_api_flow_namespace_update},
        {"GET", "/api/v1/flows/{namespace}/{id}", kt_api_flow_get},
        {"PUT", "/api/v1/flows/{namespace}/{id}", kt_api_flow_update},
        {"DELETE", "/api/v1/flows/{namespace}/{id}", kt_api_flow_delete},
        {"POST", "/api/v1/executions/{namespace}/{id}", kt_api_execution_create},
        {"POST", "/api/v1/executions/trigger/{namespace}/{id}", kt_api_execution_create}, /* Kestra's deprecated path */
        {"GET", "/api/v1/executions/{executionId}", kt_api_execution_get},
        {"DELETE", "/api/v1/executions/{executionId}", kt_api_execution_delete},
        {"DELETE", "/api/v1/executions/by-ids", kt_api_bulk_delete_by_ids},
        {"DELETE", "/api/v1/executions/by-query", kt_api_bulk_delete_by_query},
        {"POST", "/api/v1/executions/labels/by-ids", kt_api_bulk_labels_by_ids},
        {"DELETE", "/api/v1/executions/kill/by-ids", kt_api_bulk_kill_by_ids},
        {"DELETE", "/api/v1/executions/kill/by-query", kt_api_bulk_kill_by_query},
        {"POST", "/api/v1/executions/resume/by-ids", kt_api_bulk_resume_by_ids},
        {"POST", "/api/v1/executions/{executionId}/pause", kt_api_execution_pause},
        {"POST", "/api/v1/executions/{executionId}/unqueue", kt_api_execution_unqueue},
        {"POST", "/api/v1/executions/{executionId}/force-run", kt_api_execution_force_run},
        {"POST", "/api/v1/executions/pause/by-ids", kt_api_bulk_pause_by_ids},
        {"POST", "/api/v1/executions/pause/by-query", kt_api_bulk_pause_by_query},
        {"POST", "/api/v1/executions/unqueue/by-ids", kt_api_bulk_unqueue_by_ids},
        {"POST", "/api/v1/executions/unqueue/by-query", kt_api_bulk_unqueue_by_query},
        {"POST", "/api/v1/executions/force-run/by-ids", kt_api_bulk_force_run_by_ids},
        {"POST", "/api/v1/executions/force-run/by-query", kt_api_bulk_force_run_by_query},
        {"POST", "/api/v1/executions/restart/by-ids", kt_api_bulk_restart_by_ids},
        {"POST", "/api/v1/executions/restart/by-query", kt_api_bulk_restart_by_query},
        {"POST", "/api/v1/executions/replay/by-ids", kt_api_bulk_replay_by_ids},
        {"POST", "/api/v1/executions/replay/by-query", kt_api_bulk_replay_by_query},
        {"POST", "/api/v1/executions/change-status/by-ids", kt_api_bulk_change_status_by_ids},
        {"POST", "/api/v1/executions/change-status/by-query", kt_api_bulk_change_status_by_query},
        {"POST", "/api/v1/executions/resume/by-query", kt_api_bulk_resume_by_query},
        {"POST", "/api/v1/executions/{namespace}/{id}/validate", kt_api_execution_validate},
        {"POST", "/api/v1/executions/{executionId}/eval/{taskRunId}", kt_api_execution_eval},
        {"POST", "/api/v1/executions/{executionId}/resume/validate", kt_api_execution_resume_validate},
        {"POST", "/api/v1/executions/labels/by-query", kt_api_bulk_labels_by_query},
        {"POST", "/api/v1/executions/{executionId}/labels", kt_api_execution_labels},
        {"GET", "/api/v1/executions/{executionId}/flow", kt_api_execution_flow_get},
        {"GET", "/api/v1/executions/flows/{namespace}/{flowId}", kt_api_execution_flow_by_id},
        {"GET", "/api/v1/executions/namespaces", kt_api_execution_namespaces},
        {"GET", "/api/v1/executions/namespaces/{namespace}/flows", kt_api_execution_namespace_flows},
        {"GET", "/api/v1/executions/search", kt_api_execution_search},
        {"DELETE", "/api/v1/executions/{executionId}/kill", kt_api_execution_kill},
        {"GET", "/api/v1/executions/webhook/{namespace}/{id}/{key}", kt_api_execution_webhook},
        {"POST", "/api/v1/executions/webhook/{namespace}/{id}/{key}", kt_api_execution_webhook},
        {"PUT", "/api/v1/executions/webhook/{namespace}/{id}/{key}", kt_api_execution_webhook},
        {"POST", "/api/v1/executions/{executionId}/resume", kt_api_execution_resume},
        {"POST", "/api/v1/executions/{executionId}/restart", kt_api_execution_restart},
        {"POST", "/api/v1/executions/{executionId}/replay", kt_api_execution_replay},
        {"POST", "/api/v1/executions/{executionId}/change-status", kt_api_execution_change_status},
        {"POST", "/api/v1/executions/{executionId}/state", kt_api_execution_mark_as},
        {"GET", "/api/v1/executions", kt_api_execution_search},
        {"GET", "/api/v1/flows/search", kt_api_flow_search},
        {"GET", "/api/v1/flows/source", kt_api_flow_source_search},
        {"GET", "/api/v1/flows/distinct-namespaces", kt_api_flow_distinct_namespaces},
        {"GET", "/api/v1/flows/{namespace}/{id}/revisions", kt_api_flow_revisions},
        {"GET", "/api/v1/flows/{namespace}/{id}/tasks/{taskId}", kt_api_flow_task},
        {"PATCH", "/api/v1/flows/{namespace}/{id}/{taskId}", kt_api_flow_patch_task},
        {"POST", "/api/v1/flows/bulk", kt_api_flow_bulk},
        {"POST", "/api/v1/flows/validate/task", kt_api_flow_validate_task},
        {"POST", "/api/v1/flows/validate/trigger", kt_api_flow_validate_trigger},
        {"GET", "/api/v1/flows/export/by-query", kt_api_flows_export_by_query},
        {"POST", "/api/v1/flows/export/by-ids", kt_api_flows_export_by_ids},
        {"DELETE", "/api/v1/flows/delete/by-query", kt_api_flows_delete_by_query},
        {"DELETE", "/api/v1/flows/delete/by-ids", kt_api_flows_delete_by_ids},
        {"POST", "/api/v1/flows/disable/by-query", kt_api_flows_disable_by_query},
        {"POST", "/api/v1/flows/disable/by-ids", kt_api_flows_disable_by_ids},
        {"POST", "/api/v1/flows/enable/by-query", kt_api_flows_enable_by_query},
        {"POST", "/api/v1/flows/enable/by-ids", kt_api_flows_enable_by_ids},
        {"POST", "/api/v1/flows/import", kt_api_flows_import},
        {"GET", "/api/v1/flows/{namespace}/{id}/graph", kt_api_flow_graph},
        {"POST", "/api/v1/flows/graph", kt_api_flow_graph_source},
        {"GET", "/api/v1/flows/{namespace}/{id}/dependencies", kt_api_flow_dependencies},
        {"GET", "/api/v1/flows/{namespace}", kt_api_flow_list_namespace},
        {"GET", "/api/v1/logs/{executionId}", kt_api_logs_get},
        {"GET", "/api/v1/logs/{executionId}/follow", kt_api_logs_follow},
        {"GET", "/api/v1/logs/{executionId}/download", kt_api_logs_download},
        {"GET", "/api/v1/logs/search", kt_api_logs_search},
        {"DELETE", "/api/v1/logs/{executionId}", kt_api_logs_delete},
        {"DELETE", "/api/v1/logs/{namespace}/{flowId}", kt_api_logs_delete_flow},
        {"GET", "/api/v1/executions/{executionId}/follow", kt_api_execution_follow},
        {"GET", "/api/v1/executions/{executionId}/file", kt_api_execution_file},
        {"GET", "/api/v1/executions/{executionId}/file/metas", kt_api_execution_file_metas},
        {"GET", "/api/v1/executions/{executionId}/file/preview", kt_api_execution_file_preview},
        {"GET", "/api/v1/namespaces/{namespace}/files", kt_api_nsfile_get},
        {"GET", "/api/v1/namespaces/{namespace}/files/stats", kt_api_nsfile_stats},
        {"GET", "/api/v1/namespaces/{namespace}/files/directory", kt_api_nsfile_list},
        {"GET", "/api/v1/namespaces/{namespace}/files/search", kt_api_nsfile_search},
        {"GET", "/api/v1/namespaces/{namespace}/files/export", kt_api_nsfile_export},
        {"POST", "/api/v1/namespaces/{namespace}/files", kt_api_nsfile_upload},
        {"POST", "/api/v1/namespaces/{namespace}/files/directory", kt_api_nsfile_mkdir},
        {"PUT", "/api/v1/namespaces/{namespace}/files", kt_api_nsfile_move},
        {"DELETE", "/api/v1/namespaces/{namespace}/files", kt_api_nsfile_delete},
        {"GET", "/api/v1/namespaces/search", kt_api_namespace_search},
        {"GET", "/api/v1/namespaces/{id}", kt_api_namespace_get},
        {"GET", "/api/v1/namespaces/{namespace}/dependencies", kt_api_namespace_dependencies},
        {"GET", "/api/v1/namespaces/{namespace}/kv", kt_api_kv_list},
        {"DELETE", "/api/v1/namespaces/{namespace}/kv", kt_api_kv_delete_bulk},
        {"GET", "/api/v1/namespaces/{namespace}/kv/{key}", kt_api_kv_get},
        {"PUT", "/api/v1/namespaces/{namespace}/kv/{key}", kt_api_kv_put},
        {"DELETE", "/api/v1/namespaces/{namespace}/kv/{key}", kt_api_kv_delete},
        {"GET", "/api/v1/triggers/search", kt_api_trigger_search},
        {"GET", "/api/v1/triggers/{namespace}/{flowId}", kt_api_trigger_flow},
        {"PUT", "/api/v1/triggers", kt_api_trigger_update},
        {"POST", "/api/v1/triggers/{namespace}/{flowId}/{triggerId}/unlock", kt_api_trigger_unlock},
        {"POST", "/api/v1/triggers/{namespace}/{flowId}/{triggerId}/restart", kt_api_trigger_restart},
        {"POST", "/api/v1/triggers/unlock/by-triggers", kt_api_unlock_by_triggers},
        {"POST", "/api/v1/triggers/unlock/by-query", kt_api_unlock_by_query},
        {"PUT", "/api/v1/triggers/backfill/pause", kt_api_backfill_pause},
        {"PUT", "/api/v1/triggers/backfill/unpause", kt_api_backfill_unpause},
        {"POST", "/api/v1/triggers/backfill/delete", kt_api_backfill_delete},
        {"POST", "/api/v1/triggers/backfill/pause/by-triggers", kt_api_backfill_pause_by_triggers},
        {"POST", "/api/v1/triggers/backfill/unpause/by-triggers", kt_api_backfill_unpause_by_triggers},
        {"POST", "/api/v1/triggers/backfill/delete/by-triggers", kt_api_backfill_delete_by_triggers},
        {"POST", "/api/v1/triggers/backfill/pause/by-query", kt_api_backfill_pause_by_query},
        {"POST", "/api/v1/triggers/backfill/unpause/by-query", kt_api_backfill_unpause_by_query},
        {"POST", "/api/v1/triggers/backfill/delete/by-query", kt_api_backfill_delete_by_query},
        {"POST", "/api/v1/triggers/set-disabled/by-triggers", kt_api_set_disabled_by_triggers},
        {"POST", "/api/v1/triggers/set-disabled/by-query", kt_api_set_disabled_by_query},
        {"GET", "/api/v1/metrics/{executionId}", kt_api_metrics_by_execution},
        {"GET", "/api/v1/metrics/names/{namespace}/{flowId}", kt_api_metrics_names},
        {"GET", "/api/v1/metrics/names/{namespace}/{flowId}/{taskId}", kt_api_metrics_task_names},
        {"GET", "/api/v1/metrics/tasks/{namespace}/{flowId}", kt_api_metrics_tasks},
        {"GET", "/api/v1/metrics/aggregates/{namespace}/{flowId}/{metric}", kt_api_metrics_aggregates},
        {"GET", "/api/v1/metrics/aggregates/{namespace}/{flowId}/{taskId}/{metric}", kt_api_metrics_task_aggregates},
        {"GET", "/prometheus", kt_api_prometheus},
    };
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if ((st = kt_http_route(w->http, routes[i].method, routes[i].pattern, routes[i].h, w)))
            goto fail;
    if (cfg) {
        kt_http_set_limits(w->http, cfg->max_request_size, cfg->read_idle_timeout_ms);
        if ((st = kt_api_auth_init(w, cfg, err, errcap)))
            goto fail;
        snprintf(w->instance_uuid, sizeof w->instance_uuid, "%s", cfg->instance_uuid ? cfg->instance_uuid : "");
        snprintf(w->env_name, sizeof w->env_name, "%s", cfg->environment_name ? cfg->environment_name : "");
        snprintf(w->env_color, sizeof w->env_color, "%s", cfg->environment_color ? cfg->environment_color : "");
        snprintf(w->data_dir, sizeof w->data_dir, "%s", cfg->data_dir ? cfg->data_dir : "");
    }
    kt_http_set_guard(w->http, kt_api_auth_guard, w);
    if ((st = kt_http_listen(w->http, host, port))) {
        snprintf(err, errcap, "cannot listen on %s:%d (%s)", host, port, kt_strerror(st));
        goto fail;
    }
    if (cfg && cfg->management_port && (st = kt_api_management_start(w, host, cfg->management_port, err, errcap)))
        goto fail;
    snprintf(w->public_url, sizeof w->public_url, "%s",
             cfg && cfg->public_url ? cfg->public_url : "http://localhost:8080");
    if (!(cfg && cfg->public_url))
        snprintf(w->public_url, sizeof w->public_url, "http://localhost:%d", kt_http_port(w->http));
    if ((st = kt_node_spawn(node, KT_WEBSERVER_ACTOR, &kt_webserver_ops, w, &w->self)))
        goto fail;
    *out = w;
    return KT_OK;
fail:
    if (w->http) {
        kt_http_close(w->http);
        kt_http_free(w->http);
    }
    if (w->management) {
        kt_http_close(w->management);
        kt_http_free(w->management);
    }
    kt_api_auth_free(w);
    kt_map_free(w->pending);
    kt_map_free(w->executors);
    json_decref(w->plugin_defaults);
    free(w->default_zone);
    free(w);
    return st;
}

int kt_webserver_port(const kt_webserver *w) { return kt_http_port(w->http); }

void kt_webserver_free(kt_webserver *w)
{
    if (!w)
        return;
    kt_http_free(w->http);
    kt_http_free(w->management);
    kt_api_auth_free(w);
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(w->pending, &pos, &key, &val)) {
        kt_pending *p = val;
        kt_http_req_release(p->req);
        json_decref(p->execution);
        json_decref(p->webhook);
        free(p);
    }
    kt_map_free(w->pending);
    kt_map_free(w->executors);
    json_decref(w->plugin_defaults);
    free(w->default_zone);
    free(w);
}
