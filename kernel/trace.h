/*
 * Description: lock-event tracing. Every hart records what it does with locks (found
 * one taken, got it after so many spins, let it go) and a few events around them (pmem
 * steals, buffer cache misses and evictions, thread switches) into a ring of its own;
 * after a run the rings are printed on the console, and tools/trace.py turns them into
 * a timeline (Chrome trace-event JSON for Perfetto, and a PNG). docs/10-tracing.md.
 *  - trace_event(kind, obj, arg): record one event on this hart's ring, if tracing is
 *    on. Off, it costs one load and one branch predicted not taken.
 *  - trace_start(): forget what the rings hold, then turn tracing on (every hart)
 *  - trace_stop(): turn it off; the rings keep their events
 *  - trace_dump(label): turn it off, print every ring in the framed form below, then
 *    forget what was printed
 *  - trace_ring_info(cpu, &info) / trace_ring_get(cpu, i, &ev): read one ring (tests)
 * The kernel command line's trace=1 turns tracing on at boot (kernel/cmdline.c).
 *
 * Rules that keep it cheap and safe:
 *  - recording takes no lock and writes only the recording hart's ring, which has
 *    cache lines of its own: a traced run contends on nothing the untraced one does not
 *  - a full ring overwrites its oldest event and counts it as dropped; the newest
 *    TRACE_RING_EVENTS - 1 events are kept
 *  - trace_dump stops tracing before it prints, so the console lock (and every lock
 *    the dump itself takes) is never traced while the rings are read
 *
 * The dump (one line each; obj in hex; time in ticks of `timebase` per second):
 *   TRACE-BEGIN v1 label=<label> harts=<n> timebase=<hz> capacity=<events per ring>
 *   L <obj> <lock name>           every registered lock that has been acquired
 *   T <obj> <thread name>         every thread slot that has had a thread
 *   E <hart> <time> <kind> <obj> <arg>   events, each hart's in time order
 *   H <hart> events=<kept> dropped=<overwritten>
 *   TRACE-END events=<kept> dropped=<overwritten>
 */
#pragma once

#include <stdint.h>

#ifndef TRACE_RING_EVENTS
#define TRACE_RING_EVENTS 16384 /* per hart, a power of two; 24 bytes each */
#endif

/* What an event means, and what obj and arg hold for it. */
enum trace_kind {
    TRACE_LOCK_REQ,     /* acquire() found it taken and spins: obj = the spinlock */
    TRACE_LOCK_ACQ,     /* ... and got it: obj = the spinlock, arg = failed attempts */
    TRACE_LOCK_REL,     /* release() called: obj = the spinlock */
    TRACE_PMEM_STEAL,   /* pmem took pages from another list: obj = victim cpu, arg = pages */
    TRACE_BCACHE_MISS,  /* obj = the cache's eviction (or only) lock, arg = block number */
    TRACE_BCACHE_EVICT, /* obj = the same lock, arg = the block number thrown out */
    TRACE_SWITCH,       /* obj = the thread, arg = 1 switched to it, 0 back from it */
    TRACE_MARK,         /* anything a test or benchmark wants to see on the timeline */
    TRACE_KIND_COUNT
};

struct trace_event {
    uint64_t time; /* rdtime */
    uint64_t obj;
    uint32_t arg; /* saturates at UINT32_MAX */
    uint8_t kind; /* enum trace_kind */
    uint8_t hart; /* logical CPU id */
    uint16_t unused;
};

/*
 * The on/off switch, read by every hart at every event site. It fills a cache line by
 * itself: a write to a neighbouring variable would otherwise make every hart miss on
 * it. Written only by trace_start/stop/dump (and trace=1 at boot).
 */
struct trace_switch {
    int enabled;
} __attribute__((aligned(64)));
extern struct trace_switch trace_switch;

void trace_record(enum trace_kind kind, uintptr_t obj, uint64_t arg);

static inline void trace_event(enum trace_kind kind, uintptr_t obj, uint64_t arg)
{
    if (__builtin_expect(trace_switch.enabled, 0))
        trace_record(kind, obj, arg);
}

/*
 * The hooks in acquire() and release(). They are compiled in only when tracing is built
 * (CMake option HARTOS_TRACE: on by default, off in the `ninja bench` kernel), so the
 * lock fast path of a kernel built for measuring pays nothing for them.
 */
#ifdef HARTOS_TRACE
#define trace_lock(kind, lk, arg) trace_event(kind, (uintptr_t)(lk), arg)
#else
#define trace_lock(kind, lk, arg) ((void)(lk), (void)(arg))
#endif

void trace_start(void);
void trace_stop(void);
void trace_dump(const char *label);

struct trace_ring_info {
    uint64_t recorded; /* since the last start or dump */
    uint64_t kept;     /* readable now: trace_ring_get(cpu, 0 .. kept - 1) */
    uint64_t dropped;  /* recorded - kept */
    uint64_t head;     /* events ever written to this ring (moves only while on) */
};

/* Returns -1 for a cpu that has no ring. Meant for quiet moments (tracing off). */
int trace_ring_info(int cpu, struct trace_ring_info *info);
/* The i-th kept event of cpu's ring, oldest first; -1 if there is none. */
int trace_ring_get(int cpu, uint64_t i, struct trace_event *out);
const char *trace_kind_name(enum trace_kind kind);
