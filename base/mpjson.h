/* Generic values on the wire: jansson values <-> msgpack. Kite's documents (executions, task properties,
 * outputs) are json_t in memory and msgpack on the wire and on disk. */
#ifndef KT_BASE_MPJSON_H
#define KT_BASE_MPJSON_H

#include <jansson.h>
#include <msgpack.h>
#include <stddef.h>

#include "base/status.h"

/* Appends the msgpack form of v (NULL packs nil). */
void kt_mp_pack_json(msgpack_packer *pk, const json_t *v);
/* Same, for an object, leaving out one key (used to store an execution apart from its task runs). */
void kt_mp_pack_json_except(msgpack_packer *pk, const json_t *obj, const char *skip);
/* Converts a decoded msgpack object; returns a new reference or NULL when the object cannot be mapped
 * (bin, ext, non-string map keys, nesting deeper than 64). */
json_t *kt_mp_to_json(const msgpack_object *o);
/* Whole-buffer helpers. kt_mp_encode_json returns a malloc'ed buffer. */
kt_status kt_mp_encode_json(const json_t *v, char **out, size_t *len);
kt_status kt_mp_decode_json(const void *buf, size_t len, json_t **out);

#endif
