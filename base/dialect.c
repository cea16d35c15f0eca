#include "base/dialect.h"

#include <string.h>

const char *kt_dialect_name(kt_dialect d) { return d == KT_DIALECT_2X ? "2.x" : "1.x"; }

int kt_dialect_parse(const char *s, kt_dialect *out)
{
    if (!s || (s[0] != '1' && s[0] != '2'))
        return -1;
    /* "1" / "2", "1.x" / "2.x", or a release of the line ("1.3", "2.0", "2.1.4") */
    const char *rest = s + 1;
    if (*rest && strcmp(rest, ".x") != 0) {
        if (*rest != '.' || !(rest[1] >= '0' && rest[1] <= '9')) /* "1.", "1..3" */
            return -1;
        for (const char *p = rest + 1; *p; p++)
            if (!((*p >= '0' && *p <= '9') || (*p == '.' && p[1] && p[1] != '.')))
                return -1;
    }
    *out = s[0] == '2' ? KT_DIALECT_2X : KT_DIALECT_1X;
    return 0;
}

kt_dialect kt_dialect_of_flow(const json_t *flow)
{
    kt_dialect d = KT_DIALECT_1X;
    kt_dialect_parse(json_string_value(json_object_get(flow, "dialect")), &d);
    return d;
}
