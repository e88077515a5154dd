/*
 * ecma_regex: an ECMA-262 pattern (the "u" flag grammar) is read once by a small lexer that checks
 * it and writes the PCRE2 pattern with the same meaning: every literal as \x{..}, every class
 * escape spelled out where PCRE2's differs, named groups as numbered ones. The PCRE2 pattern is
 * plain ASCII; a map from each of its bytes to the ECMA construct it came from turns PCRE2's error
 * offsets into offsets in the author's pattern.
 */
#include "ssemon/json/ecma_regex.h"
#include "ssemon/base/numfmt.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECMA_JIT_STACK_START (32 * 1024)
#define ECMA_CP_MAX 0x10FFFFu
#define ECMA_REPEAT_MAX 65535u

/* A quantified atom that may scan `min` characters before failing, where no callout sees it. */
struct ecma_charge {
    uint32_t ec_off; /* where the atom starts in the guarded PCRE2 pattern */
    uint32_t ec_min;
};

/* The scan guard's state during one search of the guarded code (see ecma_callout). */
struct ecma_guard {
    size_t eg_last;     /* the position of the previous callout */
    uint64_t eg_cost;   /* characters moved over and callouts, so far */
    uint64_t eg_budget; /* ECMA_REGEX_SCAN_BASE + ECMA_REGEX_SCAN_PER_BYTE x length */
    struct ecma_charge *eg_charges;
    size_t eg_n_charges;
};

struct ecma_regex {
    pcre2_code *er_code;        /* for subjects up to ECMA_REGEX_GUARD_FROM bytes */
    pcre2_code *er_guarded;     /* the same with callouts, for longer ones */
    pcre2_match_data *er_md;    /* reused by every search: not thread-safe */
    pcre2_match_context *er_mc; /* the limits; the match limit is set per search */
    pcre2_jit_stack *er_jit;    /* NULL without JIT */
    struct ecma_guard *er_guard;
    int er_first; /* a byte every match starts with, or -1 (PCRE2's own, from er_code) */
    int er_last;  /* a byte every match holds, or -1 */
};

/* A named group: its name decoded to UTF-8 and its number. */
struct ecma_name {
    char *en_name;
    size_t en_len;
    unsigned en_group;
};

enum ecma_group_kind { ECMA_GROUP_PLAIN, ECMA_GROUP_LOOKAROUND };

/* The translator's state. */
struct ecma_xl {
    const unsigned char *x_src;
    size_t x_len;
    size_t x_pos;
    size_t x_at; /* the ECMA construct being written, for the offset map */
    char *x_out; /* the PCRE2 pattern */
    uint32_t *x_map;
    size_t x_n, x_cap;
    enum ecma_regex_status x_status;
    char *x_why;
    size_t x_why_cap;
    bool x_failed;
    unsigned x_groups;
    struct ecma_name *x_names;
    size_t x_n_names;
    bool x_guard; /* writing the guarded variant, with callouts (see xl_callout) */
    struct ecma_charge *x_charges;
    size_t x_n_charges, x_cap_charges;
    uint32_t x_last_min; /* the minimum of the last {n,m} read */
};

/* ---- errors and output ---- */

static int xl_fail_as(struct ecma_xl *x, enum ecma_regex_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int xl_fail_as(struct ecma_xl *x, enum ecma_regex_status st, const char *fmt, ...)
{
    if (x->x_failed)
        return -1;
    x->x_failed = true;
    x->x_status = st;
    if (x->x_why_cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->x_why, x->x_why_cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

#define xl_fail(x, ...) xl_fail_as((x), ECMA_REGEX_INVALID, __VA_ARGS__)

static int xl_nomem(struct ecma_xl *x)
{
    return xl_fail_as(x, ECMA_REGEX_TOO_COSTLY, "out of memory");
}

static int xl_put(struct ecma_xl *x, const char *s, size_t n)
{
    if (x->x_n + n + 1 > x->x_cap) {
        size_t cap = x->x_cap ? x->x_cap : 256;
        while (x->x_n + n + 1 > cap)
            cap *= 2;
        char *out = realloc(x->x_out, cap);
        if (out == NULL)
            return xl_nomem(x);
        x->x_out = out;
        uint32_t *map = realloc(x->x_map, cap * sizeof(*map));
        if (map == NULL)
            return xl_nomem(x);
        x->x_map = map;
        x->x_cap = cap;
    }
    memcpy(x->x_out + x->x_n, s, n);
    for (size_t i = 0; i < n; i++)
        x->x_map[x->x_n + i] = (uint32_t)x->x_at;
    x->x_n += n;
    x->x_out[x->x_n] = '\0';
    return 0;
}

static int xl_puts(struct ecma_xl *x, const char *s)
{
    return xl_put(x, s, strlen(s));
}

/* One code point as a PCRE2 literal (also right inside a class). */
static int xl_put_cp(struct ecma_xl *x, uint32_t cp)
{
    char buf[16];
    if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) {
        buf[0] = (char)cp;
        return xl_put(x, buf, 1);
    }
    int n = snprintf(buf, sizeof(buf), "\\x{%x}", (unsigned)cp);
    return xl_put(x, buf, (size_t)n);
}

/* ---- reading the source ---- */

static int xl_peek(const struct ecma_xl *x, size_t ahead)
{
    return x->x_pos + ahead < x->x_len ? x->x_src[x->x_pos + ahead] : -1;
}

static bool xl_eat(struct ecma_xl *x, int c)
{
    if (xl_peek(x, 0) != c)
        return false;
    x->x_pos++;
    return true;
}

/* Reads one UTF-8 encoded code point (strictly: no overlong forms, no surrogates). */
static int xl_utf8(struct ecma_xl *x, uint32_t *cp)
{
    const unsigned char *s = x->x_src + x->x_pos;
    size_t left = x->x_len - x->x_pos;
    uint32_t c = s[0];
    size_t n;
    uint32_t min;

    if (c < 0x80) {
        *cp = c;
        x->x_pos++;
        return 0;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, min = 0x80, c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, min = 0x800, c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, min = 0x10000, c &= 0x07;
    } else {
        return xl_fail(x, "invalid UTF-8 at offset %zu", x->x_pos);
    }
    if (left < n)
        return xl_fail(x, "invalid UTF-8 at offset %zu", x->x_pos);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return xl_fail(x, "invalid UTF-8 at offset %zu", x->x_pos);
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > ECMA_CP_MAX || (c >= 0xD800 && c <= 0xDFFF))
        return xl_fail(x, "invalid UTF-8 at offset %zu", x->x_pos);
    *cp = c;
    x->x_pos += n;
    return 0;
}

/* Reads exactly n hex digits, or fails without moving. */
static bool xl_hex_n(struct ecma_xl *x, size_t n, uint32_t *v)
{
    uint32_t r = 0;
    for (size_t i = 0; i < n; i++) {
        int d = numfmt_hex_digit(xl_peek(x, i));
        if (d < 0)
            return false;
        r = r * 16 + (uint32_t)d;
    }
    x->x_pos += n;
    *v = r;
    return true;
}

/* After "\u" (at = the backslash): \uXXXX (a lead and trail surrogate pair joined) or \u{X...}.
 * May return a lone surrogate, which no UTF-8 text holds. */
static int xl_unicode_escape(struct ecma_xl *x, size_t at, uint32_t *cp)
{
    if (xl_eat(x, '{')) {
        uint32_t v = 0;
        size_t digits = 0;
        int d;
        while ((d = numfmt_hex_digit(xl_peek(x, 0))) >= 0) {
            v = v > ECMA_CP_MAX ? v : v * 16 + (uint32_t)d;
            digits++;
            x->x_pos++;
        }
        if (digits == 0 || !xl_eat(x, '}'))
            return xl_fail(x, "\\u{ needs hex digits and } at offset %zu", at);
        if (v > ECMA_CP_MAX)
            return xl_fail(x, "\\u{...} above 10FFFF at offset %zu", at);
        *cp = v;
        return 0;
    }
    uint32_t v, trail;
    if (!xl_hex_n(x, 4, &v))
        return xl_fail(x, "\\u needs 4 hex digits or {hex} at offset %zu", at);
    if (v >= 0xD800 && v <= 0xDBFF && xl_peek(x, 0) == '\\' && xl_peek(x, 1) == 'u') {
        size_t save = x->x_pos;
        x->x_pos += 2;
        if (xl_hex_n(x, 4, &trail) && trail >= 0xDC00 && trail <= 0xDFFF)
            v = 0x10000 + ((v - 0xD800) << 10) + (trail - 0xDC00);
        else
            x->x_pos = save;
    }
    *cp = v;
    return 0;
}

static bool xl_is_syntax(int c)
{
    return c >= 0 && c < 0x80 && strchr("^$\\.*+?()[]{}|/", c) != NULL;
}

/* A CharacterEscape after the backslash at `at` (the letter not yet read): the code point, or 1
 * when the escape is not one (the caller decides), -1 on error. */
static int xl_char_escape(struct ecma_xl *x, size_t at, uint32_t *cp)
{
    int c = xl_peek(x, 0);
    static const char ctl_from[] = "fnrtv";
    static const uint32_t ctl_to[] = {0x0C, 0x0A, 0x0D, 0x09, 0x0B};

    if (c >= 0 && c < 0x80 && c != 0 && strchr(ctl_from, c) != NULL) {
        x->x_pos++;
        *cp = ctl_to[strchr(ctl_from, c) - ctl_from];
        return 0;
    }
    switch (c) {
    case 'c': {
        int l = xl_peek(x, 1);
        if (!((l >= 'a' && l <= 'z') || (l >= 'A' && l <= 'Z')))
            return xl_fail(x, "\\c needs an ASCII letter at offset %zu", at);
        x->x_pos += 2;
        *cp = (uint32_t)l % 32;
        return 0;
    }
    case '0':
        if (xl_peek(x, 1) >= '0' && xl_peek(x, 1) <= '9')
            return xl_fail(x, "octal escapes are not ECMA-262 (Unicode mode) at offset %zu", at);
        x->x_pos++;
        *cp = 0;
        return 0;
    case 'x':
        x->x_pos++;
        if (!xl_hex_n(x, 2, cp))
            return xl_fail(x, "\\x needs 2 hex digits at offset %zu", at);
        return 0;
    case 'u':
        x->x_pos++;
        return xl_unicode_escape(x, at, cp);
    default:
        if (xl_is_syntax(c)) {
            x->x_pos++;
            *cp = (uint32_t)c;
            return 0;
        }
        return 1;
    }
}

static int xl_bad_escape(struct ecma_xl *x, size_t at)
{
    int c = xl_peek(x, 0);
    if (c < 0)
        return xl_fail(x, "\\ at end of pattern at offset %zu", at);
    if (c >= 0x21 && c < 0x7F)
        return xl_fail(x, "\\%c is not an ECMA-262 escape (Unicode mode) at offset %zu", c, at);
    return xl_fail(x, "unknown escape at offset %zu", at);
}

/* ---- class escapes: \d \D \w \W \s \S \p{..} \P{..} ---- */

/* The class escapes' sets as sorted ranges. \d and \w are spelled out rather than left to PCRE2:
 * its JIT (10.42) gets \D and \W wrong on non-ASCII characters with PCRE2_MATCH_INVALID_UTF. */
static const uint32_t ecma_digit[][2] = {{0x30, 0x39}};
static const uint32_t ecma_word[][2] = {{0x30, 0x39}, {0x41, 0x5A}, {0x5F, 0x5F}, {0x61, 0x7A}};
/* ECMA's WhiteSpace and LineTerminator. */
static const uint32_t ecma_space[][2] = {
    {0x09, 0x0D},     {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
    {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF},
};

static int xl_put_range(struct ecma_xl *x, uint32_t lo, uint32_t hi)
{
    if (xl_put_cp(x, lo) < 0)
        return -1;
    if (hi == lo)
        return 0;
    return xl_puts(x, "-") < 0 ? -1 : xl_put_cp(x, hi);
}

/* The members of a set (or of its complement) as the inside of a PCRE2 class. */
static int xl_put_set(struct ecma_xl *x, const uint32_t (*set)[2], size_t n, bool negated)
{
    uint32_t next = 0;

    for (size_t i = 0; i < n; i++) {
        if (!negated) {
            if (xl_put_range(x, set[i][0], set[i][1]) < 0)
                return -1;
            continue;
        }
        if (set[i][0] > next && xl_put_range(x, next, set[i][0] - 1) < 0)
            return -1;
        next = set[i][1] + 1;
    }
    return negated ? xl_put_range(x, next, ECMA_CP_MAX) : 0;
}

struct ecma_prop {
    const char *ep_ecma;
    const char *ep_pcre;
};

/* General_Category values, as ECMA-262 names them (short, long, alias), and PCRE2's name. */
static const struct ecma_prop ecma_gc[] = {
    {"C", "C"},
    {"Other", "C"},
    {"Cc", "Cc"},
    {"Control", "Cc"},
    {"cntrl", "Cc"},
    {"Cf", "Cf"},
    {"Format", "Cf"},
    {"Cn", "Cn"},
    {"Unassigned", "Cn"},
    {"Co", "Co"},
    {"Private_Use", "Co"},
    {"Cs", "Cs"},
    {"Surrogate", "Cs"},
    {"L", "L"},
    {"Letter", "L"},
    {"LC", "L&"},
    {"Cased_Letter", "L&"},
    {"Ll", "Ll"},
    {"Lowercase_Letter", "Ll"},
    {"Lm", "Lm"},
    {"Modifier_Letter", "Lm"},
    {"Lo", "Lo"},
    {"Other_Letter", "Lo"},
    {"Lt", "Lt"},
    {"Titlecase_Letter", "Lt"},
    {"Lu", "Lu"},
    {"Uppercase_Letter", "Lu"},
    {"M", "M"},
    {"Mark", "M"},
    {"Combining_Mark", "M"},
    {"Mc", "Mc"},
    {"Spacing_Mark", "Mc"},
    {"Me", "Me"},
    {"Enclosing_Mark", "Me"},
    {"Mn", "Mn"},
    {"Nonspacing_Mark", "Mn"},
    {"N", "N"},
    {"Number", "N"},
    {"Nd", "Nd"},
    {"Decimal_Number", "Nd"},
    {"digit", "Nd"},
    {"Nl", "Nl"},
    {"Letter_Number", "Nl"},
    {"No", "No"},
    {"Other_Number", "No"},
    {"P", "P"},
    {"Punctuation", "P"},
    {"punct", "P"},
    {"Pc", "Pc"},
    {"Connector_Punctuation", "Pc"},
    {"Pd", "Pd"},
    {"Dash_Punctuation", "Pd"},
    {"Pe", "Pe"},
    {"Close_Punctuation", "Pe"},
    {"Pf", "Pf"},
    {"Final_Punctuation", "Pf"},
    {"Pi", "Pi"},
    {"Initial_Punctuation", "Pi"},
    {"Po", "Po"},
    {"Other_Punctuation", "Po"},
    {"Ps", "Ps"},
    {"Open_Punctuation", "Ps"},
    {"S", "S"},
    {"Symbol", "S"},
    {"Sc", "Sc"},
    {"Currency_Symbol", "Sc"},
    {"Sk", "Sk"},
    {"Modifier_Symbol", "Sk"},
    {"Sm", "Sm"},
    {"Math_Symbol", "Sm"},
    {"So", "So"},
    {"Other_Symbol", "So"},
    {"Z", "Z"},
    {"Separator", "Z"},
    {"Zl", "Zl"},
    {"Line_Separator", "Zl"},
    {"Zp", "Zp"},
    {"Paragraph_Separator", "Zp"},
    {"Zs", "Zs"},
    {"Space_Separator", "Zs"},
    {NULL, NULL},
};

/* ECMA-262's binary Unicode properties (long name and alias) and PCRE2's name ("Assigned" is
 * written as not Cn). */
static const struct ecma_prop ecma_binary[] = {
    {"ASCII", "ASCII"},
    {"ASCII_Hex_Digit", "ASCII_Hex_Digit"},
    {"AHex", "ASCII_Hex_Digit"},
    {"Alphabetic", "Alphabetic"},
    {"Alpha", "Alphabetic"},
    {"Any", "Any"},
    {"Assigned", NULL},
    {"Bidi_Control", "Bidi_Control"},
    {"Bidi_C", "Bidi_Control"},
    {"Bidi_Mirrored", "Bidi_Mirrored"},
    {"Bidi_M", "Bidi_Mirrored"},
    {"Case_Ignorable", "Case_Ignorable"},
    {"CI", "Case_Ignorable"},
    {"Cased", "Cased"},
    {"Changes_When_Casefolded", "Changes_When_Casefolded"},
    {"CWCF", "Changes_When_Casefolded"},
    {"Changes_When_Casemapped", "Changes_When_Casemapped"},
    {"CWCM", "Changes_When_Casemapped"},
    {"Changes_When_Lowercased", "Changes_When_Lowercased"},
    {"CWL", "Changes_When_Lowercased"},
    {"Changes_When_NFKC_Casefolded", "Changes_When_NFKC_Casefolded"},
    {"CWKCF", "Changes_When_NFKC_Casefolded"},
    {"Changes_When_Titlecased", "Changes_When_Titlecased"},
    {"CWT", "Changes_When_Titlecased"},
    {"Changes_When_Uppercased", "Changes_When_Uppercased"},
    {"CWU", "Changes_When_Uppercased"},
    {"Dash", "Dash"},
    {"Default_Ignorable_Code_Point", "Default_Ignorable_Code_Point"},
    {"DI", "Default_Ignorable_Code_Point"},
    {"Deprecated", "Deprecated"},
    {"Dep", "Deprecated"},
    {"Diacritic", "Diacritic"},
    {"Dia", "Diacritic"},
    {"Emoji", "Emoji"},
    {"Emoji_Component", "Emoji_Component"},
    {"EComp", "Emoji_Component"},
    {"Emoji_Modifier", "Emoji_Modifier"},
    {"EMod", "Emoji_Modifier"},
    {"Emoji_Modifier_Base", "Emoji_Modifier_Base"},
    {"EBase", "Emoji_Modifier_Base"},
    {"Emoji_Presentation", "Emoji_Presentation"},
    {"EPres", "Emoji_Presentation"},
    {"Extended_Pictographic", "Extended_Pictographic"},
    {"ExtPict", "Extended_Pictographic"},
    {"Extender", "Extender"},
    {"Ext", "Extender"},
    {"Grapheme_Base", "Grapheme_Base"},
    {"Gr_Base", "Grapheme_Base"},
    {"Grapheme_Extend", "Grapheme_Extend"},
    {"Gr_Ext", "Grapheme_Extend"},
    {"Hex_Digit", "Hex_Digit"},
    {"Hex", "Hex_Digit"},
    {"IDS_Binary_Operator", "IDS_Binary_Operator"},
    {"IDSB", "IDS_Binary_Operator"},
    {"IDS_Trinary_Operator", "IDS_Trinary_Operator"},
    {"IDST", "IDS_Trinary_Operator"},
    {"ID_Continue", "ID_Continue"},
    {"IDC", "ID_Continue"},
    {"ID_Start", "ID_Start"},
    {"IDS", "ID_Start"},
    {"Ideographic", "Ideographic"},
    {"Ideo", "Ideographic"},
    {"Join_Control", "Join_Control"},
    {"Join_C", "Join_Control"},
    {"Logical_Order_Exception", "Logical_Order_Exception"},
    {"LOE", "Logical_Order_Exception"},
    {"Lowercase", "Lowercase"},
    {"Lower", "Lowercase"},
    {"Math", "Math"},
    {"Noncharacter_Code_Point", "Noncharacter_Code_Point"},
    {"NChar", "Noncharacter_Code_Point"},
    {"Pattern_Syntax", "Pattern_Syntax"},
    {"Pat_Syn", "Pattern_Syntax"},
    {"Pattern_White_Space", "Pattern_White_Space"},
    {"Pat_WS", "Pattern_White_Space"},
    {"Quotation_Mark", "Quotation_Mark"},
    {"QMark", "Quotation_Mark"},
    {"Radical", "Radical"},
    {"Regional_Indicator", "Regional_Indicator"},
    {"RI", "Regional_Indicator"},
    {"Sentence_Terminal", "Sentence_Terminal"},
    {"STerm", "Sentence_Terminal"},
    {"Soft_Dotted", "Soft_Dotted"},
    {"SD", "Soft_Dotted"},
    {"Terminal_Punctuation", "Terminal_Punctuation"},
    {"Term", "Terminal_Punctuation"},
    {"Unified_Ideograph", "Unified_Ideograph"},
    {"UIdeo", "Unified_Ideograph"},
    {"Uppercase", "Uppercase"},
    {"Upper", "Uppercase"},
    {"Variation_Selector", "Variation_Selector"},
    {"VS", "Variation_Selector"},
    {"White_Space", "White_Space"},
    {"space", "White_Space"},
    {"XID_Continue", "XID_Continue"},
    {"XIDC", "XID_Continue"},
    {"XID_Start", "XID_Start"},
    {"XIDS", "XID_Start"},
    {NULL, NULL},
};

static const struct ecma_prop *xl_prop_find(const struct ecma_prop *t, const char *s, size_t n)
{
    for (; t->ep_ecma != NULL; t++)
        if (strlen(t->ep_ecma) == n && memcmp(t->ep_ecma, s, n) == 0)
            return t;
    return NULL;
}

static bool xl_name_is(const char *s, size_t n, const char *a, const char *b)
{
    return (strlen(a) == n && memcmp(s, a, n) == 0) || (strlen(b) == n && memcmp(s, b, n) == 0);
}

/* After "\p" or "\P" (at = the backslash): {Name}, {Name=Value}. Writes \p{..} or \P{..}. */
static int xl_property(struct ecma_xl *x, size_t at, bool negated)
{
    if (!xl_eat(x, '{'))
        return xl_fail(x, "\\%c needs {property} at offset %zu", negated ? 'P' : 'p', at);
    const char *name = (const char *)x->x_src + x->x_pos;
    size_t n = 0, eq = 0;
    int c;
    while ((c = xl_peek(x, n)) >= 0 && c != '}') {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '='))
            return xl_fail(x, "bad character in \\p{...} at offset %zu", x->x_pos + n);
        if (c == '=' && eq == 0)
            eq = n + 1;
        n++;
    }
    if (c != '}')
        return xl_fail(x, "missing } after \\p{ at offset %zu", at);
    x->x_pos += n + 1;

    char out[96];
    const struct ecma_prop *p;
    if (eq != 0) {
        const char *val = name + eq;
        size_t vn = n - eq;
        const char *kind = NULL;
        if (xl_name_is(name, eq - 1, "General_Category", "gc")) {
            p = xl_prop_find(ecma_gc, val, vn);
            if (p == NULL)
                return xl_fail(x, "unknown General_Category value in \\p{...} at offset %zu", at);
            snprintf(out, sizeof(out), "\\%c{%s}", negated ? 'P' : 'p', p->ep_pcre);
            return xl_puts(x, out);
        }
        if (xl_name_is(name, eq - 1, "Script", "sc"))
            kind = "sc";
        else if (xl_name_is(name, eq - 1, "Script_Extensions", "scx"))
            kind = "scx";
        if (kind == NULL || vn == 0 || vn > 64 || memchr(val, '=', vn) != NULL)
            return xl_fail(x, "unknown Unicode property in \\p{...} at offset %zu", at);
        snprintf(out, sizeof(out), "\\%c{%s:%.*s}", negated ? 'P' : 'p', kind, (int)vn, val);
        return xl_puts(x, out);
    }
    p = xl_prop_find(ecma_gc, name, n);
    if (p == NULL)
        p = xl_prop_find(ecma_binary, name, n);
    if (p == NULL)
        return xl_fail(x, "unknown Unicode property in \\p{...} at offset %zu", at);
    if (p->ep_pcre == NULL) /* Assigned */
        snprintf(out, sizeof(out), "\\%c{Cn}", negated ? 'p' : 'P');
    else
        snprintf(out, sizeof(out), "\\%c{%s}", negated ? 'P' : 'p', p->ep_pcre);
    return xl_puts(x, out);
}

/* A class escape at the letter after a backslash: written (inside a class when in_class) and 1
 * returned, 0 when the letter is no class escape, -1 on error. */
static int xl_class_escape(struct ecma_xl *x, size_t at, bool in_class)
{
    int c = xl_peek(x, 0);
    const uint32_t(*set)[2];
    size_t n;
    switch (c) {
    case 'd':
    case 'D':
        set = ecma_digit, n = sizeof(ecma_digit) / sizeof(ecma_digit[0]);
        break;
    case 'w':
    case 'W':
        set = ecma_word, n = sizeof(ecma_word) / sizeof(ecma_word[0]);
        break;
    case 's':
    case 'S':
        set = ecma_space, n = sizeof(ecma_space) / sizeof(ecma_space[0]);
        break;
    case 'p':
    case 'P':
        x->x_pos++;
        return xl_property(x, at, c == 'P') < 0 ? -1 : 1;
    default:
        return 0;
    }
    x->x_pos++;
    if (!in_class && xl_puts(x, "[") < 0)
        return -1;
    if (xl_put_set(x, set, n, c >= 'A' && c <= 'Z') < 0)
        return -1;
    if (!in_class && xl_puts(x, "]") < 0)
        return -1;
    return 1;
}

/* ---- group names ---- */

static bool xl_ascii_id(uint32_t c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '$' || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

/* Reads a GroupName's body up to and including '>' (the '<' already read), decoded to UTF-8 in
 * buf (cap bytes). Identifier characters: ASCII ones as ECMA says, and any non-ASCII letter by
 * code point (ECMA's ID_Start/ID_Continue are not checked beyond ASCII). */
static int xl_group_name(struct ecma_xl *x, size_t at, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;
    for (bool first = true;; first = false) {
        int c = xl_peek(x, 0);
        if (c == '>' && !first) {
            x->x_pos++;
            *len = n;
            return 0;
        }
        uint32_t cp;
        size_t here = x->x_pos;
        if (c == '\\') {
            if (xl_peek(x, 1) != 'u')
                return xl_fail(x, "bad group name at offset %zu", here);
            x->x_pos += 2;
            if (xl_unicode_escape(x, here, &cp) < 0)
                return -1;
        } else if (c < 0) {
            return xl_fail(x, "missing > after group name at offset %zu", at);
        } else if (xl_utf8(x, &cp) < 0) {
            return -1;
        }
        if (cp < 0x80 ? !xl_ascii_id(cp, first) : (cp >= 0xD800 && cp <= 0xDFFF))
            return xl_fail(x, "bad group name at offset %zu", here);
        if (n + 4 > cap)
            return xl_fail(x, "group name too long at offset %zu", at);
        if (cp < 0x80) {
            buf[n++] = (char)cp;
        } else if (cp < 0x800) {
            buf[n++] = (char)(0xC0 | (cp >> 6));
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            buf[n++] = (char)(0xE0 | (cp >> 12));
            buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        } else {
            buf[n++] = (char)(0xF0 | (cp >> 18));
            buf[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        }
    }
}

/* The first pass: counts capturing groups and records their names, so that back-references may
 * point forwards. Syntax errors other than in names are left to the second pass. */
static int xl_scan_groups(struct ecma_xl *x)
{
    bool in_class = false;
    char name[256];
    size_t len;

    x->x_pos = 0;
    while (x->x_pos < x->x_len) {
        int c = x->x_src[x->x_pos];
        if (c == '\\') {
            x->x_pos += 2;
            continue;
        }
        if (in_class) {
            in_class = c != ']';
            x->x_pos++;
            continue;
        }
        if (c == '[') {
            in_class = true;
            x->x_pos++;
            continue;
        }
        x->x_pos++;
        if (c != '(')
            continue;
        if (xl_peek(x, 0) != '?') {
            x->x_groups++;
            continue;
        }
        if (xl_peek(x, 1) != '<' || xl_peek(x, 2) == '=' || xl_peek(x, 2) == '!')
            continue;
        size_t at = x->x_pos - 1;
        x->x_pos += 2;
        if (xl_group_name(x, at, name, sizeof(name), &len) < 0)
            return -1;
        x->x_groups++;
        for (size_t i = 0; i < x->x_n_names; i++)
            if (x->x_names[i].en_len == len && memcmp(x->x_names[i].en_name, name, len) == 0)
                return xl_fail(x, "duplicate group name at offset %zu", at);
        struct ecma_name *names = realloc(x->x_names, (x->x_n_names + 1) * sizeof(*names));
        if (names == NULL)
            return xl_nomem(x);
        x->x_names = names;
        char *copy = malloc(len + 1);
        if (copy == NULL)
            return xl_nomem(x);
        memcpy(copy, name, len);
        copy[len] = '\0';
        x->x_names[x->x_n_names++] = (struct ecma_name){copy, len, x->x_groups};
    }
    return 0;
}

/* ---- the second pass ---- */

static int xl_put_group_ref(struct ecma_xl *x, unsigned group)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "\\g{%u}", group);
    return xl_put(x, buf, (size_t)n);
}

/* After "\k" (at = the backslash). */
static int xl_named_ref(struct ecma_xl *x, size_t at)
{
    char name[256];
    size_t len;

    if (!xl_eat(x, '<'))
        return xl_fail(x, "\\k needs <name> at offset %zu", at);
    if (xl_group_name(x, at, name, sizeof(name), &len) < 0)
        return -1;
    for (size_t i = 0; i < x->x_n_names; i++)
        if (x->x_names[i].en_len == len && memcmp(x->x_names[i].en_name, name, len) == 0)
            return xl_put_group_ref(x, x->x_names[i].en_group);
    return xl_fail(x, "\\k<...> names no group at offset %zu", at);
}

/* A ClassAtom: a code point (*is_set false) or a class escape already written (*is_set true). */
static int xl_class_atom(struct ecma_xl *x, uint32_t *cp, bool *is_set)
{
    size_t at = x->x_pos;
    *is_set = false;
    if (!xl_eat(x, '\\'))
        return xl_utf8(x, cp);
    int c = xl_peek(x, 0);
    if (c == 'b' || c == '-') {
        x->x_pos++;
        *cp = c == 'b' ? 0x08 : '-';
        return 0;
    }
    x->x_at = at;
    int r = xl_class_escape(x, at, true);
    if (r != 0) {
        *is_set = true;
        return r < 0 ? -1 : 0;
    }
    r = xl_char_escape(x, at, cp);
    if (r <= 0)
        return r;
    return xl_bad_escape(x, at);
}

/* Writes [lo, hi] without its surrogates (no UTF-8 text holds one); counts what was written. */
static int xl_class_range(struct ecma_xl *x, uint32_t lo, uint32_t hi, size_t *items)
{
    if (lo < 0xD800 && xl_put_range(x, lo, hi < 0xD800 ? hi : 0xD7FF) < 0)
        return -1;
    if (hi > 0xDFFF && xl_put_range(x, lo > 0xDFFF ? lo : 0xE000, hi) < 0)
        return -1;
    if (lo < 0xD800 || hi > 0xDFFF)
        (*items)++;
    return 0;
}

/* A character class, the '[' already read at `at`. */
static int xl_class(struct ecma_xl *x, size_t at)
{
    bool negated = xl_eat(x, '^');
    size_t start = x->x_n, items = 0;

    x->x_at = at;
    if (xl_puts(x, negated ? "[^" : "[") < 0)
        return -1;
    for (;;) {
        int c = xl_peek(x, 0);
        if (c < 0)
            return xl_fail(x, "missing ] for the [ at offset %zu", at);
        if (c == ']') {
            x->x_pos++;
            break;
        }
        size_t atom_at = x->x_pos;
        uint32_t lo, hi;
        bool lo_set, hi_set;
        x->x_at = atom_at;
        if (xl_class_atom(x, &lo, &lo_set) < 0)
            return -1;
        if (xl_peek(x, 0) == '-' && xl_peek(x, 1) >= 0 && xl_peek(x, 1) != ']') {
            x->x_pos++;
            if (xl_class_atom(x, &hi, &hi_set) < 0)
                return -1;
            if (lo_set || hi_set)
                return xl_fail(x, "class escape as a range bound at offset %zu", atom_at);
            if (lo > hi)
                return xl_fail(x, "range out of order in class at offset %zu", atom_at);
            x->x_at = atom_at;
            if (xl_class_range(x, lo, hi, &items) < 0)
                return -1;
            continue;
        }
        if (lo_set)
            items++;
        else if (xl_class_range(x, lo, lo, &items) < 0)
            return -1;
    }
    x->x_at = at;
    if (items == 0) { /* [] matches nothing, [^] anything */
        x->x_n = start;
        return xl_puts(x, negated ? "[\\x{0}-\\x{10ffff}]" : "(?:(?!))");
    }
    return xl_puts(x, "]");
}

/* A quantifier's {n}, {n,} or {n,m}, the '{' at `at` not yet read; 1 when there is none. */
static int xl_braces(struct ecma_xl *x, size_t at)
{
    uint32_t v[2] = {0, 0};
    bool big = false, comma = false, upper = false;
    size_t i = 1, digits = 0;
    int c;

    while ((c = xl_peek(x, i)) >= '0' && c <= '9') {
        v[0] = v[0] > ECMA_REPEAT_MAX ? v[0] : v[0] * 10 + (uint32_t)(c - '0');
        i++, digits++;
    }
    if (digits == 0)
        return 1;
    if (xl_peek(x, i) == ',') {
        comma = true;
        i++;
        while ((c = xl_peek(x, i)) >= '0' && c <= '9') {
            v[1] = v[1] > ECMA_REPEAT_MAX ? v[1] : v[1] * 10 + (uint32_t)(c - '0');
            i++, upper = true;
        }
    }
    if (xl_peek(x, i) != '}')
        return 1;
    big = v[0] > ECMA_REPEAT_MAX || (upper && v[1] > ECMA_REPEAT_MAX);
    if (upper && v[1] < v[0] && !big)
        return xl_fail(x, "numbers out of order in {} quantifier at offset %zu", at);
    if (big)
        return xl_fail_as(x, ECMA_REGEX_TOO_COSTLY, "repetition count above 65535 at offset %zu",
                          at);
    char buf[32];
    int n;
    if (!comma)
        n = snprintf(buf, sizeof(buf), "{%u}", (unsigned)v[0]);
    else if (!upper)
        n = snprintf(buf, sizeof(buf), "{%u,}", (unsigned)v[0]);
    else
        n = snprintf(buf, sizeof(buf), "{%u,%u}", (unsigned)v[0], (unsigned)v[1]);
    x->x_pos += i + 1;
    x->x_last_min = v[0];
    return xl_put(x, buf, (size_t)n);
}

/* After '(' at `at`: writes the group's opening and says whether it is a lookaround. */
static int xl_group_open(struct ecma_xl *x, size_t at, enum ecma_group_kind *kind)
{
    *kind = ECMA_GROUP_PLAIN;
    if (!xl_eat(x, '?'))
        return xl_puts(x, "(");
    int c = xl_peek(x, 0);
    if (c == ':' || c == '=' || c == '!') {
        char s[4] = {'(', '?', (char)c, '\0'};
        x->x_pos++;
        if (c != ':')
            *kind = ECMA_GROUP_LOOKAROUND;
        return xl_puts(x, s);
    }
    if (c == '<' && (xl_peek(x, 1) == '=' || xl_peek(x, 1) == '!')) {
        char s[5] = {'(', '?', '<', (char)xl_peek(x, 1), '\0'};
        x->x_pos += 2;
        *kind = ECMA_GROUP_LOOKAROUND;
        return xl_puts(x, s);
    }
    if (c == '<') { /* named: checked and numbered by the first pass */
        char name[256];
        size_t len;
        x->x_pos++;
        if (xl_group_name(x, at, name, sizeof(name), &len) < 0)
            return -1;
        return xl_puts(x, "(");
    }
    if (c > 0x20 && c < 0x7F)
        return xl_fail(x,
                       "\"(?%c\" is not ECMA-262 (no inline options, atomic groups, recursion or "
                       "comments) at offset %zu",
                       c, at);
    return xl_fail(x, "unknown group syntax \"(?\" at offset %zu", at);
}

/* An escape outside a class, the backslash at `at` already read. Sets *quantifiable. */
static int xl_atom_escape(struct ecma_xl *x, size_t at, bool *quantifiable)
{
    int c = xl_peek(x, 0);
    *quantifiable = true;
    if (c == 'b' || c == 'B') {
        x->x_pos++;
        *quantifiable = false;
        return xl_puts(x, c == 'b' ? "\\b" : "\\B");
    }
    if (c >= '1' && c <= '9') {
        unsigned v = 0;
        while ((c = xl_peek(x, 0)) >= '0' && c <= '9') {
            v = v > 100000 ? v : v * 10 + (unsigned)(c - '0');
            x->x_pos++;
        }
        if (v > x->x_groups)
            return xl_fail(x, "back-reference to a group that does not exist at offset %zu", at);
        return xl_put_group_ref(x, v);
    }
    if (c == 'k') {
        x->x_pos++;
        return xl_named_ref(x, at);
    }
    int r = xl_class_escape(x, at, false);
    if (r != 0)
        return r < 0 ? -1 : 0;
    uint32_t cp;
    r = xl_char_escape(x, at, &cp);
    if (r > 0)
        return xl_bad_escape(x, at);
    if (r < 0)
        return -1;
    if (cp >= 0xD800 && cp <= 0xDFFF) /* a lone surrogate: no UTF-8 text holds one */
        return xl_puts(x, "(?:(?!))");
    return xl_put_cp(x, cp);
}

/*
 * The guarded variant's callouts (see ecma_callout): one at the start, after every "(" and "|",
 * after every quantifier, ")" and back-reference, and after 32 atoms in a row. A path from one
 * callout to the next then only crosses the atoms written between them, once each; the callout
 * before them is charged their number, a quantified one counting for its minimum (what it may scan
 * before failing); a repeat that scans further reaches the callout after it, which is charged the
 * distance.
 */
#define ECMA_GUARD_RUN 32

static int xl_callout(struct ecma_xl *x)
{
    if (xl_puts(x, "(?C1)") < 0)
        return -1;
    if (x->x_n_charges == x->x_cap_charges) {
        size_t cap = x->x_cap_charges ? 2 * x->x_cap_charges : 16;
        struct ecma_charge *c = realloc(x->x_charges, cap * sizeof(*c));
        if (c == NULL)
            return xl_nomem(x);
        x->x_charges = c;
        x->x_cap_charges = cap;
    }
    /* PCRE2 reports a callout at the offset of what follows it. */
    x->x_charges[x->x_n_charges++] = (struct ecma_charge){(uint32_t)x->x_n, 1};
    return 0;
}

/* Adds w to the charge of the last callout. */
static void xl_weigh(struct ecma_xl *x, uint32_t w)
{
    if (x->x_n_charges > 0) {
        uint32_t *m = &x->x_charges[x->x_n_charges - 1].ec_min;
        *m = *m > UINT32_MAX - w ? UINT32_MAX : *m + w;
    }
}

static bool xl_is_quantifier(int c)
{
    return c == '*' || c == '+' || c == '?' || c == '{';
}

static int xl_translate(struct ecma_xl *x)
{
    enum ecma_group_kind kinds[ECMA_REGEX_NEST_MAX];
    size_t opened[ECMA_REGEX_NEST_MAX];
    size_t depth = 0;
    bool quantifiable = false;
    bool after_group = false; /* the last atom is a group */
    bool pending = false;     /* guarded: a callout is due after the last atom (and quantifier) */
    size_t run = 0;           /* guarded: atoms since the last callout */

    x->x_pos = 0;
    x->x_n = 0;
    x->x_n_charges = 0;
    if (x->x_guard && xl_callout(x) < 0)
        return -1;
    while (x->x_pos < x->x_len) {
        size_t at = x->x_pos;
        int c = x->x_src[at];
        x->x_at = at;
        if (x->x_guard && !xl_is_quantifier(c) && (pending || run >= ECMA_GUARD_RUN)) {
            if (xl_callout(x) < 0)
                return -1;
            pending = false;
            run = 0;
        }
        if (!xl_is_quantifier(c)) {
            after_group = c == ')';
            if (c != '(' && c != ')' && c != '|') {
                xl_weigh(x, 1);
                run++;
            }
        }
        switch (c) {
        case '*':
        case '+':
        case '?':
        case '{': {
            if (!quantifiable) {
                if (c == '{' && xl_braces(x, at) == 1)
                    return xl_fail(x, "lone { (write \\{) at offset %zu", at);
                return xl_fail(x, "nothing to repeat at offset %zu", at);
            }
            x->x_last_min = c == '+';
            if (c == '{') {
                int r = xl_braces(x, at);
                if (r < 0)
                    return -1;
                if (r == 1)
                    return xl_fail(x, "lone { (write \\{) at offset %zu", at);
            } else {
                char s[2] = {(char)c, '\0'};
                x->x_pos++;
                if (xl_puts(x, s) < 0)
                    return -1;
            }
            if (xl_eat(x, '?') && xl_puts(x, "?") < 0)
                return -1;
            quantifiable = false;
            if (x->x_guard) {
                /* a group's own callouts pay for its iterations */
                if (!after_group && x->x_last_min > 1)
                    xl_weigh(x, x->x_last_min - 1);
                if (xl_callout(x) < 0)
                    return -1;
                pending = false;
                run = 0;
            }
            continue;
        }
        case '}':
        case ']':
            return xl_fail(x, "lone %c (write \\%c) at offset %zu", c, c, at);
        case '|':
            x->x_pos++;
            quantifiable = false;
            if (xl_puts(x, "|") < 0 || (x->x_guard && xl_callout(x) < 0))
                return -1;
            run = 0;
            continue;
        case '^':
        case '$':
            x->x_pos++;
            quantifiable = false;
            if (xl_puts(x, c == '^' ? "^" : "$") < 0)
                return -1;
            continue;
        case '.':
            x->x_pos++;
            quantifiable = true;
            if (xl_puts(x, "[^\\x{a}\\x{d}\\x{2028}\\x{2029}]") < 0)
                return -1;
            continue;
        case '(':
            if (depth == ECMA_REGEX_NEST_MAX)
                return xl_fail_as(x, ECMA_REGEX_TOO_COSTLY,
                                  "groups nested deeper than %d at offset %zu", ECMA_REGEX_NEST_MAX,
                                  at);
            x->x_pos++;
            opened[depth] = at;
            if (xl_group_open(x, at, &kinds[depth]) < 0 || (x->x_guard && xl_callout(x) < 0))
                return -1;
            depth++;
            quantifiable = false;
            run = 0;
            continue;
        case ')':
            if (depth == 0)
                return xl_fail(x, "unmatched ) at offset %zu", at);
            x->x_pos++;
            depth--;
            quantifiable = kinds[depth] != ECMA_GROUP_LOOKAROUND;
            if (xl_puts(x, ")") < 0)
                return -1;
            pending = true;
            continue;
        case '[':
            x->x_pos++;
            quantifiable = true;
            if (xl_class(x, at) < 0)
                return -1;
            continue;
        case '\\':
            x->x_pos++;
            /* a back-reference compares as far as its group went: the callout after it sees */
            pending = (xl_peek(x, 0) >= '1' && xl_peek(x, 0) <= '9') || xl_peek(x, 0) == 'k';
            if (xl_atom_escape(x, at, &quantifiable) < 0)
                return -1;
            continue;
        default: {
            uint32_t cp;
            if (xl_utf8(x, &cp) < 0 || xl_put_cp(x, cp) < 0)
                return -1;
            quantifiable = true;
            continue;
        }
        }
    }
    if (x->x_guard && pending && xl_callout(x) < 0)
        return -1;
    if (depth > 0)
        return xl_fail(x, "missing ) for the ( at offset %zu", opened[depth - 1]);
    return 0;
}

static void xl_release(struct ecma_xl *x)
{
    free(x->x_out);
    free(x->x_map);
    for (size_t i = 0; i < x->x_n_names; i++)
        free(x->x_names[i].en_name);
    free(x->x_names);
    free(x->x_charges);
}

/* ---- PCRE2 ---- */

static enum ecma_regex_status ecma_fail(char *why, size_t cap, enum ecma_regex_status st,
                                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum ecma_regex_status ecma_fail(char *why, size_t cap, enum ecma_regex_status st,
                                        const char *fmt, ...)
{
    if (cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* The cost of the callout at pattern offset `off`: the minimum of the quantified atom it precedes.
 */
static uint64_t ecma_charge_at(const struct ecma_guard *g, size_t off)
{
    size_t lo = 0, hi = g->eg_n_charges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->eg_charges[mid].ec_off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->eg_n_charges && g->eg_charges[lo].ec_off == off ? g->eg_charges[lo].ec_min : 0;
}

/*
 * The scan guard. PCRE2's match limit counts backtracking, not the characters a repeat moves over
 * without backtracking (a possessive or a failing one), so an unanchored search could cost the
 * square of the subject's length. The guarded code calls this at the callouts xl_callout placed:
 * it charges the distance moved since the previous call plus the callout's own charge (one, and
 * what the atoms after it may cost before the next callout), and stops the search beyond the
 * budget. Every character a repeat moves over is then paid for; only what a back-reference that
 * fails compares is not.
 */
static int ecma_callout(pcre2_callout_block *b, void *data)
{
    struct ecma_guard *g = data;
    size_t p = b->current_position;

    g->eg_cost += 1 + (p > g->eg_last ? p - g->eg_last : g->eg_last - p);
    g->eg_cost += ecma_charge_at(g, b->pattern_position);
    g->eg_last = p;
    return g->eg_cost > g->eg_budget ? PCRE2_ERROR_MATCHLIMIT : 0;
}

static pcre2_code *ecma_compile_code(const struct ecma_xl *x, uint32_t extra, int *err,
                                     PCRE2_SIZE *off)
{
    const uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY |
                          PCRE2_MATCH_UNSET_BACKREF | PCRE2_NEVER_BACKSLASH_C | PCRE2_NEVER_UCP |
                          PCRE2_NO_UTF_CHECK | extra;
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);

    if (cc == NULL) {
        *err = PCRE2_ERROR_HEAP_FAILED;
        *off = 0;
        return NULL;
    }
    /* The translation adds one level for an empty class. */
    pcre2_set_parens_nest_limit(cc, ECMA_REGEX_NEST_MAX + 2);
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)(x->x_out ? x->x_out : ""), x->x_n, opts, err, off, cc);
    pcre2_compile_context_free(cc);
    return code;
}

/* Checks the compiled size and JIT-compiles code (left to the interpreter if JIT fails). */
static enum ecma_regex_status ecma_finish_code(pcre2_code *code, char *why, size_t cap)
{
    size_t size = 0;
    pcre2_pattern_info(code, PCRE2_INFO_SIZE, &size);
    if (size > ECMA_REGEX_CODE_MAX)
        return ecma_fail(why, cap, ECMA_REGEX_TOO_COSTLY,
                         "compiled pattern too large (%zu bytes, the limit is %d)", size,
                         ECMA_REGEX_CODE_MAX);
    if (pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0) {
        size_t jsize = 0;
        pcre2_pattern_info(code, PCRE2_INFO_JITSIZE, &jsize);
        if (jsize > ECMA_REGEX_CODE_MAX)
            return ecma_fail(why, cap, ECMA_REGEX_TOO_COSTLY,
                             "compiled pattern too large (%zu bytes of machine code, the limit "
                             "is %d)",
                             jsize, ECMA_REGEX_CODE_MAX);
    }
    return ECMA_REGEX_OK;
}

/* Compiles the translated pattern; PCRE2's error offsets are mapped back through x's map. */
static enum ecma_regex_status ecma_pcre2(struct ecma_regex *re, const struct ecma_xl *x, char *why,
                                         size_t cap)
{
    int err;
    PCRE2_SIZE off;

    re->er_code = ecma_compile_code(x, 0, &err, &off);
    if (re->er_code == NULL) {
        PCRE2_UCHAR msg[120];
        if (pcre2_get_error_message(err, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", err);
        /* PCRE2 may point just past the construct at fault: at the end, that is the last one. */
        size_t src_off = off < x->x_n ? x->x_map[off] : x->x_n > 0 ? x->x_map[x->x_n - 1] : 0;
        bool cost = err == PCRE2_ERROR_PATTERN_TOO_LARGE || err == PCRE2_ERROR_HEAP_FAILED;
        return ecma_fail(why, cap, cost ? ECMA_REGEX_TOO_COSTLY : ECMA_REGEX_INVALID,
                         "%s at offset %zu", (const char *)msg, src_off);
    }
    return ecma_finish_code(re->er_code, why, cap);
}

/* Compiles the guarded variant (x translated with x_guard) and the search's shared state. */
static enum ecma_regex_status ecma_pcre2_guarded(struct ecma_regex *re, struct ecma_xl *x,
                                                 char *why, size_t cap)
{
    int err;
    PCRE2_SIZE off;

    re->er_guarded = ecma_compile_code(x, 0, &err, &off);
    if (re->er_guarded == NULL) {
        PCRE2_UCHAR msg[120];
        if (pcre2_get_error_message(err, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", err);
        return ecma_fail(why, cap, ECMA_REGEX_TOO_COSTLY, "with its scan guard: %s",
                         (const char *)msg);
    }
    enum ecma_regex_status st = ecma_finish_code(re->er_guarded, why, cap);
    if (st != ECMA_REGEX_OK)
        return st;
    re->er_guard = calloc(1, sizeof(*re->er_guard));
    if (re->er_guard == NULL)
        return ecma_fail(why, cap, ECMA_REGEX_TOO_COSTLY, "out of memory");
    /* The callouts hide these from PCRE2's start-up checks on the guarded code: kept for search. */
    uint32_t type = 0, unit = 0;
    re->er_first = re->er_last = -1;
    if (pcre2_pattern_info(re->er_code, PCRE2_INFO_FIRSTCODETYPE, &type) == 0 && type == 1 &&
        pcre2_pattern_info(re->er_code, PCRE2_INFO_FIRSTCODEUNIT, &unit) == 0)
        re->er_first = (int)unit;
    if (pcre2_pattern_info(re->er_code, PCRE2_INFO_LASTCODETYPE, &type) == 0 && type == 1 &&
        pcre2_pattern_info(re->er_code, PCRE2_INFO_LASTCODEUNIT, &unit) == 0)
        re->er_last = (int)unit;
    re->er_guard->eg_charges = x->x_charges;
    re->er_guard->eg_n_charges = x->x_n_charges;
    x->x_charges = NULL;
    x->x_n_charges = x->x_cap_charges = 0;

    re->er_jit = pcre2_jit_stack_create(ECMA_JIT_STACK_START, ECMA_REGEX_JIT_STACK_MAX, NULL);
    re->er_md = pcre2_match_data_create(1, NULL);
    re->er_mc = pcre2_match_context_create(NULL);
    if (re->er_jit == NULL || re->er_md == NULL || re->er_mc == NULL)
        return ecma_fail(why, cap, ECMA_REGEX_TOO_COSTLY, "out of memory");
    pcre2_set_depth_limit(re->er_mc, ECMA_REGEX_DEPTH_MAX);
    pcre2_set_heap_limit(re->er_mc, ECMA_REGEX_HEAP_KIB);
    pcre2_jit_stack_assign(re->er_mc, NULL, re->er_jit);
    pcre2_set_callout(re->er_mc, ecma_callout, re->er_guard);
    return ECMA_REGEX_OK;
}

enum ecma_regex_status ecma_regex_compile(struct ecma_regex **out, const char *src, size_t len,
                                          char *why, size_t cap)
{
    struct ecma_xl x = {
        .x_src = (const unsigned char *)src, .x_len = len, .x_why = why, .x_why_cap = cap};
    enum ecma_regex_status st;

    *out = NULL;
    if (cap > 0)
        why[0] = '\0';
    if (len > ECMA_REGEX_SRC_MAX)
        return ecma_fail(why, cap, ECMA_REGEX_TOO_COSTLY, "pattern longer than %d bytes (%zu)",
                         ECMA_REGEX_SRC_MAX, len);
    if (xl_scan_groups(&x) < 0 || xl_translate(&x) < 0) {
        xl_release(&x);
        return x.x_status;
    }
    struct ecma_regex *re = calloc(1, sizeof(*re));
    if (re == NULL) {
        xl_release(&x);
        return ecma_fail(why, cap, ECMA_REGEX_TOO_COSTLY, "out of memory");
    }
    st = ecma_pcre2(re, &x, why, cap);
    if (st == ECMA_REGEX_OK) {
        x.x_guard = true;
        st = xl_translate(&x) < 0 ? x.x_status : ecma_pcre2_guarded(re, &x, why, cap);
    }
    xl_release(&x);
    if (st != ECMA_REGEX_OK) {
        ecma_regex_free(re);
        return st;
    }
    *out = re;
    return ECMA_REGEX_OK;
}

enum ecma_regex_match ecma_regex_search(const struct ecma_regex *re, const char *s, size_t len)
{
    uint64_t limit = ECMA_REGEX_MATCH_BASE + (uint64_t)ECMA_REGEX_MATCH_PER_BYTE * len;
    pcre2_code *code = re->er_code;

    pcre2_set_match_limit(re->er_mc,
                          limit > ECMA_REGEX_MATCH_MAX ? ECMA_REGEX_MATCH_MAX : (uint32_t)limit);
    if (len > ECMA_REGEX_GUARD_FROM) {
        /* PCRE2's quick refusals, which its start-up checks make on the plain code */
        if ((re->er_first >= 0 && memchr(s, re->er_first, len) == NULL) ||
            (re->er_last >= 0 && memchr(s, re->er_last, len) == NULL))
            return ECMA_REGEX_NO_MATCH;
        code = re->er_guarded;
        re->er_guard->eg_last = 0;
        re->er_guard->eg_cost = 0;
        re->er_guard->eg_budget = ECMA_REGEX_SCAN_BASE + (uint64_t)ECMA_REGEX_SCAN_PER_BYTE * len;
    }
    int rc = pcre2_match(code, (PCRE2_SPTR)(s ? s : ""), len, 0, 0, re->er_md, re->er_mc);
    if (rc >= 0)
        return ECMA_REGEX_MATCH;
    if (rc == PCRE2_ERROR_NOMATCH)
        return ECMA_REGEX_NO_MATCH;
    return ECMA_REGEX_LIMIT;
}

void ecma_regex_free(struct ecma_regex *re)
{
    if (re == NULL)
        return;
    pcre2_match_context_free(re->er_mc);
    pcre2_match_data_free(re->er_md);
    pcre2_jit_stack_free(re->er_jit);
    pcre2_code_free(re->er_code);
    pcre2_code_free(re->er_guarded);
    if (re->er_guard != NULL)
        free(re->er_guard->eg_charges);
    free(re->er_guard);
    free(re);
}
