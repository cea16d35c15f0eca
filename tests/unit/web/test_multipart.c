/* multipart/form-data: fields, files, quoted boundaries, line-end edge cases, malformed bodies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "web/multipart.h"

#define CT(b) "multipart/form-data; boundary=" b

static kt_multipart *parse_ok(const char *ct, const char *body, size_t len)
{
    kt_multipart *m = NULL;
    char err[256] = "";
    kt_status st = kt_multipart_parse(ct, body, len, &m, err, sizeof(err));
    if (st != KT_OK)
        fail_msg("parse failed: %s", err);
    return m;
}

static void expect_err(const char *ct, const char *body, size_t len, const char *needle)
{
    kt_multipart *m = (kt_multipart *)1;
    char err[256] = "";
    assert_int_equal(kt_multipart_parse(ct, body, len, &m, err, sizeof(err)), KT_EINVAL);
    assert_null(m);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void assert_data(const kt_multipart_part *p, const char *want, size_t wlen)
{
    assert_non_null(p);
    assert_int_equal(p->len, wlen);
    assert_memory_equal(p->data, want, wlen);
}

static void test_fields_and_files(void **state)
{
    (void)state;
    /* what curl -F sends: preamble-free, CRLF everywhere */
    static const char body[] = "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"string\"\r\n"
                               "\r\n"
                               "hello\r\n"
                               "--XyZ\r\n"
                               "content-disposition: form-data; name=\"file\"; filename=\"a b.txt\"\r\n"
                               "Content-Type: text/plain\r\n"
                               "\r\n"
                               "line1\r\nline2\r\n\r\n"
                               "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"empty\"\r\n"
                               "\r\n"
                               "\r\n"
                               "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"bin\"; filename=\"x.bin\"\r\n"
                               "Content-Type: application/octet-stream\r\n"
                               "\r\n"
                               "\0\x01\xff--Xy\r\n--XyZa\r\n"
                               "--XyZ--\r\n"
                               "epilogue is ignored";
    kt_multipart *m = parse_ok(CT("XyZ"), body, sizeof(body) - 1);
    assert_int_equal(kt_multipart_count(m), 4);
    const kt_multipart_part *p = kt_multipart_get(m, 0);
    assert_string_equal(p->name, "string");
    assert_null(p->filename);
    assert_null(p->content_type);
    assert_data(p, "hello", 5);
    p = kt_multipart_get(m, 1);
    assert_string_equal(p->name, "file");
    assert_string_equal(p->filename, "a b.txt");
    assert_string_equal(p->content_type, "text/plain");
    assert_data(p, "line1\r\nline2\r\n", 14);
    assert_data(kt_multipart_find(m, "empty"), "", 0);
    /* binary data, and a boundary look-alike that is followed by neither "--" nor a line end */
    p = kt_multipart_find(m, "bin");
    assert_data(p, "\0\x01\xff--Xy\r\n--XyZa", 15);
    assert_null(kt_multipart_get(m, 4));
    assert_null(kt_multipart_find(m, "nope"));
    kt_multipart_free(m);
}

static void test_boundary_forms(void **state)
{
    (void)state;
    /* quoted boundary with a space, other parameters around it, preamble before the first delimiter */
    static const char body[] = "This is the preamble.\r\n"
                               "--a b:c\r\n"
                               "Content-Disposition: form-data; name=\"k\"\r\n\r\n"
                               "v\r\n"
                               "--a b:c--";
    kt_multipart *m = parse_ok("Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b:c\"; x=y", body, sizeof(body) - 1);
    assert_int_equal(kt_multipart_count(m), 1);
    assert_data(kt_multipart_get(m, 0), "v", 1);
    kt_multipart_free(m);

    /* no parts at all */
    m = parse_ok(CT("b"), "--b--\r\n", 7);
    assert_int_equal(kt_multipart_count(m), 0);
    kt_multipart_free(m);
}

static void test_line_ends(void **state)
{
    (void)state;
    /* bare LF throughout (some hand-written clients), transport padding after the boundary */
    static const char lf[] = "--b  \n"
                             "Content-Disposition: form-data; name=\"a\"\n\n"
                             "1\n2\n"
                             "--b\n"
                             "Content-Disposition: form-data; name=\"b\"\n\n"
                             "x\n"
                             "--b--\n";
    kt_multipart *m = parse_ok(CT("b"), lf, sizeof(lf) - 1);
    assert_int_equal(kt_multipart_count(m), 2);
    assert_data(kt_multipart_get(m, 0), "1\n2", 3);
    assert_data(kt_multipart_get(m, 1), "x", 1);
    kt_multipart_free(m);

    /* CRLF: a lone LF or CR inside the data is data; padding before CRLF on a middle delimiter */
    static const char crlf[] = "--b\r\n"
                               "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
                               "x\n--b\ry\r\r\n"
                               "--b \t\r\n"
                               "Content-Disposition: form-data; name=\"c\"\r\n\r\n"
                               "z\r\n"
                               "--b--";
    m = parse_ok(CT("b"), crlf, sizeof(crlf) - 1);
    assert_int_equal(kt_multipart_count(m), 2);
    assert_data(kt_multipart_get(m, 0), "x\n--b\ry\r", 8);
    assert_data(kt_multipart_get(m, 1), "z", 1);
    kt_multipart_free(m);
}

static void test_disposition_params(void **state)
{
    (void)state;
    static const char body[] = "--b\r\n"
                               "Content-Disposition: form-data; filename=\"q\\\"uote.txt\"; name=\"f\"\r\n"
                               "X-Other: ignored\r\n\r\n"
                               "d\r\n"
                               "--b\r\n"
                               "Content-Disposition: form-data; name=g; filename=\"plain.txt\"; "
                               "filename*=UTF-8''%C3%A9t%C3%A9.txt\r\n\r\n"
                               "e\r\n"
                               "--b--\r\n";
    kt_multipart *m = parse_ok(CT("b"), body, sizeof(body) - 1);
    assert_string_equal(kt_multipart_get(m, 0)->name, "f");
    assert_string_equal(kt_multipart_get(m, 0)->filename, "q\"uote.txt");
    assert_string_equal(kt_multipart_get(m, 1)->name, "g");
    assert_string_equal(kt_multipart_get(m, 1)->filename, "\xc3\xa9t\xc3\xa9.txt");
    kt_multipart_free(m);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_err("application/json", "", 0, "not multipart");
    expect_err(NULL, "", 0, "not multipart");
    expect_err("multipart/form-data", "--b--", 5, "no boundary");
    expect_err("multipart/form-data; boundary=\"unterminated", "--b--", 5, "malformed boundary");
    expect_err(CT("0123456789012345678901234567890123456789012345678901234567890123456789X"), "", 0, "too long");
    expect_err(CT("b"), "no delimiter here", 17, "opening boundary");
    expect_err(CT("b"), "", 0, "opening boundary");
    /* truncated: no closing delimiter */
    static const char trunc[] = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc";
    expect_err(CT("b"), trunc, sizeof(trunc) - 1, "closing boundary");
    /* headers never end */
    static const char nohdrend[] = "--b\r\nContent-Disposition: form-data; name=\"a\"";
    expect_err(CT("b"), nohdrend, sizeof(nohdrend) - 1, "headers not terminated");
    /* garbage right after the boundary */
    static const char garbage[] = "--bXX\r\n\r\n--b--";
    expect_err(CT("b"), garbage, sizeof(garbage) - 1, "byte 3");
    /* header without colon, missing disposition, missing name */
    static const char nocolon[] = "--b\r\nbroken header\r\n\r\nx\r\n--b--";
    expect_err(CT("b"), nocolon, sizeof(nocolon) - 1, "byte 5");
    static const char nodisp[] = "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--";
    expect_err(CT("b"), nodisp, sizeof(nodisp) - 1, "no Content-Disposition");
    static const char noname[] = "--b\r\nContent-Disposition: form-data; filename=\"x\"\r\n\r\nx\r\n--b--";
    expect_err(CT("b"), noname, sizeof(noname) - 1, "has no name");
    static const char badq[] = "--b\r\nContent-Disposition: form-data; name=\"x\r\n\r\nx\r\n--b--";
    expect_err(CT("b"), badq, sizeof(badq) - 1, "malformed Content-Disposition");
    /* the second part is broken: the error names it */
    static const char second[] = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b\r\n\r\n2\r\n--b--";
    expect_err(CT("b"), second, sizeof(second) - 1, "part 2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_and_files),   cmocka_unit_test(test_boundary_forms),
        cmocka_unit_test(test_line_ends),          cmocka_unit_test(test_disposition_params),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
