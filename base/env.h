/* The environment of a pure computation: the one clock reading it may look at and a seeded pseudo-random source.
 *
 * The executor's step (actors/executor/step.h) and the expression engine (expr/expr.h) are functions of their
 * inputs and of this environment only: now(), uuid(), id(), randomInt() and the ids of the task runs a step creates
 * read it instead of the system. The same inputs with the same (clock reading, seed) give byte-identical results,
 * which is what replaying an event (tests, the simulator) needs. A live caller builds one per event from the real
 * clock and a seed drawn from the system (kt_env_init_real); time/ expr/ flow/ and the step never do.
 *
 * The random source is xoshiro256** seeded through splitmix64 (Blackman and Vigna): small, fast, 256 bits of state
 * and statistically good for ids and randomInt(). It is not a cryptographic generator; Kestra's task-run ids and
 * uuid() values are identifiers, not secrets. Caller-owned (usually on the stack) and used by one thread at a time:
 * every draw changes it. */
#ifndef KT_BASE_ENV_H
#define KT_BASE_ENV_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/dialect.h"

/* The internal-storage files the expression functions read(), fileSize() and isFileEmpty() may open (expr/func_files.c),
 * given by the caller that owns a storage (store/storage_env.h fills one from a kt_storage). The functions check
 * that a URI belongs to the execution being rendered before they call these; the hooks only fetch. A render whose
 * env has none fails those functions with a clear error. Reading a file makes the render depend on the storage
 * too, which is part of the environment: execution files are written once, so a replay reads the same bytes.
 *   read: the whole file (malloc'd, NUL-terminated) into *out, *len bytes; KT_ENOTFOUND when missing.
 *   size: the file's size in bytes.
 *   read_meta: read, plus the file's metadata (below). */
typedef struct kt_env_files {
    int (*read)(void *ud, const char *uri, char **out, size_t *len, char *err, size_t errcap);
    int (*size)(void *ud, const char *uri, int64_t *size, char *err, size_t errcap);
    /* read with the file's metadata object (a new reference in *meta, NULL when it has none) and its modification
     * time (epoch ms, into *modified_ms when not NULL): the kv() function reads a KV entry's expirationDate there.
     * May be NULL (kv() then fails saying so). */
    int (*read_meta)(void *ud, const char *uri, char **out, size_t *len, json_t **meta, int64_t *modified_ms,
                     char *err, size_t errcap);
    /* kv() found the entry at uri expired, as read_meta gave it (meta, modified_ms): deletes it, as Kestra's
     * InternalKVStore does, unless it was written again since (that value stays). Started, not awaited: the render
     * goes on. May be NULL (the entry stays until a kv.Get or the API reads it). */
    void (*drop)(void *ud, const char *uri, const json_t *meta, int64_t modified_ms);
    void *ud;
} kt_env_files;

/* Writes a new id (KT_ID_LEN + 1 bytes) for kt_env.ids. */
typedef void (*kt_env_idgen)(void *ud, char *out);

typedef struct kt_env {
    int64_t now_us; /* the clock reading: what now() returns (microseconds since the epoch, UTC) */
    uint64_t seed;  /* the seed the random source started from: with now_us, all it takes to replay */
    uint64_t state[4]; /* private: the generator's state */
    /* Optional: ids come from here instead of the random source, so a test can name its task runs (tr1, tr2...). */
    kt_env_idgen ids;
    void *ids_ud;
    /* Optional: the storage files read() and fileSize() reach (see kt_env_files); NULL: none. */
    const kt_env_files *files;
    /* The secrets, `envs` and encryption key of the process (base/secrets.h): kt_env_init takes the ones cmd/
     * installed at start-up (kt_secrets_install); NULL: secret() fails as missing, `envs` is undefined. */
    const struct kt_secrets *secrets;
    /* Optional: a JSON array the render appends every value secret() returned to (kt_mask_add), so the caller masks
     * them in what the run logs and outputs. NULL: not recorded. */
    struct json_t *secrets_used;
    /* The dialect of the flow being rendered (base/dialect.h): what differs between Kestra's lines in the functions
     * themselves (kv() on a missing key, json(), read()'s revision=). Zero: 1.x. */
    kt_dialect dialect;
} kt_env;

/* A given clock reading and seed (replays, tests). */
void kt_env_init(kt_env *e, int64_t now_us, uint64_t seed);
/* The real clock and a seed from the system (getrandom): for live callers outside the pure layers. */
void kt_env_init_real(kt_env *e);
/* A seed from the system, for a caller that has its own clock reading (the executor uses its event's). */
uint64_t kt_env_random_seed(void);

/* A seed that is a function of a text (FNV-1a, spread by splitmix64): for renders that must give the same result
 * every time they are repeated for the same thing (a loop's values, seeded by its task run's id). */
uint64_t kt_env_seed_of(const char *text);

/* The next 64 random bits. */
uint64_t kt_env_next(kt_env *e);
/* n random bytes. */
void kt_env_fill(kt_env *e, void *buf, size_t n);
/* A uniform double in [0, 1) (53 random bits). */
double kt_env_unit(kt_env *e);
/* 16 random bytes shaped as a version 4 (random) UUID, as java.util.UUID.randomUUID. */
void kt_env_uuid_bytes(kt_env *e, unsigned char out[16]);
/* A new Kestra id (base 62 of a v4 UUID, see base/id.h), or the one from e->ids when set. */
void kt_env_id(kt_env *e, char *out);

#endif
