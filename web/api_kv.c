/* The KV store API (KESTRA-system.md, Kestra's KVController) over store/kv_store.h:
 *   GET    /api/v1/namespaces/{namespace}/kv         the live entries:
 *                                                    [{key, creationDate, updateDate, expirationDate?}]
 *   GET    /api/v1/namespaces/{namespace}/kv/{key}   {type, value} (404 missing, 410 expired: the entry is deleted)
 *   PUT    /api/v1/namespaces/{namespace}/kv/{key}   the body read as Ion (JSON is Ion: `"a"`, `1`, `{…}`;
 *                                                    `2021-09-01` is a DATE), a `ttl` header (ISO duration) for an
 *                                                    expiration
 *   DELETE /api/v1/namespaces/{namespace}/kv/{key}   true / false
 *   DELETE /api/v1/namespaces/{namespace}/kv         body {keys: [...]}: {keys: [the deleted ones]}
 * A key breaking Kestra's rule answers 422 "Illegal argument: <Kestra's message>" on every route. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "store/kv_store.h"
#include "store/storage_uri.h"
#include "time/duration.h"
#include "time/isodate.h"
#include "web/api_int.h"

/* One request in flight. */
typedef struct kv_req {
    kt_http_req *req;
    kt_webserver *w;
    char *ns, *key;
    json_t *keys, *deleted; /* bulk delete: the keys asked, the keys deleted */
    size_t next;
} kv_req;

static void kv_req_free(kv_req *q)
{
    kt_http_req_release(q->req);
    free(q->ns);
    free(q->key);
    json_decref(q->keys);
    json_decref(q->deleted);
    free(q);
}

static kv_req *kv_req_new(kt_webserver *w, const char *ns, const char *key)
{
    kv_req *q = kt_xcalloc(1, sizeof *q);
    q->w = w;
    q->ns = kt_xstrdup(ns);
    q->key = key ? kt_xstrdup(key) : NULL;
    return q;
}

/* A refusal at the call: 422 for a key or namespace the store refused (its message), the storage's status else. */
static void kv_refused(kt_http_req *r, kv_req *q, kt_status st, const char *err)
{
    char msg[1200];
    if (st == KT_EINVAL) {
        snprintf(msg, sizeof msg, "Illegal argument: %s", err);
        kt_http_send_error(r, 422, msg, NULL);
    } else {
        kt_http_send_error(r, st == KT_ECLOSED ? 503 : 500, err[0] ? err : "the internal storage failed", NULL);
    }
    kv_req_free(q);
}

/* The namespace parameter, or NULL after answering (no storage: 503). */
static const char *kv_ns(kt_webserver *w, kt_http_req *r)
{
    if (!w->storage) {
        kt_http_send_error(r, 503, "Service Unavailable: this node has no internal storage", NULL);
        return NULL;
    }
    return kt_http_param(r, "namespace");
}

static json_t *instant_ms(int64_t ms)
{
    char buf[64];
    kt_isodate_format_instant(ms * 1000, buf, sizeof buf);
    return json_string(buf);
}

/* ---- list ---- */

static void on_list(kt_status st, const kt_kvs_entry *e, size_t n, const char *err, void *data)
{
    kv_req *q = data;
    if (st) {
        kt_http_send_error(q->req, st == KT_ECLOSED ? 503 : 500, err, NULL);
        kv_req_free(q);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{ss so so}", "key", e[i].key, "creationDate", instant_ms(e[i].created_ms),
                              "updateDate", instant_ms(e[i].updated_ms));
        if (e[i].has_expiration) /* KVEntry truncates it to milliseconds */
            json_object_set_new(o, "expirationDate", instant_ms(e[i].expires_us / 1000));
        json_array_append_new(arr, o);
    }
    kt_http_send_json(q->req, 200, arr);
    kv_req_free(q);
}

void kt_api_kv_list(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *ns = kv_ns(w, r);
    if (!ns)
        return;
    char err[512] = "";
    kv_req *q = kv_req_new(w, ns, NULL);
    kt_status st = kt_kvs_list(w->storage, ns, kt_now_us(), on_list, q, err, sizeof err);
    if (st)
        kv_refused(r, q, st, err);
    else
        q->req = kt_http_defer(r);
}

/* ---- get ---- */

static void on_get(kt_status st, const json_t *value, kt_kv_type type, const char *err, void *data)
{
    kv_req *q = data;
    char msg[1200];
    if (st == KT_ENOTFOUND) {
        snprintf(msg, sizeof msg, "Not Found: No value found for key '%s' in namespace '%s'", q->key, q->ns);
        kt_http_send_error(q->req, 404, msg, NULL);
    } else if (st == KT_ECONFLICT) {
        snprintf(msg, sizeof msg, "Resource has expired: %s", err);
        kt_http_send_error(q->req, 410, msg, NULL);
    } else if (st) {
        kt_http_send_error(q->req, st == KT_ECLOSED ? 503 : 500, err, NULL);
    } else {
        kt_http_send_json(q->req, 200, json_pack("{ss sO}", "type", kt_kv_type_name(type), "value", value));
    }
    kv_req_free(q);
}

void kt_api_kv_get(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *ns = kv_ns(w, r), *key = kt_http_param(r, "key");
    if (!ns)
        return;
    char err[512] = "";
    kv_req *q = kv_req_new(w, ns, key ? key : "");
    kt_status st = kt_kvs_get(w->storage, ns, key, kt_now_us(), on_get, q, err, sizeof err);
    if (st)
        kv_refused(r, q, st, err);
    else
        q->req = kt_http_defer(r);
}

/* ---- put ---- */

static void on_put(kt_status st, const char *err, void *data)
{
    kv_req *q = data;
    if (st)
        kt_http_send_error(q->req, st == KT_ECLOSED ? 503 : 500, err, NULL);
    else
        kt_http_send_empty(q->req, 200);
    kv_req_free(q);
}

void kt_api_kv_put(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *ns = kv_ns(w, r), *key = kt_http_param(r, "key"), *ttl = kt_http_header(r, "ttl");
    if (!ns)
        return;
    char err[1024] = "";
    kv_req *q = kv_req_new(w, ns, key ? key : "");
    if (kt_kv_key_check(key, err, sizeof err)) { /* before the body, as Kestra validates the key first in put() */
        kv_refused(r, q, KT_EINVAL, err);
        return;
    }
    int64_t ttl_us = -1, now = kt_now_us();
    if (ttl && (kt_duration_parse(ttl, &ttl_us) || ttl_us < 0)) {
        int negative = !kt_duration_parse(ttl, &ttl_us) && ttl_us < 0;
        snprintf(err, sizeof err, "%s", negative ? "ttl cannot be negative" : "Text cannot be parsed to a Duration");
        kv_refused(r, q, KT_EINVAL, err);
        return;
    }
    size_t len = 0;
    const char *body = kt_http_body(r, &len);
    kt_buf ion = {0};
    if (kt_kv_from_text(&ion, body ? body : "", body ? len : 0, err, sizeof err)) {
        free(ion.p);
        kv_refused(r, q, KT_EINVAL, err);
        return;
    }
    json_t *meta = kt_kv_metadata(now, ttl ? ttl_us : -1);
    kt_status st = kt_kvs_put(w->storage, ns, key, ion.p, ion.len, meta, 1, now, on_put, q, err, sizeof err);
    free(ion.p);
    json_decref(meta);
    if (st)
        kv_refused(r, q, st, err);
    else
        q->req = kt_http_defer(r);
}

/* ---- delete ---- */

static void on_delete(kt_status st, int deleted, const char *err, void *data)
{
    kv_req *q = data;
    if (st)
        kt_http_send_error(q->req, st == KT_ECLOSED ? 503 : 500, err, NULL);
    else
        kt_http_send_json(q->req, 200, json_boolean(deleted));
    kv_req_free(q);
}

void kt_api_kv_delete(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *ns = kv_ns(w, r), *key = kt_http_param(r, "key");
    if (!ns)
        return;
    char err[512] = "";
    kv_req *q = kv_req_new(w, ns, key ? key : "");
    kt_status st = kt_kvs_delete(w->storage, ns, key, on_delete, q, err, sizeof err);
    if (st)
        kv_refused(r, q, st, err);
    else
        q->req = kt_http_defer(r);
}

/* Bulk: one key after the other; a key that fails to delete is left out (Kestra ignores those errors). */
static void bulk_next(kv_req *q);

static void on_bulk_delete(kt_status st, int deleted, const char *err, void *data)
{
    (void)err;
    kv_req *q = data;
    if (!st && deleted)
        json_array_append(q->deleted, json_array_get(q->keys, q->next - 1));
    bulk_next(q);
}

static void bulk_next(kv_req *q)
{
    char err[512];
    while (q->next < json_array_size(q->keys)) {
        const char *key = json_string_value(json_array_get(q->keys, q->next++));
        if (!kt_kvs_delete(q->w->storage, q->ns, key, on_bulk_delete, q, err, sizeof err))
            return;
    }
    kt_http_send_json(q->req, 200, json_pack("{sO}", "keys", q->deleted));
    kv_req_free(q);
}

void kt_api_kv_delete_bulk(kt_http_req *r, void *ud)
{
    kt_webserver *w = ud;
    const char *ns = kv_ns(w, r);
    if (!ns)
        return;
    size_t len = 0;
    const char *body = kt_http_body(r, &len);
    json_error_t je;
    json_t *doc = body && len ? json_loadb(body, len, 0, &je) : json_object();
    json_t *keys = json_object_get(doc, "keys");
    char err[1024] = "";
    if (!json_is_object(doc) || (keys && !json_is_null(keys) && !json_is_array(keys))) {
        json_decref(doc);
        kt_http_send_error(r, 400, "Bad Request: the body must be {\"keys\": [...]}", NULL);
        return;
    }
    kv_req *q = kv_req_new(w, ns, NULL);
    q->keys = json_is_array(keys) ? json_incref(keys) : json_array();
    q->deleted = json_array();
    json_decref(doc);
    size_t i;
    json_t *k;
    json_array_foreach(q->keys, i, k) { /* every key checked first: a bad one refuses the whole request (422) */
        if (kt_kv_key_check(json_string_value(k), err, sizeof err)) {
            kv_refused(r, q, KT_EINVAL, err);
            return;
        }
    }
    char uri[3 * KT_SURI_PATH_MAX + 16];
    if (kt_kvs_uri(ns, "k", uri, sizeof uri, err, sizeof err)) { /* the namespace: "k" is a valid key */
        kv_refused(r, q, KT_EINVAL, err);
        return;
    }
    q->req = kt_http_defer(r);
    bulk_next(q);
}
