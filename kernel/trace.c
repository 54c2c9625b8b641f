/*
 * Description: lock-event tracing (interface and dump format in trace.h).
 *
 * Each hart owns one ring. Only the owner writes `head` and the events; it does so with
 * interrupts off, so no interrupt handler on the same hart can write into the middle of
 * an event. `head` counts every event ever written and is published with a release
 * store after the event, so a reader that loads it with acquire sees whole events.
 * `base` is where the current recording started; only trace_start and trace_dump move
 * it, on the hart that calls them.
 *
 * The rings are carved at boot (trace_init), one for each hart the machine has, not
 * one per NCPU slot in BSS: 384 KiB each adds up at 64 harts.
 *
 * Why a ring keeps TRACE_RING_EVENTS - 1 events, not all of them: a hart that read
 * `enabled` just before trace_dump turned it off may still write one event, into the
 * slot after its newest, which in a full ring is the slot of its oldest. Leaving that
 * slot out means the dump never reads an event while it is being written.
 */
#include "kernel/trace.h"

#include "arch/riscv/csr.h"
#include "arch/riscv/timer.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/machine.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"

_Static_assert((TRACE_RING_EVENTS & (TRACE_RING_EVENTS - 1)) == 0, "a power of two");
_Static_assert(TRACE_KIND_COUNT <= 256 && NCPU <= 256, "kind and hart fit in a byte");

struct trace_switch trace_switch;

struct trace_ring {
    uint64_t head; /* written by the owner only */
    uint64_t base; /* written by trace_start / trace_dump only, while the owner may run */
    struct trace_event events[TRACE_RING_EVENTS];
} __attribute__((aligned(64))); /* no ring shares a cache line with another */

static struct trace_ring *rings; /* nrings of them, carved by trace_init */
static int nrings;

void trace_init(int n)
{
    rings = machine_carve((uint64_t)n * sizeof(struct trace_ring));
    if (!rings) {
        kprintf("trace: no memory for %d rings of %lu KiB; tracing stays off\n", n,
                sizeof(struct trace_ring) / 1024);
        return;
    }
    for (int i = 0; i < n; i++)
        rings[i].head = rings[i].base = 0;
    nrings = n;
}

static const char *const kind_names[TRACE_KIND_COUNT] = {"req",  "acq",   "rel",    "steal",
                                                         "miss", "evict", "switch", "mark"};

const char *trace_kind_name(enum trace_kind kind)
{
    return kind < TRACE_KIND_COUNT ? kind_names[kind] : "?";
}

void trace_record(enum trace_kind kind, uintptr_t obj, uint64_t arg)
{
    /* Every hook already runs with interrupts off; this makes it a rule, not a hope. */
    int intena = intr_get();
    intr_off();
    int cpu = cpuid();
    struct trace_ring *r = &rings[cpu];
    uint64_t head = r->head;
    r->events[head & (TRACE_RING_EVENTS - 1)] =
        (struct trace_event){.time = rdtime(),
                             .obj = obj,
                             .arg = arg > UINT32_MAX ? UINT32_MAX : (uint32_t)arg,
                             .kind = (uint8_t)kind,
                             .hart = (uint8_t)cpu};
    __atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
    if (intena)
        intr_on();
}

void trace_start(void)
{
    if (!nrings)
        return; /* no rings: trace_init said so at boot */
    for (int i = 0; i < nrings; i++)
        rings[i].base = __atomic_load_n(&rings[i].head, __ATOMIC_ACQUIRE);
    __atomic_store_n(&trace_switch.enabled, 1, __ATOMIC_SEQ_CST);
}

void trace_stop(void) { __atomic_store_n(&trace_switch.enabled, 0, __ATOMIC_SEQ_CST); }

int trace_ring_info(int cpu, struct trace_ring_info *info)
{
    if (cpu < 0 || cpu >= nrings)
        return -1;
    struct trace_ring *r = &rings[cpu];
    uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    info->head = head;
    info->recorded = head - r->base;
    info->kept = info->recorded < TRACE_RING_EVENTS - 1 ? info->recorded : TRACE_RING_EVENTS - 1;
    info->dropped = info->recorded - info->kept;
    return 0;
}

/* The i-th of the events `info` says are kept, oldest first. */
static struct trace_event *kept_event(int cpu, const struct trace_ring_info *info, uint64_t i)
{
    return &rings[cpu].events[(info->head - info->kept + i) & (TRACE_RING_EVENTS - 1)];
}

int trace_ring_get(int cpu, uint64_t i, struct trace_event *out)
{
    struct trace_ring_info info;
    if (trace_ring_info(cpu, &info) != 0 || i >= info.kept)
        return -1;
    *out = *kept_event(cpu, &info, i);
    return 0;
}

/* Names for the converter: only locks that were ever taken, to keep the dump short. */
static void print_lock_name(struct spinlock *lk, void *arg)
{
    (void)arg;
    if (lk->acquires)
        kprintf("L %lx %s\n", (uintptr_t)lk, lk->name);
}

void trace_dump(const char *label)
{
    trace_stop(); /* first: from here on the console and registry locks are not traced */
    kprintf("TRACE-BEGIN v1 label=%s harts=%d timebase=%lu capacity=%d\n", label, ncpu,
            timer_timebase_hz(), TRACE_RING_EVENTS - 1);
    lockstat_foreach(print_lock_name, 0);
    for (int i = 0; i < NTHREAD; i++)
        if (threads[i].name[0]) /* unlocked: a name may be a moment old, never unsafe */
            kprintf("T %lx %s\n", (uintptr_t)&threads[i], threads[i].name);
    uint64_t kept = 0, dropped = 0;
    for (int cpu = 0; cpu < ncpu; cpu++) {
        struct trace_ring_info info; /* one snapshot: a late event must not shift the index */
        trace_ring_info(cpu, &info);
        for (uint64_t i = 0; i < info.kept; i++) {
            struct trace_event *e = kept_event(cpu, &info, i);
            kprintf("E %d %lu %s %lx %u\n", e->hart, e->time, trace_kind_name(e->kind), e->obj,
                    e->arg);
        }
        kprintf("H %d events=%lu dropped=%lu\n", cpu, info.kept, info.dropped);
        kept += info.kept;
        dropped += info.dropped;
        rings[cpu].base = info.head; /* printed: the next dump starts after it */
    }
    kprintf("TRACE-END events=%lu dropped=%lu\n", kept, dropped);
}
