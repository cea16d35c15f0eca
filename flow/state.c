/* The state table's functions (flow/state.h). */
#include "flow/state.h"

#include <string.h>

const char *const kt_state_names[KT_STATE_COUNT + 1] = {
#define KT_STATE_NAME_(name, flags, sources) #name,
    KT_STATE_TABLE(KT_STATE_NAME_)
#undef KT_STATE_NAME_
    NULL,
};

static const unsigned kt_state_flag_table[KT_STATE_COUNT] = {
#define KT_STATE_FLAGS_(name, flags, sources) (flags),
    KT_STATE_TABLE(KT_STATE_FLAGS_)
#undef KT_STATE_FLAGS_
};

static const unsigned kt_state_sources[KT_STATE_COUNT] = {
#define KT_STATE_SOURCES_(name, flags, sources) (sources),
    KT_STATE_TABLE(KT_STATE_SOURCES_)
#undef KT_STATE_SOURCES_
};

kt_state kt_state_of(const char *name)
{
    if (!name)
        return KT_STATE_NONE;
    /* the first letter rules out most names without a call (this runs for every run in every pass) */
    for (int i = 0; i < KT_STATE_COUNT; i++)
        if (name[0] == kt_state_names[i][0] && !strcmp(name, kt_state_names[i]))
            return (kt_state)i;
    return KT_STATE_NONE;
}

const char *kt_state_name(kt_state s) { return s > KT_STATE_NONE && s < KT_STATE_COUNT ? kt_state_names[s] : NULL; }

unsigned kt_state_flags(kt_state s) { return s > KT_STATE_NONE && s < KT_STATE_COUNT ? kt_state_flag_table[s] : 0; }

int kt_state_is(const char *name, unsigned flags) { return (kt_state_flags(kt_state_of(name)) & flags) != 0; }

int kt_state_can_move(kt_state from, kt_state to)
{
    if (from <= KT_STATE_NONE || from >= KT_STATE_COUNT || to <= KT_STATE_NONE || to >= KT_STATE_COUNT)
        return 0;
    return from == to || (kt_state_sources[to] >> from & 1u);
}
