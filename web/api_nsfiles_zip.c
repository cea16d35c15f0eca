/* The namespace files zip export and import (Kestra's NamespaceFileController.export and createFile with a `.zip`).
 *
 * Export, GET /api/v1/namespaces/{namespace}/files/export: 200 application/octet-stream, Content-Disposition
 * `attachment; filename="<namespace>_files.zip"`, one DEFLATE entry per namespace file named by its path relative to
 * the namespace root (no leading '/'), then one `_flows/<flowId>.yml` entry per flow of the namespace (its source),
 * as Kestra writes them. Kestra builds the archive in memory; Kite streams it: the folders are listed first (an
 * error there is still an ordinary answer), then each file is read chunk by chunk through the zip writer into the
 * response body, the next chunk read once h2o took the previous bytes. A file gone between the listing and its turn
 * is skipped; a read failure after the headers cuts the connection (the client sees a broken download, never a
 * short archive that looks whole).
 *
 * Import, POST …/files with a fileContent part whose filename ends in `.zip` (Kestra has no /files/import route;
 * the `path` query value is required but unused, as there): the archive is checked whole before anything is
 * written (base/zip.h: no `..`, absolute path, backslash, symlink or special file, at most KT_NSZ_MAX_ENTRIES
 * entries and KT_NSZ_MAX_TOTAL uncompressed bytes; then every name through kt_suri_relative and Kestra's `_flows`
 * rule, and every `_flows/<file>` entry parsed as a flow with its namespace line set to this namespace); any refusal
 * is 422 naming the entry and nothing is written. Then each file entry streams (inflated a chunk at a time) through
 * its own storage writer, so a file appears whole or not at all; a corrupt entry met while extracting (its CRC or
 * size wrong) aborts that entry's writer and answers 422 naming it (the entries before it stay written, as Kestra's
 * loop leaves them). The flows are saved last, once every file is in. Folder entries are skipped, as Kestra does. */
#include "base/log.h"
#include "base/zip.h"
#include "flow/flow.h"
#include "store/storage.h"
#include "store/storage_uri.h"
#include "web/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "api"
#define KT_URI_MAX (KT_SURI_PATH_MAX * 3 + 16)
#define KT_NSZ_MAX_ENTRIES 10000
#define KT_NSZ_MAX_TOTAL ((uint64_t)1 << 30)
#define KT_NSZ_FLOW_MAX (1024 * 1024) /* one flow's source */
/* Flows are parsed and kept in memory, inside the request, before anything is written (the archive is checked whole
 * first): their number and their total size are bounded well below the files' limits, so a small archive of many
 * big flows cannot hold the web loop for seconds or take gigabytes. */
#define KT_NSZ_FLOWS_MAX 500
#define KT_NSZ_FLOWS_TOTAL (16 * 1024 * 1024)
#define KT_NSZ_FLOWS "_flows"

/* ---- export --------------------------------------------------------------------------------------------- */

typedef struct kt_nsz_file {
    char *rel;
    int64_t mtime_s;
} kt_nsz_file;

typedef enum { KT_NSZ_LISTING, KT_NSZ_NEXT, KT_NSZ_OPENING, KT_NSZ_READING, KT_NSZ_FLOWS_NEXT, KT_NSZ_END } kt_nsz_state;

typedef struct kt_nsz_export {
    kt_webserver *w;
    kt_http_req *req; /* deferred */
    kt_http_stream *body;
    char root[KT_URI_MAX], uri[KT_URI_MAX];
    char **dirs; /* folders still to list, a queue */
    size_t ndirs, dcap, dnext;
    kt_nsz_file *files;
    size_t nfiles, fcap, fnext;
    json_t *flows; /* [{id, source}] of this namespace */
    size_t flow_next;
    kt_nsz_state state;
    kt_storage_reader *rd;
    kt_zip_writer *zip;
    kt_buf out; /* zip bytes not yet handed to the body */
} kt_nsz_export;

static void kt_nsz_export_free(kt_nsz_export *e)
{
    kt_storage_reader_close(e->rd);
    for (size_t i = e->dnext; i < e->ndirs; i++)
        free(e->dirs[i]);
    free(e->dirs);
    for (size_t i = 0; i < e->nfiles; i++)
        free(e->files[i].rel);
    free(e->files);
    json_decref(e->flows);
    kt_zip_writer_free(e->zip);
    free(e->out.p);
    kt_http_req_release(e->req);
    free(e);
}

/* The end of the download: cut (failed: the connection closes) or complete. */
static void kt_nsz_export_end(kt_nsz_export *e, int failed)
{
    if (e->body && failed)
        kt_http_body_abort(e->body);
    else if (e->body)
        kt_http_sse_end(e->body);
    kt_nsz_export_free(e);
}

static void kt_nsz_pump(kt_nsz_export *e);

static void kt_nsz_read(kt_storage_reader *rd, kt_status st, const char *chunk, size_t len, const char *err,
                        void *data)
{
    kt_nsz_export *e = data;
    (void)rd;
    if (st) {
        KT_WARN(MOD, "namespace files export: %s cut: %s", e->uri, err);
        kt_nsz_export_end(e, 1);
        return;
    }
    if (!len) {
        kt_storage_reader_close(e->rd);
        e->rd = NULL;
        e->fnext++;
        e->state = KT_NSZ_NEXT;
        if (kt_zip_entry_end(e->zip, &e->out)) {
            kt_nsz_export_end(e, 1);
            return;
        }
    } else if (kt_zip_entry_write(e->zip, chunk, len, &e->out)) {
        kt_nsz_export_end(e, 1);
        return;
    }
    kt_nsz_pump(e);
}

static void kt_nsz_opened(kt_storage_reader *rd, kt_status st, const kt_storage_attrs *attrs, const char *err,
                          void *data)
{
    kt_nsz_export *e = data;
    (void)rd, (void)attrs;
    if (st) {
        e->rd = NULL; /* freed by the storage */
        if (st != KT_ENOTFOUND) {
            KT_WARN(MOD, "namespace files export: %s cut: %s", e->uri, err);
            kt_nsz_export_end(e, 1);
            return;
        }
        e->fnext++; /* deleted since the listing: skipped */
        e->state = KT_NSZ_NEXT;
    } else if (kt_zip_entry_begin(e->zip, e->files[e->fnext].rel, e->files[e->fnext].mtime_s, &e->out)) {
        kt_nsz_export_end(e, 1);
        return;
    } else {
        e->state = KT_NSZ_READING;
    }
    kt_nsz_pump(e);
}

/* One flow's entry, whole (a flow source is small). */
static int kt_nsz_flow_entry(kt_nsz_export *e, const json_t *row)
{
    const char *id = json_string_value(json_object_get(row, "id"));
    const char *src = json_string_value(json_object_get(row, "source"));
    char name[KT_SURI_NAME_MAX + 16];
    snprintf(name, sizeof name, "%s/%s.yml", KT_NSZ_FLOWS, id ? id : "flow");
    return kt_zip_entry_begin(e->zip, name, 0, &e->out) || kt_zip_entry_write(e->zip, src, strlen(src), &e->out) ||
           kt_zip_entry_end(e->zip, &e->out);
}

/* Moves the export on until it waits: for h2o to take bytes, or for the storage. */
static void kt_nsz_pump(kt_nsz_export *e)
{
    char err[512];
    for (;;) {
        if (e->out.len) { /* one write per drain: the next step runs from kt_nsz_drain */
            kt_http_body_write(e->body, e->out.p, e->out.len);
            e->out.len = 0;
            return;
        }
        switch (e->state) {
        case KT_NSZ_NEXT:
            if (e->fnext == e->nfiles) {
                e->state = KT_NSZ_FLOWS_NEXT;
                continue;
            }
            if (kt_api_nsf_uri(e->root, e->files[e->fnext].rel, e->uri, sizeof e->uri) ||
                kt_storage_reader_open(e->w->storage, e->uri, kt_nsz_opened, e, &e->rd, err, sizeof err)) {
                e->rd = NULL;
                kt_nsz_export_end(e, 1);
                return;
            }
            e->state = KT_NSZ_OPENING;
            return;
        case KT_NSZ_READING:
            if (kt_storage_read(e->rd, kt_nsz_read, e) != KT_OK)
                kt_nsz_export_end(e, 1);
            return;
        case KT_NSZ_FLOWS_NEXT:
            if (e->flow_next < json_array_size(e->flows)) {
                if (kt_nsz_flow_entry(e, json_array_get(e->flows, e->flow_next++))) {
                    kt_nsz_export_end(e, 1);
                    return;
                }
                continue;
            }
            if (kt_zip_finish(e->zip, &e->out)) {
                kt_nsz_export_end(e, 1);
                return;
            }
            e->state = KT_NSZ_END;
            continue;
        case KT_NSZ_END:
            kt_nsz_export_end(e, 0);
            return;
        default: /* opening, listing: a callback is on its way */
            return;
        }
    }
}

static void kt_nsz_drain(void *ud) { kt_nsz_pump(ud); }
static void kt_nsz_closed(void *ud) { kt_nsz_export_end(ud, 0); /* the client left: a pending read never calls */ }

static int kt_nsz_add_file(kt_nsz_export *e, char *rel, int64_t mtime_ms)
{
    if (!rel)
        return -1;
    if (e->nfiles == e->fcap) {
        size_t nc = e->fcap ? e->fcap * 2 : 16;
        kt_nsz_file *t = realloc(e->files, nc * sizeof *t);
        if (!t) {
            free(rel);
            return -1;
        }
        e->files = t, e->fcap = nc;
    }
    e->files[e->nfiles++] = (kt_nsz_file){rel, mtime_ms / 1000};
    return 0;
}

static void kt_nsz_list_next(kt_nsz_export *e);

static void kt_nsz_listed(kt_status st, const kt_storage_attrs *entries, size_t n, const char *err, void *data)
{
    kt_nsz_export *e = data;
    char *dir = e->dirs[e->dnext++];
    if (st && st != KT_ENOTFOUND) { /* a missing root (or a folder gone meanwhile) has nothing to export */
        kt_api_storage_error(e->req, st, e->uri, err);
        free(dir);
        kt_nsz_export_free(e);
        return;
    }
    int bad = 0;
    for (size_t i = 0; !st && !bad && i < n; i++) {
        size_t len = strlen(dir) + strlen(entries[i].name) + 2;
        char *child = malloc(len);
        if (child)
            snprintf(child, len, "%s%s%s", dir, *dir ? "/" : "", entries[i].name);
        bad = entries[i].type == KT_STORAGE_DIRECTORY ? kt_api_strv_push(&e->dirs, &e->ndirs, &e->dcap, child)
                                                      : kt_nsz_add_file(e, child, entries[i].modified_ms);
    }
    free(dir);
    if (bad) {
        kt_http_send_error(e->req, 500, "Internal server error: out of memory", NULL);
        kt_nsz_export_free(e);
        return;
    }
    kt_nsz_list_next(e);
}

/* The listing's next folder, or the start of the body once every folder was listed. */
static void kt_nsz_list_next(kt_nsz_export *e)
{
    char err[512];
    if (e->dnext < e->ndirs) {
        if (kt_api_nsf_uri(e->root, e->dirs[e->dnext], e->uri, sizeof e->uri) ||
            kt_storage_list(e->w->storage, e->uri, kt_nsz_listed, e, err, sizeof err) != KT_OK) {
            kt_api_storage_error(e->req, KT_EIO, e->uri, "cannot list");
            kt_nsz_export_free(e);
        }
        return;
    }
    kt_api_attachment(e->req, kt_http_param(e->req, "namespace"), "_files.zip");
    e->state = KT_NSZ_NEXT;
    e->body = kt_http_body_start(e->req, 200, "application/octet-stream", -1, kt_nsz_drain, kt_nsz_closed, e);
    if (!e->body) /* the client is gone */
        kt_nsz_export_free(e);
}

/* The namespace's flows (exactly this namespace), sorted by id: [{id, source}]. */
static json_t *kt_nsz_flows(kt_webserver *w, const char *ns)
{
    json_t *rows, *out = json_array(), *row;
    size_t i;
    if (kt_store_flows_latest(w->store, ns, NULL, &rows) != KT_OK) {
        json_decref(out);
        return NULL;
    }
    json_array_foreach(rows, i, row) {
        const char *rns = json_string_value(json_object_get(row, "namespace"));
        if (rns && !strcmp(rns, ns))
            json_array_append_new(out, json_pack("{s:O, s:O}", "id", json_object_get(row, "id"), "source",
                                                 json_object_get(row, "source")));
    }
    json_decref(rows);
    return out;
}

void kt_api_nsfile_export(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    char root[KT_URI_MAX];
    if (kt_api_nsf_root(w, r, root, sizeof root))
        return;
    kt_nsz_export *e = calloc(1, sizeof *e);
    if (!e || !(e->zip = kt_zip_writer_new(1)) || kt_api_strv_push(&e->dirs, &e->ndirs, &e->dcap, strdup(""))) {
        if (e)
            kt_zip_writer_free(e->zip);
        free(e);
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        return;
    }
    e->w = w;
    snprintf(e->root, sizeof e->root, "%s", root);
    if (!(e->flows = kt_nsz_flows(w, kt_http_param(r, "namespace")))) {
        kt_api_send_db_error(w, r);
        kt_nsz_export_free(e);
        return;
    }
    e->req = kt_http_defer(r);
    kt_nsz_list_next(e);
}

/* ---- import --------------------------------------------------------------------------------------------- */

typedef struct kt_nsz_flow {
    kt_flow *flow;
    char *source;
} kt_nsz_flow;

typedef struct kt_nsz_import {
    kt_webserver *w;
    kt_http_req *req; /* deferred */
    kt_multipart *form; /* its parts point into the request's body: read only while the request is alive */
    kt_zip_reader *zip;
    char root[KT_URI_MAX], uri[KT_URI_MAX];
    char **uris; /* per entry: its storage URI, NULL for folders and flows */
    size_t next;
    kt_zip_stream *in;
    kt_storage_writer *wr;
    char *buf;
    kt_nsz_flow *flows;
    size_t nflows;
    size_t flow_bytes; /* the flows' sources read so far */
} kt_nsz_import;

static void kt_nsz_import_free(kt_nsz_import *im)
{
    kt_storage_writer_abort(im->wr);
    kt_zip_stream_close(im->in);
    for (size_t i = 0; im->uris && i < kt_zip_count(im->zip); i++)
        free(im->uris[i]);
    free(im->uris);
    for (size_t i = 0; i < im->nflows; i++) {
        kt_flow_free(im->flows[i].flow);
        free(im->flows[i].source);
    }
    free(im->flows);
    kt_zip_close(im->zip);
    kt_multipart_free(im->form);
    free(im->buf);
    kt_http_req_release(im->req);
    free(im);
}

/* Kestra's replaceFirst("(?m)^namespace: .*$", "namespace: " + namespace); malloc'd. */
static char *kt_nsz_set_namespace(const char *src, size_t len, const char *ns)
{
    const char *p = src, *end = src + len;
    while (p < end) {
        if ((size_t)(end - p) >= 11 && !strncmp(p, "namespace: ", 11)) {
            const char *eol = p + 11;
            while (eol < end && *eol != '\n' && *eol != '\r')
                eol++;
            size_t nl = strlen(ns), out_len = (size_t)(p - src) + 11 + nl + (size_t)(end - eol);
            char *out = malloc(out_len + 1);
            if (!out)
                return NULL;
            memcpy(out, src, (size_t)(p - src) + 11);
            memcpy(out + (p - src) + 11, ns, nl);
            memcpy(out + (p - src) + 11 + nl, eol, (size_t)(end - eol));
            out[out_len] = 0;
            return out;
        }
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    return strndup(src, len);
}

/* Checks entry i (its name, or its flow) into im; -1 with msg (the 422's text) when refused. */
static int kt_nsz_check_entry(kt_nsz_import *im, size_t i, const char *ns, char *msg, size_t cap)
{
    const kt_zip_entry *en = kt_zip_get(im->zip, i);
    char rel[KT_SURI_PATH_MAX + 1], err[512], uri[KT_URI_MAX];
    if (en->is_dir)
        return 0;
    if (kt_suri_relative(en->name, rel, sizeof rel, err, sizeof err) != KT_OK) {
        snprintf(msg, cap, "Illegal argument: zip entry '%.300s': %s", en->name, err);
        return -1;
    }
    if (!strncmp(rel, KT_NSZ_FLOWS, sizeof KT_NSZ_FLOWS - 1) &&
        (rel[sizeof KT_NSZ_FLOWS - 1] == '/' || !rel[sizeof KT_NSZ_FLOWS - 1])) {
        const char *sub = rel + sizeof KT_NSZ_FLOWS - 1;
        if (!*sub || strchr(sub + 1, '/')) { /* Kestra: exactly /_flows/<file> */
            snprintf(msg, cap, "Illegal argument: Invalid flow file path: /%.300s", rel);
            return -1;
        }
        if (im->nflows == KT_NSZ_FLOWS_MAX) {
            snprintf(msg, cap, "Illegal argument: more than %d flows in one archive", KT_NSZ_FLOWS_MAX);
            return -1;
        }
        char *src;
        size_t len;
        if (kt_zip_read_all(im->zip, i, KT_NSZ_FLOW_MAX, &src, &len, err, sizeof err) != KT_OK) {
            snprintf(msg, cap, "Illegal argument: %s", err);
            return -1;
        }
        if ((im->flow_bytes += len) > KT_NSZ_FLOWS_TOTAL) {
            free(src);
            snprintf(msg, cap, "Illegal argument: the archive's flows hold more than %d bytes", KT_NSZ_FLOWS_TOTAL);
            return -1;
        }
        char *fixed = kt_nsz_set_namespace(src, len, ns);
        free(src);
        kt_diags d;
        kt_diags_init(&d);
        kt_flow *f = NULL;
        if (!fixed || kt_flow_parse_with_defaults(fixed, strlen(fixed), en->name, im->w->plugin_defaults, &f, &d)) {
            snprintf(msg, cap, "Illegal argument: zip entry '%.300s': invalid flow: %.400s", en->name,
                     d.count ? d.items[0].message : "cannot be parsed");
            kt_diags_clear(&d);
            free(fixed);
            return -1;
        }
        kt_diags_clear(&d);
        im->flows[im->nflows++] = (kt_nsz_flow){f, fixed};
        return 0;
    }
    if (kt_api_nsf_uri(im->root, rel, uri, sizeof uri) || !(im->uris[i] = strdup(uri))) {
        snprintf(msg, cap, "Illegal argument: zip entry '%.300s': path too long", en->name);
        return -1;
    }
    return 0;
}

static void kt_nsz_import_step(kt_nsz_import *im);

/* An entry failed while extracting: its writer is dropped (nothing of it appears), the answer names it. */
static void kt_nsz_import_fail(kt_nsz_import *im, int status, const char *what, const char *err)
{
    char msg[2048];
    const kt_zip_entry *en = kt_zip_get(im->zip, im->next);
    snprintf(msg, sizeof msg, "%s: zip entry '%.300s' not imported (%.1000s); %zu entr%s before it imported",
             status == 422 ? "Illegal argument" : "Internal server error", en ? en->name : "", err ? err : what,
             im->next, im->next == 1 ? "y" : "ies");
    kt_http_send_error(im->req, status, msg, NULL);
    kt_nsz_import_free(im);
}

static void kt_nsz_written(kt_status st, const char *err, void *data)
{
    kt_nsz_import *im = data;
    if (st) {
        kt_nsz_import_fail(im, 500, "storage", err);
        return;
    }
    kt_nsz_import_step(im);
}

static void kt_nsz_committed(kt_status st, const char *err, void *data)
{
    kt_nsz_import *im = data;
    im->wr = NULL; /* the storage frees it whatever the status */
    if (st) {
        kt_nsz_import_fail(im, st == KT_ECONFLICT ? 422 : 500, "storage", err);
        return;
    }
    kt_zip_stream_close(im->in);
    im->in = NULL;
    im->next++;
    kt_nsz_import_step(im);
}

/* Every file is in: the flows, then 200. */
static void kt_nsz_import_done(kt_nsz_import *im)
{
    for (size_t i = 0; i < im->nflows; i++)
        if (kt_api_flow_import(im->w, im->flows[i].flow, im->flows[i].source) != KT_OK) {
            kt_api_send_db_error(im->w, im->req);
            kt_nsz_import_free(im);
            return;
        }
    kt_http_send_empty(im->req, 200);
    kt_nsz_import_free(im);
}

/* The next piece of work: open an entry's writer, move one inflated chunk, or commit. */
static void kt_nsz_import_step(kt_nsz_import *im)
{
    char err[512];
    kt_status st;
    if (!kt_http_req_alive(im->req)) { /* the client left: the archive's bytes stay ours, but nobody waits */
        kt_nsz_import_free(im);
        return;
    }
    if (!im->in) {
        while (im->next < kt_zip_count(im->zip) && !im->uris[im->next])
            im->next++;
        if (im->next == kt_zip_count(im->zip)) {
            kt_nsz_import_done(im);
            return;
        }
        if (kt_zip_stream_open(im->zip, im->next, &im->in) != KT_OK) {
            kt_nsz_import_fail(im, 500, "out of memory", NULL);
            return;
        }
        if (kt_storage_writer_open(im->w->storage, im->uris[im->next], NULL, &im->wr, err, sizeof err) != KT_OK) {
            im->wr = NULL;
            kt_nsz_import_fail(im, 500, "storage", err);
            return;
        }
    }
    size_t n;
    if (kt_zip_stream_read(im->in, im->buf, KT_STORAGE_CHUNK, &n, err, sizeof err) != KT_OK) {
        kt_nsz_import_fail(im, 422, "corrupt", err);
        return;
    }
    st = n ? kt_storage_write(im->wr, im->buf, n, kt_nsz_written, im)
           : kt_storage_writer_commit(im->wr, kt_nsz_committed, im);
    if (st)
        kt_nsz_import_fail(im, 500, "storage", kt_strerror(st));
}

void kt_api_nsfile_import(kt_webserver *w, kt_http_req *r, kt_multipart *form, const kt_multipart_part *part,
                          const char *root)
{
    char err[512], msg[1024];
    const kt_zip_limits lim = {.max_entries = KT_NSZ_MAX_ENTRIES, .max_total = KT_NSZ_MAX_TOTAL};
    kt_nsz_import *im = calloc(1, sizeof *im);
    if (!im) {
        kt_multipart_free(form);
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        return;
    }
    im->w = w;
    im->form = form;
    snprintf(im->root, sizeof im->root, "%s", root);
    kt_status st = kt_zip_open(part->data, part->len, &lim, &im->zip, err, sizeof err);
    if (st == KT_ENOMEM) {
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        goto fail;
    }
    if (st) {
        snprintf(msg, sizeof msg, "Illegal argument: zip archive refused: %s", err);
        kt_http_send_error(r, 422, msg, NULL);
        goto fail;
    }
    size_t n = kt_zip_count(im->zip);
    if (!(im->uris = calloc(n ? n : 1, sizeof *im->uris)) || !(im->flows = calloc(n ? n : 1, sizeof *im->flows)) ||
        !(im->buf = malloc(KT_STORAGE_CHUNK))) {
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        goto fail;
    }
    for (size_t i = 0; i < n; i++)
        if (kt_nsz_check_entry(im, i, kt_http_param(r, "namespace"), msg, sizeof msg)) {
            kt_http_send_error(r, 422, msg, NULL);
            goto fail;
        }
    im->req = kt_http_defer(r);
    kt_nsz_import_step(im);
    return;
fail:
    kt_nsz_import_free(im);
}
