/* kv(key, namespace, errorOnMissing) (Kestra's KvFunction): a KV entry's value, typed as it was stored.
 *
 * The bytes and the metadata come through the render's environment (kt_env.files->read_meta), as read() does; the
 * clock for the expiration is the environment's too. Namespaces: the flow's by default; any other namespace is
 * allowed (Kestra OSS's checkAllowedNamespace allows every namespace; Kite does not check that a foreign namespace
 * exists: a key missing there is just missing). An expired entry fails the render with Kestra's message
 * (InternalKVStore.getRawValue's ResourceExpiredException, which KvFunction turns into a PebbleException: not a
 * missing key) and is deleted as Kestra deletes it, through the environment's drop hook: only while it is still the
 * expired version read here, never a value written under the key since.
 *
 * A missing key by dialect (docs/dialects.md): Kestra 0.21, Kite's 1.x, returns null unless errorOnMissing=true;
 * Kestra 0.22 turned the default to true (kv-error-on-missing), which 2.x follows, and since then an expired entry
 * read with errorOnMissing=false is null too (KvFunction catches the ResourceExpiredException). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_int.h"
#include "expr/kv.h"

static json_t *fn_kv(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    (void)in;
    (void)na;
    if (!a[0] || json_is_null(a[0]))
        return kx_fail(env, n, KX_E_PEBBLE, "The 'kv' function expects an argument 'key'.");
    const char *key = json_string_value(a[0]);
    char err[512] = "";
    if (!key || kt_kv_key_check(key, err, sizeof err))
        return kx_fail(env, n, KX_E_PEBBLE, "%s", key ? err : KT_KV_KEY_INVALID);
    const char *ns = a[1] && !json_is_null(a[1]) ? json_string_value(a[1]) : NULL;
    if (a[1] && !json_is_null(a[1]) && !ns)
        return kx_fail(env, n, KX_E_PEBBLE, "The 'kv' function expects 'namespace' to be a string");
    if (!ns) {
        json_t *flow = json_object_get(env->ctx, "flow");
        ns = json_string_value(json_object_get(flow, "namespace"));
        if (!ns)
            return kx_fail(env, n, KX_E_PEBBLE, "The 'kv' function needs a namespace, and this render has no flow");
    }
    if (!*ns || strstr(ns, "/") || strstr(ns, ".."))
        return kx_fail(env, n, KX_E_PEBBLE, "Invalid namespace '%s'", ns);
    int strict = env->ambient && env->ambient->dialect == KT_DIALECT_2X;
    int error_on_missing = a[2] && !json_is_null(a[2]) ? json_is_true(a[2]) : strict;
    const kt_env_files *f = env->ambient ? env->ambient->files : NULL;
    if (!f || !f->read_meta)
        return kx_fail(env, n, KX_E_PEBBLE, "The 'kv' function needs the internal storage, and this render has none");
    char *uri = kt_kv_uri(ns, key), *data = NULL;
    size_t len = 0;
    json_t *meta = NULL;
    int64_t modified_ms = 0;
    int st = f->read_meta(f->ud, uri, &data, &len, &meta, &modified_ms, err, sizeof err);
    if (st == KT_ENOTFOUND) {
        free(uri);
        if (error_on_missing)
            return kx_fail(env, n, KX_E_PEBBLE, "The key '%s' does not exist in the namespace '%s'.", key, ns);
        return json_null();
    }
    if (st) {
        free(uri);
        return kx_fail(env, n, KX_E_PEBBLE, "%s", err[0] ? err : "the internal storage failed");
    }
    int expired = kt_kv_expired(meta, env->ambient->now_us);
    if (expired && f->drop)
        f->drop(f->ud, uri, meta, modified_ms);
    json_decref(meta);
    free(uri);
    if (expired) {
        free(data);
        if (strict && !error_on_missing)
            return json_null();
        return kx_fail(env, n, KX_E_PEBBLE, "The requested value has expired");
    }
    kt_kv_type type;
    json_t *v = kt_kv_decode(data, len, &type, err, sizeof err);
    free(data);
    if (!v)
        return kx_fail(env, n, KX_E_PEBBLE, "Unable to read the value of key '%s': %s", key, err);
    return v;
}

const kx_builtin kx_functions_kv[] = {
    {"kv", fn_kv, {"key", "namespace", "errorOnMissing"}, 0},
    {NULL, NULL, {NULL}, 0},
};
