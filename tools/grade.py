#!/usr/bin/env python3
"""Description: grade the locks lab (`ninja grade`): boot the kernel once per check, print
one line per check (name, OK or FAIL, seconds, points) and `Score: N/M`.

Each check is one boot of a grading suite (tests/grade_pmem.c, tests/grade_bufcache.c) or
of the kernel's own suites, run by tools/ktest_runner.py's machinery: its own time limit,
its own console log under --logs, a fresh copy of the test disk. A check passes when every
test in the boot passes; the tests judge deterministic counts (pages, buffers, contended
lock acquires), never time. A kernel that panics, hangs or prints garbage fails that check
with the reasons, the console tail and the log path; the other checks still run.

Exit status: 0 full marks, 1 anything less, 2 bad command line.
Only the standard library is used.
"""

import argparse
import collections
import concurrent.futures
import json
import os
import re
import shutil
import sys
import time
import types
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktest_runner  # noqa: E402  (tools/ktest_runner.py, beside this file)
from symbols import SymbolMap  # noqa: E402

TAIL_LINES = 15


@dataclass
class Check:
    name: str
    points: int
    suites: str  # ktest= on the kernel command line
    smp: int
    disk: bool = False
    timeout: float = 60
    mem: str = "128M"
    what: str = ""


# What the lab is graded on (docs/lab-locks.md explains each check and its bar).
CHECKS = [
    Check("pmem_correct@smp1", 10, "grade_pmem", 1,
          what="allocator: stamped pages, exact accounting, exhaustion, one hart takes all"),
    Check("pmem_correct@smp2", 10, "grade_pmem", 2, what="the same on 2 harts"),
    Check("pmem_correct@smp4", 10, "grade_pmem", 4, what="the same on 4 harts"),
    Check("pmem_own_lists@smp4", 15, "grade_pmem_own", 4, timeout=120,
          what="own lists: allocator locks contended fewer than 10 times"),
    Check("pmem_steal_drain@smp2", 15, "grade_pmem_steal", 2, mem="64M", timeout=240,
          what="steal-heavy drain: allocator locks contended fewer than 1000 times"),
    Check("bcache_correct@smp4", 15, "grade_bcache", 4, disk=True,
          what="cache: eviction storm, one buffer per block, a pinned block survives"),
    Check("bcache_hits@smp4", 15, "grade_bcache_hits", 4, disk=True, timeout=240,
          what="disjoint hits: no global lock, bucket locks contended fewer than 500 times"),
    Check("lock_order@smp4", 5, "grade_lockorder", 4, disk=True,
          what="the lock-order checker stays silent through a mixed load"),
    Check("kernel_suites@smp2", 5, "boot,lib,spinlock,sched,pmem,bufcache", 2, disk=True,
          timeout=240, what="the kernel's own suites still pass"),
]


@dataclass
class Outcome:
    check: Check
    passed: bool
    seconds: float
    notes: list      # the counts the grading tests printed (`# ...` lines)
    failure: list    # reasons, console tail, log path
    checks: list     # the failed expectations the tests printed (`# file:line: ...`)
    crashed: bool    # a panic, a hang or a flood, not just failed expectations


def run_check(check, args):
    log = os.path.join(args.logs, check.name + ".log")
    disk_copy = None
    if check.disk:
        disk_copy = ktest_runner.disk_copy_path(log)
        shutil.copyfile(args.disk, disk_copy)
    qargs = types.SimpleNamespace(
        qemu=args.qemu, bios=args.bios, kernel=args.kernel, smp=check.smp, mem=check.mem,
        # The kernel's own watchdog gives up on a test a little before the host does.
        append="ktest=%s ktest.timeout=%d" % (check.suites, check.timeout - 10),
        disk_legacy=False, blkdebug=None, extra_qemu="")
    cmd = ktest_runner.qemu_command(qargs, disk_copy)
    header = "hartos-grade: %s\n" % " ".join(cmd)
    start = time.monotonic()
    run = ktest_runner.ConsoleRun(cmd, log, check.timeout, header)
    try:
        status = run.run()
    except OSError as e:
        return Outcome(check, False, 0.0, [], ["cannot start QEMU (%s): %s" % (args.qemu, e)],
                       [], True)
    seconds = time.monotonic() - start
    report = ktest_runner.parse_ktap(run.lines)
    verdict = ktest_runner.judge(report, status, run.end, None, check.timeout, check.name)
    if report.counts() == (0, 0, 0) and verdict.passed:
        verdict = ktest_runner.Verdict(False, ["no test ran"], verdict.summary)
    notes = [l.strip() for l in run.lines if check.suites.startswith("grade_")
             and re.match(r"^\s+# (?!Subtest|ktest|/|\w+ took \d+ ms)", l)]
    checks = [l.strip()[2:] for l in run.lines if re.match(r"^\s+# \S+:\d+: ", l)]
    crashed = bool(report.panics) or run.end != ktest_runner.EXITED
    failure = []
    if not verdict.passed:
        failure += ["failed: " + c for c in checks[:8]]  # what the tests expected
        failure += ["reason: " + r for r in verdict.reasons[:12]]
        symbols = SymbolMap(os.path.join(os.path.dirname(os.path.abspath(args.kernel)),
                                         "hartos.sym"))
        failure.append("---- last %d console lines ----" % TAIL_LINES)
        failure += [symbols.annotate(l) for l in collections.deque(run.lines, maxlen=TAIL_LINES)]
        failure.append("log: %s" % os.path.abspath(log))
    return Outcome(check, verdict.passed, seconds, notes, failure, checks, crashed)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Grade the locks lab (docs/lab-locks.md).")
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--bios", required=True)
    ap.add_argument("--kernel", required=True, help="hartos.elf (a Debug build)")
    ap.add_argument("--disk", required=True, help="the test disk (build/disk.img)")
    ap.add_argument("--logs", required=True, help="folder for the console logs")
    ap.add_argument("--only", action="append", default=[], metavar="CHECK",
                    help="run only this check (repeatable); the score counts only these")
    ap.add_argument("--jobs", type=int, default=1,
                    help="boots at once (default 1: a check's harts need the host's cores)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args(argv)
    for what, path in (("kernel", args.kernel), ("disk image", args.disk)):
        if not os.path.isfile(path):
            print("grade: error: %s not found: %s (build it: ninja -C build)" % (what, path))
            return 2
    names = [c.name for c in CHECKS]
    for n in args.only:
        if n not in names:
            ap.error("unknown check %r (checks: %s)" % (n, ", ".join(names)))
    checks = [c for c in CHECKS if not args.only or c.name in args.only]
    os.makedirs(args.logs, exist_ok=True)

    start = time.monotonic()
    width = max(len(c.name) for c in checks)
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_check, c, args) for c in checks]
        for f in futures:  # in the table's order, each as soon as it (and those above) ended
            o = f.result()
            results.append(o)
            got = o.check.points if o.passed else 0
            print("%-*s  %-4s  %5.1fs  %2d/%d" % (width, o.check.name, "OK" if o.passed else
                                                   "FAIL", o.seconds, got, o.check.points))
            for note in o.notes:
                print("    " + note)
            for line in o.failure:
                print("    " + line)
            sys.stdout.flush()
    score = sum(o.check.points for o in results if o.passed)
    total = sum(c.points for c in checks)
    print("Score: %d/%d" % (score, total))
    print("(%d checks in %.0f s; logs in %s)" % (len(checks), time.monotonic() - start,
                                                  os.path.abspath(args.logs)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"score": score, "total": total,
                       "checks": {o.check.name: {"passed": o.passed, "points": o.check.points,
                                                 "seconds": round(o.seconds, 1),
                                                 "notes": o.notes, "failures": o.checks,
                                                 "panic": o.crashed}
                                  for o in results}}, f, indent=1)
    return 0 if score == total else 1


if __name__ == "__main__":
    sys.exit(main())
