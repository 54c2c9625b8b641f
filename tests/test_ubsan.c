/*
 * Description: suite panic_ubsan (only when named, only in a HARTOS_UBSAN build):
 * a signed overflow must reach the kernel's sanitizer runtime (kernel/ubsan.c),
 * which names the kind, the file and line, and the values, then panics.
 */
#include <stdint.h>

#include "tests/ktest.h"

KTEST(panic_ubsan, signed_overflow_is_reported)
{
#ifndef HARTOS_UBSAN
    ktest_fail(__FILE__, __LINE__,
               "this build has no sanitizer (configure with -DHARTOS_UBSAN=ON)");
#else
    volatile int32_t big = INT32_MAX; /* volatile: the compiler must not fold the sum */
    int32_t sum = big + 1;
    ktest_fail(__FILE__, __LINE__, "INT32_MAX + 1 = %d went unreported", sum);
#endif
}
