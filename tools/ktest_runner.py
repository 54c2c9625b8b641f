#!/usr/bin/env python3
"""Description: boot hartos once under QEMU, keep the console log, judge the KTAP report.

One run = one CTest test (e.g. `boot@smp2`). The runner
  - builds the QEMU command line (virt machine, OpenSBI, the kernel, hart count, memory,
    kernel command line, optionally a fresh copy of a disk image),
  - streams every console line into the log file as it arrives (so a hung run still
    leaves a log behind),
  - kills QEMU when the timeout runs out,
  - parses the KTAP version 1 report the kernel prints and decides PASS or FAIL.

The kernel contract: `ktest=<suites>` on the kernel command line runs those suites, prints
KTAP and powers off; QEMU exits 0 if every test passed, 1 if one failed, 2 after a panic.
The runner adds `test.smp=N test.mem=MiB` so the kernel can check what the device tree
says against what QEMU was asked for.

Only the standard library is used; any python3 >= 3.9 runs it.
Exit status: 0 pass, 1 fail, 2 bad command line.
"""

import argparse
import collections
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from symbols import SymbolMap  # noqa: E402  (tools/symbols.py, beside this file)

# How many console lines a failure report shows.
TAIL_LINES = 40
# A kernel stuck printing in a loop would fill the disk before the timeout; stop it here.
MAX_CONSOLE_BYTES = 16 << 20
# After a panic the kernel should power off at once; wait this long before killing QEMU.
PANIC_GRACE_SECONDS = 5.0

# ---------------------------------------------------------------------------------------
# KTAP parser
#
# KTAP version 1 as hartos prints it: a version line, a plan `1..N`, then N result lines
# `ok N name` / `not ok N name`, each optionally followed by `# DIRECTIVE reason` (SKIP).
# A suite is a subtest: its own version line, plan and results, indented 4 spaces deeper,
# followed by the suite's result line one level up. Lines starting with `#` are comments
# (`# Subtest: name`, failure diagnostics). Every other line (OpenSBI banner, kernel boot
# messages) is not KTAP and is ignored.
# ---------------------------------------------------------------------------------------

_VERSION_RE = re.compile(r"^(?:K?TAP version \d+)\s*$")
_PLAN_RE = re.compile(r"^1\.\.(\d+)\s*(?:#.*)?$")
_RESULT_RE = re.compile(r"^(ok|not ok)\s+(\d+)\b(?:\s*-)?\s*([^#]*?)\s*(?:#\s*(.*?))?\s*$")
_SUBTEST_RE = re.compile(r"^#\s*Subtest:\s*(.*?)\s*$")
INDENT = 4


@dataclass
class Result:
    """One `ok` / `not ok` line."""
    depth: int          # 0 = top level, 1 = inside a suite, ...
    number: int
    ok: bool
    name: str
    directive: str      # text after '#', e.g. "SKIP no disk"; '' if none
    lineno: int         # 1-based console line, for messages
    is_leaf: bool = True  # False when this line closes a subtest (a suite result)

    @property
    def skipped(self) -> bool:
        return self.directive.upper().startswith("SKIP")


@dataclass
class Block:
    """One KTAP document or subtest: the plan and results at one nesting depth."""
    depth: int
    name: str = ""
    plan: Optional[int] = None
    results: List[Result] = field(default_factory=list)
    lineno: int = 0


@dataclass
class Report:
    top: Block
    blocks: List[Block]            # every nested subtest, in the order they closed
    results: List[Result]          # every result line at any depth, in console order
    panics: List[str]              # console lines containing "panic:"
    errors: List[str]              # "hartos: error: ..." lines
    problems: List[str]            # KTAP structure problems found while parsing

    def leaves(self) -> List[Result]:
        return [r for r in self.results if r.is_leaf]

    def counts(self):
        """(passed, failed, skipped) over the individual tests (not the suite lines)."""
        leaves = self.leaves()
        failed = sum(1 for r in leaves if not r.ok)
        skipped = sum(1 for r in leaves if r.ok and r.skipped)
        return len(leaves) - failed - skipped, failed, skipped

    def structure_problems(self) -> List[str]:
        """Plan vs results at the top level (required) and in every subtest that has a plan."""
        out = list(self.problems)
        if self.top.plan is None:
            if self.top.results:
                out.append("no top-level KTAP plan (1..N) before the results")
            else:
                out.append("no KTAP report: no top-level plan (1..N) and no results")
        else:
            out += _check_block(self.top, "top level")
        for b in self.blocks:
            if b.plan is not None:
                out += _check_block(b, "subtest '%s'" % (b.name or "?"))
        return out


def _check_block(b: Block, what: str) -> List[str]:
    out = []
    if b.plan != len(b.results):
        out.append("%s: plan 1..%d but %d result(s)" % (what, b.plan, len(b.results)))
    numbers = [r.number for r in b.results]
    if numbers != list(range(1, len(numbers) + 1)):
        out.append("%s: results numbered %s, expected 1..%d in order"
                   % (what, numbers, len(numbers)))
    return out


def clean_line(raw: str) -> str:
    """Console text as one line: no CR (QEMU's serial sends CRLF), no trailing NL."""
    return raw.replace("\r", "").rstrip("\n")


def parse_ktap(lines) -> Report:
    """Parse console lines (any iterable of str) into a Report. Never raises on bad input."""
    top = Block(depth=0)
    open_blocks = {0: top}       # depth -> the subtest currently open at that depth
    closed: List[Block] = []
    results: List[Result] = []
    panics, errors, problems = [], [], []
    pending_name = {}            # depth -> name from "# Subtest:" not yet given a block

    def close_deeper(depth):
        """Close every open subtest deeper than `depth`; True if one at depth+1 had content."""
        had_child = False
        for d in sorted([d for d in open_blocks if d > depth], reverse=True):
            b = open_blocks.pop(d)
            if b.plan is not None or b.results:
                closed.append(b)
                if d == depth + 1:
                    had_child = True
        return had_child

    def block_at(depth, lineno):
        b = open_blocks.get(depth)
        if b is None:
            b = Block(depth=depth, name=pending_name.pop(depth, ""), lineno=lineno)
            open_blocks[depth] = b
        return b

    for lineno, raw in enumerate(lines, 1):
        line = clean_line(raw)
        if "panic:" in line:
            panics.append(line.strip())
        if "hartos: error:" in line:
            errors.append(line.strip())
        body = line.lstrip(" ")
        depth = (len(line) - len(body)) // INDENT
        body = body.rstrip()
        if not body:
            continue

        if _VERSION_RE.match(body):
            if depth == 0:
                if top.plan is not None or top.results:
                    problems.append("line %d: a second top-level KTAP document starts"
                                    % lineno)
                continue
            # A new subtest at this depth starts: close the previous one there.
            close_deeper(depth - 1)
            block_at(depth, lineno)
            continue

        m = _SUBTEST_RE.match(body)
        if m:
            if depth > 0:
                b = open_blocks.get(depth)
                if b is not None and not b.name and b.plan is None and not b.results:
                    b.name = m.group(1)
                else:
                    pending_name[depth] = m.group(1)
            continue
        if body.startswith("#"):
            continue

        m = _PLAN_RE.match(body)
        if m:
            close_deeper(depth)
            b = open_blocks.get(depth)
            if b is not None and (b.plan is not None or b.results):
                if depth == 0:
                    problems.append("line %d: a second top-level plan" % lineno)
                    continue
                close_deeper(depth - 1)   # a subtest without a version line
                b = None
            b = block_at(depth, lineno)
            b.plan = int(m.group(1))
            continue

        m = _RESULT_RE.match(body)
        if m:
            had_child = close_deeper(depth)
            r = Result(depth=depth, number=int(m.group(2)), ok=(m.group(1) == "ok"),
                       name=m.group(3), directive=m.group(4) or "", lineno=lineno,
                       is_leaf=not had_child)
            block_at(depth, lineno).results.append(r)
            results.append(r)
            continue
        # Anything else is console noise.

    close_deeper(0)
    return Report(top=top, blocks=closed, results=results, panics=panics, errors=errors,
                  problems=problems)


@dataclass
class Verdict:
    passed: bool
    reasons: List[str]
    summary: str


# How a run ended (ConsoleRun.end).
EXITED, TIMEOUT, PANIC_HANG, FLOOD = "exited", "timeout", "panic-hang", "flood"


PANIC_EXIT_STATUS = 2  # kernel/power.h: POWER_EXIT_PANIC


def panic_block(lines) -> List[str]:
    """The lines a panic report consists of: from the first line that leads up to a
    panic (a trap, a ubsan or lock report, the panic line) to the end of the backtrace."""
    for i, line in enumerate(lines):
        if "panic:" in line:
            start = i
            while start > 0 and re.match(r"(trap:|ubsan:|  ?[a-z0-9 ]{2,4}=)", lines[start - 1]):
                start -= 1
            end = i + 1
            while end < len(lines) and re.match(r"(backtrace:|  #\d+ )", lines[end]):
                end += 1
            return lines[start:end]
    return []


def judge(report: Report, exit_status: Optional[int], end: str = EXITED,
          expect_panic: Optional[str] = None, timeout: float = 0,
          name: str = "ktest") -> Verdict:
    """PASS/FAIL for one run. exit_status is QEMU's, None if the runner had to kill it."""
    reasons = []
    if end == TIMEOUT:
        reasons.append("TIMEOUT after %g s" % timeout)
    elif end == PANIC_HANG:
        reasons.append("QEMU still running %g s after the panic: killed (the kernel should "
                       "power off after a panic)" % PANIC_GRACE_SECONDS)
    elif end == FLOOD:
        reasons.append("console flood: more than %d MiB of output, QEMU killed"
                       % (MAX_CONSOLE_BYTES >> 20))
    for r in report.results:
        if not r.ok:
            reasons.append("line %d: %snot ok %d %s%s" % (
                r.lineno, "    " * r.depth, r.number, r.name,
                (" # " + r.directive) if r.directive else ""))
    reasons += report.errors

    if expect_panic is None:
        for p in report.panics:
            reasons.append("kernel panic: %s" % p)
        reasons += report.structure_problems()
        if exit_status is not None and exit_status != 0:
            reasons.append("QEMU exited with status %d" % exit_status)
    else:
        rx = re.compile(expect_panic)
        if not any(rx.search(p) for p in report.panics):
            if report.panics:
                reasons.append("panic does not match /%s/: %s" % (expect_panic,
                                                                   report.panics[0]))
            else:
                reasons.append("expected a panic matching /%s/, saw none" % expect_panic)
        if exit_status is not None and exit_status != PANIC_EXIT_STATUS:
            reasons.append("expected a panic (QEMU exit status %d) but QEMU exited with "
                           "status %d" % (PANIC_EXIT_STATUS, exit_status))

    passed, failed, skipped = report.counts()
    if expect_panic is not None:
        seen = [p for p in report.panics if re.search(expect_panic, p)]
        summary = "%s: panicked as expected: %s" % (name, seen[0] if seen else "no panic")
    else:
        summary = "%s: %d passed, %d failed, %d skipped" % (name, passed, failed, skipped)
    return Verdict(passed=not reasons, reasons=reasons, summary=summary)


# ---------------------------------------------------------------------------------------
# QEMU
# ---------------------------------------------------------------------------------------

_MEM_RE = re.compile(r"^(\d+)\s*([KMGT]?)(?:i?B)?$", re.IGNORECASE)


def mem_mib(mem: str) -> int:
    """QEMU -m size in MiB: '128M' -> 128, '1G' -> 1024, '256' -> 256 (QEMU's unit is M)."""
    m = _MEM_RE.match(mem.strip())
    if not m:
        raise ValueError("cannot read memory size %r (use e.g. 128M or 1G)" % mem)
    n, unit = int(m.group(1)), (m.group(2) or "M").upper()
    kib = n * {"K": 1, "M": 1 << 10, "G": 1 << 20, "T": 1 << 30}[unit]
    if kib % 1024:
        raise ValueError("memory size %r is not a whole number of MiB" % mem)
    return kib // 1024


def kernel_cmdline(append: str, smp: int, mem: str) -> str:
    return " ".join(x for x in (append.strip(), "test.smp=%d" % smp,
                                "test.mem=%d" % mem_mib(mem)) if x)


def disk_copy_path(log: str) -> str:
    """Where a run's private copy of the disk image lives: next to the log, same stem."""
    base, ext = os.path.splitext(log)
    return (base if ext == ".log" else log) + ".disk.img"


def qemu_opt(value: str) -> str:
    """A value inside a QEMU option list: commas are doubled."""
    return value.replace(",", ",,")


def qemu_command(args, disk_copy: Optional[str]) -> List[str]:
    cmd = [args.qemu, "-machine", "virt", "-nographic",
           "-bios", args.bios, "-kernel", args.kernel,
           "-smp", str(args.smp), "-m", args.mem,
           "-append", kernel_cmdline(args.append, args.smp, args.mem)]
    if disk_copy:
        if not args.disk_legacy:
            cmd += ["-global", "virtio-mmio.force-legacy=false"]
        if args.blkdebug:
            # Raw over blkdebug over the file: the raw driver's read/write events reach
            # the error-injection rules in the config file.
            drive = ("driver=raw,file.driver=blkdebug,file.config=%s,"
                     "file.image.filename=%s,if=none,id=hd0"
                     % (qemu_opt(os.path.abspath(args.blkdebug)), qemu_opt(disk_copy)))
        else:
            drive = "file=%s,if=none,format=raw,id=hd0" % qemu_opt(disk_copy)
        cmd += ["-drive", drive,
                "-device", "virtio-blk-device,drive=hd0,bus=virtio-mmio-bus.0"]
    if args.extra_qemu:
        cmd += shlex.split(args.extra_qemu)
    return cmd


# A trace dump (kernel/trace.h): from TRACE-BEGIN to TRACE-END, its lines go to
# <log>.trace for tools/trace.py instead of the log, which keeps one line saying where.
_TRACE_LINE_RE = re.compile(r"^(?:[ELTH] |TRACE-)")


class ConsoleRun:
    """Run QEMU, copy its console into the log line by line, enforce the timeout."""

    def __init__(self, cmd: List[str], log_path: str, timeout: float, header: str):
        self.cmd, self.log_path, self.timeout, self.header = cmd, log_path, timeout, header
        self.lines: List[str] = []
        self.panic_seen = threading.Event()
        self.flooded = False
        self.end = EXITED
        self.proc = None

    def _pump(self, log):
        total, dumping, trace, trace_path = 0, False, None, self.log_path + ".trace"
        if os.path.exists(trace_path):
            os.remove(trace_path)  # a dump left by an earlier run is not this run's
        for raw in iter(self.proc.stdout.readline, b""):
            total += len(raw)
            if total > MAX_CONSOLE_BYTES:
                self.flooded = True
                self.kill()
                break
            line = clean_line(raw.decode("utf-8", errors="replace"))
            if line.startswith("TRACE-BEGIN") or (dumping and _TRACE_LINE_RE.match(line)):
                trace = trace or open(trace_path, "w", encoding="utf-8")
                trace.write(line + "\n")
                dumping = not line.startswith("TRACE-END")
                if not dumping:
                    trace.flush()
                    log.write("hartos-runner: trace dump written to %s\n" % trace_path)
                continue
            self.lines.append(line)
            log.write(line + "\n")
            log.flush()
            if "panic:" in line:
                self.panic_seen.set()

    def kill(self):
        """Kill QEMU (and anything it started: it runs in its own process group)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass

    def run(self) -> Optional[int]:
        """Run to the end; returns QEMU's exit status, None if it had to be killed."""
        os.makedirs(os.path.dirname(os.path.abspath(self.log_path)), exist_ok=True)
        with open(self.log_path, "w", encoding="utf-8") as log:
            log.write(self.header)
            log.flush()
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            pump = threading.Thread(target=self._pump, args=(log,), daemon=True)
            pump.start()
            deadline = time.monotonic() + self.timeout
            panic_deadline = None
            while self.proc.poll() is None and not self.flooded:
                now = time.monotonic()
                if panic_deadline is None and self.panic_seen.is_set():
                    panic_deadline = now + PANIC_GRACE_SECONDS
                if now >= deadline:
                    self.end = TIMEOUT
                elif panic_deadline is not None and now >= panic_deadline:
                    self.end = PANIC_HANG
                if self.end != EXITED:
                    self.kill()
                    break
                time.sleep(0.05)
            status = self.proc.wait()
            pump.join(5)
            if self.flooded:
                self.end = FLOOD
            return status if self.end == EXITED else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Boot hartos under QEMU and judge its KTAP report.")
    ap.add_argument("--qemu", required=True, help="qemu-system-riscv64")
    ap.add_argument("--bios", required=True, help="OpenSBI firmware path, or 'default'")
    ap.add_argument("--kernel", required=True, help="hartos.elf")
    ap.add_argument("--smp", type=int, default=1, help="number of harts")
    ap.add_argument("--mem", default="128M", help="QEMU -m size (128M, 1G, ...)")
    ap.add_argument("--append", default="", help='kernel command line, e.g. "ktest=boot"')
    ap.add_argument("--disk", help="disk image; a fresh copy is attached (virtio-blk)")
    ap.add_argument("--disk-legacy", action="store_true",
                    help="leave virtio-mmio in legacy mode (version 1)")
    ap.add_argument("--blkdebug", metavar="CONFIG",
                    help="attach the disk through QEMU's blkdebug driver with this "
                         "error-injection config (needs --disk)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds before QEMU is killed")
    ap.add_argument("--log", required=True, help="console log file (directories are created)")
    ap.add_argument("--expect-panic", metavar="REGEX",
                    help="pass only if a 'panic:' line matches REGEX and QEMU exits non-zero")
    ap.add_argument("--extra-qemu", default="", metavar="ARGS", help="more QEMU arguments")
    ap.add_argument("--name", help="name in the summary (default: <suites>@smp<N>)")
    args = ap.parse_args(argv)

    try:
        mem_mib(args.mem)
        if args.expect_panic is not None:
            re.compile(args.expect_panic)
    except (ValueError, re.error) as e:
        ap.error(str(e))
    if args.name is None:
        m = re.search(r"(?:^|\s)ktest=(\S+)", args.append)
        args.name = "%s@smp%d" % (m.group(1) if m else "hartos", args.smp)

    if args.blkdebug and not args.disk:
        ap.error("--blkdebug needs --disk")
    for what, path in (("kernel", args.kernel), ("disk image", args.disk),
                       ("blkdebug config", args.blkdebug)):
        if path and not os.path.isfile(path):
            print("%s: FAIL\n%s not found: %s (build it first: ninja -C build)"
                  % (args.name, what, path))
            return 1

    disk_copy = None
    if args.disk:
        disk_copy = disk_copy_path(args.log)
        os.makedirs(os.path.dirname(os.path.abspath(disk_copy)), exist_ok=True)
        shutil.copyfile(args.disk, disk_copy)
        print("disk: %s (copy of %s, kept after the run)" % (disk_copy, args.disk))

    cmd = qemu_command(args, disk_copy)
    header = "hartos-runner: %s\n" % " ".join(shlex.quote(c) for c in cmd)
    run = ConsoleRun(cmd, args.log, args.timeout, header)

    # CTest (or Ctrl-C) stopping us must not leave QEMU running.
    def stop(signum, _frame):
        run.kill()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    try:
        status = run.run()
    except OSError as e:
        print("%s: FAIL\ncannot start QEMU (%s): %s\nlog: %s"
              % (args.name, args.qemu, e, os.path.abspath(args.log)))
        return 1

    report = parse_ktap(run.lines)
    verdict = judge(report, status, run.end, args.expect_panic, args.timeout, args.name)
    # Panic reports name code by address; the symbol map beside the kernel names it.
    symbols = SymbolMap(os.path.join(os.path.dirname(os.path.abspath(args.kernel)), "hartos.sym"))
    panic_lines = [symbols.annotate(l) for l in panic_block(run.lines)]
    if panic_lines:
        with open(args.log, "a") as log:
            log.write("---- panic, symbolised by the host runner ----\n")
            log.write("".join(l + "\n" for l in panic_lines))
    if verdict.passed:
        print(verdict.summary)
        for line in panic_lines:
            print("  " + line)
        return 0

    print("---- last %d console lines (%s) ----" % (TAIL_LINES, args.name))
    for line in collections.deque(run.lines, maxlen=TAIL_LINES):
        print(symbols.annotate(line))
    print("---- end of console ----")
    print("command: %s" % header.split(": ", 1)[1].rstrip())
    print("%s: FAIL (%s)" % (args.name, verdict.summary.split(": ", 1)[1]))
    for r in verdict.reasons:
        print("  reason: %s" % r)
    print("log: %s" % os.path.abspath(args.log))
    return 1


if __name__ == "__main__":
    sys.exit(main())
