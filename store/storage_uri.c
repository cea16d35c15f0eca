/* Internal-storage URIs: the traversal check, Kestra's slug and the layout (see storage_uri.h). Pure: no I/O.
 *
 * The check works on the decoded bytes, never on the spelling: every encoded form of "..", "/" or "\" becomes the
 * byte it names before the segments are looked at, so there is one rule to get right instead of a list of
 * spellings to keep up to date. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store/storage_uri.h"

/* ---- the segment rules, shared by URIs (after decoding) and relative paths ---- */

/* Length of the valid UTF-8 sequence at p (at most n bytes) and its code point, or 0 when it is not one: overlong
 * forms (%c0%ae is a '.'), surrogates and code points past U+10FFFF included, as they are how filters get fooled. */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t c, min;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if ((p[0] & 0xe0) == 0xc0) {
        len = 2, c = p[0] & 0x1f, min = 0x80;
    } else if ((p[0] & 0xf0) == 0xe0) {
        len = 3, c = p[0] & 0x0f, min = 0x800;
    } else if ((p[0] & 0xf8) == 0xf0) {
        len = 4, c = p[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Why the segment p[0..n) cannot be stored, or NULL when it can. */
static const char *bad_segment(const unsigned char *p, size_t n)
{
    if (n == 0)
        return "empty segment ('//')";
    if (n == 1 && p[0] == '.')
        return "'.' segment";
    if (n == 2 && p[0] == '.' && p[1] == '.')
        return "'..' segment (parent directory)";
    if (n > KT_SURI_NAME_MAX)
        return "segment longer than 255 bytes";
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_seq(p + i, n - i, &cp);
        if (!len)
            return "not UTF-8";
        if (cp == 0)
            return "NUL character";
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            return "control character";
        if (cp == '\\') /* Kestra's storages turn it into '/' (windowsToUnixPath): "..\\" would be a ".." */
            return "backslash";
        i += len;
    }
    return NULL;
}

/* Why the path p[0..n) (no leading '/', maybe one trailing '/') cannot be stored, or NULL. */
static const char *bad_path(const unsigned char *p, size_t n)
{
    if (n == 0)
        return "names no file";
    if (n > KT_SURI_PATH_MAX)
        return "path longer than 1024 bytes";
    if (p[n - 1] == '/') /* a directory (namespace files): the '/' closes the last segment, it opens no new one */
        n--;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '/')
            continue;
        const char *why = bad_segment(p + start, i - start);
        if (why)
            return why;
        start = i + 1;
    }
    return NULL;
}

/* The input as it can be printed in a message: bytes that are not printable ASCII as \xNN, cut past 160 bytes (an
 * over-long URI should not become an over-long error). */
static void quote(char *dst, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; s[i] && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 160) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        if (c >= 0x20 && c < 0x7f) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '\\', dst[o++] = 'x', dst[o++] = hex[c >> 4], dst[o++] = hex[c & 15];
        }
    }
    if (cap)
        dst[o < cap ? o : cap - 1] = '\0';
}

static kt_status refuse(char *err, size_t errcap, const char *what, const char *input, const char *why)
{
    char q[200];
    quote(q, sizeof q, input);
    kt_errf(err, errcap, "invalid %s '%s': %s", what, q, why);
    return KT_EINVAL;
}

static kt_status copy_out(const char *p, size_t n, char *out, size_t cap)
{
    if (n >= cap)
        return KT_EINVAL;
    memcpy(out, p, n);
    out[n] = '\0';
    return KT_OK;
}

/* ---- kestra:/// URIs ---- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

kt_status kt_suri_path(const char *uri, char *path, size_t cap, char *err, size_t errcap)
{
    static const char what[] = "storage URI";
    if (cap)
        path[0] = '\0';
    if (!uri)
        return refuse(err, errcap, what, "", "no URI");
    if (strncasecmp(uri, "kestra:", 7) != 0)
        return refuse(err, errcap, what, uri, "not a kestra:/// URI");
    const char *p = uri + 7;
    if (p[0] != '/' || p[1] != '/')
        return refuse(err, errcap, what, uri, "not a kestra:/// URI (expected kestra:///<path>)");
    p += 2;
    if (!*p)
        return refuse(err, errcap, what, uri, "names no file");
    if (*p != '/')
        return refuse(err, errcap, what, uri, "has an authority (expected kestra:///<path>, an empty one)");
    p++;
    /* Decode once into dec, refusing on the raw spelling only what decoding would hide: bad escapes, raw controls
     * (a raw control is refused even where an escaped one would be), a query or a fragment. */
    unsigned char dec[KT_SURI_PATH_MAX + 1];
    size_t n = 0;
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            int hi = hexval((unsigned char)p[1]), lo = hi < 0 ? -1 : hexval((unsigned char)p[2]);
            if (hi < 0 || lo < 0)
                return refuse(err, errcap, what, uri, "invalid percent escape");
            c = (unsigned char)(hi << 4 | lo);
            p += 2;
        } else if (c == '?' || c == '#') {
            return refuse(err, errcap, what, uri, "has a query or a fragment (spell '?' and '#' in a name %3F, %23)");
        } else if (c < 0x20 || c == 0x7f) {
            return refuse(err, errcap, what, uri, "control character");
        }
        if (c == 0)
            return refuse(err, errcap, what, uri, "NUL character");
        if (n == sizeof dec)
            return refuse(err, errcap, what, uri, "path longer than 1024 bytes");
        dec[n++] = c;
    }
    const char *why = bad_path(dec, n);
    if (why)
        return refuse(err, errcap, what, uri, why);
    if (copy_out((const char *)dec, n, path, cap))
        return refuse(err, errcap, what, uri, "path longer than the caller's buffer");
    return KT_OK;
}

kt_status kt_suri_relative(const char *rel, char *path, size_t cap, char *err, size_t errcap)
{
    static const char what[] = "storage path";
    if (cap)
        path[0] = '\0';
    if (!rel)
        return refuse(err, errcap, what, "", "no path");
    const char *p = rel;
    while (*p == '/')
        p++;
    size_t n = strlen(p);
    const char *why = bad_path((const unsigned char *)p, n);
    if (why)
        return refuse(err, errcap, what, rel, why);
    if (copy_out(p, n, path, cap))
        return refuse(err, errcap, what, rel, "path longer than the caller's buffer");
    return KT_OK;
}

/* ---- from a checked path back to a URI ---- */

typedef struct builder {
    char *out;
    size_t cap, len;
    int full; /* something did not fit */
} builder;

static void put_raw(builder *b, const char *s, size_t n)
{
    if (b->full || b->len + n >= b->cap) {
        b->full = 1;
        return;
    }
    memcpy(b->out + b->len, s, n);
    b->len += n;
    b->out[b->len] = '\0';
}

/* Appends s[0..n) percent-encoding what kt_suri_path would read differently ('%', '?', '#') and what java.net.URI
 * quotes in a path, so Kite's URIs are spelt as Kestra's. */
static void put_encoded(builder *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80 && strchr("%?# \"<>[]^`{|}", c)) {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            put_raw(b, e, 3);
        } else {
            put_raw(b, (const char *)&s[i], 1);
        }
    }
}

kt_status kt_suri_from_path(const char *path, char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    if (!path || bad_path((const unsigned char *)path, strlen(path)))
        return KT_EINVAL;
    builder b = {out, cap, 0, 0};
    put_raw(&b, "kestra:///", 10);
    put_encoded(&b, path, strlen(path));
    return b.full ? KT_EINVAL : KT_OK;
}

/* ---- Slugify ---- */

/* The ASCII letter NFD leaves first for U+00C0-U+023F and U+1E00-U+1EFF ('.' when it leaves none: Æ, Ð, Ø, ß, Đ,
 * Ł, Œ, ı… are no letter with an accent but letters of their own, and Slugify drops them). Generated from Unicode
 * 14's decomposition data; U+0240-U+024F and U+1EFA-U+1EFF have none. */
static const char nfd_latin[] =
    "AAAAAA.CEEEEIIII.NOOOOO..UUUUY..aaaaaa.ceeeeiiii.nooooo..uuuuy.y" /* U+00C0 */
    "AaAaAaCcCcCcCcDd..EeEeEeEeEeGgGgGgGgHh..IiIiIiIiI...JjKk.LlLlLl." /* U+0100 */
    "...NnNnNn...OoOoOo..RrRrRrSsSsSsSsTtTt..UuUuUuUuUuUuWwYyYZzZzZz." /* U+0140 */
    "................................Oo.............Uu..............." /* U+0180 */
    ".............AaIiOoUuUuUuUuUu.AaAa....GgKkOoOo..j...Gg..NnAa...." /* U+01C0 */
    "AaAaEeEeIiIiOoOoRrRrUuUuSsTt..Hh......AaEeOoOoOoOoYy............"; /* U+0200 */
static const char nfd_latin_additional[] =
    "AaBbBbBbCcDdDdDdDdDdEeEeEeEeEeFfGgHhHhHhHhHhIiIiKkKkKkLlLlLlLlMm" /* U+1E00 */
    "MmMmNnNnNnNnOoOoOoOoPpPpRrRrRrRrSsSsSsSsSsTtTtTtTtUuUuUuUuUuVvVv" /* U+1E40 */
    "WwWwWwWwWwXxXxYyZzZzZzhtwy......AaAaAaAaAaAaAaAaAaAaAaAaEeEeEeEe" /* U+1E80 */
    "EeEeEeEeIiIiOoOoOoOoOoOoOoOoOoOoOoOoUuUuUuUuUuUuUuYyYyYyYy......"; /* U+1EC0 */

/* What Slugify keeps of one code point: an ASCII letter or digit, '-' for a separator, 0 for nothing. */
static char slug_char(uint32_t cp)
{
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
            return (char)cp;
        /* Java's \s is [ \t\n\x0B\f\r] (no Unicode flag), \w is [A-Za-z0-9_] */
        if (cp == '-' || cp == '_' || cp == ' ' || (cp >= '\t' && cp <= '\r'))
            return '-';
        return 0;
    }
    char c = 0;
    if (cp >= 0xc0 && cp < 0xc0 + sizeof nfd_latin - 1)
        c = nfd_latin[cp - 0xc0];
    else if (cp >= 0x1e00 && cp < 0x1e00 + sizeof nfd_latin_additional - 1)
        c = nfd_latin_additional[cp - 0x1e00];
    else if (cp == 0x212a) /* KELVIN SIGN: a singleton decomposition to K */
        c = 'K';
    else if (cp == 0x212b) /* ANGSTROM SIGN: Å, then A */
        c = 'A';
    return c == '.' ? 0 : c;
}

void kt_suri_slug(const char *in, char *out, size_t cap)
{
    if (!cap)
        return;
    out[0] = '\0';
    if (!in)
        return;
    const unsigned char *p = (const unsigned char *)in;
    size_t n = strlen(in), o = 0;
    int dash = 0; /* a '-' is owed before the next letter (collapsed runs; none leading, none trailing) */
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_seq(p + i, n - i, &cp);
        if (!len) { /* not UTF-8: Java would have read U+FFFD, which it drops */
            i++;
            continue;
        }
        i += len;
        char c = slug_char(cp);
        if (c == '-') {
            dash = 1;
        } else if (c) {
            size_t need = (dash && o) ? 2 : 1;
            if (o + need >= cap)
                break;
            if (need == 2)
                out[o++] = '-';
            out[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
            dash = 0;
        }
    }
    out[o] = '\0';
}

/* ---- the layout ---- */

void kt_suri_namespace_path(const char *ns, char *out, size_t cap)
{
    if (!cap)
        return;
    size_t o = 0;
    for (; ns && ns[o] && o + 1 < cap; o++)
        out[o] = ns[o] == '.' ? '/' : ns[o];
    out[o] = '\0';
}

/* Appends "/" + one part, which must be exactly one valid segment. */
static void put_segment(builder *b, const char *s)
{
    if (!s || bad_segment((const unsigned char *)s, strlen(s)) || strchr(s, '/')) {
        b->full = 1;
        return;
    }
    put_raw(b, "/", 1);
    put_encoded(b, s, strlen(s));
}

/* Starts out with kestra:///<ns as path> (every part of the namespace a valid segment). */
static void put_namespace(builder *b, const char *ns)
{
    char nsp[KT_SURI_PATH_MAX + 1];
    if (!ns || !*ns || strchr(ns, '/') || strlen(ns) > KT_SURI_PATH_MAX) {
        b->full = 1;
        return;
    }
    kt_suri_namespace_path(ns, nsp, sizeof nsp);
    /* "a..b", ".a" and "a." become empty segments; a trailing '/' would pass bad_path as a directory */
    if (bad_path((const unsigned char *)nsp, strlen(nsp)) || nsp[strlen(nsp) - 1] == '/') {
        b->full = 1;
        return;
    }
    put_raw(b, "kestra:///", 10);
    put_encoded(b, nsp, strlen(nsp));
}

static void put_slug(builder *b, const char *id)
{
    char slug[KT_SURI_NAME_MAX + 1];
    kt_suri_slug(id, slug, sizeof slug);
    put_segment(b, slug); /* an empty slug ("___") is refused there */
}

static kt_status finish(builder *b)
{
    if (b->full && b->cap)
        b->out[0] = '\0';
    return b->full ? KT_EINVAL : KT_OK;
}

/* kestra:///<ns>/<slug(flowId)>[/executions/<executionId>] */
static void put_execution(builder *b, const char *ns, const char *flow_id, const char *execution_id)
{
    put_namespace(b, ns);
    put_slug(b, flow_id);
    if (execution_id) {
        put_segment(b, "executions");
        put_segment(b, execution_id);
    }
}

kt_status kt_suri_flow_root(const char *ns, const char *flow_id, char *out, size_t cap)
{
    builder b = {out, cap, 0, 0};
    put_execution(&b, ns, flow_id, NULL);
    return finish(&b);
}

kt_status kt_suri_execution_root(const char *ns, const char *flow_id, const char *execution_id, char *out, size_t cap)
{
    builder b = {out, cap, 0, 0};
    if (!execution_id)
        b.full = 1;
    put_execution(&b, ns, flow_id, execution_id);
    return finish(&b);
}

kt_status kt_suri_taskrun_dir(const char *ns, const char *flow_id, const char *execution_id, const char *task_id,
                              const char *taskrun_id, char *out, size_t cap)
{
    builder b = {out, cap, 0, 0};
    if (!execution_id)
        b.full = 1;
    put_execution(&b, ns, flow_id, execution_id);
    put_segment(&b, "tasks");
    put_slug(&b, task_id);
    put_segment(&b, taskrun_id);
    return finish(&b);
}

kt_status kt_suri_trigger_dir(const char *ns, const char *flow_id, const char *execution_id, const char *trigger_id,
                              char *out, size_t cap)
{
    builder b = {out, cap, 0, 0};
    if (!execution_id)
        b.full = 1;
    put_execution(&b, ns, flow_id, execution_id);
    put_segment(&b, "trigger");
    put_slug(&b, trigger_id);
    return finish(&b);
}

kt_status kt_suri_input_file(const char *ns, const char *flow_id, const char *execution_id, const char *input_id,
                             const char *file_name, char *out, size_t cap)
{
    builder b = {out, cap, 0, 0};
    if (!execution_id)
        b.full = 1;
    put_execution(&b, ns, flow_id, execution_id);
    put_segment(&b, "inputs");
    put_segment(&b, input_id); /* not slugged: Kestra uses the input id as it is */
    put_segment(&b, file_name);
    return finish(&b);
}

kt_status kt_suri_namespace_files(const char *ns, char *out, size_t cap)
{
    builder b = {out, cap, 0, 0};
    put_namespace(&b, ns);
    put_segment(&b, "_files");
    put_raw(&b, "/", 1);
    return finish(&b);
}

kt_status kt_suri_kv(const char *ns, const char *key, char *out, size_t cap)
{
    builder b = {out, cap, 0, 0};
    char name[KT_SURI_NAME_MAX + 1] = "";
    if (!key || !*key || (size_t)snprintf(name, sizeof name, "%s.ion", key) >= sizeof name)
        b.full = 1;
    put_namespace(&b, ns);
    put_segment(&b, "_kv");
    put_segment(&b, name);
    return finish(&b);
}

kt_status kt_suri_states(const char *ns, const char *flow_id, char *out, size_t cap)
{
    builder b = {out, cap, 0, 0};
    put_namespace(&b, ns);
    if (flow_id)
        put_slug(&b, flow_id);
    put_segment(&b, "states");
    return finish(&b);
}

/* ---- comparing checked paths ---- */

int kt_suri_under(const char *path, const char *prefix)
{
    if (!path || !prefix)
        return 0;
    size_t n = strlen(prefix);
    if (n && prefix[n - 1] == '/')
        n--;
    if (n == 0) /* the storage root holds everything */
        return 1;
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int kt_suri_execution_id(const char *path, char *out, size_t cap)
{
    static const char mark[] = "/executions/";
    const size_t mlen = sizeof mark - 1;
    if (cap)
        out[0] = '\0';
    if (!path)
        return 0;
    /* The pattern runs on "/" + path and its "(.+)" is greedy: the rightmost "/executions/" with at least one
     * character before it (so not at the very start of the path) whose next segment is non-empty and closed by a
     * '/'. A checked path has no leading '/' and no empty segment, so every '/' in it has a character before it. */
    size_t n = strlen(path);
    for (size_t i = n; i-- > 0;) {
        if (path[i] != '/' || n - i < mlen || strncasecmp(path + i, mark, mlen) != 0)
            continue;
        const char *id = path + i + mlen, *end = strchr(id, '/');
        if (!end || end == id)
            continue;
        if (copy_out(id, (size_t)(end - id), out, cap))
            return 0;
        return 1;
    }
    return 0;
}
