/* The S3 backend's move (copy then delete, key by key for a folder), its batch delete (DeleteObjects), and its
 * synchronous small read (kt_storage_read_small: one ranged GET on the caller's thread). */
#include "store/storage_s3_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "store/s3_sign.h"

/* ---- move ---- */

typedef struct move_job {
    uv_work_t work;
    kt_ss3 *s;
    char *from, *to;
    kt_storage_done_cb cb;
    void *data;
    kt_status st;
    char err[KT_STORAGE_ERR_MAX];
} move_job;

/* CopyObject: the object's data and metadata (x-amz-metadata-directive COPY, S3's default). */
static kt_status copy_key(kt_ss3 *s, const char *from_key, const char *to_key, const char *path, char *err,
                          size_t cap)
{
    kt_buf src = {0};
    kt_buf_puts(&src, "x-amz-copy-source:/");
    kt_s3sig_uri_encode(&src, s->c.bucket, 0);
    kt_buf_putc(&src, '/');
    kt_s3sig_uri_encode(&src, from_key, 1);
    const char *hdrs[1] = {src.p};
    kt_s3_req rq = {.method = "PUT", .key = to_key, .headers = hdrs, .nheaders = 1, .body = "", .body_len = 0};
    kt_s3_resp rs;
    kt_status st = kt_s3_do(&s->c, &rq, &rs, err, cap);
    if (!st) {
        if (rs.status == 200 && rs.body.p && strstr(rs.body.p, "<Error>"))
            rs.status = 500; /* a copy may fail after its 200 */
        st = kt_s3_status(&rs, path, err, cap);
    }
    kt_s3_resp_clear(&rs);
    free(kt_buf_take(&src));
    return st;
}

/* One DeleteObjects request (at most 1000 keys). S3 wants the body's MD5 (Content-MD5) on this call. */
static kt_status delete_batch(kt_ss3 *s, char **keys, size_t n, const char *path, char *err, size_t cap)
{
    kt_buf body = {0};
    kt_buf_puts(&body, "<Delete><Quiet>true</Quiet>");
    for (size_t i = 0; i < n; i++) {
        kt_buf_puts(&body, "<Object><Key>");
        kt_s3_xml_escape(&body, keys[i]);
        kt_buf_puts(&body, "</Key></Object>");
    }
    kt_buf_puts(&body, "</Delete>");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(body.p, body.len, md, &mdlen, EVP_md5(), NULL);
    char b64[64], md5h[96];
    EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
    snprintf(md5h, sizeof md5h, "content-md5:%s", b64);
    const char *hdrs[1] = {md5h};
    char *q = kt_s3_qparam("delete", "");
    kt_s3_req rq = {.method = "POST", .query = &q, .nquery = 1, .headers = hdrs, .nheaders = 1, .body = body.p,
                    .body_len = body.len, .body_max = 4u << 20};
    kt_s3_resp rs;
    kt_status st = kt_s3_do(&s->c, &rq, &rs, err, cap);
    if (!st && (st = kt_s3_status(&rs, path, err, cap)) == KT_ENOTFOUND)
        st = KT_EIO;
    if (!st && rs.body.p) { /* Quiet: the answer lists only the keys that failed */
        const char *p = rs.body.p, *end = rs.body.p + rs.body.len;
        char *e = kt_s3_xml_next(&p, end, "Error");
        if (e) {
            const char *x = e, *xe = e + strlen(e);
            char *key = kt_s3_xml_next(&x, xe, "Key");
            x = e;
            char *code = kt_s3_xml_next(&x, xe, "Code");
            kt_errf(err, cap, "kestra:///%s: S3 could not delete %s: %s", path, key ? key : "?", code ? code : "?");
            free(key);
            free(code);
            free(e);
            st = KT_EIO;
        }
    }
    kt_s3_resp_clear(&rs);
    free(q);
    free(kt_buf_take(&body));
    return st;
}

/* A failed batch is retried key by key (DELETE of a missing key is fine): a server that fails part of a batch
 * (s3rver removes the emptied folders of a batch in parallel and may trip over itself: 500) or does not know
 * DeleteObjects still gets everything deleted. */
kt_status kt_ss3__delete_keys(kt_ss3 *s, char **keys, size_t n, const char *path, char *err, size_t cap)
{
    kt_status st = KT_OK;
    for (size_t i = 0; i < n && !st; i += 1000) {
        size_t m = n - i < 1000 ? n - i : 1000;
        if (delete_batch(s, keys + i, m, path, err, cap) == KT_OK)
            continue;
        for (size_t k = 0; k < m && !st; k++)
            st = kt_ss3__delete_key(s, keys[i + k], path, err, cap);
    }
    return st;
}

/* to's parent folder must exist (the root always does). */
static kt_status parent_exists(kt_ss3 *s, const char *to, char *err, size_t cap)
{
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", to);
    char *sl = strrchr(parent, '/');
    if (!sl)
        return KT_OK;
    *sl = 0;
    int dir;
    kt_status st = kt_ss3__dir_exists(s, parent, &dir, err, cap);
    if (!st && !dir) {
        kt_errf(err, cap, "kestra:///%s: no such folder", parent);
        st = KT_ENOTFOUND;
    }
    return st;
}

static void move_file(move_job *j)
{
    kt_ss3 *s = j->s;
    int dir;
    if ((j->st = parent_exists(s, j->to, j->err, sizeof j->err)))
        return;
    if ((j->st = kt_ss3__dir_exists(s, j->to, &dir, j->err, sizeof j->err)))
        return;
    if (dir) {
        kt_errf(j->err, sizeof j->err, "kestra:///%s: a folder has this name", j->to);
        j->st = KT_ECONFLICT;
        return;
    }
    char *fk = kt_s3_key(&s->c, j->from), *tk = kt_s3_key(&s->c, j->to);
    if (!(j->st = copy_key(s, fk, tk, j->from, j->err, sizeof j->err)))
        j->st = kt_ss3__delete_key(s, fk, j->from, j->err, sizeof j->err);
    free(fk);
    free(tk);
}

static void move_folder(move_job *j, char **keys, size_t n, size_t plen)
{
    kt_ss3 *s = j->s;
    if ((j->st = parent_exists(s, j->to, j->err, sizeof j->err)))
        return;
    kt_s3_resp rs;
    kt_status hs = kt_ss3__head(s, j->to, &rs, j->err, sizeof j->err);
    kt_s3_resp_clear(&rs);
    if (hs != KT_ENOTFOUND) {
        if (hs == KT_OK)
            kt_errf(j->err, sizeof j->err, "kestra:///%s: a file has this name", j->to);
        j->st = hs == KT_OK ? KT_ECONFLICT : hs;
        return;
    }
    /* a folder at `to` may only be empty (its marker alone), as rename(2) replaces an empty folder */
    kt_buf tp = {0};
    kt_buf_printf(&tp, "%s%s/", s->c.prefix, j->to);
    kt_ss3_keys tk = {0};
    if (!(j->st = kt_ss3__keys_under(s, tp.p, &tk, j->to, j->err, sizeof j->err)) &&
        (tk.n > 1 || (tk.n == 1 && strcmp(tk.keys[0], tp.p)))) {
        kt_errf(j->err, sizeof j->err, "kestra:///%s: a folder that is not empty", j->to);
        j->st = KT_ECONFLICT;
    }
    kt_ss3__keys_free(&tk);
    for (size_t i = 0; i < n && !j->st; i++) {
        kt_buf tk = {0};
        kt_buf_printf(&tk, "%s%s", tp.p, keys[i] + plen);
        j->st = copy_key(s, keys[i], tk.p, j->from, j->err, sizeof j->err);
        free(kt_buf_take(&tk));
    }
    if (!j->st) /* the source goes only once every key has its copy */
        j->st = kt_ss3__delete_keys(s, keys, n, j->from, j->err, sizeof j->err);
    free(kt_buf_take(&tp));
}

static void move_work(uv_work_t *req)
{
    move_job *j = req->data;
    kt_ss3 *s = j->s;
    kt_s3_resp rs;
    kt_status hs = kt_ss3__head(s, j->from, &rs, j->err, sizeof j->err);
    kt_s3_resp_clear(&rs);
    if (hs == KT_OK) {
        move_file(j);
        return;
    }
    if (hs != KT_ENOTFOUND) {
        j->st = hs;
        return;
    }
    kt_buf fp = {0};
    kt_buf_printf(&fp, "%s%s/", s->c.prefix, j->from);
    kt_ss3_keys k = {0};
    if (!(j->st = kt_ss3__keys_under(s, fp.p, &k, j->from, j->err, sizeof j->err))) {
        if (k.n == 0) {
            kt_errf(j->err, sizeof j->err, "kestra:///%s: no such file or folder", j->from);
            j->st = KT_ENOTFOUND;
        } else {
            move_folder(j, k.keys, k.n, fp.len);
        }
    }
    kt_ss3__keys_free(&k);
    free(kt_buf_take(&fp));
}

static void move_done(uv_work_t *req, int status)
{
    move_job *j = req->data;
    kt_storage *s = &j->s->base;
    kt_status st = status ? KT_EIO : j->st;
    j->cb(st, st ? j->err : "", j->data);
    free(j->from);
    free(j->to);
    free(j);
    kt_storage__unbusy(s);
}

void kt_ss3__move(kt_storage *s, const char *from, const char *to, kt_storage_done_cb cb, void *data)
{
    move_job *j = kt_xcalloc(1, sizeof *j);
    j->s = (kt_ss3 *)s;
    j->from = kt_xstrdup(from);
    j->to = kt_xstrdup(to);
    j->cb = cb;
    j->data = data;
    j->work.data = j;
    int rc = uv_queue_work(s->loop, &j->work, move_work, move_done);
    KT_ASSERTF(rc == 0, "uv_queue_work: %s", uv_strerror(rc));
}

/* ---- read_small ---- */

kt_status kt_ss3__read_small(kt_storage *s, const char *path, size_t max, char **out, size_t *len, int64_t *size,
                             json_t **meta, int64_t *modified_ms, char *err, size_t errcap)
{
    kt_ss3 *ss = (kt_ss3 *)s;
    kt_s3_resp rs;
    kt_status st;
    if (!out) {
        st = kt_ss3__head(ss, path, &rs, err, errcap);
        if (!st && size)
            *size = rs.length < 0 ? 0 : rs.length;
        kt_s3_resp_clear(&rs);
        return st == KT_ENOTFOUND ? kt_ss3__missing(ss, path, err, errcap) : st;
    }
    /* bytes 0..max: one byte more than allowed tells a file that is too big without fetching it whole */
    size_t bound = max > (size_t)INT64_MAX - 2 ? (size_t)INT64_MAX - 2 : max;
    char range[64];
    snprintf(range, sizeof range, "range:bytes=0-%llu", (unsigned long long)bound);
    const char *hdrs[1] = {range};
    char *key = kt_s3_key(&ss->c, path);
    kt_s3_req rq = {.method = "GET", .key = key, .headers = hdrs, .nheaders = 1, .body_max = bound + 1};
    st = kt_s3_do(&ss->c, &rq, &rs, err, errcap);
    free(key);
    int64_t total = rs.status == 206 && rs.total >= 0 ? rs.total : rs.length;
    if (kt_s3_empty_range(&rs)) {
        total = 0;
        st = KT_OK;
        rs.body.len = 0;
    } else if (rs.status == 404) {
        st = kt_ss3__missing(ss, path, err, errcap);
    } else if (total > (int64_t)max) {
        kt_errf(err, errcap, "kestra:///%s: %lld bytes, more than the %zu a read can hold", path, (long long)total,
                max);
        st = KT_EINVAL;
    } else if (!st) {
        st = kt_s3_status(&rs, path, err, errcap);
    }
    if (!st) {
        if (size)
            *size = total >= 0 ? total : (int64_t)rs.body.len;
        if (len)
            *len = rs.body.len;
        *out = kt_buf_take(&rs.body);
        if (modified_ms)
            *modified_ms = rs.modified_ms;
        if (meta) { /* the object's user metadata came with it (x-amz-meta-*) */
            *meta = rs.meta;
            rs.meta = NULL;
        }
    }
    kt_s3_resp_clear(&rs);
    return st;
}
