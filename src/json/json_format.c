/*
 * json_format: JSON Schema string formats (see the header for the grammar of
 * each and its deviations).
 */
#include "ssemon/json/json_format.h"

#include <stdint.h>
#include <string.h>

/* ---- character classes (ASCII, locale-free) ---- */

static bool jf_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool jf_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool jf_hex(unsigned char c)
{
    return jf_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned char jf_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* n digits at s into *out (n <= 9, so no overflow). */
static bool jf_digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!jf_digit((unsigned char)s[i]))
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* ---- date, time, date-time (RFC 3339 section 5.6) ---- */

static unsigned jf_days_in_month(unsigned year, unsigned month)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
        return 29;
    return days[month - 1];
}

/* full-date: exactly 10 bytes YYYY-MM-DD. */
static bool jf_full_date(const char *s, size_t len)
{
    unsigned y, m, d;
    if (len != 10 || !jf_digits(s, 4, &y) || s[4] != '-' || !jf_digits(s + 5, 2, &m) ||
        s[7] != '-' || !jf_digits(s + 8, 2, &d))
        return false;
    return m >= 1 && m <= 12 && d >= 1 && d <= jf_days_in_month(y, m);
}

/* full-time: HH:MM:SS[.frac](Z|+HH:MM|-HH:MM), the whole of s. */
static bool jf_full_time(const char *s, size_t len)
{
    unsigned h, mi, sec, oh = 0, om = 0;
    if (len < 9 || !jf_digits(s, 2, &h) || s[2] != ':' || !jf_digits(s + 3, 2, &mi) ||
        s[5] != ':' || !jf_digits(s + 6, 2, &sec))
        return false;
    if (h > 23 || mi > 59 || sec > 60)
        return false;
    size_t i = 8;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < len && jf_digit((unsigned char)s[i]))
            i++;
        if (i == start)
            return false;
    }
    if (i >= len)
        return false;
    int sign = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        sign = s[i] == '+' ? 1 : -1;
        if (len - i != 6 || !jf_digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
            !jf_digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        i += 6;
    } else {
        return false;
    }
    if (i != len)
        return false;
    if (sec == 60) {
        /* the offset is local minus UTC: UTC = local - offset */
        int utc = (int)(h * 60 + mi) - sign * (int)(oh * 60 + om);
        utc = ((utc % 1440) + 1440) % 1440;
        if (utc != 23 * 60 + 59)
            return false;
    }
    return true;
}

static bool jf_date_time(const char *s, size_t len)
{
    return len > 11 && (s[10] == 'T' || s[10] == 't') && jf_full_date(s, 10) &&
           jf_full_time(s + 11, len - 11);
}

/* ---- duration (RFC 3339 Appendix A) ---- */

/* The index of unit c in `units` ("YMD" or "HMS"), or -1. */
static int jf_unit_index(const char *units, unsigned char c)
{
    for (int k = 0; k < 3; k++)
        if ((unsigned char)units[k] == c)
            return k;
    return -1;
}

/* Elements 1*DIGIT unit from s[*i] up to `end`, units in the order of
 * `units` without a gap; at least one. */
static bool jf_dur_elements(const char *s, size_t *i, size_t end, const char *units)
{
    int prev = -1;
    while (*i < end) {
        size_t start = *i;
        while (*i < end && jf_digit((unsigned char)s[*i]))
            (*i)++;
        if (*i == start || *i == end)
            return false;
        int k = jf_unit_index(units, (unsigned char)s[*i]);
        if (k < 0 || (prev >= 0 && k != prev + 1))
            return false;
        prev = k;
        (*i)++;
    }
    return prev >= 0;
}

static bool jf_duration(const char *s, size_t len)
{
    if (len < 3 || s[0] != 'P')
        return false;
    if (s[len - 1] == 'W') {
        for (size_t i = 1; i + 1 < len; i++)
            if (!jf_digit((unsigned char)s[i]))
                return false;
        return true;
    }
    const char *t = memchr(s, 'T', len);
    size_t date_end = t != NULL ? (size_t)(t - s) : len;
    size_t i = 1;
    if (date_end > 1 && !jf_dur_elements(s, &i, date_end, "YMD"))
        return false;
    if (t == NULL)
        return date_end > 1;
    i = date_end + 1;
    return jf_dur_elements(s, &i, len, "HMS");
}

/* ---- uuid (RFC 4122) ---- */

static bool jf_uuid(const char *s, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !jf_hex((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* ---- ipv4, ipv6 ---- */

/* A dotted quad: 4 decimal parts 0..255, no leading zeros. */
static bool jf_ipv4(const char *s, size_t len)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && i - start < 3 && jf_digit((unsigned char)s[i]))
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
            return false;
    }
    return i == len;
}

/* RFC 4291 section 2.2: 8 groups, "::" for one or more, an embedded dotted
 * quad as the last two. */
static bool jf_ipv6(const char *s, size_t len)
{
    size_t i = 0;
    int groups = 0;
    bool compressed = false;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        compressed = true;
        i = 2;
        if (i == len)
            return true;
    } else if (len == 0 || s[0] == ':') {
        return false;
    }
    /* here: at the start of a group, after "::" or a single ':' */
    for (;;) {
        size_t start = i;
        while (i < len && i - start < 5 && jf_hex((unsigned char)s[i]))
            i++;
        size_t n = i - start;
        if (i < len && s[i] == '.') {
            /* the embedded dotted quad: the rest of the string */
            if (!jf_ipv4(s + start, len - start))
                return false;
            groups += 2;
            break;
        }
        if (n == 0 || n > 4)
            return false;
        groups++;
        if (i == len)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < len && s[i] == ':') {
            if (compressed)
                return false;
            compressed = true;
            i++;
            if (i == len)
                break;
        } else if (i == len) {
            return false; /* a trailing single ':' */
        }
        if (groups > 8)
            return false;
    }
    return compressed ? groups <= 7 : groups == 8;
}

/* ---- hostname (RFC 1123) and IDNA A-labels (RFC 5890-5892, RFC 3492) ---- */

struct jf_range {
    uint32_t lo, hi;
};

/* Generated from Unicode 14's character database: general category Mn, Mc or
 * Me (jf_marks), canonical combining class 9, Virama (jf_viramas). */
static const struct jf_range jf_marks[] = {
    {0x300, 0x36F},     {0x483, 0x489},     {0x591, 0x5BD},     {0x5BF, 0x5BF},
    {0x5C1, 0x5C2},     {0x5C4, 0x5C5},     {0x5C7, 0x5C7},     {0x610, 0x61A},
    {0x64B, 0x65F},     {0x670, 0x670},     {0x6D6, 0x6DC},     {0x6DF, 0x6E4},
    {0x6E7, 0x6E8},     {0x6EA, 0x6ED},     {0x711, 0x711},     {0x730, 0x74A},
    {0x7A6, 0x7B0},     {0x7EB, 0x7F3},     {0x7FD, 0x7FD},     {0x816, 0x819},
    {0x81B, 0x823},     {0x825, 0x827},     {0x829, 0x82D},     {0x859, 0x85B},
    {0x898, 0x89F},     {0x8CA, 0x8E1},     {0x8E3, 0x903},     {0x93A, 0x93C},
    {0x93E, 0x94F},     {0x951, 0x957},     {0x962, 0x963},     {0x981, 0x983},
    {0x9BC, 0x9BC},     {0x9BE, 0x9C4},     {0x9C7, 0x9C8},     {0x9CB, 0x9CD},
    {0x9D7, 0x9D7},     {0x9E2, 0x9E3},     {0x9FE, 0x9FE},     {0xA01, 0xA03},
    {0xA3C, 0xA3C},     {0xA3E, 0xA42},     {0xA47, 0xA48},     {0xA4B, 0xA4D},
    {0xA51, 0xA51},     {0xA70, 0xA71},     {0xA75, 0xA75},     {0xA81, 0xA83},
    {0xABC, 0xABC},     {0xABE, 0xAC5},     {0xAC7, 0xAC9},     {0xACB, 0xACD},
    {0xAE2, 0xAE3},     {0xAFA, 0xAFF},     {0xB01, 0xB03},     {0xB3C, 0xB3C},
    {0xB3E, 0xB44},     {0xB47, 0xB48},     {0xB4B, 0xB4D},     {0xB55, 0xB57},
    {0xB62, 0xB63},     {0xB82, 0xB82},     {0xBBE, 0xBC2},     {0xBC6, 0xBC8},
    {0xBCA, 0xBCD},     {0xBD7, 0xBD7},     {0xC00, 0xC04},     {0xC3C, 0xC3C},
    {0xC3E, 0xC44},     {0xC46, 0xC48},     {0xC4A, 0xC4D},     {0xC55, 0xC56},
    {0xC62, 0xC63},     {0xC81, 0xC83},     {0xCBC, 0xCBC},     {0xCBE, 0xCC4},
    {0xCC6, 0xCC8},     {0xCCA, 0xCCD},     {0xCD5, 0xCD6},     {0xCE2, 0xCE3},
    {0xD00, 0xD03},     {0xD3B, 0xD3C},     {0xD3E, 0xD44},     {0xD46, 0xD48},
    {0xD4A, 0xD4D},     {0xD57, 0xD57},     {0xD62, 0xD63},     {0xD81, 0xD83},
    {0xDCA, 0xDCA},     {0xDCF, 0xDD4},     {0xDD6, 0xDD6},     {0xDD8, 0xDDF},
    {0xDF2, 0xDF3},     {0xE31, 0xE31},     {0xE34, 0xE3A},     {0xE47, 0xE4E},
    {0xEB1, 0xEB1},     {0xEB4, 0xEBC},     {0xEC8, 0xECD},     {0xF18, 0xF19},
    {0xF35, 0xF35},     {0xF37, 0xF37},     {0xF39, 0xF39},     {0xF3E, 0xF3F},
    {0xF71, 0xF84},     {0xF86, 0xF87},     {0xF8D, 0xF97},     {0xF99, 0xFBC},
    {0xFC6, 0xFC6},     {0x102B, 0x103E},   {0x1056, 0x1059},   {0x105E, 0x1060},
    {0x1062, 0x1064},   {0x1067, 0x106D},   {0x1071, 0x1074},   {0x1082, 0x108D},
    {0x108F, 0x108F},   {0x109A, 0x109D},   {0x135D, 0x135F},   {0x1712, 0x1715},
    {0x1732, 0x1734},   {0x1752, 0x1753},   {0x1772, 0x1773},   {0x17B4, 0x17D3},
    {0x17DD, 0x17DD},   {0x180B, 0x180D},   {0x180F, 0x180F},   {0x1885, 0x1886},
    {0x18A9, 0x18A9},   {0x1920, 0x192B},   {0x1930, 0x193B},   {0x1A17, 0x1A1B},
    {0x1A55, 0x1A5E},   {0x1A60, 0x1A7C},   {0x1A7F, 0x1A7F},   {0x1AB0, 0x1ACE},
    {0x1B00, 0x1B04},   {0x1B34, 0x1B44},   {0x1B6B, 0x1B73},   {0x1B80, 0x1B82},
    {0x1BA1, 0x1BAD},   {0x1BE6, 0x1BF3},   {0x1C24, 0x1C37},   {0x1CD0, 0x1CD2},
    {0x1CD4, 0x1CE8},   {0x1CED, 0x1CED},   {0x1CF4, 0x1CF4},   {0x1CF7, 0x1CF9},
    {0x1DC0, 0x1DFF},   {0x20D0, 0x20F0},   {0x2CEF, 0x2CF1},   {0x2D7F, 0x2D7F},
    {0x2DE0, 0x2DFF},   {0x302A, 0x302F},   {0x3099, 0x309A},   {0xA66F, 0xA672},
    {0xA674, 0xA67D},   {0xA69E, 0xA69F},   {0xA6F0, 0xA6F1},   {0xA802, 0xA802},
    {0xA806, 0xA806},   {0xA80B, 0xA80B},   {0xA823, 0xA827},   {0xA82C, 0xA82C},
    {0xA880, 0xA881},   {0xA8B4, 0xA8C5},   {0xA8E0, 0xA8F1},   {0xA8FF, 0xA8FF},
    {0xA926, 0xA92D},   {0xA947, 0xA953},   {0xA980, 0xA983},   {0xA9B3, 0xA9C0},
    {0xA9E5, 0xA9E5},   {0xAA29, 0xAA36},   {0xAA43, 0xAA43},   {0xAA4C, 0xAA4D},
    {0xAA7B, 0xAA7D},   {0xAAB0, 0xAAB0},   {0xAAB2, 0xAAB4},   {0xAAB7, 0xAAB8},
    {0xAABE, 0xAABF},   {0xAAC1, 0xAAC1},   {0xAAEB, 0xAAEF},   {0xAAF5, 0xAAF6},
    {0xABE3, 0xABEA},   {0xABEC, 0xABED},   {0xFB1E, 0xFB1E},   {0xFE00, 0xFE0F},
    {0xFE20, 0xFE2F},   {0x101FD, 0x101FD}, {0x102E0, 0x102E0}, {0x10376, 0x1037A},
    {0x10A01, 0x10A03}, {0x10A05, 0x10A06}, {0x10A0C, 0x10A0F}, {0x10A38, 0x10A3A},
    {0x10A3F, 0x10A3F}, {0x10AE5, 0x10AE6}, {0x10D24, 0x10D27}, {0x10EAB, 0x10EAC},
    {0x10F46, 0x10F50}, {0x10F82, 0x10F85}, {0x11000, 0x11002}, {0x11038, 0x11046},
    {0x11070, 0x11070}, {0x11073, 0x11074}, {0x1107F, 0x11082}, {0x110B0, 0x110BA},
    {0x110C2, 0x110C2}, {0x11100, 0x11102}, {0x11127, 0x11134}, {0x11145, 0x11146},
    {0x11173, 0x11173}, {0x11180, 0x11182}, {0x111B3, 0x111C0}, {0x111C9, 0x111CC},
    {0x111CE, 0x111CF}, {0x1122C, 0x11237}, {0x1123E, 0x1123E}, {0x112DF, 0x112EA},
    {0x11300, 0x11303}, {0x1133B, 0x1133C}, {0x1133E, 0x11344}, {0x11347, 0x11348},
    {0x1134B, 0x1134D}, {0x11357, 0x11357}, {0x11362, 0x11363}, {0x11366, 0x1136C},
    {0x11370, 0x11374}, {0x11435, 0x11446}, {0x1145E, 0x1145E}, {0x114B0, 0x114C3},
    {0x115AF, 0x115B5}, {0x115B8, 0x115C0}, {0x115DC, 0x115DD}, {0x11630, 0x11640},
    {0x116AB, 0x116B7}, {0x1171D, 0x1172B}, {0x1182C, 0x1183A}, {0x11930, 0x11935},
    {0x11937, 0x11938}, {0x1193B, 0x1193E}, {0x11940, 0x11940}, {0x11942, 0x11943},
    {0x119D1, 0x119D7}, {0x119DA, 0x119E0}, {0x119E4, 0x119E4}, {0x11A01, 0x11A0A},
    {0x11A33, 0x11A39}, {0x11A3B, 0x11A3E}, {0x11A47, 0x11A47}, {0x11A51, 0x11A5B},
    {0x11A8A, 0x11A99}, {0x11C2F, 0x11C36}, {0x11C38, 0x11C3F}, {0x11C92, 0x11CA7},
    {0x11CA9, 0x11CB6}, {0x11D31, 0x11D36}, {0x11D3A, 0x11D3A}, {0x11D3C, 0x11D3D},
    {0x11D3F, 0x11D45}, {0x11D47, 0x11D47}, {0x11D8A, 0x11D8E}, {0x11D90, 0x11D91},
    {0x11D93, 0x11D97}, {0x11EF3, 0x11EF6}, {0x16AF0, 0x16AF4}, {0x16B30, 0x16B36},
    {0x16F4F, 0x16F4F}, {0x16F51, 0x16F87}, {0x16F8F, 0x16F92}, {0x16FE4, 0x16FE4},
    {0x16FF0, 0x16FF1}, {0x1BC9D, 0x1BC9E}, {0x1CF00, 0x1CF2D}, {0x1CF30, 0x1CF46},
    {0x1D165, 0x1D169}, {0x1D16D, 0x1D172}, {0x1D17B, 0x1D182}, {0x1D185, 0x1D18B},
    {0x1D1AA, 0x1D1AD}, {0x1D242, 0x1D244}, {0x1DA00, 0x1DA36}, {0x1DA3B, 0x1DA6C},
    {0x1DA75, 0x1DA75}, {0x1DA84, 0x1DA84}, {0x1DA9B, 0x1DA9F}, {0x1DAA1, 0x1DAAF},
    {0x1E000, 0x1E006}, {0x1E008, 0x1E018}, {0x1E01B, 0x1E021}, {0x1E023, 0x1E024},
    {0x1E026, 0x1E02A}, {0x1E130, 0x1E136}, {0x1E2AE, 0x1E2AE}, {0x1E2EC, 0x1E2EF},
    {0x1E8D0, 0x1E8D6}, {0x1E944, 0x1E94A}, {0xE0100, 0xE01EF},
};
static const struct jf_range jf_viramas[] = {
    {0x94D, 0x94D},     {0x9CD, 0x9CD},     {0xA4D, 0xA4D},     {0xACD, 0xACD},
    {0xB4D, 0xB4D},     {0xBCD, 0xBCD},     {0xC4D, 0xC4D},     {0xCCD, 0xCCD},
    {0xD3B, 0xD3C},     {0xD4D, 0xD4D},     {0xDCA, 0xDCA},     {0xE3A, 0xE3A},
    {0xEBA, 0xEBA},     {0xF84, 0xF84},     {0x1039, 0x103A},   {0x1714, 0x1715},
    {0x1734, 0x1734},   {0x17D2, 0x17D2},   {0x1A60, 0x1A60},   {0x1B44, 0x1B44},
    {0x1BAA, 0x1BAB},   {0x1BF2, 0x1BF3},   {0x2D7F, 0x2D7F},   {0xA806, 0xA806},
    {0xA82C, 0xA82C},   {0xA8C4, 0xA8C4},   {0xA953, 0xA953},   {0xA9C0, 0xA9C0},
    {0xAAF6, 0xAAF6},   {0xABED, 0xABED},   {0x10A3F, 0x10A3F}, {0x11046, 0x11046},
    {0x11070, 0x11070}, {0x1107F, 0x1107F}, {0x110B9, 0x110B9}, {0x11133, 0x11134},
    {0x111C0, 0x111C0}, {0x11235, 0x11235}, {0x112EA, 0x112EA}, {0x1134D, 0x1134D},
    {0x11442, 0x11442}, {0x114C2, 0x114C2}, {0x115BF, 0x115BF}, {0x1163F, 0x1163F},
    {0x116B6, 0x116B6}, {0x1172B, 0x1172B}, {0x11839, 0x11839}, {0x1193D, 0x1193E},
    {0x119E0, 0x119E0}, {0x11A34, 0x11A34}, {0x11A47, 0x11A47}, {0x11A99, 0x11A99},
    {0x11C3F, 0x11C3F}, {0x11D44, 0x11D45}, {0x11D97, 0x11D97},
};

static bool jf_in(const struct jf_range *t, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < t[mid].lo)
            hi = mid;
        else if (cp > t[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

#define JF_COUNT(t) (sizeof(t) / sizeof((t)[0]))

static bool jf_mark(uint32_t cp)
{
    return jf_in(jf_marks, JF_COUNT(jf_marks), cp);
}

static bool jf_virama(uint32_t cp)
{
    return jf_in(jf_viramas, JF_COUNT(jf_viramas), cp);
}

/* Scripts by their Unicode blocks (the Common code points inside them left
 * out where a contextual rule depends on it). */
static bool jf_greek(uint32_t cp)
{
    return (cp >= 0x370 && cp <= 0x3FF && cp != 0x374 && cp != 0x37E && cp != 0x385 &&
            cp != 0x387 && !(cp >= 0x3E2 && cp <= 0x3EF)) ||
           (cp >= 0x1F00 && cp <= 0x1FFF);
}

static bool jf_hebrew(uint32_t cp)
{
    return (cp >= 0x591 && cp <= 0x5F4) || (cp >= 0xFB1D && cp <= 0xFB4F);
}

static bool jf_hiragana_katakana_han(uint32_t cp)
{
    return (cp >= 0x3041 && cp <= 0x3096) || (cp >= 0x309D && cp <= 0x309F) || /* Hiragana */
           (cp >= 0x30A1 && cp <= 0x30FA) || (cp >= 0x30FD && cp <= 0x30FF) || /* Katakana */
           (cp >= 0x31F0 && cp <= 0x31FF) || (cp >= 0xFF66 && cp <= 0xFF9D) ||
           (cp >= 0x1B000 && cp <= 0x1B16F) || (cp >= 0x2E80 && cp <= 0x2FDF) || cp == 0x3005 ||
           cp == 0x3007 || /* Han */
           (cp >= 0x3021 && cp <= 0x3029) || (cp >= 0x3038 && cp <= 0x303B) ||
           (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3134F);
}

/* Joining_Type of the Arabic block's letters: 'D' dual, 'R' right, 'T'
 * transparent (combining marks), 'U' otherwise. */
static char jf_joining(uint32_t cp)
{
    static const uint32_t right[] = {0x622, 0x623, 0x624, 0x625, 0x627, 0x629, 0x62F, 0x630, 0x631,
                                     0x632, 0x648, 0x671, 0x672, 0x673, 0x675, 0x676, 0x677, 0x6C0,
                                     0x6CD, 0x6CF, 0x6D2, 0x6D3, 0x6D5, 0x6EE, 0x6EF};
    if (jf_mark(cp))
        return 'T';
    if ((cp >= 0x688 && cp <= 0x699) || (cp >= 0x6C3 && cp <= 0x6CB))
        return 'R';
    for (size_t k = 0; k < JF_COUNT(right); k++)
        if (right[k] == cp)
            return 'R';
    if ((cp >= 0x620 && cp <= 0x64A && cp != 0x621 && cp != 0x640) || cp == 0x66E || cp == 0x66F ||
        (cp >= 0x678 && cp <= 0x6D3) || (cp >= 0x6FA && cp <= 0x6FC) || cp == 0x6FF)
        return 'D';
    return 'U';
}

/* RFC 5892 Appendix A.1 and A.2: ZWNJ and ZWJ. */
static bool jf_context_j(const uint32_t *u, size_t n, size_t i)
{
    if (i > 0 && jf_virama(u[i - 1]))
        return true;
    if (u[i] == 0x200D)
        return false;
    /* (L|D) T* ZWNJ T* (R|D) */
    size_t b = i;
    while (b > 0 && jf_joining(u[b - 1]) == 'T')
        b--;
    if (b == 0 || jf_joining(u[b - 1]) != 'D') /* no L type in the Arabic block */
        return false;
    size_t a = i + 1;
    while (a < n && jf_joining(u[a]) == 'T')
        a++;
    return a < n && (jf_joining(u[a]) == 'R' || jf_joining(u[a]) == 'D');
}

/* RFC 5892 Appendix A.3 to A.9, for the code point at i. */
static bool jf_context_o(const uint32_t *u, size_t n, size_t i, bool arabic, bool extended)
{
    switch (u[i]) {
    case 0xB7: /* MIDDLE DOT */
        return i > 0 && i + 1 < n && u[i - 1] == 'l' && u[i + 1] == 'l';
    case 0x375: /* GREEK LOWER NUMERAL SIGN (KERAIA) */
        return i + 1 < n && jf_greek(u[i + 1]);
    case 0x5F3: /* HEBREW PUNCTUATION GERESH */
    case 0x5F4: /* HEBREW PUNCTUATION GERSHAYIM */
        return i > 0 && jf_hebrew(u[i - 1]);
    case 0x30FB: /* KATAKANA MIDDLE DOT */
        for (size_t k = 0; k < n; k++)
            if (jf_hiragana_katakana_han(u[k]))
                return true;
        return false;
    default:
        /* ARABIC-INDIC and EXTENDED ARABIC-INDIC digits never mixed */
        return !(arabic && extended);
    }
}

static bool jf_idna_disallowed(uint32_t cp)
{
    /* RFC 5892 section 2.6 exceptions DISALLOWED; C1 controls; surrogates */
    return cp == 0x640 || cp == 0x7FA || cp == 0x302E || cp == 0x302F ||
           (cp >= 0x3031 && cp <= 0x3035) || cp == 0x303B || (cp >= 0x80 && cp <= 0x9F) ||
           (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF;
}

/* Punycode (RFC 3492) parameters */
enum { JF_BASE = 36, JF_TMIN = 1, JF_TMAX = 26, JF_SKEW = 38, JF_DAMP = 700 };

static uint32_t jf_adapt(uint32_t delta, uint32_t points, bool first)
{
    delta = first ? delta / JF_DAMP : delta / 2;
    delta += delta / points;
    uint32_t k = 0;
    while (delta > ((JF_BASE - JF_TMIN) * JF_TMAX) / 2) {
        delta /= JF_BASE - JF_TMIN;
        k += JF_BASE;
    }
    return k + (JF_BASE - JF_TMIN + 1) * delta / (delta + JF_SKEW);
}

static int jf_puny_digit(unsigned char c)
{
    if (jf_digit(c))
        return c - '0' + 26;
    c = jf_lower(c);
    return c >= 'a' && c <= 'z' ? c - 'a' : -1;
}

/* Decodes Punycode `s` (n ASCII bytes) into out (cap code points, ASCII
 * folded to lower case); the count, or -1 when invalid or too long. */
static int jf_punycode(const char *s, size_t n, uint32_t *out, size_t cap)
{
    size_t count = 0;
    size_t in = 0;
    const char *dash = NULL;
    for (size_t k = n; k > 0; k--)
        if (s[k - 1] == '-') {
            dash = s + k - 1;
            break;
        }
    if (dash != NULL) {
        for (const char *p = s; p < dash; p++) {
            if (count >= cap)
                return -1;
            out[count++] = jf_lower((unsigned char)*p);
        }
        in = count > 0 ? count + 1 : 0;
    }
    uint32_t code = 0x80, bias = 72, i = 0;
    while (in < n) {
        uint32_t old = i, w = 1;
        for (uint32_t k = JF_BASE;; k += JF_BASE) {
            if (in >= n)
                return -1;
            int d = jf_puny_digit((unsigned char)s[in++]);
            if (d < 0 || (uint32_t)d > (UINT32_MAX - i) / w)
                return -1;
            i += (uint32_t)d * w;
            uint32_t t = k <= bias ? JF_TMIN : k >= bias + JF_TMAX ? JF_TMAX : k - bias;
            if ((uint32_t)d < t)
                break;
            if (w > UINT32_MAX / (JF_BASE - t))
                return -1;
            w *= JF_BASE - t;
        }
        bias = jf_adapt(i - old, (uint32_t)count + 1, old == 0);
        if (i / (count + 1) > 0x10FFFF - code)
            return -1;
        code += i / (uint32_t)(count + 1);
        i %= (uint32_t)(count + 1);
        if (count >= cap)
            return -1;
        memmove(out + i + 1, out + i, (count - i) * sizeof(*out));
        out[i++] = code;
        count++;
    }
    return (int)count;
}

/* An A-label: `s` is the label after its "xn--" (n bytes of LDH). */
static bool jf_a_label(const char *s, size_t n)
{
    uint32_t u[64];
    int got = jf_punycode(s, n, u, sizeof(u) / sizeof(u[0]));
    if (got <= 0)
        return false;
    size_t count = (size_t)got;
    if (u[0] == '-' || u[count - 1] == '-' || (count >= 4 && u[2] == '-' && u[3] == '-') ||
        jf_mark(u[0]))
        return false;
    bool non_ascii = false, arabic = false, extended = false;
    for (size_t k = 0; k < count; k++) {
        non_ascii |= u[k] >= 0x80;
        arabic |= u[k] >= 0x660 && u[k] <= 0x669;
        extended |= u[k] >= 0x6F0 && u[k] <= 0x6F9;
    }
    if (!non_ascii)
        return false;
    for (size_t k = 0; k < count; k++) {
        uint32_t cp = u[k];
        if (jf_idna_disallowed(cp))
            return false;
        if ((cp == 0x200C || cp == 0x200D) && !jf_context_j(u, count, k))
            return false;
        if ((cp == 0xB7 || cp == 0x375 || cp == 0x5F3 || cp == 0x5F4 || cp == 0x30FB ||
             (cp >= 0x660 && cp <= 0x669) || (cp >= 0x6F0 && cp <= 0x6F9)) &&
            !jf_context_o(u, count, k, arabic, extended))
            return false;
    }
    return true;
}

static bool jf_ldh(unsigned char c)
{
    return jf_alpha(c) || jf_digit(c) || c == '-';
}

static bool jf_hostname(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    size_t i = 0;
    for (;;) {
        size_t start = i;
        while (i < len && jf_ldh((unsigned char)s[i]))
            i++;
        size_t n = i - start;
        if (n == 0 || n > 63 || s[start] == '-' || s[i - 1] == '-')
            return false;
        if (n >= 4 && jf_lower((unsigned char)s[start]) == 'x' &&
            jf_lower((unsigned char)s[start + 1]) == 'n' && s[start + 2] == '-' &&
            s[start + 3] == '-' && !jf_a_label(s + start + 4, n - 4))
            return false;
        if (i == len)
            return true;
        if (s[i] != '.')
            return false;
        i++;
        if (i == len)
            return false; /* a trailing dot */
    }
}

/* ---- email (RFC 5321 Mailbox, RFC 5322 atext) ---- */

static bool jf_atext(unsigned char c)
{
    return jf_alpha(c) || jf_digit(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* The local part from s[0]: its length up to the '@', or 0 when invalid. */
static size_t jf_local_part(const char *s, size_t len)
{
    size_t i = 0;
    if (len > 0 && s[0] == '"') {
        for (i = 1; i < len && s[i] != '"'; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '\\') {
                if (++i >= len || (unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E)
                    return 0;
            } else if (c < 0x20 || c > 0x7E) {
                return 0;
            }
        }
        if (i >= len)
            return 0;
        i++;
    } else {
        for (;;) {
            size_t start = i;
            while (i < len && jf_atext((unsigned char)s[i]))
                i++;
            if (i == start)
                return 0;
            if (i >= len || s[i] != '.')
                break;
            i++;
        }
    }
    return i <= 64 && i < len && s[i] == '@' ? i : 0;
}

static bool jf_email(const char *s, size_t len)
{
    size_t at = jf_local_part(s, len);
    if (at == 0)
        return false;
    const char *d = s + at + 1;
    size_t n = len - at - 1;
    if (n >= 2 && d[0] == '[' && d[n - 1] == ']') {
        /* ABNF strings are case-insensitive: "IPv6:" in any case */
        if (n > 7 && jf_lower((unsigned char)d[1]) == 'i' && jf_lower((unsigned char)d[2]) == 'p' &&
            jf_lower((unsigned char)d[3]) == 'v' && d[4] == '6' && d[5] == ':')
            return jf_ipv6(d + 6, n - 7);
        return jf_ipv4(d + 1, n - 2);
    }
    return jf_hostname(d, n);
}

/* ---- uri, uri-reference (RFC 3986) ---- */

static bool jf_unreserved(unsigned char c)
{
    return jf_alpha(c) || jf_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool jf_sub_delim(unsigned char c)
{
    return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

/* One character of a class at s[*i], a percent-encoded triplet counting as
 * one; `extra` lists the class's other allowed characters. */
static bool jf_uri_char(const char *s, size_t len, size_t *i, const char *extra)
{
    unsigned char c = (unsigned char)s[*i];
    if (c == '%') {
        if (len - *i < 3 || !jf_hex((unsigned char)s[*i + 1]) || !jf_hex((unsigned char)s[*i + 2]))
            return false;
        *i += 3;
        return true;
    }
    if (jf_unreserved(c) || jf_sub_delim(c) || (c != '\0' && strchr(extra, c) != NULL)) {
        (*i)++;
        return true;
    }
    return false;
}

/* s[0..len) all of a class. */
static bool jf_uri_run(const char *s, size_t len, const char *extra)
{
    size_t i = 0;
    while (i < len)
        if (!jf_uri_char(s, len, &i, extra))
            return false;
    return true;
}

/* host [":" port] of an authority. */
static bool jf_host_port(const char *s, size_t len)
{
    size_t i;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return false;
        size_t n = (size_t)(close - s) - 1;
        const char *ip = s + 1;
        if (n > 0 && (ip[0] == 'v' || ip[0] == 'V')) {
            /* IPvFuture: "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
            size_t k = 1;
            while (k < n && jf_hex((unsigned char)ip[k]))
                k++;
            if (k == 1 || k >= n || ip[k] != '.' || k + 1 == n)
                return false;
            for (k++; k < n; k++)
                if (!jf_unreserved((unsigned char)ip[k]) && !jf_sub_delim((unsigned char)ip[k]) &&
                    ip[k] != ':')
                    return false;
        } else if (!jf_ipv6(ip, n)) {
            return false;
        }
        i = n + 2;
    } else {
        i = 0;
        while (i < len && s[i] != ':')
            if (!jf_uri_char(s, len, &i, ""))
                return false;
    }
    if (i == len)
        return true;
    if (s[i] != ':')
        return false;
    for (i++; i < len; i++)
        if (!jf_digit((unsigned char)s[i]))
            return false;
    return true;
}

/* authority = [ userinfo "@" ] host [ ":" port ] */
static bool jf_authority(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    if (at == NULL)
        return jf_host_port(s, len);
    size_t n = (size_t)(at - s);
    return jf_uri_run(s, n, ":") && jf_host_port(at + 1, len - n - 1);
}

/* The rest of a reference after its scheme (if any): hier-part or
 * relative-part, then query and fragment. */
static bool jf_uri_rest(const char *s, size_t len, bool relative)
{
    size_t i = 0;
    if (len >= 2 && s[0] == '/' && s[1] == '/') {
        size_t end = 2;
        while (end < len && s[end] != '/' && s[end] != '?' && s[end] != '#')
            end++;
        if (!jf_authority(s + 2, end - 2))
            return false;
        i = end;
    }
    /* path: pchar and "/" (a relative first segment without ':') */
    bool first_segment = relative && i == 0;
    while (i < len && s[i] != '?' && s[i] != '#') {
        if (s[i] == '/') {
            first_segment = false;
            i++;
        } else if (first_segment && s[i] == ':') {
            return false;
        } else if (!jf_uri_char(s, len, &i, ":@")) {
            return false;
        }
    }
    if (i < len && s[i] == '?') {
        for (i++; i < len && s[i] != '#';)
            if (!jf_uri_char(s, len, &i, ":@/?"))
                return false;
    }
    if (i < len && s[i] == '#') {
        for (i++; i < len;)
            if (!jf_uri_char(s, len, &i, ":@/?"))
                return false;
    }
    return i == len;
}

/* The length of a scheme ending at the reference's first ':', or 0 when the
 * reference has none (no ':' before any '/', '?' or '#'); -1 when what comes
 * before that ':' is not a scheme. */
static long jf_scheme(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && s[i] != ':' && s[i] != '/' && s[i] != '?' && s[i] != '#')
        i++;
    if (i == len || s[i] != ':')
        return 0;
    if (i == 0 || !jf_alpha((unsigned char)s[0]))
        return -1;
    for (size_t k = 1; k < i; k++) {
        unsigned char c = (unsigned char)s[k];
        if (!jf_alpha(c) && !jf_digit(c) && c != '+' && c != '-' && c != '.')
            return -1;
    }
    return (long)i;
}

static bool jf_uri(const char *s, size_t len)
{
    long n = jf_scheme(s, len);
    return n > 0 && jf_uri_rest(s + n + 1, len - (size_t)n - 1, false);
}

static bool jf_uri_reference(const char *s, size_t len)
{
    long n = jf_scheme(s, len);
    if (n > 0)
        return jf_uri_rest(s + n + 1, len - (size_t)n - 1, false);
    /* no scheme, or a ':' in the first segment: a relative reference, which
     * refuses the latter */
    return jf_uri_rest(s, len, true);
}

/* ---- json-pointer (RFC 6901) ---- */

static bool jf_json_pointer(const char *s, size_t len)
{
    if (len == 0)
        return true;
    if (s[0] != '/')
        return false;
    for (size_t i = 1; i < len; i++)
        if (s[i] == '~' && (i + 1 == len || (s[i + 1] != '0' && s[i + 1] != '1')))
            return false;
    return true;
}

/* ---- the table ---- */

static const char *const jf_names[] = {
    [JSON_FORMAT_DATE_TIME] = "date-time",
    [JSON_FORMAT_DATE] = "date",
    [JSON_FORMAT_TIME] = "time",
    [JSON_FORMAT_DURATION] = "duration",
    [JSON_FORMAT_UUID] = "uuid",
    [JSON_FORMAT_EMAIL] = "email",
    [JSON_FORMAT_HOSTNAME] = "hostname",
    [JSON_FORMAT_IPV4] = "ipv4",
    [JSON_FORMAT_IPV6] = "ipv6",
    [JSON_FORMAT_URI] = "uri",
    [JSON_FORMAT_URI_REFERENCE] = "uri-reference",
    [JSON_FORMAT_JSON_POINTER] = "json-pointer",
    [JSON_FORMAT_REGEX] = "regex",
};

enum json_format json_format_lookup(const char *name)
{
    for (int f = JSON_FORMAT_DATE_TIME; f <= JSON_FORMAT_REGEX; f++)
        if (strcmp(jf_names[f], name) == 0)
            return (enum json_format)f;
    return 0;
}

const char *json_format_name(enum json_format f)
{
    if ((int)f < JSON_FORMAT_DATE_TIME || (int)f > JSON_FORMAT_REGEX)
        return NULL;
    return jf_names[f];
}

bool json_format_check(enum json_format f, const char *s, size_t len)
{
    switch (f) {
    case JSON_FORMAT_DATE_TIME:
        return jf_date_time(s, len);
    case JSON_FORMAT_DATE:
        return jf_full_date(s, len);
    case JSON_FORMAT_TIME:
        return jf_full_time(s, len);
    case JSON_FORMAT_DURATION:
        return jf_duration(s, len);
    case JSON_FORMAT_UUID:
        return jf_uuid(s, len);
    case JSON_FORMAT_EMAIL:
        return jf_email(s, len);
    case JSON_FORMAT_HOSTNAME:
        return jf_hostname(s, len);
    case JSON_FORMAT_IPV4:
        return jf_ipv4(s, len);
    case JSON_FORMAT_IPV6:
        return jf_ipv6(s, len);
    case JSON_FORMAT_URI:
        return jf_uri(s, len);
    case JSON_FORMAT_URI_REFERENCE:
        return jf_uri_reference(s, len);
    case JSON_FORMAT_JSON_POINTER:
        return jf_json_pointer(s, len);
    case JSON_FORMAT_REGEX:
        return true;
    }
    return false;
}
