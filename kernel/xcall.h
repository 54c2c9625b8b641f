/*
 * Description: cross-calls: run a function on every online hart at once.
 *  - xcall_all(fn, arg): fn(arg) runs on every online hart, this one included,
 *    concurrently; returns when all have finished. One xcall at a time (the test
 *    runner is its only caller); a second concurrent caller panics.
 *  - xcall_idle: the loop an otherwise idle hart sits in: sleep in wfi, run any
 *    cross-call posted for it. Never returns.
 */
#pragma once

void xcall_all(void (*fn)(void *arg), void *arg);
__attribute__((noreturn)) void xcall_idle(void);
