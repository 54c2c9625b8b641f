/*
 * Description: where every hart enters the kernel.
 *
 * _start: the boot hart, from OpenSBI, in S-mode with paging off.
 *   in:  a0 = hardware hart id, a1 = physical address of the device tree blob
 *   does: clears BSS, takes boot stack 0, sets tp = 0 (the boot hart is logical
 *         CPU 0), calls kmain(hartid, dtb). Never returns.
 *
 * _secondary_start: every other hart, started by sbi_hart_start() in kmain.
 *   in:  a0 = hardware hart id, a1 = the "opaque" argument, here the logical CPU id
 *        that kmain chose for this hart; satp = 0, interrupts off.
 *   does: takes its own stack, sets tp = logical id, calls secondary_main(hartid, id).
 *
 * Register contract for C: sp 16-byte aligned, tp = logical CPU id for the whole life
 * of the hart (trap.S never restores tp from a saved frame for that reason).
 */
    .section .text.entry
    .globl _start
_start:
    /* BSS holds the stacks, so it is cleared before anything uses a stack. */
    la      t0, bss_start
    la      t1, bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:
    li      tp, 0
    la      sp, cpu_stacks
    li      t0, KSTACK_SIZE
    add     sp, sp, t0              /* stacks grow down: top of stack 0 */
    mv      fp, zero                /* ends the frame-pointer chain for backtraces */
    call    kmain
3:  wfi
    j       3b

    .text
    .globl _secondary_start
_secondary_start:
    mv      tp, a1
    addi    t0, a1, 1
    li      t1, KSTACK_SIZE
    mul     t0, t0, t1
    la      sp, cpu_stacks
    add     sp, sp, t0              /* top of stack a1 */
    mv      fp, zero
    call    secondary_main
4:  wfi
    j       4b
