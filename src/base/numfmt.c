#include "ssemon/base/numfmt.h"

#include <stdio.h>
#include <stdlib.h>

size_t numfmt_double(char *buf, size_t size, double v, int min_prec)
{
    int n = 0;
    if (min_prec < 1)
        min_prec = 1;
    for (int prec = min_prec; prec <= 17; prec++) {
        n = snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return n > 0 ? (size_t)n : 0;
}
