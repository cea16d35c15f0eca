/* Kestra-shaped ids: a random 128-bit value written in base 62 ([0-9A-Za-z], at most 22 characters). */
#ifndef KT_BASE_ID_H
#define KT_BASE_ID_H

#define KT_ID_LEN 22
/* Writes a NUL-terminated id into out (at least KT_ID_LEN + 1 bytes). */
void kt_id_new(char *out);

#endif
