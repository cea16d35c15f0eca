/* Zip writer and reader (base/zip.h). Record layouts from PKWARE's APPNOTE: local file header, data descriptor,
 * central directory header, end of central directory, and their zip64 forms. All fields little-endian. */
#include "base/zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define KT_ZIP_SIG_LOCAL 0x04034b50u
#define KT_ZIP_SIG_DESC 0x08074b50u
#define KT_ZIP_SIG_CENTRAL 0x02014b50u
#define KT_ZIP_SIG_END 0x06054b50u
#define KT_ZIP_SIG_END64 0x06064b50u
#define KT_ZIP_SIG_LOC64 0x07064b50u
#define KT_ZIP_FLAG_DESC 0x0008u
#define KT_ZIP_FLAG_UTF8 0x0800u
#define KT_ZIP_FLAG_ENCRYPTED 0x0001u
#define KT_ZIP_MADE_BY_UNIX 3
#define KT_ZIP_U32 0xffffffffu
#define KT_ZIP_U16 0xffffu
#define KT_ZIP_OUT_CHUNK (64 * 1024)

/* ---- little-endian fields ---- */

static void kt_zip_put16(kt_buf *b, unsigned v)
{
    char c[2] = {(char)(v & 0xff), (char)((v >> 8) & 0xff)};
    kt_buf_put(b, c, 2);
}

static void kt_zip_put32(kt_buf *b, uint32_t v)
{
    kt_zip_put16(b, v & 0xffff);
    kt_zip_put16(b, v >> 16);
}

static void kt_zip_put64(kt_buf *b, uint64_t v)
{
    kt_zip_put32(b, (uint32_t)v);
    kt_zip_put32(b, (uint32_t)(v >> 32));
}

static unsigned kt_zip_get16(const unsigned char *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }
static uint32_t kt_zip_get32(const unsigned char *p) { return kt_zip_get16(p) | (uint32_t)kt_zip_get16(p + 2) << 16; }
static uint64_t kt_zip_get64(const unsigned char *p) { return kt_zip_get32(p) | (uint64_t)kt_zip_get32(p + 4) << 32; }

/* ---- writer ---- */

typedef struct kt_zip_rec {
    char *name;
    uint16_t method, dtime, ddate;
    uint32_t crc;
    uint64_t csize, usize, offset;
} kt_zip_rec;

struct kt_zip_writer {
    int deflate, open, finished;
    z_stream z;
    int z_ready;
    uint64_t offset; /* bytes emitted so far */
    kt_zip_rec *recs;
    size_t n, cap;
    unsigned char *zbuf;
};

kt_zip_writer *kt_zip_writer_new(int deflate)
{
    kt_zip_writer *z = calloc(1, sizeof *z);
    if (!z)
        return NULL;
    z->deflate = deflate;
    if (deflate && !(z->zbuf = malloc(KT_ZIP_OUT_CHUNK))) {
        free(z);
        return NULL;
    }
    return z;
}

void kt_zip_writer_free(kt_zip_writer *z)
{
    if (!z)
        return;
    if (z->z_ready)
        deflateEnd(&z->z);
    for (size_t i = 0; i < z->n; i++)
        free(z->recs[i].name);
    free(z->recs);
    free(z->zbuf);
    free(z);
}

/* Appends n bytes to out and counts them in the archive's offset. */
static void kt_zip_emit(kt_zip_writer *z, kt_buf *out, const void *p, size_t n)
{
    kt_buf_put(out, p, n);
    z->offset += n;
}

static void kt_zip_dos_time(int64_t t, uint16_t *dtime, uint16_t *ddate)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (t < 315532800) /* 1980-01-01, the format's first day */
        tt = 315532800;
    gmtime_r(&tt, &tm);
    if (tm.tm_year > 207) { /* 2107 is its last year */
        tm.tm_year = 207, tm.tm_mon = 11, tm.tm_mday = 31, tm.tm_hour = 23, tm.tm_min = 59, tm.tm_sec = 58;
    }
    *dtime = (uint16_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
    *ddate = (uint16_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
}

kt_status kt_zip_entry_begin(kt_zip_writer *z, const char *name, int64_t mtime_s, kt_buf *out)
{
    size_t nl = name ? strlen(name) : 0;
    if (z->finished || z->open || !nl || nl >= KT_ZIP_U16)
        return KT_EINVAL;
    if (z->n == z->cap) {
        size_t nc = z->cap ? z->cap * 2 : 32;
        kt_zip_rec *t = realloc(z->recs, nc * sizeof *t);
        if (!t)
            return KT_ENOMEM;
        z->recs = t, z->cap = nc;
    }
    kt_zip_rec *r = &z->recs[z->n];
    memset(r, 0, sizeof *r);
    if (!(r->name = strdup(name)))
        return KT_ENOMEM;
    int is_dir = name[nl - 1] == '/';
    r->method = z->deflate && !is_dir ? 8 : 0;
    r->offset = z->offset;
    kt_zip_dos_time(mtime_s, &r->dtime, &r->ddate);
    if (r->method == 8) {
        memset(&z->z, 0, sizeof z->z);
        if (deflateInit2(&z->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            free(r->name);
            return KT_ENOMEM;
        }
        z->z_ready = 1;
    }
    z->n++;
    z->open = 1;
    r->crc = (uint32_t)crc32(0, Z_NULL, 0);
    size_t before = out->len;
    kt_zip_put32(out, KT_ZIP_SIG_LOCAL);
    kt_zip_put16(out, 20); /* version needed: 2.0 (deflate, folders) */
    kt_zip_put16(out, KT_ZIP_FLAG_DESC | KT_ZIP_FLAG_UTF8);
    kt_zip_put16(out, r->method);
    kt_zip_put16(out, r->dtime);
    kt_zip_put16(out, r->ddate);
    kt_zip_put32(out, 0); /* crc and sizes: in the data descriptor */
    kt_zip_put32(out, 0);
    kt_zip_put32(out, 0);
    kt_zip_put16(out, (unsigned)nl);
    kt_zip_put16(out, 0);
    kt_buf_put(out, name, nl);
    z->offset += out->len - before;
    return KT_OK;
}

/* Runs deflate over what z->z holds with flush, emitting every output block. */
static kt_status kt_zip_deflate(kt_zip_writer *z, kt_zip_rec *r, int flush, kt_buf *out)
{
    for (;;) {
        z->z.next_out = z->zbuf;
        z->z.avail_out = KT_ZIP_OUT_CHUNK;
        int rc = deflate(&z->z, flush);
        if (rc == Z_STREAM_ERROR)
            return KT_EINTERNAL;
        size_t got = KT_ZIP_OUT_CHUNK - z->z.avail_out;
        kt_zip_emit(z, out, z->zbuf, got);
        r->csize += got;
        if (flush == Z_FINISH ? rc == Z_STREAM_END : z->z.avail_in == 0 && z->z.avail_out != 0)
            return KT_OK;
    }
}

kt_status kt_zip_entry_write(kt_zip_writer *z, const void *data, size_t len, kt_buf *out)
{
    if (!z->open)
        return KT_EINVAL;
    kt_zip_rec *r = &z->recs[z->n - 1];
    const unsigned char *p = data;
    while (len) { /* zlib's lengths are 32-bit */
        uInt n = len > (1u << 30) ? 1u << 30 : (uInt)len;
        r->crc = (uint32_t)crc32(r->crc, p, n);
        r->usize += n;
        if (r->method == 8) {
            z->z.next_in = (Bytef *)p;
            z->z.avail_in = n;
            kt_status st = kt_zip_deflate(z, r, Z_NO_FLUSH, out);
            if (st)
                return st;
        } else {
            if (r->name[strlen(r->name) - 1] == '/')
                return KT_EINVAL; /* a folder holds no bytes */
            kt_zip_emit(z, out, p, n);
            r->csize += n;
        }
        p += n, len -= n;
    }
    return KT_OK;
}

static int kt_zip_rec_is64(const kt_zip_rec *r)
{
    return r->csize >= KT_ZIP_U32 || r->usize >= KT_ZIP_U32 || r->offset >= KT_ZIP_U32;
}

kt_status kt_zip_entry_end(kt_zip_writer *z, kt_buf *out)
{
    if (!z->open)
        return KT_EINVAL;
    kt_zip_rec *r = &z->recs[z->n - 1];
    if (r->method == 8) {
        z->z.next_in = NULL;
        z->z.avail_in = 0;
        kt_status st = kt_zip_deflate(z, r, Z_FINISH, out);
        deflateEnd(&z->z);
        z->z_ready = 0;
        if (st)
            return st;
    }
    size_t before = out->len;
    kt_zip_put32(out, KT_ZIP_SIG_DESC);
    kt_zip_put32(out, r->crc);
    if (r->csize >= KT_ZIP_U32 || r->usize >= KT_ZIP_U32) { /* Go's rule: 8-byte sizes when they need it */
        kt_zip_put64(out, r->csize);
        kt_zip_put64(out, r->usize);
    } else {
        kt_zip_put32(out, (uint32_t)r->csize);
        kt_zip_put32(out, (uint32_t)r->usize);
    }
    z->offset += out->len - before;
    z->open = 0;
    return KT_OK;
}

static void kt_zip_central(kt_buf *out, const kt_zip_rec *r)
{
    int is64 = kt_zip_rec_is64(r);
    size_t nl = strlen(r->name);
    int is_dir = r->name[nl - 1] == '/';
    unsigned extra = 0;
    if (is64)
        extra = 4 + (r->usize >= KT_ZIP_U32 ? 8 : 0) + (r->csize >= KT_ZIP_U32 ? 8 : 0) +
                (r->offset >= KT_ZIP_U32 ? 8 : 0);
    kt_zip_put32(out, KT_ZIP_SIG_CENTRAL);
    kt_zip_put16(out, KT_ZIP_MADE_BY_UNIX << 8 | (is64 ? 45 : 20));
    kt_zip_put16(out, is64 ? 45 : 20);
    kt_zip_put16(out, KT_ZIP_FLAG_DESC | KT_ZIP_FLAG_UTF8);
    kt_zip_put16(out, r->method);
    kt_zip_put16(out, r->dtime);
    kt_zip_put16(out, r->ddate);
    kt_zip_put32(out, r->crc);
    kt_zip_put32(out, r->csize >= KT_ZIP_U32 ? KT_ZIP_U32 : (uint32_t)r->csize);
    kt_zip_put32(out, r->usize >= KT_ZIP_U32 ? KT_ZIP_U32 : (uint32_t)r->usize);
    kt_zip_put16(out, (unsigned)nl);
    kt_zip_put16(out, extra);
    kt_zip_put16(out, 0); /* comment */
    kt_zip_put16(out, 0); /* disk */
    kt_zip_put16(out, 0); /* internal attributes */
    kt_zip_put32(out, (uint32_t)(is_dir ? 040755u : 0100644u) << 16 | (is_dir ? 0x10u : 0u)); /* mode; DOS dir bit */
    kt_zip_put32(out, r->offset >= KT_ZIP_U32 ? KT_ZIP_U32 : (uint32_t)r->offset);
    kt_buf_put(out, r->name, nl);
    if (is64) {
        kt_zip_put16(out, 0x0001);
        kt_zip_put16(out, extra - 4);
        if (r->usize >= KT_ZIP_U32)
            kt_zip_put64(out, r->usize);
        if (r->csize >= KT_ZIP_U32)
            kt_zip_put64(out, r->csize);
        if (r->offset >= KT_ZIP_U32)
            kt_zip_put64(out, r->offset);
    }
}

kt_status kt_zip_finish(kt_zip_writer *z, kt_buf *out)
{
    if (z->finished)
        return KT_EINVAL;
    if (z->open) {
        kt_status st = kt_zip_entry_end(z, out);
        if (st)
            return st;
    }
    z->finished = 1;
    uint64_t cd_off = z->offset;
    size_t before = out->len;
    for (size_t i = 0; i < z->n; i++)
        kt_zip_central(out, &z->recs[i]);
    uint64_t cd_size = out->len - before;
    z->offset += cd_size;
    if (z->n >= KT_ZIP_U16 || cd_off >= KT_ZIP_U32 || cd_size >= KT_ZIP_U32) {
        uint64_t end64 = z->offset;
        kt_zip_put32(out, KT_ZIP_SIG_END64);
        kt_zip_put64(out, 44); /* the record's size after this field */
        kt_zip_put16(out, KT_ZIP_MADE_BY_UNIX << 8 | 45);
        kt_zip_put16(out, 45);
        kt_zip_put32(out, 0);
        kt_zip_put32(out, 0);
        kt_zip_put64(out, z->n);
        kt_zip_put64(out, z->n);
        kt_zip_put64(out, cd_size);
        kt_zip_put64(out, cd_off);
        kt_zip_put32(out, KT_ZIP_SIG_LOC64);
        kt_zip_put32(out, 0);
        kt_zip_put64(out, end64);
        kt_zip_put32(out, 1);
    }
    kt_zip_put32(out, KT_ZIP_SIG_END);
    kt_zip_put16(out, 0);
    kt_zip_put16(out, 0);
    kt_zip_put16(out, z->n >= KT_ZIP_U16 ? KT_ZIP_U16 : (unsigned)z->n);
    kt_zip_put16(out, z->n >= KT_ZIP_U16 ? KT_ZIP_U16 : (unsigned)z->n);
    kt_zip_put32(out, cd_size >= KT_ZIP_U32 ? KT_ZIP_U32 : (uint32_t)cd_size);
    kt_zip_put32(out, cd_off >= KT_ZIP_U32 ? KT_ZIP_U32 : (uint32_t)cd_off);
    kt_zip_put16(out, 0);
    return KT_OK;
}

/* ---- reader ---- */

struct kt_zip_reader {
    const unsigned char *data;
    size_t len;
    kt_zip_entry *e;
    size_t n;
};

struct kt_zip_stream {
    kt_zip_reader *r;
    const kt_zip_entry *e;
    z_stream z;
    int z_ready, done;
    uint64_t in_off, out_n; /* compressed bytes consumed, uncompressed bytes produced */
    uint32_t crc;
};

void kt_zip_close(kt_zip_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->e[i].name);
    free(r->e);
    free(r);
}

size_t kt_zip_count(const kt_zip_reader *r) { return r->n; }
const kt_zip_entry *kt_zip_get(const kt_zip_reader *r, size_t i) { return i < r->n ? &r->e[i] : NULL; }

/* NULL when the name is acceptable, else why not. */
static const char *kt_zip_bad_name(const char *name, size_t len)
{
    if (!len)
        return "an empty name";
    if (name[0] == '/')
        return "an absolute path";
    if (len >= 2 && name[1] == ':' && ((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z'))
        return "an absolute path (a drive letter)";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '\\')
            return "a backslash";
        if (c < 0x20 || c == 0x7f)
            return "a NUL or control character";
        if (c == '.' && i + 1 < len && name[i + 1] == '.' && (i == 0 || name[i - 1] == '/') &&
            (i + 2 == len || name[i + 2] == '/'))
            return "a '..' segment";
    }
    return NULL;
}

/* The zip64 extra field of a central record: the 32-bit fields that hold 0xffffffff are read from it, in order. */
static int kt_zip_extra64(const unsigned char *x, size_t xl, uint64_t *usize, uint64_t *csize, uint64_t *off)
{
    while (xl >= 4) {
        unsigned id = kt_zip_get16(x), n = kt_zip_get16(x + 2);
        if (n > xl - 4)
            return -1;
        if (id == 0x0001) {
            const unsigned char *p = x + 4, *end = x + 4 + n;
            uint64_t *f[3] = {usize, csize, off};
            for (int i = 0; i < 3; i++)
                if (*f[i] == KT_ZIP_U32) {
                    if (end - p < 8)
                        return -1;
                    *f[i] = kt_zip_get64(p);
                    p += 8;
                }
            return 0;
        }
        x += 4 + n, xl -= 4 + n;
    }
    return 0;
}

/* The end records: where the central directory lies and how many entries it has. */
static int kt_zip_find_end(const unsigned char *d, size_t len, uint64_t *count, uint64_t *cd_off, uint64_t *cd_size)
{
    if (len < 22)
        return -1;
    size_t lo = len > 22 + 65535 ? len - 22 - 65535 : 0;
    for (size_t i = len - 22 + 1; i-- > lo;) {
        if (kt_zip_get32(d + i) != KT_ZIP_SIG_END || i + 22 + kt_zip_get16(d + i + 20) != len)
            continue;
        *count = kt_zip_get16(d + i + 10);
        *cd_size = kt_zip_get32(d + i + 12);
        *cd_off = kt_zip_get32(d + i + 16);
        if (i >= 20 && kt_zip_get32(d + i - 20) == KT_ZIP_SIG_LOC64) {
            uint64_t e64 = kt_zip_get64(d + i - 20 + 8);
            if (e64 > len - 56 || kt_zip_get32(d + e64) != KT_ZIP_SIG_END64)
                return -1;
            *count = kt_zip_get64(d + e64 + 32);
            *cd_size = kt_zip_get64(d + e64 + 40);
            *cd_off = kt_zip_get64(d + e64 + 48);
        }
        return *cd_off <= len && *cd_size <= len - *cd_off ? 0 : -1;
    }
    return -1;
}

/* Checks one central record at p (avail bytes left) into e; its length in *used. NULL when fine, else why not. */
static const char *kt_zip_parse_central(const kt_zip_reader *r, const unsigned char *p, size_t avail,
                                        kt_zip_entry *e, size_t *used, char *name_out, size_t name_cap)
{
    if (avail < 46 || kt_zip_get32(p) != KT_ZIP_SIG_CENTRAL)
        return "a broken central directory";
    unsigned made_by = kt_zip_get16(p + 4) >> 8, flags = kt_zip_get16(p + 8);
    unsigned nl = kt_zip_get16(p + 28), xl = kt_zip_get16(p + 30), cl = kt_zip_get16(p + 32);
    uint32_t ext = kt_zip_get32(p + 38);
    if (46u + nl + xl + cl > avail)
        return "a broken central directory";
    *used = 46u + nl + xl + cl;
    snprintf(name_out, name_cap, "%.*s", (int)(nl < name_cap ? nl : name_cap - 1), (const char *)p + 46);
    e->method = (int)kt_zip_get16(p + 10);
    e->crc = kt_zip_get32(p + 16);
    e->csize = kt_zip_get32(p + 20);
    e->usize = kt_zip_get32(p + 24);
    uint64_t off = kt_zip_get32(p + 42);
    if (kt_zip_extra64(p + 46 + nl, xl, &e->usize, &e->csize, &off))
        return "a broken zip64 field";
    const char *why = kt_zip_bad_name((const char *)p + 46, nl);
    if (why)
        return why;
    if (flags & KT_ZIP_FLAG_ENCRYPTED)
        return "encrypted data";
    e->is_dir = p[46 + nl - 1] == '/';
    if (made_by == KT_ZIP_MADE_BY_UNIX) {
        unsigned type = (ext >> 16) & 0170000u;
        if (type == 0120000u)
            return "a symbolic link";
        if (type && type != 0100000u && type != 040000u)
            return "a special file (not a regular file nor a folder)";
        if (type == 040000u)
            e->is_dir = 1;
    }
    if (e->method != 0 && e->method != 8)
        return "an unsupported compression method (only STORE and DEFLATE)";
    if (e->method == 0 && e->csize != e->usize)
        return "a stored entry whose sizes differ";
    /* the local header: its own name and extra lengths say where the data starts */
    if (off > r->len || r->len - off < 30 || kt_zip_get32(r->data + off) != KT_ZIP_SIG_LOCAL)
        return "a missing local header";
    uint64_t data = off + 30 + kt_zip_get16(r->data + off + 26) + kt_zip_get16(r->data + off + 28);
    if (data > r->len || e->csize > r->len - data)
        return "data beyond the end of the archive";
    e->data_off = data;
    if (!(e->name = malloc(nl + 1u)))
        return "out of memory";
    memcpy(e->name, p + 46, nl);
    e->name[nl] = 0;
    return NULL;
}

kt_status kt_zip_open(const void *data, size_t len, const kt_zip_limits *lim, kt_zip_reader **out, char *err,
                      size_t errcap)
{
    uint64_t count, cd_off, cd_size, total = 0;
    *out = NULL;
    if (kt_zip_find_end(data, len, &count, &cd_off, &cd_size)) {
        snprintf(err, errcap, "not a zip archive (no end of central directory record)");
        return KT_EINVAL;
    }
    if (lim && count > lim->max_entries) {
        snprintf(err, errcap, "the archive holds %llu entries, more than the %zu allowed", (unsigned long long)count,
                 lim->max_entries);
        return KT_ECONFLICT;
    }
    if (count > cd_size / 46) {
        snprintf(err, errcap, "a broken central directory");
        return KT_EINVAL;
    }
    kt_zip_reader *r = calloc(1, sizeof *r);
    if (!r || (count && !(r->e = calloc((size_t)count, sizeof *r->e)))) {
        free(r);
        return KT_ENOMEM;
    }
    r->data = data, r->len = len;
    const unsigned char *p = r->data + cd_off;
    size_t avail = (size_t)cd_size;
    for (uint64_t i = 0; i < count; i++) {
        size_t used = 0;
        char name[256];
        const char *why = kt_zip_parse_central(r, p, avail, &r->e[i], &used, name, sizeof name);
        if (why) {
            snprintf(err, errcap, "entry '%s': %s", name, why);
            kt_zip_close(r);
            return KT_EINVAL;
        }
        r->n++;
        total += r->e[i].usize;
        if (lim && (total > lim->max_total || r->e[i].usize > lim->max_total)) {
            snprintf(err, errcap, "entry '%s': the archive uncompresses to more than %llu bytes", name,
                     (unsigned long long)lim->max_total);
            kt_zip_close(r);
            return KT_ECONFLICT;
        }
        p += used, avail -= used;
    }
    *out = r;
    return KT_OK;
}

kt_status kt_zip_stream_open(kt_zip_reader *r, size_t i, kt_zip_stream **out)
{
    *out = NULL;
    if (i >= r->n)
        return KT_EINVAL;
    kt_zip_stream *s = calloc(1, sizeof *s);
    if (!s)
        return KT_ENOMEM;
    s->r = r;
    s->e = &r->e[i];
    s->crc = (uint32_t)crc32(0, Z_NULL, 0);
    if (s->e->method == 8) {
        if (inflateInit2(&s->z, -MAX_WBITS) != Z_OK) {
            free(s);
            return KT_ENOMEM;
        }
        s->z_ready = 1;
    }
    *out = s;
    return KT_OK;
}

void kt_zip_stream_close(kt_zip_stream *s)
{
    if (!s)
        return;
    if (s->z_ready)
        inflateEnd(&s->z);
    free(s);
}

/* The end of the entry: its size and CRC as declared. */
static kt_status kt_zip_stream_end(kt_zip_stream *s, char *err, size_t errcap)
{
    if (s->out_n != s->e->usize) {
        snprintf(err, errcap, "entry '%s': %llu bytes where %llu were declared", s->e->name,
                 (unsigned long long)s->out_n, (unsigned long long)s->e->usize);
        return KT_EINVAL;
    }
    if (s->crc != s->e->crc) {
        snprintf(err, errcap, "entry '%s': CRC-32 mismatch (corrupt data)", s->e->name);
        return KT_EINVAL;
    }
    s->done = 1;
    return KT_OK;
}

kt_status kt_zip_stream_read(kt_zip_stream *s, void *buf, size_t cap, size_t *n, char *err, size_t errcap)
{
    const kt_zip_entry *e = s->e;
    *n = 0;
    if (s->done || !cap)
        return KT_OK;
    if (cap > (1u << 30))
        cap = 1u << 30;
    if (e->method == 0) {
        uint64_t left = e->csize - s->in_off;
        size_t k = left < cap ? (size_t)left : cap;
        if (!k)
            return kt_zip_stream_end(s, err, errcap);
        memcpy(buf, s->r->data + e->data_off + s->in_off, k);
        s->in_off += k;
        s->out_n += k;
        s->crc = (uint32_t)crc32(s->crc, buf, (uInt)k);
        *n = k;
        return KT_OK;
    }
    /* DEFLATE: at most one byte past the declared size is asked for, so a bomb is caught at once */
    uint64_t room = e->usize - s->out_n + 1;
    if (cap > room)
        cap = (size_t)room;
    uint64_t left = e->csize - s->in_off;
    s->z.next_in = (Bytef *)(s->r->data + e->data_off + s->in_off);
    s->z.avail_in = left > (1u << 30) ? 1u << 30 : (uInt)left;
    s->z.next_out = buf;
    s->z.avail_out = (uInt)cap;
    int rc = inflate(&s->z, Z_NO_FLUSH);
    size_t got = cap - s->z.avail_out;
    s->in_off += s->z.next_in - (s->r->data + e->data_off + s->in_off);
    s->out_n += got;
    if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && got)) {
        snprintf(err, errcap, "entry '%s': corrupt compressed data (%s)", e->name,
                 rc == Z_BUF_ERROR ? "truncated" : s->z.msg ? s->z.msg : "inflate failed");
        return KT_EINVAL;
    }
    if (s->out_n > e->usize) {
        snprintf(err, errcap, "entry '%s': uncompresses to more than the %llu bytes declared", e->name,
                 (unsigned long long)e->usize);
        return KT_EINVAL;
    }
    s->crc = (uint32_t)crc32(s->crc, buf, (uInt)got);
    *n = got;
    if (rc == Z_STREAM_END) {
        kt_status st = kt_zip_stream_end(s, err, errcap);
        if (st)
            return st;
        s->done = 1;
    }
    if (!got && !s->done) { /* no progress without the end: the input is exhausted */
        snprintf(err, errcap, "entry '%s': corrupt compressed data (truncated)", e->name);
        return KT_EINVAL;
    }
    return KT_OK;
}

kt_status kt_zip_read_all(kt_zip_reader *r, size_t i, size_t max, char **out, size_t *len, char *err, size_t errcap)
{
    *out = NULL;
    *len = 0;
    if (i >= r->n)
        return KT_EINVAL;
    if (r->e[i].usize > max) {
        snprintf(err, errcap, "entry '%s': %llu bytes, more than the %zu allowed", r->e[i].name,
                 (unsigned long long)r->e[i].usize, max);
        return KT_EINVAL;
    }
    kt_zip_stream *s;
    kt_status st = kt_zip_stream_open(r, i, &s);
    if (st)
        return st;
    size_t cap = (size_t)r->e[i].usize + 2, used = 0; /* room for one byte too many, and the NUL */
    char *buf = malloc(cap);
    if (!buf) {
        kt_zip_stream_close(s);
        return KT_ENOMEM;
    }
    for (;;) {
        size_t n;
        st = kt_zip_stream_read(s, buf + used, cap - 1 - used, &n, err, errcap);
        if (st || (!n && s->done))
            break;
        used += n; /* never past cap - 1: a read stops one byte past the declared size, an error */
    }
    kt_zip_stream_close(s);
    if (st) {
        free(buf);
        return st;
    }
    buf[used] = 0;
    *out = buf;
    *len = used;
    return KT_OK;
}
