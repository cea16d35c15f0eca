/* The S3 backend's pure parts: SigV4 against AWS's published examples (the get-vanilla vectors of the SigV4 test
 * suite, and the GetObject example of the S3 documentation), URL building in virtual-host and path style, the
 * settings refused, metadata names, and the XML reader. No server: these fail on a wrong byte anywhere in the
 * canonical request, the key derivation or the URL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "store/s3_req.h"
#include "store/s3_sign.h"

static const char *EMPTY_SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void test_sha256(void **state)
{
    (void)state;
    char h[65];
    kt_s3sig_sha256_hex("", 0, h);
    assert_string_equal(h, EMPTY_SHA);
    kt_s3sig_sha256_hex("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* get-vanilla: GET / with host and x-amz-date, credentials AKIDEXAMPLE, service "service". */
static void test_sigv4_get_vanilla(void **state)
{
    (void)state;
    kt_s3sig_key key = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service"};
    kt_s3sig_header hs[] = {{"x-amz-date", "20150830T123600Z"}, {"host", "example.amazonaws.com"}};
    kt_s3sig_request rq = {"GET", "/", "", hs, 2, EMPTY_SHA};
    char *auth, *canon, *sts;
    assert_int_equal(kt_s3sig_authorization(&key, "20150830T123600Z", &rq, &auth, &canon, &sts), KT_OK);
    assert_string_equal(canon, "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                               "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_string_equal(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                              "SignedHeaders=host;x-amz-date, "
                              "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    free(auth);
    free(canon);
    free(sts);

    /* get-vanilla-query-order-key-case: the parameters are sorted before signing */
    char *pairs[] = {kt_s3_qparam("Param2", "value2"), kt_s3_qparam("Param1", "value1")};
    char *q = kt_s3sig_query(pairs, 2);
    assert_string_equal(q, "Param1=value1&Param2=value2");
    kt_s3sig_request rq2 = {"GET", "/", q, hs, 2, EMPTY_SHA};
    assert_int_equal(kt_s3sig_authorization(&key, "20150830T123600Z", &rq2, &auth, NULL, NULL), KT_OK);
    assert_non_null(strstr(auth, "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"));
    free(auth);
    free(q);
    free(pairs[0]);
    free(pairs[1]);
    assert_int_equal(kt_s3sig_authorization(&key, "2015-08-30", &rq, &auth, NULL, NULL), KT_EINVAL);
}

/* S3's own example (GetObject with a Range header): the canonical request's hash and the signature. */
static void test_sigv4_s3_get_object(void **state)
{
    (void)state;
    kt_s3sig_key key = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3"};
    kt_s3sig_header hs[] = {{"range", "bytes=0-9"},
                            {"host", "examplebucket.s3.amazonaws.com"},
                            {"x-amz-date", "20130524T000000Z"},
                            {"x-amz-content-sha256", EMPTY_SHA}};
    kt_s3sig_request rq = {"GET", "/test.txt", "", hs, 4, EMPTY_SHA};
    char *auth, *canon, *sts;
    assert_int_equal(kt_s3sig_authorization(&key, "20130524T000000Z", &rq, &auth, &canon, &sts), KT_OK);
    char h[65];
    kt_s3sig_sha256_hex(canon, strlen(canon), h);
    assert_string_equal(h, "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    assert_string_equal(sts, "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                             "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    assert_non_null(strstr(auth, "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                                 "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
    free(auth);
    free(canon);
    free(sts);
}

static void test_uri_encode(void **state)
{
    (void)state;
    kt_buf b = {0};
    kt_s3sig_uri_encode(&b, "a b/ü~x+y=z", 1);
    char *s = kt_buf_take(&b);
    assert_string_equal(s, "a%20b/%C3%BC~x%2By%3Dz");
    free(s);
    kt_s3sig_uri_encode(&b, "a/b", 0);
    s = kt_buf_take(&b);
    assert_string_equal(s, "a%2Fb");
    free(s);
}

static void url_of(const kt_storage_s3_config *c, const char *path, const char *want_url, const char *want_canon,
                   const char *want_host)
{
    kt_s3 s;
    char err[256];
    assert_int_equal(kt_s3_init(&s, c, err, sizeof err), KT_OK);
    char *key = kt_s3_key(&s, path), *url, *canon;
    kt_s3_url(&s, key, NULL, &url, &canon);
    assert_string_equal(url, want_url);
    assert_string_equal(canon, want_canon);
    assert_string_equal(s.host, want_host);
    free(key);
    free(url);
    free(canon);
    kt_s3_clear(&s);
}

/* Virtual host (AWS's default), forced path style, the path style an IP endpoint implies, AWS's regional default
 * endpoint, and the key prefix. */
static void test_url_building(void **state)
{
    (void)state;
    kt_storage_s3_config c = {.endpoint = "https://s3.eu-west-1.amazonaws.com", .region = "eu-west-1",
                              .bucket = "my-bucket", .access_key = "a", .secret_key = "s", .prefix = "kite"};
    url_of(&c, "ns/a b.txt", "https://my-bucket.s3.eu-west-1.amazonaws.com/kite/ns/a%20b.txt", "/kite/ns/a%20b.txt",
           "my-bucket.s3.eu-west-1.amazonaws.com");
    c.force_path_style = 1;
    url_of(&c, "ns/a b.txt", "https://s3.eu-west-1.amazonaws.com/my-bucket/kite/ns/a%20b.txt",
           "/my-bucket/kite/ns/a%20b.txt", "s3.eu-west-1.amazonaws.com");
    c = (kt_storage_s3_config){.endpoint = "http://127.0.0.1:9000/", .bucket = "b.with.dots", .access_key = "a",
                               .secret_key = "s", .prefix = "/p/"};
    url_of(&c, "x", "http://127.0.0.1:9000/b.with.dots/p/x", "/b.with.dots/p/x", "127.0.0.1:9000");
    c = (kt_storage_s3_config){.region = "eu-central-1", .bucket = "data", .access_key = "a", .secret_key = "s"};
    url_of(&c, "a/b", "https://data.s3.eu-central-1.amazonaws.com/a/b", "/a/b", "data.s3.eu-central-1.amazonaws.com");
    c.endpoint = "http://localhost:4568";
    url_of(&c, "a", "http://localhost:4568/data/a", "/data/a", "localhost:4568");

    /* the bucket's own URL (listings) */
    kt_s3 s;
    char err[256], *url, *canon;
    assert_int_equal(kt_s3_init(&s, &c, err, sizeof err), KT_OK);
    kt_s3_url(&s, NULL, "list-type=2", &url, &canon);
    assert_string_equal(url, "http://localhost:4568/data/?list-type=2");
    assert_string_equal(canon, "/data/");
    free(url);
    free(canon);
    kt_s3_clear(&s);
}

static void test_settings_refused(void **state)
{
    (void)state;
    kt_s3 s;
    char err[256];
    kt_storage_s3_config c = {.bucket = "b", .access_key = "a"};
    assert_int_equal(kt_s3_init(&s, &c, err, sizeof err), KT_EINVAL); /* no secret */
    c = (kt_storage_s3_config){.bucket = "My.Bucket", .access_key = "a", .secret_key = "s"};
    assert_int_equal(kt_s3_init(&s, &c, err, sizeof err), KT_EINVAL); /* not a host name: needs path style */
    assert_non_null(strstr(err, "force-path-style"));
    c = (kt_storage_s3_config){.endpoint = "ftp://x", .bucket = "bb", .access_key = "a", .secret_key = "s"};
    assert_int_equal(kt_s3_init(&s, &c, err, sizeof err), KT_EINVAL);
    c.endpoint = "http://host:9000/some/path";
    assert_int_equal(kt_s3_init(&s, &c, err, sizeof err), KT_EINVAL);
}

static void test_meta_names_and_xml(void **state)
{
    (void)state;
    /* Kestra's S3 storage's spelling (MetadataUtils): a bucket shared with Kestra reads the same names */
    char *o = kt_s3_meta_name_out("contentType"), *i = kt_s3_meta_name_in("content_type");
    assert_string_equal(o, "content_type");
    assert_string_equal(i, "contentType");
    free(o);
    free(i);
    o = kt_s3_meta_name_out("expirationDate");
    i = kt_s3_meta_name_in(o);
    assert_string_equal(i, "expirationDate");
    free(o);
    free(i);

    const char *xml = "<R><Contents><Key>a &amp; b&lt;1&gt;.txt</Key></Contents><Contents><Key>c&#x41;</Key>"
                      "</Contents><IsTruncated>false</IsTruncated></R>";
    const char *p = xml, *end = xml + strlen(xml);
    char *k1 = kt_s3_xml_next(&p, end, "Key"), *k2 = kt_s3_xml_next(&p, end, "Key");
    assert_string_equal(k1, "a & b<1>.txt");
    assert_string_equal(k2, "cA");
    assert_null(kt_s3_xml_next(&p, end, "Key"));
    free(k1);
    free(k2);
    assert_int_equal(kt_s3_iso_ms("2009-10-12T17:50:30.000Z"), 1255369830000LL);
    assert_int_equal(kt_s3_iso_ms("nope"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_sigv4_get_vanilla),
        cmocka_unit_test(test_sigv4_s3_get_object),
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_url_building),
        cmocka_unit_test(test_settings_refused),
        cmocka_unit_test(test_meta_names_and_xml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
