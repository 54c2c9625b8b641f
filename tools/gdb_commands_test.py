#!/usr/bin/env python3
"""Description: check the hartos gdb commands (tools/gdb/hartos.py) on a live kernel: the
CTest tests gdb_commands@smpN, gdb_deadlock@smpN and gdb_deadlock_spin@smpN.

Starts QEMU paused with a gdb server on a free port, and gdb-multiarch reading commands
from a pipe, with the `source` lines of the generated gdbinit. gdb continues the kernel;
when the console shows the scenario's marker, the driver sends gdb SIGINT (a student's
Ctrl-C), runs the hartos-* commands and checks what they print against what the kernel
itself printed on the console and against the same structures read with plain gdb
expressions (no hartos.py involved). No kernel function is ever called.

Scenarios:
  stress         ktest=pmem,hang_watchdog. Stop 1 lands in the middle of the pmem stress:
                 every command must print consistent tables. Stop 2 is in hang_watchdog,
                 where nothing allocates any more: hartos-pmem must equal the table the pmem
                 suite printed last. Also: a renamed field or symbol (simulated by
                 wrapping the script's lookups) must give one clear error line.
  deadlock       ktest=hang_deadlock (tests/test_deadlock.c): both threads asleep on each
                 other's sleeplock; hartos-locks names both locks and holders, hartos-bt
                 shows each thread in acquiresleep() on its second lock.
  deadlock_spin  ktest=hang_deadlock_spin: two harts spinning in acquire() on each other's
                 spinlock (needs 2 harts).
QEMU and gdb are killed when --timeout runs out, whatever happens. The gdb transcript and
the console go to --log. Standard library only. Exit status: 0 pass, 1 fail.
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time

# Kernel command line, and the console lines to stop at: (regexes that must all have
# appeared, seconds to let the kernel run on before the interrupt).
SCENARIOS = {
    "stress": ("ktest=pmem,hang_watchdog ktest.timeout=60",
               [([r"# Subtest: pmem"], 0.3), ([r"# Subtest: hang_watchdog"], 0.3)]),
    "deadlock": ("ktest=hang_deadlock ktest.timeout=60",
                 [([r"deadlock: deadlock_a and deadlock_b are both asleep"], 0.1)]),
    "deadlock_spin": ("ktest=hang_deadlock_spin ktest.timeout=60 lock.stuck_ms=0",
                      [([r"deadlock: deadlock_a holds", r"deadlock: deadlock_b holds"], 0.3)]),
}
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def source_macro(path, name):
    """A macro of the kernel's source (gdb cannot print macros without -g3)."""
    with open(os.path.join(ROOT, path)) as f:
        return int(re.search(r"^#define %s\s+(0x[0-9a-fA-F]+|\d+)" % name, f.read(), re.M).group(1), 0)


PMEM_BATCH, PART_ROOM = source_macro("mm/pmem.h", "PMEM_BATCH"), source_macro("mm/pmem.c", "PART_ROOM")
COMMANDS = ["hartos-harts", "hartos-threads", "hartos-locks", "hartos-pmem", "hartos-bufs",
            "hartos-bt"]

# Plain gdb reading the same structures, for the cross-checks ("raw-..." lines).
RAW = r"""printf "raw-ncpu %d\n", ncpu
printf "raw-nlists %d\n", 'pmem.c'::nlists
set $i = 0
while $i < 'pmem.c'::nlists
  printf "raw-pmem %d %lu %lu\n", $i, 'pmem.c'::pmem_cpus[$i].nfull, 'pmem.c'::pmem_cpus[$i].part
  set $i = $i + 1
end
set $i = 0
while $i < sizeof(threads) / sizeof(threads[0])
  if threads[$i].state != THREAD_UNUSED
    printf "raw-thread %d %s\n", $i, threads[$i].name
  end
  set $i = $i + 1
end
set $l = 'spinlock.c'::registry
while $l
  printf "raw-lock %s %d %d %lu %lu\n", $l->name, $l->kind ? $l->owner != $l->next : $l->locked & 1, $l->cpu, $l->acquires, $l->spins
  set $l = $l->next_registered
end
printf "raw-nbuf %d\n", bcache.nbuf
"""

# The kernel changing shape, simulated: every lookup of field `spins` (or of the symbol
# pmem_cpus) gets a new name, as if someone had renamed it in the C code.
RENAMES = r"""python _field, _sym = field, sym
python field = lambda v, *names: _field(v, *["spinz" if n == "spins" else n for n in names])
hartos-locks
python field = _field
python sym = lambda name, file=None: _sym("pmem_cpuz" if name == "pmem_cpus" else name, file)
hartos-pmem
python sym = _sym
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def kill_group(proc):
    if proc is not None and proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()


def read(path) -> str:
    with open(path, errors="replace") as f:
        return f.read().replace("\r", "")


def block(name, commands) -> str:
    """gdb input that runs commands behind an @@name marker line. No empty lines: for
    gdb an empty line repeats the last command."""
    return "echo @@%s\\n\n%s\n" % (name, commands.strip("\n"))


def stop_commands(n, scenario) -> str:
    """What gdb runs at stop n: every command, the raw reads, and per scenario a few more."""
    text = "".join(block("%d %s" % (n, c), c) for c in COMMANDS)
    text += block("%d raw" % n, RAW)
    if scenario != "stress" or n == 1:
        text += block("%d bt-missing" % n, "hartos-bt no_such_thread")
    if scenario == "stress" and n == 1:
        text += block("1 renamed", RENAMES)
    if scenario == "stress" and n == 2:
        text += block("2 bt-ktest", "hartos-bt ktest") + block("2 bt-watchdog", "hartos-bt ktest.watchdog")
    if scenario.startswith("deadlock"):
        text += block("%d bt-a" % n, "hartos-bt deadlock_a") + block("%d bt-b" % n, "hartos-bt deadlock_b")
    return text


def run(args, log_lines):
    """Boots, stops at each marker, runs the commands; returns (gdb transcript, console, problems)."""
    append, stops = SCENARIOS[args.scenario]
    base = os.path.splitext(args.log)[0]
    console_path, gdb_path = base + ".console", base + ".gdb"
    deadline = time.monotonic() + args.timeout
    qemu = gdb = None
    problems = []
    try:
        for _ in range(3):  # the port may be taken between free_port() and QEMU binding it
            port = free_port()
            qcmd = [args.qemu, "-machine", "virt", "-nographic", "-bios", args.bios,
                    "-kernel", args.kernel, "-smp", str(args.smp), "-m", args.mem,
                    "-append", append, "-S", "-gdb", "tcp::%d" % port]
            with open(console_path, "w") as console:
                qemu = subprocess.Popen(qcmd, stdin=subprocess.DEVNULL, stdout=console,
                                        stderr=subprocess.STDOUT, start_new_session=True)
            time.sleep(0.3)
            if qemu.poll() is None:
                break
        else:
            return "", read(console_path), ["QEMU did not start"]
        log_lines.append("# qemu: " + " ".join(qcmd))
        with open(gdb_path, "w") as out:
            gdb = subprocess.Popen([args.gdb, "-q", "-nx"], stdin=subprocess.PIPE, stdout=out,
                                   stderr=subprocess.STDOUT, universal_newlines=True,
                                   start_new_session=True)
        sources = [l for l in read(args.gdbinit).splitlines() if l.startswith("source ")]
        if not sources:
            problems.append("%s has no `source` line: hartos.py is not loaded" % args.gdbinit)
        setup = ["set pagination off", "set confirm off", "set width 0", "set height 0",
                 "set architecture riscv:rv64", "file " + args.kernel] + sources + [
                 "target remote localhost:%d" % port]
        gdb.stdin.write("\n".join(setup) + "\necho @@running 1\\n\ncontinue\n")
        gdb.stdin.flush()
        for n, (markers, settle) in enumerate(stops, 1):
            # Interrupt only while gdb is in `continue` and the console shows the markers.
            while not ("@@running %d" % n in read(gdb_path)
                       and all(re.search(m, read(console_path), re.M) for m in markers)):
                if qemu.poll() is not None:
                    return read(gdb_path), read(console_path), [
                        "QEMU exited (status %s) before the console showed %s" % (qemu.returncode, markers)]
                if time.monotonic() > deadline:
                    return read(gdb_path), read(console_path), [
                        "TIMEOUT after %g s waiting for %s on the console" % (args.timeout, markers)]
                time.sleep(0.05)
            time.sleep(settle)
            os.kill(gdb.pid, signal.SIGINT)
            text = stop_commands(n, args.scenario)
            if n < len(stops):
                text += "echo @@running %d\\n\ncontinue\n" % (n + 1)
            gdb.stdin.write(text)
            gdb.stdin.flush()
        gdb.stdin.write("echo @@end\\n\nkill\nquit\n")
        gdb.stdin.close()
        try:
            gdb.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            problems.append("TIMEOUT after %g s: gdb did not finish the commands" % args.timeout)
    finally:
        kill_group(gdb)
        kill_group(qemu)
    return read(gdb_path), read(console_path), problems


# ---- Reading the transcript ----

def sections(transcript):
    """{'1 hartos-locks': its output lines} from the @@ markers; gdb's prompts removed
    ("(gdb) ", and " >" inside a while loop)."""
    result, current = {}, None
    for line in transcript.splitlines():
        line = re.sub(r"^(?:\(gdb\) |\s*>)+\s*", "", line)
        m = re.match(r"^@@(.*)$", line)
        if m:
            current = m.group(1)
            result[current] = []
        elif current is not None:
            result[current].append(line)
    return result


def rows(lines):
    """A table's rows (after its header line) as lists of words."""
    return [l.split() for l in lines[1:] if l.strip()]


def bt_blocks(lines):
    """{thread name: lines of its hartos-bt block}."""
    result, name = {}, None
    for line in lines:
        m = re.match(r"^(\S+) \(slot \d+\): ", line)
        if m:
            name = m.group(1)
            result.setdefault(name, [])
        if name:
            result[name].append(line)
    return result


def source_line(path, needle):
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if needle in line:
                return i
    return -1


class Checker:
    def __init__(self, sec, console, smp):
        self.sec, self.console, self.smp, self.problems = sec, console, smp, []
        # One pmem list per hart, or one for a single-list allocator (the lab's starter):
        # the kernel says which at boot.
        m = re.search(r"pmem: \d+ pages .* on (\d+) lists", console)
        self.nlists = int(m.group(1)) if m else smp

    def expect(self, ok, what):
        if not ok:
            self.problems.append(what)
        return ok

    def common(self, n):
        """What every stop must show, whatever the kernel is doing."""
        s = lambda c: self.sec.get("%d %s" % (n, c), [])
        for c in COMMANDS:
            out = "\n".join(s(c))
            self.expect(s(c) and not re.search(r"^hartos-\S+: |Traceback|Python Exception", out, re.M),
                        "stop %d: %s failed or printed nothing:\n%s" % (n, c, out[-1500:]))
        raw = [l.split() for l in s("raw")]
        raw_of = lambda kind: [r[1:] for r in raw if r and r[0] == "raw-" + kind]
        ncpu = int(raw_of("ncpu")[0][0]) if raw_of("ncpu") else -1
        self.expect(ncpu == self.smp, "stop %d: raw ncpu %d, expected %d" % (n, ncpu, self.smp))

        harts = rows(s("hartos-harts"))
        self.expect(len(harts) == self.smp, "stop %d: hartos-harts shows %d harts" % (n, len(harts)))
        boot = re.search(r"booting on hart (\d+)", self.console)
        self.expect(sorted(int(r[1]) for r in harts) == list(range(self.smp))
                    and all(r[2] == "yes" and r[3] == str(int(r[1]) + 1) for r in harts)
                    and boot and harts[0][1] == boot.group(1),
                    "stop %d: hartos-harts: hart ids, online or gdb threads wrong (boot hart %s):\n%s"
                    % (n, boot and boot.group(1), "\n".join(s("hartos-harts"))))

        threads = {r[1]: r for r in rows(s("hartos-threads"))}
        raw_threads = sorted((int(r[0]), r[1]) for r in raw_of("thread"))
        self.expect(sorted((int(r[0]), r[1]) for r in threads.values()) == raw_threads,
                    "stop %d: hartos-threads slots/names differ from threads[]: %s" % (n, raw_threads))
        self.expect("ktest" in threads and threads["ktest"][4] == "0" and "ktest.watchdog" in threads,
                    "stop %d: hartos-threads lacks ktest (pinned to 0) or ktest.watchdog" % n)

        locks = s("hartos-locks")
        table = [r for r in rows(locks) if not r[0].startswith("never")]
        never = " ".join(l for l in locks if l.startswith("never acquired"))
        never_names = set()
        for word in re.split(r"[:,]\s*", never)[1:]:  # "runq.cpu3..7" is runq.cpu3 to runq.cpu7
            m = re.match(r"^(.*?)(\d+)\.\.(\d+)$", word)
            never_names |= {m.group(1) + str(i) for i in range(int(m.group(2)), int(m.group(3)) + 1)} \
                if m else {word.split(" x")[0]}
        raw_locks = raw_of("lock")
        for name in ["pmem.cpu%d" % i for i in range(self.nlists)] + ["runq.cpu0", "thread.0"]:
            self.expect(any(r[0] == name for r in table) or name in never_names,
                        "stop %d: hartos-locks does not list %s" % (n, name))
        shown = sorted((r[0], r[3], r[4]) for r in table)
        expected = sorted((r[0], r[3], r[4]) for r in raw_locks if r[3] != "0" or r[1] == "1")
        self.expect(shown == expected,
                    "stop %d: hartos-locks (name, acquires, spins) differ from the registry:\n%s\nvs\n%s"
                    % (n, shown, expected))
        m = re.search(r"never acquired \((\d+)\)", never)
        self.expect(len(table) + (int(m.group(1)) if m else 0) == len(raw_locks),
                    "stop %d: hartos-locks shows %d locks, the registry has %d" % (n, len(table), len(raw_locks)))

        pmem = s("hartos-pmem")
        nlists = int(raw_of("nlists")[0][0]) if raw_of("nlists") else -1
        prow = [r for r in rows(pmem) if r[0].isdigit()]
        self.expect(len(prow) == nlists == self.nlists, "stop %d: hartos-pmem: %d lists, nlists %d"
                    % (n, len(prow), nlists))
        # mm/pmem.c's list_pages(): full chunks plus the partial chunk's pages, PMEM_BATCH
        # less the room left in the low bits of `part`.
        raw_free = [str(int(r[1]) * PMEM_BATCH + PMEM_BATCH - (int(r[2]) & PART_ROOM))
                    for r in raw_of("pmem")]
        self.expect([r[6] for r in prow] == raw_free,
                    "stop %d: hartos-pmem free pages differ from pmem_cpus[]'s nfull and part" % n)
        total = re.search(r"^total: (\d+) free pages", "\n".join(pmem), re.M)
        pages = re.search(r"pmem: (\d+) pages", self.console)
        self.expect(total and int(total.group(1)) == sum(int(r[6]) for r in prow)
                    and pages and int(total.group(1)) <= int(pages.group(1)),
                    "stop %d: hartos-pmem total wrong (boot: %s pages)" % (n, pages and pages.group(1)))

        bufs = s("hartos-bufs")
        head = re.match(r"bcache: (\d+) buffers in (\d+) buckets", bufs[0] if bufs else "")
        brows = rows(bufs[1:])
        nbuf = raw_of("nbuf")[0][0] if raw_of("nbuf") else "?"
        self.expect(head and head.group(1) == nbuf and len(brows) == int(nbuf),
                    "stop %d: hartos-bufs shows %d buffers, bcache.nbuf is %s" % (n, len(brows), nbuf))
        if head:  # bcache_bucket_of() in fs/bufcache.h
            for r in brows:
                dev = 0xFFFFFFFF if r[1] == "-" else int(r[1])
                self.expect(r[-1] == str((int(r[2]) + dev * 7) % int(head.group(2))),
                            "stop %d: hartos-bufs: buffer %s is in the wrong bucket: %s" % (n, r[0], r))

        bts = bt_blocks(s("hartos-bt"))
        self.expect(sorted(bts) == sorted(threads), "stop %d: hartos-bt covers %s, threads are %s"
                    % (n, sorted(bts), sorted(threads)))
        for name, lines in bts.items():
            body = "\n".join(lines)
            if "from its saved context" in lines[0] and "may be stale" not in body and \
                    "not started" not in body:
                self.expect(re.search(r"#0 +0x\w+ in sched_switch_out\+", body)
                            and re.search(r" in thread_start\+\d+ \(kernel/thread\.c:\d+\)\s*$", body),
                            "stop %d: hartos-bt %s: not a chain from sched_switch_out to "
                            "thread_start:\n%s" % (n, name, body))
        self.expect(not self.sec.get("%d bt-missing" % n) or
                    "hartos-bt: no thread named 'no_such_thread'" in "\n".join(self.sec["%d bt-missing" % n]),
                    "stop %d: hartos-bt of an unknown thread did not say so" % n)
        return threads, table

    def stress(self):
        self.common(1)
        renamed = "\n".join(self.sec.get("1 renamed", []))
        for msg in ("hartos-locks: struct spinlock has no field 'spinz' (the kernel changed; "
                    "update tools/gdb/hartos.py)",
                    "hartos-pmem: no symbol 'pmem_cpuz' in pmem.c (the kernel changed; "
                    "update tools/gdb/hartos.py)"):
            self.expect(msg in renamed, "a renamed field/symbol did not give %r:\n%s" % (msg, renamed))
        threads, table = self.common(2)
        # The pmem suite printed its counters last (own_lists_never_spin); nothing has
        # allocated or freed since, so the tables must be equal, column for column.
        printed = re.findall(r"^cpu +allocs +frees .*\n((?:\d+(?: +\d+){10}\n)+)", self.console, re.M)
        ours = [r[:11] for r in rows(self.sec.get("2 hartos-pmem", [])) if r[0].isdigit()]
        self.expect(printed and [l.split() for l in printed[-1].splitlines()] == ours,
                    "stop 2: hartos-pmem differs from the kernel's last pmem table:\n%s\nvs\n%s"
                    % (printed[-1] if printed else "(none printed)", ours))
        bt = "\n".join(self.sec.get("2 bt-ktest", []))
        # (Rarely the hart is in OpenSBI, sending an IPI for a wakeup: nothing to unwind.)
        self.expect("running on cpu 0" in bt and ("ktest_fn_hang_watchdog_spins_forever" in bt
                                                  or "outside the kernel" in bt),
                    "stop 2: hartos-bt ktest does not show the runner in hang_watchdog:\n" + bt)
        bt = "\n".join(self.sec.get("2 bt-watchdog", []))
        self.expect("running on cpu" in bt or ("sleep_ticks" in bt and "watchdog" in bt),
                    "stop 2: hartos-bt ktest.watchdog does not show sleep_ticks:\n" + bt)

    def deadlock(self, source, spin):
        threads, table = self.common(1)
        locks = {r[0]: r for r in table}
        s = lambda c: "\n".join(self.sec.get("1 " + c, []))
        lines = {l.split()[0]: l for l in self.sec.get("1 hartos-locks", [])[1:] if l.strip()}
        holders = {}
        for lock, thread, other in (("deadlock.A", "deadlock_a", "deadlock_b"),
                                    ("deadlock.B", "deadlock_b", "deadlock_a")):
            r, line = locks.get(lock), lines.get(lock, "")
            if not self.expect(r, "hartos-locks does not list %s:\n%s" % (lock, s("hartos-locks"))):
                continue
            if spin:
                holders[thread] = r[2]
                ok = r[1] == "spin" and re.match(r"cpu\d+$", r[2]) and re.search(
                    r"taken at spinlock_abba\+\d+ \(tests/test_deadlock\.c:%d\)" % source_line(source, "acquire(first)"), line) \
                    and re.search(r"spinning: cpu\d+ \(%s\)" % other, line)
            else:
                ok = r[1] == "sleep" and r[2] == thread and "waiting: " + other in line
            self.expect(ok, "hartos-locks: %s is not shown held by %s with %s waiting:\n%s"
                        % (lock, thread, other, line))
        for thread, other_lock in (("deadlock_a", "deadlock.B"), ("deadlock_b", "deadlock.A")):
            bt = s("bt-" + thread[-1])
            if spin:
                cpu = re.search(r"running on cpu (\d+)", bt)
                ok = cpu and "cpu" + cpu.group(1) == holders.get(thread) and re.search(
                    r" in acquire\+\d+ \(kernel/spinlock\.[ch]:\d+\)\n.* in spinlock_abba\+\d+ "
                    r"\(tests/test_deadlock\.c:%d\)" % source_line(source, "acquire(second)"), bt)
                harts = s("hartos-harts")
                ok = ok and re.search(r"%s +\S*deadlock\.%s\S* .*spinning on %s" % (
                    thread, thread[-1].upper(), other_lock), harts)
            else:
                sleeps_on = " ".join(threads.get(thread, [])[6:])
                ok = re.search(r"#1 +0x\w+ in sleep\+.*\n.*acquiresleep\+.*\n.* in sleeplock_abba\+\d+ "
                               r"\(tests/test_deadlock\.c:%d\)" % source_line(source, "acquiresleep(second)"),
                               bt) and sleeps_on.startswith("sleeplock %s (held by" % other_lock)
            self.expect(ok, "hartos-bt %s does not show it stuck taking %s:\n%s" % (thread, other_lock, bt))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--bios", required=True, help="OpenSBI firmware path, or 'default'")
    ap.add_argument("--gdb", required=True, help="gdb-multiarch")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--gdbinit", required=True, help="the generated build/gdbinit (its `source` lines)")
    ap.add_argument("--source", required=True, help="tests/test_deadlock.c, for its line numbers")
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), default="stress")
    ap.add_argument("--smp", type=int, default=3)
    ap.add_argument("--mem", default="128M")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--log", required=True)
    ap.add_argument("--name", default="gdb_commands")
    args = ap.parse_args(argv)
    args.kernel = os.path.abspath(args.kernel)
    if not os.path.isfile(args.kernel):
        print("%s: FAIL\nkernel not found: %s (build it first)" % (args.name, args.kernel))
        return 1
    os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)

    def stop(signum, _frame):
        sys.exit(128 + signum)  # the finally in run() kills QEMU and gdb
    signal.signal(signal.SIGTERM, stop)

    log_lines = []
    transcript, console, problems = run(args, log_lines)
    if not problems:
        c = Checker(sections(transcript), console, args.smp)
        if args.scenario == "stress":
            c.stress()
        else:
            c.deadlock(args.source, args.scenario == "deadlock_spin")
        problems = c.problems
    with open(args.log, "w") as f:
        f.write("\n".join(log_lines) + "\n# ---- gdb ----\n" + transcript
                + "\n# ---- QEMU console ----\n" + console)
    base = os.path.splitext(args.log)[0]
    for path in (base + ".console", base + ".gdb"):
        if os.path.exists(path):
            os.unlink(path)
    if problems:
        print("%s: FAIL" % args.name)
        for p in problems[:20]:
            print("  reason: " + p)
        print("log: " + os.path.abspath(args.log))
        return 1
    print("%s: every hartos-* command checked (%s, %d harts)" % (args.name, args.scenario, args.smp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
