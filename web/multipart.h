/* multipart/form-data request bodies (RFC 7578 on RFC 2046 framing). Kestra takes execution inputs and
 * resumes as multipart: plain fields (no filename) and files (with a filename).
 *
 * Zero-copy for data: part.data points into the body passed to kt_multipart_parse, so the body must
 * outlive the parsed object (the request body does, until the answer). name, filename and content_type are
 * owned by the kt_multipart. Lenient where clients differ: bare-LF line ends if the first boundary line uses
 * them, transport padding after a boundary, a missing final CRLF, and a "--boundary" look-alike inside data
 * that is not followed by "--" or a line end is data (as Go's mime/multipart does). */
#ifndef KT_WEB_MULTIPART_H
#define KT_WEB_MULTIPART_H

#include <stddef.h>

#include "base/limits.h" /* KT_MULTIPART_MAX_PARTS */
#include "base/status.h"

typedef struct kt_multipart_part {
    const char *name;         /* the form field name, never NULL */
    const char *filename;     /* NULL for a plain field; filename* (RFC 5987) wins over filename */
    const char *content_type; /* NULL when the part has no Content-Type (RFC 7578: text/plain) */
    const char *data;         /* into the body; not NUL-terminated */
    size_t len;
} kt_multipart_part;

typedef struct kt_multipart kt_multipart;

/* content_type: the request's Content-Type header, "multipart/form-data; boundary=..." (quoted or not).
 * KT_EINVAL for a missing/bad boundary or a malformed body, with err saying what and at which byte offset
 * of the body; KT_ENOMEM. err may be NULL. */
kt_status kt_multipart_parse(const char *content_type, const char *body, size_t len, kt_multipart **out, char *err,
                             size_t errcap);
size_t kt_multipart_count(const kt_multipart *m);
const kt_multipart_part *kt_multipart_get(const kt_multipart *m, size_t i); /* NULL if out of range */
/* First part with this field name, or NULL. */
const kt_multipart_part *kt_multipart_find(const kt_multipart *m, const char *name);
void kt_multipart_free(kt_multipart *m);

#endif
