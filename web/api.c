#include "web/api.h"
#include "actors/executor/executor.h"
#include "actors/executor/model.h"
#include "actors/executor/step.h"
#include "flow/flow.h"
#include "flow/duration.h"
#include "flow/inputs.h"
#include "flow/tasks.h"
#include "flow/yaml.h"
#include "runtime/clock.h"
#include "runtime/id.h"
#include "runtime/log.h"
#include "runtime/map.h"
#include "web/http.h"
#include "web/multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A request waiting for another actor's reply. */
typedef struct kt_pending {
    kt_http_req *req;
    json_t *execution;
    int wait; /* answer when the execution ends, not when it is created */
} kt_pending;

struct kt_webserver {
    kt_actor *self;
    kt_store *store;
    kt_http *http;
    kt_map *pending; /* corr id (decimal) -> kt_pending */
    uint64_t next_corr;
    char public_url[512];
};

/* ---- errors -------------------------------------------------------------------------------------- */

/* 422 "Invalid entity: path: msg, path: msg" with one _embedded error per diagnostic (Kestra's
 * ConstraintViolation answer); messages carry their line:col when the YAML gave one. */
static void kt_api_send_diags(kt_http_req *r, const kt_diags *d)
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

static void kt_api_send_one_error(kt_http_req *r, int status, const char *path, const char *message)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "Invalid entity: %s: %s", path, message);
    kt_http_send_error(r, status, msg, json_pack("[{s:s, s:s}]", "message", message, "path", path));
}

static void kt_api_send_db_error(kt_webserver *w, kt_http_req *r)
{
    char msg[512];
    snprintf(msg, sizeof msg, "Internal server error: %s", kt_store_errmsg(w->store));
    kt_http_send_error(r, 500, msg, NULL);
}

/* ---- flows --------------------------------------------------------------------------------------- */

/* Flow (or FlowWithSource when source != NULL) as the API returns it. */
static json_t *kt_api_flow_json(const kt_flow *f, int revision, const char *source)
{
    json_t *j = json_deep_copy(kt_flow_json(f));
    json_object_set_new(j, "revision", json_integer(revision));
    if (source)
        json_object_set_new(j, "source", json_string(source));
    return j;
}

static kt_flow *kt_api_parse_flow(kt_http_req *r, const char *body, size_t len)
{
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *f = NULL;
    if (kt_flow_parse(body, len, "flow.yaml", &f, &d) != KT_OK) {
        if (d.count)
            kt_api_send_diags(r, &d);
        else
            kt_http_send_error(r, 422, "Invalid entity: flow: cannot be parsed", NULL);
        kt_diags_clear(&d);
        return NULL;
    }
    kt_diags_clear(&d);
    return f;
}

static void kt_api_flow_save(kt_webserver *w, kt_http_req *r, const char *ns, const char *id)
{
    size_t len;
    const char *body = kt_http_body(r, &len);
    kt_flow *f = kt_api_parse_flow(r, body, len);
    if (!f)
        return;
    char *source = strndup(body, len);
    int creating = ns == NULL;
    kt_flow_row row;
    kt_status st;
    if (creating) {
        st = kt_store_flow_get(w->store, kt_flow_namespace(f), kt_flow_id(f), 0, &row);
        if (st == KT_OK) {
            kt_flow_row_clear(&row);
            kt_api_send_one_error(r, 422, "flow.id", "Flow id already exists");
            goto done;
        }
    } else {
        if (strcmp(ns, kt_flow_namespace(f))) {
            kt_api_send_one_error(r, 422, "flow.namespace", "Illegal namespace update");
            goto done;
        }
        if (strcmp(id, kt_flow_id(f))) {
            kt_api_send_one_error(r, 422, "flow.id", "Illegal flow id update");
            goto done;
        }
        st = kt_store_flow_get(w->store, ns, id, 0, &row);
        if (st == KT_ENOTFOUND) {
            kt_http_send_error(r, 404, "Not Found", NULL);
            goto done;
        }
        if (st == KT_OK)
            kt_flow_row_clear(&row);
    }
    if (st && st != KT_ENOTFOUND) {
        kt_api_send_db_error(w, r);
        goto done;
    }
    int revision, changed;
    if (kt_store_flow_save(w->store, kt_flow_namespace(f), kt_flow_id(f), source, &revision, &changed) != KT_OK) {
        kt_api_send_db_error(w, r);
        goto done;
    }
    kt_http_send_json(r, 200, kt_api_flow_json(f, revision, source));
done:
    free(source);
    kt_flow_free(f);
}

static void kt_api_flow_create(kt_http_req *r, void *ud) { kt_api_flow_save(ud, r, NULL, NULL); }

static void kt_api_flow_update(kt_http_req *r, void *ud)
{
    kt_api_flow_save(ud, r, kt_http_param(r, "namespace"), kt_http_param(r, "id"));
}

static int kt_api_int_param(kt_http_req *r, const char *name, int dflt, int *out)
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

/* Legacy type names (io.kestra.core.tasks.* ...) anywhere in the document: Kestra lists their paths as
 * deprecationPaths and says what replaces them in infos. */
static void kt_api_walk_aliases(const json_t *v, const char *path, json_t *paths, json_t *infos)
{
    char sub[512];
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            kt_api_walk_aliases(x, sub, paths, infos);
        }
        return;
    }
    if (!json_is_object(v))
        return;
    const char *type = json_string_value(json_object_get(v, "type"));
    if (type && *path) {
        const char *canonical = kt_task_canonical_type(type);
        if (strcmp(canonical, type)) {
            char info[512];
            snprintf(info, sizeof info, "%s is replaced by %s", type, canonical);
            json_array_append_new(paths, json_string(path));
            json_array_append_new(infos, json_string(info));
        }
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
        kt_api_walk_aliases(x, sub, paths, infos);
    }
}

/* One ValidateConstraintViolation for one YAML document. */
static json_t *kt_api_validate_one(kt_webserver *w, const char *doc, size_t len, int index)
{
    json_t *out = json_object();
    kt_diags d;
    kt_diags_init(&d);
    kt_yaml_doc **docs = NULL;
    size_t ndocs = 0;
    json_t *root = NULL;
    if (kt_yaml_load(doc, len, "flow.yaml", &docs, &ndocs, &d) == KT_OK && ndocs)
        root = kt_yaml_doc_root(docs[0]);
    const char *id = json_string_value(json_object_get(root, "id"));
    const char *ns = json_string_value(json_object_get(root, "namespace"));
    if (id)
        json_object_set_new(out, "flow", json_string(id));
    if (ns)
        json_object_set_new(out, "namespace", json_string(ns));
    json_object_set_new(out, "index", json_integer(index));
    kt_diags_clear(&d);
    kt_flow *f = NULL;
    if (kt_flow_parse(doc, len, "flow.yaml", &f, &d) != KT_OK) {
        /* Jakarta's ConstraintViolationException message: "path: message" pairs joined with ", " */
        size_t cap = 16;
        for (size_t i = 0; i < d.count; i++)
            cap += strlen(d.items[i].path ? d.items[i].path : "") + strlen(d.items[i].message) + 64;
        char *msg = calloc(1, cap), *p = msg;
        for (size_t i = 0; i < d.count; i++) {
            const kt_diag *g = &d.items[i];
            p += sprintf(p, "%s%s: %s", i ? ", " : "", g->path && *g->path ? g->path : "flow", g->message);
            if (g->line > 0)
                p += sprintf(p, " (at line %d, column %d)", g->line, g->col);
        }
        json_object_set_new(out, "constraints", json_string(d.count ? msg : "Unable to validate the flow"));
        free(msg);
    }
    json_t *rev = json_object_get(root, "revision");
    int outdated = 0;
    if (json_is_integer(rev) && id && ns) {
        kt_flow_row row;
        int last = 0;
        if (kt_store_flow_get(w->store, ns, id, 0, &row) == KT_OK) {
            last = row.revision;
            kt_flow_row_clear(&row);
        }
        outdated = json_integer_value(rev) != last + 1;
    }
    json_object_set_new(out, "outdated", json_boolean(outdated));
    json_t *paths = json_array(), *infos = json_array();
    kt_api_walk_aliases(root, "", paths, infos);
    json_object_set_new(out, "deprecationPaths", paths);
    json_object_set_new(out, "warnings", json_array());
    json_object_set_new(out, "infos", infos);
    kt_flow_free(f);
    kt_diags_clear(&d);
    kt_yaml_docs_free(docs, ndocs);
    return out;
}

/* POST /api/v1/flows/validate: always 200, one entry per document (split on lines starting with ---). */
static void kt_api_flow_validate(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    size_t len;
    const char *body = kt_http_body(r, &len);
    json_t *list = json_array();
    size_t start = 0;
    int index = 0;
    for (size_t i = 0; i <= len; i++) {
        int at_sep = i < len && (i == 0 || body[i - 1] == '\n') && len - i >= 3 && !memcmp(body + i, "---", 3);
        if (!at_sep && i < len)
            continue;
        if (i > start || !at_sep) {
            /* a leading --- only opens the first document */
            int blank = 1;
            for (size_t k = start; k < i && blank; k++)
                blank = body[k] == ' ' || body[k] == '\n' || body[k] == '\r' || body[k] == '\t';
            if (!blank || (!at_sep && index == 0))
                json_array_append_new(list, kt_api_validate_one(w, body + start, i - start, index++));
        }
        if (at_sep) {
            while (i < len && body[i] != '\n')
                i++;
            start = i + 1;
        }
    }
    kt_http_send_json(r, 200, list);
}

static void kt_api_flow_get(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    int revision;
    if (kt_api_int_param(r, "revision", 0, &revision))
        return;
    kt_flow_row row;
    kt_status st = kt_store_flow_get(w->store, kt_http_param(r, "namespace"), kt_http_param(r, "id"), revision, &row);
    if (st == KT_ENOTFOUND) {
        kt_http_send_error(r, 404, "Not Found", NULL);
        return;
    }
    if (st) {
        kt_api_send_db_error(w, r);
        return;
    }
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *f = NULL;
    if (kt_flow_parse(row.source, strlen(row.source), "flow.yaml", &f, &d) != KT_OK) {
        /* FlowWithException: a stored flow that no longer parses */
        char *msg = kt_diags_format(&d);
        json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:s?}", "id", row.id, "namespace", row.namespace_, "revision",
                              row.revision, "source", row.source, "exception", msg);
        free(msg);
        kt_http_send_json(r, 200, j);
    } else {
        const char *src = kt_http_query(r, "source"); /* Kestra: Flow by default, FlowWithSource with source=true */
        int with_source = src && !strcmp(src, "true");
        kt_http_send_json(r, 200, kt_api_flow_json(f, row.revision, with_source ? row.source : NULL));
    }
    kt_diags_clear(&d);
    kt_flow_free(f);
    kt_flow_row_clear(&row);
}

static void kt_api_flow_delete(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    kt_status st = kt_store_flow_delete(w->store, kt_http_param(r, "namespace"), kt_http_param(r, "id"));
    if (st == KT_ENOTFOUND)
        kt_http_send_error(r, 404, "Not Found", NULL);
    else if (st)
        kt_api_send_db_error(w, r);
    else
        kt_http_send_empty(r, 204);
}

/* POST /api/v1/flows/{namespace}: the namespace's flows become exactly the ones in the body (`---` separated).
 * Every document is checked before anything is written; the answer lists the flows deleted (delete=true, the
 * default), then the ones created or updated, in body order. */
static void kt_api_flow_namespace_update(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *ns = kt_http_param(r, "namespace");
    const char *del = kt_http_query(r, "delete");
    int do_delete = !del || strcmp(del, "false");
    size_t len;
    const char *body = kt_http_body(r, &len);
    kt_flow **flows = NULL;
    char **sources = NULL;
    size_t n = 0;
    json_t *result = json_array(), *deleted_ids = NULL, *seen = json_object();
    /* split literally on "---", each part trimmed (FlowController.updateNamespace) */
    for (size_t start = 0; start <= len;) {
        const char *sep = len - start >= 3 ? memmem(body + start, len - start, "---", 3) : NULL;
        size_t end = sep ? (size_t)(sep - body) : len;
        size_t a = start, b = end;
        while (a < b && strchr(" \t\r\n", body[a]))
            a++;
        while (b > a && strchr(" \t\r\n", body[b - 1]))
            b--;
        if (b > a) {
            kt_flow *f = kt_api_parse_flow(r, body + a, b - a);
            if (!f)
                goto done;
            flows = realloc(flows, (n + 1) * sizeof *flows);
            sources = realloc(sources, (n + 1) * sizeof *sources);
            flows[n] = f;
            sources[n] = strndup(body + a, b - a);
            n++;
            if (strcmp(kt_flow_namespace(f), ns)) {
                kt_api_send_one_error(r, 422, "flow.namespace", "Flow namespace is invalid");
                goto done;
            }
            if (json_object_get(seen, kt_flow_id(f))) {
                kt_api_send_one_error(r, 422, "flow.id", "Duplicate flow id");
                goto done;
            }
            json_object_set_new(seen, kt_flow_id(f), json_true());
        }
        if (!sep)
            break;
        start = end + 3;
    }
    if (do_delete && kt_store_flow_ids(w->store, ns, &deleted_ids) != KT_OK) {
        kt_api_send_db_error(w, r);
        goto done;
    }
    if (kt_store_begin(w->store) != KT_OK) {
        kt_api_send_db_error(w, r);
        goto done;
    }
    size_t i;
    json_t *idv;
    json_array_foreach(deleted_ids, i, idv) {
        const char *id = json_string_value(idv);
        if (json_object_get(seen, id))
            continue;
        kt_flow_row row;
        if (kt_store_flow_get(w->store, ns, id, 0, &row) != KT_OK || kt_store_flow_delete(w->store, ns, id) != KT_OK)
            goto db_fail;
        json_array_append_new(result, json_pack("{s:s, s:s, s:i, s:b, s:s}", "id", id, "namespace", ns, "revision",
                                                row.revision + 1, "deleted", 1, "source", row.source));
        kt_flow_row_clear(&row);
    }
    for (i = 0; i < n; i++) {
        int revision, changed;
        if (kt_store_flow_save(w->store, ns, kt_flow_id(flows[i]), sources[i], &revision, &changed) != KT_OK)
            goto db_fail;
        json_array_append_new(result, kt_api_flow_json(flows[i], revision, sources[i]));
    }
    if (kt_store_commit(w->store) != KT_OK)
        goto db_fail;
    kt_http_send_json(r, 200, result);
    result = NULL;
    goto done;
db_fail:
    kt_api_send_db_error(w, r);
    kt_store_rollback(w->store);
done:
    for (size_t k = 0; k < n; k++) {
        kt_flow_free(flows[k]);
        free(sources[k]);
    }
    free(flows);
    free(sources);
    json_decref(result);
    json_decref(deleted_ids);
    json_decref(seen);
}

/* ---- executions ---------------------------------------------------------------------------------- */

/* ?labels=key:value (repeatable) -> [{key, value}]; system.* labels are Kestra's own. */
static json_t *kt_api_labels(kt_http_req *r)
{
    const char *vals[64];
    size_t n = kt_http_query_all(r, "labels", vals, 64);
    if (n > 64) {
        kt_http_send_error(r, 422, "Invalid queryString parameter: too many labels", NULL);
        return NULL;
    }
    json_t *labels = json_array();
    for (size_t i = 0; i < n; i++) {
        const char *colon = strchr(vals[i], ':');
        if (!colon || colon == vals[i]) {
            json_decref(labels);
            kt_http_send_error(r, 422, "Invalid queryString parameter", NULL);
            return NULL;
        }
        char *key = strndup(vals[i], (size_t)(colon - vals[i]));
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        if (!strncmp(key, "system.", 7) && strcmp(key, "system.correlationId")) {
            char msg[512];
            snprintf(msg, sizeof msg, "System labels can only be set by Kestra itself, offending label: %s=%s", key,
                     value);
            kt_api_send_one_error(r, 422, "labels", msg);
            free(key);
            json_decref(labels);
            return NULL;
        }
        json_array_append_new(labels, json_pack("{s:s, s:s}", "key", key, "value", value));
        free(key);
    }
    return labels;
}

/* Multipart text parts -> {name: value}. File parts are not stored yet: refused with a clear error. */
static json_t *kt_api_raw_inputs(kt_http_req *r)
{
    size_t len;
    const char *body = kt_http_body(r, &len);
    const char *ctype = kt_http_header(r, "content-type");
    json_t *raw = json_object();
    if (!len || !ctype || strncasecmp(ctype, "multipart/form-data", 19))
        return raw; /* no inputs sent */
    kt_multipart *m;
    char err[256];
    if (kt_multipart_parse(ctype, body, len, &m, err, sizeof err) != KT_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "Invalid multipart body: %s", err);
        kt_http_send_error(r, 422, msg, NULL);
        json_decref(raw);
        return NULL;
    }
    for (size_t i = 0; i < kt_multipart_count(m); i++) {
        const kt_multipart_part *p = kt_multipart_get(m, i);
        if (p->filename) {
            kt_api_send_one_error(r, 422, "inputs", "file inputs are not supported yet");
            kt_multipart_free(m);
            json_decref(raw);
            return NULL;
        }
        json_object_set_new(raw, p->name, json_stringn(p->data, p->len));
    }
    kt_multipart_free(m);
    return raw;
}

static void kt_api_execution_create(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *ns = kt_http_param(r, "namespace"), *id = kt_http_param(r, "id");
    int revision;
    if (kt_api_int_param(r, "revision", 0, &revision))
        return;
    kt_flow_row row;
    kt_status st = kt_store_flow_get(w->store, ns, id, revision, &row);
    if (st == KT_ENOTFOUND || (st == KT_OK && row.deleted)) {
        if (st == KT_OK)
            kt_flow_row_clear(&row);
        kt_http_send_error(r, 404, "Not Found: Requested Flow is not found.", NULL);
        return;
    }
    if (st) {
        kt_api_send_db_error(w, r);
        return;
    }
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *f = NULL;
    json_t *raw = NULL, *inputs = NULL, *labels = NULL, *ex = NULL;
    if (kt_flow_parse(row.source, strlen(row.source), "flow.yaml", &f, &d) != KT_OK) {
        char *msg = kt_diags_format(&d), text[1024];
        snprintf(text, sizeof text, "Illegal state: Requested Flow is not valid. Error: %s", msg ? msg : "?");
        free(msg);
        kt_http_send_error(r, 409, text, NULL);
        goto done;
    }
    if (kt_flow_disabled(f)) {
        kt_http_send_error(r, 409, "Illegal state: Requested Flow is disabled.", NULL);
        goto done;
    }
    if (!(labels = kt_api_labels(r)) || !(raw = kt_api_raw_inputs(r)))
        goto done;
    kt_diags_clear(&d);
    if (kt_inputs_resolve(kt_flow_inputs(f), raw, &inputs, &d) != KT_OK) {
        kt_api_send_diags(r, &d);
        goto done;
    }
    if (!kt_node_reachable(kt_actor_node(w->self), KT_EXECUTOR_ACTOR)) {
        kt_http_send_error(r, 503, "Service Unavailable: no executor is reachable", NULL);
        goto done;
    }
    char exid[KT_ID_LEN + 1];
    kt_id_new(exid);
    ex = kt_execution_new(exid, row.namespace_, row.id, row.revision, inputs, json_object_get(kt_flow_json(f), "labels"),
                          labels, kt_now_us());
    /* Answer once the executor has committed the execution: a GET right after the POST then finds it. */
    uint64_t corr = ++w->next_corr;
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXECUTION_CREATE, KT_EXECUTOR_ACTOR, kt_actor_address(w->self), corr);
    const char *wait = kt_http_query(r, "wait");
    kt_msg_execution_create body = {.execution = ex, .wait = wait && !strcmp(wait, "true")};
    kt_msg_encode_execution_create(&o, &body);
    if (kt_node_send(kt_actor_node(w->self), KT_EXECUTOR_ACTOR, &o) != KT_OK) {
        kt_http_send_error(r, 503, "Service Unavailable: no executor is reachable", NULL);
        goto done;
    }
    kt_pending *p = calloc(1, sizeof *p);
    p->req = kt_http_defer(r);
    p->execution = ex;
    p->wait = (int)body.wait;
    ex = NULL;
    char key[32];
    snprintf(key, sizeof key, "%llu", (unsigned long long)corr);
    kt_map_put(w->pending, key, p, NULL);
done:
    json_decref(ex);
    json_decref(labels);
    json_decref(raw);
    json_decref(inputs);
    kt_diags_clear(&d);
    kt_flow_free(f);
    kt_flow_row_clear(&row);
}

static void kt_api_on_reply(kt_webserver *w, const kt_msg *m)
{
    char key[32];
    snprintf(key, sizeof key, "%llu", (unsigned long long)m->corr);
    kt_pending *p = kt_map_del(w->pending, key);
    if (!p)
        return;
    kt_msg_reply rep;
    if (kt_msg_decode_reply(m->body, &rep) != KT_OK)
        rep = (kt_msg_reply){.status = KT_EPROTO, .message = NULL};
    if (rep.status == KT_OK && p->wait && !rep.data && kt_http_req_alive(p->req)) {
        kt_map_put(w->pending, key, p, NULL); /* created; the answer comes with the end */
        kt_msg_reply_clear(&rep);
        return;
    }
    if (kt_http_req_alive(p->req)) {
        if (rep.status == KT_OK) {
            json_t *out = kt_execution_present(rep.data ? rep.data : p->execution, kt_now_us());
            char url[1024];
            snprintf(url, sizeof url, "%s/ui/executions/%s/%s/%s", w->public_url,
                     json_string_value(json_object_get(out, "namespace")),
                     json_string_value(json_object_get(out, "flowId")), json_string_value(json_object_get(out, "id")));
            json_object_set_new(out, "url", json_string(url));
            kt_http_send_json(p->req, 200, out);
        } else {
            char msg[1024];
            snprintf(msg, sizeof msg, "Illegal state: %s", rep.message ? rep.message : kt_strerror(rep.status));
            kt_http_send_error(p->req, 409, msg, NULL);
        }
    }
    kt_http_req_release(p->req);
    kt_msg_reply_clear(&rep);
    json_decref(p->execution);
    free(p);
}

static void kt_api_execution_get(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    json_t *ex;
    kt_status st = kt_store_execution_get(w->store, kt_http_param(r, "executionId"), &ex);
    if (st == KT_ENOTFOUND) {
        kt_http_send_error(r, 404, "Not Found", NULL);
        return;
    }
    if (st) {
        kt_api_send_db_error(w, r);
        return;
    }
    kt_http_send_json(r, 200, kt_execution_present(ex, kt_now_us()));
    json_decref(ex);
}

/* DELETE /api/v1/executions/{executionId}/kill: 202 once the request is on its way (Kestra answers before the
 * executor acts). */
static void kt_api_execution_kill(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *id = kt_http_param(r, "executionId");
    json_t *ex;
    kt_status st = kt_store_execution_get(w->store, id, &ex);
    if (st == KT_ENOTFOUND) {
        kt_http_send_error(r, 404, "Not Found", NULL);
        return;
    }
    if (st) {
        kt_api_send_db_error(w, r);
        return;
    }
    const char *cascade = kt_http_query(r, "isOnKillCascade");
    int terminated = kt_state_is_terminated(kt_state_current(ex));
    json_decref(ex);
    if (terminated && cascade && !strcmp(cascade, "false")) {
        kt_http_send_error(r, 409, "Illegal state: Execution is already finished, can't kill it", NULL);
        return;
    }
    if (!terminated) {
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, KT_EXECUTOR_ACTOR, kt_actor_address(w->self), 0);
        kt_msg_exec_command body = {.execution_id = (char *)id, .taskrun_id = "", .command = "KILL"};
        kt_msg_encode_exec_command(&o, &body);
        if (kt_node_send(kt_actor_node(w->self), KT_EXECUTOR_ACTOR, &o) != KT_OK) {
            kt_http_send_error(r, 503, "Service Unavailable: no executor is reachable", NULL);
            return;
        }
    }
    kt_http_send_empty(r, 202);
}

/* The task of a stored execution's run, from the flow revision it runs. NULL when it cannot be found. */
static kt_flow *kt_api_execution_flow(kt_webserver *w, const json_t *ex)
{
    kt_flow_row row;
    if (kt_store_flow_get(w->store, json_string_value(json_object_get(ex, "namespace")),
                          json_string_value(json_object_get(ex, "flowId")),
                          (int)json_integer_value(json_object_get(ex, "flowRevision")), &row) != KT_OK)
        return NULL;
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *f = NULL;
    if (kt_flow_parse(row.source, strlen(row.source), "flow.yaml", &f, &d) != KT_OK)
        f = NULL;
    kt_diags_clear(&d);
    kt_flow_row_clear(&row);
    return f;
}

/* POST /api/v1/executions/{executionId}/resume: the onResume inputs of the paused task are checked here, as at
 * creation; the executor resumes it. 204. */
static void kt_api_execution_resume(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *id = kt_http_param(r, "executionId");
    char msg[512];
    json_t *ex = NULL, *raw = NULL, *typed = NULL;
    kt_flow *f = NULL;
    kt_diags d;
    kt_diags_init(&d);
    kt_status st = kt_store_execution_get(w->store, id, &ex);
    if (st == KT_ENOTFOUND) {
        snprintf(msg, sizeof msg, "Not Found: Execution '%s' not found.", id);
        kt_http_send_error(r, 404, msg, NULL);
        goto done;
    }
    if (st) {
        kt_api_send_db_error(w, r);
        goto done;
    }
    if (strcmp(kt_state_current(ex), "PAUSED")) {
        snprintf(msg, sizeof msg, "Illegal state: Execution '%s' is not paused, can't resume it", id);
        kt_http_send_error(r, 409, msg, NULL);
        goto done;
    }
    const char *paused_run = "";
    const json_t *defs = NULL;
    size_t i;
    json_t *tr;
    f = kt_api_execution_flow(w, ex);
    json_array_foreach(json_object_get(ex, "taskRunList"), i, tr) {
        if (!strcmp(kt_state_current(tr), "PAUSED")) {
            paused_run = json_string_value(json_object_get(tr, "id"));
            const json_t *task = f ? kt_exec_find_task(kt_flow_json(f), json_string_value(json_object_get(tr, "taskId"))) : NULL;
            defs = json_object_get(task, "onResume");
            break;
        }
    }
    if (!(raw = kt_api_raw_inputs(r)))
        goto done;
    if (kt_inputs_resolve(defs, raw, &typed, &d) != KT_OK) {
        kt_api_send_diags(r, &d);
        goto done;
    }
    kt_outmsg o;
    kt_outmsg_begin(&o, KT_MSG_EXEC_COMMAND, KT_EXECUTOR_ACTOR, kt_actor_address(w->self), 0);
    kt_msg_exec_command body = {.execution_id = (char *)id, .taskrun_id = (char *)paused_run, .command = "RESUME",
                                .data = typed};
    kt_msg_encode_exec_command(&o, &body);
    if (kt_node_send(kt_actor_node(w->self), KT_EXECUTOR_ACTOR, &o) != KT_OK) {
        kt_http_send_error(r, 503, "Service Unavailable: no executor is reachable", NULL);
        goto done;
    }
    kt_http_send_empty(r, 204);
done:
    kt_diags_clear(&d);
    kt_flow_free(f);
    json_decref(ex);
    json_decref(raw);
    json_decref(typed);
}

/* ---- searches ------------------------------------------------------------------------------------ */

/* page (>= 1, default 1) and size (>= 1, default 10); 422 otherwise. */
static int kt_api_paging(kt_http_req *r, int *page, int *size)
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
static size_t kt_api_label_filters(kt_http_req *r, const char **out, char *buf, size_t cap, int *bad)
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

static void kt_api_execution_search(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    kt_exec_query q = {.sort_desc = 1};
    if (kt_api_paging(r, &q.page, &q.size))
        return;
    q.namespace_ = kt_http_query(r, "namespace");
    q.flow_id = kt_http_query(r, "flowId");
    q.q = kt_http_query(r, "q");
    if (q.namespace_ && !*q.namespace_)
        q.namespace_ = NULL;
    if (q.flow_id && !*q.flow_id)
        q.flow_id = NULL;
    if (q.q && !*q.q)
        q.q = NULL;
    if (!strcmp(kt_http_path(r), "/api/v1/executions") && (!q.namespace_ || !q.flow_id)) {
        kt_http_send_error(r, 400, !q.namespace_ ? "Bad Request: Required QueryValue [namespace] not specified"
                                                 : "Bad Request: Required QueryValue [flowId] not specified",
                           NULL);
        return;
    }
    const char *states[16];
    q.nstates = kt_http_query_all(r, "state", states, 16);
    q.states = states;
    for (size_t i = 0; i < q.nstates && i < 16; i++)
        if (!kt_state_is_valid(states[i])) {
            char msg[256];
            snprintf(msg, sizeof msg, "Invalid format: '%s' is not a state", states[i]);
            kt_http_send_error(r, 422, msg, NULL);
            return;
        }
    const char *labels[64];
    char lbuf[4096];
    int bad;
    q.nlabels = kt_api_label_filters(r, labels, lbuf, sizeof lbuf, &bad);
    if (bad)
        return;
    q.labels = labels;
    const char *sorts[4];
    if (kt_http_query_all(r, "sort", sorts, 4) > 0) {
        const char *colon = strchr(sorts[0], ':');
        char field[64];
        if (!colon || strchr(colon + 1, ':') || (size_t)(colon - sorts[0]) >= sizeof field) {
            kt_http_send_error(r, 422, "Invalid sort parameter", NULL);
            return;
        }
        snprintf(field, sizeof field, "%.*s", (int)(colon - sorts[0]), sorts[0]);
        q.sort_column = kt_store_exec_sort_column(field);
        q.sort_desc = strcmp(colon + 1, "asc") != 0;
    }
    const char *sd = kt_http_query(r, "startDate"), *ed = kt_http_query(r, "endDate"), *tr = kt_http_query(r, "timeRange");
    if ((sd && kt_time_parse(sd, &q.start_from_us)) || (ed && kt_time_parse(ed, &q.start_to_us))) {
        kt_http_send_error(r, 422, "Invalid format: dates are ISO-8601 (yyyy-MM-ddTHH:mm[:ss][.SSS][XXX])", NULL);
        return;
    }
    if (sd && ed && q.start_from_us > q.start_to_us) {
        kt_http_send_error(r, 422, "Illegal argument: Start date must be before End Date", NULL);
        return;
    }
    if (tr) {
        int64_t range;
        if (sd) {
            kt_http_send_error(r, 422, "Illegal argument: Parameters 'startDate' and 'timeRange' are mutually exclusive",
                               NULL);
            return;
        }
        if (kt_duration_parse(tr, &range)) {
            kt_http_send_error(r, 422, "Invalid format: timeRange is an ISO-8601 duration (PT5M, P1D)", NULL);
            return;
        }
        q.start_from_us = kt_now_us() - range;
    }
    json_t *results;
    int64_t total;
    if (kt_store_executions_search(w->store, &q, &results, &total) != KT_OK) {
        kt_api_send_db_error(w, r);
        return;
    }
    json_t *presented = json_array();
    size_t i;
    json_t *ex;
    int64_t now = kt_now_us();
    json_array_foreach(results, i, ex) json_array_append_new(presented, kt_execution_present(ex, now));
    json_decref(results);
    kt_http_send_json(r, 200, json_pack("{s:o, s:I}", "results", presented, "total", (json_int_t)total));
}

/* Flow JSON of the latest revisions matching, parsed from their sources (no `source`). */
static json_t *kt_api_flows_matching(kt_webserver *w, const char *ns_prefix, const char *q, int exact_ns)
{
    json_t *rows;
    if (kt_store_flows_latest(w->store, ns_prefix, q, &rows) != KT_OK)
        return NULL;
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if (exact_ns && strcmp(json_string_value(json_object_get(row, "namespace")), ns_prefix))
            continue;
        const char *src = json_string_value(json_object_get(row, "source"));
        kt_diags d;
        kt_diags_init(&d);
        kt_flow *f = NULL;
        if (kt_flow_parse(src, strlen(src), "flow.yaml", &f, &d) == KT_OK)
            json_array_append_new(out, kt_api_flow_json(f, (int)json_integer_value(json_object_get(row, "revision")), NULL));
        kt_flow_free(f);
        kt_diags_clear(&d);
    }
    json_decref(rows);
    return out;
}

static int kt_api_flow_has_labels(const json_t *flow, const char *const *labels, size_t n)
{
    json_t *fl = json_object_get(flow, "labels");
    for (size_t k = 0; k < n; k++) {
        const char *key = labels[2 * k], *value = labels[2 * k + 1];
        int found = 0;
        if (json_is_object(fl)) {
            json_t *v = json_object_get(fl, key);
            found = json_is_string(v) && !strcmp(json_string_value(v), value);
        } else {
            size_t i;
            json_t *l;
            json_array_foreach(fl, i, l) found |= !strcmp(json_string_value(json_object_get(l, "key")) ? json_string_value(json_object_get(l, "key")) : "", key) &&
                                                    json_is_string(json_object_get(l, "value")) &&
                                                    !strcmp(json_string_value(json_object_get(l, "value")), value);
        }
        if (!found)
            return 0;
    }
    return 1;
}

static void kt_api_flow_search(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    int page, size, bad;
    if (kt_api_paging(r, &page, &size))
        return;
    const char *ns = kt_http_query(r, "namespace"), *q = kt_http_query(r, "q");
    const char *labels[64];
    char lbuf[4096];
    size_t nlabels = kt_api_label_filters(r, labels, lbuf, sizeof lbuf, &bad);
    if (bad)
        return;
    json_t *all = kt_api_flows_matching(w, ns && *ns ? ns : NULL, q && *q ? q : NULL, 0);
    if (!all) {
        kt_api_send_db_error(w, r);
        return;
    }
    json_t *results = json_array();
    size_t i, total = 0;
    json_t *f;
    json_array_foreach(all, i, f) {
        if (!kt_api_flow_has_labels(f, labels, nlabels))
            continue;
        if (total >= (size_t)(page - 1) * (size_t)size && json_array_size(results) < (size_t)size)
            json_array_append(results, f);
        total++;
    }
    json_decref(all);
    kt_http_send_json(r, 200, json_pack("{s:o, s:I}", "results", results, "total", (json_int_t)total));
}

static void kt_api_flow_list_namespace(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    json_t *all = kt_api_flows_matching(w, kt_http_param(r, "namespace"), NULL, 1);
    if (!all) {
        kt_api_send_db_error(w, r);
        return;
    }
    kt_http_send_json(r, 200, all);
}

/* ---- logs ---------------------------------------------------------------------------------------- */

static void kt_api_logs_get(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    kt_log_filter f = {.min_level = kt_http_query(r, "minLevel"), .taskrun_id = kt_http_query(r, "taskRunId"),
                       .task_id = kt_http_query(r, "taskId"), .attempt = -1};
    if (f.min_level && !*f.min_level)
        f.min_level = NULL;
    if (f.min_level && kt_store_level_rank(f.min_level) < 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "Invalid format: '%s' is not a log level (TRACE, DEBUG, INFO, WARN, ERROR)",
                 f.min_level);
        kt_http_send_error(r, 422, msg, NULL);
        return;
    }
    if (kt_api_int_param(r, "attempt", -1, &f.attempt))
        return;
    json_t *list;
    if (kt_store_logs_get(w->store, kt_http_param(r, "executionId"), &f, &list) != KT_OK) {
        kt_api_send_db_error(w, r);
        return;
    }
    kt_http_send_json(r, 200, list);
}

static void kt_api_health(kt_http_req *r, void *ud)
{
    (void)ud;
    kt_http_send_json(r, 200, json_pack("{s:s}", "status", "UP"));
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
}

static const kt_actor_ops kt_webserver_ops = {.receive = kt_webserver_receive, .stop = kt_webserver_stop};

kt_status kt_webserver_start(kt_node *node, kt_store *store, const kt_webserver_config *cfg, kt_webserver **out,
                             char *err, size_t errcap)
{
    kt_webserver *w = calloc(1, sizeof *w);
    if (!w)
        return KT_ENOMEM;
    w->store = store;
    w->pending = kt_map_new();
    const char *host = cfg && cfg->host ? cfg->host : "0.0.0.0";
    int port = cfg ? cfg->port : 8080;
    kt_status st = kt_http_new(kt_node_loop(node), &w->http);
    if (st)
        goto fail;
    static const struct {
        const char *method, *pattern;
        kt_http_handler h;
    } routes[] = {
        {"GET", "/health", kt_api_health},
        {"POST", "/api/v1/flows", kt_api_flow_create},
        {"POST", "/api/v1/flows/validate", kt_api_flow_validate},
        {"POST", "/api/v1/flows/{namespace}", kt_api_flow_namespace_update},
        {"GET", "/api/v1/flows/{namespace}/{id}", kt_api_flow_get},
        {"PUT", "/api/v1/flows/{namespace}/{id}", kt_api_flow_update},
        {"DELETE", "/api/v1/flows/{namespace}/{id}", kt_api_flow_delete},
        {"POST", "/api/v1/executions/{namespace}/{id}", kt_api_execution_create},
        {"GET", "/api/v1/executions/{executionId}", kt_api_execution_get},
        {"GET", "/api/v1/executions/search", kt_api_execution_search},
        {"DELETE", "/api/v1/executions/{executionId}/kill", kt_api_execution_kill},
        {"POST", "/api/v1/executions/{executionId}/resume", kt_api_execution_resume},
        {"GET", "/api/v1/executions", kt_api_execution_search},
        {"GET", "/api/v1/flows/search", kt_api_flow_search},
        {"GET", "/api/v1/flows/{namespace}", kt_api_flow_list_namespace},
        {"GET", "/api/v1/logs/{executionId}", kt_api_logs_get},
    };
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if ((st = kt_http_route(w->http, routes[i].method, routes[i].pattern, routes[i].h, w)))
            goto fail;
    if ((st = kt_http_listen(w->http, host, port))) {
        snprintf(err, errcap, "cannot listen on %s:%d (%s)", host, port, kt_strerror(st));
        goto fail;
    }
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
    kt_map_free(w->pending);
    free(w);
    return st;
}

int kt_webserver_port(const kt_webserver *w) { return kt_http_port(w->http); }

void kt_webserver_free(kt_webserver *w)
{
    if (!w)
        return;
    kt_http_free(w->http);
    size_t pos = 0;
    const char *key;
    void *val;
    while (kt_map_next(w->pending, &pos, &key, &val)) {
        kt_pending *p = val;
        kt_http_req_release(p->req);
        json_decref(p->execution);
        free(p);
    }
    kt_map_free(w->pending);
    free(w);
}
