/* The KV tasks (io.kestra.plugin.core.kv.Set, Get, GetKeys, Delete, and 1.x's PurgeKV; KESTRA-model.md, the Java
 * classes of the same names) on the worker's storage through store/kv_store.h. `namespace` defaults to the flow's
 * (Kestra's "{{ flow.namespace }}"); every namespace is allowed, as Kestra OSS's checkAllowedNamespace allows them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/worker/task.h"
#include "actors/worker/tasks_ask.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/json.h"
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

/* ---- PurgeKV (Kestra 1.x: PurgeKV.java, PurgeTask.findNamespaces/filterItems, kv.Key, kv.Version) ----
 *
 * The namespaces: with `namespacePattern`, the flows' namespaces that match it; with `namespaces`, the flows'
 * namespaces starting with one of them (includeChildNamespaces, default true: Kestra's startsWith, so `company` also
 * takes `company2`) or equal to one, plus the ones listed; with neither, every flow's namespace. The flows' namespaces
 * come from the executor, whose node holds the store (Kestra reads its flow repository). Patterns are
 * FilenameUtils.wildcardMatch globs (`*`, `?`, case-sensitive). The behavior: `expiredOnly` (deprecated) wins when
 * set; otherwise `behavior` {type: key, expiredOnly (default true)} | {type: version, before | keepAmount}, default
 * key/expired-only. Kite's KV store keeps one version per key (no history): `version` with `before` purges nothing
 * (Kestra never deletes a key's last version that way), with keepAmount >= 1 nothing, with keepAmount 0 or neither
 * every matching key. Output: {size: keys purged}. */

/* FilenameUtils.wildcardMatch: '*' any run of characters, '?' exactly one, everything else itself. */
static int kv_glob(const char *s, const char *p)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p && (*p == '?' || *p == *s)) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return !*p;
}

typedef struct purge_op {
    kt_task_run *r;
    json_t *namespaces; /* the ones to purge, in order */
    size_t next;        /* the namespace being listed */
    int by_version;     /* behavior type version */
    int expired_only;   /* key: only the expired ones */
    int version_all;    /* version: every version (no before, keepAmount 0 or absent) */
    int children;       /* includeChildNamespaces */
    char *key_pattern;
    int64_t now_us, count;
    char **keys; /* the current namespace's keys to delete */
    size_t nkeys, kdone;
} purge_op;

static void purge_free(purge_op *op)
{
    for (size_t i = 0; i < op->nkeys; i++)
        free(op->keys[i]);
    free(op->keys);
    json_decref(op->namespaces);
    free(op->key_pattern);
    free(op);
}

static void purge_fail(purge_op *op, const char *msg)
{
    kt_task_run *r = op->r;
    purge_free(op);
    kv_fail(r, msg);
}

static void purge_next_ns(purge_op *op);

static void purge_next_key(purge_op *op);

static void purge_on_delete(kt_status st, int deleted, const char *err, void *data)
{
    purge_op *op = data;
    if (st) {
        purge_fail(op, err);
        return;
    }
    op->count += deleted;
    purge_next_key(op);
}

static void purge_next_key(purge_op *op)
{
    if (op->kdone == op->nkeys) {
        purge_next_ns(op);
        return;
    }
    const char *ns = json_string_value(json_array_get(op->namespaces, op->next - 1));
    char err[512] = "";
    if (kt_kvs_delete(kt_task_storage(op->r), ns, op->keys[op->kdone++], purge_on_delete, op, err, sizeof err))
        purge_fail(op, err);
}

static int purge_wanted(const purge_op *op, const kt_kvs_entry *e)
{
    if (op->key_pattern && !kv_glob(e->key, op->key_pattern))
        return 0;
    if (op->by_version)
        return op->version_all;
    return !op->expired_only || (e->has_expiration && e->expires_us < op->now_us);
}

static void purge_on_list(kt_status st, const kt_kvs_entry *e, size_t n, const char *err, void *data)
{
    purge_op *op = data;
    if (st) {
        purge_fail(op, err);
        return;
    }
    for (size_t i = 0; i < op->nkeys; i++)
        free(op->keys[i]);
    free(op->keys);
    op->keys = kt_xcalloc(n + 1, sizeof *op->keys);
    op->nkeys = op->kdone = 0;
    for (size_t i = 0; i < n; i++)
        if (purge_wanted(op, &e[i]))
            op->keys[op->nkeys++] = kt_xstrdup(e[i].key);
    purge_next_key(op);
}

static void purge_next_ns(purge_op *op)
{
    if (op->next == json_array_size(op->namespaces)) {
        kt_task_run *r = op->r;
        kt_task_logf(r, "INFO", "purged %lld keys", (long long)op->count);
        json_t *out = json_pack("{sI}", "size", (json_int_t)op->count);
        purge_free(op);
        kt_task_finish(r, KT_S(SUCCESS), out);
        return;
    }
    const char *ns = json_string_value(json_array_get(op->namespaces, op->next++));
    char err[512] = "";
    if (kt_kvs_list_all(kt_task_storage(op->r), ns, op->now_us, purge_on_list, op, err, sizeof err))
        purge_fail(op, err);
}

/* A list property as strings: an array of strings, or a string holding a JSON array (a rendered expression) or one
 * name. NULL (logged, failed) when it is something else. */
static json_t *purge_list(kt_task_run *r, const char *name)
{
    const json_t *v = json_object_get(kt_task_props(r), name);
    json_t *out = json_array();
    json_t *parsed = NULL;
    if (json_is_string(v)) {
        parsed = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
        if (json_is_array(parsed))
            v = parsed;
        else if (*json_string_value(v))
            json_array_append(out, (json_t *)v);
    }
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        if (!json_is_string(x)) {
            kt_task_logf(r, "ERROR", "%s: must be a list of strings", name);
            json_decref(parsed);
            json_decref(out);
            return NULL;
        }
        json_array_append(out, x);
    }
    json_decref(parsed);
    if (v && !json_is_null(v) && !json_is_array(v) && !json_is_string(v)) {
        kt_task_logf(r, "ERROR", "%s: must be a list of strings", name);
        json_decref(out);
        return NULL;
    }
    return out;
}

static int purge_listed(const json_t *list, const char *ns, int prefix)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        const char *want = json_string_value(x);
        if (prefix ? !strncmp(ns, want, strlen(want)) : !strcmp(ns, want))
            return 1;
    }
    return 0;
}

/* findNamespaces from the flows' namespaces (`known`, may be NULL when not needed) and the properties. */
static json_t *purge_select(const json_t *known, const json_t *listed, const char *pattern, int children)
{
    json_t *out = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(known, i, x) {
        const char *ns = json_string_value(x);
        if (!ns)
            continue;
        if (pattern ? kv_glob(ns, pattern) : !json_array_size(listed) || purge_listed(listed, ns, children))
            json_array_append(out, x);
    }
    if (!pattern)
        json_array_foreach(listed, i, x) if (!purge_listed(out, json_string_value(x), 0)) json_array_append(out, x);
    return out;
}

static void purge_run(purge_op *op)
{
    kt_buf b = {0};
    size_t i;
    json_t *x;
    json_array_foreach(op->namespaces, i, x) kt_buf_printf(&b, "%s%s", i ? ", " : "", json_string_value(x));
    kt_task_logf(op->r, "INFO", "purging %zu namespaces: [%s]", json_array_size(op->namespaces), b.p ? b.p : "");
    free(b.p);
    purge_next_ns(op);
}

static void purge_on_namespaces(kt_task_run *r, const kt_msg_reply *rep)
{
    purge_op *op = kt_task_data(r);
    if (kt_ask_failed(r, rep)) {
        purge_free(op);
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    json_t *listed = op->namespaces; /* held there until the flows' namespaces came */
    op->namespaces = purge_select(json_object_get(rep->data, "namespaces"), listed,
                                  kt_task_prop_string(r, "namespacePattern"), op->children);
    json_decref(listed);
    purge_run(op);
}

/* The behavior into op: 0, or -1 with the reason logged. */
static int purge_behavior(kt_task_run *r, purge_op *op)
{
    const json_t *props = kt_task_props(r);
    const json_t *eo = json_object_get(props, "expiredOnly");
    if (eo && !json_is_null(eo)) { /* deprecated, and it wins over behavior (PurgeKV.run) */
        const char *t = json_is_string(eo) ? json_string_value(eo) : "";
        if (!json_is_boolean(eo) && strcmp(t, "true") && strcmp(t, "false")) {
            kt_task_logf(r, "ERROR", "expiredOnly: must be a boolean");
            return -1;
        }
        op->expired_only = json_is_true(eo) || !strcmp(t, "true");
        return 0;
    }
    const json_t *b = json_object_get(props, "behavior");
    json_t *parsed = json_is_string(b) ? json_loads(json_string_value(b), 0, NULL) : NULL;
    if (parsed)
        b = parsed;
    int rc = 0;
    op->expired_only = 1;
    if (b && !json_is_null(b)) {
        const char *type = json_string_value(json_object_get(b, "type"));
        const json_t *e = json_object_get(b, "expiredOnly"), *before = json_object_get(b, "before");
        const json_t *keep = json_object_get(b, "keepAmount");
        if (!json_is_object(b) || !type || (strcmp(type, "key") && strcmp(type, "version"))) {
            kt_task_logf(r, "ERROR", "behavior: the type must be 'key' or 'version'");
            rc = -1;
        } else if (!strcmp(type, "key")) {
            op->expired_only = !(json_is_false(e) || (json_is_string(e) && !strcmp(json_string_value(e), "false")));
        } else if (before && !json_is_null(before) && keep && !json_is_null(keep)) {
            kt_task_logf(r, "ERROR", "behavior: Cannot set both 'before' and 'keepAmount' properties");
            rc = -1;
        } else {
            op->by_version = 1;
            json_int_t k = json_is_integer(keep) ? json_integer_value(keep)
                           : json_is_string(keep) ? strtoll(json_string_value(keep), NULL, 10) : -1;
            op->version_all = (!before || json_is_null(before)) && (!keep || json_is_null(keep) || k == 0);
        }
    }
    json_decref(parsed);
    return rc;
}

static void purge_start(kt_task_run *r)
{
    if (!kv_storage(r))
        return;
    purge_op *op = kt_xcalloc(1, sizeof *op);
    op->r = r;
    op->now_us = kt_now_us();
    const char *kp = kt_task_prop_string(r, "keyPattern"), *pattern = kt_task_prop_string(r, "namespacePattern");
    op->key_pattern = kp && *kp ? kt_xstrdup(kp) : NULL;
    int children = op->children = kv_bool(r, "includeChildNamespaces", 1);
    if (children < 0 || purge_behavior(r, op) || !(op->namespaces = purge_list(r, "namespaces"))) {
        purge_free(op);
        if (children >= 0) /* kv_bool finished it */
            kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (pattern && !*pattern)
        pattern = NULL;
    if (pattern && json_array_size(op->namespaces)) {
        purge_fail(op, "Properties `namespaces` and `namespacePattern` can't be used at the same time — use one or "
                       "the other.");
        return;
    }
    if (!pattern && json_array_size(op->namespaces) && !children) { /* exactly the ones listed */
        purge_run(op);
        return;
    }
    kt_task_set_data(r, op);
    json_t *body = json_pack("{ss}", "op", "flows.namespaces");
    int sent = kt_ask_executor(r, body, purge_on_namespaces);
    json_decref(body);
    if (sent) {
        purge_free(op);
        kt_task_finish(r, KT_S(FAILED), NULL);
    }
}

const kt_task_impl kt_task_kv_set_impl = {.type = "io.kestra.plugin.core.kv.Set", .start = set_start};
const kt_task_impl kt_task_kv_get_impl = {.type = "io.kestra.plugin.core.kv.Get", .start = get_start};
const kt_task_impl kt_task_kv_get_keys_impl = {.type = "io.kestra.plugin.core.kv.GetKeys", .start = keys_start};
const kt_task_impl kt_task_kv_delete_impl = {.type = "io.kestra.plugin.core.kv.Delete", .start = delete_start};
const kt_task_impl kt_task_kv_purge_impl = {.type = "io.kestra.plugin.core.kv.PurgeKV", .start = purge_start};
