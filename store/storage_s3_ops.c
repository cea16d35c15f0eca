/* The S3 backend's one-shot calls (stat, delete, delete_prefix, list, mkdir, move) and read_small, with the
 * blocking helpers they share with the writers (store/storage_s3_int.h). Each call is one uv_queue_work job: its
 * requests run in sequence on a pool thread, its callback on the loop.
 *
 * Folders are prefixes, as S3 has them: a folder exists when any key lies under "<folder>/". mkdir and a writer's
 * commit write the zero-byte markers "<folder>/" of the folders above them, as Kestra's S3 storage does (its
 * listings find folders by their markers); listings show a marker as its folder, never as an entry of its own. A move is a copy then a delete, key by key for a folder:
 * not atomic as a rename is (a failure half-way leaves both copies; the source goes only after every copy). */
#include "store/storage_s3_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"

#define KT_SS3_META ".metadata"

/* ---- blocking helpers ---- */

kt_status kt_ss3__head(kt_ss3 *s, const char *path, kt_s3_resp *rs, char *err, size_t cap)
{
    char *key = kt_s3_key(&s->c, path);
    kt_s3_req rq = {.method = "HEAD", .key = key};
    kt_status st = kt_s3_do(&s->c, &rq, rs, err, cap);
    if (!st && rs->status != 404 && (rs->status < 200 || rs->status >= 300)) {
        /* A HEAD's answer has no body, so no error code: ask again with a one-byte GET, whose error says why. */
        const char *range[1] = {"range:bytes=0-0"};
        kt_s3_req get = {.method = "GET", .key = key, .headers = range, .nheaders = 1};
        kt_s3_resp again;
        if (!kt_s3_do(&s->c, &get, &again, err, cap) && again.status == rs->status) {
            kt_s3_resp_clear(rs);
            *rs = again;
        } else {
            kt_s3_resp_clear(&again);
        }
    }
    free(key);
    return st ? st : kt_s3_status(rs, path, err, cap);
}

/* One ListObjectsV2 page of the keys under prefix (delimiter "/" when delim), after token (NULL: the first). */
static kt_status list_page(kt_ss3 *s, const char *prefix, int delim, const char *token, int max, kt_s3_resp *rs,
                           const char *path, char *err, size_t cap)
{
    char *q[5];
    size_t n = 0;
    char maxs[16];
    snprintf(maxs, sizeof maxs, "%d", max);
    q[n++] = kt_s3_qparam("list-type", "2");
    q[n++] = kt_s3_qparam("prefix", prefix);
    q[n++] = kt_s3_qparam("max-keys", maxs);
    if (delim)
        q[n++] = kt_s3_qparam("delimiter", "/");
    if (token)
        q[n++] = kt_s3_qparam("continuation-token", token);
    kt_s3_req rq = {.method = "GET", .query = q, .nquery = n, .body_max = 16u << 20};
    kt_status st = kt_s3_do(&s->c, &rq, rs, err, cap);
    if (!st && (st = kt_s3_status(rs, path, err, cap)) == KT_ENOTFOUND)
        st = KT_EIO; /* NoSuchBucket: the storage itself is missing */
    for (size_t i = 0; i < n; i++)
        free(q[i]);
    return st;
}

kt_status kt_ss3__dir_exists(kt_ss3 *s, const char *path, int *exists, char *err, size_t cap)
{
    *exists = 0;
    if (!path[0]) {
        *exists = 1;
        return KT_OK;
    }
    kt_buf pre = {0};
    kt_buf_printf(&pre, "%s%s/", s->c.prefix, path);
    kt_s3_resp rs;
    kt_status st = list_page(s, pre.p, 0, NULL, 1, &rs, path, err, cap);
    if (!st) {
        const char *p = rs.body.p;
        char *k = p ? kt_s3_xml_next(&p, p + rs.body.len, "Key") : NULL;
        *exists = k != NULL;
        free(k);
    }
    kt_s3_resp_clear(&rs);
    free(kt_buf_take(&pre));
    return st;
}

kt_status kt_ss3__missing(kt_ss3 *s, const char *path, char *err, size_t cap)
{
    int dir;
    kt_status st = kt_ss3__dir_exists(s, path, &dir, err, cap);
    if (st)
        return st;
    if (dir)
        kt_errf(err, cap, "kestra:///%s: a folder, not a file", path);
    else
        kt_errf(err, cap, "kestra:///%s: no such file", path);
    return dir ? KT_EINVAL : KT_ENOTFOUND;
}

/* KT_ECONFLICT when a file stands at one of path's parent folders ("a" or "a/b" for "a/b/c"). */
static kt_status check_parents(kt_ss3 *s, const char *path, char *err, size_t cap)
{
    char p[KT_STORAGE_ERR_MAX * 2];
    snprintf(p, sizeof p, "%s", path);
    for (char *sl = strchr(p, '/'); sl; sl = strchr(sl + 1, '/')) {
        *sl = 0;
        kt_s3_resp rs;
        kt_status st = kt_ss3__head(s, p, &rs, err, cap);
        kt_s3_resp_clear(&rs);
        if (st == KT_OK) {
            kt_errf(err, cap, "kestra:///%s: kestra:///%s is a file, not a folder", path, p);
            return KT_ECONFLICT;
        }
        if (st != KT_ENOTFOUND)
            return st;
        *sl = '/';
    }
    return KT_OK;
}

static kt_status put_empty(kt_ss3 *s, const char *key, const char *path, char *err, size_t cap);

/* The markers of the folder dir and of its parents ("a/", "a/b/" for "a/b"), as Kestra's S3 storage writes them
 * before a file or a folder (its listings find folders by their markers). A dir whose marker is there was made
 * this way already: one HEAD, and the parents are neither made nor checked again. */
static kt_status make_dirs(kt_ss3 *s, const char *dir, char *err, size_t cap)
{
    if (!dir[0])
        return KT_OK;
    kt_buf key = {0};
    kt_buf_printf(&key, "%s%s/", s->c.prefix, dir);
    kt_s3_req rq = {.method = "HEAD", .key = key.p};
    kt_s3_resp rs;
    kt_status st = kt_s3_do(&s->c, &rq, &rs, err, cap);
    int there = !st && rs.status == 200;
    kt_s3_resp_clear(&rs);
    /* dir + "/": dir itself must not be a file either */
    if (!st && !there && !(st = check_parents(s, key.p + strlen(s->c.prefix), err, cap))) {
        /* from the top: a crash half-way leaves parents with markers, never a marker without its parents' */
        for (size_t i = strlen(s->c.prefix); i < key.len && !st; i++) {
            if (key.p[i] != '/')
                continue;
            char c = key.p[i + 1];
            key.p[i + 1] = 0;
            st = put_empty(s, key.p, dir, err, cap);
            key.p[i + 1] = c;
        }
    }
    free(kt_buf_take(&key));
    return st;
}

kt_status kt_ss3__check_place(kt_ss3 *s, const char *path, char *err, size_t cap)
{
    int dir;
    kt_status st = kt_ss3__dir_exists(s, path, &dir, err, cap);
    if (st)
        return st;
    if (dir) {
        kt_errf(err, cap, "kestra:///%s: a folder has this name", path);
        return KT_ECONFLICT;
    }
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", path);
    char *sl = strrchr(parent, '/');
    if (!sl)
        return KT_OK; /* at the root */
    *sl = 0;
    return make_dirs(s, parent, err, cap);
}

/* Percent-encodes what a header value cannot carry (and '%', so that decoding is exact). */
static void meta_value_out(kt_buf *b, const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p < 0x20 || *p > 0x7e || *p == '%')
            kt_buf_printf(b, "%%%02X", *p);
        else
            kt_buf_putc(b, (char)*p);
    }
}

size_t kt_ss3__meta_headers(const char *meta_json, char **hdrs, size_t max)
{
    if (!meta_json)
        return 0;
    json_t *m = json_loads(meta_json, 0, NULL);
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        if (n == max || !json_is_string(v))
            continue;
        char *name = kt_s3_meta_name_out(k);
        kt_buf b = {0};
        kt_buf_printf(&b, "x-amz-meta-%s:", name);
        meta_value_out(&b, json_string_value(v));
        hdrs[n++] = kt_buf_take(&b);
        free(name);
    }
    json_decref(m);
    return n;
}

void kt_ss3__file_attrs(const char *path, kt_s3_resp *rs, int64_t size, kt_storage_attrs *a)
{
    const char *sl = strrchr(path, '/');
    a->name = kt_xstrdup(sl ? sl + 1 : path);
    a->type = KT_STORAGE_FILE;
    a->size = size;
    a->modified_ms = rs->modified_ms;
    a->created_ms = rs->modified_ms; /* S3 keeps no creation time: an object is written once */
    a->metadata = rs->meta;
    rs->meta = NULL;
}

/* ---- the jobs ---- */

typedef struct job {
    uv_work_t work;
    kt_ss3 *s;
    char *path, *path2;
    void (*run)(struct job *);
    void (*answer)(struct job *);
    void *cb, *data;
    kt_status st;
    char err[KT_STORAGE_ERR_MAX];
    kt_storage_attrs attrs;
    kt_storage_attrs *entries;
    size_t n, cap, count;
    json_t *meta;        /* remove_if: the metadata expected (NULL: none) */
    int64_t modified_ms; /* remove_if: the modification time expected */
} job;

static void job_work(uv_work_t *req)
{
    job *j = req->data;
    j->run(j);
}

static void job_done(uv_work_t *req, int status)
{
    job *j = req->data;
    kt_storage *s = &j->s->base;
    if (status) {
        j->st = KT_EIO;
        kt_errf(j->err, sizeof j->err, "kestra:///%s: cancelled", j->path);
    }
    j->answer(j);
    kt_storage_attrs_clear(&j->attrs);
    for (size_t i = 0; i < j->n; i++)
        kt_storage_attrs_clear(&j->entries[i]);
    free(j->entries);
    free(j->path);
    free(j->path2);
    json_decref(j->meta);
    free(j);
    kt_storage__unbusy(s);
}

static void job_start_with(kt_storage *s, const char *path, const char *path2, void (*run)(job *),
                           void (*answer)(job *), void *cb, void *data, json_t *meta, int64_t modified_ms)
{
    job *j = kt_xcalloc(1, sizeof *j);
    j->meta = meta;
    j->modified_ms = modified_ms;
    j->s = (kt_ss3 *)s;
    j->path = kt_xstrdup(path);
    j->path2 = path2 ? kt_xstrdup(path2) : NULL;
    j->run = run;
    j->answer = answer;
    j->cb = cb;
    j->data = data;
    j->work.data = j;
    int rc = uv_queue_work(s->loop, &j->work, job_work, job_done);
    KT_ASSERTF(rc == 0, "uv_queue_work: %s", uv_strerror(rc));
}

static void job_start(kt_storage *s, const char *path, const char *path2, void (*run)(job *),
                      void (*answer)(job *), void *cb, void *data)
{
    job_start_with(s, path, path2, run, answer, cb, data, NULL, 0);
}

static const char *jerr(job *j)
{
    return j->st ? j->err : "";
}

static void answer_done(job *j)
{
    ((kt_storage_done_cb)j->cb)(j->st, jerr(j), j->data);
}

static void answer_count(job *j)
{
    ((kt_storage_count_cb)j->cb)(j->st, j->count, jerr(j), j->data);
}

static void answer_stat(job *j)
{
    ((kt_storage_stat_cb)j->cb)(j->st, j->st ? NULL : &j->attrs, jerr(j), j->data);
}

static void answer_list(job *j)
{
    ((kt_storage_list_cb)j->cb)(j->st, j->entries, j->st ? 0 : j->n, jerr(j), j->data);
}

/* ---- stat ---- */

static void dir_attrs(const char *path, kt_storage_attrs *a)
{
    const char *sl = strrchr(path, '/');
    a->name = kt_xstrdup(sl ? sl + 1 : path);
    a->type = KT_STORAGE_DIRECTORY;
}

static void stat_run(job *j)
{
    if (!j->path[0]) {
        dir_attrs("", &j->attrs);
        return;
    }
    kt_s3_resp rs;
    j->st = kt_ss3__head(j->s, j->path, &rs, j->err, sizeof j->err);
    if (!j->st)
        kt_ss3__file_attrs(j->path, &rs, rs.length < 0 ? 0 : rs.length, &j->attrs);
    kt_s3_resp_clear(&rs);
    if (j->st == KT_ENOTFOUND) {
        int dir;
        if (!(j->st = kt_ss3__dir_exists(j->s, j->path, &dir, j->err, sizeof j->err)) && !dir) {
            kt_errf(j->err, sizeof j->err, "kestra:///%s: no such file or folder", j->path);
            j->st = KT_ENOTFOUND;
        } else if (!j->st) {
            dir_attrs(j->path, &j->attrs);
        }
    }
}

void kt_ss3__stat(kt_storage *s, const char *path, kt_storage_stat_cb cb, void *data)
{
    job_start(s, path, NULL, stat_run, answer_stat, cb, data);
}

/* ---- listing every key under a prefix ---- */

void kt_ss3__keys_free(kt_ss3_keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->keys[i]);
    free(k->keys);
    memset(k, 0, sizeof *k);
}

kt_status kt_ss3__keys_under(kt_ss3 *s, const char *prefix, kt_ss3_keys *out, const char *path, char *err,
                             size_t cap)
{
    char *token = NULL;
    kt_status st;
    do {
        kt_s3_resp rs;
        st = list_page(s, prefix, 0, token, KT_SS3_PAGE, &rs, path, err, cap);
        free(token);
        token = NULL;
        if (!st) {
            const char *p = rs.body.p, *end = rs.body.p + rs.body.len;
            for (char *k; p && (k = kt_s3_xml_next(&p, end, "Key"));) {
                if (out->n == out->cap) {
                    out->cap = out->cap ? out->cap * 2 : 64;
                    out->keys = kt_xrealloc(out->keys, out->cap * sizeof *out->keys);
                }
                out->keys[out->n++] = k;
            }
            p = rs.body.p;
            char *trunc = p ? kt_s3_xml_next(&p, end, "IsTruncated") : NULL;
            if (trunc && !strcmp(trunc, "true")) {
                p = rs.body.p;
                token = kt_s3_xml_next(&p, end, "NextContinuationToken");
            }
            free(trunc);
        }
        kt_s3_resp_clear(&rs);
    } while (!st && token);
    free(token);
    return st;
}

kt_status kt_ss3__delete_key(kt_ss3 *s, const char *key, const char *path, char *err, size_t cap)
{
    kt_s3_req rq = {.method = "DELETE", .key = key};
    kt_s3_resp rs;
    kt_status st = kt_s3_do(&s->c, &rq, &rs, err, cap);
    if (!st && (st = kt_s3_status(&rs, path, err, cap)) == KT_ENOTFOUND)
        st = KT_OK; /* gone already */
    kt_s3_resp_clear(&rs);
    return st;
}

static int is_marker(const char *key)
{
    size_t n = strlen(key);
    return n && key[n - 1] == '/';
}

/* ---- delete ---- */

static void remove_run(job *j)
{
    kt_ss3 *s = j->s;
    kt_s3_resp rs;
    j->st = kt_ss3__head(s, j->path, &rs, j->err, sizeof j->err);
    kt_s3_resp_clear(&rs);
    char *key = kt_s3_key(&s->c, j->path);
    if (!j->st) {
        j->st = kt_ss3__delete_key(s, key, j->path, j->err, sizeof j->err);
    } else if (j->st == KT_ENOTFOUND) { /* an empty folder: its marker alone */
        kt_buf pre = {0};
        kt_buf_printf(&pre, "%s/", key);
        kt_s3_resp lr;
        j->st = list_page(s, pre.p, 0, NULL, 2, &lr, j->path, j->err, sizeof j->err);
        if (!j->st) {
            const char *p = lr.body.p, *end = lr.body.p + lr.body.len;
            char *k1 = p ? kt_s3_xml_next(&p, end, "Key") : NULL;
            char *k2 = k1 ? kt_s3_xml_next(&p, end, "Key") : NULL;
            if (!k1) {
                kt_errf(j->err, sizeof j->err, "kestra:///%s: no such file or folder", j->path);
                j->st = KT_ENOTFOUND;
            } else if (k2 || strcmp(k1, pre.p)) {
                kt_errf(j->err, sizeof j->err, "kestra:///%s: folder not empty", j->path);
                j->st = KT_ECONFLICT;
            } else {
                j->st = kt_ss3__delete_key(s, k1, j->path, j->err, sizeof j->err);
            }
            free(k1);
            free(k2);
        }
        kt_s3_resp_clear(&lr);
        free(kt_buf_take(&pre));
    }
    free(key);
}

void kt_ss3__remove(kt_storage *s, const char *path, kt_storage_done_cb cb, void *data)
{
    job_start(s, path, NULL, remove_run, answer_done, cb, data);
}

/* kt_storage_delete_if: a HEAD for the version there now (its metadata and Last-Modified checked), then a DELETE
 * with If-Match on that version's ETag, which a server with conditional deletes refuses (412) once another PUT
 * replaced it; one without them deletes what the HEAD saw a moment before. */
static void remove_if_run(job *j)
{
    kt_ss3 *s = j->s;
    kt_s3_resp rs;
    j->st = kt_ss3__head(s, j->path, &rs, j->err, sizeof j->err);
    if (!j->st && (rs.modified_ms != j->modified_ms || !kt_storage__same_meta(rs.meta, j->meta))) {
        kt_errf(j->err, sizeof j->err, "kestra:///%s: changed since it was read: not deleted", j->path);
        j->st = KT_ECONFLICT;
    }
    char etag[160];
    snprintf(etag, sizeof etag, "if-match:%s", rs.etag);
    int has_etag = rs.etag[0] != 0;
    kt_s3_resp_clear(&rs);
    if (j->st)
        return;
    char *key = kt_s3_key(&s->c, j->path);
    const char *hdr[1] = {etag};
    kt_s3_req rq = {.method = "DELETE", .key = key, .headers = hdr, .nheaders = has_etag};
    j->st = kt_s3_do(&s->c, &rq, &rs, j->err, sizeof j->err);
    if (!j->st && rs.status == 412) {
        kt_errf(j->err, sizeof j->err, "kestra:///%s: changed since it was read: not deleted", j->path);
        j->st = KT_ECONFLICT;
    } else if (!j->st) {
        j->st = kt_s3_status(&rs, j->path, j->err, sizeof j->err);
    }
    kt_s3_resp_clear(&rs);
    free(key);
}

void kt_ss3__remove_if(kt_storage *s, const char *path, json_t *meta, int64_t modified_ms, kt_storage_done_cb cb,
                       void *data)
{
    job_start_with(s, path, NULL, remove_if_run, answer_done, cb, data, meta, modified_ms);
}

static void remove_prefix_run(job *j)
{
    kt_ss3 *s = j->s;
    kt_s3_resp rs;
    kt_status hs = kt_ss3__head(s, j->path, &rs, j->err, sizeof j->err);
    kt_s3_resp_clear(&rs);
    char *key = kt_s3_key(&s->c, j->path);
    if (hs == KT_OK) { /* a file by that name goes too */
        if (!(j->st = kt_ss3__delete_key(s, key, j->path, j->err, sizeof j->err)))
            j->count++;
    } else if (hs != KT_ENOTFOUND) {
        j->st = hs;
    }
    kt_buf pre = {0};
    kt_buf_printf(&pre, "%s/", key);
    kt_ss3_keys kl = {0};
    if (!j->st)
        j->st = kt_ss3__keys_under(s, pre.p, &kl, j->path, j->err, sizeof j->err);
    if (!j->st && !(j->st = kt_ss3__delete_keys(s, kl.keys, kl.n, j->path, j->err, sizeof j->err)))
        for (size_t i = 0; i < kl.n; i++)
            j->count += !is_marker(kl.keys[i]);
    kt_ss3__keys_free(&kl);
    free(kt_buf_take(&pre));
    free(key);
}

void kt_ss3__remove_prefix(kt_storage *s, const char *path, kt_storage_count_cb cb, void *data)
{
    job_start(s, path, NULL, remove_prefix_run, answer_count, cb, data);
}

/* ---- list ---- */

static kt_storage_attrs *entry_add(job *j)
{
    if (j->n == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 32;
        j->entries = kt_xrealloc(j->entries, j->cap * sizeof *j->entries);
    }
    kt_storage_attrs *a = &j->entries[j->n++];
    memset(a, 0, sizeof *a);
    return a;
}

static int hidden(const char *name)
{
    size_t n = strlen(name), m = sizeof KT_SS3_META - 1;
    return !*name || (n >= m && !strcmp(name + n - m, KT_SS3_META));
}

/* Reads one ListObjectsV2 page into the job's entries; *marker = the folder's own marker was seen. */
static void list_parse(job *j, const char *body, size_t len, size_t plen, int *marker, char **token)
{
    const char *end = body + len;
    /* <Contents> blocks: files (and the folder's own marker) */
    for (const char *p = body; p;) {
        char *block = kt_s3_xml_next(&p, end, "Contents");
        if (!block)
            break;
        const char *b = block, *be = block + strlen(block);
        char *key = kt_s3_xml_next(&b, be, "Key");
        b = block;
        char *size = kt_s3_xml_next(&b, be, "Size");
        b = block;
        char *mod = kt_s3_xml_next(&b, be, "LastModified");
        if (key && strlen(key) >= plen) {
            const char *name = key + plen;
            if (!*name)
                *marker = 1;
            else if (!hidden(name) && !strchr(name, '/')) {
                kt_storage_attrs *a = entry_add(j);
                a->name = kt_xstrdup(name);
                a->type = KT_STORAGE_FILE;
                a->size = size ? strtoll(size, NULL, 10) : 0;
                a->modified_ms = a->created_ms = kt_s3_iso_ms(mod);
            }
        }
        free(key);
        free(size);
        free(mod);
        free(block);
    }
    /* <CommonPrefixes><Prefix>a/b/</Prefix></CommonPrefixes>: folders */
    for (const char *p = body; p;) {
        char *block = kt_s3_xml_next(&p, end, "CommonPrefixes");
        if (!block)
            break;
        const char *b = block;
        char *pre = kt_s3_xml_next(&b, block + strlen(block), "Prefix");
        size_t n = pre ? strlen(pre) : 0;
        if (pre && n > plen + 1) {
            pre[n - 1] = 0;
            kt_storage_attrs *a = entry_add(j);
            a->name = kt_xstrdup(pre + plen);
            a->type = KT_STORAGE_DIRECTORY;
        }
        free(pre);
        free(block);
    }
    const char *p = body;
    char *trunc = kt_s3_xml_next(&p, end, "IsTruncated");
    if (trunc && !strcmp(trunc, "true")) {
        p = body;
        *token = kt_s3_xml_next(&p, end, "NextContinuationToken");
    }
    free(trunc);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const kt_storage_attrs *)a)->name, ((const kt_storage_attrs *)b)->name);
}

static void list_run(job *j)
{
    kt_ss3 *s = j->s;
    kt_buf pre = {0};
    kt_buf_printf(&pre, "%s%s%s", s->c.prefix, j->path, j->path[0] ? "/" : "");
    int marker = 0;
    char *token = NULL;
    do {
        kt_s3_resp rs;
        char *t = token;
        token = NULL;
        j->st = list_page(s, pre.p, 1, t, KT_SS3_PAGE, &rs, j->path, j->err, sizeof j->err);
        free(t);
        if (!j->st && rs.body.p)
            list_parse(j, rs.body.p, rs.body.len, pre.len, &marker, &token);
        kt_s3_resp_clear(&rs);
    } while (!j->st && token);
    free(token);
    free(kt_buf_take(&pre));
    if (j->st)
        return;
    if (j->n == 0 && !marker && j->path[0]) { /* nothing under it: a file, or nothing at all */
        kt_s3_resp rs;
        kt_status hs = kt_ss3__head(s, j->path, &rs, j->err, sizeof j->err);
        kt_s3_resp_clear(&rs);
        if (hs == KT_OK) {
            kt_errf(j->err, sizeof j->err, "kestra:///%s: a file, not a folder", j->path);
            j->st = KT_EINVAL;
        } else if (hs == KT_ENOTFOUND) {
            kt_errf(j->err, sizeof j->err, "kestra:///%s: no such folder", j->path);
            j->st = KT_ENOTFOUND;
        } else {
            j->st = hs;
        }
        return;
    }
    if (j->n)
        qsort(j->entries, j->n, sizeof *j->entries, cmp_entry);
}

void kt_ss3__list(kt_storage *s, const char *path, kt_storage_list_cb cb, void *data)
{
    job_start(s, path, NULL, list_run, answer_list, cb, data);
}

/* ---- mkdir ---- */

static kt_status put_empty(kt_ss3 *s, const char *key, const char *path, char *err, size_t cap)
{
    /* (a zero-byte object: a folder's marker) */
    kt_s3_req rq = {.method = "PUT", .key = key, .body = "", .body_len = 0};
    kt_s3_resp rs;
    kt_status st = kt_s3_do(&s->c, &rq, &rs, err, cap);
    if (!st && (st = kt_s3_status(&rs, path, err, cap)) == KT_ENOTFOUND)
        st = KT_EIO;
    kt_s3_resp_clear(&rs);
    return st;
}

static void mkdir_run(job *j)
{
    kt_ss3 *s = j->s;
    if (!j->path[0])
        return; /* the root always exists */
    kt_s3_resp rs;
    kt_status hs = kt_ss3__head(s, j->path, &rs, j->err, sizeof j->err);
    kt_s3_resp_clear(&rs);
    if (hs == KT_OK)
        return; /* a file by that name: Kestra's mkdirs does nothing either */
    if (hs != KT_ENOTFOUND) {
        j->st = hs;
        return;
    }
    j->st = make_dirs(s, j->path, j->err, sizeof j->err);
}

void kt_ss3__mkdir(kt_storage *s, const char *path, kt_storage_done_cb cb, void *data)
{
    job_start(s, path, NULL, mkdir_run, answer_done, cb, data);
}
