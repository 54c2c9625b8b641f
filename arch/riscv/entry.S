/*
 * Description: where every hart enters the kernel.
 *
 * _start: the boot hart, from OpenSBI, in S-mode with paging off.
 *   in:  a0 = hardware hart id, a1 = physical address of the device tree blob
 *   does: clears BSS, takes boot_stack, points tp at cpus[0] (the boot hart is
 *         logical CPU 0), calls kmain(hartid, dtb). Never returns.
 *
 * _secondary_start: every other hart, started by sbi_hart_start() in kmain.
 *   in:  a0 = hardware hart id, a1 = the "opaque" argument, here the logical CPU id
 *        that kmain chose for this hart; satp = 0, interrupts off.
 *   does: takes its own stack (cpu_stack_top[id], carved at boot by kmain before it
 *         started the hart), points tp at cpus[id], calls secondary_main(hartid, id).
 *
 * Register contract for C: sp 16-byte aligned, tp = this hart's struct cpu for the
 * whole life of the hart (trapvec.S never restores tp from a saved frame for that
 * reason), gp = __global_pointer$ (kernel.ld) so that the linker's gp-relative loads
 * of small data work: set before any C runs, never changed.
 *
 * A started hart can arrive at _start instead of _secondary_start. OpenSBI 1.1's
 * sbi_hsm_hart_start marks the hart START_PENDING before it writes the start address
 * and argument; a hart that wakes from wfi in that window jumps to the firmware's
 * default next address (_start) with a1 = the DTB. (Newer OpenSBI writes them first.)
 * Under load this happened about once in a few hundred boots, and the second BSS clear
 * wiped the running kernel. So _start claims the boot once, and a late arrival finds
 * its logical id by its hart id in cpus[] (filled before any hart_start) and carries
 * on as the secondary it is.
 */
/* First thing on every path in: the linker turns accesses near __global_pointer$ into
 * gp-relative ones, here too, so gp is set by the one `la` it must not relax. */
.macro SET_GP
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
.endm

    .section .text.entry
    .globl _start
_start:
    SET_GP
    la      t0, boot_claimed
    li      t1, 1
    amoswap.w.aqrl t1, t1, (t0)
    bnez    t1, _late_secondary
    /* BSS holds the boot stack, so it is cleared before anything uses a stack. */
    la      t0, bss_start
    la      t1, bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:
    la      tp, cpus                /* cpus[0] */
    la      sp, boot_stack
    li      t0, KSTACK_SIZE
    add     sp, sp, t0              /* stacks grow down: top of the boot stack */
    mv      fp, zero                /* ends the frame-pointer chain for backtraces */
    call    kmain
3:  wfi
    j       3b

    .text
_late_secondary:
    fence   rw, rw                  /* see the boot hart's cpus[] writes */
    la      t0, cpus
    la      t2, cpu_struct_size
    ld      t2, 0(t2)
    li      t3, 1                   /* cpu 0 is the boot hart: start at 1 */
    li      t4, NCPU
5:  bgeu    t3, t4, 7f
    mul     t5, t3, t2
    add     t5, t5, t0
    ld      t6, 0(t5)               /* cpus[t3].hartid (offset 0, see cpu.c) */
    beq     t6, a0, 6f
    addi    t3, t3, 1
    j       5b
6:  mv      a1, t3
    j       _secondary_start
7:  wfi                             /* a hart nobody started: stay parked */
    j       7b

    .globl _secondary_start
_secondary_start:
    SET_GP
    la      t0, cpus
    la      t2, cpu_struct_size
    ld      t2, 0(t2)
    mul     t2, t2, a1
    add     tp, t0, t2              /* &cpus[a1] */
    la      t0, cpu_stack_top
    slli    t1, a1, 3
    add     t0, t0, t1
    ld      sp, 0(t0)               /* top of stack a1 */
    mv      fp, zero
    call    secondary_main
4:  wfi
    j       4b

    .data
    .align 2
boot_claimed:                       /* in .data, not .bss: set before BSS is cleared */
    .word   0
