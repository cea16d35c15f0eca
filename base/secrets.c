/* Secrets and envs from an environment block; masking of secret values (see base/secrets.h). */
#include "base/secrets.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/base64.h"
#include "base/json.h"

#define SECRET_PREFIX "SECRET_"

struct kt_secrets {
    json_t *secrets; /* upper-cased name -> decoded value */
    json_t *envs;    /* lower-cased name -> value */
    char *key;
};

/* Kestra strips every line break (`\R`) before decoding, so a value wrapped by `base64` (76 columns) still works. */
static char *decode_secret(const char *v)
{
    size_t n = strlen(v), m = 0;
    char *clean = kt_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        if (v[i] != '\n' && v[i] != '\r')
            clean[m++] = v[i];
    clean[m] = 0;
    unsigned char *out = NULL;
    size_t outn = 0;
    int rc = kt_base64_decode(clean, m, &out, &outn);
    free(clean);
    if (rc < 0)
        return NULL;
    char *s = kt_xstrndup((const char *)out, outn);
    free(out);
    return s;
}

static char *cased(const char *p, size_t n, int upper)
{
    char *k = kt_xstrndup(p, n);
    for (char *c = k; *c; c++)
        *c = (char)(upper ? toupper((unsigned char)*c) : tolower((unsigned char)*c));
    return k;
}

kt_secrets *kt_secrets_new(char *const *envp, const char *env_prefix, const char *encryption_key, char **warn)
{
    kt_secrets *s = kt_xcalloc(1, sizeof *s);
    s->secrets = json_object();
    s->envs = json_object();
    s->key = encryption_key && *encryption_key ? kt_xstrdup(encryption_key) : NULL;
    if (warn)
        *warn = NULL;
    const char *ep = env_prefix && *env_prefix ? env_prefix : "ENV_";
    size_t epn = strlen(ep), spn = strlen(SECRET_PREFIX);
    kt_buf bad = {0};
    for (char *const *e = envp; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        size_t nlen = (size_t)(eq - *e);
        if (nlen > spn && !strncmp(*e, SECRET_PREFIX, spn)) {
            char *v = decode_secret(eq + 1);
            if (!v) {
                kt_buf_printf(&bad, "%s%.*s", bad.len ? ", " : "", (int)nlen, *e);
                continue;
            }
            char *k = cased(*e + spn, nlen - spn, 1);
            json_object_set_new(s->secrets, k, json_stringn_nocheck(v, strlen(v)));
            free(k);
            free(v);
        }
        /* not `else`: with a prefix of SECRET_ a variable is both, as in Kestra */
        if (nlen > epn && !strncmp(*e, ep, epn)) {
            char *k = cased(*e + epn, nlen - epn, 0);
            json_t *v = json_string(eq + 1);
            if (v)
                json_object_set_new(s->envs, k, v);
            free(k);
        }
    }
    if (bad.len && warn)
        *warn = kt_buf_take(&bad);
    else
        free(bad.p);
    return s;
}

void kt_secrets_free(kt_secrets *s)
{
    if (!s)
        return;
    json_decref(s->secrets);
    json_decref(s->envs);
    free(s->key);
    free(s);
}

static const kt_secrets *kt_secrets_process;

void kt_secrets_install(const kt_secrets *s) { kt_secrets_process = s; }
const kt_secrets *kt_secrets_installed(void) { return kt_secrets_process; }

const char *kt_secrets_find(const kt_secrets *s, const char *name)
{
    if (!s || !name)
        return NULL;
    char *k = cased(name, strlen(name), 1);
    const char *v = json_string_value(json_object_get(s->secrets, k));
    free(k);
    return v;
}

const json_t *kt_secrets_envs(const kt_secrets *s) { return s ? s->envs : NULL; }
const char *kt_secrets_key(const kt_secrets *s) { return s ? s->key : NULL; }

static void mask_add_one(json_t *used, const char *value, size_t len)
{
    size_t i;
    json_t *v;
    json_array_foreach(used, i, v) if (json_string_length(v) == len && !memcmp(json_string_value(v), value, len)) return;
    json_array_append_new(used, json_stringn_nocheck(value, len));
}

void kt_mask_add(json_t *used, const char *value)
{
    if (!json_is_array(used) || !value || !*value)
        return;
    mask_add_one(used, value, strlen(value));
    if (!strchr(value, '\n'))
        return;
    /* a script prints a multi-line secret (a PEM key) line by line: each line is masked on its own too */
    for (const char *p = value; *p;) {
        size_t n = strcspn(p, "\n");
        size_t m = n && p[n - 1] == '\r' ? n - 1 : n;
        if (m >= KT_MASK_MIN_LINE)
            mask_add_one(used, p, m);
        p += n + (p[n] == '\n');
    }
}

/* Every byte any occurrence of any value covers is masked, one KT_MASK per run of covered bytes: overlapping or
 * adjacent secrets ("abc" and "bcdefgh" in "abcdefgh") never show a part of either. A byte that starts no value (a
 * table of first bytes) costs one lookup, and unmasked runs are copied whole, so a long log line stays linear in
 * practice. */
char *kt_mask_text(const char *text, size_t len, const json_t *values, size_t *outlen)
{
    size_t nv = json_is_array(values) ? json_array_size(values) : 0;
    const char **vs = nv ? kt_xcalloc(nv, sizeof *vs) : NULL;
    size_t *lens = nv ? kt_xcalloc(nv, sizeof *lens) : NULL;
    unsigned char first[256] = {0};
    size_t k = 0;
    for (size_t i = 0; i < nv; i++) {
        const char *v = json_string_value(json_array_get(values, i));
        size_t vl = v ? json_string_length(json_array_get(values, i)) : 0;
        if (!vl)
            continue;
        vs[k] = v;
        lens[k++] = vl;
        first[(unsigned char)v[0]] = 1;
    }
    unsigned char *cover = NULL;
    for (size_t i = 0; i < len && k; i++) {
        if (!first[(unsigned char)text[i]])
            continue;
        for (size_t j = 0; j < k; j++) {
            if (lens[j] > len - i || text[i] != vs[j][0] || memcmp(text + i, vs[j], lens[j]))
                continue;
            if (!cover)
                cover = kt_xcalloc(len, 1);
            memset(cover + i, 1, lens[j]);
        }
    }
    kt_buf b = {0};
    for (size_t i = 0; i < len;) {
        size_t j = i;
        if (cover && cover[i]) {
            while (j < len && cover[j])
                j++;
            kt_buf_puts(&b, KT_MASK);
        } else {
            while (j < len && !(cover && cover[j]))
                j++;
            kt_buf_put(&b, text + i, j - i);
        }
        i = j;
    }
    free(cover);
    free(vs);
    free(lens);
    if (outlen)
        *outlen = b.len;
    char *out = kt_buf_take(&b);
    return out ? out : kt_xstrdup(""); /* an empty text: kt_buf_take gives NULL for nothing written */
}

void kt_mask_json(json_t *v, const json_t *values)
{
    if (!json_is_array(values) || !json_array_size(values) || !v)
        return;
    if (json_is_string(v)) {
        size_t n;
        char *m = kt_mask_text(json_string_value(v), json_string_length(v), values, &n);
        if (n != json_string_length(v) || memcmp(m, json_string_value(v), n))
            json_string_setn_nocheck(v, m, n);
        free(m);
    } else if (json_is_object(v)) {
        const char *key;
        json_t *x;
        json_object_foreach(v, key, x) kt_mask_json(x, values);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) kt_mask_json(x, values);
    }
}

size_t kt_mask_copy(char *dst, size_t cap, const char *text, size_t len, const json_t *values)
{
    size_t n = len;
    char *m = json_array_size(values) ? kt_mask_text(text, len, values, &n) : NULL;
    const char *src = m ? m : text;
    if (n > cap - 1) {
        n = cap - 1;
        while (n && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memmove(dst, src, n); /* dst may be text itself (masking a buffer in place) */
    dst[n] = 0;
    free(m);
    return n;
}

size_t kt_mask_longest(const json_t *values)
{
    size_t i, best = 0;
    json_t *v;
    json_array_foreach(values, i, v) if (json_string_length(v) > best) best = json_string_length(v);
    return best;
}

size_t kt_mask_split(const char *text, size_t len, size_t want, const json_t *values)
{
    size_t cut = want, i;
    json_t *v;
    for (int moved = 1; moved && cut;) {
        moved = 0;
        json_array_foreach(values, i, v) {
            size_t vl = json_string_length(v);
            const char *s = json_string_value(v);
            /* an occurrence starting at b < cut and ending past it, inside the text */
            for (size_t b = cut > vl - 1 ? cut - (vl - 1) : 0; vl > 1 && b < cut && b + vl <= len; b++) {
                if (!memcmp(text + b, s, vl)) {
                    cut = b;
                    moved = 1;
                    break;
                }
            }
        }
    }
    return cut ? cut : want;
}
