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
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/base64.h"
#include "base/secrets.h"
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

/* The key as Java's Base64 decoder and SecretKeySpec + Cipher.init take it; NULL with the error set otherwise. */
static unsigned char *decode_key(kx_env *env, const kx_node *n, const char *b64, size_t *len)
{
    unsigned char *k = NULL;
    if (kt_base64_decode(b64, strlen(b64), &k, len) < 0) {
        kx_fail(env, n, KX_E_PEBBLE, "Illegal base64 character in the key");
        return NULL;
    }
    if (!gcm_for(*len)) {
        kx_fail(env, n, KX_E_PEBBLE, "Invalid AES key length: %zu bytes", *len);
        free(k);
        return NULL;
    }
    return k;
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

static json_t *fn_encrypt(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    (void)in, (void)na;
    if (!a[0] || !a[1])
        return kx_fail(env, n, KX_E_PEBBLE, "The 'encrypt' function expects two arguments 'key' and 'plaintext'.");
    const char *b64 = json_string_value(a[0]), *plain = json_string_value(a[1]);
    if (!b64 || !plain)
        return kx_fail(env, n, KX_E_PEBBLE, "The 'encrypt' function expects two arguments 'key' and 'plaintext'.");
    size_t plen = json_string_length(a[1]);
    if (!plen)
        return json_string("");
    kt_env *amb = kx_ambient(env, n, "encrypt");
    size_t klen = 0;
    unsigned char *key = amb ? decode_key(env, n, b64, &klen) : NULL;
    if (!key)
        return NULL;
    unsigned char *buf = kt_xmalloc(GCM_IV_LEN + plen + GCM_TAG_LEN);
    kt_env_fill(amb, buf, GCM_IV_LEN);
    long m = gcm(1, key, klen, buf, (const unsigned char *)plain, plen, buf + GCM_IV_LEN);
    free(key);
    if (m < 0) {
        free(buf);
        return kx_fail(env, n, KX_E_PEBBLE, "The encryption failed");
    }
    char *out = kt_base64_encode(buf, GCM_IV_LEN + (size_t)m);
    free(buf);
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
    if (!*enc)
        return json_string("");
    size_t klen = 0, elen = 0;
    unsigned char *key = decode_key(env, n, b64, &klen), *data = NULL;
    if (!key)
        return NULL;
    if (kt_base64_decode(enc, strlen(enc), &data, &elen) < 0 || elen < GCM_IV_LEN + GCM_TAG_LEN) {
        free(key);
        free(data);
        return kx_fail(env, n, KX_E_PEBBLE, "The encrypted text is not base64 of an IV, a ciphertext and a tag");
    }
    unsigned char *out = kt_xmalloc(elen);
    long m = gcm(0, key, klen, data, data + GCM_IV_LEN, elen - GCM_IV_LEN, out);
    free(key);
    free(data);
    json_t *r = m < 0 ? kx_fail(env, n, KX_E_PEBBLE, "Tag mismatch!") : kx_strn((const char *)out, (size_t)m);
    free(out);
    return r;
}

const kx_builtin kx_functions_secret[] = {
    {"secret", fn_secret, {"key"}, 0},
    {"encrypt", fn_encrypt, {"key", "plaintext"}, 0},
    {"decrypt", fn_decrypt, {"key", "encrypted"}, 0},
    {NULL, NULL, {NULL}, 0},
};
