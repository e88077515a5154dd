#include "ssemon/config/config_listen.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "ssemon/config/config_doc.h"

void config_listen_read(struct config_doc *d, size_t n, const char *path, struct listen_addr *out)
{
    char *s = config_doc_string(d, n, path, false);
    if (s == NULL)
        return;
    struct listen_addr lis;
    if (listen_addr_parse(s, &lis)) {
        *out = lis;
    } else {
        char q[DIAG_QUOTE_MAX];
        diag_quote(q, sizeof(q), s);
        config_doc_err(d, path,
                       "invalid listen address \"%s\": use IPV4:PORT, [IPV6]:PORT (numeric, port 0 "
                       "to 65535) or an absolute unix socket path (at most %zu bytes)",
                       q, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
    }
    free(s);
}
