/* The KV tasks (io.kestra.plugin.core.kv.Set, Get, GetKeys, Delete; KESTRA-model.md, the Java classes of the same
 * names) on the worker's storage through store/kv_store.h. `namespace` defaults to the flow's (Kestra's
 * "{{ flow.namespace }}"); every namespace is allowed, as Kestra OSS's checkAllowedNamespace allows them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/worker/task.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "expr/kv.h"
#include "store/kv_store.h"
#include "time/duration.h"

static void kv_fail(kt_task_run *r, const char *msg)
{
    kt_task_logf(r, "ERROR", "%s", msg);
    kt_task_finish(r, KT_S(FAILED), NULL);
}

/* The rendered namespace, or the flow's. */
static const char *kv_namespace(kt_task_run *r)
{
    const char *ns = kt_task_prop_string(r, "namespace");
    return ns && *ns ? ns : json_string_value(json_object_get(kt_task_run_info(r), "namespace"));
}

/* A boolean property with its default; -1 (logged, failed) when it is not a boolean. */
static int kv_bool(kt_task_run *r, const char *name, int dflt)
{
    const json_t *v = json_object_get(kt_task_props(r), name);
    if (!v || json_is_null(v))
        return dflt;
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_string(v) && (!strcmp(json_string_value(v), "true") || !strcmp(json_string_value(v), "false")))
        return !strcmp(json_string_value(v), "true");
    kt_task_logf(r, "ERROR", "%s: must be a boolean", name);
    kt_task_finish(r, KT_S(FAILED), NULL);
    return -1;
}

/* A storage that is there, or NULL with the run failed. */
static kt_storage *kv_storage(kt_task_run *r)
{
    kt_storage *s = kt_task_storage(r);
    if (!s)
        kv_fail(r, "this worker has no internal storage");
    return s;
}

/* ---- Set ---- */

static void set_done(kt_status st, const char *err, void *data)
{
    kt_task_run *r = data;
    if (st)
        kv_fail(r, err);
    else
        kt_task_finish(r, KT_S(SUCCESS), NULL);
}

static void set_start(kt_task_run *r)
{
    const json_t *props = kt_task_props(r);
    const char *key = kt_task_prop_string(r, "key"), *ns = kv_namespace(r);
    int overwrite = kv_bool(r, "overwrite", 1);
    kt_storage *s = overwrite < 0 ? NULL : kv_storage(r);
    if (!s)
        return;
    char err[1024] = "";
    if (kt_kv_key_check(key, err, sizeof err)) {
        kv_fail(r, err);
        return;
    }
    int64_t ttl = -1;
    const json_t *jttl = json_object_get(props, "ttl");
    if (jttl && !json_is_null(jttl)) {
        if (kt_duration_from_json(jttl, &ttl)) {
            kv_fail(r, "ttl: must be an ISO-8601 duration");
            return;
        }
        if (ttl < 0) {
            kv_fail(r, "ttl cannot be negative");
            return;
        }
    }
    const json_t *jtype = json_object_get(props, "kvType");
    kt_buf ion = {0};
    if (kt_kv_encode(&ion, json_object_get(props, "value"), json_string_value(jtype), err, sizeof err)) {
        free(ion.p);
        kv_fail(r, err);
        return;
    }
    int64_t now = kt_now_us();
    json_t *meta = kt_kv_metadata(now, ttl);
    kt_status st = kt_kvs_put(s, ns, key, ion.p, ion.len, meta, overwrite, now, set_done, r, err, sizeof err);
    free(ion.p);
    json_decref(meta);
    if (st)
        kv_fail(r, err);
}

/* ---- Get ---- */

typedef struct get_op {
    kt_task_run *r;
    int error_on_missing;
    char *ns, *key;
} get_op;

static void get_done(kt_status st, const json_t *value, kt_kv_type type, const char *err, void *data)
{
    (void)type;
    get_op *op = data;
    kt_task_run *r = op->r;
    if (st == KT_ENOTFOUND && op->error_on_missing) {
        kt_task_logf(r, "ERROR", "No value found for key '%s' in namespace '%s' and `errorOnMissing` is set to true",
                     op->key, op->ns);
        kt_task_finish(r, KT_S(FAILED), NULL);
    } else if (st == KT_ENOTFOUND) {
        kt_task_finish(r, KT_S(SUCCESS), json_object()); /* value null: Kestra's output leaves it out */
    } else if (st) {
        kv_fail(r, err);
    } else {
        json_t *out = json_object();
        if (!json_is_null(value))
            json_object_set(out, "value", (json_t *)value);
        kt_task_finish(r, KT_S(SUCCESS), out);
    }
    free(op->ns);
    free(op->key);
    free(op);
}

static void get_start(kt_task_run *r)
{
    const char *key = kt_task_prop_string(r, "key"), *ns = kv_namespace(r);
    int eom = kv_bool(r, "errorOnMissing", 0);
    kt_storage *s = eom < 0 ? NULL : kv_storage(r);
    if (!s)
        return;
    char err[1024] = "";
    get_op *op = kt_xcalloc(1, sizeof *op);
    *op = (get_op){.r = r, .error_on_missing = eom, .ns = kt_xstrdup(ns ? ns : ""), .key = kt_xstrdup(key ? key : "")};
    if (kt_kvs_get(s, ns, key, kt_now_us(), get_done, op, err, sizeof err)) {
        free(op->ns);
        free(op->key);
        free(op);
        kv_fail(r, err);
    }
}

/* ---- GetKeys ---- */

static void keys_done(kt_status st, const kt_kvs_entry *e, size_t n, const char *err, void *data)
{
    kt_task_run *r = data;
    if (st) {
        kv_fail(r, err);
        return;
    }
    const char *prefix = kt_task_prop_string(r, "prefix");
    json_t *keys = json_array();
    for (size_t i = 0; i < n; i++)
        if (!prefix || !strncmp(e[i].key, prefix, strlen(prefix)))
            json_array_append_new(keys, json_string(e[i].key));
    kt_task_finish(r, KT_S(SUCCESS), json_pack("{so}", "keys", keys));
}

static void keys_start(kt_task_run *r)
{
    kt_storage *s = kv_storage(r);
    char err[1024] = "";
    if (s && kt_kvs_list(s, kv_namespace(r), kt_now_us(), keys_done, r, err, sizeof err))
        kv_fail(r, err);
}

/* ---- Delete ---- */

static void delete_done(kt_status st, int deleted, const char *err, void *data)
{
    get_op *op = data;
    kt_task_run *r = op->r;
    if (st) {
        kv_fail(r, err);
    } else if (!deleted && op->error_on_missing) {
        kt_task_logf(r, "ERROR", "No value found for key '%s' in namespace '%s' and `errorOnMissing` is set to true",
                     op->key, op->ns);
        kt_task_finish(r, KT_S(FAILED), NULL);
    } else {
        kt_task_finish(r, KT_S(SUCCESS), json_pack("{sb}", "deleted", deleted));
    }
    free(op->ns);
    free(op->key);
    free(op);
}

static void delete_start(kt_task_run *r)
{
    const char *key = kt_task_prop_string(r, "key"), *ns = kv_namespace(r);
    int eom = kv_bool(r, "errorOnMissing", 0);
    kt_storage *s = eom < 0 ? NULL : kv_storage(r);
    if (!s)
        return;
    char err[1024] = "";
    get_op *op = kt_xcalloc(1, sizeof *op);
    *op = (get_op){.r = r, .error_on_missing = eom, .ns = kt_xstrdup(ns ? ns : ""), .key = kt_xstrdup(key ? key : "")};
    if (kt_kvs_delete(s, ns, key, delete_done, op, err, sizeof err)) {
        free(op->ns);
        free(op->key);
        free(op);
        kv_fail(r, err);
    }
}

const kt_task_impl kt_task_kv_set_impl = {.type = "io.kestra.plugin.core.kv.Set", .start = set_start};
const kt_task_impl kt_task_kv_get_impl = {.type = "io.kestra.plugin.core.kv.Get", .start = get_start};
const kt_task_impl kt_task_kv_get_keys_impl = {.type = "io.kestra.plugin.core.kv.GetKeys", .start = keys_start};
const kt_task_impl kt_task_kv_delete_impl = {.type = "io.kestra.plugin.core.kv.Delete", .start = delete_start};
