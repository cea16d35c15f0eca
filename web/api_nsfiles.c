/* The namespace files API (KESTRA-system.md §1.7, Kestra's NamespaceFileController): GET/POST/PUT/DELETE
 * /api/v1/namespaces/{namespace}/files, GET …/files/stats, GET and POST …/files/directory, GET …/files/search, over
 * the storage's `kestra:///<ns as path>/_files/` folder.
 *
 * Every path parameter goes through kt_nsf_resolve before the storage sees it:
 *   - the query value is decoded once by the HTTP layer and is a path relative to the namespace root. Leading '/'
 *     and "./" are dropped (Kestra strips a leading run of dots and slashes: `^[.]*[\\|/]*`; Kite drops only "./"
 *     and "/", so `.gitignore` keeps its dot and `../x` is not quietly read as `x`);
 *   - kt_suri_relative then refuses what is left of a traversal: any `..` segment (plain, or `%2e%2e` once the
 *     HTTP layer decoded it; `%252e%252e` stays the literal name `%2e%2e`), backslashes, control characters, empty
 *     or `.` segments. `..` answers Kestra's LocalStorage text (422), the rest 422 with the checker's reason;
 *   - Kestra's forbidden paths (`/_flows.*`, matched on the path with its leading '/') answer 422 `Forbidden path:
 *     /_flows…` on every route (Kestra skips the guard on upload, where `/_flows/<f>` imports a flow: Kite refuses
 *     that import, and `_flows` written without the leading '/' is refused too rather than stored);
 *   - the checked path is percent-encoded back (kt_suri_from_path) under the namespace's root URI.
 * Answers follow the controller: 200 with an empty body for the writes, FileAttributes as Jackson writes them
 * (non-null fields), 400 for a missing required query value, 404 for a missing file. */
#include "base/log.h"
#include "store/storage.h"
#include "store/storage_uri.h"
#include "web/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MOD "api"
#define KT_URI_MAX (KT_SURI_PATH_MAX * 3 + 16)
#define KT_NSF_TRAVERSAL "Illegal argument: File should be accessed with their full path and not using relative '..' path."
#define KT_NSF_FLOWS "_flows"

/* ---- the path check ------------------------------------------------------------------------------- */

/* A resolved path: the checked relative path ("" for the namespace root) and its URI. */
typedef struct kt_nsf_path {
    char rel[KT_SURI_PATH_MAX + 1];
    char uri[KT_URI_MAX];
} kt_nsf_path;

/* 1 when s holds a `..` segment, '/' and '\' both separating. */
static int kt_nsf_dotdot(const char *s)
{
    for (const char *p = s; *p; p++)
        if (p[0] == '.' && p[1] == '.' && (p == s || p[-1] == '/' || p[-1] == '\\') &&
            (!p[2] || p[2] == '/' || p[2] == '\\'))
            return 1;
    return 0;
}

/* The URI of rel (a checked relative path, "" = root) under the namespace root URI `root` (ending in '/'). */
/* Shared with api_nsfiles_zip.c (api_int.h). */
int kt_api_nsf_uri(const char *root, const char *rel, char *out, size_t cap)
{
    char enc[KT_URI_MAX];
    static const char scheme[] = "kestra:///";
    if (!*rel)
        return snprintf(out, cap, "%s", root) < (int)cap ? 0 : -1;
    if (kt_suri_from_path(rel, enc, sizeof enc) != KT_OK)
        return -1;
    return snprintf(out, cap, "%s%s", root, enc + sizeof scheme - 1) < (int)cap ? 0 : -1;
}

/* The namespace root URI of r's {namespace} into root; -1 after answering (no storage, a bad namespace). */
int kt_api_nsf_root(kt_webserver *w, kt_http_req *r, char *root, size_t cap)
{
    const char *ns = kt_http_param(r, "namespace");
    char msg[512];
    if (!w->storage) {
        kt_http_send_error(r, 503, "Service Unavailable: this node has no internal storage", NULL);
        return -1;
    }
    if (!ns || kt_suri_namespace_files(ns, root, cap) != KT_OK) {
        snprintf(msg, sizeof msg, "Illegal argument: Invalid namespace '%.200s'", ns ? ns : "");
        kt_http_send_error(r, 422, msg, NULL);
        return -1;
    }
    return 0;
}

/* Checks raw (NULL = the root) into out; upload: the upload's `_flows` rule. -1 after answering 422. */
static int kt_nsf_resolve(kt_http_req *r, const char *root, const char *raw, int upload, kt_nsf_path *out)
{
    char err[512], msg[KT_SURI_PATH_MAX + 600];
    const char *p = raw ? raw : "";
    for (;;) { /* "/", "./" and a lone "." name the root's own folder */
        while (*p == '/')
            p++;
        if (p[0] == '.' && (p[1] == '/' || !p[1]))
            p++;
        else
            break;
    }
    out->rel[0] = 0;
    if (*p && kt_suri_relative(p, out->rel, sizeof out->rel, err, sizeof err) != KT_OK) {
        if (kt_nsf_dotdot(p))
            snprintf(msg, sizeof msg, "%s", KT_NSF_TRAVERSAL);
        else
            snprintf(msg, sizeof msg, "Illegal argument: %s", err);
        kt_http_send_error(r, 422, msg, NULL);
        return -1;
    }
    if (!strncmp(out->rel, KT_NSF_FLOWS, sizeof KT_NSF_FLOWS - 1)) {
        const char *sub = out->rel + sizeof KT_NSF_FLOWS - 1;
        /* Kestra's upload imports /_flows/<file> as a flow and refuses any other depth with this text */
        if (upload && *sub == '/' && strchr(sub + 1, '/'))
            snprintf(msg, sizeof msg, "Illegal argument: Invalid flow file path: /%s", out->rel);
        else
            snprintf(msg, sizeof msg, "Illegal argument: Forbidden path: /%s", out->rel);
        kt_http_send_error(r, 422, msg, NULL);
        return -1;
    }
    if (kt_api_nsf_uri(root, out->rel, out->uri, sizeof out->uri)) {
        kt_http_send_error(r, 422, "Illegal argument: path too long", NULL);
        return -1;
    }
    return 0;
}

/* The required query value `name`; NULL after answering 400. */
static const char *kt_nsf_required(kt_http_req *r, const char *name)
{
    const char *v = kt_http_query(r, name);
    if (!v) {
        char msg[128];
        snprintf(msg, sizeof msg, "Bad Request: Required QueryValue [%s] not specified", name);
        kt_http_send_error(r, 400, msg, NULL);
    }
    return v;
}

/* Root URI and checked path of the query value `name` (required or not); -1 after answering. */
static int kt_nsf_target(kt_webserver *w, kt_http_req *r, const char *name, int required, int upload, char *root,
                         kt_nsf_path *out)
{
    const char *raw = required ? kt_nsf_required(r, name) : kt_http_query(r, name);
    if (required && !raw)
        return -1;
    if (kt_api_nsf_root(w, r, root, KT_URI_MAX))
        return -1;
    return kt_nsf_resolve(r, root, raw, upload, out);
}

/* ---- the operations' state ----------------------------------------------------------------------------- */

typedef struct kt_nsf_op {
    kt_webserver *w;
    kt_http_req *req; /* deferred */
    char root[KT_URI_MAX];
    kt_nsf_path p;
    /* upload */
    kt_multipart *form;
    const kt_multipart_part *part;
    size_t off;
    kt_storage_writer *wr;
    char *buf;
    /* search */
    char **dirs; /* folders still to list (relative paths), a queue */
    size_t ndirs, dcap, next;
    char **found;
    size_t nfound, fcap;
    char *q;
} kt_nsf_op;

static kt_nsf_op *kt_nsf_op_new(kt_webserver *w, kt_http_req *r, const char *root, const kt_nsf_path *p)
{
    kt_nsf_op *op = calloc(1, sizeof *op);
    if (!op) {
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        return NULL;
    }
    op->w = w;
    snprintf(op->root, sizeof op->root, "%s", root);
    if (p)
        op->p = *p;
    return op;
}

static void kt_nsf_op_free(kt_nsf_op *op)
{
    kt_storage_writer_abort(op->wr);
    kt_multipart_free(op->form);
    free(op->buf);
    for (size_t i = op->next; i < op->ndirs; i++)
        free(op->dirs[i]);
    free(op->dirs);
    for (size_t i = 0; i < op->nfound; i++)
        free(op->found[i]);
    free(op->found);
    free(op->q);
    kt_http_req_release(op->req);
    free(op);
}

/* A call that refused at once: answer on the live request and free op (not deferred yet). */
static void kt_nsf_refused(kt_http_req *r, kt_nsf_op *op, kt_status st, const char *err)
{
    kt_api_storage_error(r, st, op->p.uri, err);
    kt_nsf_op_free(op);
}

static void kt_nsf_done_empty(kt_status st, const char *err, void *data)
{
    kt_nsf_op *op = data;
    if (st)
        kt_api_storage_error(op->req, st, op->p.uri, err);
    else
        kt_http_send_empty(op->req, 200);
    kt_nsf_op_free(op);
}

/* ---- GET …/files ---------------------------------------------------------------------------------------- */

void kt_api_nsfile_get(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    char root[KT_URI_MAX];
    kt_nsf_path p;
    if (kt_nsf_target(w, r, "path", 1, 0, root, &p))
        return;
    kt_api_download(w, r, p.uri, 0); /* the root is a folder: 404 as any folder */
}

/* ---- GET …/files/stats and …/files/directory --------------------------------------------------------------- */

/* FileAttributes as Kestra's Jackson writes them (null metadata left out). */
static json_t *kt_nsf_attrs_json(const kt_storage_attrs *a)
{
    json_t *o = json_pack("{s:s, s:I, s:I, s:s, s:I}", "fileName", a->name ? a->name : "", "lastModifiedTime",
                          (json_int_t)a->modified_ms, "creationTime", (json_int_t)a->created_ms, "type",
                          a->type == KT_STORAGE_DIRECTORY ? "Directory" : "File", "size", (json_int_t)a->size);
    if (o && a->metadata)
        json_object_set(o, "metadata", a->metadata);
    return o;
}

static void kt_nsf_stat_done(kt_status st, const kt_storage_attrs *attrs, const char *err, void *data)
{
    kt_nsf_op *op = data;
    if (st == KT_ENOTFOUND || st == KT_EINVAL) {
        char msg[KT_URI_MAX + 64];
        snprintf(msg, sizeof msg, "Not Found: %s", op->p.uri);
        kt_http_send_error(op->req, 404, msg, NULL);
    } else if (st) {
        kt_api_storage_error(op->req, st, op->p.uri, err);
    } else {
        kt_http_send_json(op->req, 200, kt_nsf_attrs_json(attrs));
    }
    kt_nsf_op_free(op);
}

static void kt_nsf_list_done(kt_status st, const kt_storage_attrs *entries, size_t n, const char *err, void *data)
{
    kt_nsf_op *op = data;
    char msg[KT_URI_MAX + 600];
    if (st == KT_ENOTFOUND) {
        snprintf(msg, sizeof msg, "Not Found: %s", op->p.uri);
        kt_http_send_error(op->req, 404, msg, NULL);
    } else if (st == KT_EINVAL) { /* a file: Kestra's Files.list throws NotDirectoryException, a 500 */
        snprintf(msg, sizeof msg, "Internal server error: %s", err);
        kt_http_send_error(op->req, 500, msg, NULL);
    } else if (st) {
        kt_api_storage_error(op->req, st, op->p.uri, err);
    } else {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, kt_nsf_attrs_json(&entries[i]));
        kt_http_send_json(op->req, 200, arr);
    }
    kt_nsf_op_free(op);
}

/* The root made first (Kestra creates a missing root on stats and listing), then stat or list. */
typedef enum { KT_NSF_STAT, KT_NSF_LIST } kt_nsf_kind;

static void kt_nsf_look_now(kt_nsf_op *op, kt_nsf_kind look)
{
    char err[512];
    kt_status st = look == KT_NSF_STAT ? kt_storage_stat(op->w->storage, op->p.uri, kt_nsf_stat_done, op, err, sizeof err)
                                       : kt_storage_list(op->w->storage, op->p.uri, kt_nsf_list_done, op, err, sizeof err);
    if (st) {
        kt_api_storage_error(op->req, st, op->p.uri, err);
        kt_nsf_op_free(op);
    }
}

static void kt_nsf_root_made_stat(kt_status st, const char *err, void *data)
{
    kt_nsf_op *op = data;
    if (st) {
        kt_api_storage_error(op->req, st, op->p.uri, err);
        kt_nsf_op_free(op);
        return;
    }
    kt_nsf_look_now(op, KT_NSF_STAT);
}

static void kt_nsf_root_made_list(kt_status st, const char *err, void *data)
{
    kt_nsf_op *op = data;
    if (st) {
        kt_api_storage_error(op->req, st, op->p.uri, err);
        kt_nsf_op_free(op);
        return;
    }
    kt_nsf_look_now(op, KT_NSF_LIST);
}

static void kt_nsf_inspect(kt_http_req *r, void *ud, kt_nsf_kind look)
{
    kt_webserver *w = ud;
    char root[KT_URI_MAX], err[512];
    kt_nsf_path p;
    if (kt_nsf_target(w, r, "path", 0, 0, root, &p))
        return;
    kt_nsf_op *op = kt_nsf_op_new(w, r, root, &p);
    if (!op)
        return;
    kt_status st;
    if (!p.rel[0])
        st = kt_storage_mkdir(w->storage, p.uri, look == KT_NSF_STAT ? kt_nsf_root_made_stat : kt_nsf_root_made_list,
                              op, err, sizeof err);
    else if (look == KT_NSF_STAT)
        st = kt_storage_stat(w->storage, p.uri, kt_nsf_stat_done, op, err, sizeof err);
    else
        st = kt_storage_list(w->storage, p.uri, kt_nsf_list_done, op, err, sizeof err);
    if (st) {
        kt_nsf_refused(r, op, st, err);
        return;
    }
    op->req = kt_http_defer(r);
}

void kt_api_nsfile_stats(kt_http_req *r, void *ud) { kt_nsf_inspect(r, ud, KT_NSF_STAT); }
void kt_api_nsfile_list(kt_http_req *r, void *ud) { kt_nsf_inspect(r, ud, KT_NSF_LIST); }

/* ---- POST …/files/directory ------------------------------------------------------------------------------ */

static void kt_nsf_mkdir_done(kt_status st, const char *err, void *data)
{
    kt_nsf_op *op = data;
    if (st == KT_ECONFLICT) { /* Kestra's mkdirs failing: RuntimeException "Cannot create directory" */
        char msg[KT_URI_MAX + 64];
        snprintf(msg, sizeof msg, "Internal server error: Cannot create directory: %s", op->p.uri);
        kt_http_send_error(op->req, 500, msg, NULL);
        kt_nsf_op_free(op);
        return;
    }
    kt_nsf_done_empty(st, err, data);
}

void kt_api_nsfile_mkdir(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    char root[KT_URI_MAX], err[512];
    kt_nsf_path p;
    if (kt_nsf_target(w, r, "path", 0, 0, root, &p))
        return;
    kt_nsf_op *op = kt_nsf_op_new(w, r, root, &p);
    if (!op)
        return;
    kt_status st = kt_storage_mkdir(w->storage, p.uri, kt_nsf_mkdir_done, op, err, sizeof err);
    if (st) {
        kt_nsf_refused(r, op, st, err);
        return;
    }
    op->req = kt_http_defer(r);
}

/* ---- POST …/files: the upload ---------------------------------------------------------------------------- */

static void kt_nsf_upload_step(kt_nsf_op *op);

static void kt_nsf_upload_fail(kt_nsf_op *op, kt_status st, const char *err)
{
    /* Kestra's FileOutputStream answers a folder in the way with FileNotFoundException: 404 */
    kt_api_storage_error(op->req, st == KT_ECONFLICT ? KT_EINVAL : st, op->p.uri, err);
    kt_nsf_op_free(op);
}

static void kt_nsf_upload_written(kt_status st, const char *err, void *data)
{
    kt_nsf_op *op = data;
    if (st) {
        kt_nsf_upload_fail(op, st, err);
        return;
    }
    kt_nsf_upload_step(op);
}

static void kt_nsf_upload_committed(kt_status st, const char *err, void *data)
{
    kt_nsf_op *op = data;
    op->wr = NULL; /* freed by the storage whatever the status */
    if (st) {
        kt_nsf_upload_fail(op, st, err);
        return;
    }
    kt_http_send_empty(op->req, 200);
    kt_nsf_op_free(op);
}

/* The next chunk of the part, copied out of the request's body (which goes with the request), or the commit. */
static void kt_nsf_upload_step(kt_nsf_op *op)
{
    char err[512];
    kt_status st;
    if (!kt_http_req_alive(op->req)) { /* the client left: the body is gone, nothing becomes visible */
        kt_nsf_op_free(op);
        return;
    }
    if (op->off < op->part->len) {
        size_t n = op->part->len - op->off < KT_STORAGE_CHUNK ? op->part->len - op->off : KT_STORAGE_CHUNK;
        memcpy(op->buf, op->part->data + op->off, n);
        op->off += n;
        st = kt_storage_write(op->wr, op->buf, n, kt_nsf_upload_written, op);
    } else {
        st = kt_storage_writer_commit(op->wr, kt_nsf_upload_committed, op);
    }
    if (st) {
        snprintf(err, sizeof err, "%s", kt_strerror(st));
        kt_nsf_upload_fail(op, st, err);
    }
}

/* The `fileContent` part of r's multipart body; NULL after answering. */
static const kt_multipart_part *kt_nsf_file_part(kt_http_req *r, kt_multipart **form)
{
    const char *ct = kt_http_header(r, "content-type");
    char err[256], msg[512];
    size_t len;
    const char *body = kt_http_body(r, &len);
    *form = NULL;
    if (!ct || strncasecmp(ct, "multipart/form-data", 19)) {
        snprintf(msg, sizeof msg, "Unsupported Media Type: Content Type [%.200s] not allowed. Allowed types: "
                 "[multipart/form-data]", ct ? ct : "");
        kt_http_send_error(r, 415, msg, NULL);
        return NULL;
    }
    if (kt_multipart_parse(ct, body ? body : "", body ? len : 0, form, err, sizeof err) != KT_OK) {
        snprintf(msg, sizeof msg, "Illegal argument: malformed multipart body: %s", err);
        kt_http_send_error(r, 422, msg, NULL);
        return NULL;
    }
    const kt_multipart_part *part = kt_multipart_find(*form, "fileContent");
    if (!part) {
        kt_http_send_error(r, 400, "Bad Request: Required argument [CompletedFileUpload fileContent] not specified",
                           NULL);
        kt_multipart_free(*form);
        *form = NULL;
    }
    return part;
}

void kt_api_nsfile_upload(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    char root[KT_URI_MAX], err[512];
    kt_nsf_path p;
    if (kt_nsf_target(w, r, "path", 1, 1, root, &p))
        return;
    kt_multipart *form;
    const kt_multipart_part *part = kt_nsf_file_part(r, &form);
    if (!part)
        return;
    size_t fl = part->filename ? strlen(part->filename) : 0;
    if (fl >= 4 && !strcasecmp(part->filename + fl - 4, ".zip")) {
        /* Kestra extracts a .zip into the namespace (its _flows/ entries imported as flows); path is not used */
        kt_api_nsfile_import(w, r, form, part, root);
        return;
    }
    kt_nsf_op *op = kt_nsf_op_new(w, r, root, &p);
    if (!op) {
        kt_multipart_free(form);
        return;
    }
    op->form = form;
    op->part = part;
    if (!p.rel[0]) { /* the root folder itself: Kestra's FileOutputStream on a folder, a 404 */
        kt_nsf_refused(r, op, KT_EINVAL, "a folder");
        return;
    }
    if (!(op->buf = malloc(KT_STORAGE_CHUNK))) {
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        kt_nsf_op_free(op);
        return;
    }
    kt_status st = kt_storage_writer_open(w->storage, p.uri, NULL, &op->wr, err, sizeof err);
    if (st) {
        op->wr = NULL;
        kt_nsf_refused(r, op, st, err);
        return;
    }
    op->req = kt_http_defer(r);
    kt_nsf_upload_step(op);
}

/* ---- PUT …/files?from=&to= : move ----------------------------------------------------------------------- */

static void kt_nsf_move_done(kt_status st, const char *err, void *data)
{
    kt_nsf_op *op = data;
    char msg[KT_URI_MAX + 600];
    if (st == KT_ENOTFOUND) {
        snprintf(msg, sizeof msg, "Not Found: %s", op->p.uri);
        kt_http_send_error(op->req, 404, msg, NULL);
    } else if (st == KT_EINVAL) {
        snprintf(msg, sizeof msg, "Illegal argument: %s", err);
        kt_http_send_error(op->req, 422, msg, NULL);
    } else if (st == KT_ECONFLICT) { /* Files.move's FileAlreadyExists / DirectoryNotEmpty: a 500 in Kestra */
        snprintf(msg, sizeof msg, "Internal server error: %s", err);
        kt_http_send_error(op->req, 500, msg, NULL);
    } else if (st) {
        kt_api_storage_error(op->req, st, op->p.uri, err);
    } else {
        kt_http_send_empty(op->req, 200);
    }
    kt_nsf_op_free(op);
}

void kt_api_nsfile_move(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    char root[KT_URI_MAX], err[512], msg[700];
    kt_nsf_path from, to;
    const char *rf = kt_nsf_required(r, "from");
    if (!rf)
        return;
    const char *rt = kt_nsf_required(r, "to");
    if (!rt || kt_api_nsf_root(w, r, root, sizeof root) || kt_nsf_resolve(r, root, rf, 0, &from) ||
        kt_nsf_resolve(r, root, rt, 0, &to))
        return;
    if (!from.rel[0] || !to.rel[0]) {
        kt_http_send_error(r, 422, "Illegal argument: the namespace files root cannot be moved nor replaced", NULL);
        return;
    }
    kt_nsf_op *op = kt_nsf_op_new(w, r, root, &from);
    if (!op)
        return;
    kt_status st = kt_storage_move(w->storage, from.uri, to.uri, kt_nsf_move_done, op, err, sizeof err);
    if (st == KT_EINVAL) {
        snprintf(msg, sizeof msg, "Illegal argument: %s", err);
        kt_http_send_error(r, 422, msg, NULL);
        kt_nsf_op_free(op);
        return;
    }
    if (st) {
        kt_nsf_refused(r, op, st, err);
        return;
    }
    op->req = kt_http_defer(r);
}

/* ---- DELETE …/files -------------------------------------------------------------------------------------- */

/* After the target went, its parent folders that became empty go too, walking up to (not including) the root:
 * Kestra's cascade. Best effort: a failure there still answers 200 (the file itself is gone). */
static void kt_nsf_prune_next(kt_nsf_op *op);

static void kt_nsf_prune_deleted(kt_status st, const char *err, void *data)
{
    kt_nsf_op *op = data;
    if (st) {
        KT_WARN(MOD, "namespace files: empty folder %s not removed: %s", op->p.uri, err);
        kt_http_send_empty(op->req, 200);
        kt_nsf_op_free(op);
        return;
    }
    kt_nsf_prune_next(op);
}

static void kt_nsf_prune_listed(kt_status st, const kt_storage_attrs *entries, size_t n, const char *err, void *data)
{
    kt_nsf_op *op = data;
    char e[512];
    (void)entries;
    if (st || n) { /* not empty (or gone): the cascade stops here */
        if (st && st != KT_ENOTFOUND)
            KT_WARN(MOD, "namespace files: %s not listed: %s", op->p.uri, err);
        kt_http_send_empty(op->req, 200);
        kt_nsf_op_free(op);
        return;
    }
    if (kt_storage_delete(op->w->storage, op->p.uri, kt_nsf_prune_deleted, op, e, sizeof e) != KT_OK) {
        kt_http_send_empty(op->req, 200);
        kt_nsf_op_free(op);
    }
}

static void kt_nsf_prune_next(kt_nsf_op *op)
{
    char err[512];
    size_t n = strlen(op->p.rel);
    if (n && op->p.rel[n - 1] == '/')
        op->p.rel[--n] = 0;
    char *slash = strrchr(op->p.rel, '/');
    if (!slash) { /* the parent is the root: kept */
        kt_http_send_empty(op->req, 200);
        kt_nsf_op_free(op);
        return;
    }
    *slash = 0;
    if (kt_api_nsf_uri(op->root, op->p.rel, op->p.uri, sizeof op->p.uri) ||
        kt_storage_list(op->w->storage, op->p.uri, kt_nsf_prune_listed, op, err, sizeof err) != KT_OK) {
        kt_http_send_empty(op->req, 200);
        kt_nsf_op_free(op);
    }
}

static void kt_nsf_deleted(kt_status st, size_t count, const char *err, void *data)
{
    kt_nsf_op *op = data;
    (void)count; /* an absent path is no error: Kestra's deleteIfExists answers false and the route 200 */
    if (st) {
        kt_api_storage_error(op->req, st, op->p.uri, err);
        kt_nsf_op_free(op);
        return;
    }
    kt_nsf_prune_next(op);
}

void kt_api_nsfile_delete(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    char root[KT_URI_MAX], err[512];
    kt_nsf_path p;
    if (kt_nsf_target(w, r, "path", 1, 0, root, &p))
        return;
    kt_nsf_op *op = kt_nsf_op_new(w, r, root, &p);
    if (!op)
        return;
    /* the root too, as Kestra: `/` deletes every namespace file */
    kt_status st = kt_storage_delete_prefix(w->storage, p.uri, kt_nsf_deleted, op, err, sizeof err);
    if (st) {
        kt_nsf_refused(r, op, st, err);
        return;
    }
    op->req = kt_http_defer(r);
}

/* ---- GET …/files/search?q= ----------------------------------------------------------------------------- */

/* Every file under the root, folder by folder (one listing at a time), whose "/dir/file" path contains q; answered
 * in reverse order of paths, as Kestra's allByPrefix sorts them. */
int kt_api_strv_push(char ***arr, size_t *n, size_t *cap, char *s)
{
    if (!s)
        return -1;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **t = realloc(*arr, nc * sizeof *t);
        if (!t) {
            free(s);
            return -1;
        }
        *arr = t, *cap = nc;
    }
    (*arr)[(*n)++] = s;
    return 0;
}

static int kt_nsf_rcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

static void kt_nsf_search_next(kt_nsf_op *op);

static void kt_nsf_search_listed(kt_status st, const kt_storage_attrs *entries, size_t n, const char *err,
                                 void *data)
{
    kt_nsf_op *op = data;
    char *dir = op->dirs[op->next++];
    if (st && st != KT_ENOTFOUND) { /* a folder gone meanwhile is skipped, as Kestra's visitFileFailed */
        kt_api_storage_error(op->req, st, op->root, err);
        free(dir);
        kt_nsf_op_free(op);
        return;
    }
    for (size_t i = 0; !st && i < n; i++) {
        size_t len = strlen(dir) + strlen(entries[i].name) + 3;
        char *child = malloc(len);
        if (!child)
            break;
        snprintf(child, len, "%s/%s", dir, entries[i].name);
        int bad = entries[i].type == KT_STORAGE_DIRECTORY ? kt_api_strv_push(&op->dirs, &op->ndirs, &op->dcap, child)
                  : strstr(child, op->q) ? kt_api_strv_push(&op->found, &op->nfound, &op->fcap, child)
                                         : (free(child), 0);
        if (bad)
            break;
    }
    free(dir);
    kt_nsf_search_next(op);
}

static void kt_nsf_search_next(kt_nsf_op *op)
{
    char err[512];
    if (op->next == op->ndirs) {
        if (op->nfound) /* qsort may not be given NULL, even for nothing */
            qsort(op->found, op->nfound, sizeof *op->found, kt_nsf_rcmp);
        json_t *arr = json_array();
        for (size_t i = 0; i < op->nfound; i++)
            json_array_append_new(arr, json_string(op->found[i]));
        kt_http_send_json(op->req, 200, arr);
        kt_nsf_op_free(op);
        return;
    }
    const char *dir = op->dirs[op->next];
    if (kt_api_nsf_uri(op->root, dir[0] == '/' ? dir + 1 : dir, op->p.uri, sizeof op->p.uri) ||
        kt_storage_list(op->w->storage, op->p.uri, kt_nsf_search_listed, op, err, sizeof err) != KT_OK) {
        kt_api_storage_error(op->req, KT_EIO, op->p.uri, "cannot list");
        kt_nsf_op_free(op);
    }
}

void kt_api_nsfile_search(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    char root[KT_URI_MAX];
    const char *q = kt_nsf_required(r, "q");
    if (!q || kt_api_nsf_root(w, r, root, sizeof root))
        return;
    kt_nsf_op *op = kt_nsf_op_new(w, r, root, NULL);
    if (!op)
        return;
    if (!(op->q = strdup(q)) || kt_api_strv_push(&op->dirs, &op->ndirs, &op->dcap, strdup(""))) {
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        kt_nsf_op_free(op);
        return;
    }
    op->req = kt_http_defer(r);
    kt_nsf_search_next(op);
}
