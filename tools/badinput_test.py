#!/usr/bin/env python3
"""Description: the bad-input sweep. Boots hartos with inputs from outside that are
wrong in one way each (kernel command line values, device tree oddities) and checks
that every one gets one clear line and no crash: the expected message appears, no
`panic:` line does, and QEMU exits with the expected status.

Device tree cases start from the tree QEMU itself would pass (-machine
virt,dumpdtb=...), change one thing in its source form and compile it back with dtc
(Debian package device-tree-compiler); QEMU then boots with -dtb. Oddities that
OpenSBI itself refuses (no timebase, no UART) never reach the kernel and are left out.

    tools/badinput_test.py --qemu Q --bios B --kernel hartos.elf --dtc dtc --log DIR
"""
import argparse
import os
import re
import subprocess
import sys

# name, harts, device tree edit (or None), kernel command line, patterns, exit status
CASES = [
    ("unknown_option", 2, None, "bogus=1 ktest=boot",
     [r"unknown option 'bogus=1' \(ignored\)", r"^ok 1 boot"], 0),
    ("word_without_value", 1, None, "ktest=boot verbose",
     [r"unknown option 'verbose'", r"^ok 1 boot"], 0),
    ("not_a_number", 1, None, "ktest.timeout=soon ktest=boot",
     [r"ktest.timeout='soon' is not a number", r"^ok 1 boot"], 0),
    ("stuck_limit_not_a_number", 1, None, "lock.stuck_ms=-5 ktest=boot",
     [r"lock.stuck_ms='-5' is not a number", r"^ok 1 boot"], 0),
    ("unknown_suite", 2, None, "ktest=boot,nosuch",
     [r"unknown test suite 'nosuch'; known suites: all, .*boot"], 1),
    ("hart_id_above_ncpu", 2, "extra_hart", "ktest=boot",
     [r"hart 99 did not come online within [0-9]+ ms; going on without it",
      r"2 of 3 harts online", r"^ok 1 boot"], 0),
    ("hart_disabled", 2, "disable_cpu1", "ktest=boot",
     [r"1 hart\(s\) in device tree", r"1 of 1 harts online", r"^ok 1 boot"], 0),
    ("memory_smaller_than_kernel", 2, "small_memory", "ktest=boot",
     [r"the device tree's memory does not hold the kernel image"], 3),
]


def more_harts_than_ncpu(ncpu):
    """One hart more than the kernel was built for: that one stays stopped."""
    return ("more_harts_than_ncpu", ncpu + 1, None, "ktest=boot test.smp=%d" % (ncpu + 1),
            [r"hart [0-9]+ left stopped: this kernel was built for NCPU=%d harts" % ncpu,
             r"%d of %d harts online" % (ncpu, ncpu + 1), r"^ok 1 boot"], 0)


def node_span(dts, header):
    """[start, end) of the node whose line begins with `header` (e.g. "\\t\\tcpu@1 {")."""
    start = dts.index(header)
    depth, i = 0, dts.index("{", start)
    while True:
        if dts[i] == "{":
            depth += 1
        elif dts[i] == "}":
            depth -= 1
            if depth == 0:
                return start, dts.index(";", i) + 1
        i += 1


def edit_dts(dts, edit):
    if edit == "extra_hart":
        # A second copy of cpu@1 claiming hart id 99, which no hart answers to.
        start, end = node_span(dts, "\t\tcpu@1 {")
        copy = dts[start:end].replace("cpu@1", "cpu@63").replace("reg = <0x01>", "reg = <0x63>")
        copy = "\n".join(l for l in copy.split("\n") if "phandle" not in l)
        return dts[:end] + "\n" + copy + dts[end:]
    if edit == "disable_cpu1":
        start, end = node_span(dts, "\t\tcpu@1 {")
        return dts[:start] + dts[start:end].replace('status = "okay"', 'status = "disabled"') + dts[end:]
    if edit == "small_memory":
        # 1 MiB of RAM: the kernel at 0x80200000 lies outside it.
        return re.sub(r"(memory@80000000 \{[^}]*reg = <0x00 0x80000000 0x00) 0x[0-9a-f]+>",
                      r"\1 0x100000>", dts)
    raise ValueError(edit)


def make_dtb(args, smp, edit):
    base = os.path.join(args.log, f"virt-smp{smp}")
    subprocess.run([args.qemu, "-machine", f"virt,dumpdtb={base}.dtb", "-smp", str(smp),
                    "-m", "128M", "-nographic"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    dts = subprocess.run([args.dtc, "-q", "-I", "dtb", "-O", "dts", base + ".dtb"], check=True,
                         capture_output=True, text=True).stdout
    changed = edit_dts(dts, edit)
    if changed == dts:
        raise RuntimeError(f"device tree edit '{edit}' changed nothing")
    out = os.path.join(args.log, f"{edit}.dtb")
    subprocess.run([args.dtc, "-q", "-I", "dts", "-O", "dtb", "-o", out, "-"], input=changed,
                   text=True, check=True)
    return out


def run_case(args, name, smp, edit, append, patterns, status):
    cmd = [args.qemu, "-machine", "virt", "-nographic", "-bios", args.bios, "-kernel",
           args.kernel, "-smp", str(smp), "-m", "128M", "-append", append]
    if edit:
        cmd += ["-dtb", make_dtb(args, smp, edit)]
    log = os.path.join(args.log, f"{name}.log")
    try:
        out = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=args.timeout)
        console, code = out.stdout.decode(errors="replace").replace("\r", ""), out.returncode
    except subprocess.TimeoutExpired as e:
        console, code = (e.stdout or b"").decode(errors="replace"), None
    with open(log, "w") as f:
        f.write(" ".join(cmd) + "\n" + console)
    problems = [f"missing line /{p}/" for p in patterns if not re.search(p, console, re.M)]
    if "panic:" in console:
        problems.append("the kernel panicked")
    if code != status:
        problems.append(f"exit status {code}, expected {status}" if code is not None
                        else f"no exit within {args.timeout} s")
    print(f"{'ok' if not problems else 'FAIL'} {name}" + "".join(f"\n    {p}" for p in problems)
          + (f"\n    log: {log}" if problems else ""))
    return not problems


def main():
    p = argparse.ArgumentParser(description="hartos bad-input sweep")
    p.add_argument("--qemu", required=True)
    p.add_argument("--bios", required=True)
    p.add_argument("--kernel", required=True)
    p.add_argument("--dtc", required=True)
    p.add_argument("--log", required=True, help="folder for logs and device trees")
    p.add_argument("--timeout", type=int, default=60)
    p.add_argument("--ncpu", type=int, default=64, help="the kernel's NCPU build option")
    args = p.parse_args()
    os.makedirs(args.log, exist_ok=True)
    results = [run_case(args, *case) for case in CASES + [more_harts_than_ncpu(args.ncpu)]]
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
