/* The secrets and envs of an environment block as Kestra OSS reads them (SecretService, RunContextCache) and the
 * masking of secret values in text and JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/secrets.h"

static void test_secret_names_and_decoding(void **state)
{
    (void)state;
    char *envp[] = {
        "SECRET_DB_PASSWORD=czNjcjN0IQ==",     /* s3cr3t! */
        "SECRET_wrapped=aGVsbG8g\nd29ybGQ=",  /* line breaks inside the base64 are dropped, as Kestra's \R */
        "SECRET_BROKEN=not*base64",            /* skipped, named in the warning */
        "SECRET_=eA==",                        /* no name: not a secret */
        "PATH=/usr/bin",
        NULL,
    };
    char *warn = NULL;
    kt_secrets *s = kt_secrets_new(envp, NULL, NULL, &warn);
    assert_string_equal(kt_secrets_find(s, "DB_PASSWORD"), "s3cr3t!");
    assert_string_equal(kt_secrets_find(s, "db_password"), "s3cr3t!"); /* Kestra upper-cases both sides */
    assert_string_equal(kt_secrets_find(s, "WRAPPED"), "hello world");
    assert_null(kt_secrets_find(s, "BROKEN"));
    assert_null(kt_secrets_find(s, "PATH"));
    assert_null(kt_secrets_find(s, ""));
    assert_non_null(warn);
    assert_non_null(strstr(warn, "SECRET_BROKEN"));
    assert_null(strstr(warn, "DB_PASSWORD"));
    assert_null(kt_secrets_key(s));
    free(warn);
    kt_secrets_free(s);
}

static void test_envs_prefix_and_case(void **state)
{
    (void)state;
    char *envp[] = {"ENV_MY_VAR=one", "ENV_Other=two=2", "KESTRA_STORAGE_TYPE=local", "ENV_=x", "MY_X=3", NULL};
    kt_secrets *s = kt_secrets_new(envp, NULL, "a2V5", NULL);
    const json_t *e = kt_secrets_envs(s);
    assert_int_equal(json_object_size(e), 2);
    assert_string_equal(json_string_value(json_object_get(e, "my_var")), "one");
    assert_string_equal(json_string_value(json_object_get(e, "other")), "two=2");
    assert_string_equal(kt_secrets_key(s), "a2V5");
    kt_secrets_free(s);
    s = kt_secrets_new(envp, "MY_", NULL, NULL); /* variables.env-vars-prefix */
    assert_int_equal(json_object_size(kt_secrets_envs(s)), 1);
    assert_string_equal(json_string_value(json_object_get(kt_secrets_envs(s), "x")), "3");
    kt_secrets_free(s);
}

static void test_mask_text(void **state)
{
    (void)state;
    json_t *used = json_array();
    kt_mask_add(used, "pass");
    kt_mask_add(used, "password123");
    kt_mask_add(used, "pass"); /* once */
    kt_mask_add(used, "");     /* an empty secret would mask everything between characters: ignored */
    kt_mask_add(used, NULL);
    assert_int_equal(json_array_size(used), 2);
    const char *in = "user=bob password123 and pass, passpass.";
    size_t n = 0;
    char *out = kt_mask_text(in, strlen(in), used, &n);
    /* the longer secret masked whole, not as "******word123"; adjacent occurrences are one masked run */
    assert_string_equal(out, "user=bob ****** and ******, ******.");
    assert_int_equal(n, strlen(out));
    free(out);
    out = kt_mask_text("nothing here", 12, used, NULL);
    assert_string_equal(out, "nothing here");
    free(out);
    out = kt_mask_text("pass", 4, NULL, NULL);
    assert_string_equal(out, "pass");
    free(out);
    json_decref(used);
    /* overlapping secrets: no part of either shows (the earlier, shorter match does not let the rest of the longer
     * one through) */
    used = json_array();
    kt_mask_add(used, "abc");
    kt_mask_add(used, "bcdefgh");
    out = kt_mask_text("x abcdefgh y", 12, used, NULL);
    assert_string_equal(out, "x ****** y");
    free(out);
    out = kt_mask_text("", 0, used, &n);
    assert_string_equal(out, "");
    assert_int_equal(n, 0);
    free(out);
    json_decref(used);
}

static void test_mask_multi_line_secret(void **state)
{
    (void)state;
    json_t *used = json_array();
    kt_mask_add(used, "-----BEGIN KEY-----\r\nMIIEabcd\nxy\n-----END KEY-----\n");
    /* the whole value, then its lines of 4 bytes or more (not "xy": it would mask too much) */
    assert_int_equal(json_array_size(used), 4);
    const char *line = "echo: MIIEabcd and xy";
    char *out = kt_mask_text(line, strlen(line), used, NULL);
    assert_string_equal(out, "echo: ****** and xy");
    free(out);
    json_decref(used);
}

static void test_mask_json(void **state)
{
    (void)state;
    json_t *used = json_pack("[s]", "hunter2");
    json_t *v = json_pack("{s:s, s:[s, i, {s:s}], s:s}", "value", "hunter2", "list", "x hunter2 y", 7, "deep",
                          "the pw is hunter2", "hunter2", "key kept");
    kt_mask_json(v, used);
    assert_string_equal(json_string_value(json_object_get(v, "value")), "******");
    json_t *l = json_object_get(v, "list");
    assert_string_equal(json_string_value(json_array_get(l, 0)), "x ****** y");
    assert_int_equal(json_integer_value(json_array_get(l, 1)), 7);
    assert_string_equal(json_string_value(json_object_get(json_array_get(l, 2), "deep")), "the pw is ******");
    assert_string_equal(json_string_value(json_object_get(v, "hunter2")), "key kept"); /* keys are not values */
    json_decref(v);
    json_decref(used);
}

/* A fixed buffer gets the masked text, cut after: a secret crossing the cut never leaves its head behind. */
static void test_mask_copy_masks_before_the_cut(void **state)
{
    (void)state;
    json_t *used = json_array();
    kt_mask_add(used, "TOPSECRET");
    char text[64], dst[16];
    /* "0123456789TOPSECRET": a plain cut at 15 bytes would keep "01234567890TOPS" */
    snprintf(text, sizeof text, "0123456789TOPSECRET tail");
    size_t n = kt_mask_copy(dst, sizeof dst, text, strlen(text), used);
    assert_string_equal(dst, "0123456789*****");
    assert_int_equal(n, 15);
    assert_null(strstr(dst, "TOP"));
    /* the same buffer as source and destination (a message masked in place) */
    char inplace[64];
    snprintf(inplace, sizeof inplace, "a TOPSECRET b");
    kt_mask_copy(inplace, sizeof inplace, inplace, strlen(inplace), used);
    assert_string_equal(inplace, "a ****** b");
    /* no secrets: a bounded copy, cut at a UTF-8 boundary (the 2-byte e-acute at bytes 14-15 does not fit) */
    n = kt_mask_copy(dst, sizeof dst, "abcdefghijklmn\xc3\xa9", 16, NULL);
    assert_string_equal(dst, "abcdefghijklmn");
    assert_int_equal(n, 14);
    json_decref(used);
}

/* A stream split at `want` moves back to the start of a secret crossing it, and of the next one chained before it. */
static void test_mask_split_keeps_secrets_whole(void **state)
{
    (void)state;
    json_t *used = json_array();
    kt_mask_add(used, "SECRET");
    kt_mask_add(used, "xyz");
    assert_int_equal(kt_mask_longest(used), 6);
    const char *t = "aaaaaaaaSECRETbbbb";
    assert_int_equal(kt_mask_split(t, strlen(t), 10, used), 8);  /* inside SECRET: before it */
    assert_int_equal(kt_mask_split(t, strlen(t), 8, used), 8);   /* at its start: stays */
    assert_int_equal(kt_mask_split(t, strlen(t), 14, used), 14); /* at its end: stays */
    assert_int_equal(kt_mask_split(t, strlen(t), 5, used), 5);   /* nowhere near */
    /* a secret right after another: the split moves to the second one's start, which the first one ends at */
    const char *chain = "aaaxyzSECRETbb";
    assert_int_equal(kt_mask_split(chain, strlen(chain), 8, used), 6);
    /* a secret only partly in the text (its end not read yet) does not move the split: the caller reads further */
    const char *open = "aaaaaaaaSEC";
    assert_int_equal(kt_mask_split(open, strlen(open), 10, used), 10);
    /* occurrences chained from the start: nothing better than `want` */
    json_t *aa = json_array();
    kt_mask_add(aa, "aaaa");
    assert_int_equal(kt_mask_split("aaaaaaaaaa", 10, 6, aa), 6);
    assert_int_equal(kt_mask_split("bbaaaaaaaa", 10, 6, aa), 2);
    json_decref(aa);
    json_decref(used);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_names_and_decoding),
        cmocka_unit_test(test_envs_prefix_and_case),
        cmocka_unit_test(test_mask_text),
        cmocka_unit_test(test_mask_multi_line_secret),
        cmocka_unit_test(test_mask_json),
        cmocka_unit_test(test_mask_copy_masks_before_the_cut),
        cmocka_unit_test(test_mask_split_keeps_secrets_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
