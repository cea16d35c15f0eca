/* multipart/form-data parser; see multipart.h. */
#include "web/multipart.h"
#include "base/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_BOUNDARY 70          /* RFC 2046 */
#define MAX_HEADER_BYTES 16384   /* per part */

struct kt_multipart {
    kt_multipart_part *parts;
    size_t n, cap;
};


static int is_ws(char c) { return c == ' ' || c == '\t'; }

/* Reads one header parameter value at *p (token or quoted-string with backslash escapes) into a fresh
 * string. Returns NULL on an unterminated quote or OOM (*oom set). */
static char *param_value(const char **p, const char *end, int *oom)
{
    const char *s = *p;
    char *out;
    size_t o = 0;
    if (s < end && *s == '"') {
        s++;
        out = malloc((size_t)(end - s) + 1);
        if (!out) {
            *oom = 1;
            return NULL;
        }
        while (s < end && *s != '"') {
            if (*s == '\\' && s + 1 < end)
                s++;
            out[o++] = *s++;
        }
        if (s == end) {
            free(out);
            return NULL;
        }
        s++;
    } else {
        const char *b = s;
        while (s < end && *s != ';' && !is_ws(*s))
            s++;
        out = malloc((size_t)(s - b) + 1);
        if (!out) {
            *oom = 1;
            return NULL;
        }
        memcpy(out, b, (size_t)(s - b));
        o = (size_t)(s - b);
    }
    out[o] = '\0';
    *p = s;
    return out;
}

/* Iterates "; name=value" parameters of a header value [p, end), after the leading type token.
 * Calls back per parameter; returns -1 on a syntax error, -2 on OOM. */
typedef int (*param_cb)(void *ctx, const char *name, size_t nlen, char *value);

static int each_param(const char *p, const char *end, param_cb cb, void *ctx)
{
    while (p < end && *p != ';') /* skip the type */
        p++;
    while (p < end) {
        while (p < end && (*p == ';' || is_ws(*p)))
            p++;
        if (p == end)
            break;
        const char *name = p;
        while (p < end && *p != '=' && *p != ';' && !is_ws(*p))
            p++;
        size_t nlen = (size_t)(p - name);
        while (p < end && is_ws(*p))
            p++;
        if (p == end || *p != '=') { /* a bare token parameter: skip it */
            continue;
        }
        p++;
        while (p < end && is_ws(*p))
            p++;
        int oom = 0;
        char *v = param_value(&p, end, &oom);
        if (!v)
            return oom ? -2 : -1;
        int rc = cb(ctx, name, nlen, v); /* takes v */
        if (rc)
            return rc;
    }
    return 0;
}

static int boundary_cb(void *ctx, const char *name, size_t nlen, char *value)
{
    char **b = ctx;
    if (nlen == 8 && !strncasecmp(name, "boundary", 8) && !*b) {
        *b = value;
        return 0;
    }
    free(value);
    return 0;
}

typedef struct disp {
    char *name, *filename, *filename_ext;
} disp;

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 5987 ext-value: charset'lang'pct-encoded. Decodes in place; NULL if malformed. */
static char *ext_value(char *v)
{
    char *q = strchr(v, '\'');
    if (!q || !(q = strchr(q + 1, '\'')))
        return NULL;
    char *o = v;
    for (char *s = q + 1; *s; s++) {
        if (*s == '%') {
            int h = hexv(s[1]), l = h >= 0 ? hexv(s[2]) : -1;
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return NULL;
            *o++ = (char)(h << 4 | l);
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return v;
}

static int disp_cb(void *ctx, const char *name, size_t nlen, char *value)
{
    disp *d = ctx;
    char **slot = NULL;
    if (nlen == 4 && !strncasecmp(name, "name", 4))
        slot = &d->name;
    else if (nlen == 8 && !strncasecmp(name, "filename", 8))
        slot = &d->filename;
    else if (nlen == 9 && !strncasecmp(name, "filename*", 9))
        slot = &d->filename_ext;
    if (slot && !*slot) {
        *slot = value;
        return 0;
    }
    free(value);
    return 0;
}

static void part_free(kt_multipart_part *p)
{
    free((char *)p->name);
    free((char *)p->filename);
    free((char *)p->content_type);
}

void kt_multipart_free(kt_multipart *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        part_free(&m->parts[i]);
    free(m->parts);
    free(m);
}

size_t kt_multipart_count(const kt_multipart *m) { return m ? m->n : 0; }

const kt_multipart_part *kt_multipart_get(const kt_multipart *m, size_t i)
{
    return m && i < m->n ? &m->parts[i] : NULL;
}

const kt_multipart_part *kt_multipart_find(const kt_multipart *m, const char *name)
{
    for (size_t i = 0; m && name && i < m->n; i++)
        if (!strcmp(m->parts[i].name, name))
            return &m->parts[i];
    return NULL;
}

/* Finds the end of the line starting at p: returns the index of '\n' or -1; *eol_len = 1 or 2. */
static long line_end(const char *b, size_t p, size_t len)
{
    const char *nl = memchr(b + p, '\n', len - p);
    return nl ? nl - b : -1;
}

/* Parses the headers of one part starting at *pos; leaves *pos at the first data byte. */
static kt_status parse_headers(const char *b, size_t len, size_t *pos, size_t partno, kt_multipart_part *part,
                               char *err, size_t errcap)
{
    size_t p = *pos, start = p;
    int have_disp = 0;
    disp d = {0};
    kt_status st = KT_EINVAL;
    for (;;) {
        long nl = line_end(b, p, len);
        if (nl < 0 || (size_t)nl - start > MAX_HEADER_BYTES) {
            kt_errf(err, errcap, "multipart: part %zu: headers not terminated by an empty line (byte %zu)", partno, p);
            goto fail;
        }
        size_t e = (size_t)nl;
        if (e > p && b[e - 1] == '\r')
            e--;
        if (e == p) { /* empty line: data follows */
            *pos = (size_t)nl + 1;
            break;
        }
        const char *colon = memchr(b + p, ':', e - p);
        if (!colon) {
            kt_errf(err, errcap, "multipart: part %zu: malformed header line at byte %zu (no ':')", partno, p);
            goto fail;
        }
        size_t nlen = (size_t)(colon - (b + p));
        while (nlen && is_ws(b[p + nlen - 1]))
            nlen--;
        const char *v = colon + 1, *ve = b + e;
        while (v < ve && is_ws(*v))
            v++;
        while (ve > v && is_ws(ve[-1]))
            ve--;
        if (nlen == 19 && !strncasecmp(b + p, "content-disposition", 19)) {
            have_disp = 1;
            int rc = each_param(v, ve, disp_cb, &d);
            if (rc == -2) {
                st = KT_ENOMEM;
                goto fail;
            }
            if (rc) {
                kt_errf(err, errcap, "multipart: part %zu: malformed Content-Disposition at byte %zu", partno, p);
                goto fail;
            }
        } else if (nlen == 12 && !strncasecmp(b + p, "content-type", 12) && !part->content_type) {
            if (!(part->content_type = strndup(v, (size_t)(ve - v)))) {
                st = KT_ENOMEM;
                goto fail;
            }
        }
        p = (size_t)nl + 1;
    }
    if (!have_disp || !d.name) {
        kt_errf(err, errcap, "multipart: part %zu (byte %zu): %s", partno, start,
                have_disp ? "Content-Disposition has no name" : "no Content-Disposition header");
        goto fail;
    }
    part->name = d.name;
    if (d.filename_ext && ext_value(d.filename_ext)) {
        part->filename = d.filename_ext;
        free(d.filename);
    } else {
        part->filename = d.filename;
        free(d.filename_ext);
    }
    return KT_OK;
fail:
    free(d.name);
    free(d.filename);
    free(d.filename_ext);
    return st;
}

kt_status kt_multipart_parse(const char *content_type, const char *body, size_t len, kt_multipart **out, char *err,
                             size_t errcap)
{
    kt_status st = KT_EINVAL;
    char *boundary = NULL, *delim = NULL;
    kt_multipart *m = NULL;
    *out = NULL;
    if (!content_type || strncasecmp(content_type, "multipart/", 10)) {
        kt_errf(err, errcap, "multipart: Content-Type is not multipart/form-data");
        return KT_EINVAL;
    }
    int rc = each_param(content_type, content_type + strlen(content_type), boundary_cb, &boundary);
    if (rc == -2)
        return KT_ENOMEM;
    if (rc || !boundary || !*boundary || strlen(boundary) > MAX_BOUNDARY) {
        kt_errf(err, errcap, "multipart: %s boundary in Content-Type",
                rc ? "malformed" : !boundary || !*boundary ? "no" : "too long a");
        goto fail;
    }
    if (!body)
        body = "", len = 0;

    /* delim = "\r\n--boundary"; the first delimiter may also sit at byte 0 without the line break */
    size_t blen = strlen(boundary), dlen = blen + 4;
    if (!(delim = malloc(dlen + 1)) || !(m = calloc(1, sizeof(*m)))) {
        st = KT_ENOMEM;
        goto fail;
    }
    snprintf(delim, dlen + 1, "\r\n--%s", boundary);

    size_t p; /* first byte after the opening "--boundary" */
    if (len >= dlen - 2 && !memcmp(body, delim + 2, dlen - 2)) {
        p = dlen - 2;
    } else {
        const char *f = memmem(body, len, delim + 1, dlen - 1); /* "\n--boundary" covers CRLF and LF */
        if (!f) {
            kt_errf(err, errcap, "multipart: the opening boundary \"--%s\" was not found", boundary);
            goto fail;
        }
        p = (size_t)(f - body) + dlen - 1;
    }
    /* Line ends: CRLF unless the opening boundary line ends with a bare LF. */
    int lf_only = 0;
    for (size_t partno = 1;; partno++) {
        /* p is just after "--boundary": "--" closes, else padding then the line end */
        if (p + 2 <= len && body[p] == '-' && body[p + 1] == '-')
            break;
        size_t q = p;
        while (q < len && is_ws(body[q]))
            q++;
        if (q + 1 < len && body[q] == '\r' && body[q + 1] == '\n') {
            q += 2;
        } else if (q < len && body[q] == '\n') {
            if (partno == 1)
                lf_only = 1;
            q += 1;
        } else {
            kt_errf(err, errcap, "multipart: byte %zu: expected a line end or \"--\" after the boundary", q);
            goto fail;
        }
        if (m->n == KT_MULTIPART_MAX_PARTS) {
            kt_errf(err, errcap, "multipart: more than %d parts", KT_MULTIPART_MAX_PARTS);
            goto fail;
        }
        if (m->n == m->cap) {
            size_t cap = m->cap ? 2 * m->cap : 8;
            kt_multipart_part *np = realloc(m->parts, cap * sizeof(*np));
            if (!np) {
                st = KT_ENOMEM;
                goto fail;
            }
            m->parts = np, m->cap = cap;
        }
        kt_multipart_part *part = &m->parts[m->n];
        memset(part, 0, sizeof(*part));
        p = q;
        if ((st = parse_headers(body, len, &p, partno, part, err, errcap))) {
            part_free(part);
            goto fail;
        }
        m->n++;
        /* data runs to the next delimiter that is followed by "--" or padding + a line end */
        const char *d = lf_only ? delim + 1 : delim;
        size_t dl = lf_only ? dlen - 1 : dlen, from = p, end;
        for (;;) {
            const char *f = from <= len ? memmem(body + from, len - from, d, dl) : NULL;
            if (!f) {
                kt_errf(err, errcap, "multipart: part %zu (data at byte %zu): closing boundary \"--%s\" not found",
                        partno, p, boundary);
                st = KT_EINVAL;
                goto fail;
            }
            end = (size_t)(f - body);
            size_t a = end + dl;
            if (a + 2 <= len && body[a] == '-' && body[a + 1] == '-')
                break;
            while (a < len && is_ws(body[a]))
                a++;
            if (a < len && (body[a] == '\n' || (body[a] == '\r' && a + 1 < len && body[a + 1] == '\n')))
                break;
            from = end + 1; /* a look-alike inside the data */
        }
        part->data = body + p;
        part->len = end - p;
        p = end + dl;
    }
    free(boundary);
    free(delim);
    *out = m;
    return KT_OK;
fail:
    free(boundary);
    free(delim);
    kt_multipart_free(m);
    return st;
}
