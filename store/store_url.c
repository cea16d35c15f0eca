/* A store's location as it may be shown (logs, errors, the API): the password of a URL never leaves the process.
 * PostgreSQL URLs carry it in two places, libpq's user:PASSWORD@ and a password= (or sslpassword=) parameter;
 * both are replaced by ****, the rest is kept so the location still says which server and database it is. */
#include "store/store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KT_URL_MASK "****"
#define KT_URL_MAX_SECRETS 8

typedef struct kt_url_span {
    size_t at, len;
} kt_url_span;

/* The secrets of url, in order: the userinfo password, then each password parameter's value. The credentials end
 * at the LAST '@' before the query (a password holding an unescaped '@' is still masked whole); the password starts
 * after the first ':' of them. Returns how many were found. */
static size_t kt_url_secrets(const char *url, kt_url_span *out, size_t cap)
{
    size_t n = 0;
    const char *auth = strstr(url, "://");
    if (!auth)
        return 0;
    auth += 3;
    size_t qpos = strcspn(auth, "?");
    const char *at = NULL;
    for (const char *p = auth; p < auth + qpos; p++)
        if (*p == '@')
            at = p;
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon && n < cap)
        out[n++] = (kt_url_span){(size_t)(colon + 1 - url), (size_t)(at - colon - 1)};
    if (!auth[qpos])
        return n;
    for (const char *p = auth + qpos + 1; *p && n < cap;) {
        size_t plen = strcspn(p, "&");
        const char *eq = memchr(p, '=', plen);
        if (eq) {
            size_t klen = (size_t)(eq - p);
            /* password, sslpassword, and any other *password key libpq may grow */
            if (klen >= 8 && !strncasecmp(eq - 8, "password", 8))
                out[n++] = (kt_url_span){(size_t)(eq + 1 - url), plen - klen - 1};
        }
        p += plen;
        if (*p == '&')
            p++;
    }
    return n;
}

void kt_store_redact(const char *where, char *out, size_t cap)
{
    if (!cap)
        return;
    out[0] = 0;
    if (!where)
        return;
    /* only the text around the secrets is copied, so a cut (cap too small) never leaves part of one */
    kt_url_span sp[KT_URL_MAX_SECRETS];
    size_t ns = kt_url_secrets(where, sp, KT_URL_MAX_SECRETS), o = 0, from = 0;
    for (size_t i = 0; i <= ns && o < cap - 1; i++) {
        size_t upto = i < ns ? sp[i].at : strlen(where);
        int w = snprintf(out + o, cap - o, "%.*s%s", (int)(upto - from), where + from, i < ns ? KT_URL_MASK : "");
        if (w < 0)
            return;
        o += (size_t)w < cap - o ? (size_t)w : cap - 1 - o;
        if (i < ns)
            from = sp[i].at + sp[i].len;
    }
}

/* %XX decoding of a URL part (libpq decodes the userinfo and the parameters before using them). */
static void kt_url_decode(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        if (s[i] == '%' && i + 2 < len && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            out[o++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = 0;
}

/* Every occurrence of needle[0..nlen) in msg becomes KT_URL_MASK, within cap. */
static void kt_url_mask_in(char *msg, size_t cap, const char *needle, size_t nlen)
{
    if (!nlen)
        return;
    char buf[2048];
    size_t o = 0;
    const char *p = msg;
    for (const char *hit; (hit = strstr(p, needle)) && o < sizeof buf; p = hit + nlen) {
        int w = snprintf(buf + o, sizeof buf - o, "%.*s%s", (int)(hit - p), p, KT_URL_MASK);
        if (w < 0 || (size_t)w >= sizeof buf - o) {
            o = sizeof buf;
            break;
        }
        o += (size_t)w;
    }
    if (p == msg) /* no occurrence */
        return;
    if (o < sizeof buf)
        snprintf(buf + o, sizeof buf - o, "%s", p);
    else /* too long to rebuild: cut the message where the rebuilt part ended, which holds no secret */
        buf[sizeof buf - 1] = 0;
    snprintf(msg, cap, "%s", buf);
}

void kt_store_scrub(const char *where, char *msg, size_t cap)
{
    if (!where || !msg || !cap)
        return;
    /* the whole URL quoted by a parser's message first, so the rest of it stays readable */
    char red[2048];
    kt_store_redact(where, red, sizeof red);
    size_t wlen = strlen(where), rlen = strlen(red);
    if (strcmp(red, where)) {
        for (char *p = msg, *hit; (hit = strstr(p, where));) {
            char tail[2048];
            snprintf(tail, sizeof tail, "%s", hit + wlen);
            size_t room = cap - (size_t)(hit - msg);
            snprintf(hit, room, "%s%s", red, tail);
            if (rlen >= room) /* cut inside the redacted URL: nothing of the original is left after it */
                break;
            p = hit + rlen; /* past the replacement: the redacted text is never searched again */
        }
    }
    kt_url_span sp[KT_URL_MAX_SECRETS];
    size_t ns = kt_url_secrets(where, sp, KT_URL_MAX_SECRETS);
    for (size_t i = 0; i < ns; i++) {
        char raw[1024], dec[1024];
        snprintf(raw, sizeof raw, "%.*s", (int)sp[i].len, where + sp[i].at);
        kt_url_decode(where + sp[i].at, sp[i].len, dec, sizeof dec);
        kt_url_mask_in(msg, cap, raw, strlen(raw));
        kt_url_mask_in(msg, cap, dec, strlen(dec));
    }
}

/* Kite's own parameters ride in the store URL's query (?readers=8) next to libpq's, which refuses names it does not
 * know: they are taken out before the URL goes further. Only URLs (scheme://) have a query; a bare directory may hold
 * a '?' in its name. */
int kt_store_url_take(const char *where, const char *name, char *value, size_t vcap, char *rest, size_t rcap)
{
    if (vcap)
        value[0] = 0;
    snprintf(rest, rcap, "%s", where ? where : "");
    if (!where || !strstr(where, "://"))
        return 0;
    char *q = strchr(rest, '?');
    if (!q)
        return 0;
    size_t nlen = strlen(name);
    int found = 0;
    for (char *p = q + 1; *p;) {
        size_t plen = strcspn(p, "&");
        if (plen > nlen && !strncmp(p, name, nlen) && p[nlen] == '=') {
            if (vcap)
                snprintf(value, vcap, "%.*s", (int)(plen - nlen - 1), p + nlen + 1);
            found = 1;
            /* drop "name=value" and one separator: the '&' after it, else the one (or the '?') before it */
            char *from = p, *to = p + plen;
            if (*to == '&')
                to++;
            else if (from > q + 1)
                from--;
            else
                from = q;
            memmove(from, to, strlen(to) + 1);
            p = from == q ? q + strlen(q) : from;
            if (p > q && *p == '&')
                p++;
            continue;
        }
        p += plen;
        if (*p == '&')
            p++;
    }
    return found;
}
