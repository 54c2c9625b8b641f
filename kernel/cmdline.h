/*
 * Description: the kernel command line (QEMU -append, /chosen/bootargs): words of
 * the form key=value separated by spaces.
 *  - cmdline_parse(args): remember the words; every unknown key or word without '='
 *    gets one error line listing the known keys. Returns the number of bad words.
 *  - cmdline_get(key, &len): the value (not NUL-terminated, len bytes) or NULL
 *  - cmdline_get_u64(key, &out): 0 and the number, 1 if absent, -1 if not a number
 *    (after printing an error line naming the key and value)
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

int cmdline_parse(const char *args);
const char *cmdline_get(const char *key, size_t *len);
int cmdline_get_u64(const char *key, uint64_t *out);
