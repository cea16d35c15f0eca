/* The execution file API (KESTRA-system.md §1.2, Kestra's ExecutionController.getFile/getFileMetadatas/
 * previewFile): GET /api/v1/executions/{executionId}/file, …/file/metas and …/file/preview, each with
 * `path=kestra:///…`. Every route checks the path the same way before it touches the storage (validateFile):
 *   - the query value, decoded once by the HTTP layer, is a kestra:// URI; kt_suri_path decodes the URI's own escapes
 *     and refuses every traversal spelling (`..`, `%2e%2e`, backslashes), other schemes and relative forms;
 *   - the checked path must lie, segment-wise, under the execution's folder or the flow's or namespace's state
 *     store; a path of another execution answers 301 to that execution's same endpoint; anything else 422.
 * Downloads are streamed: a storage reader hands one chunk, the HTTP body sends it, and the next chunk is read only
 * once h2o has taken the previous one (back-pressure: one chunk in memory per download). */
#include "base/base64.h"
#include "base/id.h"
#include "base/log.h"
#include "expr/expr.h"
#include "flow/model.h"
#include "store/storage.h"
#include "store/storage_uri.h"
#include "web/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MOD "api"
#define KT_URI_MAX (KT_SURI_PATH_MAX * 3 + 16)
/* Kestra's kestra.server.preview.initial-rows and max-rows */
#define KT_PREVIEW_ROWS 100
#define KT_PREVIEW_MAX_ROWS 5000
/* A preview holds at most this much text (one huge line must not fill the memory) */
#define KT_PREVIEW_MAX_BYTES (1024 * 1024)
/* Images and PDFs are previewed whole, as base64 (Kestra's Base64Render): up to this size, a clear 422 beyond */
#define KT_PREVIEW_MAX_BINARY (10 * 1024 * 1024)

/* What a preview renders, from the file's extension (FileRenderBuilder.of) */
typedef enum kt_preview_kind { KT_PREVIEW_TEXT, KT_PREVIEW_MARKDOWN, KT_PREVIEW_ION, KT_PREVIEW_IMAGE, KT_PREVIEW_PDF } kt_preview_kind;

/* ---- the path check (validateFile) ------------------------------------------------------------------ */

/* A query value percent-encoded (for a Location that a client decodes once). */
static void kt_api_qencode(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~:/", *p))
            out[o++] = (char)*p;
        else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = 0;
}

/* 1 when path lies under the checked form of the URI `prefix_uri`. */
static int kt_api_under_uri(const char *path, const char *prefix_uri)
{
    char prefix[KT_SURI_PATH_MAX + 1], err[256];
    return kt_suri_path(prefix_uri, prefix, sizeof prefix, err, sizeof err) == KT_OK && kt_suri_under(path, prefix);
}

/* Checks r's execution and path for the route whose last segments are `endpoint` ("file", "file/metas"...): 0 and the
 * URI (as sent) in uri, or -1 after answering 400/404/301/422. */
static int kt_api_file_target(kt_webserver *w, kt_http_req *r, const char *endpoint, char *uri, size_t cap)
{
    const char *id = kt_http_param(r, "executionId"), *q = kt_http_query(r, "path");
    char msg[KT_URI_MAX + 256], path[KT_SURI_PATH_MAX + 1], err[512];
    if (!w->storage) {
        kt_http_send_error(r, 503, "Service Unavailable: this node has no internal storage", NULL);
        return -1;
    }
    if (!q || !*q) {
        kt_http_send_error(r, 400, "Bad Request: Required QueryValue [path] not specified", NULL);
        return -1;
    }
    json_t *ex;
    kt_status st = kt_store_execution_get(w->store, id, &ex);
    if (st == KT_ENOTFOUND) {
        snprintf(msg, sizeof msg, "Not Found: Unable to find execution id '%s'", id);
        kt_http_send_error(r, 404, msg, NULL);
        return -1;
    }
    if (st) {
        kt_api_send_db_error(w, r);
        return -1;
    }
    const char *ns = json_string_value(json_object_get(ex, "namespace"));
    const char *flow = json_string_value(json_object_get(ex, "flowId"));
    char root[KT_URI_MAX], states[KT_URI_MAX], ns_states[KT_URI_MAX], other[KT_ID_LEN * 4 + 1];
    int ok = -1;
    if (kt_suri_path(q, path, sizeof path, err, sizeof err) != KT_OK) {
        kt_http_send_error(r, 422, "Illegal argument: Invalid prefix path", NULL);
        goto done;
    }
    if ((!kt_suri_execution_root(ns, flow, id, root, sizeof root) && kt_api_under_uri(path, root)) ||
        (!kt_suri_states(ns, flow, states, sizeof states) && kt_api_under_uri(path, states)) ||
        (!kt_suri_states(ns, NULL, ns_states, sizeof ns_states) && kt_api_under_uri(path, ns_states))) {
        snprintf(uri, cap, "%s", q);
        ok = 0;
        goto done;
    }
    if (kt_suri_execution_id(path, other, sizeof other) && strcmp(other, id)) {
        /* Kestra redirects to the execution the path names; its check then applies there */
        char enc[KT_URI_MAX * 3], other_enc[sizeof other * 3], loc[KT_URI_MAX * 3 + sizeof other * 3 + 256];
        kt_api_qencode(q, enc, sizeof enc);
        kt_api_qencode(other, other_enc, sizeof other_enc); /* an id decoded from the path may hold any character */
        snprintf(loc, sizeof loc, "/api/v1/executions/%s/%s?path=%s", other_enc, endpoint, enc);
        kt_http_add_header(r, "Location", loc);
        kt_http_send_empty(r, 301);
        goto done;
    }
    kt_http_send_error(r, 422, "Illegal argument: Invalid prefix path", NULL);
done:
    json_decref(ex);
    return ok;
}

void kt_api_storage_error(kt_http_req *r, kt_status st, const char *uri, const char *err)
{
    char msg[KT_URI_MAX + 512];
    if (st == KT_ENOTFOUND || st == KT_EINVAL) { /* a folder is no file either */
        snprintf(msg, sizeof msg, "Not Found: %s (No such file)", uri);
        kt_http_send_error(r, 404, msg, NULL);
    } else {
        snprintf(msg, sizeof msg, "Internal server error: %s", err && *err ? err : kt_strerror(st));
        kt_http_send_error(r, st == KT_ECLOSED ? 503 : 500, msg, NULL);
    }
}

/* ---- GET …/file: the download ---------------------------------------------------------------------- */

typedef struct kt_api_dl {
    kt_http_req *req; /* deferred, until the body starts */
    kt_storage_reader *rd;
    kt_http_stream *body;
    int attachment; /* Content-Disposition: attachment with the file's name */
    char uri[KT_URI_MAX];
} kt_api_dl;

static void kt_api_download_end(kt_api_dl *d, int failed)
{
    kt_storage_reader_close(d->rd);
    if (d->body && failed)
        kt_http_body_abort(d->body);
    else if (d->body)
        kt_http_sse_end(d->body);
    kt_http_req_release(d->req);
    free(d);
}

static void kt_api_download_read(kt_storage_reader *rd, kt_status st, const char *chunk, size_t len, const char *err,
                                 void *data)
{
    kt_api_dl *d = data;
    (void)rd;
    if (st || !len) { /* the end, or a failure after the headers: the connection is cut (kt_http_body_abort) */
        if (st)
            KT_WARN(MOD, "download of %s cut: %s", d->uri, err);
        kt_api_download_end(d, st != KT_OK);
        return;
    }
    kt_http_body_write(d->body, chunk, len); /* copied: the reader's chunk may go */
}

static void kt_api_download_drain(void *ud)
{
    kt_api_dl *d = ud;
    if (kt_storage_read(d->rd, kt_api_download_read, d) != KT_OK)
        kt_api_download_end(d, 1);
}

static void kt_api_download_closed(void *ud)
{
    kt_api_download_end(ud, 0); /* the client left or the server stops; a read in flight never calls back */
}

/* Content-Disposition: attachment; filename="<last segment>" (a quoted-string: quotes and backslashes escaped,
 * control characters dropped). */
static void kt_api_download_disposition(kt_api_dl *d, const kt_storage_attrs *attrs)
{
    const char *slash = strrchr(attrs->name ? attrs->name : "", '/');
    kt_api_attachment(d->req, slash ? slash + 1 : attrs->name ? attrs->name : "file", NULL);
}

static void kt_api_download_opened(kt_storage_reader *rd, kt_status st, const kt_storage_attrs *attrs,
                                   const char *err, void *data)
{
    kt_api_dl *d = data;
    if (st) {
        d->rd = NULL; /* the storage frees a reader whose open failed */
        kt_api_storage_error(d->req, st, d->uri, err);
        kt_api_download_end(d, 0);
        return;
    }
    (void)rd;
    if (d->attachment)
        kt_api_download_disposition(d, attrs);
    d->body = kt_http_body_start(d->req, 200, "application/octet-stream", attrs->size, kt_api_download_drain,
                                 kt_api_download_closed, d);
    if (!d->body) /* the client is gone */
        kt_api_download_end(d, 0);
}

void kt_api_download(kt_webserver *w, kt_http_req *r, const char *uri, int attachment)
{
    char err[512];
    kt_api_dl *d = calloc(1, sizeof *d);
    if (!d) {
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        return;
    }
    snprintf(d->uri, sizeof d->uri, "%s", uri);
    d->attachment = attachment;
    kt_status st = kt_storage_reader_open(w->storage, uri, kt_api_download_opened, d, &d->rd, err, sizeof err);
    if (st) {
        d->rd = NULL;
        kt_api_storage_error(r, st, uri, err);
        free(d);
        return;
    }
    d->req = kt_http_defer(r);
}

void kt_api_execution_file(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    char uri[KT_URI_MAX];
    if (kt_api_file_target(w, r, "file", uri, sizeof uri))
        return;
    kt_api_download(w, r, uri, 1);
}

/* ---- GET …/file/metas --------------------------------------------------------------------------------- */

typedef struct kt_api_file_op {
    kt_http_req *req;
    char uri[KT_URI_MAX];
    /* preview */
    kt_storage_reader *rd;
    char *text;
    size_t len, cap, lines, max_lines;
    int latin1, truncated, pending_nl, cut;
    kt_preview_kind kind;
    char ext[64];
} kt_api_file_op;

static void kt_api_metas_done(kt_status st, const kt_storage_attrs *attrs, const char *err, void *data)
{
    kt_api_file_op *op = data;
    if (st)
        kt_api_storage_error(op->req, st, op->uri, err);
    else if (attrs->type != KT_STORAGE_FILE)
        kt_api_storage_error(op->req, KT_ENOTFOUND, op->uri, "");
    else
        kt_http_send_json(op->req, 200, json_pack("{s:I}", "size", (json_int_t)attrs->size));
    kt_http_req_release(op->req);
    free(op);
}

void kt_api_execution_file_metas(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    char uri[KT_URI_MAX], err[512];
    if (kt_api_file_target(w, r, "file/metas", uri, sizeof uri))
        return;
    kt_api_file_op *op = calloc(1, sizeof *op);
    if (!op) {
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        return;
    }
    snprintf(op->uri, sizeof op->uri, "%s", uri);
    kt_status st = kt_storage_stat(w->storage, uri, kt_api_metas_done, op, err, sizeof err);
    if (st) {
        kt_api_storage_error(r, st, uri, err);
        free(op);
        return;
    }
    op->req = kt_http_defer(r);
}

/* ---- GET …/file/preview ------------------------------------------------------------------------------- */

static void kt_api_preview_free(kt_api_file_op *op)
{
    kt_storage_reader_close(op->rd);
    kt_http_req_release(op->req);
    free(op->text);
    free(op);
}

static int kt_api_preview_put(kt_api_file_op *op, const char *s, size_t n)
{
    if (op->len + n + 1 > op->cap) {
        size_t cap = op->cap ? op->cap * 2 : 4096;
        while (cap < op->len + n + 1)
            cap *= 2;
        char *t = realloc(op->text, cap);
        if (!t)
            return -1;
        op->text = t, op->cap = cap;
    }
    memcpy(op->text + op->len, s, n);
    op->len += n;
    op->text[op->len] = 0;
    return 0;
}

/* One byte of the file into the text (ISO-8859-1 becomes UTF-8 here; UTF-8 is checked at the end). */
static int kt_api_preview_byte(kt_api_file_op *op, unsigned char b)
{
    if (op->latin1 && b >= 0x80) {
        char u[2] = {(char)(0xC0 | (b >> 6)), (char)(0x80 | (b & 0x3F))};
        return kt_api_preview_put(op, u, 2);
    }
    return kt_api_preview_put(op, (const char *)&b, 1);
}

/* Java's readLine over the text: lines end at \n, \r or \r\n, joined with \n; after max_lines lines, a further line
 * means truncated. */
static int kt_api_preview_feed(kt_api_file_op *op, const char *chunk, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)chunk[i];
        if (op->pending_nl == '\r' && b == '\n') { /* the \n of a \r\n: the same line end */
            op->pending_nl = '\n';
            continue;
        }
        if (op->pending_nl) { /* a line ended and another starts here */
            if (op->lines >= op->max_lines) {
                op->truncated = 1;
                return 1;
            }
            if (kt_api_preview_put(op, "\n", 1))
                return -1;
            op->pending_nl = 0;
        }
        if (b == '\n' || b == '\r') {
            op->lines++;
            op->pending_nl = b;
            continue;
        }
        if (op->lines == 0 && op->len == 0 && op->max_lines == 0) {
            op->truncated = 1;
            return 1;
        }
        if (kt_api_preview_byte(op, b))
            return -1;
        if (op->len > KT_PREVIEW_MAX_BYTES) {
            op->truncated = 1;
            op->cut = 1; /* mid-line: an Ion preview drops that last, partial record */
            return 1;
        }
    }
    return 0;
}

/* An image or PDF: the bytes as they are, whole (1 once there are more than a preview holds). */
static int kt_api_preview_raw(kt_api_file_op *op, const char *chunk, size_t len)
{
    if (op->len + len > KT_PREVIEW_MAX_BINARY) {
        op->truncated = 1;
        return 1;
    }
    return kt_api_preview_put(op, chunk, len);
}

/* Invalid UTF-8 becomes U+FFFD, as Java's decoder replaces malformed input. */
static json_t *kt_api_preview_string(const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);
    if (j)
        return j;
    char *o = malloc(len * 3 + 1);
    size_t k = 0;
    if (!o)
        return json_string("");
    for (size_t i = 0; i < len;) {
        unsigned char b = (unsigned char)s[i];
        size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        int ok = n > 0 && i + n <= len && b != 0;
        for (size_t m = 1; ok && m < n; m++)
            ok = ((unsigned char)s[i + m] >> 6) == 2;
        if (ok && n > 1) { /* overlong forms and surrogates: jansson judges */
            json_t *t = json_stringn(s + i, n);
            ok = t != NULL;
            json_decref(t);
        }
        if (ok) {
            memcpy(o + k, s + i, n);
            k += n, i += n;
        } else {
            memcpy(o + k, "\xEF\xBF\xBD", 3);
            k += 3, i++;
        }
    }
    j = json_stringn(o, k);
    free(o);
    return j ? j : json_string("");
}

static kt_preview_kind kt_api_preview_kind(const char *ext)
{
    static const char *const images[] = {"jpg", "jpeg", "png", "svg", "gif", "bmp", "webp", NULL};
    for (size_t i = 0; images[i]; i++)
        if (!strcasecmp(ext, images[i]))
            return KT_PREVIEW_IMAGE;
    if (!strcasecmp(ext, "ion"))
        return KT_PREVIEW_ION;
    if (!strcasecmp(ext, "md"))
        return KT_PREVIEW_MARKDOWN;
    if (!strcasecmp(ext, "pdf"))
        return KT_PREVIEW_PDF;
    return KT_PREVIEW_TEXT;
}

/* The records of an Ion file (one per line, as FileSerde writes them) as a JSON list (IonFileRender); NULL with err
 * when a line is not Ion. */
static json_t *kt_api_preview_ion(kt_api_file_op *op, char *err, size_t errcap)
{
    json_t *list = json_array();
    char *p = op->text ? op->text : "";
    while (*p) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (!nl && op->cut)
            break; /* the byte cap cut this record: the preview ends before it (truncated says so) */
        if (n) {
            json_t *v = kt_expr_ion_parse(p, n, err, errcap);
            if (!v) {
                json_decref(list);
                return NULL;
            }
            json_array_append_new(list, v);
        }
        p += n + (nl != NULL);
    }
    return list;
}

static void kt_api_preview_answer(kt_api_file_op *op)
{
    static const char *const types[] = {"TEXT", "MARKDOWN", "LIST", "IMAGE", "PDF"};
    json_t *content = NULL;
    if (op->kind == KT_PREVIEW_ION) {
        char err[256] = "", msg[KT_URI_MAX + 512];
        if (!(content = kt_api_preview_ion(op, err, sizeof err))) {
            snprintf(msg, sizeof msg, "Unable to preview %s: not an Ion file (%s)", op->uri, err);
            kt_http_send_error(op->req, 422, msg, NULL);
            kt_api_preview_free(op);
            return;
        }
    } else if (op->kind == KT_PREVIEW_IMAGE || op->kind == KT_PREVIEW_PDF) {
        if (op->truncated) { /* a cut image is no preview: say why instead */
            char msg[KT_URI_MAX + 256];
            snprintf(msg, sizeof msg, "Unable to preview %s: more than the %d bytes an image or PDF preview holds",
                     op->uri, KT_PREVIEW_MAX_BINARY);
            kt_http_send_error(op->req, 422, msg, NULL);
            kt_api_preview_free(op);
            return;
        }
        char *b64 = kt_base64_encode(op->text ? op->text : "", op->len);
        content = json_string(b64);
        free(b64);
    } else {
        content = kt_api_preview_string(op->text ? op->text : "", op->len);
    }
    json_t *body = json_object();
    json_object_set_new(body, "extension", json_string(op->ext));
    json_object_set_new(body, "type", json_string(types[op->kind]));
    json_object_set_new(body, "content", content);
    json_object_set_new(body, "maxLine", json_integer((json_int_t)op->max_lines));
    json_object_set_new(body, "truncated", json_boolean(op->truncated));
    kt_http_send_json(op->req, 200, body);
    kt_api_preview_free(op);
}

static void kt_api_preview_read(kt_storage_reader *rd, kt_status st, const char *chunk, size_t len, const char *err,
                                void *data)
{
    kt_api_file_op *op = data;
    if (st) {
        kt_api_storage_error(op->req, st, op->uri, err);
        kt_api_preview_free(op);
        return;
    }
    int r = !len ? 1 : op->kind == KT_PREVIEW_IMAGE || op->kind == KT_PREVIEW_PDF ? kt_api_preview_raw(op, chunk, len)
                                                                                   : kt_api_preview_feed(op, chunk, len);
    if (r < 0) {
        kt_http_send_error(op->req, 500, "Internal server error: out of memory", NULL);
        kt_api_preview_free(op);
    } else if (r > 0 || !kt_http_req_alive(op->req)) {
        kt_api_preview_answer(op);
    } else if (kt_storage_read(rd, kt_api_preview_read, op) != KT_OK) {
        kt_api_storage_error(op->req, KT_ECLOSED, op->uri, "storage closed");
        kt_api_preview_free(op);
    }
}

static void kt_api_preview_opened(kt_storage_reader *rd, kt_status st, const kt_storage_attrs *attrs,
                                  const char *err, void *data)
{
    kt_api_file_op *op = data;
    (void)attrs;
    if (st) {
        op->rd = NULL;
        kt_api_storage_error(op->req, st, op->uri, err);
        kt_api_preview_free(op);
        return;
    }
    if (kt_storage_read(rd, kt_api_preview_read, op) != KT_OK) {
        kt_api_storage_error(op->req, KT_ECLOSED, op->uri, "storage closed");
        kt_api_preview_free(op);
    }
}

/* The charsets a preview decodes (Java's names and aliases for them); -1 for another one. */
static int kt_api_preview_charset(const char *enc)
{
    static const char *const utf8[] = {"UTF-8", "UTF8", "unicode-1-1-utf-8", "US-ASCII", "ASCII", "ISO646-US", NULL};
    static const char *const latin1[] = {"ISO-8859-1", "ISO8859-1", "ISO8859_1", "ISO_8859-1", "latin1", "l1", NULL};
    for (size_t i = 0; utf8[i]; i++)
        if (!strcasecmp(enc, utf8[i]))
            return 0;
    for (size_t i = 0; latin1[i]; i++)
        if (!strcasecmp(enc, latin1[i]))
            return 1;
    return -1;
}

void kt_api_execution_file_preview(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    char uri[KT_URI_MAX], err[512], msg[512];
    int max_rows;
    if (kt_api_int_param(r, "maxRows", KT_PREVIEW_ROWS, &max_rows))
        return;
    if (kt_api_file_target(w, r, "file/preview", uri, sizeof uri))
        return;
    const char *enc = kt_http_query(r, "encoding");
    int latin1 = enc ? kt_api_preview_charset(enc) : 0;
    if (latin1 < 0) {
        snprintf(msg, sizeof msg, "Illegal argument: Unable to preview using encoding '%s'", enc);
        kt_http_send_error(r, 422, msg, NULL);
        return;
    }
    kt_api_file_op *op = calloc(1, sizeof *op);
    if (!op) {
        kt_http_send_error(r, 500, "Internal server error: out of memory", NULL);
        return;
    }
    snprintf(op->uri, sizeof op->uri, "%s", uri);
    op->latin1 = latin1;
    op->max_lines = (size_t)(max_rows > KT_PREVIEW_MAX_ROWS ? KT_PREVIEW_MAX_ROWS : max_rows);
    /* FilenameUtils.getExtension of the URI: after the last '.' of the last segment */
    const char *slash = strrchr(uri, '/'), *dot = strrchr(slash ? slash : uri, '.');
    snprintf(op->ext, sizeof op->ext, "%s", dot ? dot + 1 : "");
    op->kind = kt_api_preview_kind(op->ext);
    kt_status st = kt_storage_reader_open(w->storage, uri, kt_api_preview_opened, op, &op->rd, err, sizeof err);
    if (st) {
        op->rd = NULL;
        kt_api_storage_error(r, st, uri, err);
        free(op);
        return;
    }
    op->req = kt_http_defer(r);
}
