/* The command table's functions (runtime/command.h). */
#include "runtime/command.h"

#include <string.h>

static const char *const kt_cmd_names[KT_CMD_COUNT] = {
#define KT_CMD_NAME_(name, flags) #name,
    KT_COMMAND_TABLE(KT_CMD_NAME_)
#undef KT_CMD_NAME_
};

static const unsigned kt_cmd_flag_table[KT_CMD_COUNT] = {
#define KT_CMD_FLAGS_(name, flags) (flags),
    KT_COMMAND_TABLE(KT_CMD_FLAGS_)
#undef KT_CMD_FLAGS_
};

const char *kt_cmd_name(kt_cmd c) { return c > KT_CMD_NONE && c < KT_CMD_COUNT ? kt_cmd_names[c] : NULL; }

unsigned kt_cmd_flags(kt_cmd c) { return c > KT_CMD_NONE && c < KT_CMD_COUNT ? kt_cmd_flag_table[c] : 0; }

kt_cmd kt_cmd_of(const char *name)
{
    for (int i = 0; name && i < KT_CMD_COUNT; i++)
        if (!strcmp(name, kt_cmd_names[i]))
            return (kt_cmd)i;
    return KT_CMD_NONE;
}
