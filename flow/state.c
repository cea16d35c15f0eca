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

/* The states by first letter, built from the names before main: kt_state_of runs for every task run in every pass
 * of the step, so it compares at most the few names that share a first letter (four for R). */
static signed char kt_state_first[128];         /* first letter -> first state with it, -1 for none */
static signed char kt_state_next[KT_STATE_COUNT]; /* the next state with the same first letter, -1 at the end */

__attribute__((constructor)) static void kt_state_index(void)
{
    memset(kt_state_first, -1, sizeof kt_state_first);
    for (int i = KT_STATE_COUNT - 1; i >= 0; i--) {
        unsigned char c = (unsigned char)kt_state_names[i][0];
        kt_state_next[i] = kt_state_first[c];
        kt_state_first[c] = (signed char)i;
    }
}

kt_state kt_state_of(const char *name)
{
    unsigned char c = name ? (unsigned char)name[0] : 0;
    for (int i = c < 128 ? kt_state_first[c] : -1; i >= 0; i = kt_state_next[i])
        if (!strcmp(name + 1, kt_state_names[i] + 1))
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
