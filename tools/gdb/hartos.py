"""Description: gdb commands that read hartos's own structures on a stopped machine, as
Linux's lx-ps does for Linux. build/gdbinit (from tools/gdbinit.in) sources this file.

  hartos-harts          every hart: hart id, online, thread, push_off depth, locks held
  hartos-threads        every thread: state, hart, pinning, switches, what it sleeps on
  hartos-locks          every registered lock, held ones first: holder, where it was
                        taken, who waits for it, acquires, spins, contentions,
                        bounces, type (tas or ticket)
  hartos-pmem           the page allocator's per-CPU free lists and counters
  hartos-bufs [CACHE]   every buffer of a buffer cache (default: the kernel's `bcache`)
  hartos-bt [THREAD]    backtrace of a thread (name or slot number), or of every thread

The commands find symbols (threads, cpus, the lock registry) and fields (struct
spinlock's `spins`, ...) by name in the kernel's debug info, so they stay right when a
structure grows or its fields move. When a field or symbol they need is gone, they stop
with one line naming it instead of printing numbers read from the wrong place.
They only read memory and registers: a kernel function called from gdb on a stopped
machine can wait forever for a lock that a frozen hart holds.
"""

import contextlib
import os
import re

import gdb

PAGE_SIZE = 4096  # a thread's stack is one page (mm/pmem.h: a macro, so not in the debug info)
BCACHE_NODEV = 0xFFFFFFFF  # dev of a buffer that never held a block (fs/bufcache.h, a macro too)
MAX_FRAMES = 64
TOP_FOLDERS = {"arch", "kernel", "mm", "fs", "drivers", "lib", "tests"}  # where source paths start
SOURCE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def source_macro(path, name):
    """A macro's value, read from the kernel's source next to this file (macros are not
    in the debug info), so that a changed PMEM_BATCH is read right too."""
    with open(os.path.join(SOURCE_ROOT, path)) as f:
        m = re.search(r"^#define %s\s+(0x[0-9a-fA-F]+|\d+)" % name, f.read(), re.M)
    if not m:
        raise Changed("%s no longer defines %s" % (path, name))
    return int(m.group(1), 0)


class Changed(Exception):
    """The kernel no longer has a symbol, type or field this script reads."""


def field(v, *names):
    """v.a.b... for a struct or a pointer to one; Changed names a missing field."""
    for name in names:
        t = v.type.strip_typedefs()
        if t.code == gdb.TYPE_CODE_PTR:
            v, t = v.dereference(), t.target().strip_typedefs()
        if t.code != gdb.TYPE_CODE_STRUCT or name not in [f.name for f in t.fields()]:
            raise Changed("%s has no field '%s'" % ("struct " + t.tag if t.tag else t, name))
        v = v[name]
    return v


def num(v, *names):
    return int(field(v, *names))


def sym(name, file=None):
    """A kernel variable (or expression); `file` for a static one: sym('nlists', 'pmem.c')."""
    try:
        return gdb.parse_and_eval("'%s'::%s" % (file, name) if file else name)
    except gdb.error:
        raise Changed("no symbol '%s'%s" % (name, " in " + file if file else ""))


def struct_type(name):
    try:
        return gdb.lookup_type("struct " + name)
    except gdb.error:
        raise Changed("no type 'struct %s'" % name)


def offset(type_name, name):
    fields = [f for f in struct_type(type_name).fields() if f.name == name]
    if not fields:
        raise Changed("struct %s has no field '%s'" % (type_name, name))
    return fields[0].bitpos // 8


def at(addr, type_name):
    """The struct at addr, read in one request to QEMU rather than one per field."""
    v = gdb.Value(addr).cast(struct_type(type_name).pointer()).dereference()
    v.fetch_lazy()
    return v


def u64(addr):
    return int.from_bytes(bytes(gdb.selected_inferior().read_memory(addr, 8)), "little")


def text(v):
    """A C string: a char array, or a char pointer (NULL gives '-')."""
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_ARRAY:
        raw = bytes(gdb.selected_inferior().read_memory(int(v.address), t.sizeof))
        return raw.split(b"\0")[0].decode(errors="replace")
    return v.string(errors="replace") if int(v) else "-"


def symbol(addr):
    """'name+off' of any address (code or data), '' if no symbol covers it."""
    out = gdb.execute("info symbol %#x" % addr, to_string=True).strip()
    return "" if out.startswith("No symbol") else out.split(" in section ")[0].replace(" + ", "+")


def is_code(addr):
    return "in section .text" in gdb.execute("info symbol %#x" % addr, to_string=True)


def in_kernel(pc):
    """kernel.ld's kernel_start/kernel_end have no debug info: hence the casts."""
    return int(sym("(unsigned long)&kernel_start")) <= pc < int(sym("(unsigned long)&kernel_end"))


def where(pc, return_address=True):
    """'func+off (dir/file.c:line)'. A return address is the instruction after a call:
    its function and line are the call's, found at pc - 1. (A call to a function that
    never returns, such as thread_exit, may be the last instruction of its caller, so
    the return address itself belongs to the next function in the image.)"""
    if not in_kernel(pc):
        return "%#x (outside the kernel: in OpenSBI, for an SBI call)" % pc
    look = pc - 1 if return_address else pc
    base, _, off = symbol(look).partition("+")
    offset = int(off or 0) + pc - look
    name = ("%s+%d" % (base, offset) if offset else base) if base else "%#x" % pc
    sal = gdb.find_pc_line(look)
    if sal.symtab:
        parts = sal.symtab.filename.split("/")
        top = max([i for i, p in enumerate(parts) if p in TOP_FOLDERS] or [len(parts) - 1])
        name += " (%s:%d)" % ("/".join(parts[top:]), sal.line)
    return name


# ---- The kernel's objects ----

def state(t):
    return str(field(t, "state")).replace("THREAD_", "").lower()  # THREAD_SLEEPING: sleeping


def thread_list():
    """[(slot, struct thread)] of the slots in use."""
    table = sym("threads")
    result = []
    for i in range(table.type.range()[1] + 1):
        t = table[i]
        t.fetch_lazy()
        if state(t) != "unused":
            result.append((i, t))
    return result


def thread_name(ptr):
    return text(field(ptr, "name")) if int(ptr) else "-"


def sleeplock_at(addr):
    """The struct sleeplock at addr, or None. sleeplock_init() gives a sleeplock and its
    inner spinlock the same name pointer, which nothing else is to be expected to match."""
    try:
        s = at(addr, "sleeplock")
        if not num(s, "name") or num(s, "name") != num(s, "lk", "name"):
            return None
        text(field(s, "name"))  # two equal words that point at no string: not a sleeplock
        return s
    except gdb.MemoryError:
        return None


def describe(addr, threads):
    """What a sleep channel points at: a thread (join), a sleeplock, a kernel variable."""
    for slot, t in threads:
        if int(t.address) == addr:
            return "thread %s (slot %d)" % (text(field(t, "name")), slot)
    s = sleeplock_at(addr)
    if s is not None:
        return "sleeplock %s (held by %s)" % (text(field(s, "name")), thread_name(field(s, "holder")))
    return symbol(addr) or "%#x" % addr


def push_depth(c):
    """A struct cpu's push_off depth: noff sits in an anonymous union with intena (one
    word, kernel/cpu.h), which field() cannot name, so gdb looks it up itself."""
    try:
        return int(c["noff"])
    except gdb.error:
        raise Changed("struct cpu has no field 'noff'")


def spin_state(v):
    """(held, holder cpu or -1) of a struct spinlock (kernel/spinlock.h): a ticket lock
    is held while owner != next and names its holder in cpu; a test-and-set lock is
    held while bit 0 of locked is set, its holder in cpu (Debug) or in the bits above
    (the holder's struct cpu address >> SPINLOCK_HOLDER_SHIFT, with bit 0 and
    SPINLOCK_KICK masked off: kernel/spinlock.h)."""
    if num(v, "kind") != 0:
        held = num(v, "owner") != num(v, "next")
        return held, num(v, "cpu") if held else -1
    word = num(v, "locked")
    if not word & 1:
        return False, -1
    cpu = num(v, "cpu")
    if cpu >= 0:
        return True, cpu
    word &= ~(source_macro("kernel/spinlock.h", "SPINLOCK_KICK") | 1)  # a halted waiter's flag
    address = word << source_macro("kernel/spinlock.h", "SPINLOCK_HOLDER_SHIFT")
    return True, (address - int(gdb.parse_and_eval("&cpus[0]"))) // struct_type("cpu").sizeof


def locks():
    """Every lock in the registry of kernel/spinlock.c, as a dict."""
    result, lk = [], int(sym("registry", "spinlock.c"))
    while lk:
        v = at(lk, "spinlock")
        held, cpu = spin_state(v)
        result.append(dict(addr=lk, name=text(field(v, "name")), locked=held, cpu=cpu,
                           pc=num(v, "pc"), acquires=num(v, "acquires"), spins=num(v, "spins"),
                           contentions=num(v, "contentions"), bounces=num(v, "bounces"),
                           type="ticket" if num(v, "kind") else "tas",
                           sleeplock=sleeplock_at(lk - offset("sleeplock", "lk"))))
        lk = num(v, "next_registered")
        if len(result) > 100000:
            raise gdb.error("the lock registry does not end (a corrupt next_registered?)")
    return result


@contextlib.contextmanager
def selection_kept():
    """Puts gdb's selected thread and frame back afterwards (the user's `thread N`)."""
    thread, frame = gdb.selected_thread(), gdb.selected_frame()
    try:
        yield
    finally:
        thread.switch()
        frame.select()


def harts():
    """{logical cpu: dict(gdb thread, pc, the lock it spins on in acquire() or 0)}.
    QEMU numbers its gdb threads by CPU index + 1; on virt the CPU index is the hart id."""
    cpus, by_hart, result = sym("cpus"), {}, {}
    for th in gdb.selected_inferior().threads():
        by_hart[th.ptid[1] - 1] = th
    with selection_kept():
        for i in range(int(sym("ncpu"))):
            th = by_hart.get(num(cpus[i], "hartid"))
            if th is None:
                continue
            th.switch()
            frames, frame = [], gdb.newest_frame()
            while frame is not None and len(frames) < 8:  # acquire() and what it calls to spin (inlined ones count)
                frames.append(frame)
                frame = frame.older()
            names = [f.name() for f in frames]
            spinning = lock_argument(frames[:names.index("acquire") + 1]) if "acquire" in names else 0
            result[i] = dict(gdb=th.num, pc=gdb.newest_frame().pc(), spinning=spinning)
    return result


def lock_argument(frames):
    """The struct spinlock * called lk in the newest of these frames that has one (at -Og
    it may survive only as its value at function entry, lk@entry)."""
    for frame in frames:
        frame.select()
        for expr in ("lk", "lk@entry"):
            try:
                v = gdb.parse_and_eval(expr)
                t = v.type.strip_typedefs()
                if t.code == gdb.TYPE_CODE_PTR and t.target().strip_typedefs().tag == "spinlock":
                    return int(v)
            except gdb.error:
                pass
    return 0


# ---- The commands ----

class HartosCommand(gdb.Command):
    """A command whose run(arg) returns its lines; whatever goes wrong becomes one error line."""

    def __init__(self, name):
        super().__init__(name, gdb.COMMAND_USER)
        self.name = name

    def invoke(self, arg, from_tty):
        if not gdb.objfiles():
            raise gdb.GdbError("%s: no kernel symbols: `file build/hartos.elf` first" % self.name)
        if gdb.selected_inferior().pid == 0:
            raise gdb.GdbError("%s: no kernel to read: attach first (`target remote ...`)" % self.name)
        try:
            lines = self.run(arg.strip())
        except Changed as e:
            raise gdb.GdbError("%s: %s (the kernel changed; update tools/gdb/hartos.py)" % (self.name, e))
        except gdb.error as e:
            raise gdb.GdbError("%s: %s" % (self.name, e))
        gdb.write("\n".join(lines) + "\n")


class Harts(HartosCommand):
    """Every hart: its thread, the spinlocks it holds, where it is.
Usage: hartos-harts
Per hart: logical id, hart id, online, gdb thread, push_off depth (noff), the thread it
runs, the spinlocks it holds, where it is and the lock it spins on, if any."""

    def __init__(self):
        super().__init__("hartos-harts")

    def run(self, arg):
        if int(sym("ncpu")) == 0:
            raise gdb.error("the kernel has not started its harts yet (ncpu is 0): continue first")
        cpus, all_locks, live = sym("cpus"), locks(), harts()
        names = {d["addr"]: d["name"] for d in all_locks}
        holder = {d["addr"]: d["cpu"] for d in all_locks if d["locked"]}
        fmt = "%-4s %-5s %-7s %-4s %-5s %-16s %-24s %s"
        lines = [fmt % ("cpu", "hart", "online", "gdb", "noff", "thread", "locks held", "at")]
        for i in range(int(sym("ncpu"))):
            c, h = cpus[i], live.get(i)
            held = ",".join(d["name"] for d in all_locks if d["locked"] and d["cpu"] == i)
            at_pc = where(h["pc"], False) if h else "-"
            if h and holder.get(h["spinning"], i) != i:  # not one it has or is about to get
                at_pc += "; spinning on %s" % names[h["spinning"]]
            lines.append(fmt % (num(c, "id"), num(c, "hartid"), "yes" if num(c, "online") else "no",
                                h["gdb"] if h else "-", push_depth(c),
                                thread_name(field(c, "thread")), held or "-", at_pc))
        return lines


class Threads(HartosCommand):
    """Every thread: state, hart, what it sleeps on.
Usage: hartos-threads
Per thread in use: slot, name, state, the hart it runs or last ran on, the hart it is
pinned to, switches, and what it sleeps on (a thread it joins, a sleeplock, a variable)."""

    def __init__(self):
        super().__init__("hartos-threads")

    def run(self, arg):
        threads = thread_list()
        fmt = "%-4s %-16s %-9s %-4s %-4s %9s  %s"
        lines = [fmt % ("slot", "name", "state", "cpu", "pin", "switches", "sleeps on")]
        for slot, t in threads:
            pin, chan = num(t, "pinned_cpu"), num(t, "chan") if state(t) == "sleeping" else 0
            lines.append(fmt % (slot, text(field(t, "name")), state(t), num(t, "cpu"),
                                "any" if pin < 0 else pin, num(t, "switches"),
                                describe(chan, threads) if chan else "-"))
        return lines


class Locks(HartosCommand):
    """Every registered lock, held ones first: holder, where taken, who waits.
Usage: hartos-locks
Per lock, held ones first, then by spins: kind (spin, or sleep for a sleeplock's inner
spinlock), holder (cpuN; for a sleeplock the thread), acquires, spins, contentions
(acquires that found it taken), bounces (acquires on another hart than the last
holder), type (tas: test-and-set, ticket: fair), where a held spinlock was taken, which harts spin on it, which threads wait for it. Locks never
acquired are summed up by name on the last line."""

    def __init__(self):
        super().__init__("hartos-locks")

    def run(self, arg):
        all_locks, threads, live, cpus = locks(), thread_list(), harts(), sym("cpus")
        fmt = "%-20s %-5s %-12s %10s %10s %10s %10s %-6s  %s"
        rows, unused = [], {}
        for d in all_locks:
            s, held, holder, notes = d["sleeplock"], d["locked"], "-", []
            if d["locked"]:
                holder = "cpu%d" % d["cpu"] if d["cpu"] >= 0 else "?"  # acquire() sets cpu after taking it
                notes.append("taken at " + where(d["pc"]) if d["pc"] else "being taken or released")
                spinning = ["cpu%d (%s)" % (i, thread_name(field(cpus[i], "thread")))
                            for i, h in sorted(live.items()) if h["spinning"] == d["addr"] and i != d["cpu"]]
                notes += ["spinning: " + ", ".join(spinning)] if spinning else []
            if s is not None and num(s, "locked"):
                held, holder = True, thread_name(field(s, "holder"))
                waiting = [text(field(t, "name")) for _, t in threads
                           if state(t) == "sleeping" and num(t, "chan") == int(s.address)]
                notes.insert(0, "waiting: " + (", ".join(waiting) or "-"))
            if not held and d["acquires"] == 0:
                unused[d["name"]] = unused.get(d["name"], 0) + 1
                continue
            line = fmt % (d["name"], "sleep" if s is not None else "spin", holder, d["acquires"],
                          d["spins"], d["contentions"], d["bounces"], d["type"], "; ".join(notes))
            rows.append((not held, -d["spins"], -d["acquires"], line.rstrip()))
        lines = [fmt % ("lock", "kind", "holder", "acquires", "spins", "contended", "bounces",
                        "type", "taken at / waiting")]
        lines += [r[-1] for r in sorted(rows)]
        if unused:
            lines.append("never acquired (%d): %s" % (sum(unused.values()), summary(unused)))
        return lines


def summary(counts):
    """'bcache.buf x64, runq.cpu3..7, thread.4..63' for {lock name: how many}."""
    numbered, words = {}, []
    for name, k in counts.items():
        m = re.match(r"^(.*?)(\d+)$", name)
        if m and k == 1:
            numbered.setdefault(m.group(1), []).append(int(m.group(2)))
        else:
            words.append(name if k == 1 else "%s x%d" % (name, k))
    for prefix, ns in numbered.items():
        ns.sort()
        start = 0
        for i in range(len(ns)):
            if i + 1 == len(ns) or ns[i + 1] != ns[i] + 1:  # the end of a run of numbers
                words.append(prefix + str(ns[start]) + (".." + str(ns[i]) if i > start else ""))
                start = i + 1
    return ", ".join(sorted(words))


def list_pages(c):
    """Pages on one pmem list, as list_pages() in mm/pmem.c counts them: a list that keeps
    a count (the lab's starter) has `nfree`; the chunked lists have full chunks plus the
    partial chunk's pages: PMEM_BATCH less the room left, kept in the low bits of
    `part`."""
    names = [f.name for f in c.type.strip_typedefs().fields()]
    if "nfree" in names:
        return num(c, "nfree")
    batch = source_macro("mm/pmem.h", "PMEM_BATCH")
    return num(c, "nfull") * batch + batch - (num(c, "part") & source_macro("mm/pmem.c", "PART_ROOM"))


class Pmem(HartosCommand):
    """The page allocator's per-CPU free lists and counters.
Usage: hartos-pmem
For each CPU's list (mm/pmem.c) the counters pmem_stats_print() prints, in its order,
and who holds the list's lock; then the free pages in total."""

    def __init__(self):
        super().__init__("hartos-pmem")

    def run(self, arg):
        lists, n = sym("pmem_cpus", "pmem.c"), int(sym("nlists", "pmem.c"))
        if n == 0:
            raise gdb.error("pmem_init() has not run yet (nlists is 0): continue first")
        fmt = "%-5s %10s %10s %8s %8s %8s %10s %12s %10s %11s %10s  %s"
        lines = [fmt % ("cpu", "allocs", "frees", "steals", "stolen", "robbed", "free",
                        "acquires", "spins", "contentions", "bounces", "lock")]
        total = stolen = robbed = 0
        for i in range(n):
            c = lists[i]
            c.fetch_lazy()
            lock = field(c, "lock")
            free = list_pages(c)
            lines.append(fmt % (i, num(c, "allocs"), num(c, "frees"), num(c, "steals"),
                                num(c, "stolen"), num(c, "robbed"), free,
                                num(lock, "acquires"), num(lock, "spins"),
                                num(lock, "contentions"), num(lock, "bounces"),
                                "held by cpu%d" % spin_state(lock)[1] if spin_state(lock)[0] else "free"))
            total, stolen, robbed = total + free, stolen + num(c, "stolen"), robbed + num(c, "robbed")
        lines.append("total: %d free pages on %d lists; %d pages stolen, %d robbed%s" % (
            total, n, stolen, robbed, "" if stolen == robbed else " (a batch is between two lists)"))
        return lines


class Bufs(HartosCommand):
    """Every buffer of a buffer cache: block, refcnt, lock, bucket.
Usage: hartos-bufs [CACHE]
CACHE: a struct bcache (fs/bufcache.c), by default the kernel's bcache; a test's cache:
hartos-bufs 'test_bufcache.c'::tcache. Per buffer: device, block, refcnt, valid, its
sleeplock (free, or the thread holding it) and the bucket whose list it is on."""

    def __init__(self):
        super().__init__("hartos-bufs")

    def run(self, arg):
        c = gdb.parse_and_eval(arg) if arg else sym("bcache")
        nbuf, table, buckets = num(c, "nbuf"), field(c, "bufs"), field(c, "buckets")
        if nbuf == 0:
            raise gdb.error("%s is not initialised yet (nbuf is 0)" % (arg or "bcache"))
        link, nbuckets = offset("buf", "link"), buckets.type.range()[1] + 1
        bucket_of = {}  # buffer address -> the bucket whose list holds it
        for k in range(nbuckets):
            head = field(buckets[k], "list")
            node, steps = num(head, "next"), 0
            while node != int(head.address):
                bucket_of[node - link] = k
                node, steps = num(at(node, "list_node"), "next"), steps + 1
                if steps > nbuf:
                    raise gdb.error("bucket %d's list does not end (corrupt?)" % k)
        evict = field(c, "evict_lock")
        lines = ["%s: %d buffers in %d buckets, CLOCK hand at %d, eviction lock %s" % (
            text(field(c, "name")), nbuf, nbuckets, num(c, "hand"),
            "held by cpu%d" % spin_state(evict)[1] if spin_state(evict)[0] else "free")]
        fmt = "%-4s %-5s %8s %6s %5s %-18s %s"
        lines.append(fmt % ("buf", "dev", "block", "refcnt", "valid", "lock", "bucket"))
        for i in range(nbuf):
            b = table[i].dereference()
            b.fetch_lazy()
            dev, lock = num(b, "dev"), field(b, "lock")
            lines.append(fmt % (i, "-" if dev == BCACHE_NODEV else dev, num(b, "blockno"),
                                num(b, "refcnt"), num(b, "valid"),
                                "held by " + thread_name(field(lock, "holder")) if num(lock, "locked") else "free",
                                bucket_of.get(int(b.address), "none (being evicted)")))
        return lines


class Backtrace(HartosCommand):
    """Backtrace of a thread, running or not.
Usage: hartos-bt [THREAD]
THREAD: a name (every thread of that name) or a slot number; without it, every thread.
A running thread's comes from its hart's registers; any other's from the registers it
saved when it switched out (struct context: ra, sp, s0), following the frame pointers
(the kernel keeps them): ra at fp-8, the caller's fp at fp-16."""

    def __init__(self):
        super().__init__("hartos-bt")

    def run(self, arg):
        threads, cpus, ncpu = thread_list(), sym("cpus"), int(sym("ncpu"))
        chosen = [(s, t) for s, t in threads if arg in ("", str(s), text(field(t, "name")))]
        if not chosen:
            raise gdb.error("no thread named '%s' (hartos-threads lists them)" % arg if arg
                            else "no threads yet")
        lines, live = [], harts()
        for slot, t in chosen:
            name, cpu = "%s (slot %d)" % (text(field(t, "name")), slot), num(t, "cpu")
            if state(t) == "running" and cpu in live and num(cpus[cpu], "thread") == int(t.address):
                lines.append("%s: running on cpu %d (gdb thread %d), from its hart's registers:"
                             % (name, cpu, live[cpu]["gdb"]))
                frames, note = self.running(live[cpu]["gdb"], num(t, "stack"))
            elif num(t, "switches") == 0:
                lines.append("%s: not started yet; its first switch enters %s"
                             % (name, where(num(t, "context", "ra"), False)))
                continue
            else:
                lines.append("%s: %s, from its saved context:" % (name, state(t)))
                if spin_state(field(t, "lock"))[0]:
                    lines.append("    (its lock is held by cpu%d: it may be switching right now, "
                                 "and the saved registers may be stale)" % spin_state(field(t, "lock"))[1])
                # The saved ra is in sched_switch_out, which called context_switch; s0 is its fp.
                frames, note = walk([(num(t, "context", "ra"), True)],
                                    int(field(t, "context", "s")[0]), num(t, "stack"))
            lines += ["    #%-2d %#x in %s" % (i, pc, where(pc, ret)) for i, (pc, ret) in enumerate(frames)]
            lines += ["    (%s)" % note] if note else []
        return lines

    def running(self, gdb_thread, stack):
        """gdb's own unwinder (it also knows frames without a frame pointer, from the DWARF
        info) as far as trap_vector, where it stops; beyond that, the trap frame and walk()."""
        with selection_kept():
            [th for th in gdb.selected_inferior().threads() if th.num == gdb_thread][0].switch()
            frame, frames = gdb.newest_frame(), []
            if not in_kernel(frame.pc()):
                return [], ("the hart is at %#x, outside the kernel: in OpenSBI, for an SBI "
                            "call; `continue` and stop again" % frame.pc())
            while frame is not None and len(frames) < MAX_FRAMES:
                if frame.type() != gdb.INLINE_FRAME:  # an inlined call shares its caller's pc
                    frames.append((frame.pc(), bool(frames)))
                    if frame.name() == "thread_start":
                        return frames, ""
                    if frame.name() == "trap_vector":
                        if frame == gdb.newest_frame():  # still entering: registers are live
                            pc, fp, ra = [int(frame.read_register(r)) for r in ("sepc", "s0", "ra")]
                        else:  # the trap frame sits at trap_vector's sp (trapvec.S)
                            f = at(int(frame.read_register("sp")), "trap_frame")
                            pc, fp, ra = num(f, "sepc"), int(field(f, "regs")[8]), int(field(f, "regs")[1])
                        return walk(frames + [(pc, False)], fp, stack, ra)
                frame = frame.older()
            return frames, "gdb could not unwind further"


def walk(frames, fp, stack, leaf_ra=None):
    """Adds the callers of frames[-1], whose frame pointer is fp, going up the thread's
    stack page. leaf_ra: the ra register of an interrupted function; if that is a leaf
    function, it saved only s0 (at fp-8) and its return address is still in ra."""
    while len(frames) < MAX_FRAMES:
        if not stack < fp <= stack + PAGE_SIZE or fp % 8:
            return frames, "frame pointer %#x is outside the thread's stack page: the chain ends" % fp
        ra, caller_fp = u64(fp - 8), u64(fp - 16)
        if not is_code(ra):
            if leaf_ra is None:
                return frames, "no return address at %#x: the chain ends" % (fp - 8)
            ra, caller_fp = leaf_ra, ra
        leaf_ra = None
        if caller_fp == 0:
            return frames, ""  # thread_start, the thread's first function: its saved ra is no call
        frames.append((ra, True))
        if symbol(ra).startswith("trap_vector+"):
            # trap_handler's frame pointer is the trap frame (trapvec.S passes a0 = sp): the
            # interrupted function is in sepc, its frame pointer in s0 (x8), its ra in x1.
            f = at(fp, "trap_frame")
            frames.append((num(f, "sepc"), False))
            caller_fp, leaf_ra = int(field(f, "regs")[8]), int(field(f, "regs")[1])
        if caller_fp <= fp:
            return frames, "the frame chain goes back down the stack at %#x: it ends" % fp
        fp = caller_fp
    return frames, "more than %d frames" % MAX_FRAMES


for command in (Harts, Threads, Locks, Pmem, Bufs, Backtrace):
    command()
