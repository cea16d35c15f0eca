/* http.Request and http.Download (KESTRA-model.md §6.4; Kestra's Request.java, Download.java) on the worker's one
 * curl multi driven by the loop (http_loop.h): no thread per request, nothing blocks the loop on the network.
 *
 * Both first copy the multipart file parts from internal storage to a per-run folder (as Kestra copies them to
 * temporary files), then run one transfer. Request keeps the body in memory up to options.maxContentLength (10 MiB,
 * HEAD unlimited) and outputs it as a string. Download streams the body into internal storage: two buffers of
 * KT_STORAGE_CHUNK bytes, one filling from curl while the other is being written; when both are busy the transfer
 * is paused (CURL_WRITEFUNC_PAUSE) until the write in flight lands, so a download of any size holds ~128 KiB.
 *
 * Status rules (Kestra): >= 400 fails ("Failed http request with response code 'N'") unless allowFailed, which
 * then outputs the error response (Download: an empty file, length = Content-Length). Download also fails on a
 * length that differs from Content-Length and, with failOnEmptyResponse (default) and not allowFailed, on an empty
 * body. A kill cancels the transfer at once. encryptBody seals the body as Kestra's EncryptedString (encryptedBody). */
#include "actors/worker/http_loop.h"
#include "actors/worker/http_req.h"
#include "actors/worker/task.h"
#include "actors/worker/tasks_storage.h"
#include "base/env.h"
#include "base/json.h"
#include "base/secrets.h"
#include "expr/expr.h"
#include "flow/secret_inputs.h"
#include "store/storage.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KT_HTTP_MAX_CONTENT 10485760

typedef struct kt_http {
    kt_task_run *r;
    int download;
    kt_hr hr;
    kt_hl_xfer *x;        /* the running transfer, NULL before and after */
    char workdir[1024];
    kt_hr_file *files;    /* multipart file parts, fetched one by one */
    size_t nfiles, next_file;
    kt_storage_copy *copy; /* the fetch in flight */
    int killed;
    /* Request */
    kt_buf resp;
    int64_t max_len;
    int too_big;
    /* Download */
    kt_storage_writer *w;
    char uri[KT_ST_URI];
    char *fill, *flight;  /* the buffer curl fills, the one being written */
    size_t fill_len;
    int writing, paused, committing, curl_done, discard;
    int64_t length;
    char err[512];        /* a storage failure seen inside a curl callback */
} kt_http;

static void kt_http_free(kt_http *h)
{
    kt_hl_cancel(h->x);
    kt_storage_writer_abort(h->w);
    kt_hr_clear(&h->hr);
    kt_hr_files_free(h->files, h->nfiles);
    kt_st_workdir_remove(h->workdir);
    free(kt_buf_take(&h->resp));
    free(h->fill);
    free(h->flight);
    free(h);
}

static void kt_http_end(kt_http *h, const char *state, json_t *outputs)
{
    kt_task_run *r = h->r;
    kt_task_set_data(r, NULL);
    kt_http_free(h);
    kt_task_finish(r, state, outputs);
}

static void kt_http_fail(kt_http *h, const char *fmt, const char *a)
{
    kt_task_logf(h->r, "ERROR", fmt, a);
    kt_http_end(h, h->killed ? KT_S(KILLED) : KT_S(FAILED), NULL);
}

static int kt_http_flag(kt_http *h, const char *name, int def)
{
    const json_t *v = json_object_get(kt_task_props(h->r), name);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

/* ---- Download's storage side ---------------------------------------------------------------------------- */

/* Content-Disposition's file name as Kestra reads it (filename or RFC 5987 filename*, quotes and folders
 * stripped), URL-encoded as Java's URLEncoder; "" when none. */
static void kt_http_disposition_name(const char *cd, char *out, size_t cap)
{
    char name[512] = "";
    const char *p = cd;
    while (p && *p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        char part[512];
        snprintf(part, sizeof part, "%.*s", (int)len, p);
        if (!strncmp(part, "filename*", 9)) {
            const char *q = strrchr(part, '\'');
            if (q && strlen(q) >= 2)
                snprintf(name, sizeof name, "%.*s", (int)(strlen(q) - 2), q + 1);
        } else if (!strncmp(part, "filename", 8) && strchr(part, '=')) {
            snprintf(name, sizeof name, "%s", strrchr(part, '=') + 1);
        }
        p = end ? end + 1 : NULL;
    }
    char *n = name;
    size_t nl = strlen(n);
    if (nl >= 2 && n[0] == '"') {
        n[nl - 1] = 0;
        n++;
    }
    if (strrchr(n, '/'))
        n = strrchr(n, '/') + 1;
    size_t o = 0;
    for (const unsigned char *c = (const unsigned char *)n; *c && o + 4 < cap; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr(".-*_", *c))
            out[o++] = (char)*c;
        else if (*c == ' ')
            out[o++] = '+';
        else
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", *c);
    }
    out[o] = 0;
    if (!strcmp(out, ".") || !strcmp(out, ".."))
        out[0] = 0;
}

/* The URL path's extension (Kestra's filenameFromURI: from the first '.' of the last segment), "" when none. */
static void kt_http_url_ext(const char *uri, char *out, size_t cap)
{
    out[0] = 0;
    const char *p = strstr(uri, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    if (!p)
        return;
    size_t len = strcspn(p, "?#");
    const char *last = p;
    for (const char *c = p; c < p + len; c++)
        if (*c == '/')
            last = c;
    const char *dot = memchr(last, '.', (size_t)(p + len - last));
    if (dot)
        snprintf(out, cap, "%.*s", (int)(p + len - dot), dot);
}

/* Opens the writer once the headers are in (the stored name may come from Content-Disposition). */
static int kt_http_open_writer(kt_http *h)
{
    char name[512], ext[128], err[512] = "";
    const char *cd = kt_hr_header(&h->hr, "Content-Disposition");
    name[0] = 0;
    if (cd)
        kt_http_disposition_name(cd, name, sizeof name);
    if (!name[0]) {
        kt_http_url_ext(kt_task_prop_string(h->r, "uri"), ext, sizeof ext);
        kt_st_temp_name(strlen(ext) < 64 ? ext : "", name, sizeof name);
    }
    kt_storage *s = kt_task_storage(h->r);
    if (!s)
        return snprintf(h->err, sizeof h->err, "this worker has no internal storage"), -1;
    if (kt_st_taskrun_file(h->r, name, h->uri, sizeof h->uri) ||
        kt_storage_writer_open(s, h->uri, NULL, &h->w, err, sizeof err))
        return snprintf(h->err, sizeof h->err, "cannot store the download%s%.400s", err[0] ? ": " : "", err), -1;
    return 0;
}

static void kt_http_download_done(kt_http *h);

static void kt_http_on_written(kt_status st, const char *err, void *data);

static int kt_http_flush(kt_http *h)
{
    char *t = h->flight;
    h->flight = h->fill;
    h->fill = t;
    size_t len = h->fill_len;
    h->fill_len = 0;
    h->writing = 1;
    if (kt_storage_write(h->w, h->flight, len, kt_http_on_written, h)) {
        h->writing = 0;
        snprintf(h->err, sizeof h->err, "cannot store the download: the storage is closing");
        return -1;
    }
    return 0;
}

static size_t kt_http_on_data(char *p, size_t size, size_t n, void *data)
{
    kt_http *h = data;
    size_t len = size * n;
    long code = 0;
    curl_easy_getinfo(h->hr.easy, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 400 || h->discard) /* Kestra keeps no error body */
        return len;
    if (h->err[0] || (!h->w && kt_http_open_writer(h)))
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR, h->err says why */
    if (h->fill_len + len > KT_STORAGE_CHUNK) {
        if (!h->writing && h->fill_len && kt_http_flush(h))
            return 0;
        if (h->fill_len + len > KT_STORAGE_CHUNK) {
            h->paused = 1; /* the write in flight resumes the transfer when it lands */
            return CURL_WRITEFUNC_PAUSE;
        }
    }
    memcpy(h->fill + h->fill_len, p, len);
    h->fill_len += len;
    h->length += (int64_t)len;
    if (!h->writing && h->fill_len >= KT_STORAGE_CHUNK / 2 && kt_http_flush(h))
        return 0;
    return len;
}

static void kt_http_on_written(kt_status st, const char *err, void *data)
{
    kt_http *h = data;
    h->writing = 0;
    if (h->killed) { /* killed while this write was in flight (kt_http_kill) */
        kt_http_end(h, KT_S(KILLED), NULL);
        return;
    }
    if (st) {
        kt_http_fail(h, "cannot store the download: %s", err);
        return;
    }
    if ((h->fill_len >= KT_STORAGE_CHUNK / 2 || (h->curl_done && h->fill_len)) && kt_http_flush(h)) {
        kt_http_fail(h, "%s", h->err);
        return;
    }
    if (h->paused) {
        h->paused = 0;
        kt_hl_resume(h->x); /* may deliver the held-back data (and flush) before it returns */
    }
    if (h->curl_done && !h->writing)
        kt_http_download_done(h);
}

/* Kestra's counter `response.length`, tagged as AbstractHttp.tags: request.method, and response.code when a
 * response is known (Request's; Download tags the method only). */
static void kt_http_length_metric(kt_http *h, double length, long code)
{
    const char *method = kt_task_prop_string(h->r, "method");
    json_t *tags = json_pack("{s:s}", "request.method", method ? method : "GET");
    if (code > 0)
        json_object_set_new(tags, "response.code", json_sprintf("%ld", code));
    kt_task_counter(h->r, "response.length", length, tags);
    json_decref(tags);
}

static void kt_http_on_committed(kt_status st, const char *err, void *data)
{
    kt_http *h = data;
    h->w = NULL; /* freed by the commit */
    if (h->killed) {
        kt_http_end(h, KT_S(KILLED), NULL);
        return;
    }
    if (st) {
        kt_http_fail(h, "cannot store the download: %s", err);
        return;
    }
    long code = 0;
    curl_easy_getinfo(h->hr.easy, CURLINFO_RESPONSE_CODE, &code);
    kt_task_logf(h->r, "DEBUG", "File '%s' downloaded to '%s'", kt_task_prop_string(h->r, "uri"), h->uri);
    kt_http_length_metric(h, (double)h->length, 0);
    json_t *out = json_pack("{s:s, s:I, s:I, s:O}", "uri", h->uri, "code", (json_int_t)code, "length",
                            (json_int_t)h->length, "headers", h->hr.resp_headers);
    kt_http_end(h, KT_S(SUCCESS), out);
}

/* Every byte written: check the length, then commit (an empty file too). */
static void kt_http_download_done(kt_http *h)
{
    const char *cl = kt_hr_header(&h->hr, "Content-Length");
    long code = 0;
    curl_easy_getinfo(h->hr.easy, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 400) { /* allowFailed: Kestra's length is the announced one, its file empty */
        h->length = cl ? strtoll(cl, NULL, 10) : 0;
    } else if (cl && strtoll(cl, NULL, 10) != h->length &&
               strcmp(kt_task_prop_string(h->r, "method") ? kt_task_prop_string(h->r, "method") : "", "HEAD")) {
        char msg[128];
        snprintf(msg, sizeof msg, "Invalid size, got %" PRId64 ", expected %s", h->length, cl);
        kt_http_fail(h, "%s", msg);
        return;
    }
    int allow = kt_http_flag(h, "allowFailed", 0);
    if (h->length == 0 || code >= 400) {
        if (h->length == 0 && kt_http_flag(h, "failOnEmptyResponse", 1) && !allow) {
            kt_http_fail(h, "%s", "No response from server");
            return;
        }
        if (h->length == 0)
            kt_task_logf(h->r, "WARN", "File '%s' is empty", kt_task_prop_string(h->r, "uri"));
    }
    if (!h->w && kt_http_open_writer(h)) {
        kt_http_fail(h, "%s", h->err);
        return;
    }
    h->committing = 1;
    if (kt_storage_writer_commit(h->w, kt_http_on_committed, h))
        kt_http_fail(h, "%s", "cannot store the download: the storage is closing");
}

/* ---- the transfer ------------------------------------------------------------------------------------ */

static size_t kt_http_on_body(char *p, size_t size, size_t n, void *data)
{
    kt_http *h = data;
    size_t len = size * n;
    if (h->max_len >= 0 && (int64_t)(h->resp.len + len) > h->max_len) {
        h->too_big = 1;
        return 0;
    }
    kt_buf_put(&h->resp, p, len);
    return len;
}

/* Kestra's EncryptedString of the body: {type, value} sealed with `kestra.encryption.secret-key`; renders open it
 * again for the tasks after (flow/secret_inputs.h). Without a key Kestra warns and keeps the text as it is. NULL
 * with the reason logged when the encryption fails. */
static json_t *kt_http_encrypt(kt_http *h, const json_t *body)
{
    kt_env env;
    kt_env_init_real(&env);
    const char *key = kt_secrets_key(env.secrets);
    char *enc = NULL, err[256] = "";
    if (!key) {
        kt_task_log(h->r, "WARN", "Unable to encrypt the output as encryption is not configured", 60);
        enc = strdup(json_string_value(body));
    } else if (kt_expr_encrypt(key, json_string_value(body), json_string_length(body), &env, &enc, err, sizeof err)) {
        kt_task_logf(h->r, "ERROR", "encryptBody: %s", err);
        return NULL;
    }
    json_t *out = json_pack("{s:s, s:s}", "type", KT_ENCRYPTED_STRING, "value", enc ? enc : "");
    free(enc);
    return out;
}

static void kt_http_request_done(kt_http *h, long code)
{
    json_t *out = json_pack("{s:s, s:I, s:O}", "uri", kt_task_prop_string(h->r, "uri"), "code", (json_int_t)code,
                            "headers", h->hr.resp_headers);
    if (h->resp.len) {
        json_t *body = json_stringn(h->resp.p, h->resp.len);
        if (!body) {
            json_decref(out);
            kt_http_fail(h, "%s", "Illegal unicode code point in request body, the Request task only support "
                                   "valid Unicode strings as body.\nYou can try using the Download task instead.");
            return;
        }
        if (kt_http_flag(h, "encryptBody", 0)) {
            json_t *enc = kt_http_encrypt(h, body);
            json_decref(body);
            if (!enc) {
                json_decref(out);
                kt_http_end(h, KT_S(FAILED), NULL);
                return;
            }
            json_object_set_new(out, "encryptedBody", enc);
        } else {
            json_object_set_new(out, "body", body);
        }
    }
    kt_task_logf(h->r, "DEBUG", "Request '%s' with the response code '%ld'", kt_task_prop_string(h->r, "uri"), code);
    const char *cl = kt_hr_header(&h->hr, "Content-Length"); /* only when the server announced one, as Kestra */
    if (cl)
        kt_http_length_metric(h, (double)strtoll(cl, NULL, 10), code);
    kt_http_end(h, KT_S(SUCCESS), out);
}

static void kt_http_on_done(kt_hl_xfer *x, CURLcode rc, void *data)
{
    (void)x;
    kt_http *h = data;
    h->x = NULL;
    long code = 0;
    curl_easy_getinfo(h->hr.easy, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK) {
        char msg[CURL_ERROR_SIZE + 600];
        if (h->too_big)
            snprintf(msg, sizeof msg, "The received length exceeds the maximum allowed content length [%" PRId64 "]",
                     h->max_len);
        else if (h->err[0])
            snprintf(msg, sizeof msg, "%s", h->err);
        else
            kt_hr_error(&h->hr, rc, msg, sizeof msg);
        kt_http_fail(h, "%s", msg);
        return;
    }
    if (code >= 400 && !kt_http_flag(h, "allowFailed", 0)) {
        char msg[64];
        snprintf(msg, sizeof msg, "%ld", code);
        kt_http_fail(h, "Failed http request with response code '%s'", msg);
        return;
    }
    if (!h->download) {
        kt_http_request_done(h, code);
        return;
    }
    h->curl_done = 1;
    if (h->writing)
        return; /* kt_http_on_written goes on */
    if (h->fill_len) {
        if (kt_http_flush(h))
            kt_http_fail(h, "%s", h->err);
        return;
    }
    kt_http_download_done(h);
}

static void kt_http_send(kt_http *h)
{
    char err[512] = "";
    const json_t *props = kt_task_props(h->r);
    if (kt_hr_build(&h->hr, props, h->files, h->nfiles, err, sizeof err)) {
        kt_http_fail(h, "%s", err);
        return;
    }
    const char *method = json_string_value(json_object_get(props, "method"));
    const json_t *opts = json_object_get(props, "options");
    const json_t *max = json_object_get(opts, "maxContentLength");
    h->max_len = json_is_integer(max) ? json_integer_value(max) : KT_HTTP_MAX_CONTENT;
    if (method && !strcmp(method, "HEAD"))
        h->max_len = -1;
    if (h->download) {
        h->fill = malloc(KT_STORAGE_CHUNK);
        h->flight = malloc(KT_STORAGE_CHUNK);
        if (!h->fill || !h->flight) {
            kt_http_fail(h, "%s", "out of memory");
            return;
        }
    }
    curl_easy_setopt(h->hr.easy, CURLOPT_WRITEFUNCTION, h->download ? kt_http_on_data : kt_http_on_body);
    curl_easy_setopt(h->hr.easy, CURLOPT_WRITEDATA, h);
    kt_hl *hl = kt_task_http(h->r);
    if (!hl || kt_hl_add(hl, h->hr.easy, kt_http_on_done, h, &h->x)) {
        kt_http_fail(h, "%s", "cannot start the HTTP transfer");
        return;
    }
}

/* ---- multipart files from internal storage ------------------------------------------------------------- */

static void kt_http_fetch_next(kt_http *h);

static void kt_http_on_fetched(kt_status st, const char *err, void *data)
{
    kt_http *h = data;
    h->copy = NULL;
    if (h->killed) {
        kt_http_end(h, KT_S(KILLED), NULL);
        return;
    }
    if (st) {
        kt_http_fail(h, "formData: %s", err);
        return;
    }
    h->next_file++;
    kt_http_fetch_next(h);
}

static void kt_http_fetch_next(kt_http *h)
{
    if (h->next_file == h->nfiles) {
        kt_http_send(h);
        return;
    }
    const kt_hr_file *f = &h->files[h->next_file];
    char err[512] = "";
    kt_storage *s = kt_st_storage(h->r);
    if (!s) {
        kt_http_end(h, KT_S(FAILED), NULL);
        return;
    }
    if (kt_storage_get_file_c(s, f->uri, f->local, kt_http_on_fetched, h, &h->copy, err, sizeof err))
        kt_http_fail(h, "formData: %s", err);
}

static void kt_http_start(kt_task_run *r, int download)
{
    kt_http *h = calloc(1, sizeof *h);
    if (!h) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    h->r = r;
    h->download = download;
    kt_task_set_data(r, h);
    char err[512] = "";
    const json_t *props = kt_task_props(r);
    const char *ct = json_string_value(json_object_get(props, "contentType"));
    if (ct && !strcmp(ct, "multipart/form-data") && json_is_object(json_object_get(props, "formData"))) {
        if (kt_st_workdir_new(r, "http", h->workdir, sizeof h->workdir)) {
            kt_http_end(h, KT_S(FAILED), NULL);
            return;
        }
        if (kt_hr_files(props, h->workdir, &h->files, &h->nfiles, err, sizeof err)) {
            kt_http_fail(h, "%s", err);
            return;
        }
    }
    kt_http_fetch_next(h);
}

static void kt_http_request_start(kt_task_run *r) { kt_http_start(r, 0); }
static void kt_http_download_start(kt_task_run *r) { kt_http_start(r, 1); }

/* Stops at once, except where a storage call must land first (a fetch being cancelled, a commit). */
static void kt_http_kill(kt_task_run *r)
{
    kt_http *h = kt_task_data(r);
    if (!h || h->killed)
        return;
    h->killed = 1;
    if (h->copy) {
        kt_storage_copy_cancel(h->copy); /* kt_http_on_fetched ends the run */
        return;
    }
    if (h->committing)
        return; /* kt_http_on_committed ends the run */
    if (h->writing) {
        /* the storage still reads the chunk in flight (h->flight): the transfer stops now, the run ends when the
         * write lands (kt_http_on_written), never while the buffer may be read */
        kt_hl_cancel(h->x);
        h->x = NULL;
        return;
    }
    kt_http_end(h, KT_S(KILLED), NULL);
}

const kt_task_impl kt_task_http_request_impl = {.type = "io.kestra.plugin.core.http.Request",
                                                .start = kt_http_request_start, .kill = kt_http_kill};
const kt_task_impl kt_task_http_download_impl = {.type = "io.kestra.plugin.core.http.Download",
                                                 .start = kt_http_download_start, .kill = kt_http_kill};
