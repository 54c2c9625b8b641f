/*
 * Description: the kernel monitor's loop (see monitor.h): print the prompt, read a
 * line through the line editor, split it into words, run the command from the table
 * in monitor_cmds.c.
 *
 * One thread does all of it. It reads the console while it waits for a line, and a
 * long command reads it too, through monitor_interrupted(), looking for Ctrl-C. So
 * the UART's ring has one reader only, and no second thread has to watch for Ctrl-C
 * and tell the first.
 */
#include "kernel/monitor.h"

#include "drivers/uart.h"
#include "kernel/console.h"
#include "kernel/lineedit.h"
#include "kernel/machine.h"
#include "kernel/monitor_cmds.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "lib/string.h"

#define MONITOR_MAXWORDS 8
#define CTRL_C 0x03

/* Both belong to the monitor thread alone (see monitor.h), so they need no lock. */
static struct lineedit editor;
static int interrupted; /* Ctrl-C seen since the running command began */

int monitor_interrupted(void)
{
    int c;
    while ((c = uart_trygetc()) >= 0)
        if (c == CTRL_C)
            interrupted = 1;
    return interrupted;
}

int monitor_arg_u64(const char *cmd, const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
    if (strtou64(arg, strlen(arg), 0, out) == 0 && *out >= min && *out <= max)
        return 0;
    kprintf("%s: bad argument '%s': expected a number from %lu to %lu\n", cmd, arg, min, max);
    return -1;
}

/* Splits line at spaces, in place. Returns the number of words; only the first
 * `max` are stored in words[]. */
static int split(char *line, char **words, int max)
{
    int n = 0;
    for (char *p = line;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            return n;
        if (n < max)
            words[n] = p;
        n++;
        while (*p && *p != ' ')
            p++;
        if (*p)
            *p++ = 0;
    }
}

static void run(int argc, char **argv)
{
    for (int i = 0; i < monitor_ncmds; i++) {
        const struct monitor_cmd *c = &monitor_cmds[i];
        if (strcmp(c->name, argv[0]) != 0)
            continue;
        if (argc - 1 < c->minargs || argc - 1 > c->maxargs)
            kprintf("%s: wrong number of arguments; usage: %s %s\n", c->name, c->name, c->args);
        else
            c->fn(argc, argv);
        return;
    }
    kprintf("monitor: unknown command '%s'; type 'help' for the list\n", argv[0]);
}

/* The prompt is not a whole line: flush it, with interrupts off so no other thread
 * on this hart can add to the hart's console line in between (see lineedit.c). */
static void prompt(void)
{
    push_off();
    kprintf("hartos> ");
    console_flush();
    pop_off();
}

static void monitor_main(void *arg)
{
    (void)arg;
    kprintf("hartos: type 'help' for commands; quit QEMU with Ctrl-A X\n");
    for (;;) {
        prompt();
        lineedit_reset(&editor);
        int r;
        while ((r = lineedit_feed(&editor, uart_getc())) == LINEEDIT_MORE)
            ;
        char *argv[MONITOR_MAXWORDS];
        int argc = split(editor.line, argv, MONITOR_MAXWORDS);
        if (r == LINEEDIT_CANCEL || argc == 0)
            continue;
        if (argc > MONITOR_MAXWORDS) {
            kprintf("monitor: too many words (at most %d)\n", MONITOR_MAXWORDS);
            continue;
        }
        interrupted = 0;
        run(argc, argv);
    }
}

void monitor_start(void)
{
    if (!machine.uart.base || uart_rx_start(machine.uart.irq) != 0) {
        kprintf("hartos: no console input (UART interrupt %u unusable), so no monitor; "
                "quit QEMU with Ctrl-A then X\n",
                machine.uart.irq);
        return;
    }
    if (!thread_create("monitor", monitor_main, 0, 0))
        kprintf("hartos: error: cannot create the monitor thread\n");
}
