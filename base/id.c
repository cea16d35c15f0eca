#include "base/id.h"

#include <string.h>
#include <sys/random.h>

static const char kt_id_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void kt_id_encode(const unsigned char bytes[16], char *out)
{
    unsigned __int128 v = 0;
    for (int i = 0; i < 16; i++)
        v = (v << 8) | bytes[i];
    /* 62^22 > 2^128: the loop always ends within KT_ID_LEN digits */
    char tmp[KT_ID_LEN + 1];
    int n = 0;
    do {
        tmp[n++] = kt_id_alphabet[(int)(v % 62)];
        v /= 62;
    } while (v && n < KT_ID_LEN);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = 0;
}

void kt_id_new(char *out)
{
    /* Kestra's FriendlyId is a UUIDv4 in base 62; any uniformly random 128-bit value has the same shape. */
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        /* getrandom on Linux >= 3.17 does not fail for 16 bytes; keep a defined value anyway. */
        memset(b, 0x5a, sizeof b);
    }
    kt_id_encode(b, out);
}
