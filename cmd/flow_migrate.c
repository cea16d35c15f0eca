/* `kite flow migrate [--in-place | --check] FILE...` (see cli.h): rewrites Kestra 1.x flow files as 2.x with
 * flow/migrate.h and says what it could not rewrite, in the manner of Kestra's kestra-migrate (one "✗" line per
 * place, file:line:col). */
#include "cmd/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/migrate.h"

#define MAX_FLOW_FILE (16u << 20)

enum { MODE_STDOUT, MODE_IN_PLACE, MODE_CHECK };

static int write_file(const char *path, const char *text, size_t len)
{
    /* a sibling then rename(): an interrupted write never leaves half a flow behind */
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    snprintf(tmp, n, "%s.migrate~", path);
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(text, 1, len, f) == len;
    if (f && fclose(f))
        ok = 0;
    if (ok && rename(tmp, path))
        ok = 0;
    if (!ok)
        remove(tmp);
    free(tmp);
    return ok ? 0 : -1;
}

/* 0: nothing to rewrite, 1: rewritten (or would be), 2: the file could not be read or is not a flow. */
static int migrate_one(const char *path, int mode)
{
    int is_stdin = !strcmp(path, "-");
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "\u2717 %s: %s\n", path, strerror(errno));
        return 2;
    }
    size_t len = 0;
    char *src = kt_cli_read_all(f, MAX_FLOW_FILE, &len);
    int saved = errno;
    if (!is_stdin)
        fclose(f);
    if (!src) {
        fprintf(stderr, "\u2717 %s: %s\n", path, strerror(saved ? saved : EIO));
        return 2;
    }
    const char *name = is_stdin ? "<stdin>" : path;
    kt_diags report;
    kt_diags_init(&report);
    char *out = NULL;
    size_t out_len = 0;
    int changed = 0, rc;
    kt_status st = kt_flow_migrate(src, len, name, &out, &out_len, &changed, &report);
    if (st != KT_OK) {
        char *text = kt_diags_format(&report);
        fprintf(stderr, "\u2717 %s: not a flow\n%s\n", name, text && *text ? text : "invalid YAML");
        free(text);
        rc = 2;
        goto done;
    }
    if (mode == MODE_CHECK) {
        printf("%s %s\n", changed ? "\u270e" : (report.count ? "\u2717" : "\u2714"), name);
    } else if (mode == MODE_IN_PLACE && !is_stdin) {
        if (changed && write_file(path, out, out_len)) {
            fprintf(stderr, "\u2717 %s: cannot write: %s\n", path, strerror(errno));
            rc = 2;
            goto done;
        }
        if (changed)
            fprintf(stderr, "\u270e %s\n", name);
    } else {
        fwrite(out, 1, out_len, stdout);
    }
    /* what needs a person: on stdout under --check (kestra-migrate's layout), on stderr otherwise so the migrated
     * text on stdout stays clean */
    FILE *rep = mode == MODE_CHECK ? stdout : stderr;
    for (size_t i = 0; i < report.count; i++) {
        const kt_diag *d = &report.items[i];
        fprintf(rep, "  \u2717 %s:%d:%d %s%s%s\n", d->file ? d->file : name, d->line, d->col, d->path,
                *d->path ? ": " : "", d->message);
    }
    rc = changed || report.count ? 1 : 0;
done:
    free(out);
    free(src);
    kt_diags_clear(&report);
    return rc;
}

int kt_cli_flow_migrate(int argc, char **argv)
{
    int mode = MODE_STDOUT, first = 0;
    for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
        if (!strcmp(argv[first], "--in-place") || !strcmp(argv[first], "-i"))
            mode = MODE_IN_PLACE;
        else if (!strcmp(argv[first], "--check"))
            mode = MODE_CHECK;
        else if (!strcmp(argv[first], "--")) {
            first++;
            break;
        } else {
            fprintf(stderr, "kite flow migrate: unknown option '%s'\n", argv[first]);
            first = argc + 1;
            break;
        }
    }
    if (first >= argc) {
        fprintf(stderr, "usage: kite flow migrate [--in-place | --check] FILE...\n");
        return 2;
    }
    int need = 0, any_error = 0, n = argc - first;
    for (int i = first; i < argc; i++) {
        int rc = migrate_one(argv[i], mode);
        any_error |= rc == 2;
        need += rc == 1;
    }
    if (mode == MODE_CHECK) {
        if (need)
            printf("\u26a0  %d/%d flows need migration\n", need, n);
        else
            printf("\u2714  All %d flows are 2.x-compatible\n", n);
    }
    fflush(stdout);
    if (any_error)
        return 2;
    return mode == MODE_CHECK && need ? 1 : 0;
}
