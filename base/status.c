#include "base/status.h"

#include <stdarg.h>
#include <stdio.h>

const char *kt_strerror(kt_status st)
{
    switch (st) {
    case KT_OK: return "ok";
    case KT_ENOMEM: return "out of memory";
    case KT_EINVAL: return "invalid argument";
    case KT_ENOTFOUND: return "not found";
    case KT_ECONFLICT: return "conflict";
    case KT_EIO: return "i/o error";
    case KT_EDB: return "database error";
    case KT_EPROTO: return "protocol error";
    case KT_ECLOSED: return "closed";
    case KT_EAGAIN: return "try again";
    case KT_ETIMEDOUT: return "timed out";
    case KT_EINTERNAL: return "internal error";
    case KT_EFENCED: return "fenced: the partition's lease moved to another owner";
    }
    return "unknown status";
}

void kt_errf(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || !cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}
