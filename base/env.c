#include "base/env.h"
#include "base/secrets.h"
#include "base/clock.h"
#include "base/id.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* splitmix64: spreads any seed (0, 1, 2... included) over the generator's 256 bits, as xoshiro's authors advise. */
static uint64_t kt_env_splitmix(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline uint64_t kt_env_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t kt_env_seed_of(const char *text)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++)
        h = (h ^ *c) * UINT64_C(1099511628211);
    return kt_env_splitmix(&h);
}

void kt_env_init(kt_env *e, int64_t now_us, uint64_t seed)
{
    memset(e, 0, sizeof *e);
    e->now_us = now_us;
    e->seed = seed;
    e->secrets = kt_secrets_installed();
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        e->state[i] = kt_env_splitmix(&x);
}

uint64_t kt_env_random_seed(void)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, 0) == (ssize_t)sizeof seed)
        return seed;
    /* getrandom does not fail for 8 bytes on Linux >= 3.17; should it, the clock and the pid still differ per call
     * and per process, which is all an id needs. */
    static _Atomic uint64_t calls; /* renders may run on several threads */
    return (uint64_t)kt_now_us() ^ ((uint64_t)getpid() << 32) ^ (++calls * UINT64_C(0x9e3779b97f4a7c15));
}

void kt_env_init_real(kt_env *e) { kt_env_init(e, kt_now_us(), kt_env_random_seed()); }

uint64_t kt_env_next(kt_env *e)
{
    uint64_t *s = e->state;
    uint64_t result = kt_env_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = kt_env_rotl(s[3], 45);
    return result;
}

void kt_env_fill(kt_env *e, void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        uint64_t r = kt_env_next(e);
        size_t k = n < sizeof r ? n : sizeof r;
        for (size_t i = 0; i < k; i++, r >>= 8)
            *p++ = (unsigned char)r; /* byte by byte: the same bytes on any endianness */
        n -= k;
    }
}

double kt_env_unit(kt_env *e) { return (double)(kt_env_next(e) >> 11) / 9007199254740992.0; /* 2^53 */ }

void kt_env_uuid_bytes(kt_env *e, unsigned char out[16])
{
    kt_env_fill(e, out, 16);
    out[6] = (unsigned char)((out[6] & 0x0F) | 0x40); /* version 4 */
    out[8] = (unsigned char)((out[8] & 0x3F) | 0x80); /* IETF variant */
}

void kt_env_id(kt_env *e, char *out)
{
    if (e->ids) {
        e->ids(e->ids_ud, out);
        return;
    }
    unsigned char b[16];
    kt_env_uuid_bytes(e, b); /* IdUtils.create(): a random UUID in base 62 */
    kt_id_encode(b, out);
}
