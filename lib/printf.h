/*
 * Description: formatted output without a C library.
 *  - vformat: the engine; it hands every character to a sink function, so the same
 *    code serves the console (kernel/console.c) and strings (snprintf)
 *  - snprintf: formats into a buffer, always NUL-terminated, returns the full length
 * Conversions: %d %i %u %x %p %s %c %%, with the l / ll length modifiers, a field
 * width, '0' padding, '-' for left alignment and a precision for %s (%.5s, %.*s).
 * Anything else prints as written.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

typedef void (*format_sink)(void *ctx, char c);

int vformat(format_sink sink, void *ctx, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
