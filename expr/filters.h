/* Private to expr/: the filters, one file per family (reference section 3 and 6), and the helpers the families
 * share. filters.c holds the one table that names every filter and its arguments (what kx_find_filter searches);
 * a filter's argument slots a[] follow the order of the names in its entry there. Prefix kx_. */
#ifndef KT_EXPR_FILTERS_H
#define KT_EXPR_FILTERS_H

#include "expr/expr_int.h"

/* Defines or declares a filter: a kx_fn with the input in `in` and one slot per argument name in `a`. */
#define KX_FILTER(name) json_t *name(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)

/* ---- shared helpers (filters.c) ---- */

/* Fails with the ClassCastException text Kestra shows when a Java cast of v to class `to` fails. */
json_t *kx_cast_err(kx_env *env, const kx_node *n, const json_t *v, const char *to);
/* The buffer's text as a JSON string (empty when nothing was written); the buffer is released. */
json_t *kx_take_str(kt_buf *b);
/* Java String.valueOf(v) as a JSON string (a new reference). */
json_t *kx_as_string(const json_t *v);
/* Decodes one UTF-8 sequence of s (n > 0 bytes left) into *cp; returns its length, 1 for a malformed byte. */
size_t kx_utf8_dec(const char *s, size_t n, unsigned *cp);

/* ---- any value (filters.c) ---- */
KX_FILTER(kx_f_default);
KX_FILTER(kx_f_classname);

/* ---- strings (filters_string.c) ---- */
KX_FILTER(kx_f_upper);
KX_FILTER(kx_f_lower);
KX_FILTER(kx_f_capitalize);
KX_FILTER(kx_f_title);
KX_FILTER(kx_f_trim);
KX_FILTER(kx_f_abbreviate);
KX_FILTER(kx_f_split);
KX_FILTER(kx_f_replace);
KX_FILTER(kx_f_escapechar);
KX_FILTER(kx_f_sub_before);
KX_FILTER(kx_f_sub_after);
KX_FILTER(kx_f_sub_before_last);
KX_FILTER(kx_f_sub_after_last);
KX_FILTER(kx_f_starts);
KX_FILTER(kx_f_ends);
KX_FILTER(kx_f_indent);
KX_FILTER(kx_f_nindent);
KX_FILTER(kx_f_slugify);

/* ---- collections (filters_collection.c) ---- */
KX_FILTER(kx_f_join);
KX_FILTER(kx_f_length);
KX_FILTER(kx_f_first);
KX_FILTER(kx_f_last);
KX_FILTER(kx_f_keys);
KX_FILTER(kx_f_values);
KX_FILTER(kx_f_sort);
KX_FILTER(kx_f_rsort);
KX_FILTER(kx_f_reverse);
KX_FILTER(kx_f_slice);
KX_FILTER(kx_f_merge);
KX_FILTER(kx_f_chunk);
KX_FILTER(kx_f_flatten);

/* ---- numbers (filters_number.c) ---- */
KX_FILTER(kx_f_abs);
KX_FILTER(kx_f_number);
KX_FILTER(kx_f_numberformat);

/* ---- encodings and hashes (filters_encoding.c) ---- */
KX_FILTER(kx_f_b64enc);
KX_FILTER(kx_f_b64dec);
KX_FILTER(kx_f_md5);
KX_FILTER(kx_f_sha1);
KX_FILTER(kx_f_sha256);
KX_FILTER(kx_f_sha512);
KX_FILTER(kx_f_urlencode);
KX_FILTER(kx_f_urldecode);

/* ---- JSON, YAML, Ion, jq (filters_json.c) ---- */
KX_FILTER(kx_f_tojson);
KX_FILTER(kx_f_toyaml);
KX_FILTER(kx_f_toion);
KX_FILTER(kx_f_jq);

/* ---- dates (date.c, next to the date engine they share with now()) ---- */
KX_FILTER(kx_f_date);
KX_FILTER(kx_f_dateadd);
KX_FILTER(kx_f_timestamp);
KX_FILTER(kx_f_timestamp_micro);
KX_FILTER(kx_f_timestamp_nano);

#endif
