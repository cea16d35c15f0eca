/* A store URL as Kite prints it (store/store_url.c): the password is masked wherever a URL may carry it, the rest kept;
 * libpq's own messages about a malformed URL (which quote it whole) lose the password through kt_store_open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"

static void test_redact(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"postgresql://kite:s3cret@127.0.0.1:5432/kite", "postgresql://kite:****@127.0.0.1:5432/kite"},
        {"postgres://u:p@h/db", "postgres://u:****@h/db"},
        /* no password: unchanged */
        {"postgresql://kite@127.0.0.1:5432/kite", "postgresql://kite@127.0.0.1:5432/kite"},
        {"postgresql://127.0.0.1:5432/kite", "postgresql://127.0.0.1:5432/kite"},
        {"postgresql:///kite?host=/run/pg", "postgresql:///kite?host=/run/pg"},
        /* an empty password is still a password field */
        {"postgresql://kite:@h/db", "postgresql://kite:****@h/db"},
        /* a password holding '@' or ':' unescaped is masked whole (the credentials end at the last '@') */
        {"postgresql://kite:a@b:c@h:1/db", "postgresql://kite:****@h:1/db"},
        /* percent-encoded */
        {"postgresql://kite:p%40ss%2Fw@h/db", "postgresql://kite:****@h/db"},
        /* the password as a parameter, alone or among others, any case; sslpassword too */
        {"postgresql://h/db?password=xyz", "postgresql://h/db?password=****"},
        {"postgresql://u@h/db?sslmode=disable&PASSWORD=xyz&application_name=kite",
         "postgresql://u@h/db?sslmode=disable&PASSWORD=****&application_name=kite"},
        {"postgresql://u:a@h/db?sslpassword=k&options=-csearch_path%3Dkt_1",
         "postgresql://u:****@h/db?sslpassword=****&options=-csearch_path%3Dkt_1"},
        /* the '@' of a parameter is not the credentials' end */
        {"postgresql://h/db?application_name=a@b", "postgresql://h/db?application_name=a@b"},
        /* several hosts */
        {"postgresql://u:pw@h1:5432,h2:5433/db", "postgresql://u:****@h1:5432,h2:5433/db"},
        /* directories are printed as they are */
        {"/var/lib/kite", "/var/lib/kite"},
        {"sqlite:///var/lib/kite", "sqlite:///var/lib/kite"},
        {"./kite-data", "./kite-data"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[256];
        memset(out, 'Z', sizeof out);
        kt_store_redact(cases[i].in, out, sizeof out);
        if (strcmp(out, cases[i].want))
            fail_msg("case %zu: redact(%s) = '%s', want '%s'", i, cases[i].in, out, cases[i].want);
    }
}

/* A buffer too small cuts the text, never inside a password (the secret is not copied at all). */
static void test_redact_short_buffer(void **state)
{
    (void)state;
    const char *url = "postgresql://kite:TopSecretPassword@h/db";
    for (size_t cap = 1; cap < 48; cap++) {
        char out[64];
        memset(out, 'Z', sizeof out);
        kt_store_redact(url, out, cap);
        assert_true(strlen(out) < cap);
        assert_null(strstr(out, "Top"));
        assert_int_equal(out[cap], 'Z'); /* nothing written past cap */
    }
    char out[8] = "x";
    kt_store_redact(NULL, out, sizeof out);
    assert_string_equal(out, "");
}

/* kt_store_scrub on messages that quote the URL or the password: the whole URL becomes its redacted form, a password
 * alone (as written or decoded) becomes ****. */
static void test_scrub(void **state)
{
    (void)state;
    const char *url = "postgresql://kite:p%40ss@[::1/kite";
    char msg[256];
    snprintf(msg, sizeof msg, "end of string reached when looking for matching \"]\" in URI: \"%s\"", url);
    kt_store_scrub(url, msg, sizeof msg);
    assert_string_equal(msg, "end of string reached when looking for matching \"]\" in URI: "
                             "\"postgresql://kite:****@[::1/kite\"");
    snprintf(msg, sizeof msg, "password p@ss and p%%40ss refused for kite");
    kt_store_scrub(url, msg, sizeof msg);
    assert_string_equal(msg, "password **** and **** refused for kite");
    /* a message without the password is untouched; so is any message for a URL without one */
    snprintf(msg, sizeof msg, "connection refused");
    kt_store_scrub(url, msg, sizeof msg);
    assert_string_equal(msg, "connection refused");
    snprintf(msg, sizeof msg, "bad postgresql://kite@h/db");
    kt_store_scrub("postgresql://kite@h/db", msg, sizeof msg);
    assert_string_equal(msg, "bad postgresql://kite@h/db");
    /* the parameter's value too, and a URL quoted twice */
    const char *purl = "postgresql://h/db?password=Wh4tever&port=x";
    snprintf(msg, sizeof msg, "\"%s\" and \"%s\"", purl, purl);
    kt_store_scrub(purl, msg, sizeof msg);
    assert_string_equal(msg, "\"postgresql://h/db?password=****&port=x\" and \"postgresql://h/db?password=****&port=x\"");
}

/* kt_store_open on malformed URLs and unreachable servers: it fails with libpq's reason, the password nowhere in it.
 * No server is needed: libpq refuses the URL before connecting, or finds nobody on port 1. */
static void test_open_error_has_no_password(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "postgresql://kite:Sekr1tPw@[::1/kite",                    /* unterminated IPv6 address: libpq quotes the URI */
        "postgresql://kite:Sekr1tPw@127.0.0.1:notaport/kite",      /* a bad port */
        "postgresql://kite:Sekr1tPw@127.0.0.1/kite?password",      /* a parameter without '=' */
        "postgresql://kite@127.0.0.1/kite?password=Sekr1tPw&x=%zz", /* a bad %-escape after the password */
        "postgresql://kite:Sekr1tPw@127.0.0.1:1/kite?connect_timeout=2", /* nobody listening */
    };
    for (size_t i = 0; i < sizeof urls / sizeof *urls; i++) {
        kt_store *s = NULL;
        char err[512] = "";
        assert_int_not_equal(kt_store_open(urls[i], NULL, &s, err, sizeof err), KT_OK);
        assert_null(s);
        if (!err[0] || strstr(err, "Sekr1tPw"))
            fail_msg("case %zu: '%s'", i, err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_redact_short_buffer),
        cmocka_unit_test(test_scrub),
        cmocka_unit_test(test_open_error_has_no_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
