/* Path router, percent-decoding and query parsing; see router.h for the rules. */
#include "web/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ordered so that a larger value is "more literal": it ranks first on ties. */
enum seg_kind { SEG_CATCHALL = 0, SEG_PARAM = 1, SEG_LITERAL = 2 };

typedef struct seg {
    enum seg_kind kind;
    char *text; /* literal text or parameter name */
} seg;

struct kt_web_route {
    char *method;
    char *pattern;
    size_t nsegs;
    seg segs[KT_WEB_MAX_SEGS];
    size_t nlit;
    int catchall; /* the last segment is {name:*} */
    size_t order; /* registration order, the last tie-break */
    kt_http_handler handler;
    void *ud;
};

struct kt_web_router {
    kt_web_route **routes; /* kept sorted by precedence: the first match wins */
    size_t n, cap;
};

kt_status kt_web_router_new(kt_web_router **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? KT_OK : KT_ENOMEM;
}

static void route_free(kt_web_route *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nsegs; i++)
        free(r->segs[i].text);
    free(r->method);
    free(r->pattern);
    free(r);
}

void kt_web_router_free(kt_web_router *rt)
{
    if (!rt)
        return;
    for (size_t i = 0; i < rt->n; i++)
        route_free(rt->routes[i]);
    free(rt->routes);
    free(rt);
}

size_t kt_web_router_count(const kt_web_router *rt) { return rt->n; }
kt_http_handler kt_web_route_handler(const kt_web_route *r) { return r->handler; }
void *kt_web_route_ud(const kt_web_route *r) { return r->ud; }
const char *kt_web_route_pattern(const kt_web_route *r) { return r->pattern; }

/* <0: a ranks before b. Static, so sorting once at registration replaces scoring at match time. */
static int route_cmp(const kt_web_route *a, const kt_web_route *b)
{
    if (a->nlit != b->nlit)
        return a->nlit > b->nlit ? -1 : 1;
    size_t n = a->nsegs < b->nsegs ? a->nsegs : b->nsegs;
    for (size_t i = 0; i < n; i++)
        if (a->segs[i].kind != b->segs[i].kind)
            return a->segs[i].kind > b->segs[i].kind ? -1 : 1;
    if (a->nsegs != b->nsegs)
        return a->nsegs > b->nsegs ? -1 : 1;
    return a->order < b->order ? -1 : (a->order > b->order);
}

static int same_shape(const kt_web_route *a, const kt_web_route *b)
{
    if (strcmp(a->method, b->method) || a->nsegs != b->nsegs)
        return 0;
    for (size_t i = 0; i < a->nsegs; i++) {
        if (a->segs[i].kind != b->segs[i].kind)
            return 0;
        if (a->segs[i].kind == SEG_LITERAL && strcmp(a->segs[i].text, b->segs[i].text))
            return 0;
    }
    return 1;
}

static kt_status parse_pattern(kt_web_route *r, const char *pattern, char *err, size_t errcap)
{
    if (pattern[0] != '/') {
        kt_errf(err, errcap, "pattern '%s' must start with '/'%s", pattern, "");
        return KT_EINVAL;
    }
    const char *p = pattern + 1;
    size_t nparams = 0;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0) {
            if (!end) /* a trailing '/' is ignored, as in paths */
                break;
            kt_errf(err, errcap, "pattern '%s' has an empty segment%s", pattern, "");
            return KT_EINVAL;
        }
        if (r->nsegs == KT_WEB_MAX_SEGS) {
            kt_errf(err, errcap, "pattern '%s' has too many segments%s", pattern, "");
            return KT_EINVAL;
        }
        if (r->catchall) {
            kt_errf(err, errcap, "pattern '%s': a catch-all must be the last segment%s", pattern, "");
            return KT_EINVAL;
        }
        seg *s = &r->segs[r->nsegs];
        if (p[0] == '{') {
            if (len < 3 || p[len - 1] != '}') {
                kt_errf(err, errcap, "pattern '%s': bad parameter segment%s", pattern, "");
                return KT_EINVAL;
            }
            size_t nlen = len - 2;
            s->kind = SEG_PARAM;
            if (nlen > 2 && p[len - 3] == ':' && p[len - 2] == '*') {
                s->kind = SEG_CATCHALL;
                nlen -= 2;
                r->catchall = 1;
            }
            if (nlen == 0 || memchr(p + 1, '{', nlen) || memchr(p + 1, '}', nlen) || memchr(p + 1, ':', nlen)) {
                kt_errf(err, errcap, "pattern '%s': bad parameter name%s", pattern, "");
                return KT_EINVAL;
            }
            if (++nparams > KT_WEB_MAX_PARAMS) {
                kt_errf(err, errcap, "pattern '%s' has too many parameters%s", pattern, "");
                return KT_EINVAL;
            }
            s->text = strndup(p + 1, nlen);
        } else {
            if (memchr(p, '{', len) || memchr(p, '}', len)) {
                kt_errf(err, errcap, "pattern '%s': braces inside a literal segment%s", pattern, "");
                return KT_EINVAL;
            }
            s->kind = SEG_LITERAL;
            s->text = strndup(p, len);
            r->nlit++;
        }
        if (!s->text)
            return KT_ENOMEM;
        r->nsegs++;
        p += len + (end != NULL);
    }
    return KT_OK;
}

kt_status kt_web_router_add(kt_web_router *rt, const char *method, const char *pattern, kt_http_handler h, void *ud,
                            char *err, size_t errcap)
{
    kt_status st = KT_EINVAL;
    if (!rt || !method || !*method || !pattern || !h) {
        kt_errf(err, errcap, "route: method, pattern and handler are required%s%s", "", "");
        return KT_EINVAL;
    }
    kt_web_route *r = calloc(1, sizeof(*r));
    if (!r)
        return KT_ENOMEM;
    r->method = strdup(method);
    r->pattern = strdup(pattern);
    r->handler = h;
    r->ud = ud;
    r->order = rt->n;
    if (!r->method || !r->pattern) {
        st = KT_ENOMEM;
        goto fail;
    }
    if ((st = parse_pattern(r, pattern, err, errcap)))
        goto fail;
    for (size_t i = 0; i < rt->n; i++) {
        if (same_shape(rt->routes[i], r)) {
            kt_errf(err, errcap, "route %s conflicts with %s", pattern, rt->routes[i]->pattern);
            st = KT_ECONFLICT;
            goto fail;
        }
    }
    if (rt->n == rt->cap) {
        size_t cap = rt->cap ? 2 * rt->cap : 32;
        kt_web_route **nr = realloc(rt->routes, cap * sizeof(*nr));
        if (!nr) {
            st = KT_ENOMEM;
            goto fail;
        }
        rt->routes = nr;
        rt->cap = cap;
    }
    size_t at = rt->n;
    while (at > 0 && route_cmp(r, rt->routes[at - 1]) < 0) {
        rt->routes[at] = rt->routes[at - 1];
        at--;
    }
    rt->routes[at] = r;
    rt->n++;
    return KT_OK;
fail:
    route_free(r);
    return st;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF), or n when all of s is. */
static size_t utf8_bad_at(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!k || i + k > n || (k == 2 && c < 0xc2) || (k == 4 && c > 0xf4))
            return i;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return i;
        if ((k == 3 && c == 0xe0 && s[i + 1] < 0xa0) || (k == 3 && c == 0xed && s[i + 1] > 0x9f) ||
            (k == 4 && c == 0xf0 && s[i + 1] < 0x90) || (k == 4 && c == 0xf4 && s[i + 1] > 0x8f))
            return i;
        i += k;
    }
    return n;
}

long kt_web_pct_decode(const char *in, size_t len, char *out, int plus_is_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            int h = i + 2 < len ? hexval((unsigned char)in[i + 1]) : -1;
            int l = i + 2 < len ? hexval((unsigned char)in[i + 2]) : -1;
            if (h < 0 || l < 0 || (h == 0 && l == 0)) /* %00 would truncate the C string */
                return -1 - (long)i;
            out[o++] = (char)(h << 4 | l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out[o++] = ' ';
        } else if (c == '\0') {
            return -1 - (long)i;
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    /* what the handlers get is text: a path or query byte that is not UTF-8 cannot go into a JSON answer */
    if (utf8_bad_at((const unsigned char *)out, o) != o)
        return -1 - (long)(len ? len - 1 : 0);
    return (long)o;
}

/* Adds method to m->allow (a ", " separated list kept in alphabetical order, without duplicates). */
static void kt_web_allow_add(kt_web_match *m, const char *method)
{
    const char *names[16];
    char copy[sizeof m->allow];
    size_t n = 0;
    snprintf(copy, sizeof copy, "%s", m->allow);
    for (char *save = NULL, *t = strtok_r(copy, ", ", &save); t && n < 15; t = strtok_r(NULL, ", ", &save)) {
        if (!strcmp(t, method))
            return;
        names[n++] = t;
    }
    names[n++] = method;
    for (size_t i = 1; i < n; i++) /* insertion sort: a handful of names */
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *x = names[j];
            names[j] = names[j - 1];
            names[j - 1] = x;
        }
    char out[sizeof m->allow];
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + o, sizeof out - o, "%s%s", i ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= sizeof out - o)
            break;
        o += (size_t)w;
    }
    memcpy(m->allow, out, sizeof out);
}

kt_status kt_web_router_match(const kt_web_router *rt, const char *method, const char *path, size_t len, char *scratch,
                              kt_web_match *m, char *err, size_t errcap)
{
    memset(m, 0, sizeof(*m));
    /* scratch: [decoded segments, each NUL-terminated: <= len+1][decoded joined path: <= len+1] */
    char *segbuf = scratch, *joined = scratch + len + 1;
    const char *segs[KT_WEB_MAX_SEGS];
    size_t segoff[KT_WEB_MAX_SEGS]; /* where segment i starts in joined */
    size_t nsegs = 0, so = 0, jo = 0;
    int too_many = 0;

    joined[0] = '\0';
    m->path = joined;
    if (len == 0 || path[0] != '/') /* "*" (OPTIONS *) or absolute-form: no route */
        return KT_OK;
    joined[jo++] = '/';
    /* A trailing '/' ends the loop without adding an empty segment: "/flows/" routes like "/flows". */
    for (size_t i = 1; i < len;) {
        size_t end = i;
        while (end < len && path[end] != '/')
            end++;
        long n = kt_web_pct_decode(path + i, end - i, segbuf + so, 0);
        if (n < 0) {
            char off[32];
            snprintf(off, sizeof(off), "%ld", (long)i + (-1 - n));
            kt_errf(err, errcap, "Bad Request: malformed percent-encoding in the path at byte %s%s", off, "");
            return KT_EINVAL;
        }
        if (nsegs < KT_WEB_MAX_SEGS) {
            segs[nsegs] = segbuf + so;
            segoff[nsegs] = jo;
            nsegs++;
        } else {
            too_many = 1;
        }
        memcpy(joined + jo, segbuf + so, (size_t)n);
        jo += (size_t)n;
        so += (size_t)n + 1;
        if (end < len)
            joined[jo++] = '/';
        i = end + 1;
    }
    joined[jo] = '\0';
    if (too_many)
        return KT_OK;

    for (size_t r = 0; r < rt->n; r++) {
        const kt_web_route *ro = rt->routes[r];
        if (ro->catchall ? nsegs + 1 < ro->nsegs : nsegs != ro->nsegs)
            continue;
        if (method && strcmp(ro->method, method))
            continue;
        size_t np = 0, k;
        for (k = 0; k < ro->nsegs; k++) {
            const seg *s = &ro->segs[k];
            if (s->kind == SEG_LITERAL) {
                if (strcmp(s->text, segs[k]))
                    break;
            } else if (s->kind == SEG_PARAM) {
                if (!segs[k][0])
                    break;
                m->names[np] = s->text;
                m->values[np++] = segs[k];
            } else {
                m->names[np] = s->text;
                m->values[np++] = k < nsegs ? joined + segoff[k] : "";
            }
        }
        if (k == ro->nsegs) {
            if (!method) {
                /* collecting the methods the path has: each once, sorted as Micronaut lists them */
                kt_web_allow_add(m, ro->method);
                continue;
            }
            m->route = ro;
            m->nparams = np;
            return KT_OK;
        }
    }
    m->nparams = 0;
    return KT_OK;
}

size_t kt_web_query_count(const char *q, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += q[i] == '&';
    return n;
}

kt_status kt_web_query_parse(const char *q, size_t len, char *scratch, kt_web_qparam *out, size_t *n, char *err,
                             size_t errcap)
{
    size_t i = 0, so = 0, np = 0;
    *n = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && q[end] != '&')
            end++;
        if (end > i) {
            const char *eq = memchr(q + i, '=', end - i);
            size_t nlen = eq ? (size_t)(eq - (q + i)) : end - i;
            long a = kt_web_pct_decode(q + i, nlen, scratch + so, 1);
            long bad = a < 0 ? (long)i + (-1 - a) : -1;
            if (a >= 0) {
                out[np].name = scratch + so;
                so += (size_t)a + 1;
                if (eq) {
                    long b = kt_web_pct_decode(eq + 1, end - i - nlen - 1, scratch + so, 1);
                    if (b < 0)
                        bad = (long)(eq + 1 - q) + (-1 - b);
                    else {
                        out[np].value = scratch + so;
                        so += (size_t)b + 1;
                    }
                } else {
                    out[np].value = "";
                }
            }
            if (bad >= 0) {
                char off[32];
                snprintf(off, sizeof(off), "%ld", bad);
                kt_errf(err, errcap, "Bad Request: malformed percent-encoding in the query string at byte %s%s", off,
                        "");
                return KT_EINVAL;
            }
            np++;
        }
        i = end + 1;
    }
    *n = np;
    return KT_OK;
}
