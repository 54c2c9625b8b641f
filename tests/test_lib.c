/*
 * Description: suite `lib`: the freestanding library the rest of the kernel stands
 * on, tested where it runs.
 *  - printf: every conversion through snprintf, widths, padding, precision for %s,
 *    the extremes of 64-bit numbers, truncation, the return value and NUL termination
 *  - string: each function against its C library contract, the edge cases first
 *    (overlapping memmove, '\0' in strchr, truncating strlcpy, strtou64's errors)
 *  - fdt: the reader on the real device tree of this run, checked against what
 *    kernel/machine.c decoded from it, then on damaged copies of it: a bad header must
 *    be refused with a reason, and a cut or garbage-filled structure block must end
 *    every walk and lookup with -1 / NULL and never return anything past the damage.
 */
#include <stdint.h>

#include "kernel/machine.h"
#include "lib/fdt.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "tests/ktest.h"

/* ------------------------------------------------------------------ printf */

static char out[160];

/* Formats into `out` and checks both the text and the returned length. */
#define EXPECT_FORMAT(expected, ...)                                                               \
    do {                                                                                           \
        int n_ = snprintf(out, sizeof(out), __VA_ARGS__);                                          \
        KEXPECT_STREQ(out, expected);                                                              \
        KEXPECT_EQ(n_, strlen(expected));                                                          \
    } while (0)

KTEST(lib, printf_signed_decimal)
{
    EXPECT_FORMAT("0", "%d", 0);
    EXPECT_FORMAT("42 -42", "%d %i", 42, -42);
    EXPECT_FORMAT("2147483647 -2147483648", "%d %d", INT32_MAX, INT32_MIN);
    /* The most negative number has no positive counterpart: negating it as a signed
     * value overflows, so this is where a sign-handling bug shows. */
    EXPECT_FORMAT("-9223372036854775808", "%ld", INT64_MIN);
    EXPECT_FORMAT("9223372036854775807", "%ld", INT64_MAX);
    EXPECT_FORMAT("-1 -1", "%ld %lld", -1L, -1LL);
    /* Without 'l' only an int is taken: the upper half of a long must not leak in. */
    EXPECT_FORMAT("-1 7", "%d %d", -1, 7);
}

KTEST(lib, printf_unsigned_and_hex)
{
    EXPECT_FORMAT("0 0", "%u %x", 0u, 0u);
    EXPECT_FORMAT("4294967295", "%u", UINT32_MAX);
    EXPECT_FORMAT("4294967295", "%u", (unsigned)-1);
    EXPECT_FORMAT("18446744073709551615", "%lu", UINT64_MAX);
    EXPECT_FORMAT("deadbeef", "%x", 0xdeadbeefu);
    EXPECT_FORMAT("ffffffffffffffff", "%lx", UINT64_MAX);
    EXPECT_FORMAT("80200000 1234567890abcdef", "%lx %llx", 0x80200000UL, 0x1234567890abcdefULL);
}

KTEST(lib, printf_pointer_string_char_percent)
{
    EXPECT_FORMAT("0x80200000", "%p", (void *)0x80200000UL);
    EXPECT_FORMAT("0x0", "%p", (void *)0);
    EXPECT_FORMAT("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
    /* The width covers "0x" too; zero padding goes between "0x" and the digits. */
    EXPECT_FORMAT("      0x1234|", "%12p|", (void *)0x1234);
    EXPECT_FORMAT("0x1234      |", "%-12p|", (void *)0x1234);
    EXPECT_FORMAT("-0042|", "%05d|", -42);
    EXPECT_FORMAT("hello, world", "%s, %s", "hello", "world");
    EXPECT_FORMAT("[]", "[%s]", "");
    /* A NULL string prints as "(null)" instead of faulting (GCC rightly objects to a
     * visible NULL, hence the volatile). */
    const char *volatile null_string = 0;
    EXPECT_FORMAT("(null)", "%s", null_string);
    EXPECT_FORMAT("a-z", "%c-%c", 'a', 'z');
    EXPECT_FORMAT("100%", "100%%");
    EXPECT_FORMAT("%d", "%%d");
    EXPECT_FORMAT("plain text", "plain text");
}

KTEST(lib, printf_width_padding_alignment)
{
    EXPECT_FORMAT("   42", "%5d", 42);
    EXPECT_FORMAT("00042", "%05d", 42);
    EXPECT_FORMAT("42   |", "%-5d|", 42);
    /* The sign goes before zero padding, after space padding. */
    EXPECT_FORMAT("-0042", "%05d", -42);
    EXPECT_FORMAT("  -42", "%5d", -42);
    /* '-' wins over '0': left alignment pads with spaces (as in C, where GCC warns
     * that the '0' is ignored). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
    EXPECT_FORMAT("42   |", "%-05d|", 42);
#pragma GCC diagnostic pop
    /* A width is a minimum: wider values are never cut. */
    EXPECT_FORMAT("123456", "%3d", 123456);
    EXPECT_FORMAT("0000000080200000", "%016lx", 0x80200000UL);
    EXPECT_FORMAT("   ab|ab   |", "%5s|%-5s|", "ab", "ab");
    EXPECT_FORMAT("    x|x    |", "%5c|%-5c|", 'x', 'x');
    EXPECT_FORMAT("0", "%0d", 0);
    EXPECT_FORMAT("00000", "%05u", 0u);
}

KTEST(lib, printf_string_precision)
{
    EXPECT_FORMAT("abc", "%.3s", "abcdef");
    EXPECT_FORMAT("ab", "%.*s", 2, "abcdef");
    EXPECT_FORMAT("[]", "[%.*s]", 0, "abcdef");
    EXPECT_FORMAT("abc", "%.*s", 10, "abc"); /* shorter than the precision */
    /* As in C, a negative precision from '*' counts as none. */
    EXPECT_FORMAT("abcdef", "%.*s", -1, "abcdef");
    EXPECT_FORMAT("   ab|", "%5.2s|", "abcdef");
    EXPECT_FORMAT("ab   |", "%-5.2s|", "abcdef");
    /* The precision stops reading: the text need not be NUL-terminated. */
    static const char unterminated[4] = {'w', 'x', 'y', 'z'};
    EXPECT_FORMAT("wxyz!", "%.*s!", 4, unterminated);
}

KTEST(lib, printf_unknown_conversion_prints_as_written)
{
    /* printf.h promises that a conversion it does not know shows up in the output, so
     * the mistake is visible. The compiler would refuse these formats, rightly. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
    EXPECT_FORMAT("a%qb", "a%qb");
    EXPECT_FORMAT("50%", "50%");
    EXPECT_FORMAT("%5q", "%5q");
#pragma GCC diagnostic pop
}

KTEST(lib, snprintf_truncates_and_returns_full_length)
{
    char buf[16];
    memset(buf, '#', sizeof(buf));
    /* The return value is the length the whole text would have had... */
    KEXPECT_EQ(snprintf(buf, 6, "hello, %s", "world"), 12);
    /* ...the buffer holds what fits, NUL-terminated, and nothing beyond `size` moves. */
    KEXPECT_STREQ(buf, "hello");
    KEXPECT_EQ(buf[6], '#');
    KEXPECT_EQ(buf[15], '#');

    memset(buf, '#', sizeof(buf));
    KEXPECT_EQ(snprintf(buf, 4, "%ld", INT64_MIN), 20);
    KEXPECT_STREQ(buf, "-92");
    KEXPECT_EQ(buf[4], '#');
}

KTEST(lib, snprintf_exact_fit_and_one_short)
{
    char buf[8];
    memset(buf, '#', sizeof(buf));
    KEXPECT_EQ(snprintf(buf, 6, "%s", "12345"), 5); /* 5 characters + NUL = 6 */
    KEXPECT_STREQ(buf, "12345");
    KEXPECT_EQ(buf[6], '#');
    memset(buf, '#', sizeof(buf));
    KEXPECT_EQ(snprintf(buf, 5, "%s", "12345"), 5); /* one short: the last one goes */
    KEXPECT_STREQ(buf, "1234");
    KEXPECT_EQ(buf[5], '#');
}

KTEST(lib, snprintf_size_one_and_zero)
{
    char buf[4] = {'#', '#', '#', '#'};
    KEXPECT_EQ(snprintf(buf, 1, "abc"), 3); /* room for the NUL only */
    KEXPECT_EQ(buf[0], '\0');
    KEXPECT_EQ(buf[1], '#');

    buf[0] = '#';
    KEXPECT_EQ(snprintf(buf, 0, "abc%d", 42), 5); /* size 0: nothing is written at all */
    KEXPECT_EQ(buf[0], '#');
    KEXPECT_EQ(snprintf(NULL, 0, "%lu", UINT64_MAX), 20); /* the way to measure first */
}

/* ------------------------------------------------------------------ string */

KTEST(lib, memset_fills_exactly_n)
{
    unsigned char buf[16];
    for (int i = 0; i < 16; i++)
        buf[i] = (unsigned char)i;
    KEXPECT_EQ((uintptr_t)memset(buf + 2, 0x1ab, 10), (uintptr_t)(buf + 2));
    for (int i = 0; i < 16; i++) /* only the low byte of c is stored */
        KEXPECT_EQ(buf[i], i >= 2 && i < 12 ? 0xab : i);
    memset(buf, 0, 0);
    KEXPECT_EQ(buf[0], 0);
}

KTEST(lib, memcpy_copies_exactly_n)
{
    char src[8] = "abcdefg", dst[8] = "-------";
    KEXPECT_EQ((uintptr_t)memcpy(dst + 1, src, 3), (uintptr_t)(dst + 1));
    KEXPECT_STREQ(dst, "-abc---");
    memcpy(dst, src, 0);
    KEXPECT_STREQ(dst, "-abc---");
}

KTEST(lib, memmove_handles_overlap_both_ways)
{
    char buf[12];
    /* Destination above the source: a front-to-back copy would smear "ab" over all. */
    strlcpy(buf, "abcdefgh", sizeof(buf));
    KEXPECT_EQ((uintptr_t)memmove(buf + 2, buf, 6), (uintptr_t)(buf + 2));
    KEXPECT_STREQ(buf, "ababcdef");
    /* Destination below the source: here it is back-to-front that would go wrong. */
    strlcpy(buf, "abcdefgh", sizeof(buf));
    memmove(buf, buf + 2, 6);
    KEXPECT_STREQ(buf, "cdefghgh");
    /* Same place, and zero bytes: nothing changes. */
    memmove(buf, buf, 8);
    memmove(buf + 1, buf, 0);
    KEXPECT_STREQ(buf, "cdefghgh");
}

KTEST(lib, memcmp_orders_bytes_as_unsigned)
{
    KEXPECT_EQ(memcmp("abc", "abc", 3), 0);
    KEXPECT_LT(memcmp("abc", "abd", 3), 0);
    KEXPECT_GT(memcmp("abd", "abc", 3), 0);
    KEXPECT_EQ(memcmp("abX", "abY", 2), 0); /* differences past n do not count */
    KEXPECT_EQ(memcmp("a", "b", 0), 0);
    KEXPECT_GT(memcmp("\x80", "\x01", 1), 0); /* 0x80 is 128, not -128 */
    /* Unlike strcmp, memcmp does not stop at NUL. */
    KEXPECT_LT(memcmp("a\0b", "a\0c", 3), 0);
}

KTEST(lib, strlen_and_strnlen)
{
    KEXPECT_EQ(strlen(""), 0);
    KEXPECT_EQ(strlen("hartos"), 6);
    KEXPECT_EQ(strnlen("hartos", 3), 3);
    KEXPECT_EQ(strnlen("hartos", 6), 6);
    KEXPECT_EQ(strnlen("hartos", 100), 6);
    KEXPECT_EQ(strnlen("hartos", 0), 0);
    /* strnlen must not read past max: here there is no NUL to find at all. */
    static const char no_nul[3] = {'x', 'y', 'z'};
    KEXPECT_EQ(strnlen(no_nul, sizeof(no_nul)), 3);
}

KTEST(lib, strcmp_and_strncmp_ordering)
{
    KEXPECT_EQ(strcmp("abc", "abc"), 0);
    KEXPECT_EQ(strcmp("", ""), 0);
    KEXPECT_LT(strcmp("abc", "abd"), 0);
    KEXPECT_GT(strcmp("abd", "abc"), 0);
    KEXPECT_LT(strcmp("ab", "abc"), 0); /* a prefix sorts first */
    KEXPECT_GT(strcmp("abc", "ab"), 0);
    KEXPECT_LT(strcmp("", "a"), 0);
    KEXPECT_GT(strcmp("\xe9", "z"), 0); /* bytes compare as unsigned char */
    KEXPECT_EQ(strncmp("abcX", "abcY", 3), 0);
    KEXPECT_LT(strncmp("abcX", "abcY", 4), 0);
    KEXPECT_EQ(strncmp("abc", "xyz", 0), 0);
    KEXPECT_EQ(strncmp("abc", "abc", 100), 0); /* stops at the NUL, not at n */
    KEXPECT_LT(strncmp("ab", "abc", 3), 0);
}

KTEST(lib, strchr_finds_first_and_the_terminator)
{
    const char *s = "a/b/c";
    KEXPECT_EQ((uintptr_t)strchr(s, '/'), (uintptr_t)(s + 1));
    KEXPECT_EQ((uintptr_t)strchr(s, 'a'), (uintptr_t)s);
    KEXPECT_EQ((uintptr_t)strchr(s, 'c'), (uintptr_t)(s + 4));
    KEXPECT_EQ((uintptr_t)strchr(s, 'x'), 0);
    /* '\0' is part of the string: strchr finds the terminator. */
    KEXPECT_EQ((uintptr_t)strchr(s, '\0'), (uintptr_t)(s + 5));
    KEXPECT_EQ((uintptr_t)strchr("", '\0'), (uintptr_t)strchr("", '\0'));
    KEXPECT_NE((uintptr_t)strchr("", '\0'), 0);
    /* c is converted to char: a byte above 127 is still found. */
    const char *e = "caf\xe9";
    KEXPECT_EQ((uintptr_t)strchr(e, 0xe9), (uintptr_t)(e + 3));
}

KTEST(lib, strlcpy_truncates_and_returns_source_length)
{
    char buf[8];
    memset(buf, '#', sizeof(buf));
    KEXPECT_EQ(strlcpy(buf, "abc", sizeof(buf)), 3);
    KEXPECT_STREQ(buf, "abc");
    KEXPECT_EQ(buf[4], '#'); /* no padding after the NUL, unlike strncpy */

    /* Too long: size-1 characters and a NUL; the return value says what was lost. */
    KEXPECT_EQ(strlcpy(buf, "hello, world", sizeof(buf)), 12);
    KEXPECT_STREQ(buf, "hello, ");
    KEXPECT_EQ(strlcpy(buf, "xyz", 1), 3);
    KEXPECT_STREQ(buf, "");
    buf[0] = '#';
    KEXPECT_EQ(strlcpy(buf, "xyz", 0), 3); /* size 0: nothing is written */
    KEXPECT_EQ(buf[0], '#');
}

/* strtou64 over a whole C string; `out` starts at a marker so an untouched result shows. */
static int parse(const char *s, int allow_suffix, uint64_t *v)
{
    *v = 0x5a5a5a5a;
    return strtou64(s, strlen(s), allow_suffix, v);
}

KTEST(lib, strtou64_decimal_and_hex)
{
    uint64_t v;
    KEXPECT_EQ(parse("0", 0, &v), 0);
    KEXPECT_EQ(v, 0);
    KEXPECT_EQ(parse("42", 0, &v), 0);
    KEXPECT_EQ(v, 42);
    KEXPECT_EQ(parse("007", 0, &v), 0); /* a leading 0 is not octal */
    KEXPECT_EQ(v, 7);
    KEXPECT_EQ(parse("18446744073709551615", 0, &v), 0);
    KEXPECT_EQ(v, UINT64_MAX);
    KEXPECT_EQ(parse("0x1F", 0, &v), 0);
    KEXPECT_EQ(v, 0x1f);
    KEXPECT_EQ(parse("0XaBc", 0, &v), 0);
    KEXPECT_EQ(v, 0xabc);
    KEXPECT_EQ(parse("0xffffffffffffffff", 0, &v), 0);
    KEXPECT_EQ(v, UINT64_MAX);
    KEXPECT_EQ(parse("0x0", 0, &v), 0);
    KEXPECT_EQ(v, 0);
    /* Only len bytes count: the command line hands out values that are not terminated. */
    KEXPECT_EQ(strtou64("123abc", 3, 0, &v), 0);
    KEXPECT_EQ(v, 123);
}

KTEST(lib, strtou64_suffixes)
{
    uint64_t v;
    KEXPECT_EQ(parse("4K", 1, &v), 0);
    KEXPECT_EQ(v, 4096);
    KEXPECT_EQ(parse("128M", 1, &v), 0);
    KEXPECT_EQ(v, 128UL << 20);
    KEXPECT_EQ(parse("3G", 1, &v), 0);
    KEXPECT_EQ(v, 3UL << 30);
    KEXPECT_EQ(parse("0x10K", 1, &v), 0);
    KEXPECT_EQ(v, 16UL << 10);
    KEXPECT_EQ(parse("17179869183G", 1, &v), 0); /* (2^34 - 1) << 30 still fits */
    KEXPECT_EQ(v, ((1UL << 34) - 1) << 30);
    /* A suffix is an error where none is allowed, alone, twice, or in lower case. */
    KEXPECT_EQ(parse("4K", 0, &v), -1);
    KEXPECT_EQ(parse("K", 1, &v), -1);
    KEXPECT_EQ(parse("4KK", 1, &v), -1);
    KEXPECT_EQ(parse("4k", 1, &v), -1);
    KEXPECT_EQ(parse("0xK", 1, &v), -1);
    KEXPECT_EQ(v, 0x5a5a5a5a); /* a failed parse leaves *out alone */
}

KTEST(lib, strtou64_overflow_empty_and_bad_characters)
{
    uint64_t v;
    KEXPECT_EQ(parse("18446744073709551616", 0, &v), -1); /* UINT64_MAX + 1 */
    KEXPECT_EQ(parse("99999999999999999999", 0, &v), -1);
    KEXPECT_EQ(parse("0x10000000000000000", 0, &v), -1);
    KEXPECT_EQ(parse("17179869184G", 1, &v), -1); /* 2^34 << 30 = 2^64 */
    KEXPECT_EQ(parse("16777216T", 1, &v), -1);    /* T is no suffix */
    KEXPECT_EQ(parse("", 0, &v), -1);
    KEXPECT_EQ(parse("", 1, &v), -1);
    KEXPECT_EQ(parse("0x", 0, &v), -1);
    KEXPECT_EQ(parse("12a", 0, &v), -1); /* hex digits need the 0x */
    KEXPECT_EQ(parse("0x12g", 0, &v), -1);
    KEXPECT_EQ(parse(" 1", 0, &v), -1);
    KEXPECT_EQ(parse("1 ", 0, &v), -1);
    KEXPECT_EQ(parse("-1", 0, &v), -1);
    KEXPECT_EQ(parse("+1", 0, &v), -1);
    KEXPECT_EQ(strtou64("1\0002", 3, 0, &v), -1); /* a NUL inside len is a stray char */
    KEXPECT_EQ(v, 0x5a5a5a5a);
}

/* ------------------------------------------------------------------ fdt, real tree */

static int open_real(struct fdt *f)
{
    const char *why = 0;
    int r = fdt_open(f, (const void *)(uintptr_t)machine.dtb_base, &why);
    if (r != 0)
        ktest_fail(__FILE__, __LINE__, "fdt_open of the boot DTB: %s", why ? why : "?");
    return r;
}

KTEST(lib, fdt_open_real_tree)
{
    struct fdt f;
    KASSERT_EQ(open_real(&f), 0);
    KEXPECT_EQ(f.totalsize, machine.dtb_size);
    KEXPECT_EQ((uintptr_t)f.blob, machine.dtb_base);
    KEXPECT_GT(f.structs_size, 0);
    KEXPECT_GT(f.strings_size, 0);
    KEXPECT_STREQ(fdt_node_name(&f, 0), ""); /* the root's name is empty */
}

KTEST(lib, fdt_path_finds_nodes_and_misses_cleanly)
{
    struct fdt f;
    KASSERT_EQ(open_real(&f), 0);
    KEXPECT_EQ(fdt_path(&f, "/"), 0);
    int cpus = fdt_path(&f, "/cpus"), chosen = fdt_path(&f, "/chosen");
    KASSERT_GT(cpus, 0);
    KASSERT_GT(chosen, 0);
    KEXPECT_STREQ(fdt_node_name(&f, cpus), "cpus");
    KEXPECT_STREQ(fdt_node_name(&f, chosen), "chosen");
    /* /chosen/bootargs is where machine.bootargs came from (QEMU's -append; without
     * one QEMU leaves the property out and the kernel sees ""). */
    const char *bootargs = fdt_prop(&f, chosen, "bootargs", 0);
    KEXPECT_STREQ(bootargs ? bootargs : "", machine.bootargs);
    /* A component without a unit address matches one with; an exact one matches too. */
    int cpu0 = fdt_path(&f, "/cpus/cpu");
    KEXPECT_GT(cpu0, cpus);
    KEXPECT_EQ(fdt_first_child(&f, cpus), cpu0);
    char path[48];
    snprintf(path, sizeof(path), "/cpus/%s", fdt_node_name(&f, cpu0));
    KEXPECT_EQ(fdt_path(&f, path), cpu0);
    KEXPECT_EQ(fdt_path(&f, "//cpus//"), cpus); /* repeated slashes are one */

    KEXPECT_EQ(fdt_path(&f, "/no-such-node"), -1);
    KEXPECT_EQ(fdt_path(&f, "/cpus/no-such-node"), -1);
    KEXPECT_EQ(fdt_path(&f, "/cpu"), -1); /* a prefix of "cpus" is not "cpus" */
    KEXPECT_EQ(fdt_path(&f, "/cpusx"), -1);
    KEXPECT_EQ(fdt_path(&f, "/chosen/bootargs"), -1); /* a property, not a node */
    KEXPECT_EQ(fdt_path(&f, "cpus"), -1);             /* paths are absolute */
    KEXPECT_EQ(fdt_path(&f, "/cpus/cpu@ffff"), -1);   /* a wrong unit address misses */
    KEXPECT_TRUE(fdt_prop(&f, -1, "reg", 0) == 0);    /* -1 is safe to pass on */
    KEXPECT_EQ(fdt_first_child(&f, -1), -1);
    KEXPECT_EQ(fdt_next_sibling(&f, -1), -1);
}

KTEST(lib, fdt_hart_count_matches_machine)
{
    struct fdt f;
    KASSERT_EQ(open_real(&f), 0);
    int cpus = fdt_path(&f, "/cpus");
    KASSERT_GT(cpus, 0);
    int ac, sc;
    fdt_bus_cells(&f, cpus, &ac, &sc);
    KEXPECT_EQ(ac, 1); /* a hart id is one cell on RISC-V */
    KEXPECT_EQ(sc, 0);
    /* /cpus also holds cpu-map: only children with device_type "cpu" are harts. */
    int n = 0;
    for (int c = fdt_first_child(&f, cpus); c >= 0; c = fdt_next_sibling(&f, c)) {
        const char *type = fdt_prop(&f, c, "device_type", 0);
        if (!type || strcmp(type, "cpu") != 0)
            continue;
        uint64_t hartid, unused;
        KEXPECT_EQ(fdt_reg(&f, c, ac, sc, 0, &hartid, &unused), 0);
        if (n < machine.nharts)
            KEXPECT_EQ(hartid, machine.hartids[n]); /* same harts, same order */
        n++;
    }
    KEXPECT_EQ(n, machine.nharts);
    KEXPECT_GE(n, 1);
}

/* Finds the node whose first reg entry starts at `base`; -1 if none. */
static int node_at(const struct fdt *f, uint64_t base)
{
    int depth = 0, parent[16] = {0};
    for (int node = fdt_next_node(f, 0, &depth); node >= 0 && depth > 0;
         node = fdt_next_node(f, node, &depth)) {
        if (depth >= 16)
            continue;
        parent[depth] = node;
        int ac, sc;
        uint64_t addr, size;
        fdt_bus_cells(f, parent[depth - 1], &ac, &sc);
        if (fdt_reg(f, node, ac, sc, 0, &addr, &size) == 0 && addr == base)
            return node;
    }
    return -1;
}

KTEST(lib, fdt_is_compatible_on_uart)
{
    struct fdt f;
    KASSERT_EQ(open_real(&f), 0);
    KASSERT_NE(machine.uart.base, 0);
    int uart = node_at(&f, machine.uart.base);
    KASSERT_GT(uart, 0);
    KEXPECT_TRUE(fdt_is_compatible(&f, uart, "ns16550a"));
    /* Whole strings only: neither a prefix nor a longer name matches. */
    KEXPECT_FALSE(fdt_is_compatible(&f, uart, "ns16550"));
    KEXPECT_FALSE(fdt_is_compatible(&f, uart, "ns16550ab"));
    KEXPECT_FALSE(fdt_is_compatible(&f, uart, ""));
    KEXPECT_FALSE(fdt_is_compatible(&f, uart, "virtio,mmio"));
    KEXPECT_FALSE(fdt_is_compatible(&f, fdt_path(&f, "/chosen"), "ns16550a")); /* no list */
    KEXPECT_FALSE(fdt_is_compatible(&f, -1, "ns16550a"));
    uint64_t base, size;
    KEXPECT_EQ(fdt_reg(&f, uart, 2, 2, 0, &base, &size), 0);
    KEXPECT_EQ(base, machine.uart.base);
    KEXPECT_EQ(size, machine.uart.size);
}

KTEST(lib, fdt_reg_of_memory_matches_machine)
{
    struct fdt f;
    KASSERT_EQ(open_real(&f), 0);
    int mem = fdt_path(&f, "/memory");
    KASSERT_GT(mem, 0);
    const char *type = fdt_prop(&f, mem, "device_type", 0);
    KASSERT_TRUE(type != 0);
    KEXPECT_STREQ(type, "memory");
    int ac, sc;
    fdt_bus_cells(&f, 0, &ac, &sc);
    uint64_t base, size;
    KEXPECT_EQ(fdt_reg(&f, mem, ac, sc, 0, &base, &size), 0);
    KEXPECT_EQ(base, machine.memory[0].base);
    KEXPECT_EQ(size, machine.memory[0].size);
    /* Past the last entry, and with cell counts the reader cannot decode: -1. */
    int len;
    KASSERT_TRUE(fdt_prop(&f, mem, "reg", &len) != 0);
    KEXPECT_EQ(fdt_reg(&f, mem, ac, sc, len / (4 * (ac + sc)), &base, &size), -1);
    KEXPECT_EQ(fdt_reg(&f, mem, 0, sc, 0, &base, &size), -1);
    KEXPECT_EQ(fdt_reg(&f, mem, 3, sc, 0, &base, &size), -1);
    KEXPECT_EQ(fdt_reg(&f, mem, ac, 3, 0, &base, &size), -1);
    KEXPECT_EQ(fdt_reg(&f, mem, ac, -1, 0, &base, &size), -1);
    KEXPECT_EQ(fdt_reg(&f, mem, ac, sc, -1, &base, &size), -1); /* not the bytes before reg */
    KEXPECT_EQ(fdt_reg(&f, fdt_path(&f, "/chosen"), ac, sc, 0, &base, &size), -1); /* no reg */
}

KTEST(lib, fdt_prop_u32_checks_length)
{
    struct fdt f;
    KASSERT_EQ(open_real(&f), 0);
    uint32_t v = 0;
    KEXPECT_EQ(fdt_prop_u32(&f, fdt_path(&f, "/cpus"), "#address-cells", &v), 0);
    KEXPECT_EQ(v, 1);
    /* The memory node's reg is four cells: not a u32. */
    v = 77;
    KEXPECT_EQ(fdt_prop_u32(&f, fdt_path(&f, "/memory"), "reg", &v), -1);
    KEXPECT_EQ(fdt_prop_u32(&f, 0, "no-such-property", &v), -1);
    KEXPECT_EQ(v, 77);
}

/* Node offsets of the intact tree, in walk order (the root excluded). */
#define MAX_NODES 256
static int real_nodes[MAX_NODES];
static int nreal_nodes;

static int record_real_nodes(const struct fdt *f)
{
    int depth = 0;
    nreal_nodes = 0;
    for (int node = fdt_next_node(f, 0, &depth); node >= 0; node = fdt_next_node(f, node, &depth))
        if (nreal_nodes < MAX_NODES)
            real_nodes[nreal_nodes++] = node;
    return depth;
}

KTEST(lib, fdt_walk_visits_every_node_once)
{
    struct fdt f;
    KASSERT_EQ(open_real(&f), 0);
    /* The last END_NODE closes the root (depth 0), so a full walk ends at depth -1. */
    KEXPECT_EQ(record_real_nodes(&f), -1);
    KEXPECT_GT(nreal_nodes, 10);
    KEXPECT_LT(nreal_nodes, MAX_NODES);
    for (int i = 1; i < nreal_nodes; i++)
        KEXPECT_GT(real_nodes[i], real_nodes[i - 1]); /* strictly forward: no loops */
    /* The children of the root, through first_child/next_sibling, are the depth-1 nodes. */
    int depth = 0, top = 0, siblings = 0;
    for (int node = fdt_next_node(&f, 0, &depth); node >= 0; node = fdt_next_node(&f, node, &depth))
        top += depth == 1;
    for (int c = fdt_first_child(&f, 0); c >= 0; c = fdt_next_sibling(&f, c))
        siblings++;
    KEXPECT_EQ(siblings, top);
}

/* ------------------------------------------------------------------ fdt, damaged copies */

/* Big enough for QEMU virt's tree (a few KiB); the test checks that it fits. */
static uint8_t copy[64 * 1024] __attribute__((aligned(8)));

/* Header fields (Devicetree Specification 5.2), as byte offsets. */
enum {
    HDR_MAGIC = 0,
    HDR_TOTALSIZE = 4,
    HDR_OFF_STRUCT = 8,
    HDR_OFF_STRINGS = 12,
    HDR_OFF_RSVMAP = 16,
    HDR_VERSION = 20,
    HDR_SIZE_STRINGS = 32,
    HDR_SIZE_STRUCT = 36,
};

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Fresh copy of the boot DTB in `copy`; 0, or -1 (test failed) if it does not fit. */
static int fresh_copy(void)
{
    if (machine.dtb_size > sizeof(copy)) {
        ktest_fail(__FILE__, __LINE__, "DTB of %lu bytes does not fit the %lu-byte copy",
                   machine.dtb_size, sizeof(copy));
        return -1;
    }
    memcpy(copy, (const void *)(uintptr_t)machine.dtb_base, machine.dtb_size);
    return 0;
}

/* Damages one header field of a fresh copy; fdt_open must refuse it with a reason. */
static void expect_refused(int field, uint32_t value, int line)
{
    if (fresh_copy() != 0)
        return;
    put_be32(copy + field, value);
    struct fdt f;
    const char *why = 0;
    if (fdt_open(&f, copy, &why) != -1)
        ktest_fail(__FILE__, line, "fdt_open accepted header field %d = 0x%x", field, value);
    else if (!why || !*why)
        ktest_fail(__FILE__, line, "fdt_open refused header field %d but gave no reason", field);
}

KTEST(lib, fdt_open_refuses_bad_header)
{
    KASSERT_EQ(fresh_copy(), 0);
    struct fdt f;
    const char *why = 0;
    KASSERT_EQ(fdt_open(&f, copy, &why), 0); /* the intact copy opens */
    uint32_t total = get_be32(copy + HDR_TOTALSIZE);
    uint32_t off_struct = get_be32(copy + HDR_OFF_STRUCT);
    uint32_t off_strings = get_be32(copy + HDR_OFF_STRINGS);

    expect_refused(HDR_MAGIC, 0xfeed0dd0, __LINE__); /* byte-swapped magic */
    expect_refused(HDR_MAGIC, 0, __LINE__);
    expect_refused(HDR_VERSION, 16, __LINE__);
    /* Each block must lie inside totalsize, without the sum overflowing 32 bits. */
    expect_refused(HDR_TOTALSIZE, off_struct, __LINE__);
    expect_refused(HDR_TOTALSIZE, 40, __LINE__);
    expect_refused(HDR_SIZE_STRUCT, total - off_struct + 1, __LINE__);
    expect_refused(HDR_SIZE_STRUCT, 0xfffffffc, __LINE__);
    expect_refused(HDR_OFF_STRUCT, total + 4, __LINE__);
    expect_refused(HDR_OFF_STRUCT, 0xfffffff0, __LINE__);
    expect_refused(HDR_SIZE_STRINGS, total - off_strings + 1, __LINE__);
    expect_refused(HDR_SIZE_STRINGS, 0xfffffff0, __LINE__);
    expect_refused(HDR_OFF_STRINGS, 0xffffffff, __LINE__);
    expect_refused(HDR_OFF_RSVMAP, total + 16, __LINE__);

    /* A NULL or misaligned address is refused before anything is read. */
    why = 0;
    KEXPECT_EQ(fdt_open(&f, 0, &why), -1);
    KEXPECT_TRUE(why != 0);
    why = 0;
    KEXPECT_EQ(fdt_open(&f, copy + 2, &why), -1);
    KEXPECT_TRUE(why != 0);
}

/* A node the damaged-tree checks look up by path, with its offset in the intact tree. */
struct probe {
    const char *path;
    int node;
    int name_end;  /* offset just past the name's last character, where its NUL is */
    int match_end; /* offset just past the characters the path's last component needs */
};

static int is_real_node(int node)
{
    for (int i = 0; i < nreal_nodes; i++)
        if (real_nodes[i] == node)
            return 1;
    return node == 0;
}

/*
 * Checks every reader function on the copy whose structure block is intact below
 * `cut` and cut off or garbage from there. Nodes whose BEGIN_NODE token lies wholly
 * below the cut are exactly the ones a walk may return. A path lookup finds its node
 * when the whole name with its NUL lies below the cut, and misses when the characters
 * the path names do not; in between it may go either way ("cpu@0" cut to "cpu@" by a
 * 0x00 fill is a fine match for "cpu"), but it never finds another node. Returns the
 * number of failed checks (reported once, with the cut).
 */
static int check_damaged(int cut, const struct probe *probes, int nprobes, const char *how)
{
    struct fdt f;
    const char *why;
    if (fdt_open(&f, copy, &why) != 0) {
        ktest_fail(__FILE__, __LINE__, "%s at %d: fdt_open: %s", how, cut, why);
        return 1;
    }
    int depth = 0, n = 0, bad = 0;
    for (int node = fdt_next_node(&f, 0, &depth); node >= 0;
         node = fdt_next_node(&f, node, &depth)) {
        if (n >= nreal_nodes || node != real_nodes[n] || node + 4 > cut) {
            ktest_fail(__FILE__, __LINE__, "%s at %d: walk returned node %d at step %d", how, cut,
                       node, n);
            return 1;
        }
        n++;
        /* Lookups in a node the walk handed out stay inside the structure block... */
        int len = 0;
        const uint8_t *p = fdt_prop(&f, node, "compatible", &len);
        if (p && (p < f.structs || len < 0 || p + len > f.structs + f.structs_size))
            bad++;
        fdt_is_compatible(&f, node, "ns16550a");
        /* ...and every node they lead to is one of the intact tree's. */
        int child = fdt_first_child(&f, node), next = fdt_next_sibling(&f, node);
        if ((child >= 0 && !is_real_node(child)) || (next >= 0 && !is_real_node(next)))
            bad++;
    }
    int expected = 0;
    while (expected < nreal_nodes && real_nodes[expected] + 4 <= cut)
        expected++;
    if (n != expected)
        bad++;
    for (int i = 0; i < nprobes; i++) {
        int found = fdt_path(&f, probes[i].path);
        if (found != -1 && found != probes[i].node)
            bad++;
        else if (cut > probes[i].name_end && found != probes[i].node)
            bad++;
        else if (cut < probes[i].match_end && found != -1)
            bad++;
    }
    if (bad)
        ktest_fail(__FILE__, __LINE__, "%s at %d: %d wrong answers (walk gave %d nodes of %d)", how,
                   cut, bad, n, expected);
    return bad;
}

/* Top-level nodes from early and late in the tree, and one a level down in /cpus. */
static const char *const probe_paths[] = {"/chosen", "/cpus", "/cpus/cpu", "/memory", "/soc"};
#define NPROBES ((int)(sizeof(probe_paths) / sizeof(probe_paths[0])))

/* Records the intact copy's nodes and where each probe is; 0, or -1 if one is missing. */
static int setup_probes(struct probe *probes, int n)
{
    struct fdt f;
    const char *why;
    if (fdt_open(&f, copy, &why) != 0 || record_real_nodes(&f) != -1)
        return -1;
    for (int i = 0; i < n; i++) {
        probes[i].path = probe_paths[i];
        probes[i].node = fdt_path(&f, probes[i].path);
        if (probes[i].node <= 0)
            return -1;
        probes[i].name_end = probes[i].node + 4 + (int)strlen(fdt_node_name(&f, probes[i].node));
        const char *last = probes[i].path;
        for (const char *p = last; *p; p++)
            if (*p == '/')
                last = p + 1;
        probes[i].match_end = probes[i].node + 4 + (int)strlen(last);
    }
    return 0;
}

KTEST(lib, fdt_structure_block_cut_short_at_every_byte)
{
    /* The header says the block is shorter than it is: as if the blob were cut at
     * `cut`. Every cut point, so every token, name and property gets cut in half once. */
    KASSERT_EQ(fresh_copy(), 0);
    struct probe probes[NPROBES];
    int nprobes = NPROBES;
    KASSERT_EQ(setup_probes(probes, nprobes), 0);
    uint32_t size = get_be32(copy + HDR_SIZE_STRUCT);
    for (uint32_t cut = 0; cut <= size; cut++) {
        put_be32(copy + HDR_SIZE_STRUCT, cut);
        if (check_damaged((int)cut, probes, nprobes, "size_dt_struct cut"))
            return;
    }
}

KTEST(lib, fdt_structure_block_garbage_from_every_byte)
{
    /* The header is intact but the data is not: everything from `cut` on is 0xff (no
     * NUL to end a name, huge lengths) or 0x00 (no valid token). Walking the cut point
     * down one byte at a time costs one store per step. */
    static const uint8_t fills[] = {0xff, 0x00};
    struct probe probes[NPROBES];
    int nprobes = NPROBES;
    for (unsigned i = 0; i < sizeof(fills); i++) {
        KASSERT_EQ(fresh_copy(), 0);
        KASSERT_EQ(setup_probes(probes, nprobes), 0);
        uint8_t *structs = copy + get_be32(copy + HDR_OFF_STRUCT);
        int size = (int)get_be32(copy + HDR_SIZE_STRUCT);
        for (int cut = size; cut >= 0; cut--) {
            if (cut < size)
                structs[cut] = fills[i];
            if (check_damaged(cut, probes, nprobes, fills[i] ? "0xff fill" : "0x00 fill"))
                return;
        }
    }
}

KTEST(lib, fdt_cut_in_the_middle_of_cpus)
{
    /* The readable version of the tests above: the blob ends halfway through /cpus. */
    KASSERT_EQ(fresh_copy(), 0);
    struct fdt f;
    const char *why;
    KASSERT_EQ(fdt_open(&f, copy, &why), 0);
    int cpus = fdt_path(&f, "/cpus"), cpu0 = fdt_path(&f, "/cpus/cpu");
    KASSERT_GT(cpus, 0);
    KASSERT_GT(cpu0, cpus);
    uint32_t tb;
    KASSERT_EQ(fdt_prop_u32(&f, cpus, "timebase-frequency", &tb), 0);

    put_be32(copy + HDR_SIZE_STRUCT, (uint32_t)cpu0 + 6); /* inside cpu@0's name */
    KASSERT_EQ(fdt_open(&f, copy, &why), 0);
    KEXPECT_EQ(fdt_path(&f, "/cpus"), cpus); /* before the cut: still there */
    KEXPECT_EQ(fdt_prop_u32(&f, cpus, "timebase-frequency", &tb), 0);
    KEXPECT_EQ(fdt_path(&f, "/cpus/cpu"), -1); /* cut through */
    KEXPECT_EQ(fdt_path(&f, "/soc"), -1);      /* after the cut */
    KEXPECT_TRUE(fdt_prop(&f, cpu0, "reg", 0) == 0);
    KEXPECT_STREQ(fdt_node_name(&f, cpu0), "");
    int depth = 0, last = -1, steps = 0;
    for (int node = fdt_next_node(&f, 0, &depth); node >= 0 && steps < MAX_NODES;
         node = fdt_next_node(&f, node, &depth), steps++)
        last = node;
    KEXPECT_EQ(last, cpu0); /* its token is whole; nothing after it is reachable */
    KEXPECT_LT(steps, MAX_NODES);
}

KTEST(lib, fdt_property_length_past_the_block)
{
    /* A property whose length runs past the structure block: reading it, or anything
     * after it in the same node, must give NULL, and the walk must stop there. */
    KASSERT_EQ(fresh_copy(), 0);
    struct fdt f;
    const char *why;
    KASSERT_EQ(fdt_open(&f, copy, &why), 0);
    int cpus = fdt_path(&f, "/cpus");
    KASSERT_GT(cpus, 0);
    int len;
    const uint8_t *tb = fdt_prop(&f, cpus, "timebase-frequency", &len);
    KASSERT_TRUE(tb != 0);
    KASSERT_EQ(len, 4);
    put_be32((uint8_t *)tb - 8, 0xfffffff0); /* the len field of that PROP */
    KEXPECT_TRUE(fdt_prop(&f, cpus, "timebase-frequency", &len) == 0);
    KEXPECT_EQ(fdt_first_child(&f, cpus), -1);
    KEXPECT_EQ(fdt_path(&f, "/cpus/cpu"), -1);
    int depth = 0, steps = 0, node;
    for (node = fdt_next_node(&f, 0, &depth); node >= 0 && steps < MAX_NODES;
         node = fdt_next_node(&f, node, &depth))
        steps++;
    KEXPECT_EQ(node, -1);
    KEXPECT_LT(steps, MAX_NODES);
}

/* Start of the first "name\0" in the copy's strings block, or -1. */
static int find_string(const char *name)
{
    const char *strings = (const char *)copy + get_be32(copy + HDR_OFF_STRINGS);
    uint32_t size = get_be32(copy + HDR_SIZE_STRINGS), len = (uint32_t)strlen(name) + 1;
    for (uint32_t i = 0; i + len <= size; i++)
        if (memcmp(strings + i, name, len) == 0)
            return (int)i;
    return -1;
}

KTEST(lib, fdt_property_name_cut_by_strings_block_end)
{
    /* The strings block ends in the middle of "compatible": the name a property
     * points to is then "compat" without its NUL, which is not "compatible". */
    KASSERT_EQ(fresh_copy(), 0);
    struct fdt f;
    const char *why;
    KASSERT_EQ(fdt_open(&f, copy, &why), 0);
    int uart = node_at(&f, machine.uart.base);
    KASSERT_GT(uart, 0);
    KASSERT_TRUE(fdt_is_compatible(&f, uart, "ns16550a"));
    int at = find_string("compatible");
    KASSERT_GE(at, 0);
    put_be32(copy + HDR_SIZE_STRINGS, (uint32_t)at + 6);
    KASSERT_EQ(fdt_open(&f, copy, &why), 0);
    KEXPECT_TRUE(fdt_prop(&f, uart, "compatible", 0) == 0);
    KEXPECT_FALSE(fdt_is_compatible(&f, uart, "ns16550a"));
}

KTEST(lib, fdt_negative_cell_counts_refused)
{
    /* #address-cells / #size-cells come from the blob: 0xffffffff must not turn into
     * a reg entry shorter than the cells read from it. */
    KASSERT_EQ(fresh_copy(), 0);
    struct fdt f;
    const char *why;
    KASSERT_EQ(fdt_open(&f, copy, &why), 0);
    int soc = fdt_path(&f, "/soc");
    KASSERT_GT(soc, 0);
    int uart = node_at(&f, machine.uart.base);
    KASSERT_GT(uart, soc);
    int len;
    const uint8_t *sc = fdt_prop(&f, soc, "#size-cells", &len);
    KASSERT_TRUE(sc != 0);
    KASSERT_EQ(len, 4);
    put_be32((uint8_t *)sc, 0xffffffff);
    int ac, scells;
    fdt_bus_cells(&f, soc, &ac, &scells);
    uint64_t base, size;
    KEXPECT_EQ(fdt_reg(&f, uart, ac, scells, 0, &base, &size), -1);
}

KTEST(lib, fdt_path_unit_address_in_a_later_component)
{
    /* Rename /cpus to "cpus@0" in the copy (the name has room: "cpus" is padded to
     * 8 bytes). "/cpus/<first cpu>" must still find it: whether a component may omit a
     * unit address is decided per component, not by the rest of the path. */
    KASSERT_EQ(fresh_copy(), 0);
    struct fdt f;
    const char *why;
    KASSERT_EQ(fdt_open(&f, copy, &why), 0);
    int cpus = fdt_path(&f, "/cpus"), cpu0 = fdt_path(&f, "/cpus/cpu");
    KASSERT_GT(cpus, 0);
    KASSERT_GT(cpu0, cpus);
    KASSERT_STREQ(fdt_node_name(&f, cpu0), "cpu@0");
    /* The name's 8 bytes: "cpus", its NUL and the padding up to the next token. */
    char *name = (char *)f.structs + cpus + 4;
    for (int i = 4; i < 8; i++)
        KASSERT_EQ(name[i], 0);
    memcpy(name, "cpus@0", 7);
    KASSERT_EQ(fdt_open(&f, copy, &why), 0);
    KEXPECT_EQ(fdt_path(&f, "/cpus"), cpus);
    KEXPECT_EQ(fdt_path(&f, "/cpus@0"), cpus);
    KEXPECT_EQ(fdt_path(&f, "/cpus/cpu"), cpu0);
    KEXPECT_EQ(fdt_path(&f, "/cpus/cpu@0"), cpu0);
    KEXPECT_EQ(fdt_path(&f, "/cpus@0/cpu@0"), cpu0);
}
