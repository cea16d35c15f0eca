/* PostgreSQL backend of store/store.h (placeholder until the backend lands: refuses to open). */
#include "store/store_int.h"

#include <stdio.h>

kt_status kt_pg_open(const char *url, const kt_store_options *opt, kt_store **out, char *err, size_t errcap)
{
    (void)url;
    (void)opt;
    *out = NULL;
    snprintf(err, errcap, "PostgreSQL stores are not built yet");
    return KT_EINVAL;
}
