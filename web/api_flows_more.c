/* The rest of Kestra's FlowController reads and single-flow edits: revisions, one task of a flow, PATCH of a task
 * (deprecated JSON task, the source regenerated), distinct namespaces, the source search, task and trigger
 * validation (YAML with a section, or JSON), and POST /api/v1/flows/bulk (the namespace update without the
 * namespace check). Task and trigger validation wrap the plugin in a flow so it goes through the same validator as a
 * flow save, then speak of paths inside the plugin as Kestra's ConstraintViolation does. */
#include "base/alloc.h"
#include "base/json.h"
#include "flow/flow_source.h"
#include "flow/tasks.h"
#include "flow/yaml.h"
#include "web/api_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- revisions --------------------------------------------------------------------------------------- */

/* FlowWithSource of one stored revision (a deletion says deleted: true; a source that no longer parses is Kestra's
 * FlowWithException shape). */
static json_t *kt_fm_revision_json(kt_webserver *w, const char *ns, const char *id, int revision, int deleted,
                                   const char *source, kt_dialect dialect)
{
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *f = NULL;
    json_t *j;
    if (kt_flow_parse_pinned(source, strlen(source), "flow.yaml", w->plugin_defaults, dialect, &f, &d) == KT_OK)
        j = kt_api_flow_json(f, revision, source);
    else {
        char *msg = kt_diags_format(&d);
        j = json_pack("{s:s, s:s, s:i, s:s, s:s?}", "id", id, "namespace", ns, "revision", revision, "source", source,
                      "exception", msg);
        free(msg);
    }
    if (deleted)
        json_object_set_new(j, "deleted", json_true());
    kt_flow_free(f);
    kt_diags_clear(&d);
    return j;
}

static void kt_api_flow_revisions_read(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_flows_job *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(j->rows, i, row)
        json_array_append_new(out, kt_fm_revision_json(w, j->ns, j->id,
                                                       (int)json_integer_value(json_object_get(row, "revision")),
                                                       json_is_true(json_object_get(row, "deleted")),
                                                       json_string_value(json_object_get(row, "source")),
                                                       kt_dialect_of_flow(row)));
    kt_http_send_json(r, 200, out);
}

void kt_api_flow_revisions(kt_http_req *r, void *ud)
{
    kt_api_read_flow_list(ud, r, KT_API_FLOWS_REVISIONS, kt_http_param(r, "namespace"), kt_http_param(r, "id"),
                          kt_api_flow_revisions_read, NULL);
}

/* ---- one task ------------------------------------------------------------------------------------------ */

typedef struct kt_fm_find {
    const char *task_id;
    const json_t *root;
    char path[512]; /* the first task with that id ("" = none) */
} kt_fm_find;

/* The node at a validator path ("tasks[0].then[1]") of root; *parent and *key / *index say where it hangs. */
static json_t *kt_fm_at(const json_t *root, const char *path, json_t **parent, char *key, size_t keycap, long *index)
{
    json_t *cur = (json_t *)root;
    const char *p = path;
    *parent = NULL;
    while (*p && cur) {
        if (*p == '.')
            p++;
        if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']')
                return NULL;
            *parent = cur;
            *index = i;
            key[0] = 0;
            cur = json_array_get(cur, (size_t)i);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        if (n >= keycap)
            return NULL;
        memcpy(key, p, n);
        key[n] = 0;
        *parent = cur;
        *index = -1;
        cur = json_object_get(cur, key);
        p += n;
    }
    return cur;
}

static void kt_fm_visit(void *ud, const char *path, const char *type, const kt_task_def *d)
{
    (void)type;
    kt_fm_find *f = ud;
    if (f->path[0] || strcmp(kt_task_kind_name(d), "task") || !strncmp(path, "triggers", 8))
        return;
    json_t *parent;
    char key[256];
    long index;
    const json_t *node = kt_fm_at(f->root, path, &parent, key, sizeof key, &index);
    const char *id = json_string_value(json_object_get(node, "id"));
    if (id && !strcmp(id, f->task_id))
        snprintf(f->path, sizeof f->path, "%s", path);
}

/* Where the task task_id is in the flow document root (Flow.findTaskByTaskId: tasks at any depth, errors,
 * listeners; not triggers); 0 when found. */
static int kt_fm_find_task(const json_t *root, const char *task_id, char *path, size_t cap)
{
    kt_fm_find f = {.task_id = task_id, .root = root};
    kt_task_walk_flow(root, kt_fm_visit, &f);
    if (!f.path[0])
        return -1;
    snprintf(path, cap, "%s", f.path);
    return 0;
}

static void kt_api_flow_task_read(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_flow_job *j = ud;
    if (kt_api_read_failed(r, st, err, "Not Found", NULL))
        return;
    char path[512];
    if (!j->row.deleted && kt_api_flow_job_parse(w, j) == KT_OK &&
        !kt_fm_find_task(kt_flow_json(j->flow), kt_http_param(r, "taskId"), path, sizeof path)) {
        json_t *parent;
        char key[256];
        long index;
        json_t *task = kt_fm_at(kt_flow_json(j->flow), path, &parent, key, sizeof key, &index);
        kt_http_send_json(r, 200, json_deep_copy(task));
    } else
        kt_http_send_error(r, 404, "Not Found", NULL);
}

void kt_api_flow_task(kt_http_req *r, void *ud)
{
    int revision;
    if (kt_api_int_param(r, "revision", 0, &revision))
        return;
    kt_api_read_flow(ud, r, kt_http_param(r, "namespace"), kt_http_param(r, "id"), revision, 0, kt_api_flow_task_read,
                     NULL);
}

/* PATCH /api/v1/flows/{namespace}/{id}/{taskId}: the JSON task replaces the one with that id, the source is
 * generated from the result (FlowService.generateSource) and saved as a new revision; the answer is the Flow. */
void kt_api_flow_patch_task(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *ns = kt_http_param(r, "namespace"), *id = kt_http_param(r, "id"), *task_id = kt_http_param(r, "taskId");
    size_t len;
    const char *body = kt_http_body(r, &len);
    json_error_t jerr;
    char msg[1024];
    json_t *task = json_loadb(body, len, 0, &jerr), *root = NULL;
    kt_yaml_doc **docs = NULL;
    size_t ndocs = 0;
    kt_flow_row row = {0};
    char *source = NULL;
    if (!json_is_object(task)) {
        snprintf(msg, sizeof msg, "Invalid json: %s", task ? "a task object is expected" : jerr.text);
        kt_http_send_error(r, 422, msg, NULL);
        goto done;
    }
    kt_status st = kt_store_flow_get(w->store, ns, id, 0, &row);
    if (st) {
        if (st == KT_ENOTFOUND)
            kt_http_send_error(r, 404, "Not Found", NULL);
        else
            kt_api_send_db_error(w, r);
        goto done;
    }
    const char *body_id = json_string_value(json_object_get(task, "id"));
    if (!body_id || strcmp(body_id, task_id)) {
        snprintf(msg, sizeof msg, "Illegal argument: Invalid taskId, previous '%s' & current '%s'", task_id,
                 body_id ? body_id : "null");
        kt_http_send_error(r, 422, msg, NULL);
        goto done;
    }
    kt_diags d;
    kt_diags_init(&d);
    if (kt_yaml_load(row.source, strlen(row.source), "flow.yaml", &docs, &ndocs, &d) == KT_OK && ndocs)
        root = json_deep_copy(kt_yaml_doc_root(docs[0]));
    kt_diags_clear(&d);
    char path[512], key[256];
    json_t *parent;
    long index;
    if (!root || kt_fm_find_task(root, task_id, path, sizeof path) ||
        !kt_fm_at(root, path, &parent, key, sizeof key, &index)) {
        kt_http_send_error(r, 404, "Not Found", NULL);
        goto done;
    }
    if (index >= 0)
        json_array_set(parent, (size_t)index, task);
    else
        json_object_set(parent, key, task);
    source = kt_flow_source_generate(root);
    kt_flow *f = NULL;
    kt_diags_init(&d);
    if (kt_flow_parse_with_defaults(source, strlen(source), "flow.yaml", w->plugin_defaults, &f, &d) != KT_OK) {
        kt_api_send_diags(r, &d);
        kt_diags_clear(&d);
        goto done;
    }
    kt_diags_clear(&d);
    if (kt_api_flow_import(w, f, source) != KT_OK)
        kt_api_send_db_error(w, r);
    else {
        kt_flow_row now;
        int rev = row.revision + 1;
        if (kt_store_flow_get(w->store, ns, id, 0, &now) == KT_OK) {
            rev = now.revision;
            kt_flow_row_clear(&now);
        }
        kt_http_send_json(r, 200, kt_api_flow_json(f, rev, NULL));
    }
    kt_flow_free(f);
done:
    free(source);
    json_decref(root);
    json_decref(task);
    kt_yaml_docs_free(docs, ndocs);
    kt_flow_row_clear(&row);
}

/* ---- namespaces and the source search ----------------------------------------------------------------- */

/* GET /api/v1/flows/distinct-namespaces?q=: the live flows' namespaces starting with q. */
static void kt_api_flow_namespaces_read(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    kt_api_flows_job *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    const char *q = kt_http_query(r, "q");
    json_t *out = json_array();
    size_t i;
    json_t *ns;
    json_array_foreach(j->rows, i, ns)
        if (!q || !strncmp(json_string_value(ns), q, strlen(q)))
            json_array_append(out, ns);
    kt_http_send_json(r, 200, out);
}

void kt_api_flow_distinct_namespaces(kt_http_req *r, void *ud)
{
    kt_api_read_flow_list(ud, r, KT_API_FLOWS_NAMESPACES, NULL, NULL, kt_api_flow_namespaces_read, NULL);
}

/* AbstractJdbcRepository.fragments: the source's non-empty lines, from the one before the first holding q (ignoring
 * case; the first line when none does) for four lines, each occurrence of q in them marked, joined as one string. */
static json_t *kt_fm_fragments(const char *source, const char *q)
{
    const char *lines[4096];
    size_t lens[4096], n = 0, ql = strlen(q);
    for (const char *p = source; *p && n < 4096;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len) { /* StringUtils.split drops empty tokens */
            lines[n] = p;
            lens[n++] = len;
        }
        p += len + (end ? 1 : 0);
    }
    size_t first = 0;
    for (size_t i = 0; i < n; i++) {
        int hit = 0;
        for (size_t k = 0; ql && !hit && k + ql <= lens[i]; k++)
            hit = !strncasecmp(lines[i] + k, q, ql);
        if (hit) {
            first = i;
            break;
        }
    }
    size_t min = first ? first - 1 : 0, max = min + 4 < n ? min + 4 : n;
    kt_buf b = {0};
    for (size_t i = min; i < max; i++) {
        if (i > min)
            kt_buf_putc(&b, '\n');
        size_t at = lens[i];
        for (size_t k = 0; ql && k + ql <= lens[i]; k++)
            if (!strncasecmp(lines[i] + k, q, ql)) {
                at = k;
                break;
            }
        if (at == lens[i]) {
            kt_buf_put(&b, lines[i], lens[i]);
            continue;
        }
        kt_buf_put(&b, lines[i], at);
        kt_buf_puts(&b, "[mark]");
        kt_buf_put(&b, lines[i] + at, ql);
        kt_buf_puts(&b, "[/mark]");
        kt_buf_put(&b, lines[i] + at + ql, lens[i] - at - ql);
    }
    char *text = kt_buf_take(&b);
    json_t *out = json_pack("[s]", text);
    free(text);
    return out;
}

static void kt_api_flow_sources_read(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    kt_api_flows_job *j = ud;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    int page, size, sort_desc;
    char sort_field[64];
    /* checked before the read: the same answers */
    if (kt_api_paging(r, &page, &size) || kt_api_flow_sort_param(r, sort_field, sizeof sort_field, &sort_desc))
        return;
    const char *q = kt_http_query(r, "q");
    json_t *rows = j->rows;
    kt_api_flows_sort(rows, sort_field, sort_desc);
    json_t *results = json_array();
    size_t i, total = 0;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *src = json_string_value(json_object_get(row, "source"));
        if (q && *q && !kt_api_fulltext(src, q))
            continue;
        if (total++ < (size_t)(page - 1) * (size_t)size || json_array_size(results) >= (size_t)size)
            continue;
        kt_diags d;
        kt_diags_init(&d);
        kt_flow *f = NULL;
        json_t *model = kt_flow_parse_pinned(src, strlen(src), "flow.yaml", w->plugin_defaults, kt_dialect_of_flow(row),
                                             &f, &d) == KT_OK
                            ? kt_api_flow_json(f, (int)json_integer_value(json_object_get(row, "revision")), NULL)
                            : json_pack("{s:O, s:O, s:O}", "id", json_object_get(row, "id"), "namespace",
                                        json_object_get(row, "namespace"), "revision", json_object_get(row, "revision"));
        kt_flow_free(f);
        kt_diags_clear(&d);
        json_array_append_new(results, json_pack("{s:o, s:o}", "model", model, "fragments",
                                                 q && *q ? kt_fm_fragments(src, q) : json_array()));
    }
    kt_http_send_json(r, 200, json_pack("{s:o, s:I}", "results", results, "total", (json_int_t)total));
}

/* GET /api/v1/flows/source: flows whose YAML contains q, each {model: Flow, fragments: [...]}, paged. */
void kt_api_flow_source_search(kt_http_req *r, void *ud)
{
    int page, size;
    if (kt_api_paging(r, &page, &size))
        return;
    const char *ns = kt_http_query(r, "namespace");
    char sort_field[64];
    int sort_desc;
    if (kt_api_flow_sort_param(r, sort_field, sizeof sort_field, &sort_desc))
        return;
    /* the store searches the words (its full-text index); the answer keeps the exact rule (kt_api_fulltext) */
    kt_api_read_flow_sources(ud, r, ns && *ns ? ns : NULL, kt_http_query(r, "q"), kt_api_flow_sources_read, NULL);
}

/* ---- task and trigger validation ---------------------------------------------------------------------- */

/* ValidateConstraintViolation of one plugin (a JSON object): wrapped as the only task (or trigger, beside a
 * placeholder task) of a flow and validated; the constraint paths are the plugin's own. */
static json_t *kt_fm_validate_plugin(kt_webserver *w, const json_t *plugin, int trigger)
{
    json_t *out = json_object();
    if (!json_is_object(plugin)) {
        json_object_set_new(out, "constraints", json_string(trigger ? "Unable to validate the trigger: an object is expected"
                                                                    : "Unable to validate the task: an object is expected"));
        return out;
    }
    json_t *flow = json_pack("{s:s, s:s}", "id", "validate", "namespace", "io.kestra.validate");
    json_t *tasks = json_array();
    if (trigger) {
        json_array_append_new(tasks, json_pack("{s:s, s:s, s:s}", "id", "placeholder", "type",
                                               "io.kestra.plugin.core.log.Log", "message", "-"));
        json_object_set_new(flow, "tasks", tasks);
        json_object_set_new(flow, "triggers", json_pack("[O]", plugin));
    } else {
        json_array_append(tasks, (json_t *)plugin);
        json_object_set_new(flow, "tasks", tasks);
    }
    char *src = kt_flow_source_yaml(flow);
    json_decref(flow);
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *f = NULL;
    if (kt_flow_parse_with_defaults(src, strlen(src), "flow.yaml", w->plugin_defaults, &f, &d) != KT_OK) {
        const char *prefix = trigger ? "triggers[0]" : "tasks[0]";
        size_t pl = strlen(prefix);
        kt_buf b = {0};
        for (size_t i = 0; i < d.count; i++) {
            const char *p = d.items[i].path ? d.items[i].path : "";
            if (!strncmp(p, prefix, pl))
                p += pl + (p[pl] == '.');
            kt_buf_printf(&b, "%s%s%s%s", i ? ", " : "", p, *p ? ": " : "", d.items[i].message);
        }
        char *msg = kt_buf_take(&b);
        json_object_set_new(out, "constraints", json_string(*msg ? msg : "Unable to validate the task"));
        free(msg);
    }
    kt_flow_free(f);
    kt_diags_clear(&d);
    free(src);
    return out;
}

static int kt_fm_is_json(kt_http_req *r)
{
    const char *ct = kt_http_header(r, "content-type");
    return ct && !strncasecmp(ct, "application/json", 16);
}

/* The JSON body as a plugin; NULL with its parse error in constraints (Kestra's "Illegal source"). */
static json_t *kt_fm_json_body(kt_http_req *r, json_t **answer)
{
    size_t len;
    const char *body = kt_http_body(r, &len);
    json_error_t jerr;
    json_t *v = json_loadb(body, len, 0, &jerr);
    if (!v) {
        char msg[512];
        snprintf(msg, sizeof msg, "Illegal source: %s", jerr.text);
        *answer = json_pack("{s:s}", "constraints", msg);
    }
    return v;
}

/* POST /api/v1/flows/validate/task: JSON (a task), or YAML with section=TASKS|TRIGGERS. */
void kt_api_flow_validate_task(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    json_t *answer = NULL;
    if (kt_fm_is_json(r)) {
        json_t *v = kt_fm_json_body(r, &answer);
        if (v)
            answer = kt_fm_validate_plugin(w, v, 0);
        json_decref(v);
        kt_http_send_json(r, 200, answer);
        return;
    }
    const char *section = kt_http_query(r, "section");
    if (!section) {
        kt_http_send_error(r, 400, "Bad Request: Required QueryValue [section] not specified", NULL);
        return;
    }
    int trigger = !strcmp(section, "TRIGGERS");
    if (!trigger && strcmp(section, "TASKS")) {
        char msg[512];
        snprintf(msg, sizeof msg,
                 "Internal server error: Failed to convert argument [section] for value [%.100s] due to: No enum "
                 "constant io.kestra.webserver.controllers.api.FlowController.TaskValidationType.%.100s",
                 section, section);
        kt_http_send_error(r, 422, msg, NULL);
        return;
    }
    size_t len;
    const char *body = kt_http_body(r, &len);
    kt_diags d;
    kt_diags_init(&d);
    kt_yaml_doc **docs = NULL;
    size_t ndocs = 0;
    if (kt_yaml_load(body, len, "task.yaml", &docs, &ndocs, &d) != KT_OK || ndocs != 1) {
        char *msg = d.count ? kt_diags_format(&d) : NULL;
        char text[1024];
        snprintf(text, sizeof text, "Unable to validate the flow: %s", msg ? msg : "one YAML document is expected");
        free(msg);
        answer = json_pack("{s:s}", "constraints", text);
    } else
        answer = kt_fm_validate_plugin(w, kt_yaml_doc_root(docs[0]), trigger);
    kt_yaml_docs_free(docs, ndocs);
    kt_diags_clear(&d);
    kt_http_send_json(r, 200, answer);
}

/* POST /api/v1/flows/validate/trigger: a JSON trigger. */
void kt_api_flow_validate_trigger(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    if (!kt_fm_is_json(r)) {
        const char *ct = kt_http_header(r, "content-type");
        char msg[512];
        snprintf(msg, sizeof msg, "Content Type [%.200s] not allowed. Allowed types: [application/json]",
                 ct ? ct : "text/plain");
        kt_http_send_error(r, 415, "Unsupported Media Type", json_pack("[{s:s}]", "message", msg));
        return;
    }
    json_t *answer = NULL, *v = kt_fm_json_body(r, &answer);
    if (v)
        answer = kt_fm_validate_plugin(w, v, 1);
    json_decref(v);
    kt_http_send_json(r, 200, answer);
}
