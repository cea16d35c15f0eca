/* Kite's expression engine: Kestra's flavour of Pebble templates.
 *
 * A template is compiled once into an immutable tree (kt_tmpl) and can then be rendered any number of
 * times, from any number of threads, against a JSON context. The language, printing rules and error
 * texts follow /work/shared/reference/KESTRA-expressions.md (Pebble 3.2.2 as Kestra configures it).
 *
 * Values are jansson json_t. Known deviations from Kestra (Java types Kite does not model): Integer vs
 * Long, Float and BigDecimal are not distinguished (all integers are 64-bit, all decimals double);
 * map entries iterated by `for` are {"key":..,"value":..} objects; `reverse`, `sort`, list `+`/`-`
 * return new lists instead of mutating their input. */
#ifndef KT_EXPR_EXPR_H
#define KT_EXPR_EXPR_H

#include <stddef.h>
#include <jansson.h>

#include "base/env.h"
#include "base/json.h"
#include "base/status.h"

typedef struct kt_expr_error {
    int line, col;     /* 1-based position in the template, 0 when unknown */
    char message[512]; /* the text Kestra would report */
} kt_expr_error;

typedef struct kt_tmpl kt_tmpl;

/* Compiles src[0..len) (need not be NUL-terminated). On a syntax error returns KT_EINVAL and fills err. */
kt_status kt_tmpl_compile(const char *src, size_t len, kt_tmpl **out, kt_expr_error *err);

/* The environment (base/env.h) given to every render below is where now(), uuid(), id() and randomInt() read the
 * clock and draw their randomness, so that a render is a function of (template, ctx, env): the engine itself never
 * asks the system. It is drawn from (so not const) and belongs to one render at a time; NULL is allowed for
 * renders that need neither, and then those four functions fail with an error saying so. */

/* Renders to a malloc'ed NUL-terminated string. ctx is a JSON object of variables (inputs, outputs, flow,
 * execution, ...); NULL means no variables. Evaluation errors return KT_EINVAL with err filled. */
kt_status kt_tmpl_render(const kt_tmpl *t, const json_t *ctx, kt_env *env, char **out, size_t *out_len,
                         kt_expr_error *err);

/* Kestra's renderTyped: a template made of a single `{{ expr }}` yields the value itself (number, bool,
 * list, map...); text yields a string; nothing printed yields JSON null. Mixing a value with anything
 * else is an error ("Tried to add java.lang.Long to java.lang.String"). */
kt_status kt_tmpl_render_typed(const kt_tmpl *t, const json_t *ctx, kt_env *env, json_t **out, kt_expr_error *err);

void kt_tmpl_free(kt_tmpl *t);

/* The source the template was compiled from (NUL-terminated copy). */
const char *kt_tmpl_source(const kt_tmpl *t);

/* 1 when the template calls `function(...)` somewhere (macros and blocks included), from its syntax tree: lets a
 * caller decide once, when it compiles a template, whether a costly context entry is needed to render it. A call
 * hidden in a string rendered at run time (`render(...)`) is not seen. */
int kt_tmpl_calls(const kt_tmpl *t, const char *function);

/* 1 if s contains "{{" or "{%" (i.e. needs rendering); lets callers skip plain strings for free. */
int kt_expr_is_template(const char *s);

/* compile + render + free in one call. */
kt_status kt_expr_render_string(const char *src, const json_t *ctx, kt_env *env, char **out, kt_expr_error *err);

/* Deep-renders a JSON value the way Kestra's renderMap/render does: strings rendered, map keys rendered,
 * lists and maps recursed, other scalars kept. Returns a new reference in *out. */
kt_status kt_expr_render_json(const json_t *in, const json_t *ctx, kt_env *env, json_t **out, kt_expr_error *err);

/* A cache of compiled templates keyed by their source: the executor keeps one per flow revision so each
 * property is compiled once and rendered many times. Not thread-safe (one owner, one thread). */
typedef struct kt_tmpl_cache kt_tmpl_cache;
kt_tmpl_cache *kt_tmpl_cache_new(void);
void kt_tmpl_cache_free(kt_tmpl_cache *c);
/* The compiled template for src (compiled and kept on first use; borrowed). */
kt_status kt_tmpl_cache_get(kt_tmpl_cache *c, const char *src, const kt_tmpl **out, kt_expr_error *err);
/* kt_expr_render_json through a cache (c may be NULL: compile each time). */
kt_status kt_expr_render_json_cached(kt_tmpl_cache *c, const json_t *in, const json_t *ctx, kt_env *env,
                                     json_t **out, kt_expr_error *err);

/* Kestra's EncryptionService (encrypt()/decrypt(), SECRET inputs): AES/GCM/NoPadding with a base64 key of 16, 24
 * or 32 bytes, a 12-byte IV drawn from env's random source, a 128-bit tag; the text is base64 of IV || ciphertext ||
 * tag. An empty text stays empty. 0, or -1 with err (Java's message where it has one). *out is malloc'd. */
int kt_expr_encrypt(const char *key_b64, const char *plain, size_t len, kt_env *env, char **out, char *err,
                    size_t errcap);
int kt_expr_decrypt(const char *key_b64, const char *enc, char **out, size_t *outlen, char *err, size_t errcap);

/* Pluggable functions for things that need the runtime (secret, kv, read, fileURI, ...).
 * args is a JSON array of the positional arguments (named arguments are refused unless the function
 * was registered with argument names, see below). On success store a new reference in *result
 * (NULL means JSON null) and return KT_OK; on failure fill err->message (the text Kestra would show)
 * and return non-zero. The registry is process-global: register at startup, before rendering from
 * several threads. Registering an existing name replaces it; fn == NULL removes it. */
typedef kt_status (*kt_expr_fn)(void *ud, const json_t *args, json_t **result, kt_expr_error *err);
void kt_expr_register_function(const char *name, kt_expr_fn fn, void *ud);

/* Same, with declared argument names (NULL-terminated) so calls may use named arguments
 * (`kv('k', errorOnMissing=true)`); args then has one slot per declared name, JSON null for the
 * missing ones, in declaration order, and named-argument errors follow Pebble's messages. */
void kt_expr_register_function_named(const char *name, const char *const *argnames, kt_expr_fn fn, void *ud);

/* Inside a registered function: the variables of the render in progress (flow, execution, ...,
 * including {% set %} variables), or NULL outside a render. Valid only during the call. */
const json_t *kt_expr_current_context(void);

/* The first Amazon Ion text value in text[0..len) as JSON (what fromIon() reads: structs, lists, strings, symbols,
 * numbers, timestamps as ISO strings, typed nulls; annotations dropped): one line of a FileSerde file. NULL with err
 * when it is not one. */
json_t *kt_expr_ion_parse(const char *text, size_t len, char *err, size_t errcap);

/* Ion text of a JSON value appended to b, as Kestra's FileSerde writes a record of an `.ion` file (the caller adds
 * the "\n" after each record): field names as bare symbols when they can be, floats with an exponent. fromIon()
 * reads it back. */
void kt_ion_write(kt_buf *b, const json_t *v);

#endif
