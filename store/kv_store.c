/* The KV store on the internal storage (see store/kv_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/json.h"
#include "store/kv_store.h"
#include "store/storage_uri.h"

#define KVS_URI (3 * KT_SURI_PATH_MAX + 16)

int kt_kvs_uri(const char *ns, const char *key, char *out, size_t cap, char *err, size_t errcap)
{
    if (kt_kv_key_check(key, err, errcap))
        return -1;
    if (!ns || !*ns || kt_suri_kv(ns, key, out, cap)) {
        snprintf(err, errcap, "Invalid namespace '%s'", ns ? ns : "");
        return -1;
    }
    return 0;
}

/* kestra:///<ns>/_kv/ (the folder the entries live in). */
static int folder_uri(const char *ns, char *out, size_t cap, char *err, size_t errcap)
{
    if (kt_kvs_uri(ns, "k", out, cap, err, errcap))
        return -1;
    char *cut = strstr(out, "/_kv/k.ion");
    if (!cut)
        return -1;
    cut[5] = 0;
    return 0;
}

/* ---- get ---- */

typedef struct get_op {
    kt_storage *s;
    kt_kvs_get_cb cb;
    void *data;
    kt_buf buf;
    char *uri;
    int64_t now_us;
} get_op;

static void get_end(get_op *op, kt_status st, const char *err)
{
    if (st == KT_OK) {
        kt_kv_type type = KT_KV_STRING;
        char e[512] = "";
        json_t *v = kt_kv_decode(op->buf.p ? op->buf.p : "", op->buf.len, &type, e, sizeof e);
        if (v)
            op->cb(KT_OK, v, type, "", op->data);
        else {
            char m[700];
            snprintf(m, sizeof m, "%s: not an Ion value (%s)", op->uri, e);
            op->cb(KT_EIO, NULL, KT_KV_STRING, m, op->data);
        }
        json_decref(v);
    } else {
        op->cb(st, NULL, KT_KV_STRING, err, op->data);
    }
    free(op->buf.p);
    free(op->uri);
    free(op);
}

static void get_on_read(kt_storage_reader *r, kt_status st, const char *chunk, size_t len, const char *err,
                        void *data)
{
    get_op *op = data;
    if (st || len == 0) {
        kt_storage_reader_close(r);
        get_end(op, st, err);
        return;
    }
    if (op->buf.len + len > KT_KVS_VALUE_MAX) {
        kt_storage_reader_close(r);
        get_end(op, KT_EINVAL, "the value is larger than a KV entry may be");
        return;
    }
    kt_buf_put(&op->buf, chunk, len);
    if (kt_storage_read(r, get_on_read, op)) {
        kt_storage_reader_close(r);
        get_end(op, KT_ECLOSED, "the internal storage is closing");
    }
}

static void get_on_expired_delete(kt_status st, const char *err, void *data)
{
    (void)st, (void)err;
    get_end(data, KT_ECONFLICT, KT_KVS_EXPIRED);
}

static void get_on_open(kt_storage_reader *r, kt_status st, const kt_storage_attrs *attrs, const char *err,
                        void *data)
{
    get_op *op = data;
    if (st) {
        get_end(op, st, err);
        return;
    }
    if (kt_kv_expired(attrs->metadata, op->now_us)) {
        /* deleted only while it is still this expired version: a put of the same key landing meanwhile stays */
        char e[256];
        kt_status ds = kt_storage_delete_if(op->s, op->uri, attrs->metadata, attrs->modified_ms,
                                            get_on_expired_delete, op, e, sizeof e);
        kt_storage_reader_close(r);
        if (ds)
            get_end(op, KT_ECONFLICT, KT_KVS_EXPIRED);
        return;
    }
    if (kt_storage_read(r, get_on_read, op)) {
        kt_storage_reader_close(r);
        get_end(op, KT_ECLOSED, "the internal storage is closing");
    }
}

kt_status kt_kvs_get(kt_storage *s, const char *ns, const char *key, int64_t now_us, kt_kvs_get_cb cb, void *data,
                     char *err, size_t errcap)
{
    char uri[KVS_URI];
    if (kt_kvs_uri(ns, key, uri, sizeof uri, err, errcap))
        return KT_EINVAL;
    get_op *op = kt_xcalloc(1, sizeof *op);
    *op = (get_op){.s = s, .cb = cb, .data = data, .uri = kt_xstrdup(uri), .now_us = now_us};
    kt_storage_reader *r;
    kt_status st = kt_storage_reader_open(s, uri, get_on_open, op, &r, err, errcap);
    if (st) {
        free(op->uri);
        free(op);
    }
    return st;
}

/* ---- put ---- */

typedef struct put_op {
    kt_storage *s;
    kt_storage_done_cb cb;
    void *data;
    char *uri, *key, *ion;
    size_t len;
    json_t *meta;
    int64_t now_us;
    kt_storage_writer *w;
} put_op;

static void put_free(put_op *op)
{
    free(op->uri);
    free(op->key);
    free(op->ion);
    json_decref(op->meta);
    free(op);
}

static void put_end(put_op *op, kt_status st, const char *err)
{
    op->cb(st, err ? err : "", op->data);
    put_free(op);
}

static void put_on_commit(kt_status st, const char *err, void *data)
{
    put_end(data, st, err);
}

static void put_on_write(kt_status st, const char *err, void *data)
{
    put_op *op = data;
    if (st) {
        kt_storage_writer_abort(op->w);
        put_end(op, st, err);
        return;
    }
    st = kt_storage_writer_commit(op->w, put_on_commit, op);
    if (st) {
        kt_storage_writer_abort(op->w);
        put_end(op, st, "the internal storage is closing");
    }
}

/* Opens the writer and sends the value (always with a metadata object, {} without a TTL: a put replaces the side
 * file, so an older entry's expirationDate never outlives it);  KT_OK, or why not (err) with nothing started. */
static kt_status put_write(put_op *op, char *err, size_t errcap)
{
    kt_status st = kt_storage_writer_open(op->s, op->uri, op->meta, &op->w, err, errcap);
    if (st)
        return st;
    if (kt_storage_write(op->w, op->ion, op->len, put_on_write, op)) {
        kt_storage_writer_abort(op->w);
        snprintf(err, errcap, "the internal storage is closing");
        return KT_ECLOSED;
    }
    return KT_OK;
}


static void put_on_stat(kt_status st, const kt_storage_attrs *attrs, const char *err, void *data)
{
    put_op *op = data;
    if (st == KT_OK && !kt_kv_expired(attrs->metadata, op->now_us)) {
        char m[512];
        snprintf(m, sizeof m, "Cannot set value for key '%s'. Key already exists and `overwrite` is set to `false`.",
                 op->key);
        put_end(op, KT_ECONFLICT, m);
    } else if (st == KT_OK || st == KT_ENOTFOUND) {
        char e[512] = "";
        kt_status ws = put_write(op, e, sizeof e);
        if (ws)
            put_end(op, ws, e);
    } else {
        put_end(op, st, err);
    }
}

kt_status kt_kvs_put(kt_storage *s, const char *ns, const char *key, const char *ion, size_t len, const json_t *meta,
                     int overwrite, int64_t now_us, kt_storage_done_cb cb, void *data, char *err, size_t errcap)
{
    char uri[KVS_URI];
    if (kt_kvs_uri(ns, key, uri, sizeof uri, err, errcap))
        return KT_EINVAL;
    put_op *op = kt_xcalloc(1, sizeof *op);
    *op = (put_op){.s = s, .cb = cb, .data = data, .uri = kt_xstrdup(uri), .key = kt_xstrdup(key),
                   .ion = kt_xmalloc(len + 1), .len = len, .meta = meta ? json_deep_copy(meta) : json_object(),
                   .now_us = now_us};
    memcpy(op->ion, ion, len);
    kt_status st = overwrite ? put_write(op, err, errcap) : kt_storage_stat(s, uri, put_on_stat, op, err, errcap);
    if (st)
        put_free(op);
    return st;
}

/* ---- delete ---- */

typedef struct del_op {
    kt_kvs_delete_cb cb;
    void *data;
} del_op;

static void del_on_done(kt_status st, const char *err, void *data)
{
    del_op *op = data;
    if (st == KT_ENOTFOUND)
        op->cb(KT_OK, 0, "", op->data);
    else
        op->cb(st, st == KT_OK, err, op->data);
    free(op);
}

kt_status kt_kvs_delete(kt_storage *s, const char *ns, const char *key, kt_kvs_delete_cb cb, void *data, char *err,
                        size_t errcap)
{
    char uri[KVS_URI];
    if (kt_kvs_uri(ns, key, uri, sizeof uri, err, errcap))
        return KT_EINVAL;
    del_op *op = kt_xcalloc(1, sizeof *op);
    *op = (del_op){.cb = cb, .data = data};
    kt_status st = kt_storage_delete(s, uri, del_on_done, op, err, errcap);
    if (st)
        free(op);
    return st;
}

/* ---- list: the folder, then each entry's stat for its metadata (a listing does not load it), one at a time ---- */

typedef struct list_op {
    kt_storage *s;
    kt_kvs_list_cb cb;
    void *data;
    char folder[KVS_URI];
    int64_t now_us;
    int all; /* expired entries too (kt_kvs_list_all) */
    char **names;
    size_t nnames, next;
    kt_kvs_entry *out;
    size_t nout;
} list_op;

static void list_end(list_op *op, kt_status st, const char *err)
{
    op->cb(st, st ? NULL : op->out, st ? 0 : op->nout, err ? err : "", op->data);
    for (size_t i = 0; i < op->nnames; i++)
        free(op->names[i]);
    free(op->names);
    for (size_t i = 0; i < op->nout; i++)
        free(op->out[i].key);
    free(op->out);
    free(op);
}

static void list_next(list_op *op);

static void list_on_stat(kt_status st, const kt_storage_attrs *a, const char *err, void *data)
{
    list_op *op = data;
    const char *name = op->names[op->next - 1];
    if (st == KT_ENOTFOUND) { /* deleted since the listing */
        list_next(op);
        return;
    }
    if (st) {
        list_end(op, st, err);
        return;
    }
    int64_t exp = 0;
    int has = kt_kv_expiration(a->metadata, &exp);
    if (!has || op->now_us < exp || op->all) {
        kt_kvs_entry *e = &op->out[op->nout++];
        e->key = kt_xstrdup(name);
        e->key[strlen(name) - 4] = 0; /* without ".ion" */
        e->created_ms = a->created_ms;
        e->updated_ms = a->modified_ms;
        e->has_expiration = has;
        e->expires_us = exp;
    }
    list_next(op);
}

static void list_next(list_op *op)
{
    if (op->next == op->nnames) {
        list_end(op, KT_OK, "");
        return;
    }
    char uri[2 * KVS_URI], e[512] = "";
    snprintf(uri, sizeof uri, "%s%s", op->folder, op->names[op->next++]);
    if (kt_storage_stat(op->s, uri, list_on_stat, op, e, sizeof e))
        list_end(op, KT_ECLOSED, e);
}

static void list_on_list(kt_status st, const kt_storage_attrs *entries, size_t n, const char *err, void *data)
{
    list_op *op = data;
    if (st == KT_ENOTFOUND) {
        list_end(op, KT_OK, "");
        return;
    }
    if (st) {
        list_end(op, st, err);
        return;
    }
    op->names = kt_xcalloc(n + 1, sizeof *op->names);
    op->out = kt_xcalloc(n + 1, sizeof *op->out);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(entries[i].name);
        if (entries[i].type == KT_STORAGE_FILE && len > 4 && !strcmp(entries[i].name + len - 4, ".ion"))
            op->names[op->nnames++] = kt_xstrdup(entries[i].name);
    }
    list_next(op);
}

static kt_status list_start(kt_storage *s, const char *ns, int64_t now_us, int all, kt_kvs_list_cb cb, void *data,
                            char *err, size_t errcap)
{
    list_op *op = kt_xcalloc(1, sizeof *op);
    op->all = all;
    if (folder_uri(ns, op->folder, sizeof op->folder, err, errcap)) {
        free(op);
        return KT_EINVAL;
    }
    op->s = s;
    op->cb = cb;
    op->data = data;
    op->now_us = now_us;
    kt_status st = kt_storage_list(s, op->folder, list_on_list, op, err, errcap);
    if (st)
        free(op);
    return st;
}

kt_status kt_kvs_list(kt_storage *s, const char *ns, int64_t now_us, kt_kvs_list_cb cb, void *data, char *err,
                      size_t errcap)
{
    return list_start(s, ns, now_us, 0, cb, data, err, errcap);
}

kt_status kt_kvs_list_all(kt_storage *s, const char *ns, int64_t now_us, kt_kvs_list_cb cb, void *data, char *err,
                          size_t errcap)
{
    return list_start(s, ns, now_us, 1, cb, data, err, errcap);
}
