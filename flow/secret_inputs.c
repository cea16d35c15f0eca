/* SECRET inputs sealed at rest and opened for a render (see flow/secret_inputs.h). */
#include "flow/secret_inputs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expr/expr.h"

static int is_secret(const json_t *def)
{
    const char *type = json_string_value(json_object_get(def, "type"));
    return type && !strcasecmp(type, "SECRET") && json_string_value(json_object_get(def, "id"));
}

kt_status kt_secret_inputs_seal(const json_t *defs, json_t *typed, kt_env *env, char *err, size_t errcap)
{
    const char *key = env ? kt_secrets_key(env->secrets) : NULL;
    size_t i;
    json_t *def;
    if (!json_is_object(typed))
        return KT_OK;
    json_array_foreach(defs, i, def) {
        if (!is_secret(def))
            continue;
        const char *id = json_string_value(json_object_get(def, "id"));
        json_t *v = json_object_get(typed, id);
        if (!json_is_string(v))
            continue;
        if (!key) {
            snprintf(err, errcap, "%s", KT_SECRET_NO_KEY);
            return KT_EINVAL;
        }
        char *enc = NULL, e[256];
        if (kt_expr_encrypt(key, json_string_value(v), json_string_length(v), env, &enc, e, sizeof e)) {
            snprintf(err, errcap, "Unable to seal the SECRET input '%s': %s", id, e);
            free(enc);
            return KT_EINVAL;
        }
        json_object_set_new(typed, id, json_string(enc));
        free(enc);
    }
    return KT_OK;
}

json_t *kt_secret_inputs_open(const json_t *defs, json_t *inputs, const kt_secrets *s, json_t *used)
{
    const char *key = kt_secrets_key(s);
    json_t *out = json_incref(inputs);
    size_t i;
    json_t *def;
    json_array_foreach(defs, i, def) {
        if (!is_secret(def))
            continue;
        const char *id = json_string_value(json_object_get(def, "id"));
        const char *v = json_string_value(json_object_get(out, id));
        if (!v)
            continue;
        char *clear = NULL, err[256];
        size_t len = 0;
        if (key && !kt_expr_decrypt(key, v, &clear, &len, err, sizeof err)) {
            if (out == inputs) {
                json_decref(out);
                out = json_copy(inputs);
            }
            json_object_set_new(out, id, json_stringn_nocheck(clear, len));
            kt_mask_add(used, clear);
        } else {
            kt_mask_add(used, v);
        }
        free(clear);
    }
    return out;
}

static int kt_secret_is_encrypted(const json_t *v)
{
    const char *type = json_string_value(json_object_get(v, "type"));
    return json_is_object(v) && type && !strcasecmp(type, KT_ENCRYPTED_STRING);
}

/* 1 when an EncryptedString sits in v (objects only: Kestra does not look into lists). */
static int kt_secret_has_encrypted(const json_t *v)
{
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
        if (json_is_object(x) && (kt_secret_is_encrypted(x) || kt_secret_has_encrypted(x)))
            return 1;
    return 0;
}

static void kt_secret_open_in(json_t *v, const char *key)
{
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        if (!json_is_object(x))
            continue;
        if (!kt_secret_is_encrypted(x)) {
            kt_secret_open_in(x, key);
            continue;
        }
        const char *enc = json_string_value(json_object_get(x, "value"));
        char *clear = NULL, err[256];
        size_t len = 0;
        if (enc && key && !kt_expr_decrypt(key, enc, &clear, &len, err, sizeof err))
            json_object_set_new(v, k, json_stringn_nocheck(clear, len));
        else
            json_object_set_new(v, k, enc ? json_string(enc) : json_null());
        free(clear);
    }
}

json_t *kt_secret_outputs_open(json_t *outputs, const kt_secrets *s)
{
    if (!json_is_object(outputs) || !kt_secret_has_encrypted(outputs))
        return json_incref(outputs);
    json_t *out = json_deep_copy(outputs);
    kt_secret_open_in(out, kt_secrets_key(s));
    return out;
}
