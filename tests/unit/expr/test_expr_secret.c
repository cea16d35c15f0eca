/* secret(), `envs`, encrypt() and decrypt(): the secrets come through the render's environment (kt_env.secrets),
 * every value secret() returns is recorded for masking, and the ciphers are Kestra's EncryptionService (AES-GCM,
 * base64 of IV || ciphertext || tag): texts sealed by Java's javax.crypto open here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/secrets.h"
#include "expr/expr.h"

/* 32 bytes 00..1f; Kestra's test key (24 bytes: AES-192) */
#define KEY256 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY192 "I6EGNzRESu3X3pKZidrqCGOHQFUFC0yK"
/* Sealed by javax.crypto AES/GCM/NoPadding, 12-byte random IV prepended, 128-bit tag (EncryptionService's steps) */
#define JAVA256 "WhfeTXqdDCYyFwaR2wnr+XxIK0Zl5NXs6Kk3lGjpRcbu4mlirs9SRV7C" /* "kite secret é" */
#define JAVA192 "osIvE3EXkhQUAvJ8+0htgcjALnyjkzmmk2oxn0eO+d5vCbOp++bCEA==" /* "Hello World!" */

static kt_secrets *g_secrets;

static int setup(void **state)
{
    (void)state;
    static char *envp[] = {"SECRET_DB_PASSWORD=czNjcjN0IQ==", "ENV_MY_VAR=one", NULL};
    g_secrets = kt_secrets_new(envp, NULL, NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kt_secrets_free(g_secrets);
    return 0;
}

static kt_status render_in(const char *src, const json_t *ctx, kt_env *env, char **out, kt_expr_error *err)
{
    *out = NULL;
    memset(err, 0, sizeof *err);
    return kt_expr_render_string(src, ctx, env, out, err);
}

static char *render_ok(const char *src, kt_env *env)
{
    char *out;
    kt_expr_error err;
    if (render_in(src, NULL, env, &out, &err))
        fail_msg("%s: %s", src, err.message);
    return out;
}

static void expect_error(const char *src, kt_env *env, const char *want)
{
    char *out;
    kt_expr_error err;
    assert_int_not_equal(render_in(src, NULL, env, &out, &err), KT_OK);
    if (!strstr(err.message, want))
        fail_msg("%s: '%s' does not say '%s'", src, err.message, want);
    free(out);
}

static void test_secret_lookup_and_record(void **state)
{
    (void)state;
    kt_env env;
    kt_env_init(&env, 0, 1);
    env.secrets = g_secrets;
    json_t *used = json_array();
    env.secrets_used = used;
    char *out = render_ok("pw={{ secret('DB_PASSWORD') }} {{ secret('db_password') | upper }}", &env);
    assert_string_equal(out, "pw=s3cr3t! S3CR3T!");
    free(out);
    assert_int_equal(json_array_size(used), 1); /* recorded once, for the caller to mask */
    assert_string_equal(json_string_value(json_array_get(used, 0)), "s3cr3t!");
    expect_error("{{ secret('NOPE') }}", &env, "Cannot find secret for key 'NOPE'.");
    expect_error("{{ secret() }}", &env, "The 'secret' function expects an argument 'key'.");
    assert_int_equal(json_array_size(used), 1);
    json_decref(used);
    /* a render without the process's secrets: a missing secret, never a read of the process environment */
    kt_env bare;
    kt_env_init(&bare, 0, 1);
    bare.secrets = NULL;
    expect_error("{{ secret('DB_PASSWORD') }}", &bare, "Cannot find secret for key 'DB_PASSWORD'.");
    expect_error("{{ secret('DB_PASSWORD') }}", NULL, "Cannot find secret for key 'DB_PASSWORD'.");
}

static void test_envs_from_the_environment(void **state)
{
    (void)state;
    kt_env env;
    kt_env_init(&env, 0, 1);
    env.secrets = g_secrets;
    char *out = render_ok("{{ envs.my_var }}/{{ envs.missing ?? 'none' }}", &env);
    assert_string_equal(out, "one/none");
    free(out);
    /* a context's own `envs` wins (a template preview may give one) */
    json_t *ctx = json_pack("{s:{s:s}}", "envs", "my_var", "ctx");
    kt_expr_error err;
    assert_int_equal(render_in("{{ envs.my_var }}", ctx, &env, &out, &err), KT_OK);
    assert_string_equal(out, "ctx");
    free(out);
    json_decref(ctx);
}

static void test_encrypt_decrypt_round_trip(void **state)
{
    (void)state;
    kt_env env;
    kt_env_init(&env, 0, 7);
    char *a = render_ok("{{ encrypt('" KEY256 "', 'top secret') }}", &env);
    kt_env_init(&env, 0, 7);
    char *b = render_ok("{{ encrypt('" KEY256 "', 'top secret') }}", &env);
    kt_env_init(&env, 0, 8);
    char *c = render_ok("{{ encrypt('" KEY256 "', 'top secret') }}", &env);
    assert_string_equal(a, b);     /* the IV comes from the render's seeded source: a replay gives the same text */
    assert_string_not_equal(a, c); /* another seed, another IV */
    assert_int_equal(strlen(a), 4 * ((12 + 10 + 16 + 2) / 3)); /* base64 of IV(12) + 10 bytes + tag(16) */
    char src[512];
    snprintf(src, sizeof src, "{{ decrypt('" KEY256 "', '%s') }}", a);
    char *d = render_ok(src, &env);
    assert_string_equal(d, "top secret");
    free(d);
    /* the same with Kestra's 24-byte test key and an argument by name */
    char *e = render_ok("{{ decrypt(key='" KEY192 "', encrypted=encrypt('" KEY192 "', 'Hello')) }}", &env);
    assert_string_equal(e, "Hello");
    free(e);
    /* an empty text passes through, as EncryptionService does */
    char *f = render_ok("[{{ encrypt('" KEY256 "', '') }}][{{ decrypt('" KEY256 "', '') }}]", &env);
    assert_string_equal(f, "[][]");
    free(f);
    /* a flipped byte fails the tag check */
    a[20] = a[20] == 'A' ? 'B' : 'A';
    snprintf(src, sizeof src, "{{ decrypt('" KEY256 "', '%s') }}", a);
    expect_error(src, &env, "Tag mismatch!");
    free(a);
    free(b);
    free(c);
}

static void test_decrypts_what_java_encrypted(void **state)
{
    (void)state;
    kt_env env;
    kt_env_init(&env, 0, 1);
    char *out = render_ok("{{ decrypt('" KEY256 "', '" JAVA256 "') }}|{{ decrypt('" KEY192 "', '" JAVA192 "') }}",
                          &env);
    assert_string_equal(out, "kite secret \xc3\xa9|Hello World!");
    free(out);
}

static void test_encrypt_errors(void **state)
{
    (void)state;
    kt_env env;
    kt_env_init(&env, 0, 1);
    expect_error("{{ encrypt('toto') }}", &env, "The 'encrypt' function expects two arguments 'key' and 'plaintext'.");
    expect_error("{{ decrypt('toto') }}", &env, "The 'decrypt' function expects two arguments 'key' and 'encrypted'.");
    expect_error("{{ encrypt('AAECAwQ=', 'x') }}", &env, "Invalid AES key length: 5 bytes");
    expect_error("{{ decrypt('" KEY256 "', 'bm90IGEgY2lwaGVy') }}", &env, "not base64 of an IV");
    expect_error("{{ encrypt('" KEY256 "', 'x') }}", NULL, "needs a clock and a random source");
}

/* An error message quoting a value is masked before it is cut to kt_expr_error's size: whatever the length before
 * the secret, no head of it is left at the cut (the message keeps ****** or a part of it). */
static void test_error_masked_before_the_cut(void **state)
{
    (void)state;
    char pad[600];
    for (size_t len = 495; len < 515; len++) {
        memset(pad, 'x', len);
        pad[len] = 0;
        kt_env env;
        kt_env_init(&env, 0, 1);
        env.secrets = g_secrets;
        json_t *used = json_array();
        env.secrets_used = used;
        json_t *ctx = json_pack("{s:s}", "pad", pad);
        char *out = NULL;
        kt_expr_error err;
        assert_int_not_equal(render_in("{{ (pad ~ secret('DB_PASSWORD')) | number }}", ctx, &env, &out, &err), KT_OK);
        if (strstr(err.message, "s3") || (len < 511 && !strstr(err.message, "xxx*")))
            fail_msg("pad %zu: %s", len, err.message + len - 10);
        free(out);
        json_decref(ctx);
        json_decref(used);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_lookup_and_record),
        cmocka_unit_test(test_error_masked_before_the_cut),
        cmocka_unit_test(test_envs_from_the_environment),
        cmocka_unit_test(test_encrypt_decrypt_round_trip),
        cmocka_unit_test(test_decrypts_what_java_encrypted),
        cmocka_unit_test(test_encrypt_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
