/*
 * json_uri: RFC 3986 section 5.2.2 ("Transform References"), with
 * remove_dot_segments (5.2.4) and merge (5.2.3), over bounded buffers.
 */
#include "ssemon/json/json_uri.h"

#include <string.h>

/* The five components of a URI reference, as spans of the original. */
struct ju_parts {
    const char *p_scheme;
    size_t p_nscheme; /* without ':' */
    bool p_has_scheme;
    const char *p_auth;
    size_t p_nauth;
    bool p_has_auth;
    const char *p_path;
    size_t p_npath;
    const char *p_query;
    size_t p_nquery;
    bool p_has_query;
    const char *p_frag;
    size_t p_nfrag;
    bool p_has_frag;
};

static bool ju_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

size_t json_uri_scheme_len(const char *s, size_t len)
{
    if (len == 0 || !ju_alpha(s[0]))
        return 0;
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        if (c == ':')
            return i;
        if (!ju_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.')
            return 0;
    }
    return 0;
}

bool json_uri_has_scheme(const char *s, size_t len)
{
    return json_uri_scheme_len(s, len) != 0;
}

static size_t ju_span(const char *s, size_t len, const char *stops)
{
    size_t i = 0;
    while (i < len && strchr(stops, s[i]) == NULL)
        i++;
    return i;
}

static void ju_split(const char *s, size_t len, struct ju_parts *p)
{
    memset(p, 0, sizeof(*p));
    size_t i = 0;
    if (json_uri_has_scheme(s, len)) {
        size_t n = ju_span(s, len, ":");
        p->p_has_scheme = true;
        p->p_scheme = s;
        p->p_nscheme = n;
        i = n + 1;
    }
    if (len - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
        i += 2;
        size_t n = ju_span(s + i, len - i, "/?#");
        p->p_has_auth = true;
        p->p_auth = s + i;
        p->p_nauth = n;
        i += n;
    }
    size_t n = ju_span(s + i, len - i, "?#");
    p->p_path = s + i;
    p->p_npath = n;
    i += n;
    if (i < len && s[i] == '?') {
        i++;
        n = ju_span(s + i, len - i, "#");
        p->p_has_query = true;
        p->p_query = s + i;
        p->p_nquery = n;
        i += n;
    }
    if (i < len && s[i] == '#') {
        i++;
        p->p_has_frag = true;
        p->p_frag = s + i;
        p->p_nfrag = len - i;
    }
}

struct ju_out {
    char *o_buf;
    size_t o_len;
    size_t o_cap;
    bool o_over;
};

static void ju_put(struct ju_out *o, const char *s, size_t n)
{
    if (o->o_over || n >= o->o_cap - o->o_len) {
        o->o_over = true;
        return;
    }
    memcpy(o->o_buf + o->o_len, s, n);
    o->o_len += n;
    o->o_buf[o->o_len] = '\0';
}

/* remove_dot_segments of `in` (n bytes) appended to o. */
static void ju_put_path(struct ju_out *o, const char *in, size_t n)
{
    size_t start = o->o_len;
    size_t i = 0;
    while (i < n && !o->o_over) {
        size_t rest = n - i;
        const char *p = in + i;
        if (rest >= 3 && memcmp(p, "../", 3) == 0) {
            i += 3;
        } else if (rest >= 2 && memcmp(p, "./", 2) == 0) {
            i += 2;
        } else if (rest >= 3 && memcmp(p, "/./", 3) == 0) {
            i += 2;
        } else if (rest == 2 && memcmp(p, "/.", 2) == 0) {
            i += 1;
            /* "/." at the end becomes "/" */
            ju_put(o, "/", 1);
            i += 1;
        } else if ((rest >= 4 && memcmp(p, "/../", 4) == 0) ||
                   (rest == 3 && memcmp(p, "/..", 3) == 0)) {
            i += 3;
            /* drop the last segment of the output */
            while (o->o_len > start && o->o_buf[o->o_len - 1] != '/')
                o->o_len--;
            if (o->o_len > start)
                o->o_len--;
            o->o_buf[o->o_len] = '\0';
            if (rest == 3)
                ju_put(o, "/", 1);
        } else if ((rest == 1 && p[0] == '.') || (rest == 2 && memcmp(p, "..", 2) == 0)) {
            i = n;
        } else {
            size_t k = p[0] == '/' ? 1 : 0;
            while (k < rest && p[k] != '/')
                k++;
            ju_put(o, p, k);
            i += k;
        }
    }
}

bool json_uri_resolve(const char *base, const char *ref, size_t reflen, char *out, size_t cap)
{
    struct ju_parts b;
    struct ju_parts r;
    struct ju_out o = {.o_buf = out, .o_len = 0, .o_cap = cap, .o_over = cap == 0};
    if (cap > 0)
        out[0] = '\0';
    ju_split(base, strlen(base), &b);
    ju_split(ref, reflen, &r);
    const struct ju_parts *scheme = r.p_has_scheme ? &r : &b;
    if (scheme->p_has_scheme) {
        ju_put(&o, scheme->p_scheme, scheme->p_nscheme);
        ju_put(&o, ":", 1);
    }
    const struct ju_parts *auth;
    const struct ju_parts *query;
    if (r.p_has_scheme || r.p_has_auth) {
        auth = &r;
        query = &r;
    } else {
        auth = &b;
        query = r.p_npath == 0 && !r.p_has_query ? &b : &r;
    }
    if (auth->p_has_auth) {
        ju_put(&o, "//", 2);
        ju_put(&o, auth->p_auth, auth->p_nauth);
    }
    if (r.p_has_scheme || r.p_has_auth) {
        ju_put_path(&o, r.p_path, r.p_npath);
    } else if (r.p_npath == 0) {
        ju_put_path(&o, b.p_path, b.p_npath);
    } else if (r.p_path[0] == '/') {
        ju_put_path(&o, r.p_path, r.p_npath);
    } else {
        /* merge: the base path up to its last '/', then the reference */
        char merged[2048];
        size_t m = 0;
        if (b.p_has_auth && b.p_npath == 0) {
            merged[m++] = '/';
        } else {
            size_t k = b.p_npath;
            while (k > 0 && b.p_path[k - 1] != '/')
                k--;
            if (k >= sizeof(merged)) {
                o.o_over = true;
                k = 0;
            }
            memcpy(merged, b.p_path, k);
            m = k;
        }
        if (r.p_npath >= sizeof(merged) - m) {
            o.o_over = true;
        } else {
            memcpy(merged + m, r.p_path, r.p_npath);
            m += r.p_npath;
        }
        ju_put_path(&o, merged, m);
    }
    if (query->p_has_query) {
        ju_put(&o, "?", 1);
        ju_put(&o, query->p_query, query->p_nquery);
    }
    if (r.p_has_frag && r.p_nfrag > 0) {
        ju_put(&o, "#", 1);
        ju_put(&o, r.p_frag, r.p_nfrag);
    }
    if (o.o_over) {
        if (cap > 0)
            out[0] = '\0';
        return false;
    }
    return true;
}

size_t json_uri_strip_fragment(const char *uri)
{
    const char *h = strchr(uri, '#');
    return h != NULL ? (size_t)(h - uri) : strlen(uri);
}
