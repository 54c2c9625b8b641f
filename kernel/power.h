/*
 * Description: powering the machine off with a status the host can read.
 * SBI SRST makes QEMU exit 0 whatever the reason, so hartos writes to the
 * "sifive,test0" finisher device named in the device tree instead: QEMU then exits
 * with the code written. Without that device, SRST is the fallback.
 *  - power_off(status): POWER_EXIT_OK, POWER_EXIT_TEST_FAILED or POWER_EXIT_PANIC
 */
#pragma once

#include <stdint.h>

#define POWER_EXIT_OK 0
#define POWER_EXIT_TEST_FAILED 1
#define POWER_EXIT_PANIC 2

void power_init(uintptr_t finisher_base);
__attribute__((noreturn)) void power_off(int status);
