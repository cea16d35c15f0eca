/* The flow endpoints of Kestra's API (/api/v1/flows): create and update from YAML with revisions, validate (with
 * Kestra's deprecation paths for legacy type names), get, delete, namespace update (a multi-document YAML for the
 * whole namespace), search and list by namespace. Flows are parsed and checked by flow/flow.h and stored as
 * their source. */
#include "base/alloc.h"
#include "flow/deprecation.h"
#include "flow/dialect.h"
#include "flow/flow.h"
#include "flow/flow_source.h"
#include "flow/tasks.h"
#include "flow/yaml.h"
#include "web/api_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- flows --------------------------------------------------------------------------------------- */

/* Flow (or FlowWithSource when source != NULL) as the API returns it. */
json_t *kt_api_flow_json(const kt_flow *f, int revision, const char *source)
{
    json_t *j = json_deep_copy(kt_flow_json(f));
    json_object_set_new(j, "revision", json_integer(revision));
    if (source)
        json_object_set_new(j, "source", json_string(source));
    return j;
}

/* Tells the scheduler a flow revision was committed (saved or deleted): it creates, updates or deletes the flow's
 * trigger rows. */
static void kt_api_flow_changed(kt_webserver *w, const char *ns, const char *id)
{
    kt_api_notify_scheduler(w, KT_MSG_FLOW_CHANGED, json_pack("{s:s, s:s}", "namespace", ns, "id", id));
}

static kt_flow *kt_api_parse_flow(kt_webserver *w, kt_http_req *r, const char *body, size_t len)
{
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *f = NULL;
    if (kt_flow_parse_with_defaults(body, len, "flow.yaml", w->plugin_defaults, &f, &d) != KT_OK) {
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

/* A body sent as application/json: Kestra's deprecated JSON routes (a Flow object, or a list of them). */
static int kt_api_is_json(kt_http_req *r)
{
    const char *ct = kt_http_header(r, "content-type");
    return ct && !strncasecmp(ct, "application/json", 16);
}

/* The JSON body parsed; NULL after answering 422 (Kestra's JsonProcessingException answer). */
static json_t *kt_api_json_body(kt_http_req *r)
{
    size_t len;
    const char *body = kt_http_body(r, &len);
    json_error_t jerr;
    json_t *v = json_loadb(body, len, 0, &jerr);
    if (!v) {
        char msg[512];
        snprintf(msg, sizeof msg, "Invalid json: %s", jerr.text);
        kt_http_send_error(r, 422, msg, NULL);
    }
    return v;
}

/* The YAML source Kestra keeps for a JSON flow (Flow.generateSource: no revision, no source of its own). */
static char *kt_api_json_flow_source(const json_t *flow)
{
    json_t *copy = json_deep_copy(flow);
    json_object_del(copy, "source");
    /* Kestra's NON_DEFAULT mapper leaves the flow's default booleans out (a JSON Flow always carries them) */
    if (json_is_false(json_object_get(copy, "deleted")))
        json_object_del(copy, "deleted");
    if (json_is_false(json_object_get(copy, "disabled")))
        json_object_del(copy, "disabled");
    char *src = kt_flow_source_generate(copy);
    json_decref(copy);
    return src;
}

/* A flow's save, as one transaction: the creation's "already exists" and the update's "not found" are checked
 * where the revision is written. */
typedef struct kt_api_save_job {
    kt_flow *f;
    char *source;
    int creating, json;
    int revision, changed; /* outputs */
    kt_dialect stored;     /* output: the dialect of the revision the save left latest */
} kt_api_save_job;

static kt_status kt_api_save_run(kt_store *s, void *ud)
{
    kt_api_save_job *j = ud;
    j->revision = j->changed = 0;
    const char *ns = kt_flow_namespace(j->f), *id = kt_flow_id(j->f);
    kt_flow_row row;
    kt_status st = kt_store_flow_get(s, ns, id, 0, &row);
    kt_dialect parsed = kt_dialect_of_flow(kt_flow_json(j->f));
    /* the same source saved again is no new revision: it keeps the dialect it was saved in (store.h) */
    j->stored = st == KT_OK && !strcmp(row.source, j->source) ? row.dialect : parsed;
    if (st == KT_OK)
        kt_flow_row_clear(&row);
    if (st == KT_OK && j->creating)
        return KT_ECONFLICT;
    if (st != KT_OK && (st != KT_ENOTFOUND || !j->creating))
        return st;
    return kt_store_flow_save_dialect(s, ns, id, j->source, parsed, &j->revision, &j->changed);
}

static void kt_api_save_answer(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_save_job *j = ud;
    if (st == KT_ECONFLICT) {
        kt_api_send_one_error(r, 422, "flow.id", "Flow id already exists");
        return;
    }
    if (kt_api_read_failed(r, st, err, "Not Found", NULL))
        return;
    if (j->changed)
        kt_api_flow_changed(w, kt_flow_namespace(j->f), kt_flow_id(j->f));
    /* the JSON routes answer a Flow, without its (generated) source; its dialect is the stored revision's */
    json_t *out = kt_api_flow_json(j->f, j->revision, j->json ? NULL : j->source);
    if (!j->changed)
        json_object_set_new(out, "dialect", json_string(kt_dialect_name(j->stored)));
    kt_http_send_json(r, 200, out);
}

static void kt_api_save_free(void *ud)
{
    kt_api_save_job *j = ud;
    kt_flow_free(j->f);
    free(j->source);
    free(j);
}

static void kt_api_flow_save(kt_webserver *w, kt_http_req *r, const char *ns, const char *id)
{
    size_t len;
    const char *body = kt_http_body(r, &len);
    char *generated = NULL;
    int json = kt_api_is_json(r);
    if (json) {
        json_t *v = kt_api_json_body(r);
        if (!v)
            return;
        if (!json_is_object(v)) {
            kt_http_send_error(r, 422, "Invalid json: a flow object is expected", NULL);
            json_decref(v);
            return;
        }
        generated = kt_api_json_flow_source(v);
        json_decref(v);
        body = generated;
        len = strlen(generated);
    }
    kt_flow *f = kt_api_parse_flow(w, r, body, len);
    if (!f) {
        free(generated);
        return;
    }
    char *source = kt_xstrndup(body, len);
    free(generated);
    if (ns && strcmp(ns, kt_flow_namespace(f))) {
        kt_api_send_one_error(r, 422, "flow.namespace", "Illegal namespace update");
        goto fail;
    }
    if (id && strcmp(id, kt_flow_id(f))) {
        kt_api_send_one_error(r, 422, "flow.id", "Illegal flow id update");
        goto fail;
    }
    kt_api_save_job *j = kt_xcalloc(1, sizeof *j);
    *j = (kt_api_save_job){.f = f, .source = source, .creating = ns == NULL, .json = json};
    kt_api_txn(w, r, kt_api_save_run, kt_api_save_answer, j, kt_api_save_free);
    return;
fail:
    free(source);
    kt_flow_free(f);
}

void kt_api_flow_create(kt_http_req *r, void *ud) { kt_api_flow_save(ud, r, NULL, NULL); }

kt_status kt_api_flow_import(kt_webserver *w, const kt_flow *f, const char *source)
{
    int revision, changed;
    kt_status st = kt_store_flow_save_dialect(w->store, kt_flow_namespace(f), kt_flow_id(f), source,
                                              kt_dialect_of_flow(kt_flow_json(f)), &revision, &changed);
    if (st == KT_OK && changed)
        kt_api_flow_changed(w, kt_flow_namespace(f), kt_flow_id(f));
    return st;
}

void kt_api_flow_update(kt_http_req *r, void *ud)
{
    kt_api_flow_save(ud, r, kt_http_param(r, "namespace"), kt_http_param(r, "id"));
}

/* Legacy type names (io.kestra.core.tasks.* ...) anywhere in the document: Kestra says what replaces them in infos
 * (FlowService.relocations; an alias is no deprecated class, so no deprecation path). */
static void kt_api_walk_aliases(const json_t *v, const char *path, json_t *infos)
{
    char sub[512];
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            kt_api_walk_aliases(x, sub, infos);
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
            json_array_append_new(infos, json_string(info));
        }
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
        kt_api_walk_aliases(x, sub, infos);
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
    kt_diags dw; /* the dialect's deprecations (flow/dialect.h) */
    kt_diags_init(&dw);
    kt_flow_parse_opts o = {.server_defaults = w->plugin_defaults, .warnings = &dw};
    if (kt_flow_parse_opt(doc, len, "flow.yaml", &o, &f, &d) != KT_OK) {
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
    json_t *infos = json_array(), *paths = kt_flow_deprecation_paths(root), *warnings = kt_flow_warnings(root);
    kt_api_walk_aliases(root, "", infos);
    kt_flow_deprecation_merge(paths, warnings, &dw);
    json_object_set_new(out, "deprecationPaths", paths);
    json_object_set_new(out, "warnings", warnings);
    json_object_set_new(out, "infos", infos);
    /* Kite's: the line the document is read in (a refused one too: what its constructs make it) */
    if (root)
        json_object_set_new(out, "dialect",
                            json_string(kt_dialect_name(f ? kt_dialect_of_flow(kt_flow_json(f))
                                                          : kt_flow_dialect_detect(root, kt_flow_dialect_default()))));
    kt_flow_free(f);
    kt_diags_clear(&d);
    kt_diags_clear(&dw);
    kt_yaml_docs_free(docs, ndocs);
    return out;
}

/* POST /api/v1/flows/validate: always 200, one entry per document (split on lines starting with ---). */
void kt_api_flow_validate(kt_http_req *r, void *ud)
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

static void kt_api_flow_got(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_flow_job *j = ud;
    if (kt_api_read_failed(r, st, err, "Not Found", NULL))
        return;
    if (!j->any && j->row.deleted) { /* an explicit revision that is a deletion */
        kt_http_send_error(r, 404, "Not Found", NULL);
        return;
    }
    const kt_flow_row *row = &j->row;
    if (kt_api_flow_job_parse(w, j) == KT_EINVAL) {
        /* FlowWithException: a stored flow that no longer parses */
        char *msg = kt_diags_format(&j->d);
        json_t *out = json_pack("{s:s, s:s, s:i, s:s, s:s?}", "id", row->id, "namespace", row->namespace_, "revision",
                                row->revision, "source", row->source, "exception", msg);
        free(msg);
        kt_http_send_json(r, 200, out);
    } else {
        const char *src = kt_http_query(r, "source"); /* Kestra: Flow by default, FlowWithSource with source=true */
        int with_source = src && !strcmp(src, "true");
        json_t *out = kt_api_flow_json(j->flow, row->revision, with_source ? row->source : NULL);
        if (row->deleted)
            json_object_set_new(out, "deleted", json_true());
        kt_http_send_json(r, 200, out);
    }
}

void kt_api_flow_get(kt_http_req *r, void *ud)
{
    int revision;
    if (kt_api_int_param(r, "revision", 0, &revision))
        return;
    const char *ad = kt_http_query(r, "allowDeleted");
    /* allowDeleted: the latest revision even when it is a deletion (Kestra's allowDeleted) */
    kt_api_read_flow(ud, r, kt_http_param(r, "namespace"), kt_http_param(r, "id"), revision,
                     ad && !strcmp(ad, "true"), kt_api_flow_got, NULL);
}

typedef struct kt_api_flow_key {
    char *ns, *id;
} kt_api_flow_key;

static kt_status kt_api_flow_delete_run(kt_store *s, void *ud)
{
    kt_api_flow_key *k = ud;
    return kt_store_flow_delete(s, k->ns, k->id);
}

static void kt_api_flow_deleted(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_flow_key *k = ud;
    if (kt_api_read_failed(r, st, err, "Not Found", NULL))
        return;
    kt_api_flow_changed(w, k->ns, k->id);
    kt_http_send_empty(r, 204);
}

static void kt_api_flow_key_free(void *ud)
{
    kt_api_flow_key *k = ud;
    free(k->ns);
    free(k->id);
    free(k);
}

void kt_api_flow_delete(kt_http_req *r, void *ud)
{
    kt_api_flow_key *k = kt_xcalloc(1, sizeof *k);
    k->ns = kt_xstrdup(kt_http_param(r, "namespace"));
    k->id = kt_xstrdup(kt_http_param(r, "id"));
    kt_api_txn(ud, r, kt_api_flow_delete_run, kt_api_flow_deleted, k, kt_api_flow_key_free);
}

/* One flow of a namespace or bulk update: its parse and the source kept. */
typedef struct kt_api_upd {
    kt_flow **flows;
    char **sources;
    size_t n;
} kt_api_upd;

static void kt_api_upd_free(kt_api_upd *u)
{
    for (size_t k = 0; k < u->n; k++) {
        kt_flow_free(u->flows[k]);
        free(u->sources[k]);
    }
    free(u->flows);
    free(u->sources);
}

/* Parses one source (len bytes) into u; 0, or -1 after answering r. */
static int kt_api_upd_add(kt_webserver *w, kt_http_req *r, kt_api_upd *u, const char *src, size_t len)
{
    kt_flow *f = kt_api_parse_flow(w, r, src, len);
    if (!f)
        return -1;
    u->flows = kt_xrealloc(u->flows, (u->n + 1) * sizeof *u->flows);
    u->sources = kt_xrealloc(u->sources, (u->n + 1) * sizeof *u->sources);
    u->flows[u->n] = f;
    u->sources[u->n] = kt_xstrndup(src, len);
    u->n++;
    return 0;
}

/* The body's flows: a JSON list of Flow objects (sources generated), or YAML split literally on "---", each part
 * trimmed (FlowController.updateNamespace); 0, or -1 after answering r. */
static int kt_api_upd_parse(kt_webserver *w, kt_http_req *r, int json, kt_api_upd *u)
{
    size_t len;
    const char *body = kt_http_body(r, &len);
    if (json) {
        json_t *list = kt_api_json_body(r);
        if (!list)
            return -1;
        if (!json_is_array(list)) {
            kt_http_send_error(r, 422, "Invalid json: a list of flows is expected", NULL);
            json_decref(list);
            return -1;
        }
        size_t i;
        json_t *x;
        json_array_foreach(list, i, x) {
            char *src = json_is_object(x) ? kt_api_json_flow_source(x) : kt_xstrdup("");
            int bad = kt_api_upd_add(w, r, u, src, strlen(src));
            free(src);
            if (bad) {
                json_decref(list);
                return -1;
            }
        }
        json_decref(list);
        return 0;
    }
    for (size_t start = 0; start <= len;) {
        const char *sep = len - start >= 3 ? memmem(body + start, len - start, "---", 3) : NULL;
        size_t end = sep ? (size_t)(sep - body) : len;
        size_t a = start, b = end;
        while (a < b && strchr(" \t\r\n", body[a]))
            a++;
        while (b > a && strchr(" \t\r\n", body[b - 1]))
            b--;
        if (b > a && kt_api_upd_add(w, r, u, body + a, b - a))
            return -1;
        if (!sep)
            break;
        start = end + 3;
    }
    return 0;
}

/* The namespace update's (and the bulk update's) writes, as one transaction: the live flows read, the ones not in the
 * body deleted (do_delete), the body's saved. Outputs: deleted (the live rows it deleted), revisions[] and changed[]
 * per body flow. */
typedef struct kt_api_replace_job {
    kt_api_upd u;
    char *ns;           /* NULL: every namespace */
    int do_delete, json;
    json_t *seen;       /* "ns\nid" of the body's flows (read-only in fn) */
    json_t *deleted;    /* output: [{namespace, id, revision, source}] */
    int *revisions, *changed;
} kt_api_replace_job;

static kt_status kt_api_replace_run(kt_store *s, void *ud)
{
    kt_api_replace_job *j = ud;
    json_decref(j->deleted);
    j->deleted = json_array();
    json_t *live = NULL;
    kt_status st = j->do_delete ? kt_store_flows_latest(s, j->ns, NULL, &live) : KT_OK;
    if (st)
        return st;
    size_t i;
    json_t *row;
    json_array_foreach(live, i, row) {
        const char *rns = json_string_value(json_object_get(row, "namespace"));
        const char *id = json_string_value(json_object_get(row, "id"));
        char key[1024];
        snprintf(key, sizeof key, "%s\n%s", rns, id);
        if ((j->ns && strcmp(rns, j->ns)) || json_object_get(j->seen, key)) /* the namespace itself, not its children */
            continue;
        if ((st = kt_store_flow_delete(s, rns, id)) != KT_OK)
            break;
        json_array_append(j->deleted, row);
    }
    json_decref(live);
    for (i = 0; st == KT_OK && i < j->u.n; i++) {
        j->changed[i] = 0;
        st = kt_store_flow_save_dialect(s, kt_flow_namespace(j->u.flows[i]), kt_flow_id(j->u.flows[i]),
                                        j->u.sources[i], kt_dialect_of_flow(kt_flow_json(j->u.flows[i])),
                                        &j->revisions[i], &j->changed[i]);
    }
    return st;
}

static void kt_api_replace_answer(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_replace_job *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    json_t *result = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(j->deleted, i, row) {
        const char *rns = json_string_value(json_object_get(row, "namespace"));
        const char *id = json_string_value(json_object_get(row, "id"));
        json_t *d = json_pack("{s:s, s:s, s:i, s:b}", "id", id, "namespace", rns, "revision",
                              (int)json_integer_value(json_object_get(row, "revision")) + 1, "deleted", 1);
        if (!j->json)
            json_object_set(d, "source", json_object_get(row, "source"));
        json_array_append_new(result, d);
        kt_api_flow_changed(w, rns, id);
    }
    for (i = 0; i < j->u.n; i++) {
        if (j->changed[i])
            kt_api_flow_changed(w, kt_flow_namespace(j->u.flows[i]), kt_flow_id(j->u.flows[i]));
        json_array_append_new(result,
                              kt_api_flow_json(j->u.flows[i], j->revisions[i], j->json ? NULL : j->u.sources[i]));
    }
    kt_http_send_json(r, 200, result);
}

static void kt_api_replace_free(void *ud)
{
    kt_api_replace_job *j = ud;
    kt_api_upd_free(&j->u);
    free(j->ns);
    json_decref(j->seen);
    json_decref(j->deleted);
    free(j->revisions);
    free(j->changed);
    free(j);
}

/* The namespace update (ns) and POST /api/v1/flows/bulk (ns NULL: no namespace check, and delete=true deletes
 * every flow not in the body): every document is checked before anything is written; the answer lists the flows
 * deleted, then the ones created or updated, in body order (Flow without source for the JSON variant). */
static void kt_api_flows_replace(kt_webserver *w, kt_http_req *r, const char *ns)
{
    const char *del = kt_http_query(r, "delete");
    kt_api_replace_job *j = kt_xcalloc(1, sizeof *j);
    j->do_delete = !del || strcmp(del, "false");
    j->json = kt_api_is_json(r);
    j->ns = ns ? kt_xstrdup(ns) : NULL;
    j->seen = json_object();
    if (kt_api_upd_parse(w, r, j->json, &j->u))
        goto fail;
    for (size_t k = 0; k < j->u.n; k++) {
        const char *fns = kt_flow_namespace(j->u.flows[k]), *fid = kt_flow_id(j->u.flows[k]);
        if (ns && strcmp(fns, ns)) {
            kt_api_send_one_error(r, 422, "flow.namespace", "Flow namespace is invalid");
            goto fail;
        }
        char key[1024];
        snprintf(key, sizeof key, "%s\n%s", fns, fid);
        if (json_object_get(j->seen, key)) {
            kt_api_send_one_error(r, 422, "flow.id", "Duplicate flow id");
            goto fail;
        }
        json_object_set_new(j->seen, key, json_true());
    }
    j->revisions = kt_xcalloc(j->u.n + 1, sizeof *j->revisions);
    j->changed = kt_xcalloc(j->u.n + 1, sizeof *j->changed);
    kt_api_txn(w, r, kt_api_replace_run, kt_api_replace_answer, j, kt_api_replace_free);
    return;
fail:
    kt_api_replace_free(j);
}

/* POST /api/v1/flows/{namespace}: the namespace's flows become exactly the ones in the body. */
void kt_api_flow_namespace_update(kt_http_req *r, void *ud)
{
    kt_api_flows_replace(ud, r, kt_http_param(r, "namespace"));
}

/* POST /api/v1/flows/bulk: the same for the whole instance, without the namespace check. */
void kt_api_flow_bulk(kt_http_req *r, void *ud)
{
    /* YAML only (Kestra's route consumes application/x-yaml): a JSON `[]` would otherwise delete every flow */
    if (kt_api_is_json(r)) {
        kt_http_send_error(r, 415, "Unsupported Media Type",
                           json_pack("[{s:s}]", "message", "Content Type [application/json] not allowed. Allowed types: "
                                                             "[application/x-yaml]"));
        return;
    }
    kt_api_flows_replace(ud, r, NULL);
}

/* ---- searches ------------------------------------------------------------------------------------ */

/* Java's split("\\p{P}|\\p{S}|\\p{Z}") (ASCII punctuation and symbols, and spaces, each a separator): the words of q,
 * each ending at the next separator; trailing empty words dropped as Java drops them. */
static size_t kt_api_q_words(const char *q, const char **starts, size_t *lens, size_t max)
{
    size_t n = 0, start = 0, len = strlen(q);
    for (size_t i = 0; i <= len && n < max; i++) {
        unsigned char c = (unsigned char)q[i];
        if (i < len && !(c < 0x80 && (ispunct(c) || c == ' ')))
            continue;
        starts[n] = q + start;
        lens[n++] = i - start;
        start = i + 1;
    }
    while (n && !lens[n - 1])
        n--;
    return n;
}

size_t kt_api_q_word_copies(const char *q, char **out, size_t max, size_t *ncopied)
{
    const char *starts[32];
    size_t lens[32];
    size_t n = kt_api_q_words(q, starts, lens, 32);
    *ncopied = 0;
    for (size_t k = 0; k < n; k++)
        if (lens[k] && *ncopied < max)
            out[(*ncopied)++] = kt_xstrndup(starts[k], lens[k]);
    return n;
}

int kt_api_fulltext(const char *text, const char *q)
{
    if (!strcmp(q, "*"))
        return 1;
    const char *starts[32];
    size_t lens[32];
    size_t n = kt_api_q_words(q, starts, lens, 32);
    if (!n) /* H2's falseCondition: nothing matches */
        return 0;
    for (size_t k = 0; k < n; k++) {
        int found = lens[k] == 0;
        for (const char *t = text; !found && *t; t++)
            found = !strncasecmp(t, starts[k], lens[k]);
        if (!found)
            return 0;
    }
    return 1;
}

/* Kestra's flows `fulltext` column: the id followed by the namespace. */
static int kt_api_flow_fulltext(const json_t *row, const char *q)
{
    char text[512];
    snprintf(text, sizeof text, "%s%s", json_string_value(json_object_get(row, "id")),
             json_string_value(json_object_get(row, "namespace")));
    return kt_api_fulltext(text, q);
}

int kt_api_flow_sort_param(kt_http_req *r, char *field, size_t cap, int *desc)
{
    const char *sorts[4];
    field[0] = 0;
    *desc = 0;
    if (!kt_http_query_all(r, "sort", sorts, 4))
        return 0;
    const char *colon = strchr(sorts[0], ':');
    if (!colon || strchr(colon + 1, ':') || (size_t)(colon - sorts[0]) >= cap) {
        kt_http_send_error(r, 422, "Invalid sort parameter", NULL);
        return -1;
    }
    snprintf(field, cap, "%.*s", (int)(colon - sorts[0]), sorts[0]);
    if (strcmp(field, "id") && strcmp(field, "namespace") && strcmp(field, "revision")) {
        /* the flows table has no such column: Kestra's SQL fails, a 422 here says why */
        char msg[160];
        snprintf(msg, sizeof msg, "Invalid sort parameter: unknown field '%s'", field);
        kt_http_send_error(r, 422, msg, NULL);
        return -1;
    }
    *desc = strcmp(colon + 1, "asc") != 0;
    return 0;
}

static const char *kt_api_sort_field;
static int kt_api_sort_desc;

static int kt_api_flow_cmp(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c;
    if (!strcmp(kt_api_sort_field, "revision"))
        c = (int)(json_integer_value(json_object_get(x, "revision")) - json_integer_value(json_object_get(y, "revision")));
    else
        c = strcmp(json_string_value(json_object_get(x, kt_api_sort_field)),
                   json_string_value(json_object_get(y, kt_api_sort_field)));
    if (!c) /* ties keep the namespace, id order */
        c = strcmp(json_string_value(json_object_get(x, "namespace")), json_string_value(json_object_get(y, "namespace")))
                ?: strcmp(json_string_value(json_object_get(x, "id")), json_string_value(json_object_get(y, "id")));
    return kt_api_sort_desc ? -c : c;
}

void kt_api_flows_sort(json_t *flows, const char *field, int desc)
{
    size_t n = json_array_size(flows);
    if (!field[0] || n < 2)
        return;
    json_t **items = kt_xmalloc(n * sizeof *items);
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(flows, i));
    kt_api_sort_field = field; /* the loop's thread only: qsort has no context argument */
    kt_api_sort_desc = desc;
    qsort(items, n, sizeof *items, kt_api_flow_cmp);
    json_array_clear(flows);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(flows, items[i]);
    free(items);
}

/* Flow JSON of the latest revisions (rows) matching, parsed from their sources (no `source`). */
static json_t *kt_api_flows_matching(kt_webserver *w, const json_t *rows, const char *ns_prefix, const char *q,
                                     int exact_ns)
{
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if (exact_ns && strcmp(json_string_value(json_object_get(row, "namespace")), ns_prefix))
            continue;
        if (q && !kt_api_flow_fulltext(row, q))
            continue;
        const char *src = json_string_value(json_object_get(row, "source"));
        kt_diags d;
        kt_diags_init(&d);
        kt_flow *f = NULL;
        if (kt_flow_parse_pinned(src, strlen(src), "flow.yaml", w->plugin_defaults, kt_dialect_of_flow(row), &f, &d) ==
            KT_OK)
            json_array_append_new(out, kt_api_flow_json(f, (int)json_integer_value(json_object_get(row, "revision")), NULL));
        kt_flow_free(f);
        kt_diags_clear(&d);
    }
    return out;
}

int kt_api_flow_has_labels(const json_t *flow, const char *const *labels, size_t n)
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

/* The search's request was checked before the read: read again here from the (still waiting) request. */
static void kt_api_flows_searched(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_flows_job *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    int page, size, bad;
    const char *labels[64];
    char lbuf[4096];
    int sort_desc = 0;
    char sort_field[64] = "";
    if (kt_api_paging(r, &page, &size))
        return;
    size_t nlabels = kt_api_label_filters(r, labels, lbuf, sizeof lbuf, &bad);
    if (bad || kt_api_flow_sort_param(r, sort_field, sizeof sort_field, &sort_desc))
        return;
    const char *q = kt_http_query(r, "q");
    json_t *all = kt_api_flows_matching(w, j->rows, j->ns, q && *q ? q : NULL, 0);
    kt_api_flows_sort(all, sort_field, sort_desc);
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

void kt_api_flow_search(kt_http_req *r, void *ud)
{
    int page, size, bad;
    if (kt_api_paging(r, &page, &size))
        return;
    const char *ns = kt_http_query(r, "namespace");
    const char *labels[64];
    char lbuf[4096];
    kt_api_label_filters(r, labels, lbuf, sizeof lbuf, &bad);
    if (bad)
        return;
    int sort_desc = 0;
    char sort_field[64] = "";
    if (kt_api_flow_sort_param(r, sort_field, sizeof sort_field, &sort_desc))
        return;
    kt_api_read_flows(ud, r, ns && *ns ? ns : NULL, kt_api_flows_searched, NULL);
}

static void kt_api_flows_listed(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_flows_job *j = ud;
    if (!kt_api_read_failed(r, st, err, NULL, NULL))
        kt_http_send_json(r, 200, kt_api_flows_matching(w, j->rows, j->ns, NULL, 1));
}

void kt_api_flow_list_namespace(kt_http_req *r, void *ud)
{
    kt_api_read_flows(ud, r, kt_http_param(r, "namespace"), kt_api_flows_listed, NULL);
}
