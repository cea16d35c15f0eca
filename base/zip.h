/* Zip archives (PKWARE APPNOTE 6.3): a streamed writer and a reader over an archive held in memory, for the
 * namespace files export and import. Pure bytes: no I/O, the caller moves them. STORE and DEFLATE (zlib, raw
 * deflate). Prefix kt_zip.
 *
 * Writer: entries are written one after the other, each with a data descriptor (general purpose flag bit 3) so a
 * file's size and CRC need not be known before its bytes are streamed. Every call appends what is ready to the
 * caller's kt_buf, which the caller sends and empties as it likes; the writer keeps only one small record per entry
 * (for the central directory) and zlib's state. Names are flagged UTF-8 (bit 11), entries made by "Unix" with mode
 * 0644 in the external attributes. ZIP64 as Go's archive/zip writes it: when an entry's sizes or offset, the entry
 * count, or the central directory's place pass the 32-bit fields, the central directory carries the zip64 extra
 * field and the zip64 end records, and that entry's data descriptor has 8-byte sizes. The local headers never carry
 * zip64 fields (their sizes are unknown when they are written), so a reader that trusts local headers instead of the
 * central directory (a streaming reader) may misread an entry of 4 GiB or more; central-directory readers (unzip,
 * Python's zipfile, Java's ZipFile, this reader) read it right.
 *
 * Reader: the central directory is the truth (it alone holds the external attributes that say "symlink"). Opening
 * checks every entry before anything is extracted, so an archive is refused whole or read whole: names (no empty
 * name, no absolute path — leading '/' or a drive letter —, no backslash, no `..` segment, no NUL or control
 * character, valid lengths), no symlink nor other special file in the Unix mode bits, STORE or DEFLATE only, no
 * encryption, every entry's data inside the archive, and the limits: entry count and total declared uncompressed
 * size. While extracting, an entry that inflates past its declared size, stops short of it, or whose CRC-32 differs
 * is an error: the declared sizes bound what a zip bomb can produce. */
#ifndef KT_BASE_ZIP_H
#define KT_BASE_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "base/json.h"
#include "base/status.h"

/* ---- writer ---- */

typedef struct kt_zip_writer kt_zip_writer;

/* deflate: 1 for DEFLATE (zlib's default level), 0 for STORE. NULL when out of memory. */
kt_zip_writer *kt_zip_writer_new(int deflate);
void kt_zip_writer_free(kt_zip_writer *z);
/* Starts an entry (the previous one must be ended): its local header goes to out. name is the path inside the
 * archive ('/' separated, no leading '/'; a folder ends in '/'); mtime_s is its modification time (epoch seconds,
 * written as an MS-DOS time in UTC, clamped to 1980..2107). KT_EINVAL for an empty or over-long (>= 64 KiB) name. */
kt_status kt_zip_entry_begin(kt_zip_writer *z, const char *name, int64_t mtime_s, kt_buf *out);
/* Appends bytes of the current entry (compressed output, when any is ready, goes to out). */
kt_status kt_zip_entry_write(kt_zip_writer *z, const void *data, size_t len, kt_buf *out);
/* Ends the current entry: the rest of its compressed bytes and its data descriptor go to out. */
kt_status kt_zip_entry_end(kt_zip_writer *z, kt_buf *out);
/* Writes the central directory and the end records (an entry still open is ended first). The writer accepts
 * nothing afterwards. */
kt_status kt_zip_finish(kt_zip_writer *z, kt_buf *out);

/* ---- reader ---- */

typedef struct kt_zip_reader kt_zip_reader;

typedef struct kt_zip_limits {
    size_t max_entries;      /* entries in the central directory, folders included */
    uint64_t max_total;      /* sum of the declared uncompressed sizes */
} kt_zip_limits;

typedef struct kt_zip_entry {
    char *name;        /* NUL-terminated (owned by the reader) */
    int is_dir;        /* the name ends in '/' */
    int method;        /* 0 STORE, 8 DEFLATE */
    uint32_t crc;
    uint64_t csize, usize;
    uint64_t data_off; /* where the compressed bytes start in the archive */
} kt_zip_entry;

/* Reads and checks the central directory of the archive data/len (borrowed: it must outlive the reader). KT_EINVAL
 * with err (naming the entry when one is at fault) when the archive is malformed or an entry is refused (see
 * above); KT_ECONFLICT when a limit is passed (err says which); KT_ENOMEM. */
kt_status kt_zip_open(const void *data, size_t len, const kt_zip_limits *lim, kt_zip_reader **out, char *err,
                      size_t errcap);
void kt_zip_close(kt_zip_reader *r);
size_t kt_zip_count(const kt_zip_reader *r);
const kt_zip_entry *kt_zip_get(const kt_zip_reader *r, size_t i);

/* An entry's bytes, uncompressed a piece at a time. */
typedef struct kt_zip_stream kt_zip_stream;
kt_status kt_zip_stream_open(kt_zip_reader *r, size_t i, kt_zip_stream **out);
/* Up to cap bytes into buf; *n == 0 with KT_OK at the end (after the size and CRC were checked). KT_EINVAL with err
 * when the data is corrupt, bigger or smaller than declared, or its CRC differs. */
kt_status kt_zip_stream_read(kt_zip_stream *s, void *buf, size_t cap, size_t *n, char *err, size_t errcap);
void kt_zip_stream_close(kt_zip_stream *s);

/* The whole entry i in *out (malloc'd, NUL-terminated, *len bytes) when its declared size is at most max (KT_EINVAL
 * with err otherwise, or on corrupt data). */
kt_status kt_zip_read_all(kt_zip_reader *r, size_t i, size_t max, char **out, size_t *len, char *err, size_t errcap);

#endif
