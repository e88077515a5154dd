/*
 * leak.so: a test double for the soak's own checks, not part of ssemon.
 * Preloaded into the daemon (LD_PRELOAD), it makes every connect() leak on
 * purpose, so that bench/soak/run.sh can be seen to fail as it should:
 *   LEAK_FD_EVERY=N   one descriptor (/dev/null, never closed) every N
 *                     connects
 *   LEAK_MEM_KIB=K    K KiB of written, never freed memory per connect
 * Build: cc -shared -fPIC -O2 -o leak.so bench/soak/leak.c -ldl
 * See docs/benchmarks.md, "Soak".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*leak_connect_fn)(int, const struct sockaddr *, socklen_t);

static void *leak_kept;

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    static leak_connect_fn real;
    static unsigned long calls;
    const char *every = getenv("LEAK_FD_EVERY");
    const char *kib = getenv("LEAK_MEM_KIB");

    if (real == NULL)
        real = (leak_connect_fn)dlsym(RTLD_NEXT, "connect");
    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    calls++;
    if (every != NULL && strtoul(every, NULL, 10) > 0 && calls % strtoul(every, NULL, 10) == 0)
        (void)open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (kib != NULL) {
        size_t size = strtoul(kib, NULL, 10) * 1024;
        char *p = size >= sizeof(void *) ? malloc(size) : NULL;
        if (p != NULL) {
            /* Chained, so that the compiler cannot drop the allocation. */
            memset(p, 1, size);
            memcpy(p, &leak_kept, sizeof(leak_kept));
            leak_kept = p;
        }
    }
    return real(fd, addr, len);
}
