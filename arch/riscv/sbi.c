/*
 * Description: SBI call wrappers (see sbi.h). Extension ids come from the SBI spec.
 */
#include "arch/riscv/sbi.h"

#define SBI_EXT_LEGACY_PUTCHAR 0x01
#define SBI_EXT_TIME 0x54494D45 /* "TIME" */
#define SBI_EXT_IPI 0x735049    /* "sPI" */
#define SBI_EXT_HSM 0x48534D    /* "HSM" */
#define SBI_EXT_SRST 0x53525354 /* "SRST" */

static struct sbiret sbi_call(long ext, long fid, long a0, long a1, long a2)
{
    register long r_a0 __asm__("a0") = a0;
    register long r_a1 __asm__("a1") = a1;
    register long r_a2 __asm__("a2") = a2;
    register long r_a6 __asm__("a6") = fid;
    register long r_a7 __asm__("a7") = ext;
    __asm__ volatile("ecall" : "+r"(r_a0), "+r"(r_a1) : "r"(r_a2), "r"(r_a6), "r"(r_a7) : "memory");
    return (struct sbiret){.error = r_a0, .value = r_a1};
}

struct sbiret sbi_hart_start(uint64_t hartid, uint64_t start_addr, uint64_t opaque)
{
    return sbi_call(SBI_EXT_HSM, 0, hartid, start_addr, opaque);
}

struct sbiret sbi_hart_get_status(uint64_t hartid)
{
    return sbi_call(SBI_EXT_HSM, 2, hartid, 0, 0);
}

void sbi_set_timer(uint64_t stime_value) { sbi_call(SBI_EXT_TIME, 0, stime_value, 0, 0); }

void sbi_send_ipi_mask(uint64_t hart_mask, uint64_t hart_mask_base)
{
    sbi_call(SBI_EXT_IPI, 0, hart_mask, hart_mask_base, 0);
}

void sbi_console_putchar(int ch) { sbi_call(SBI_EXT_LEGACY_PUTCHAR, 0, ch, 0, 0); }

void sbi_shutdown(void) { sbi_call(SBI_EXT_SRST, 0, 0 /* shutdown */, 0 /* no reason */, 0); }

const char *sbi_error_name(long error)
{
    static const char *const names[] = {"success",           "failed",          "not supported",
                                        "invalid param",     "denied",          "invalid address",
                                        "already available", "already started", "already stopped"};
    if (error <= 0 && -error < (long)(sizeof(names) / sizeof(names[0])))
        return names[-error];
    return "unknown error";
}
