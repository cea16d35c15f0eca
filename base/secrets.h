/* The secrets and `envs` variables a Kite process was started with, and the masking of secret values in text.
 *
 * Kestra OSS reads both from its environment (SecretService: every `SECRET_<NAME>` variable, its value base64 with
 * line breaks ignored, looked up by the upper-cased name; RunContextCache: every `<prefix><NAME>` variable, prefix
 * `ENV_` by default (`kestra.variables.env-vars-prefix`), shown as `envs.<name lower-cased>`). The pure layers never
 * read the environment: the process that owns it (cmd/) builds one kt_secrets from its `environ` at start-up and
 * hands it to the renders through kt_env.secrets (base/env.h). Immutable once built, shared by every thread.
 * Prefix kt_secrets (store), kt_mask (masking). */
#ifndef KT_BASE_SECRETS_H
#define KT_BASE_SECRETS_H

#include <jansson.h>
#include <stddef.h>

/* What a masked secret value is shown as (the choice; Kestra stars each character, see docs/secrets.md). */
#define KT_MASK "******"

typedef struct kt_secrets kt_secrets;

/* From an environment block (NULL-terminated "NAME=value" strings, as `environ`): SECRET_* variables, decoded, and
 * the variables named env_prefix + NAME (env_prefix NULL: "ENV_"). A SECRET_ value that is not base64 is skipped
 * with its name in *warn (caller frees; NULL when none): Kestra logs it and goes on. encryption_key: the base64
 * key of `kestra.encryption.secret-key` (NULL or "": none). Never NULL. */
kt_secrets *kt_secrets_new(char *const *envp, const char *env_prefix, const char *encryption_key, char **warn);
void kt_secrets_free(kt_secrets *s);

/* The process's own, installed once by cmd/ at start-up (before any thread) and never changed: kt_env_init hands it
 * to every render's environment (base/env.h), as the clock reading is handed over. NULL until installed. */
void kt_secrets_install(const kt_secrets *s);
const kt_secrets *kt_secrets_installed(void);

/* The decoded value of secret `name` (case-insensitive, as Kestra upper-cases both sides), NULL when missing. */
const char *kt_secrets_find(const kt_secrets *s, const char *name);
/* The `envs` object (borrowed). */
const json_t *kt_secrets_envs(const kt_secrets *s);
/* The configured encryption key (base64) or NULL. */
const char *kt_secrets_key(const kt_secrets *s);

/* Adds value to the JSON array `used` unless it is there already or empty (the values to mask for one run). A
 * multi-line value adds each of its lines of at least KT_MASK_MIN_LINE bytes as well, since a script's output reaches
 * the log one line at a time (Kestra masks only the whole value). */
#define KT_MASK_MIN_LINE 4
void kt_mask_add(json_t *used, const char *value);
/* text with every occurrence of the strings of `values` (a JSON array; longest first, so a secret containing
 * another is masked whole) replaced by KT_MASK; malloc'd. NULL values: a copy. */
char *kt_mask_text(const char *text, size_t len, const json_t *values, size_t *outlen);
/* Every string inside v (object values, array items, nested) masked in place; keys are left alone. */
void kt_mask_json(json_t *v, const json_t *values);
/* text masked first, then copied into dst[cap] (cap > 0), cut at a UTF-8 boundary when it does not fit: a fixed buffer
 * never holds the head of a secret whose tail the cut dropped (it would no longer match in full). Returns the length
 * written. NULL or empty values: a plain bounded copy. */
size_t kt_mask_copy(char *dst, size_t cap, const char *text, size_t len, const json_t *values);
/* The length of the longest of values (0: none). */
size_t kt_mask_longest(const json_t *values);
/* Where to split text[0..len) at or before `want` (0 < want <= len) so that no occurrence of a value lying inside the
 * text straddles the split: each such occurrence moves the split back to its start. A caller splitting a stream keeps
 * kt_mask_longest(values) - 1 bytes past `want` in hand so an occurrence crossing `want` is seen whole, and starts the
 * next piece at the split. When occurrences chain back to the start (a text made only of a secret), `want`. */
size_t kt_mask_split(const char *text, size_t len, size_t want, const json_t *values);

#endif
