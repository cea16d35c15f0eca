/* secret(), encrypt() and decrypt() (Kestra's SecretFunction, EncryptFunction, DecryptFunction).
 *
 * secret(key) looks the name up in the process's secrets, which come through the render's environment
 * (kt_env.secrets, base/secrets.h): the engine never reads the process environment itself. Every value it returns
 * is recorded in kt_env.secrets_used, as Kestra's function hands it to the run's logger (addSecretConsumer), so the
 * caller masks it wherever the run shows text.
 *
 * encrypt(key, plaintext) / decrypt(key, encrypted) are Kestra's EncryptionService: AES/GCM/NoPadding with the
 * base64 key given (16, 24 or 32 bytes), a 12-byte IV, a 128-bit tag; the result is base64 of IV || ciphertext ||
 * tag, and an empty text passes through unchanged. The IV comes from the render's random source (kt_env_fill):
 * the engine draws no system randomness; a live render is seeded from the system per event (base/env.h). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/base64.h"
#include "base/secrets.h"
#include "expr/expr.h"
#include "expr/expr_int.h"

#define GCM_IV_LEN 12
#define GCM_TAG_LEN 16

static json_t *fn_secret(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    (void)in, (void)na;
    const char *key = json_string_value(a[0]);
    if (!key)
        return kx_fail(env, n, KX_E_PEBBLE, "The 'secret' function expects an argument 'key'.");
    const char *v = env->ambient ? kt_secrets_find(env->ambient->secrets, key) : NULL;
    if (!v)
        return kx_fail(env, n, KX_E_PEBBLE, "Cannot find secret for key '%s'.", key);
    if (env->ambient)
        kt_mask_add(env->ambient->secrets_used, v);
    return kx_strn(v, strlen(v));
}

static const EVP_CIPHER *gcm_for(size_t keylen)
{
    return keylen == 16 ? EVP_aes_128_gcm() : keylen == 24 ? EVP_aes_192_gcm() : keylen == 32 ? EVP_aes_256_gcm() : NULL;
}

/* AES-GCM one shot: enc 1 seals in -> out (ciphertext || tag), enc 0 opens (in = ciphertext || tag). Returns the
 * output length, -1 on failure (a wrong key or altered text fails the tag check). */
static long gcm(int enc, const unsigned char *key, size_t keylen, const unsigned char *iv, const unsigned char *in,
                size_t inlen, unsigned char *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    long total = -1;
    if (!c)
        return -1;
    if (!enc && inlen < GCM_TAG_LEN)
        goto done;
    size_t body = enc ? inlen : inlen - GCM_TAG_LEN;
    if (EVP_CipherInit_ex(c, gcm_for(keylen), NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, GCM_IV_LEN, NULL) != 1 ||
        EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc) != 1)
        goto done;
    if (body && EVP_CipherUpdate(c, out, &len, in, (int)body) != 1)
        goto done;
    if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN, (void *)(in + body)) != 1)
        goto done;
    if (EVP_CipherFinal_ex(c, out + len, &fin) != 1)
        goto done;
    total = len + fin;
    if (enc) {
        if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN, out + total) != 1)
            total = -1;
        else
            total += GCM_TAG_LEN;
    }
done:
    EVP_CIPHER_CTX_free(c);
    return total;
}

int kt_expr_encrypt(const char *key_b64, const char *plain, size_t len, kt_env *env, char **out, char *err,
                    size_t errcap)
{
    *out = NULL;
    if (!len) {
        *out = kt_xstrdup("");
        return 0;
    }
    size_t klen = 0;
    unsigned char *key = NULL;
    if (kt_base64_decode(key_b64, strlen(key_b64), &key, &klen) < 0 || !gcm_for(klen)) {
        snprintf(err, errcap, key ? "Invalid AES key length: %zu bytes" : "Illegal base64 character in the key", klen);
        free(key);
        return -1;
    }
    unsigned char *buf = kt_xmalloc(GCM_IV_LEN + len + GCM_TAG_LEN);
    kt_env_fill(env, buf, GCM_IV_LEN);
    long m = gcm(1, key, klen, buf, (const unsigned char *)plain, len, buf + GCM_IV_LEN);
    free(key);
    if (m >= 0)
        *out = kt_base64_encode(buf, GCM_IV_LEN + (size_t)m);
    else
        snprintf(err, errcap, "The encryption failed");
    free(buf);
    return m < 0 ? -1 : 0;
}

int kt_expr_decrypt(const char *key_b64, const char *enc, char **out, size_t *outlen, char *err, size_t errcap)
{
    *out = NULL;
    *outlen = 0;
    if (!*enc) {
        *out = kt_xstrdup("");
        return 0;
    }
    size_t klen = 0, elen = 0;
    unsigned char *key = NULL, *data = NULL;
    if (kt_base64_decode(key_b64, strlen(key_b64), &key, &klen) < 0 || !gcm_for(klen)) {
        snprintf(err, errcap, key ? "Invalid AES key length: %zu bytes" : "Illegal base64 character in the key", klen);
        free(key);
        return -1;
    }
    if (kt_base64_decode(enc, strlen(enc), &data, &elen) < 0 || elen < GCM_IV_LEN + GCM_TAG_LEN) {
        snprintf(err, errcap, "The encrypted text is not base64 of an IV, a ciphertext and a tag");
        free(key);
        free(data);
        return -1;
    }
    unsigned char *plain = kt_xmalloc(elen + 1);
    long m = gcm(0, key, klen, data, data + GCM_IV_LEN, elen - GCM_IV_LEN, plain);
    free(key);
    free(data);
    if (m < 0) {
        snprintf(err, errcap, "Tag mismatch!");
        free(plain);
        return -1;
    }
    plain[m] = 0;
    *out = (char *)plain;
    *outlen = (size_t)m;
    return 0;
}

static json_t *fn_encrypt(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    (void)in, (void)na;
    const char *b64 = json_string_value(a[0]), *plain = json_string_value(a[1]);
    if (!b64 || !plain)
        return kx_fail(env, n, KX_E_PEBBLE, "The 'encrypt' function expects two arguments 'key' and 'plaintext'.");
    kt_env *amb = json_string_length(a[1]) ? kx_ambient(env, n, "encrypt") : NULL;
    if (json_string_length(a[1]) && !amb)
        return NULL;
    char *out = NULL, err[256] = "";
    if (kt_expr_encrypt(b64, plain, json_string_length(a[1]), amb, &out, err, sizeof err))
        return kx_fail(env, n, KX_E_PEBBLE, "%s", err);
    json_t *r = json_string(out);
    free(out);
    return r;
}

static json_t *fn_decrypt(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    (void)in, (void)na;
    const char *b64 = json_string_value(a[0]), *enc = json_string_value(a[1]);
    if (!b64 || !enc)
        return kx_fail(env, n, KX_E_PEBBLE, "The 'decrypt' function expects two arguments 'key' and 'encrypted'.");
    char *out = NULL, err[256] = "";
    size_t len = 0;
    if (kt_expr_decrypt(b64, enc, &out, &len, err, sizeof err))
        return kx_fail(env, n, KX_E_PEBBLE, "%s", err);
    json_t *r = kx_strn(out, len);
    free(out);
    return r;
}

const kx_builtin kx_functions_secret[] = {
    {"secret", fn_secret, {"key"}, 0},
    {"encrypt", fn_encrypt, {"key", "plaintext"}, 0},
    {"decrypt", fn_decrypt, {"key", "encrypted"}, 0},
    {NULL, NULL, {NULL}, 0},
};
