/*
 * Description: the registers a kernel thread keeps across a context switch: the
 * callee-saved ones (ra, sp, s0..s11). context_switch (switch.S) saves the running
 * set into *save and loads *load; the layout here must match its offsets.
 */
#pragma once

#include <stdint.h>

struct context {
    uint64_t ra, sp;
    uint64_t s[12];
};

void context_switch(struct context *save, struct context *load);
