/*
 * Description: calls into the Supervisor Binary Interface (OpenSBI in M-mode).
 * An SBI call is an `ecall` with the extension id in a7, the function id in a6 and
 * arguments in a0..a5; OpenSBI returns an error code in a0 and a value in a1.
 *  - sbi_hart_start / sbi_hart_get_status: the HSM extension, to bring harts online
 *  - sbi_set_timer: the next timer interrupt, when the CPU has no Sstc
 *  - sbi_send_ipi: a software interrupt on other harts (panic uses it to stop them)
 *  - sbi_console_putchar: the legacy console, used before the UART is known
 *  - sbi_shutdown: SRST system reset; QEMU exits 0 whatever the reason (see power.c)
 */
#pragma once

#include <stdint.h>

#define SBI_SUCCESS 0
#define SBI_ERR_ALREADY_AVAILABLE (-6)

/* HSM hart states (SBI spec, chapter "Hart State Management") */
#define SBI_HSM_STARTED 0
#define SBI_HSM_STOPPED 1
#define SBI_HSM_START_PENDING 2

struct sbiret {
    long error;
    long value;
};

struct sbiret sbi_hart_start(uint64_t hartid, uint64_t start_addr, uint64_t opaque);
struct sbiret sbi_hart_get_status(uint64_t hartid);
void sbi_set_timer(uint64_t stime_value);
void sbi_send_ipi_mask(uint64_t hart_mask, uint64_t hart_mask_base);
void sbi_console_putchar(int ch);
void sbi_shutdown(void);
const char *sbi_error_name(long error);
