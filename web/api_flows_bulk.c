/* The bulk flow routes of Kestra's FlowController: delete, disable and enable by ids (a JSON list of {namespace,
 * id}) or by query (q, namespace prefix, labels, scope), each answering {"count"}; the zip export (by ids, by query)
 * of `<namespace>.<id>.yml` entries holding the sources; the import of a YAML file (documents split on `---`) or of
 * a zip of YAML files, answering the list of what failed; POST /api/v1/flows/bulk.
 *
 * By ids, every flow is looked up before anything is written: a missing one answers 404 "Not Found: No value
 * present" (Kestra's Optional.orElseThrow) with nothing changed, rather than Kestra's half-done stream. Disable and
 * enable rewrite the source as FlowService.injectDisabled does (flow/flow_source.h) and save it as a new revision;
 * flows already in the wanted state are left alone and not counted. */
#include "base/alloc.h"
#include "base/zip.h"
#include "flow/flow_source.h"
#include "flow/yaml.h"
#include "web/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Zip import limits: a flow export is small; these stop an archive from standing for a bomb. */
#define KT_FB_MAX_ENTRIES 10000
#define KT_FB_MAX_TOTAL (256ull << 20)
#define KT_FB_MAX_ENTRY (8u << 20)

/* Whether a stored source says `disabled: true` (a source that no longer parses is not disabled). */
static int kt_fb_source_disabled(kt_webserver *w, const char *source, json_t **flow_json)
{
    kt_diags d;
    kt_diags_init(&d);
    kt_flow *f = NULL;
    int disabled = 0;
    if (kt_flow_parse_with_defaults(source, strlen(source), "flow.yaml", w->plugin_defaults, &f, &d) == KT_OK) {
        disabled = kt_flow_disabled(f);
        if (flow_json)
            *flow_json = json_deep_copy(kt_flow_json(f));
    }
    kt_flow_free(f);
    kt_diags_clear(&d);
    return disabled;
}

/* The latest live revisions matching the query parameters: [{namespace, id, revision, source, disabled}]. NULL after
 * answering r. */
json_t *kt_api_flows_by_query(kt_webserver *w, kt_http_req *r)
{
    const char *q = kt_http_query(r, "q"), *ns = kt_http_query(r, "namespace");
    const char *labels[64], *scopes[4];
    char lbuf[4096];
    int bad;
    size_t nlabels = kt_api_label_filters(r, labels, lbuf, sizeof lbuf, &bad);
    if (bad)
        return NULL;
    size_t nscopes = kt_http_query_all(r, "scope", scopes, 4);
    int user = 0, system = 0;
    for (size_t i = 0; i < nscopes && i < 4; i++) {
        if (!strcmp(scopes[i], "USER"))
            user = 1;
        else if (!strcmp(scopes[i], "SYSTEM"))
            system = 1;
        else {
            char msg[256];
            snprintf(msg, sizeof msg, "Invalid format: No enum constant io.kestra.core.models.flows.FlowScope.%.64s",
                     scopes[i]);
            kt_http_send_error(r, 422, msg, NULL);
            return NULL;
        }
    }
    json_t *rows;
    if (kt_store_flows_latest(w->store, ns && *ns ? ns : NULL, NULL, &rows) != KT_OK) {
        kt_api_send_db_error(w, r);
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *rns = json_string_value(json_object_get(row, "namespace"));
        char text[512]; /* Kestra's fulltext column: id then namespace */
        snprintf(text, sizeof text, "%s%s", json_string_value(json_object_get(row, "id")), rns);
        if (q && *q && !kt_api_fulltext(text, q))
            continue;
        int is_system = !strcmp(rns, KT_API_SYSTEM_NAMESPACE);
        if (user != system && ((user && is_system) || (system && !is_system)))
            continue;
        json_t *fj = NULL;
        int disabled = kt_fb_source_disabled(w, json_string_value(json_object_get(row, "source")), &fj);
        int keep = !nlabels || (fj && kt_api_flow_has_labels(fj, labels, nlabels));
        json_decref(fj);
        if (!keep)
            continue;
        json_object_set_new(row, "disabled", json_boolean(disabled));
        json_array_append(out, row);
    }
    json_decref(rows);
    return out;
}

/* The body's [{namespace, id}] as their latest live revisions (same shape as by query). NULL after answering r: 422
 * for a body that is not such a list, 404 when one flow is missing. */
static json_t *kt_fb_by_ids(kt_webserver *w, kt_http_req *r)
{
    size_t len;
    const char *body = kt_http_body(r, &len);
    json_error_t jerr;
    json_t *ids = json_loadb(body, len, 0, &jerr);
    char msg[512];
    if (!json_is_array(ids)) {
        snprintf(msg, sizeof msg, "Invalid json: %s", ids ? "a list of {\"namespace\", \"id\"} is expected" : jerr.text);
        kt_http_send_error(r, 422, msg, NULL);
        json_decref(ids);
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(ids, i, x) {
        const char *ns = json_string_value(json_object_get(x, "namespace"));
        const char *id = json_string_value(json_object_get(x, "id"));
        kt_flow_row row;
        kt_status st = ns && id ? kt_store_flow_get(w->store, ns, id, 0, &row) : KT_ENOTFOUND;
        if (st) {
            if (st == KT_ENOTFOUND)
                kt_http_send_error(r, 404, "Not Found: No value present", NULL);
            else
                kt_api_send_db_error(w, r);
            json_decref(out);
            json_decref(ids);
            return NULL;
        }
        json_array_append_new(out, json_pack("{s:s, s:s, s:i, s:s, s:b, s:s}", "namespace", ns, "id", id, "revision",
                                             row.revision, "source", row.source, "disabled",
                                             kt_fb_source_disabled(w, row.source, NULL), "dialect",
                                             kt_dialect_name(row.dialect)));
        kt_flow_row_clear(&row);
    }
    json_decref(ids);
    return out;
}

enum { KT_FB_DELETE, KT_FB_DISABLE, KT_FB_ENABLE };

static void kt_fb_applied(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    kt_api_flow_writes *j = ud;
    if (!kt_api_read_failed(r, st, err, NULL, NULL))
        kt_http_send_json(r, 200, json_pack("{s:I}", "count", (json_int_t)j->n));
}

/* Applies op to the selected rows (taken) in one transaction (the disabled sources rewritten here, on the loop);
 * answers {"count"}. */
static void kt_fb_apply(kt_webserver *w, kt_http_req *r, json_t *rows, int op)
{
    if (!rows)
        return;
    kt_api_flow_writes *j = kt_api_flow_writes_new(NULL, NULL);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *ns = json_string_value(json_object_get(row, "namespace"));
        const char *id = json_string_value(json_object_get(row, "id"));
        if (op == KT_FB_DELETE) {
            kt_api_flow_writes_add(j, ns, id, NULL, -1);
            continue;
        }
        int want = op == KT_FB_DISABLE;
        if (json_is_true(json_object_get(row, "disabled")) == want)
            continue;
        char *src = kt_flow_source_inject_disabled(json_string_value(json_object_get(row, "source")), want);
        if (!src) {
            kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
            json_decref(rows);
            kt_api_flow_writes_free(j);
            return;
        }
        kt_api_flow_writes_add(j, ns, id, src, (int)kt_dialect_of_flow(row)); /* the row's: only disabled changes */
        free(src);
    }
    json_decref(rows);
    kt_api_flow_writes_run(w, r, j, kt_fb_applied);
}

void kt_api_flows_delete_by_ids(kt_http_req *r, void *ud) { kt_fb_apply(ud, r, kt_fb_by_ids(ud, r), KT_FB_DELETE); }
void kt_api_flows_delete_by_query(kt_http_req *r, void *ud)
{
    kt_fb_apply(ud, r, kt_api_flows_by_query(ud, r), KT_FB_DELETE);
}
void kt_api_flows_disable_by_ids(kt_http_req *r, void *ud) { kt_fb_apply(ud, r, kt_fb_by_ids(ud, r), KT_FB_DISABLE); }
void kt_api_flows_disable_by_query(kt_http_req *r, void *ud)
{
    kt_fb_apply(ud, r, kt_api_flows_by_query(ud, r), KT_FB_DISABLE);
}
void kt_api_flows_enable_by_ids(kt_http_req *r, void *ud) { kt_fb_apply(ud, r, kt_fb_by_ids(ud, r), KT_FB_ENABLE); }
void kt_api_flows_enable_by_query(kt_http_req *r, void *ud)
{
    kt_fb_apply(ud, r, kt_api_flows_by_query(ud, r), KT_FB_ENABLE);
}

/* ---- export ---------------------------------------------------------------------------------------- */

/* The rows (taken) as Kestra's flows.zip. */
static void kt_fb_export(kt_webserver *w, kt_http_req *r, json_t *rows)
{
    (void)w;
    if (!rows)
        return;
    kt_zip_writer *z = kt_zip_writer_new(1);
    kt_buf out = {0};
    kt_status st = z ? KT_OK : KT_ENOMEM;
    size_t i;
    json_t *row;
    int64_t now = (int64_t)time(NULL);
    json_array_foreach(rows, i, row) {
        char name[1024];
        const char *src = json_string_value(json_object_get(row, "source"));
        snprintf(name, sizeof name, "%s.%s.yml", json_string_value(json_object_get(row, "namespace")),
                 json_string_value(json_object_get(row, "id")));
        if (st || (st = kt_zip_entry_begin(z, name, now, &out)) || (st = kt_zip_entry_write(z, src, strlen(src), &out)) ||
            (st = kt_zip_entry_end(z, &out)))
            break;
    }
    if (!st)
        st = kt_zip_finish(z, &out);
    kt_zip_writer_free(z);
    json_decref(rows);
    if (st) {
        free(out.p);
        kt_http_send_error(r, 500, "Internal server error: the archive could not be written", NULL);
        return;
    }
    kt_http_add_header(r, "Content-Disposition", "attachment; filename=\"flows.zip\"");
    kt_http_send(r, 200, "application/octet-stream", out.p ? out.p : "", out.len);
    free(out.p);
}

void kt_api_flows_export_by_query(kt_http_req *r, void *ud) { kt_fb_export(ud, r, kt_api_flows_by_query(ud, r)); }
void kt_api_flows_export_by_ids(kt_http_req *r, void *ud) { kt_fb_export(ud, r, kt_fb_by_ids(ud, r)); }

/* ---- import ---------------------------------------------------------------------------------------- */

/* What an import answers once its flows are saved (one transaction, kt_api_flow_writes): the names that failed (zip),
 * or the 422 of the YAML part that stopped it (bad), the parts before it saved as in Kestra. */
typedef struct kt_fb_import {
    json_t *failed;
    int bad;
    kt_diags d;
} kt_fb_import;

static void kt_fb_import_free(void *ud)
{
    kt_fb_import *im = ud;
    json_decref(im->failed);
    kt_diags_clear(&im->d);
    free(im);
}

static void kt_fb_imported(kt_webserver *w, kt_http_req *r, kt_status st, const char *err, void *ud)
{
    (void)w;
    kt_fb_import *im = ((kt_api_flow_writes *)ud)->data;
    if (kt_api_read_failed(r, st, err, NULL, NULL))
        return;
    if (!im->bad)
        kt_http_send_json(r, 200, json_incref(im->failed));
    else if (im->d.count) /* the second, unguarded import's ConstraintViolation */
        kt_api_send_diags(r, &im->d);
    else
        kt_http_send_error(r, 422, "Invalid entity: flow: cannot be parsed", NULL);
}

static kt_api_flow_writes *kt_fb_import_new(void)
{
    kt_fb_import *im = kt_xcalloc(1, sizeof *im);
    im->failed = json_array();
    kt_diags_init(&im->d);
    return kt_api_flow_writes_new(im, kt_fb_import_free);
}

/* FlowService.importFlow: source parsed (defaults injected, validated) and added to j's saves; KT_EINVAL (d says
 * why) when it does not parse. */
static kt_status kt_fb_import_one(kt_webserver *w, kt_api_flow_writes *j, const char *src, size_t len, kt_diags *d)
{
    kt_flow *f = NULL;
    kt_status st = kt_flow_parse_with_defaults(src, len, "flow.yaml", w->plugin_defaults, &f, d);
    if (st == KT_OK) {
        char *copy = kt_xstrndup(src, len);
        kt_api_flow_writes_add(j, kt_flow_namespace(f), kt_flow_id(f), copy, (int)kt_dialect_of_flow(kt_flow_json(f)));
        free(copy);
    }
    kt_flow_free(f);
    return st;
}

/* One `---` separated part, trimmed as Java's String.trim (whitespace and control characters). */
static void kt_fb_trim(const char **s, size_t *len)
{
    while (*len && (unsigned char)**s <= ' ')
        (*s)++, (*len)--;
    while (*len && (unsigned char)(*s)[*len - 1] <= ' ')
        (*len)--;
}

/* A YAML upload: split literally on "---"; the indexes of the parts that failed. Kestra imports each part a second
 * time outside its error handler, so a failing part fails the whole request with the flow's 422: the same here, the
 * parts before it staying imported as in Kestra. */
static void kt_fb_import_yaml(kt_webserver *w, kt_http_req *r, const char *body, size_t len)
{
    kt_api_flow_writes *j = kt_fb_import_new();
    kt_fb_import *im = j->data;
    size_t full = len;
    while (len >= 3 && !memcmp(body + len - 3, "---", 3)) /* Java's split drops the trailing empty parts */
        len -= 3;
    if (!len && full) { /* nothing but separators: no part at all */
        kt_http_send_json(r, 200, json_incref(im->failed));
        kt_api_flow_writes_free(j);
        return;
    }
    for (size_t start = 0; start <= len;) {
        const char *sep = len - start >= 3 ? memmem(body + start, len - start, "---", 3) : NULL;
        size_t end = sep ? (size_t)(sep - body) : len;
        const char *part = body + start;
        size_t plen = end - start;
        kt_fb_trim(&part, &plen);
        if (kt_fb_import_one(w, j, part, plen, &im->d) != KT_OK) {
            im->bad = 1;
            break;
        }
        kt_diags_clear(&im->d);
        if (!sep)
            break;
        start = end + 3;
    }
    kt_api_flow_writes_run(w, r, j, kt_fb_imported);
}

/* A zip upload: every `.yml`/`.yaml` entry imported; the names of those that failed. */
static void kt_fb_import_zip(kt_webserver *w, kt_http_req *r, const char *data, size_t len)
{
    const kt_zip_limits lim = {.max_entries = KT_FB_MAX_ENTRIES, .max_total = KT_FB_MAX_TOTAL};
    kt_zip_reader *z = NULL;
    char err[512], msg[640];
    kt_status st = kt_zip_open(data, len, &lim, &z, err, sizeof err);
    if (st) {
        snprintf(msg, sizeof msg, "Illegal argument: invalid zip archive: %s", err);
        kt_http_send_error(r, 422, msg, NULL);
        return;
    }
    kt_api_flow_writes *j = kt_fb_import_new();
    kt_fb_import *im = j->data;
    for (size_t i = 0; i < kt_zip_count(z); i++) {
        const kt_zip_entry *e = kt_zip_get(z, i);
        size_t nl = strlen(e->name);
        int yaml = (nl > 4 && !strcmp(e->name + nl - 4, ".yml")) || (nl > 5 && !strcmp(e->name + nl - 5, ".yaml"));
        if (e->is_dir || !yaml)
            continue;
        char *src = NULL;
        size_t slen = 0;
        st = kt_zip_read_all(z, i, KT_FB_MAX_ENTRY, &src, &slen, err, sizeof err);
        if (st == KT_OK)
            st = kt_fb_import_one(w, j, src, slen, &im->d);
        kt_diags_clear(&im->d);
        free(src);
        if (st)
            json_array_append_new(im->failed, json_string(e->name));
    }
    kt_zip_close(z);
    kt_api_flow_writes_run(w, r, j, kt_fb_imported);
}

void kt_api_flows_import(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    size_t len;
    const char *body = kt_http_body(r, &len);
    const char *ct = kt_http_header(r, "content-type");
    kt_multipart *form = NULL;
    char err[256], msg[512];
    if (!ct || strncasecmp(ct, "multipart/form-data", 19)) {
        kt_http_send_error(r, 415, "Unsupported Media Type", NULL);
        return;
    }
    if (kt_multipart_parse(ct, body, len, &form, err, sizeof err) != KT_OK) {
        snprintf(msg, sizeof msg, "Illegal argument: malformed multipart body: %s", err);
        kt_http_send_error(r, 422, msg, NULL);
        return;
    }
    const kt_multipart_part *part = kt_multipart_find(form, "fileUpload");
    if (!part) {
        kt_http_send_error(r, 400, "Bad Request: Required argument [CompletedFileUpload fileUpload] not specified",
                           NULL);
        kt_multipart_free(form);
        return;
    }
    const char *name = part->filename ? part->filename : "";
    size_t nl = strlen(name);
    if ((nl >= 4 && !strcasecmp(name + nl - 4, ".yml")) || (nl >= 5 && !strcasecmp(name + nl - 5, ".yaml")))
        kt_fb_import_yaml(w, r, part->data, part->len);
    else if (nl >= 4 && !strcasecmp(name + nl - 4, ".zip"))
        kt_fb_import_zip(w, r, part->data, part->len);
    else {
        const char *dot = strrchr(name, '.');
        char lower[256];
        size_t k = 0;
        for (const char *c = dot ? dot : name; *c && k + 1 < sizeof lower; c++)
            lower[k++] = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
        lower[k] = 0;
        snprintf(msg, sizeof msg, "Illegal argument: Cannot import file of type %s", lower);
        kt_http_send_error(r, 422, msg, NULL);
    }
    kt_multipart_free(form);
}
