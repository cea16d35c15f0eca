/* Status codes shared by every Kite module. Functions that can fail return kt_status;
 * KT_OK is zero so `if (rc)` reads as "if it failed". */
#ifndef KT_BASE_STATUS_H
#define KT_BASE_STATUS_H

#include <stddef.h>

typedef enum kt_status {
    KT_OK = 0,
    KT_ENOMEM,     /* allocation failed */
    KT_EINVAL,     /* bad argument or malformed input */
    KT_ENOTFOUND,  /* no such flow, execution, file... */
    KT_ECONFLICT,  /* already exists, or the state forbids the operation */
    KT_EIO,        /* file-system or socket error */
    KT_EDB,        /* the database refused or failed */
    KT_EPROTO,     /* a peer sent something we cannot decode */
    KT_ECLOSED,    /* the link, actor or store is closed */
    KT_EAGAIN,     /* try again later (full queue) */
    KT_ETIMEDOUT,
    KT_EINTERNAL,  /* a bug: an invariant did not hold */
    KT_EFENCED,    /* a partition's lease moved to another owner (its epoch changed): this owner may not commit */
} kt_status;

const char *kt_strerror(kt_status st);

/* Formats a message into a caller's error buffer; a NULL or empty buffer means the caller does not want one. */
void kt_errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
