/* Kestra-shaped ids: a random 128-bit value written in base 62 ([0-9A-Za-z], at most 22 characters). */
#ifndef KT_BASE_ID_H
#define KT_BASE_ID_H

#define KT_ID_LEN 22
/* Writes a NUL-terminated id into out (at least KT_ID_LEN + 1 bytes), from the system's randomness: for ids made
 * outside the pure layers (executions, nodes). The step's ids come from its environment (base/env.h). */
void kt_id_new(char *out);
/* The id of 16 bytes read as one big-endian 128-bit number (FriendlyId's encoding of a UUID). */
void kt_id_encode(const unsigned char bytes[16], char *out);

#endif
