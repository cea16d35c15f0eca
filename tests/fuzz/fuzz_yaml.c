/* libFuzzer target: the YAML loader and the flow validator on arbitrary bytes. Any input must give either a flow
 * or diagnostics with positions, never a crash, a leak or undefined behaviour. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "flow/flow.h"
#include "flow/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kt_diags d;
    kt_diags_init(&d);
    kt_yaml_doc **docs = NULL;
    size_t ndocs = 0;
    if (kt_yaml_load((const char *)data, size, "fuzz.yaml", &docs, &ndocs, &d) == KT_OK)
        kt_yaml_docs_free(docs, ndocs);
    kt_diags_clear(&d);
    kt_flow *f = NULL;
    if (kt_flow_parse((const char *)data, size, "fuzz.yaml", &f, &d) == KT_OK)
        kt_flow_free(f);
    char *msg = kt_diags_format(&d);
    free(msg);
    kt_diags_clear(&d);
    return 0;
}
