/* For the unit tests: the JSON a test writes inline, parsed, or the test fails naming it. Static inline, one copy
 * per test program (step_fixture.h and store_fixture.h include it too). */
#ifndef KT_TEST_JSON_PARSE_H
#define KT_TEST_JSON_PARSE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

/* The parsed value (any JSON, scalars too; the caller decrefs). */
static inline json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad test JSON %s: %s", text, e.text);
    return v;
}

#endif
