/* io.kestra.plugin.core.kv.Put (Kestra 2.0's Put.java): updates a KV entry in place. The new `value` is merged into
 * the current one: two maps deep-merge (MapUtils.deepMerge: nested maps merge key by key, anything else replaces), a
 * list of `{key, value}` entries patches fields of a JSON value by dotted path ("nested.field"), a single `{value}`
 * entry replaces the whole value, and any other value replaces it. The entry keeps its metadata (its expiration
 * date), as Put passes the current KVMetadata back to the store. A missing key (an expired entry counts as missing,
 * as findMetadataAndValue answers empty for it) is created, unless errorOnMissing is true. Output: none (VoidOutput).
 *
 * The steps, each on the storage's loop: stat the entry (its metadata), get its value, merge, put (overwrite). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/worker/task.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "expr/kv.h"
#include "store/kv_store.h"

typedef struct put_op {
    kt_task_run *r;
    kt_storage *s;
    char *ns, *key;
    int error_on_missing;
    json_t *meta;  /* the current entry's metadata (NULL: none, or no entry) */
    json_t *value; /* the rendered `value` */
} put_op;

static void put_op_free(put_op *op)
{
    free(op->ns);
    free(op->key);
    json_decref(op->meta);
    json_decref(op->value);
    free(op);
}

static void put_fail(put_op *op, const char *msg)
{
    kt_task_logf(op->r, "ERROR", "%s", msg);
    kt_task_finish(op->r, KT_S(FAILED), NULL);
    put_op_free(op);
}

/* ---- the merge (pure) ---- */

/* MapUtils.deepMerge(a, b) into a: keys of a keep their place, new keys of b come after in b's order. */
static void kvp_deep_merge(json_t *into, const json_t *from)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)from, k, v) {
        json_t *old = json_object_get(into, k);
        if (json_is_object(old) && json_is_object(v))
            kvp_deep_merge(old, v);
        else
            json_object_set_new(into, k, json_deep_copy(v));
    }
}

/* Put.isValueEntryList: a non-empty list whose items are all maps holding `value` and nothing but `key`/`value`. */
static int kvp_is_entry_list(const json_t *v)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return 0;
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        if (!json_is_object(item) || !json_object_get(item, "value"))
            return 0;
        const char *k;
        json_t *x;
        json_object_foreach(item, k, x) if (strcmp(k, "key") && strcmp(k, "value")) return 0;
    }
    return 1;
}

/* MapUtils.flattenToNestedMap for one dotted key: sets path = value inside nested, making the maps on the way; -1
 * with Kestra's message when a segment is already a value or the key was set before. */
static int kvp_set_path(json_t *nested, const char *path, const json_t *value, const char *all_keys, char *err,
                        size_t cap)
{
    json_t *cur = nested;
    const char *seg = path;
    for (const char *dot; (dot = strchr(seg, '.')); seg = dot + 1) {
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(dot - seg), seg);
        json_t *next = json_object_get(cur, name);
        if (!next) {
            next = json_object();
            json_object_set_new(cur, name, next);
        } else if (!json_is_object(next)) {
            /* Kestra names the segments before this one, joined with ',' */
            char before[256];
            snprintf(before, sizeof before, "%.*s", seg > path ? (int)(seg - path - 1) : 0, path);
            for (char *c = before; *c; c++)
                *c = *c == '.' ? ',' : *c;
            snprintf(err, cap, "Conflict at key: '%s'. Map keys are: [%s]", before, all_keys);
            return -1;
        }
        cur = next;
    }
    if (json_object_get(cur, seg)) {
        snprintf(err, cap, "Conflict at key: '%s', Map keys are: [%s]", seg, all_keys);
        return -1;
    }
    json_object_set_new(cur, seg, json_deep_copy(value));
    return 0;
}

/* The top-level keys in sorted order (flattenToNestedMap's result is a TreeMap). */
static json_t *kvp_sorted(const json_t *o)
{
    size_t n = json_object_size(o), i = 0;
    const char **keys = kt_xcalloc(n ? n : 1, sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) keys[i++] = k;
    for (size_t a = 1; a < n; a++) /* insertion sort: a handful of keys */
        for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
            const char *t = keys[b];
            keys[b] = keys[b - 1];
            keys[b - 1] = t;
        }
    json_t *out = json_object();
    for (i = 0; i < n; i++)
        json_object_set(out, keys[i], json_object_get(o, keys[i]));
    free(keys);
    return out;
}

/* Put.mergeEntryListValues: a new reference, or NULL with err (Kestra's IllegalArgumentException messages). */
static json_t *kvp_merge_entries(const json_t *existing, const json_t *entries, char *err, size_t cap)
{
    size_t n = json_array_size(entries), i;
    json_t *item;
    json_array_foreach(entries, i, item) {
        const json_t *key = json_object_get(item, "key");
        if (!key || json_is_null(key)) {
            if (n > 1) {
                snprintf(err, cap, "`value` entries without `key` can only be used as a single replacement item.");
                return NULL;
            }
            return json_deep_copy(json_object_get(item, "value"));
        }
        if (!json_is_string(key) || !*json_string_value(key) || strspn(json_string_value(key), " \t\r\n") ==
                                                                      strlen(json_string_value(key))) {
            snprintf(err, cap, "Each keyed `value` entry must have a non-empty string `key`.");
            return NULL;
        }
    }
    /* the keys as Kestra's message lists them (the flat map's keySet) */
    char all[512] = "";
    size_t used = 0;
    json_array_foreach(entries, i, item) if (used < sizeof all) used += (size_t)snprintf(
        all + used, sizeof all - used, "%s%s", i ? ", " : "", json_string_value(json_object_get(item, "key")));
    json_t *updates = json_object();
    json_array_foreach(entries, i, item) {
        const char *path = json_string_value(json_object_get(item, "key"));
        /* a key given twice: the flat map (a HashMap) keeps the last one */
        int later = 0;
        for (size_t j = i + 1; j < n; j++)
            later |= !strcmp(path, json_string_value(json_object_get(json_array_get(entries, j), "key")));
        if (!later && kvp_set_path(updates, path, json_object_get(item, "value"), all, err, cap)) {
            json_decref(updates);
            return NULL;
        }
    }
    json_t *nested = kvp_sorted(updates);
    json_decref(updates);
    if (!existing || json_is_null(existing))
        return nested;
    if (!json_is_object(existing)) {
        json_decref(nested);
        snprintf(err, cap, "Cannot apply keyed `value` updates to a non-JSON existing KV value.");
        return NULL;
    }
    json_t *merged = json_deep_copy(existing);
    kvp_deep_merge(merged, nested);
    json_decref(nested);
    return merged;
}

/* Put.mergeValues: the value to store (a new reference), or NULL with err. */
static json_t *kvp_merge(const json_t *existing, const json_t *value, char *err, size_t cap)
{
    if (kvp_is_entry_list(value))
        return kvp_merge_entries(existing, value, err, cap);
    if (json_is_object(existing) && json_is_object(value)) {
        json_t *merged = json_deep_copy(existing);
        kvp_deep_merge(merged, value);
        return merged;
    }
    return json_deep_copy(value);
}

/* ---- the steps ---- */

static void put_on_written(kt_status st, const char *err, void *data)
{
    put_op *op = data;
    if (st) {
        put_fail(op, err);
        return;
    }
    kt_task_finish(op->r, KT_S(SUCCESS), NULL);
    put_op_free(op);
}

static void put_on_value(kt_status st, const json_t *current, kt_kv_type type, const char *err, void *data)
{
    (void)type;
    put_op *op = data;
    char msg[1024] = "";
    if (st == KT_ECONFLICT) /* expired (and deleted by the read): findMetadataAndValue answers empty */
        st = KT_ENOTFOUND;
    if (st && st != KT_ENOTFOUND) {
        put_fail(op, err);
        return;
    }
    if (st == KT_ENOTFOUND) {
        current = NULL;
        json_decref(op->meta);
        op->meta = NULL;
        if (op->error_on_missing) {
            snprintf(msg, sizeof msg,
                     "No value found for key '%s' in namespace '%s' and `errorOnMissing` is set to true", op->key,
                     op->ns);
            put_fail(op, msg);
            return;
        }
    }
    json_t *merged = kvp_merge(current, op->value, msg, sizeof msg);
    if (!merged) {
        put_fail(op, msg);
        return;
    }
    kt_buf ion = {0};
    kt_status es = kt_kv_encode(&ion, merged, NULL, msg, sizeof msg);
    json_decref(merged);
    if (es == KT_OK)
        es = kt_kvs_put(op->s, op->ns, op->key, ion.p, ion.len, op->meta, 1, kt_now_us(), put_on_written, op, msg,
                        sizeof msg);
    free(ion.p);
    if (es)
        put_fail(op, msg);
}

static void put_on_stat(kt_status st, const kt_storage_attrs *attrs, const char *err, void *data)
{
    put_op *op = data;
    char msg[1024] = "";
    if (st && st != KT_ENOTFOUND) {
        put_fail(op, err);
        return;
    }
    if (st == KT_OK && attrs && json_is_object(attrs->metadata))
        op->meta = json_deep_copy(attrs->metadata);
    if (kt_kvs_get(op->s, op->ns, op->key, kt_now_us(), put_on_value, op, msg, sizeof msg))
        put_fail(op, msg);
}

static void put_start(kt_task_run *r)
{
    const json_t *props = kt_task_props(r);
    const char *key = kt_task_prop_string(r, "key"), *ns = kt_task_prop_string(r, "namespace");
    if (!ns || !*ns)
        ns = json_string_value(json_object_get(kt_task_run_info(r), "namespace"));
    const json_t *eom = json_object_get(props, "errorOnMissing");
    int error_on_missing = 0;
    if (json_is_boolean(eom))
        error_on_missing = json_is_true(eom);
    else if (json_is_string(eom) &&
             (!strcmp(json_string_value(eom), "true") || !strcmp(json_string_value(eom), "false")))
        error_on_missing = !strcmp(json_string_value(eom), "true");
    else if (eom && !json_is_null(eom)) {
        kt_task_logf(r, "ERROR", "errorOnMissing: must be a boolean");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    const json_t *value = json_object_get(props, "value");
    kt_storage *s = kt_task_storage(r);
    char err[1024] = "";
    if (!value || json_is_null(value))
        snprintf(err, sizeof err, "value: must not be null");
    else if (!s)
        snprintf(err, sizeof err, "this worker has no internal storage");
    else
        kt_kv_key_check(key, err, sizeof err);
    char uri[1024];
    if (!err[0])
        kt_kvs_uri(ns, key, uri, sizeof uri, err, sizeof err);
    if (err[0]) {
        kt_task_logf(r, "ERROR", "%s", err);
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    put_op *op = kt_xcalloc(1, sizeof *op);
    *op = (put_op){.r = r, .s = s, .ns = kt_xstrdup(ns ? ns : ""), .key = kt_xstrdup(key),
                   .error_on_missing = error_on_missing, .value = json_incref((json_t *)value)};
    if (kt_storage_stat(s, uri, put_on_stat, op, err, sizeof err))
        put_fail(op, err);
}

const kt_task_impl kt_task_kv_put_impl = {.type = "io.kestra.plugin.core.kv.Put", .start = put_start};
