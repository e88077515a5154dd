#include "scenario.h"
#include "ssemon/base/numfmt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Statements a run may execute without producing an action before it yields
 * to the event loop, so that an endless loop whose body skips every output
 * (an if that is never true) cannot freeze the server. */
#define SCN_STEP_BUDGET 1024
#define SCN_MAX_SLEEP_MS 86400000ULL
#define SCN_MAX_REPEAT 4294967295ULL

enum scn_sub {
    SUB_LIT,
    SUB_CONN,
    SUB_I,
    SUB_LAST_EVENT_ID,
    SUB_HEADER,
    SUB_QUERY,
    SUB_PATH,
    SUB_NOW,
    SUB_UUID,
    SUB_SEQ,
    SUB_DIV,
};

enum scn_arg { ARG_NONE, ARG_NAME, ARG_NUM, ARG_TWO };

static const struct {
    const char *sd_name;
    enum scn_sub sd_sub;
    enum scn_arg sd_arg;
} scn_subs[] = {
    {"conn", SUB_CONN, ARG_NONE},
    {"i", SUB_I, ARG_NONE},
    {"last_event_id", SUB_LAST_EVENT_ID, ARG_NONE},
    {"header", SUB_HEADER, ARG_NAME},
    {"query", SUB_QUERY, ARG_NAME},
    {"path", SUB_PATH, ARG_NUM},
    {"now", SUB_NOW, ARG_NONE},
    {"uuid", SUB_UUID, ARG_NONE},
    {"seq", SUB_SEQ, ARG_NONE},
    {"div", SUB_DIV, ARG_TWO},
};

struct scn_text;

struct scn_seg {
    enum scn_sub sg_kind;
    char *sg_str; /* literal bytes, or the header/query name */
    size_t sg_len;
    unsigned long sg_num; /* path segment number */
    struct scn_text *sg_arg[2];
    struct scn_text *sg_dflt; /* used when the value is absent; may be NULL */
};

struct scn_text {
    struct scn_seg *tx_segs;
    size_t tx_nsegs;
};

enum scn_op {
    OP_STATUS,
    OP_HEADER,
    OP_CHUNKED,
    OP_SEND,
    OP_SENDFILE,
    OP_RAW,
    OP_SLEEP,
    OP_REPEAT,
    OP_END_REPEAT,
    OP_IF,
    OP_JUMP,
    OP_CLOSE,
    OP_RESET,
    OP_HANG,
    OP_LOG,
};

enum scn_cond {
    COND_CONN_EQ,
    COND_CONN_GT,
    COND_CONN_LT,
    COND_HAS_HEADER,
    COND_HAS_QUERY,
    COND_HEADER_EQ,
    COND_QUERY_EQ,
};

/* Blocks are compiled to jumps so that a run is just a program counter and
 * a stack of loop counters, easy to suspend between actions. */
struct scn_insn {
    enum scn_op in_op;
    unsigned in_line;
    struct scn_text *in_text; /* send, raw, log, sleep, repeat */
    char *in_str;             /* header field, status reason, sendfile path, condition name */
    char *in_value;           /* condition value */
    unsigned long in_num;     /* status code, condition number */
    enum scn_cond in_cond;
    bool in_is_connection; /* header: the scenario sets Connection itself */
    size_t in_jump;        /* if: else target; jump/repeat: after the block; end: the repeat */
};

/* Running past the last statement ends the response like close. */
static const struct scn_insn scn_end_of_script = {.in_op = OP_CLOSE};

struct scn_program {
    struct scn_insn *pr_insns;
    size_t pr_ninsns;
    size_t pr_cap;
    size_t pr_nheaders;
};

struct scn_block {
    enum scn_op bl_op; /* OP_REPEAT or OP_IF */
    size_t bl_insn;
    size_t bl_else; /* index of the else jump, or SIZE_MAX */
    unsigned bl_line;
    bool bl_out_before;
    bool bl_out_then;
    bool bl_dead_then;
    size_t bl_nout_before;
};

/* The parser tracks whether output may already have happened on some path
 * to the current line (ps_out) and whether the line is reachable at all
 * (ps_dead), so that misplaced head statements and dead code are reported
 * with their line instead of misbehaving at run time. */
struct scn_parser {
    struct scn_program *ps_prog;
    struct scn_error *ps_err;
    unsigned ps_line;
    struct scn_block ps_blocks[SCN_MAX_DEPTH];
    size_t ps_depth;
    unsigned ps_loops;
    bool ps_out;
    bool ps_dead;
    size_t ps_nout;
    unsigned ps_chunked_line;
    bool ps_has_te;
};

struct scn_loop {
    size_t lp_begin;
    unsigned long lp_iter;
    unsigned long lp_total; /* 0: forever */
};

struct scn_run {
    const struct scn_program *ru_prog;
    const struct req_request *ru_req;
    const char *ru_dir;
    const char *ru_file;
    unsigned long ru_conn;
    uint64_t ru_rng;
    unsigned long ru_seq;
    size_t ru_pc;
    unsigned ru_line;
    struct scn_loop ru_loops[SCN_MAX_DEPTH];
    size_t ru_nloops;
    unsigned long ru_status;
    const char *ru_reason;
    const struct scn_insn **ru_headers;
    size_t ru_nheaders;
    bool ru_has_connection;
    bool ru_chunked;
    bool ru_head_touched; /* a status, header or chunked statement ran */
    bool ru_head_done;    /* the head was sent or will never be */
    bool ru_last_chunk_sent;
    bool ru_finished;
    struct sbuf ru_tmp;
};

static const struct {
    unsigned long re_code;
    const char *re_text;
} scn_reasons[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {413, "Content Too Large"},
    {415, "Unsupported Media Type"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
};

const char *scn_status_reason(unsigned long code)
{
    size_t i;

    for (i = 0; i < sizeof(scn_reasons) / sizeof(scn_reasons[0]); i++) {
        if (scn_reasons[i].re_code == code)
            return scn_reasons[i].re_text;
    }
    return "";
}

/* ---- compiled texts ---- */

static void scn_text_free(struct scn_text *tx)
{
    size_t i;

    if (tx == NULL)
        return;
    for (i = 0; i < tx->tx_nsegs; i++) {
        free(tx->tx_segs[i].sg_str);
        scn_text_free(tx->tx_segs[i].sg_arg[0]);
        scn_text_free(tx->tx_segs[i].sg_arg[1]);
        scn_text_free(tx->tx_segs[i].sg_dflt);
    }
    free(tx->tx_segs);
    free(tx);
}

/* Takes ownership of the pointers inside seg, also on failure. */
static int scn_text_push(struct scn_text *tx, struct scn_seg *seg)
{
    struct scn_seg *segs = realloc(tx->tx_segs, (tx->tx_nsegs + 1) * sizeof(*segs));

    if (segs == NULL) {
        free(seg->sg_str);
        scn_text_free(seg->sg_arg[0]);
        scn_text_free(seg->sg_arg[1]);
        scn_text_free(seg->sg_dflt);
        return -1;
    }
    tx->tx_segs = segs;
    tx->tx_segs[tx->tx_nsegs++] = *seg;
    return 0;
}

static int scn_ps_fail(struct scn_parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int scn_ps_fail(struct scn_parser *ps, const char *fmt, ...)
{
    va_list ap;

    ps->ps_err->er_line = ps->ps_line;
    ps->ps_err->er_errno = 0;
    va_start(ap, fmt);
    vsnprintf(ps->ps_err->er_msg, sizeof(ps->ps_err->er_msg), fmt, ap);
    va_end(ap);
    return -1;
}

static int scn_text_flush_literal(struct scn_parser *ps, struct scn_text *tx, struct sbuf *lit)
{
    struct scn_seg seg = {.sg_kind = SUB_LIT};

    if (lit->sb_len == 0)
        return 0;
    seg.sg_str = malloc(lit->sb_len + 1);
    if (seg.sg_str == NULL)
        return scn_ps_fail(ps, "out of memory");
    memcpy(seg.sg_str, lit->sb_data, lit->sb_len + 1);
    seg.sg_len = lit->sb_len;
    sbuf_reset(lit);
    if (scn_text_push(tx, &seg) != 0)
        return scn_ps_fail(ps, "out of memory");
    return 0;
}

/* Decodes the escape at s[*pos] (just after the backslash). */
static int scn_text_escape(struct scn_parser *ps, const char *s, size_t len, size_t *pos, char *c)
{
    char e;
    int hi, lo;

    if (*pos >= len)
        return scn_ps_fail(ps, "backslash at the end of the text");
    e = s[(*pos)++];
    switch (e) {
    case 'n':
        *c = '\n';
        return 0;
    case 'r':
        *c = '\r';
        return 0;
    case 't':
        *c = '\t';
        return 0;
    case '0':
        *c = '\0';
        return 0;
    case '\\':
    case '{':
    case '}':
        *c = e;
        return 0;
    case 'x':
        if (*pos + 2 > len || (hi = numfmt_hex_digit(s[*pos])) < 0 ||
            (lo = numfmt_hex_digit(s[*pos + 1])) < 0)
            return scn_ps_fail(ps, "\\x needs two hex digits");
        *pos += 2;
        *c = (char)(hi * 16 + lo);
        return 0;
    default:
        return scn_ps_fail(ps, "unknown escape \\%c", e);
    }
}

static bool scn_is_subst_start(const char *s, size_t len, size_t pos)
{
    return s[pos] == '{' && pos + 1 < len &&
           ((s[pos + 1] >= 'a' && s[pos + 1] <= 'z') || s[pos + 1] == '_');
}

static int scn_text_compile(struct scn_parser *ps, const char *s, size_t len, size_t *pos,
                            const char *stops, struct scn_text **out);

static int scn_subst_arg(struct scn_parser *ps, const char *s, size_t len, size_t *pos,
                         enum scn_arg arg, const char *name, struct scn_seg *seg)
{
    size_t start;

    switch (arg) {
    case ARG_NONE:
        return 0;
    case ARG_NAME:
        start = *pos;
        while (*pos < len && s[*pos] != '|' && s[*pos] != '}' && s[*pos] != '{')
            (*pos)++;
        if (*pos == start)
            return scn_ps_fail(ps, "{%s:...} needs a name", name);
        seg->sg_str = strndup(s + start, *pos - start);
        if (seg->sg_str == NULL)
            return scn_ps_fail(ps, "out of memory");
        seg->sg_len = *pos - start;
        return 0;
    case ARG_NUM:
        start = *pos;
        while (*pos < len && s[*pos] >= '0' && s[*pos] <= '9' && seg->sg_num < 1000000) {
            seg->sg_num = seg->sg_num * 10 + (unsigned long)(s[*pos] - '0');
            (*pos)++;
        }
        if (*pos == start || seg->sg_num == 0 || seg->sg_num >= 1000000)
            return scn_ps_fail(ps, "{%s:N} needs a number from 1", name);
        return 0;
    case ARG_TWO:
        if (scn_text_compile(ps, s, len, pos, ":|}", &seg->sg_arg[0]) != 0)
            return -1;
        if (*pos >= len || s[*pos] != ':')
            return scn_ps_fail(ps, "{%s:A:B} needs two operands", name);
        (*pos)++;
        return scn_text_compile(ps, s, len, pos, "|}", &seg->sg_arg[1]);
    }
    return 0;
}

/* Compiles the substitution starting at s[*pos] == '{'. */
static int scn_subst_compile(struct scn_parser *ps, const char *s, size_t len, size_t *pos,
                             struct scn_seg *seg)
{
    size_t start = *pos + 1, end = start, i;
    char name[32];

    while (end < len && ((s[end] >= 'a' && s[end] <= 'z') || s[end] == '_'))
        end++;
    if (end - start >= sizeof(name))
        return scn_ps_fail(ps, "unknown substitution {%.*s", (int)(end - start), s + start);
    memcpy(name, s + start, end - start);
    name[end - start] = '\0';
    for (i = 0; i < sizeof(scn_subs) / sizeof(scn_subs[0]); i++) {
        if (strcmp(scn_subs[i].sd_name, name) == 0)
            break;
    }
    if (i == sizeof(scn_subs) / sizeof(scn_subs[0]))
        return scn_ps_fail(ps, "unknown substitution {%s}", name);
    seg->sg_kind = scn_subs[i].sd_sub;
    if (seg->sg_kind == SUB_I && ps->ps_loops == 0)
        return scn_ps_fail(ps, "{i} used outside repeat");
    *pos = end;
    if (scn_subs[i].sd_arg != ARG_NONE) {
        if (*pos >= len || s[*pos] != ':')
            return scn_ps_fail(ps, "{%s} needs an argument: {%s:...}", name, name);
        (*pos)++;
    } else if (*pos < len && s[*pos] == ':') {
        return scn_ps_fail(ps, "{%s} takes no argument", name);
    }
    if (scn_subst_arg(ps, s, len, pos, scn_subs[i].sd_arg, name, seg) != 0)
        return -1;
    if (*pos < len && s[*pos] == '|') {
        (*pos)++;
        if (scn_text_compile(ps, s, len, pos, "}", &seg->sg_dflt) != 0)
            return -1;
    }
    if (*pos >= len || s[*pos] != '}')
        return scn_ps_fail(ps, "unterminated substitution {%s", name);
    (*pos)++;
    return 0;
}

/* Compiles s[*pos..] up to the end or to a character of stops (not consumed)
 * outside nested substitutions. */
static int scn_text_compile(struct scn_parser *ps, const char *s, size_t len, size_t *pos,
                            const char *stops, struct scn_text **out)
{
    struct scn_text *tx = calloc(1, sizeof(*tx));
    struct sbuf lit = SBUF_INIT;
    int rc = -1;

    if (tx == NULL)
        return scn_ps_fail(ps, "out of memory");
    while (*pos < len && strchr(stops, s[*pos]) == NULL) {
        char c = s[*pos];

        if (c == '\\') {
            (*pos)++;
            if (scn_text_escape(ps, s, len, pos, &c) != 0)
                goto out;
        } else if (scn_is_subst_start(s, len, *pos)) {
            struct scn_seg seg = {.sg_kind = SUB_LIT};

            if (scn_text_flush_literal(ps, tx, &lit) != 0)
                goto out;
            if (scn_subst_compile(ps, s, len, pos, &seg) != 0) {
                free(seg.sg_str);
                scn_text_free(seg.sg_arg[0]);
                scn_text_free(seg.sg_arg[1]);
                scn_text_free(seg.sg_dflt);
                goto out;
            }
            if (scn_text_push(tx, &seg) != 0) {
                scn_ps_fail(ps, "out of memory");
                goto out;
            }
            continue;
        } else {
            (*pos)++;
        }
        if (sbuf_addc(&lit, c) != 0) {
            scn_ps_fail(ps, "out of memory");
            goto out;
        }
    }
    if (scn_text_flush_literal(ps, tx, &lit) != 0)
        goto out;
    *out = tx;
    tx = NULL;
    rc = 0;
out:
    sbuf_free(&lit);
    scn_text_free(tx);
    return rc;
}

static int scn_text_compile_all(struct scn_parser *ps, const char *s, size_t len,
                                struct scn_text **out)
{
    size_t pos = 0;

    return scn_text_compile(ps, s, len, &pos, "", out);
}

/* ---- statements ---- */

void scn_program_free(struct scn_program *prog)
{
    size_t i;

    if (prog == NULL)
        return;
    for (i = 0; i < prog->pr_ninsns; i++) {
        scn_text_free(prog->pr_insns[i].in_text);
        free(prog->pr_insns[i].in_str);
        free(prog->pr_insns[i].in_value);
    }
    free(prog->pr_insns);
    free(prog);
}

/* Returns the index of a new zeroed instruction, or SIZE_MAX (error set). */
static size_t scn_ps_emit(struct scn_parser *ps, enum scn_op op)
{
    struct scn_program *pr = ps->ps_prog;
    struct scn_insn *in;

    if (pr->pr_ninsns == pr->pr_cap) {
        size_t cap = pr->pr_cap ? pr->pr_cap * 2 : 16;

        in = realloc(pr->pr_insns, cap * sizeof(*in));
        if (in == NULL) {
            scn_ps_fail(ps, "out of memory");
            return SIZE_MAX;
        }
        pr->pr_insns = in;
        pr->pr_cap = cap;
    }
    in = &pr->pr_insns[pr->pr_ninsns];
    memset(in, 0, sizeof(*in));
    in->in_op = op;
    in->in_line = ps->ps_line;
    return pr->pr_ninsns++;
}

static bool scn_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void scn_trim(const char **s, size_t *len)
{
    while (*len > 0 && scn_is_blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && scn_is_blank((*s)[*len - 1]))
        (*len)--;
}

/* Splits the next blank-separated word off s[0..*len). */
static bool scn_next_word(const char **s, size_t *len, const char **w, size_t *wlen)
{
    scn_trim(s, len);
    if (*len == 0)
        return false;
    *w = *s;
    *wlen = 0;
    while (*wlen < *len && !scn_is_blank((*w)[*wlen]))
        (*wlen)++;
    *s += *wlen;
    *len -= *wlen;
    return true;
}

static bool scn_word_is(const char *w, size_t wlen, const char *kw)
{
    return wlen == strlen(kw) && memcmp(w, kw, wlen) == 0;
}

static bool scn_parse_ulong(const char *s, size_t len, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    size_t i;

    if (len == 0)
        return false;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (max - (unsigned long)(s[i] - '0')) / 10)
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    *out = v;
    return true;
}

static int scn_ps_cond(struct scn_parser *ps, struct scn_insn *in, const char *s, size_t len)
{
    const char *w, *name, *op;
    size_t wlen, nlen, oplen;

    if (!scn_next_word(&s, &len, &w, &wlen))
        return scn_ps_fail(ps, "if needs a condition");
    if (scn_word_is(w, wlen, "conn")) {
        if (!scn_next_word(&s, &len, &op, &oplen) || !scn_next_word(&s, &len, &name, &nlen) ||
            len != 0 || !scn_parse_ulong(name, nlen, ULONG_MAX, &in->in_num))
            return scn_ps_fail(ps, "expected: if conn ==|>|< N");
        if (scn_word_is(op, oplen, "=="))
            in->in_cond = COND_CONN_EQ;
        else if (scn_word_is(op, oplen, ">"))
            in->in_cond = COND_CONN_GT;
        else if (scn_word_is(op, oplen, "<"))
            in->in_cond = COND_CONN_LT;
        else
            return scn_ps_fail(ps, "expected: if conn ==|>|< N");
        return 0;
    }
    if (scn_word_is(w, wlen, "has-header") || scn_word_is(w, wlen, "has-query")) {
        in->in_cond = w[4] == 'h' ? COND_HAS_HEADER : COND_HAS_QUERY;
        if (!scn_next_word(&s, &len, &name, &nlen) || len != 0)
            return scn_ps_fail(ps, "expected: if %.*s NAME", (int)wlen, w);
    } else if (scn_word_is(w, wlen, "header") || scn_word_is(w, wlen, "query")) {
        in->in_cond = w[0] == 'h' ? COND_HEADER_EQ : COND_QUERY_EQ;
        if (!scn_next_word(&s, &len, &name, &nlen) || !scn_next_word(&s, &len, &op, &oplen) ||
            !scn_word_is(op, oplen, "=="))
            return scn_ps_fail(ps, "expected: if %.*s NAME == VALUE", (int)wlen, w);
        /* The value is the rest of the line after one blank. */
        if (len > 0)
            s++, len--;
        in->in_value = strndup(s, len);
        if (in->in_value == NULL)
            return scn_ps_fail(ps, "out of memory");
    } else {
        return scn_ps_fail(ps, "unknown condition '%.*s'", (int)wlen, w);
    }
    in->in_str = strndup(name, nlen);
    if (in->in_str == NULL)
        return scn_ps_fail(ps, "out of memory");
    return 0;
}

static bool scn_is_token(const char *s, size_t len)
{
    size_t i;

    if (len == 0)
        return false;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL)))
            return false;
    }
    return true;
}

static int scn_ps_head_stmt(struct scn_parser *ps, enum scn_op op, const char *arg, size_t alen)
{
    struct scn_insn *in;
    const char *colon, *reason;
    size_t idx, rlen;

    if (ps->ps_loops > 0)
        return scn_ps_fail(ps, "status, header and chunked are not allowed inside repeat");
    if (ps->ps_out)
        return scn_ps_fail(ps, "status, header and chunked must come before any output "
                               "(send, sendfile, raw, sleep, close, hang)");
    idx = scn_ps_emit(ps, op);
    if (idx == SIZE_MAX)
        return -1;
    in = &ps->ps_prog->pr_insns[idx];
    switch (op) {
    case OP_STATUS:
        reason = arg;
        rlen = alen;
        while (rlen > 0 && !scn_is_blank(*reason))
            reason++, rlen--;
        if (reason - arg != 3 || !scn_parse_ulong(arg, 3, 999, &in->in_num) || in->in_num < 100)
            return scn_ps_fail(ps, "expected: status CODE [REASON] with a 3-digit CODE");
        scn_trim(&reason, &rlen);
        in->in_str = rlen > 0 ? strndup(reason, rlen) : strdup(scn_status_reason(in->in_num));
        if (in->in_str == NULL)
            return scn_ps_fail(ps, "out of memory");
        return 0;
    case OP_HEADER:
        colon = memchr(arg, ':', alen);
        if (colon == NULL || !scn_is_token(arg, (size_t)(colon - arg)))
            return scn_ps_fail(ps, "expected: header NAME: VALUE");
        in->in_str = strndup(arg, alen);
        if (in->in_str == NULL)
            return scn_ps_fail(ps, "out of memory");
        in->in_is_connection = colon - arg == 10 && strncasecmp(arg, "connection", 10) == 0;
        if (colon - arg == 17 && strncasecmp(arg, "transfer-encoding", 17) == 0)
            ps->ps_has_te = true;
        ps->ps_prog->pr_nheaders++;
        return 0;
    default:
        if (alen != 0)
            return scn_ps_fail(ps, "chunked takes no argument");
        if (ps->ps_chunked_line == 0)
            ps->ps_chunked_line = ps->ps_line;
        return 0;
    }
}

/* send, raw, log, sleep and repeat take a text with substitutions. */
static int scn_ps_text_stmt(struct scn_parser *ps, enum scn_op op, const char *arg, size_t alen)
{
    size_t idx = scn_ps_emit(ps, op);

    if (idx == SIZE_MAX)
        return -1;
    return scn_text_compile_all(ps, arg, alen, &ps->ps_prog->pr_insns[idx].in_text);
}

static int scn_ps_open_block(struct scn_parser *ps, enum scn_op op, const char *arg, size_t alen)
{
    struct scn_block *bl;
    size_t idx;

    if (ps->ps_depth == SCN_MAX_DEPTH)
        return scn_ps_fail(ps, "blocks nested deeper than %d", SCN_MAX_DEPTH);
    if (alen == 0)
        return scn_ps_fail(ps, "%s needs an argument", op == OP_IF ? "if" : "repeat");
    if (op == OP_REPEAT) {
        /* The count is evaluated in the enclosing loop, so {i} there means
         * the outer iteration. */
        if (scn_ps_text_stmt(ps, op, arg, alen) != 0)
            return -1;
        idx = ps->ps_prog->pr_ninsns - 1;
        ps->ps_loops++;
    } else {
        idx = scn_ps_emit(ps, op);
        if (idx == SIZE_MAX || scn_ps_cond(ps, &ps->ps_prog->pr_insns[idx], arg, alen) != 0)
            return -1;
    }
    bl = &ps->ps_blocks[ps->ps_depth++];
    memset(bl, 0, sizeof(*bl));
    bl->bl_op = op;
    bl->bl_insn = idx;
    bl->bl_else = SIZE_MAX;
    bl->bl_line = ps->ps_line;
    bl->bl_out_before = ps->ps_out;
    bl->bl_nout_before = ps->ps_nout;
    return 0;
}

static int scn_ps_else(struct scn_parser *ps)
{
    struct scn_block *bl;
    size_t idx;

    if (ps->ps_depth == 0 || ps->ps_blocks[ps->ps_depth - 1].bl_op != OP_IF ||
        ps->ps_blocks[ps->ps_depth - 1].bl_else != SIZE_MAX)
        return scn_ps_fail(ps, "else without if");
    idx = scn_ps_emit(ps, OP_JUMP);
    if (idx == SIZE_MAX)
        return -1;
    bl = &ps->ps_blocks[ps->ps_depth - 1];
    bl->bl_else = idx;
    ps->ps_prog->pr_insns[bl->bl_insn].in_jump = idx + 1;
    bl->bl_out_then = ps->ps_out;
    bl->bl_dead_then = ps->ps_dead;
    ps->ps_out = bl->bl_out_before;
    ps->ps_dead = false;
    return 0;
}

static int scn_ps_end_repeat(struct scn_parser *ps, const struct scn_block *bl)
{
    struct scn_program *pr = ps->ps_prog;
    size_t idx;

    if (pr->pr_ninsns == bl->bl_insn + 1)
        return scn_ps_fail(ps, "empty repeat block");
    idx = scn_ps_emit(ps, OP_END_REPEAT);
    if (idx == SIZE_MAX)
        return -1;
    pr->pr_insns[idx].in_jump = bl->bl_insn;
    pr->pr_insns[bl->bl_insn].in_jump = idx + 1;
    ps->ps_loops--;
    /* A body that ends in close, reset or hang never comes back, so
     * ps_dead carries over from it unchanged. */
    ps->ps_out = bl->bl_out_before || ps->ps_nout != bl->bl_nout_before;
    return 0;
}

static int scn_ps_end(struct scn_parser *ps)
{
    struct scn_program *pr = ps->ps_prog;
    struct scn_block *bl;
    bool out_then, dead_then, out_else, dead_else;

    if (ps->ps_depth == 0)
        return scn_ps_fail(ps, "end without repeat or if");
    bl = &ps->ps_blocks[--ps->ps_depth];
    if (bl->bl_op == OP_REPEAT)
        return scn_ps_end_repeat(ps, bl);
    if (bl->bl_else == SIZE_MAX) {
        pr->pr_insns[bl->bl_insn].in_jump = pr->pr_ninsns;
        out_then = ps->ps_out;
        dead_then = ps->ps_dead;
        out_else = bl->bl_out_before;
        dead_else = false;
    } else {
        pr->pr_insns[bl->bl_else].in_jump = pr->pr_ninsns;
        out_then = bl->bl_out_then;
        dead_then = bl->bl_dead_then;
        out_else = ps->ps_out;
        dead_else = ps->ps_dead;
    }
    ps->ps_out = (!dead_then && out_then) || (!dead_else && out_else);
    ps->ps_dead = dead_then && dead_else;
    return 0;
}

static int scn_ps_sendfile(struct scn_parser *ps, const char *arg, size_t alen)
{
    size_t idx;

    if (alen == 0)
        return scn_ps_fail(ps, "sendfile needs a path");
    ps->ps_out = true;
    ps->ps_nout++;
    idx = scn_ps_emit(ps, OP_SENDFILE);
    if (idx == SIZE_MAX)
        return -1;
    ps->ps_prog->pr_insns[idx].in_str = strndup(arg, alen);
    return ps->ps_prog->pr_insns[idx].in_str != NULL ? 0 : scn_ps_fail(ps, "out of memory");
}

static int scn_ps_statement(struct scn_parser *ps, const char *kw, size_t kwlen, const char *text,
                            size_t tlen, const char *arg, size_t alen)
{
    enum scn_op op;

    if (scn_word_is(kw, kwlen, "else"))
        return alen == 0 ? scn_ps_else(ps) : scn_ps_fail(ps, "else takes no argument");
    if (scn_word_is(kw, kwlen, "end"))
        return alen == 0 ? scn_ps_end(ps) : scn_ps_fail(ps, "end takes no argument");
    if (ps->ps_dead)
        return scn_ps_fail(ps, "unreachable statement (after close, reset or hang)");
    if (scn_word_is(kw, kwlen, "status"))
        return scn_ps_head_stmt(ps, OP_STATUS, arg, alen);
    if (scn_word_is(kw, kwlen, "header"))
        return scn_ps_head_stmt(ps, OP_HEADER, arg, alen);
    if (scn_word_is(kw, kwlen, "chunked"))
        return scn_ps_head_stmt(ps, OP_CHUNKED, arg, alen);
    if (scn_word_is(kw, kwlen, "repeat"))
        return scn_ps_open_block(ps, OP_REPEAT, arg, alen);
    if (scn_word_is(kw, kwlen, "if"))
        return scn_ps_open_block(ps, OP_IF, arg, alen);
    if (scn_word_is(kw, kwlen, "log"))
        return scn_ps_text_stmt(ps, OP_LOG, text, tlen);
    if (scn_word_is(kw, kwlen, "send") || scn_word_is(kw, kwlen, "raw")) {
        ps->ps_out = true;
        ps->ps_nout++;
        return scn_ps_text_stmt(ps, kw[0] == 's' ? OP_SEND : OP_RAW, text, tlen);
    }
    if (scn_word_is(kw, kwlen, "sleep")) {
        if (alen == 0)
            return scn_ps_fail(ps, "sleep needs a duration in milliseconds");
        ps->ps_out = true;
        ps->ps_nout++;
        return scn_ps_text_stmt(ps, OP_SLEEP, arg, alen);
    }
    if (scn_word_is(kw, kwlen, "sendfile"))
        return scn_ps_sendfile(ps, arg, alen);
    if (scn_word_is(kw, kwlen, "close"))
        op = OP_CLOSE;
    else if (scn_word_is(kw, kwlen, "reset"))
        op = OP_RESET;
    else if (scn_word_is(kw, kwlen, "hang"))
        op = OP_HANG;
    else
        return scn_ps_fail(ps, "unknown statement '%.*s'", (int)kwlen, kw);
    if (alen != 0)
        return scn_ps_fail(ps, "%.*s takes no argument", (int)kwlen, kw);
    if (op != OP_RESET) {
        ps->ps_out = true;
        ps->ps_nout++;
    }
    ps->ps_dead = true;
    return scn_ps_emit(ps, op) == SIZE_MAX ? -1 : 0;
}

static int scn_ps_line(struct scn_parser *ps, const char *line, size_t len)
{
    const char *kw, *text, *arg;
    size_t kwlen = 0, tlen, alen;

    if (len > 0 && line[len - 1] == '\r')
        len--;
    while (len > 0 && scn_is_blank(*line))
        line++, len--;
    if (len == 0 || line[0] == '#')
        return 0;
    kw = line;
    while (kwlen < len && !scn_is_blank(kw[kwlen]))
        kwlen++;
    /* Texts keep everything after the single blank that ends the keyword,
     * so leading and trailing spaces of a payload are preserved. */
    if (kwlen < len) {
        text = kw + kwlen + 1;
        tlen = len - kwlen - 1;
    } else {
        text = kw + len;
        tlen = 0;
    }
    arg = text;
    alen = tlen;
    scn_trim(&arg, &alen);
    return scn_ps_statement(ps, kw, kwlen, text, tlen, arg, alen);
}

int scn_parse(const char *src, size_t len, struct scn_program **out, struct scn_error *err)
{
    struct scn_parser ps;
    size_t pos = 0;

    memset(&ps, 0, sizeof(ps));
    memset(err, 0, sizeof(*err));
    ps.ps_err = err;
    ps.ps_prog = calloc(1, sizeof(*ps.ps_prog));
    if (ps.ps_prog == NULL)
        return scn_ps_fail(&ps, "out of memory");
    while (pos < len) {
        const char *nl = memchr(src + pos, '\n', len - pos);
        size_t llen = nl != NULL ? (size_t)(nl - (src + pos)) : len - pos;

        ps.ps_line++;
        if (memchr(src + pos, '\0', llen) != NULL) {
            scn_ps_fail(&ps, "NUL byte in scenario (write \\0 instead)");
            goto fail;
        }
        if (scn_ps_line(&ps, src + pos, llen) != 0)
            goto fail;
        pos += llen + 1;
    }
    if (ps.ps_depth > 0) {
        struct scn_block *bl = &ps.ps_blocks[ps.ps_depth - 1];

        ps.ps_line = bl->bl_line;
        scn_ps_fail(&ps, "%s not closed by end", bl->bl_op == OP_IF ? "if" : "repeat");
        goto fail;
    }
    if (ps.ps_chunked_line != 0 && !ps.ps_has_te) {
        ps.ps_line = ps.ps_chunked_line;
        scn_ps_fail(&ps, "chunked needs 'header Transfer-Encoding: chunked' as well");
        goto fail;
    }
    *out = ps.ps_prog;
    return 0;
fail:
    scn_program_free(ps.ps_prog);
    return -1;
}

static int scn_read_file(const char *path, size_t max, struct sbuf *out, struct scn_error *err)
{
    char chunk[8192];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        goto fail;
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        if (n == 0)
            break;
        if (out->sb_len + (size_t)n > max) {
            errno = EFBIG;
            goto fail;
        }
        if (sbuf_add(out, chunk, (size_t)n) != 0) {
            errno = ENOMEM;
            goto fail;
        }
    }
    close(fd);
    return 0;
fail:
    err->er_errno = errno;
    err->er_line = 0;
    snprintf(err->er_msg, sizeof(err->er_msg), "cannot read %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

int scn_load(const char *path, struct scn_program **out, struct scn_error *err)
{
    struct sbuf src = SBUF_INIT;
    int rc;

    memset(err, 0, sizeof(*err));
    if (scn_read_file(path, SCN_MAX_FILE, &src, err) != 0) {
        sbuf_free(&src);
        return -1;
    }
    rc = scn_parse(src.sb_data != NULL ? src.sb_data : "", src.sb_len, out, err);
    sbuf_free(&src);
    return rc;
}

/* ---- formatting helpers ---- */

static int scn_copy_out(char *buf, size_t size, const char *s)
{
    size_t len = strlen(s);

    if (len >= size)
        return -1;
    memcpy(buf, s, len + 1);
    return (int)len;
}

/* Significant digits of v > 0 (trailing zeros dropped) and the decimal
 * exponent of the first one: v = d.ddd * 10^exp10. Python prints the shortest
 * digit string that reads back as the same double; 17 digits always do. */
static size_t scn_float_digits(double v, char digits[18], int *exp10)
{
    char tmp[40];
    const char *p;
    size_t nd = 0;
    int prec;

    for (prec = 0; prec < 16; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    snprintf(tmp, sizeof(tmp), "%.*e", prec, v);
    for (p = tmp; *p != 'e' && nd < 17; p++) {
        if (*p != '.')
            digits[nd++] = *p;
    }
    *exp10 = *p == 'e' ? atoi(p + 1) : 0;
    if (nd == 0)
        digits[nd++] = '0';
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    return nd;
}

/* gcc 12 at -O3 vectorises the digit loops below and then reports a
 * 16-byte store into a 15-byte region that cannot happen (e <= 15 and
 * nd <= 17 here, `out` holds 64). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
int scn_format_float(double v, char *buf, size_t size)
{
    char digits[18], out[64];
    size_t nd, len = 0, i;
    int e;

    if (isnan(v))
        return scn_copy_out(buf, size, "nan");
    if (isinf(v))
        return scn_copy_out(buf, size, v < 0 ? "-inf" : "inf");
    if (v == 0)
        return scn_copy_out(buf, size, signbit(v) ? "-0.0" : "0.0");
    nd = scn_float_digits(fabs(v), digits, &e);
    if (v < 0)
        out[len++] = '-';
    if (e < -4 || e >= 16) {
        /* Python's repr switches to exponent notation outside 1e-4..1e16. */
        out[len++] = digits[0];
        if (nd > 1) {
            out[len++] = '.';
            memcpy(out + len, digits + 1, nd - 1);
            len += nd - 1;
        }
        snprintf(out + len, sizeof(out) - len, "e%c%02d", e < 0 ? '-' : '+', abs(e));
        return scn_copy_out(buf, size, out);
    }
    if (e < 0) {
        out[len++] = '0';
        out[len++] = '.';
        for (i = 1; i < (size_t)-e; i++)
            out[len++] = '0';
        for (i = 0; i < nd; i++)
            out[len++] = digits[i];
    } else {
        for (i = 0; i <= (size_t)e; i++)
            out[len++] = i < nd ? digits[i] : '0';
        out[len++] = '.';
        if (nd > (size_t)e + 1) {
            /* Byte by byte: gcc -O3 cannot prove this memcpy's bound (nd <= 17). */
            for (i = (size_t)e + 1; i < nd; i++)
                out[len++] = digits[i];
        } else {
            out[len++] = '0';
        }
    }
    out[len] = '\0';
    return scn_copy_out(buf, size, out);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

int scn_format_isotime(const struct timespec *ts, char *buf, size_t size)
{
    struct tm tm;
    long us = ts->tv_nsec / 1000;
    int n;

    if (gmtime_r(&ts->tv_sec, &tm) == NULL)
        return -1;
    if (us != 0)
        n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld+00:00", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
    else
        n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d+00:00", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return n >= 0 && (size_t)n < size ? n : -1;
}

/* ---- runs ---- */

struct scn_run *scn_run_new(const struct scn_run_params *params)
{
    struct scn_run *run = calloc(1, sizeof(*run));

    if (run == NULL)
        return NULL;
    run->ru_headers = calloc(params->rp_prog->pr_nheaders + 1, sizeof(*run->ru_headers));
    if (run->ru_headers == NULL) {
        free(run);
        return NULL;
    }
    run->ru_prog = params->rp_prog;
    run->ru_req = params->rp_req;
    run->ru_dir = params->rp_dir;
    run->ru_file = params->rp_file;
    run->ru_conn = params->rp_conn;
    run->ru_rng = params->rp_seed;
    run->ru_status = 200;
    run->ru_reason = "OK";
    return run;
}

void scn_run_free(struct scn_run *run)
{
    if (run == NULL)
        return;
    sbuf_free(&run->ru_tmp);
    free(run->ru_headers);
    free(run);
}

bool scn_run_head_done(const struct scn_run *run)
{
    return run->ru_head_done;
}

/* splitmix64: statistically fine and seedable, which is all {uuid} needs. */
static uint64_t scn_run_random(struct scn_run *run)
{
    uint64_t z = (run->ru_rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int scn_run_uuid(struct scn_run *run, struct sbuf *out)
{
    unsigned char b[16];
    uint64_t r0 = scn_run_random(run), r1 = scn_run_random(run);
    int i;

    for (i = 0; i < 8; i++) {
        b[i] = (unsigned char)(r0 >> (8 * i));
        b[8 + i] = (unsigned char)(r1 >> (8 * i));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    return sbuf_addf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                     b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                     b[12], b[13], b[14], b[15]);
}

/* Runtime failures carry their message in out; they end the run. */
static int scn_run_fail(struct scn_run *run, struct sbuf *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int scn_run_fail(struct scn_run *run, struct sbuf *out, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sbuf_reset(out);
    if (sbuf_addf(out, "%s:%u: %s", run->ru_file, run->ru_line, msg) != 0)
        sbuf_reset(out);
    return -1;
}

static int scn_run_eval(struct scn_run *run, const struct scn_text *tx, const struct timespec *now,
                        struct sbuf *dst, struct sbuf *err);

static int scn_run_operand(struct scn_run *run, const struct scn_text *tx,
                           const struct timespec *now, double *v, struct sbuf *err)
{
    struct sbuf sb = SBUF_INIT;
    char *end;
    int rc = 0;

    if (scn_run_eval(run, tx, now, &sb, err) != 0) {
        sbuf_free(&sb);
        return -1;
    }
    errno = 0;
    *v = sb.sb_data != NULL ? strtod(sb.sb_data, &end) : 0;
    if (sb.sb_data == NULL || end == sb.sb_data || *end != '\0' || errno != 0 || !isfinite(*v))
        rc = scn_run_fail(run, err, "{div}: '%s' is not a number",
                          sb.sb_data != NULL ? sb.sb_data : "");
    sbuf_free(&sb);
    return rc;
}

static int scn_run_div(struct scn_run *run, const struct scn_seg *seg, const struct timespec *now,
                       struct sbuf *dst, struct sbuf *err)
{
    double a, b;
    char buf[40];

    if (scn_run_operand(run, seg->sg_arg[0], now, &a, err) != 0 ||
        scn_run_operand(run, seg->sg_arg[1], now, &b, err) != 0)
        return -1;
    if (b == 0)
        return scn_run_fail(run, err, "{div}: division by zero");
    if (scn_format_float(a / b, buf, sizeof(buf)) < 0 || sbuf_adds(dst, buf) != 0)
        return scn_run_fail(run, err, "out of memory");
    return 0;
}

/* Appends the value of seg; returns 1 when the value is absent (the caller
 * then uses the default). */
static int scn_run_value(struct scn_run *run, const struct scn_seg *seg, const struct timespec *now,
                         struct sbuf *dst, struct sbuf *err)
{
    const char *v = NULL, *segp;
    char buf[40];
    size_t seglen;
    int rc;

    switch (seg->sg_kind) {
    case SUB_LIT:
        rc = sbuf_add(dst, seg->sg_str, seg->sg_len);
        break;
    case SUB_CONN:
        rc = sbuf_addf(dst, "%lu", run->ru_conn);
        break;
    case SUB_I:
        rc = sbuf_addf(dst, "%lu",
                       run->ru_nloops > 0 ? run->ru_loops[run->ru_nloops - 1].lp_iter : 0UL);
        break;
    case SUB_LAST_EVENT_ID:
    case SUB_HEADER:
        v = req_header(run->ru_req, seg->sg_kind == SUB_HEADER ? seg->sg_str : "Last-Event-ID");
        if (v == NULL)
            return 1;
        rc = sbuf_adds(dst, v);
        break;
    case SUB_QUERY:
        rc = req_query(run->ru_req, seg->sg_str, dst);
        if (rc == 0)
            return 1;
        rc = rc < 0 ? -1 : 0;
        break;
    case SUB_PATH:
        if (!req_path_segment(run->ru_req, seg->sg_num, &segp, &seglen))
            return 1;
        rc = sbuf_add(dst, segp, seglen);
        break;
    case SUB_NOW:
        rc = scn_format_isotime(now, buf, sizeof(buf)) < 0 ? -1 : sbuf_adds(dst, buf);
        break;
    case SUB_UUID:
        rc = scn_run_uuid(run, dst);
        break;
    case SUB_SEQ:
        rc = sbuf_addf(dst, "%lu", ++run->ru_seq);
        break;
    case SUB_DIV:
        return scn_run_div(run, seg, now, dst, err);
    default:
        rc = -1;
        break;
    }
    return rc != 0 ? scn_run_fail(run, err, "out of memory") : 0;
}

static int scn_run_eval(struct scn_run *run, const struct scn_text *tx, const struct timespec *now,
                        struct sbuf *dst, struct sbuf *err)
{
    size_t i;

    if (tx == NULL)
        return 0;
    for (i = 0; i < tx->tx_nsegs; i++) {
        int rc = scn_run_value(run, &tx->tx_segs[i], now, dst, err);
        if (rc < 0)
            return -1;
        if (rc > 0 && scn_run_eval(run, tx->tx_segs[i].sg_dflt, now, dst, err) != 0)
            return -1;
    }
    return 0;
}

static int scn_run_number(struct scn_run *run, const struct scn_insn *in,
                          const struct timespec *now, unsigned long max, unsigned long *v,
                          struct sbuf *out)
{
    const char *s;
    size_t len;

    sbuf_reset(&run->ru_tmp);
    if (scn_run_eval(run, in->in_text, now, &run->ru_tmp, out) != 0)
        return -1;
    s = run->ru_tmp.sb_data != NULL ? run->ru_tmp.sb_data : "";
    len = run->ru_tmp.sb_len;
    scn_trim(&s, &len);
    if (!scn_parse_ulong(s, len, max, v))
        return scn_run_fail(run, out, "%s: '%.*s' is not a whole number from 0 to %lu",
                            in->in_op == OP_SLEEP ? "sleep" : "repeat", (int)len, s, max);
    return 0;
}

static bool scn_run_cond(const struct scn_run *run, const struct scn_insn *in, int *err)
{
    struct sbuf sb = SBUF_INIT;
    const char *v;
    bool r = false;
    int rc;

    *err = 0;
    switch (in->in_cond) {
    case COND_CONN_EQ:
        return run->ru_conn == in->in_num;
    case COND_CONN_GT:
        return run->ru_conn > in->in_num;
    case COND_CONN_LT:
        return run->ru_conn < in->in_num;
    case COND_HAS_HEADER:
        return req_header(run->ru_req, in->in_str) != NULL;
    case COND_HEADER_EQ:
        v = req_header(run->ru_req, in->in_str);
        return v != NULL && strcmp(v, in->in_value) == 0;
    case COND_HAS_QUERY:
    case COND_QUERY_EQ:
        rc = req_query(run->ru_req, in->in_str, &sb);
        if (rc < 0)
            *err = -1;
        else if (in->in_cond == COND_HAS_QUERY)
            r = rc > 0;
        else
            r = rc > 0 && strcmp(sb.sb_data != NULL ? sb.sb_data : "", in->in_value) == 0;
        sbuf_free(&sb);
        return r;
    }
    return false;
}

static int scn_run_head(struct scn_run *run, struct sbuf *out)
{
    size_t i;

    if (sbuf_addf(out, "HTTP/1.1 %03lu %s\r\n", run->ru_status, run->ru_reason) != 0)
        return -1;
    for (i = 0; i < run->ru_nheaders; i++) {
        if (sbuf_adds(out, run->ru_headers[i]->in_str) != 0 || sbuf_adds(out, "\r\n") != 0)
            return -1;
    }
    if (!run->ru_has_connection && sbuf_adds(out, "Connection: close\r\n") != 0)
        return -1;
    return sbuf_adds(out, "\r\n");
}

/* Frames ru_tmp as the body bytes of one write into out. */
static int scn_run_body(struct scn_run *run, struct sbuf *out)
{
    if (run->ru_chunked && sbuf_addf(out, "%zx\r\n", run->ru_tmp.sb_len) != 0)
        return -1;
    if (sbuf_add(out, run->ru_tmp.sb_data, run->ru_tmp.sb_len) != 0)
        return -1;
    return run->ru_chunked ? sbuf_adds(out, "\r\n") : 0;
}

static int scn_run_sendfile(struct scn_run *run, const struct scn_insn *in, struct sbuf *out)
{
    struct scn_error err;
    struct sbuf path = SBUF_INIT;
    int rc;

    if (in->in_str[0] == '/')
        rc = sbuf_adds(&path, in->in_str);
    else
        rc = sbuf_addf(&path, "%s/%s", run->ru_dir, in->in_str);
    if (rc != 0) {
        sbuf_free(&path);
        return scn_run_fail(run, out, "out of memory");
    }
    sbuf_reset(&run->ru_tmp);
    rc = scn_read_file(path.sb_data, SIZE_MAX / 2, &run->ru_tmp, &err);
    sbuf_free(&path);
    if (rc != 0)
        return scn_run_fail(run, out, "sendfile: %s", err.er_msg);
    return 0;
}

/* Ends the run with a runtime failure (message already in out). */
static enum scn_action scn_run_failed(struct scn_run *run)
{
    run->ru_finished = true;
    return SCN_ACT_FAIL;
}

static enum scn_action scn_run_oom(struct scn_run *run, struct sbuf *out)
{
    scn_run_fail(run, out, "out of memory");
    return scn_run_failed(run);
}

/* The head leaves just before the first statement that shows the client
 * something. Returns 1 when out now holds the head, 0 when none is due, -1
 * on failure (message in out). */
static int scn_run_head_due(struct scn_run *run, const struct scn_insn *in, struct sbuf *out)
{
    if (run->ru_head_done)
        return 0;
    switch (in->in_op) {
    case OP_RAW:
        /* A raw statement before the head replaces it entirely. */
        run->ru_head_done = true;
        return 0;
    case OP_HANG:
        if (!run->ru_head_touched) {
            run->ru_head_done = true;
            return 0;
        }
        break;
    case OP_SEND:
    case OP_SENDFILE:
    case OP_SLEEP:
    case OP_CLOSE:
        break;
    default:
        return 0;
    }
    run->ru_head_done = true;
    return scn_run_head(run, out) != 0 ? scn_run_fail(run, out, "out of memory") : 1;
}

/* Statements that only move the program counter or shape the head. Returns
 * 0, or -1 on failure (message in out). */
static int scn_run_control(struct scn_run *run, const struct scn_insn *in,
                           const struct timespec *now, struct sbuf *out)
{
    struct scn_loop *lp;
    unsigned long n = 0;
    bool taken;
    int err;

    switch (in->in_op) {
    case OP_STATUS:
        run->ru_status = in->in_num;
        run->ru_reason = in->in_str;
        run->ru_head_touched = true;
        break;
    case OP_HEADER:
        run->ru_headers[run->ru_nheaders++] = in;
        run->ru_has_connection |= in->in_is_connection;
        run->ru_head_touched = true;
        break;
    case OP_CHUNKED:
        run->ru_chunked = true;
        run->ru_head_touched = true;
        break;
    case OP_REPEAT:
        if (scn_run_number(run, in, now, SCN_MAX_REPEAT, &n, out) != 0)
            return -1;
        lp = &run->ru_loops[run->ru_nloops++];
        lp->lp_begin = run->ru_pc;
        lp->lp_iter = 1;
        lp->lp_total = n;
        break;
    case OP_END_REPEAT:
        lp = &run->ru_loops[run->ru_nloops - 1];
        if (lp->lp_total == 0 || lp->lp_iter < lp->lp_total) {
            lp->lp_iter++;
            run->ru_pc = lp->lp_begin + 1;
            return 0;
        }
        run->ru_nloops--;
        break;
    case OP_IF:
        taken = scn_run_cond(run, in, &err);
        if (err != 0)
            return scn_run_fail(run, out, "out of memory");
        if (!taken) {
            run->ru_pc = in->in_jump;
            return 0;
        }
        break;
    case OP_JUMP:
        run->ru_pc = in->in_jump;
        return 0;
    default:
        break;
    }
    run->ru_pc++;
    return 0;
}

/* Result of scn_run_output() when the statement produced no action (an
 * empty send) and the run goes on. */
#define SCN_RUN_NEXT (-1)

/* Statements the client or the server's operator sees. Returns an action,
 * or SCN_RUN_NEXT. */
static int scn_run_output(struct scn_run *run, const struct scn_insn *in,
                          const struct timespec *now, struct sbuf *out, uint64_t *ms)
{
    unsigned long n = 0;

    switch (in->in_op) {
    case OP_SEND:
    case OP_RAW:
    case OP_LOG:
    case OP_SENDFILE:
        sbuf_reset(&run->ru_tmp);
        if (in->in_op == OP_SENDFILE ? scn_run_sendfile(run, in, out)
                                     : scn_run_eval(run, in->in_text, now, &run->ru_tmp, out))
            return scn_run_failed(run);
        run->ru_pc++;
        if (in->in_op == OP_LOG) {
            if (sbuf_add(out, run->ru_tmp.sb_data, run->ru_tmp.sb_len) != 0)
                return scn_run_oom(run, out);
            return SCN_ACT_LOG;
        }
        /* An empty chunk would end a chunked body, and an empty write is no
         * write at all: both are skipped. */
        if (run->ru_tmp.sb_len == 0)
            return SCN_RUN_NEXT;
        if (in->in_op == OP_RAW ? sbuf_add(out, run->ru_tmp.sb_data, run->ru_tmp.sb_len)
                                : scn_run_body(run, out))
            return scn_run_oom(run, out);
        return SCN_ACT_WRITE;
    case OP_SLEEP:
        if (scn_run_number(run, in, now, SCN_MAX_SLEEP_MS, &n, out) != 0)
            return scn_run_failed(run);
        run->ru_pc++;
        *ms = n;
        return SCN_ACT_SLEEP;
    case OP_CLOSE:
        if (run->ru_chunked && !run->ru_last_chunk_sent) {
            run->ru_last_chunk_sent = true;
            if (sbuf_adds(out, "0\r\n\r\n") != 0)
                return scn_run_oom(run, out);
            return SCN_ACT_WRITE;
        }
        run->ru_finished = true;
        return SCN_ACT_CLOSE;
    case OP_RESET:
        run->ru_finished = true;
        return SCN_ACT_RESET;
    case OP_HANG:
        run->ru_finished = true;
        return SCN_ACT_HANG;
    default:
        return SCN_RUN_NEXT;
    }
}

static bool scn_is_output_op(enum scn_op op)
{
    return op == OP_SEND || op == OP_RAW || op == OP_LOG || op == OP_SENDFILE || op == OP_SLEEP ||
           op == OP_CLOSE || op == OP_RESET || op == OP_HANG;
}

enum scn_action scn_run_step(struct scn_run *run, const struct timespec *now, struct sbuf *out,
                             uint64_t *ms)
{
    const struct scn_program *pr = run->ru_prog;
    unsigned budget;

    sbuf_reset(out);
    *ms = 0;
    if (run->ru_finished)
        return SCN_ACT_CLOSE;
    for (budget = 0; budget < SCN_STEP_BUDGET; budget++) {
        const struct scn_insn *in =
            run->ru_pc < pr->pr_ninsns ? &pr->pr_insns[run->ru_pc] : &scn_end_of_script;
        int rc;

        if (in != &scn_end_of_script)
            run->ru_line = in->in_line;
        rc = scn_run_head_due(run, in, out);
        if (rc != 0)
            return rc > 0 ? SCN_ACT_WRITE : scn_run_failed(run);
        if (!scn_is_output_op(in->in_op)) {
            if (scn_run_control(run, in, now, out) != 0)
                return scn_run_failed(run);
            continue;
        }
        rc = scn_run_output(run, in, now, out, ms);
        if (rc != SCN_RUN_NEXT)
            return (enum scn_action)rc;
    }
    /* Many statements without an action: let the event loop breathe. */
    return SCN_ACT_SLEEP;
}
