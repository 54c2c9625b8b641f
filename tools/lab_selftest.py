#!/usr/bin/env python3
"""Description: proof that the locks lab's grader is honest (`ninja lab-selftest`, CI).

In a folder of its own (default build/lab-selftest/) it
  1. generates the starter (tools/mklab.py) and the solution tree (mklab.py --solution),
  2. builds each and grades it with that tree's own `tools/grade.py`:
     - the solution must score full marks;
     - the starter must build, boot and pass every correctness check, score exactly
       their points, and fail every contention check for the stated reason (a count over
       its bar, not a panic or a hang);
  3. applies each mutant of lab/locks/mutants/ (a small patch to the solution tree; its
     `Loses:` line names the checks meant to catch it) and grades those checks: each
     must fail.
Prints one line per verdict and exits 1 if any is wrong. Only the standard library.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The checks a single-lock kernel cannot pass, and the text their failures must contain.
CONTENTION_CHECKS = {"pmem_own_lists@smp4", "pmem_steal_drain@smp2", "bcache_hits@smp4"}
CONTENTION_REASON = re.compile(r"expected contentions < ")


def sh(cmd, log, cwd=None):
    with open(log, "a") as f:
        f.write("$ %s\n" % " ".join(cmd))
        f.flush()
        return subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL).returncode


def build(tree, log):
    """Configures and builds the kernel and the test disk of a tree; True on success."""
    b = os.path.join(tree, "build")
    return (sh(["cmake", "-S", tree, "-B", b, "-G", "Ninja"], log) == 0 and
            sh(["ninja", "-C", b, "hartos.elf", "disk_image"], log) == 0)


def grade(tree, name, out, only=()):
    """Grades a built tree with its own grader; returns the JSON results."""
    b = os.path.join(tree, "build")
    cache = open(os.path.join(b, "CMakeCache.txt")).read()
    var = lambda v: re.search(r"^%s:\w+=(.*)$" % v, cache, re.M).group(1)
    result = os.path.join(out, name + ".json")
    cmd = [sys.executable, os.path.join(tree, "tools", "grade.py"), "--qemu", var("HARTOS_QEMU"),
           "--bios", var("HARTOS_BIOS"), "--kernel", os.path.join(b, "hartos.elf"),
           "--disk", os.path.join(b, "disk.img"), "--logs", os.path.join(out, name + "-logs"),
           "--json", result]
    for o in only:
        cmd += ["--only", o]
    with open(os.path.join(out, name + ".grade.txt"), "w") as f:
        subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    with open(os.path.join(out, name + ".grade.txt")) as f:
        table = f.read()
    print(table.rstrip())
    with open(result) as f:
        return json.load(f)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Grade the starter, the solution and the mutants.")
    ap.add_argument("out", nargs="?", default=os.path.join(ROOT, "build", "lab-selftest"))
    args = ap.parse_args(argv)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    log = os.path.join(out, "selftest.log")
    open(log, "w").close()
    problems, start = [], time.monotonic()

    def verdict(ok, what):
        print("lab-selftest: %s: %s" % ("OK  " if ok else "FAIL", what))
        sys.stdout.flush()
        if not ok:
            problems.append(what)

    starter, solution = os.path.join(out, "starter"), os.path.join(out, "solution")
    for tree, flag in ((starter, []), (solution, ["--solution"])):
        rc = sh([sys.executable, os.path.join(ROOT, "tools", "mklab.py"), "--out", tree] + flag, log)
        verdict(rc == 0, "mklab.py %s writes %s" % (" ".join(flag) or "(starter)", tree))
        if rc:
            print("lab-selftest: see %s" % log)
            return 1

    verdict(build(solution, log), "the solution builds")
    print("---- the solution ----")
    sol = grade(solution, "solution", out)
    verdict(sol["score"] == sol["total"], "the solution scores full marks (%d/%d)"
            % (sol["score"], sol["total"]))

    verdict(build(starter, log), "the starter builds")
    print("---- the starter ----")
    st = grade(starter, "starter", out)
    correctness = {n for n in st["checks"] if n not in CONTENTION_CHECKS}
    for n in sorted(correctness):
        verdict(st["checks"][n]["passed"], "the starter passes %s" % n)
    for n in sorted(CONTENTION_CHECKS):
        c = st["checks"][n]
        stated = c["failures"] and all(CONTENTION_REASON.search(f) for f in c["failures"])
        verdict(not c["passed"] and stated and not c["panic"],
                "the starter fails %s on its contention bar only" % n)
    want = sum(st["checks"][n]["points"] for n in correctness)
    verdict(st["score"] == want, "the starter scores exactly the correctness points (%d/%d, "
            "expected %d)" % (st["score"], st["total"], want))

    for patch in sorted(glob.glob(os.path.join(ROOT, "lab", "locks", "mutants", "*.patch"))):
        name = os.path.splitext(os.path.basename(patch))[0]
        text = open(patch).read()
        m = re.search(r"^Loses: (.+)$", text, re.M)
        if not m:
            verdict(False, "%s has a `Loses:` line" % name)
            continue
        loses = m.group(1).split()
        tree = os.path.join(out, "mutant-" + name)
        shutil.rmtree(tree, ignore_errors=True)
        shutil.copytree(solution, tree, ignore=shutil.ignore_patterns("build", ".git"))
        applied = sh(["patch", "-p1", "-i", patch], log, cwd=tree) == 0
        verdict(applied, "mutant %s applies to the solution" % name)
        if not applied or not build(tree, log):
            verdict(False, "mutant %s builds" % name)
            continue
        print("---- mutant %s ----" % name)
        g = grade(tree, "mutant-" + name, out, loses)
        for n in loses:
            verdict(not g["checks"][n]["passed"], "mutant %s loses the %d points of %s"
                    % (name, g["checks"][n]["points"], n))

    print("lab-selftest: %d problem(s) in %.0f s; details in %s"
          % (len(problems), time.monotonic() - start, out))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
