#include "base/mpjson.h"
#include "base/limits.h"

#include <stdlib.h>
#include <string.h>

void kt_mp_pack_json(msgpack_packer *pk, const json_t *v)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_OBJECT: {
        msgpack_pack_map(pk, json_object_size(v));
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            msgpack_pack_str_with_body(pk, k, strlen(k));
            kt_mp_pack_json(pk, x);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        msgpack_pack_array(pk, json_array_size(v));
        json_array_foreach(v, i, x) kt_mp_pack_json(pk, x);
        break;
    }
    case JSON_STRING: msgpack_pack_str_with_body(pk, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: msgpack_pack_int64(pk, json_integer_value(v)); break;
    case JSON_REAL: msgpack_pack_double(pk, json_real_value(v)); break;
    case JSON_TRUE: msgpack_pack_true(pk); break;
    case JSON_FALSE: msgpack_pack_false(pk); break;
    case JSON_NULL: msgpack_pack_nil(pk); break;
    }
}

void kt_mp_pack_json_except(msgpack_packer *pk, const json_t *obj, const char *skip)
{
    size_t n = json_object_size(obj) - (json_object_get(obj, skip) ? 1 : 0);
    msgpack_pack_map(pk, n);
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)obj, k, x) {
        if (!strcmp(k, skip))
            continue;
        msgpack_pack_str_with_body(pk, k, strlen(k));
        kt_mp_pack_json(pk, x);
    }
}

static json_t *kt_mp_to_json_depth(const msgpack_object *o, int depth)
{
    if (depth > KT_MP_MAX_DEPTH)
        return NULL;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return json_null();
    case MSGPACK_OBJECT_BOOLEAN: return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX)
            return json_real((double)o->via.u64);
        return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return json_integer((json_int_t)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return json_real(o->via.f64);
    case MSGPACK_OBJECT_STR: return json_stringn_nocheck(o->via.str.size ? o->via.str.ptr : "", o->via.str.size);
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; a && i < o->via.array.size; i++) {
            json_t *x = kt_mp_to_json_depth(&o->via.array.ptr[i], depth + 1);
            if (!x || json_array_append_new(a, x)) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *m = json_object();
        for (uint32_t i = 0; m && i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR)
                goto fail_map;
            json_t *x = kt_mp_to_json_depth(&kv->val, depth + 1);
            if (!x)
                goto fail_map;
            if (json_object_setn_new_nocheck(m, kv->key.via.str.size ? kv->key.via.str.ptr : "", kv->key.via.str.size, x))
                goto fail_map;
            continue;
        fail_map:
            json_decref(m);
            return NULL;
        }
        return m;
    }
    default: return NULL;
    }
}

json_t *kt_mp_to_json(const msgpack_object *o) { return kt_mp_to_json_depth(o, 0); }

kt_status kt_mp_encode_json(const json_t *v, char **out, size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    kt_mp_pack_json(&pk, v);
    if (!sb.data) {
        msgpack_sbuffer_destroy(&sb);
        return KT_ENOMEM;
    }
    *out = sb.data;
    *len = sb.size;
    return KT_OK;
}

kt_status kt_mp_decode_json(const void *buf, size_t len, json_t **out)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    kt_status st = KT_EPROTO;
    if (msgpack_unpack_next(&u, buf, len, &off) == MSGPACK_UNPACK_SUCCESS && off == len) {
        *out = kt_mp_to_json(&u.data);
        st = *out ? KT_OK : KT_EPROTO;
    }
    msgpack_unpacked_destroy(&u);
    return st;
}
