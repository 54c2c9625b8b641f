/*
 * Description: powering the machine off with a status the host can read.
 * SBI SRST makes QEMU exit 0 whatever the reason, so hartos writes to the
 * "sifive,test0" finisher device named in the device tree instead: QEMU then exits
 * with the code written. Without that device, SRST is the fallback.
 *  - power_init(base): the finisher's address from the device tree (0: none)
 *  - power_off(status): one of the POWER_EXIT_* codes below
 */
#pragma once

#include <stdint.h>

#define POWER_EXIT_OK 0
#define POWER_EXIT_TEST_FAILED 1
#define POWER_EXIT_PANIC 2
#define POWER_EXIT_BAD_MACHINE 3 /* the device tree describes a machine hartos cannot use */

void power_init(uintptr_t finisher_base);
__attribute__((noreturn)) void power_off(int status);
