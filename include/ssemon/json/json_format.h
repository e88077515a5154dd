/*
 * json_format: the string formats of JSON Schema's "format" keyword, checked
 * as assertions. JSON layer, pure: no I/O, no globals, no allocation, no
 * locale (every character class is an explicit ASCII test), time linear in
 * the string. The grammar each format follows:
 *
 *   date-time      RFC 3339 section 5.6 date-time: full-date "T" full-time;
 *                  "T" and "Z" in either case; time-secfrac is one or more
 *                  digits; the offset is "Z" or +HH:MM / -HH:MM (hour <= 23,
 *                  minute <= 59). Days in month and Gregorian leap years are
 *                  checked; second 60 (a leap second) only where the time,
 *                  moved to UTC by its offset, reads 23:59.
 *   date           RFC 3339 full-date: YYYY-MM-DD, the same day rules.
 *   time           RFC 3339 full-time: partial-time and a time-offset, which
 *                  is REQUIRED; the same leap second rule.
 *   duration       RFC 3339 Appendix A (ISO 8601): "P" then either weeks
 *                  alone (nW), or date elements Y, M, D in that order and
 *                  without a gap (Y then D needs M), optionally followed by
 *                  "T" and time elements H, M, S the same way; at least one
 *                  element, integers only (no fraction, no sign).
 *   uuid           RFC 4122 text form: 8-4-4-4-12 hex digits, any case, any
 *                  version and variant nibble.
 *   email          RFC 5321 Mailbox (the suite's reading): a dot-atom local
 *                  part (RFC 5322 atext, no leading, trailing or doubled
 *                  dot) or a quoted string (printable ASCII and space,
 *                  backslash pairs), at most 64 bytes; "@"; then a hostname
 *                  as below, or an address literal [a.b.c.d] or [IPv6:...]
 *                  ("IPv6" in any case; no general address literal).
 *   hostname       RFC 1123: dot-separated labels of ASCII letters, digits
 *                  and hyphens, 1 to 63 bytes, no leading or trailing hyphen,
 *                  at most 253 bytes in all, no trailing dot. A label that
 *                  starts with "xn--" (any case) is an IDNA A-label: it must
 *                  decode as Punycode (RFC 3492) to a U-label with a non-ASCII
 *                  code point, no "--" in its 3rd and 4th positions, no
 *                  leading or trailing hyphen, no combining mark first, none of
 *                  RFC 5892's DISALLOWED exceptions, and the RFC 5892
 *                  Appendix A contextual rules (ZWJ/ZWNJ after a virama or,
 *                  for ZWNJ, between joining letters; MIDDLE DOT between two
 *                  "l"; KERAIA before Greek; GERESH/GERSHAYIM after Hebrew;
 *                  KATAKANA MIDDLE DOT with Hiragana, Katakana or Han;
 *                  Arabic-Indic digits not mixed with extended ones).
 *                  Deviations, to stay small: IDNA2008's full derived-property
 *                  table is not carried (other non-ASCII code points are
 *                  accepted), scripts are told by their Unicode blocks,
 *                  joining types are known for the Arabic block only
 *                  (combining marks count as transparent), and the Bidi rule
 *                  (RFC 5893) and normalization (NFC) are not checked. Mark
 *                  and virama tables are
 *                  Unicode 14.
 *   ipv4           dotted quad, four decimal parts 0..255 without leading
 *                  zeros.
 *   ipv6           RFC 4291 section 2.2 text forms: eight groups of 1 to 4 hex
 *                  digits, one "::" standing for one or more zero groups, an
 *                  embedded dotted quad (as ipv4) in place of the last two
 *                  groups; no zone id, prefix length or brackets.
 *   uri            RFC 3986 URI: a scheme is required; authority (userinfo,
 *                  host as IP-literal with IPv6 or IPvFuture, or reg-name,
 *                  numeric port), path, query and fragment from their ABNF;
 *                  percent signs followed by two hex digits; ASCII only.
 *   uri-reference  RFC 3986 URI-reference: a URI, or a relative reference
 *                  whose first path segment has no ":".
 *   json-pointer   RFC 6901: empty, or "/"-prefixed reference tokens in which
 *                  "~" is followed by "0" or "1"; any other code point.
 *   regex          not checked here (json_format_check answers true): the
 *                  schema engine compiles the pattern with its regex module.
 */
#ifndef SSEMON_JSON_JSON_FORMAT_H
#define SSEMON_JSON_JSON_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

enum json_format {
    JSON_FORMAT_DATE_TIME = 1,
    JSON_FORMAT_DATE,
    JSON_FORMAT_TIME,
    JSON_FORMAT_DURATION,
    JSON_FORMAT_UUID,
    JSON_FORMAT_EMAIL,
    JSON_FORMAT_HOSTNAME,
    JSON_FORMAT_IPV4,
    JSON_FORMAT_IPV6,
    JSON_FORMAT_URI,
    JSON_FORMAT_URI_REFERENCE,
    JSON_FORMAT_JSON_POINTER,
    JSON_FORMAT_REGEX
};

/* The format called `name` (NUL-terminated, borrowed: "date-time", "uri"...,
 * as JSON Schema spells them), or 0 when unknown. */
enum json_format json_format_lookup(const char *name);

/* The name of f (static storage), or NULL when f is not a json_format. */
const char *json_format_name(enum json_format f);

/* Whether `s` (len bytes, valid UTF-8, may contain U+0000; borrowed) is valid
 * for f. JSON_FORMAT_REGEX is NOT checked here: returns true (the schema
 * engine checks it by compiling the pattern with its regex module). An
 * unknown f answers false. */
bool json_format_check(enum json_format f, const char *s, size_t len);

#endif
