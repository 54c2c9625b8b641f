/*
 * Description: the monitor's command table and the helpers its commands share
 * (for kernel/monitor*.c only; the public interface is monitor.h).
 *  - monitor_cmds[], monitor_ncmds: every command; the monitor checks the argument
 *    count against minargs/maxargs before it calls fn
 *  - monitor_arg_u64(cmd, arg, min, max, &out): parses a number argument (decimal
 *    or 0x hex) from min to max; 0, or -1 after printing one line naming it
 *  - monitor_stress: the `stress` command (monitor_stress.c)
 */
#pragma once

#include <stdint.h>

struct monitor_cmd {
    const char *name;
    const char *args; /* usage after the name, e.g. "<block>"; "" if none */
    const char *help;
    int minargs, maxargs;              /* words after the name */
    void (*fn)(int argc, char **argv); /* argv[0] is the command's name */
};

extern const struct monitor_cmd monitor_cmds[];
extern const int monitor_ncmds;

int monitor_arg_u64(const char *cmd, const char *arg, uint64_t min, uint64_t max, uint64_t *out);
void monitor_stress(int argc, char **argv);
