/*
 * Description: the few string and memory functions a freestanding kernel needs.
 * Same contracts as the C library's; strtou64 is hartos's own (see below).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size);

/*
 * Parses an unsigned number from s[0..len) (decimal, or hex after "0x"), with an
 * optional K/M/G suffix (powers of 1024) when allow_suffix is set.
 * Returns 0 and stores the value, or -1 if the text is empty, has a stray character
 * or overflows 64 bits.
 */
int strtou64(const char *s, size_t len, int allow_suffix, uint64_t *out);
