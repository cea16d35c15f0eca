/* Path router, percent-decoding and query-string parsing for web/http.c. Pure code: no h2o, no loop,
 * no allocation on the match path (the caller passes scratch memory, usually from the request pool),
 * so it is unit-tested on its own.
 *
 * Patterns: "/api/v1/flows/{namespace}/{id}". A segment is a literal, a "{name}" parameter (matches one
 * non-empty segment) or, as the last segment only, a "{name:*}" catch-all (matches the rest of the path,
 * zero or more segments; its value is the decoded remainder without the leading '/').
 *
 * Precedence (Micronaut: literal segments outrank variables): more literal segments first; on a tie the
 * route whose first differing segment is "more literal" (literal > parameter > catch-all) wins; then the
 * registration order. So "/executions/search" beats "/executions/{executionId}", and
 * "/executions/{executionId}/restart" beats "/executions/{namespace}/{id}". */
#ifndef KT_WEB_ROUTER_H
#define KT_WEB_ROUTER_H

#include <stddef.h>

#include "base/limits.h" /* KT_WEB_MAX_SEGS, KT_WEB_MAX_PARAMS */
#include "base/status.h"
#include "web/http.h"

typedef struct kt_web_router kt_web_router;
typedef struct kt_web_route kt_web_route;

typedef struct kt_web_match {
    const kt_web_route *route;               /* NULL: no route for this method+path */
    const char *path;                        /* decoded path, in scratch */
    size_t nparams;
    const char *names[KT_WEB_MAX_PARAMS];    /* owned by the route */
    const char *values[KT_WEB_MAX_PARAMS];   /* decoded, NUL-terminated, in scratch */
    char allow[96];                          /* method NULL: the methods routed for this path, "DELETE, GET" */
} kt_web_match;

kt_status kt_web_router_new(kt_web_router **out);
void kt_web_router_free(kt_web_router *rt);
/* KT_EINVAL for a malformed pattern, KT_ECONFLICT when the same method already has a route of the same
 * shape (parameter names aside); err (may be NULL) says why. */
kt_status kt_web_router_add(kt_web_router *rt, const char *method, const char *pattern, kt_http_handler h, void *ud,
                            char *err, size_t errcap);
size_t kt_web_router_count(const kt_web_router *rt);

/* Bytes of scratch kt_web_router_match needs for a raw path of len bytes. */
static inline size_t kt_web_scratch_size(size_t len) { return 2 * len + 2; }
/* method NULL: no route is chosen; m->allow lists the methods that have a route for the path ("" = none), for
 * Micronaut's 405 when the request's own method has none.
 * path/len: the raw request path WITHOUT the query string. Each segment is split on the raw '/' and then
 * percent-decoded, so "%2F" inside a parameter stays part of that parameter. Returns KT_EINVAL (err says
 * where) for a bad %-escape or an encoded NUL; KT_OK otherwise, with m->route NULL when nothing matches. */
kt_status kt_web_router_match(const kt_web_router *rt, const char *method, const char *path, size_t len, char *scratch,
                              kt_web_match *m, char *err, size_t errcap);

kt_http_handler kt_web_route_handler(const kt_web_route *r);
void *kt_web_route_ud(const kt_web_route *r);
const char *kt_web_route_pattern(const kt_web_route *r);

/* Percent-decodes in[0..len) into out (room for len+1 bytes), NUL-terminates; plus_is_space for query
 * strings. Returns the decoded length, or -1 - offset of the bad escape (a '%' not followed by two hex
 * digits, or %00), or -1 - (len - 1) when the decoded bytes are not UTF-8. */
long kt_web_pct_decode(const char *in, size_t len, char *out, int plus_is_space);

typedef struct kt_web_qparam {
    const char *name;
    const char *value; /* "" for "?flag" */
} kt_web_qparam;

/* Upper bound of the pairs in a query string (without the '?'), and the scratch it needs. */
size_t kt_web_query_count(const char *q, size_t len);
static inline size_t kt_web_query_scratch_size(size_t len, size_t npairs) { return len + 2 * npairs + 1; }
/* Splits on '&', then on the first '=', decodes both sides ('+' is a space); empty pieces are skipped.
 * out has room for kt_web_query_count() pairs. KT_EINVAL with err on a bad escape. */
kt_status kt_web_query_parse(const char *q, size_t len, char *scratch, kt_web_qparam *out, size_t *n, char *err,
                             size_t errcap);

#endif
