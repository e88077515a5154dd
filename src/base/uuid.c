#include "ssemon/base/uuid.h"
#include "ssemon/base/splitmix.h"

#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void uuid_v4_format(const unsigned char bytes[16], char out[UUID_TEXT_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    size_t o = 0;

    memcpy(b, bytes, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0f];
    }
    out[o] = '\0';
}

/* splitmix64's output for the state `z`: spreads every input bit over the
 * word. */
static uint64_t uuid_mix(uint64_t z)
{
    return splitmix_next(&z);
}

/* When the kernel has no random bytes to give: unique per call in this
 * process (the counter), per process (the pid) and per boot (the clocks). */
static void uuid_fallback(unsigned char b[16])
{
    static uint64_t counter;
    struct timespec rt = {0}, mono = {0};

    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    uint64_t c = ++counter;
    uint64_t hi = uuid_mix((uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec) ^
                  uuid_mix(c + ((uint64_t)getpid() << 32));
    uint64_t lo = uuid_mix(hi ^ ((uint64_t)mono.tv_sec * 1000000000u + (uint64_t)mono.tv_nsec)) ^ c;
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(hi >> (8 * i));
        b[8 + i] = (unsigned char)(lo >> (8 * i));
    }
}

int uuid_v4_new(char out[UUID_TEXT_LEN + 1])
{
    unsigned char b[16];

    if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b))
        uuid_fallback(b);
    uuid_v4_format(b, out);
    return 0;
}
