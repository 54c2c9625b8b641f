/*
 * Description: the vformat engine and snprintf (see printf.h).
 */
#include "lib/printf.h"

#include <stdint.h>

struct format_spec {
    int width;
    char pad; /* ' ' or '0' */
    int left; /* '-' flag: pad on the right */
};

struct format_out {
    format_sink sink;
    void *ctx;
    int count;
};

static void out_char(struct format_out *out, char c)
{
    out->sink(out->ctx, c);
    out->count++;
}

/* Prints text[0..len) padded with spaces to the field width. */
static void out_field(struct format_out *out, const struct format_spec *spec, const char *text,
                      int len)
{
    int fill = spec->width > len ? spec->width - len : 0;
    if (!spec->left)
        while (fill--)
            out_char(out, spec->pad);
    while (len--)
        out_char(out, *text++);
    if (spec->left)
        while (fill-- > 0)
            out_char(out, ' ');
}

/* Prints a number with an optional prefix ("-" or "0x") that padding goes around. */
static void out_number(struct format_out *out, const struct format_spec *spec, uint64_t value,
                       unsigned base, const char *prefix)
{
    char digits[24];
    int i = sizeof(digits);
    do {
        digits[--i] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value);
    int plen = 0;
    while (prefix[plen])
        plen++;
    int fill = spec->width > plen + (int)sizeof(digits) - i
                   ? spec->width - plen - ((int)sizeof(digits) - i)
                   : 0;
    if (!spec->left && spec->pad == ' ')
        for (; fill; fill--)
            out_char(out, ' ');
    for (int p = 0; p < plen; p++)
        out_char(out, prefix[p]);
    if (!spec->left)
        for (; fill; fill--)
            out_char(out, '0');
    for (; i < (int)sizeof(digits); i++)
        out_char(out, digits[i]);
    for (; fill; fill--)
        out_char(out, ' ');
}

int vformat(format_sink sink, void *ctx, const char *fmt, va_list ap)
{
    struct format_out out = {sink, ctx, 0};
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            out_char(&out, *fmt);
            continue;
        }
        const char *start = fmt++;
        struct format_spec spec = {0, ' ', 0};
        for (; *fmt == '-' || *fmt == '0'; fmt++) {
            if (*fmt == '-')
                spec.left = 1;
            else
                spec.pad = '0';
        }
        for (; *fmt >= '0' && *fmt <= '9'; fmt++)
            spec.width = spec.width * 10 + (*fmt - '0');
        int precision = -1; /* for %s: print at most this many characters */
        if (*fmt == '.') {
            fmt++;
            precision = 0;
            if (*fmt == '*') {
                precision = va_arg(ap, int);
                fmt++;
            }
            for (; *fmt >= '0' && *fmt <= '9'; fmt++)
                precision = precision * 10 + (*fmt - '0');
        }
        int longs = 0;
        for (; *fmt == 'l'; fmt++)
            longs++;
        /* On RV64 (LP64) long and long long are both 64 bits. */
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            out_number(&out, &spec, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0 ? "-" : "");
            break;
        }
        case 'u':
        case 'x': {
            uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            out_number(&out, &spec, v, *fmt == 'u' ? 10 : 16, "");
            break;
        }
        case 'p':
            out_number(&out, &spec, (uintptr_t)va_arg(ap, void *), 16, "0x");
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int len = 0;
            while (s[len] && (precision < 0 || len < precision))
                len++;
            spec.pad = ' ';
            out_field(&out, &spec, s, len);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            spec.pad = ' ';
            out_field(&out, &spec, &c, 1);
            break;
        }
        case '%':
            out_char(&out, '%');
            break;
        default: /* unknown conversion: print it as written, so the mistake shows */
            for (; start <= fmt && *start; start++)
                out_char(&out, *start);
            if (!*fmt)
                return out.count;
            break;
        }
    }
    return out.count;
}

struct string_sink {
    char *buf;
    size_t size;
    size_t used;
};

static void string_putc(void *ctx, char c)
{
    struct string_sink *s = ctx;
    if (s->used + 1 < s->size)
        s->buf[s->used++] = c;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct string_sink s = {buf, size, 0};
    int n = vformat(string_putc, &s, fmt, ap);
    if (size)
        buf[s.used] = '\0';
    return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
