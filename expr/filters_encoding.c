/* Encoding and hash filters (reference 3.5 and 6): base64encode/base64decode, md5, sha1, sha256, sha512,
 * urlencode/urldecode. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "expr/filters.h"

KX_FILTER(kx_f_b64enc)
{
    if (json_is_null(in)) return json_null();
    char *s = kx_tostring_dup(in);
    char *e = s ? kt_base64_encode(s, strlen(s)) : NULL;
    json_t *r = json_string(e ? e : "");
    free(s);
    free(e);
    return r;
}

KX_FILTER(kx_f_b64dec)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_string(in)) return kx_fail(env, n, KX_E_PEBBLE, "This filter applies to String\n");
    unsigned char *o;
    size_t on;
    if (kt_base64_decode(json_string_value(in), json_string_length(in), &o, &on))
        return kx_fail(env, n, KX_E_PEBBLE, "Please provide a correctly Base64 encoded string containing an UTF-8 string\n");
    json_t *r = kx_strn((const char *)o, on);
    free(o);
    return r;
}

static json_t *hexdigest(kx_env *env, const kx_node *n, json_t *in, int algo)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_string(in)) return kx_fail(env, n, KX_E_PEBBLE, "Need a string to hash\n");
    uint8_t d[64];
    size_t dl;
    const char *s = json_string_value(in);
    size_t len = json_string_length(in);
    switch (algo) {
    case 0: kx_md5(s, len, d); dl = 16; break;
    case 1: kx_sha1(s, len, d); dl = 20; break;
    case 2: kx_sha256(s, len, d); dl = 32; break;
    default: kx_sha512(s, len, d); dl = 64; break;
    }
    char hex[129];
    for (size_t i = 0; i < dl; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return json_string(hex);
}

KX_FILTER(kx_f_md5) { return hexdigest(env, n, in, 0); }
KX_FILTER(kx_f_sha1) { return hexdigest(env, n, in, 1); }
KX_FILTER(kx_f_sha256) { return hexdigest(env, n, in, 2); }
KX_FILTER(kx_f_sha512) { return hexdigest(env, n, in, 3); }

KX_FILTER(kx_f_urlencode)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_string(in)) return kx_cast_err(env, n, in, "java.lang.String");
    const unsigned char *s = (const unsigned char *)json_string_value(in);
    kt_buf b = {0};
    for (size_t i = 0; i < json_string_length(in); i++) {
        unsigned char c = s[i];
        if (isalnum(c) || c == '.' || c == '-' || c == '*' || c == '_') kt_buf_putc(&b, (char)c);
        else if (c == ' ') kt_buf_putc(&b, '+');
        else kt_buf_printf(&b, "%%%02X", c);
    }
    return kx_take_str(&b);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

KX_FILTER(kx_f_urldecode)
{
    if (json_is_null(in)) return json_null();
    if (!json_is_string(in)) return kx_cast_err(env, n, in, "java.lang.String");
    const char *s = json_string_value(in);
    size_t len = json_string_length(in);
    kt_buf b = {0};
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            kt_buf_putc(&b, ' ');
        } else if (s[i] == '%') {
            if (i + 2 >= len) {
                free(b.p);
                return kx_fail(env, n, KX_E_JAVA, "URLDecoder: Incomplete trailing escape (%%) pattern");
            }
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) {
                free(b.p);
                return kx_fail(env, n, KX_E_JAVA, "URLDecoder: Illegal hex characters in escape (%%) pattern - Error at "
                                                  "index 0 in: \"%.2s\"", s + i + 1);
            }
            kt_buf_putc(&b, (char)(h * 16 + l));
            i += 2;
        } else {
            kt_buf_putc(&b, s[i]);
        }
    }
    return kx_take_str(&b);
}
