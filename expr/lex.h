/* Private: Pebble's lexer (reference 1.2) turns the template into a token array the parser walks. */
#ifndef KT_EXPR_LEX_H
#define KT_EXPR_LEX_H

#include "expr/expr_int.h"

enum kx_tok_type {
    KX_T_TEXT, KX_T_PRINT_START, KX_T_PRINT_END, KX_T_EXEC_START, KX_T_EXEC_END,
    KX_T_NAME, KX_T_NUMBER, KX_T_LONG, KX_T_STRING, KX_T_ISTRING, KX_T_OP, KX_T_PUNCT, KX_T_EOF,
};

typedef struct kx_tok {
    int type;
    const char *p; /* token text in the source (for TEXT: after trimming) */
    size_t n;
    char *str;     /* STRING: unescaped value; ISTRING: raw inner text */
    int line, col;
} kx_tok;

typedef struct kx_toks {
    kx_tok *v;
    size_t n, cap;
} kx_toks;

/* Lexes a whole template (expr_only = 0) or a bare expression (expr_only = 1, used for the `#{...}`
 * parts of interpolated strings). line/col give the position of src[0]. */
int kx_lex(const char *src, size_t len, int expr_only, int line, int col, kx_toks *out, kx_err *err);
void kx_toks_free(kx_toks *t);
const char *kx_tok_type_name(int type);

#endif
