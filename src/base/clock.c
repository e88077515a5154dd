#include "ssemon/base/clock.h"

#include <time.h>

static uint64_t clock_read_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t clock_mono_ms(void)
{
    return clock_read_ms(CLOCK_MONOTONIC);
}

uint64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t clock_wall_ms(void)
{
    return clock_read_ms(CLOCK_REALTIME);
}

/* By hand (days to a civil date, proleptic Gregorian): /status writes three
 * per subscription, and snprintf was a tenth of the render. Years past
 * 9999 do not fit the format's four digits and are clamped to its end. */
void clock_rfc3339(uint64_t wall_ms, char buf[static CLOCK_RFC3339_SIZE])
{
    const uint64_t max_ms = 253402300799999ull; /* 9999-12-31T23:59:59.999Z */
    if (wall_ms > max_ms)
        wall_ms = max_ms;
    uint64_t secs = wall_ms / 1000u;
    unsigned ms = (unsigned)(wall_ms % 1000u);
    unsigned sod = (unsigned)(secs % 86400u);
    /* Days since 0000-03-01, in 400-year eras of 146097 days. */
    uint64_t z = secs / 86400u + 719468u;
    uint64_t era = z / 146097u;
    unsigned doe = (unsigned)(z - era * 146097u);
    unsigned yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
    unsigned doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);
    unsigned mp = (5u * doy + 2u) / 153u;
    unsigned day = doy - (153u * mp + 2u) / 5u + 1u;
    unsigned month = mp < 10u ? mp + 3u : mp - 9u;
    unsigned year = (unsigned)(era * 400u) + yoe + (month <= 2u ? 1u : 0u);
    const unsigned fields[] = {year / 100u, year % 100u,     month,    day,
                               sod / 3600u, sod / 60u % 60u, sod % 60u};
    static const char seps[] = "\0\0--T::";
    char *p = buf;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (seps[i] != '\0')
            *p++ = seps[i];
        *p++ = (char)('0' + fields[i] / 10u);
        *p++ = (char)('0' + fields[i] % 10u);
    }
    *p++ = '.';
    *p++ = (char)('0' + ms / 100u);
    *p++ = (char)('0' + ms / 10u % 10u);
    *p++ = (char)('0' + ms % 10u);
    *p++ = 'Z';
    *p = '\0';
}
