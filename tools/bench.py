#!/usr/bin/env python3
"""Description: `ninja bench`: boot the hartos benchmarks under QEMU and report them.

The kernel side (tests/bench*.c) runs with `bench=<names>` on the kernel command line,
prints one machine-readable line per measurement and powers off:

    BENCH bench=pmem alloc=percpu workload=pairs round=0 harts=2 poison=0
          timebase=10000000 pairs=100000,100000 ticks=412345,409876 wall=413000
          acquires=400004 spins=0 steals=0 stolen=0
    BENCH bench=pmem_instr alloc=percpu workload=pairs harts=1 poison=0 pairs=1000
          instret=301001

(each on one line). This script
  - boots `bench=pmem` once per hart count (1, 2 and 4 by default): per-CPU lists, the
    single-lock baseline and a lock-only calibration, side by side in the same boot,
  - boots `bench=pmem_instr` and `bench=lock_instr` on one hart under `-icount shift=0`,
    where rdinstret counts guest instructions exactly and repeatably; with
    --debug-kernel, once more on that kernel, reported beside,
  - boots `bench=pmem_drain` at 4 harts (or the most asked for), 2 GiB, under -icount:
    one hart drains every page while the others allocate and free single pages,
  - boots `bench=lock_fair` at 8 harts (a test-and-set lock beside a ticket lock) and
    `bench=lock_bounces` (bounces per 1000 operations of each design beside its baseline),
  - prints Markdown tables (medians over the rounds) and the allocator's three targets,
  - writes pmem.csv, pmem_instr.csv, pmem_raw.csv and, with gnuplot, pmem.png into --out,
    and every console log into --out/logs,
  - with --disk, also boots the disk benchmarks (`bench=bufcache,virtio`, lines of the
    form `BENCH <name> key=value ...`) on a fresh copy of the test disk, prints their
    lines as tables and writes <name>.csv for each.
Targets are reported, never asserted: the exit status says only whether every boot
ran to the end (0) or not (1); 2 is a bad command line.

Only the standard library is used; any python3 >= 3.9 runs it.
"""

import argparse
import csv
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

# The allocator's targets, reported beside the measurements.
TARGET_OWN_LIST_SPINS = 0
TARGET_SPEEDUP_2_HARTS = 1.8
TARGET_INSTR_PER_PAIR = 60
TARGET_DRAIN_CALL_US = 20  # the longest call bounds the longest pmem lock hold
DRAIN_MEM = "2G"

ALLOC_NAMES = {
    "percpu": "per-CPU lists (mm/pmem.c)",
    "baseline": "single lock (baseline)",
    "lock": "lock only (calibration)",
    "null": "empty calls (calibration)",
}


def boot(args, smp, append, extra, log_name, mem=None):
    """Runs one QEMU boot; returns (status, console text). Keeps the console in a log."""
    cmd = [args.qemu, "-machine", "virt", "-bios", args.bios, "-kernel", args.kernel,
           "-smp", str(smp), "-m", mem or args.mem, "-nographic", "-append", append] + extra
    log_path = os.path.join(args.out, "logs", log_name)
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=args.timeout)
        status, out = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as e:
        status, out = None, e.stdout or b""
    text = out.decode("utf-8", "replace")
    with open(log_path, "w") as f:
        f.write("# %s\n" % " ".join(cmd))
        f.write(text)
    took = time.monotonic() - start
    what = "timed out after %ds" % args.timeout if status is None else "exit %d" % status
    print("bench: %-28s %-10s %5.1f s  (log: %s)" % (log_name, what, took, log_path),
          flush=True)
    return status, text


def parse(text):
    """The BENCH lines of a console, as dicts of strings."""
    rows = []
    for line in text.splitlines():
        words = line.strip().split()
        if len(words) < 2 or words[0] != "BENCH":
            continue
        row = {}
        if "=" not in words[1]:  # `BENCH bufcache k=v ...` names the benchmark first
            row["bench"] = words.pop(1)
        row.update(w.split("=", 1) for w in words[1:] if "=" in w)
        rows.append(row)
    return rows


def ints(value):
    return [int(v) for v in value.split(",") if v]


def pmem_round(row):
    """Derived figures of one BENCH line of bench=pmem."""
    timebase = int(row["timebase"])
    pairs, ticks = ints(row["pairs"]), ints(row["ticks"])
    wall = int(row["wall"]) / timebase
    total = sum(pairs)
    per_hart = [p / (t / timebase) for p, t in zip(pairs, ticks) if p and t]
    return {
        "total_rate": total / wall if wall else 0.0,
        "hart_rate": statistics.mean(per_hart) if per_hart else 0.0,
        "ops": 2 * total,
        "acquires": int(row["acquires"]),
        "spins": int(row["spins"]),
        "steals": int(row["steals"]),
        "stolen": int(row["stolen"]),
    }


def summarise(rows):
    """Medians over the rounds, per (workload, harts, allocator)."""
    groups = {}
    for row in rows:
        if row.get("bench") != "pmem":
            continue
        key = (row["workload"], int(row["harts"]), row["alloc"])
        groups.setdefault(key, []).append(pmem_round(row))
    summary = {}
    for key, rounds in groups.items():
        ops = sum(r["ops"] for r in rounds)
        acquires = sum(r["acquires"] for r in rounds)
        spins = sum(r["spins"] for r in rounds)
        summary[key] = {
            "rounds": len(rounds),
            "total_rate": statistics.median(r["total_rate"] for r in rounds),
            "hart_rate": statistics.median(r["hart_rate"] for r in rounds),
            "spins": spins,
            "acquires": acquires,
            "spins_per_1000_ops": 1000.0 * spins / ops if ops else 0.0,
            "spins_per_acquire": spins / acquires if acquires else 0.0,
            "steals": statistics.median(r["steals"] for r in rounds),
            "stolen": statistics.median(r["stolen"] for r in rounds),
        }
    return summary


def workload_order(name):
    return {"pairs": 0, "bursts": 1, "steal": 2}.get(name, 9), name


def alloc_order(name):
    return {"percpu": 0, "baseline": 1, "lock": 2, "null": 3}.get(name, 9), name


def print_pmem_table(summary):
    print("\n### pmem: alloc+free pairs (median of %d rounds per row)\n"
          % max(s["rounds"] for s in summary.values()))
    print("| workload | harts | allocator | pairs/s total | pairs/s per hart "
          "| spins / 1000 ops | spins / acquire | steals | pages stolen |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for key in sorted(summary, key=lambda k: (workload_order(k[0]), k[1], alloc_order(k[2]))):
        s = summary[key]
        print("| %s | %d | %s | %.0f | %.0f | %.2f | %.4f | %.0f | %.0f |" % (
            key[0], key[1], ALLOC_NAMES.get(key[2], key[2]), s["total_rate"], s["hart_rate"],
            s["spins_per_1000_ops"], s["spins_per_acquire"], s["steals"], s["stolen"]))
    print("\npairs: every hart does 100,000 x (alloc, write a word, free) at once; at 2 harts "
          "this is the shape of xv6's kalloctest test1. bursts: 64 pages held per hart. "
          "steal: every page starts on CPU 0's list, each other hart takes 2048.")


def instr_figures(rows):
    per_pair = {}
    for row in rows:
        if row.get("bench") == "pmem_instr":
            per_pair[row["alloc"]] = int(row["instret"]) / int(row["pairs"])
    return per_pair


def print_instr_table(per_pair, debug_per_pair):
    """The bench kernel's counts, and a Debug kernel's beside them when it ran."""
    loop = per_pair.get("null", 0.0)
    print("\n### pmem: instructions per alloc+free pair (one hart, -icount shift=0, "
          "no poisoning)\n")
    debug = " | Debug build, per pair" if debug_per_pair else ""
    print("| allocator | instructions per pair | without the loop and calls%s |" % debug)
    print("|---|---:|---:|%s" % ("---:|" if debug_per_pair else ""))
    for alloc in sorted(per_pair, key=alloc_order):
        d = debug_per_pair.get(alloc)
        print("| %s | %.1f | %.1f |%s" % (ALLOC_NAMES.get(alloc, alloc), per_pair[alloc],
                                          per_pair[alloc] - loop,
                                          (" %.1f |" % d if d is not None else " - |")
                                          if debug_per_pair else ""))


def print_targets(summary, per_pair):
    print("\n### Targets (reported, not asserted)\n")
    print("| target | wanted | measured | met |")
    print("|---|---:|---:|---|")
    own = [s for (w, h, a), s in summary.items() if a == "percpu" and w in ("pairs", "bursts")]
    if own:
        spins = sum(s["spins"] for s in own)
        print("| spins on pmem locks, every hart on its own list (pairs, bursts; all runs) "
              "| %d | %d | %s |" % (TARGET_OWN_LIST_SPINS, spins,
                                     "yes" if spins <= TARGET_OWN_LIST_SPINS else "no"))
    for workload in ("pairs", "bursts"):
        p, b = summary.get((workload, 2, "percpu")), summary.get((workload, 2, "baseline"))
        if p and b and b["total_rate"]:
            ratio = p["total_rate"] / b["total_rate"]
            print("| total throughput at 2 harts, per-CPU / baseline (%s) | >= %.1fx | %.2fx | %s |"
                  % (workload, TARGET_SPEEDUP_2_HARTS, ratio,
                     "yes" if ratio >= TARGET_SPEEDUP_2_HARTS else "no"))
    if "percpu" in per_pair:
        n = per_pair["percpu"]
        print("| instructions per alloc+free pair, per-CPU, no poisoning | <= %d | %.1f | %s |"
              % (TARGET_INSTR_PER_PAIR, n, "yes" if round(n, 1) <= TARGET_INSTR_PER_PAIR else "no"))
    # What bounds the two figures that depend on the lock itself.
    lock2, base2 = summary.get(("pairs", 2, "lock")), summary.get(("pairs", 2, "baseline"))
    if lock2 and base2 and base2["total_rate"]:
        print("\nFor scale: at 2 harts a bare per-hart lock round trip per call (no list at "
              "all) reaches %.2fx the baseline's pairs/s." % (lock2["total_rate"] / base2["total_rate"]))
    if "lock" in per_pair and "null" in per_pair:
        print("One acquire+release pair per call costs %.0f instructions per alloc+free pair "
              "(kernel/spinlock.c), before any allocator work."
              % (per_pair["lock"] - per_pair["null"]))


def print_lock_table(rows):
    """Contentions and bounces of each allocator's locks per 1000 alloc+free pairs (per
    operation, not per acquire: the per-CPU fast path takes no lock), per workload."""
    sums = {}
    for row in rows:
        if row.get("bench") != "pmem" or "bounces" not in row:
            continue
        key = (row["workload"], int(row["harts"]), row["alloc"])
        s = sums.setdefault(key, [0, 0, 0, 0])
        s[0] += int(row["acquires"])
        s[1] += int(row["contentions"])
        s[2] += int(row["bounces"])
        s[3] += sum(ints(row["pairs"]))
    if not sums:
        return
    print("\n### pmem locks: contentions and bounces (all rounds added up)\n")
    print("| workload | harts | allocator | alloc+free pairs | acquires | contentions | bounces "
          "| bounces / 1000 pairs |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for key in sorted(sums, key=lambda k: (workload_order(k[0]), k[1], alloc_order(k[2]))):
        a, c, b, n = sums[key]
        print("| %s | %d | %s | %d | %d | %d | %d | %.1f |" % (
            key[0], key[1], ALLOC_NAMES.get(key[2], key[2]), n, a, c, b, 1000.0 * b / n if n else 0))
    own = [v for (w, h, a), v in sums.items() if a == "percpu" and w in ("pairs", "bursts")]
    print("\nOwn lists (pairs, bursts): %d contentions and %d bounces on pmem locks (wanted: 0)."
          % (sum(v[1] for v in own), sum(v[2] for v in own)))


def print_drain_table(rows):
    rows = [r for r in rows if r.get("bench") == "pmem_drain"]
    if not rows:
        return
    print("\n### pmem: steal-heavy drain (one hart takes every page, page by page, and frees "
          "them, %s times; the others allocate and free single pages, or sleep: solo)\n"
          % rows[0]["rounds"])
    print("| allocator | harts | pages | most missed at a NULL | calls | longest call (us) "
          "| longest quiet call, solo (us) | calls over %d us | contentions | bounces |"
          % TARGET_DRAIN_CALL_US)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s%s | %s | %s | %s | %s | %.1f | %s | %s | %s | %s |" % (
            ALLOC_NAMES.get(r["alloc"], r["alloc"]), ", solo" if r.get("solo") == "1" else "",
            r["harts"], r["pages"], r["missed"], r["calls"], int(r["longest_ns"]) / 1000.0,
            "%.1f" % (int(r["quiet_ns"]) / 1000.0) if r.get("solo") == "1" else "-",
            r["over_%dus" % TARGET_DRAIN_CALL_US],
            r["contentions"], r["bounces"]))
    solo = [r for r in rows if r.get("solo") == "1"]
    if solo:
        us = int(solo[0]["quiet_ns"]) / 1000.0
        print("\nLongest pmem critical section, bounded by the longest quiet call of the solo "
              "drain (wanted <= %d us): %.1f us, %s." % (TARGET_DRAIN_CALL_US, us,
                                                      "met" if us <= TARGET_DRAIN_CALL_US else "NOT met"))
    print("\nNo pmem lock is held longer than the longest call that took it. Under -icount a "
          "call's time also counts the turns QEMU gives the other harts; a quiet call saw no "
          "timer tick on any hart, and in the solo run it measures the calling hart's own "
          "instructions (1 ns each). A NULL may miss at most one page per other hart (the one "
          "it holds).")


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def all_keys(rows):
    keys = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    return keys


def write_outputs(args, rows, summary, per_pair):
    rows = [r for r in rows if r.get("bench", "").startswith("pmem")]
    raw_keys = all_keys(rows)
    write_csv(os.path.join(args.out, "pmem_raw.csv"), raw_keys,
              [[row.get(k, "") for k in raw_keys] for row in rows])
    fields = ["rounds", "total_rate", "hart_rate", "spins", "acquires", "spins_per_1000_ops",
              "spins_per_acquire", "steals", "stolen"]
    write_csv(os.path.join(args.out, "pmem.csv"), ["workload", "harts", "alloc"] + fields,
              [list(k) + [summary[k][f] for f in fields] for k in
               sorted(summary, key=lambda k: (workload_order(k[0]), k[1], alloc_order(k[2])))])
    loop = per_pair.get("null", 0.0)
    write_csv(os.path.join(args.out, "pmem_instr.csv"),
              ["alloc", "instructions_per_pair", "without_loop"],
              [[a, per_pair[a], per_pair[a] - loop] for a in sorted(per_pair, key=alloc_order)])


GNUPLOT_SCRIPT = """\
set terminal {terminal} size 1200,480 font ",10"
set output '{png}'
set multiplot layout 1,2 title "hartos pmem under QEMU on {cores} host cores: alloc+free pairs per second, all harts together (median of {rounds} rounds)"
set xlabel 'harts'
set ylabel 'million pairs / s'
set xtics ({xtics})
set grid
set key bottom right
set yrange [0:*]
set title 'pairs (xv6 kalloctest test1 shape)'
plot '{dat}' index 0 using 1:($2/1e6) with linespoints lw 2 title 'per-CPU lists', \\
     '' index 0 using 1:($3/1e6) with linespoints lw 2 title 'single lock (baseline)', \\
     '' index 0 using 1:($4/1e6) with linespoints dt 2 title 'lock only (calibration)'
set title 'bursts of 64 pages per hart'
plot '{dat}' index 1 using 1:($2/1e6) with linespoints lw 2 title 'per-CPU lists', \\
     '' index 1 using 1:($3/1e6) with linespoints lw 2 title 'single lock (baseline)'
unset multiplot
"""


def plot(args, summary, harts):
    if not args.gnuplot:
        print("\nbench: gnuplot not found: plot skipped. Install it with: "
              "apt-get install gnuplot-nox (then re-run cmake)")
        return
    dat = os.path.join(args.out, "pmem.dat")
    with open(dat, "w") as f:
        for workload in ("pairs", "bursts"):
            f.write("# %s: harts percpu baseline lock (total pairs/s)\n" % workload)
            for h in harts:
                vals = [summary.get((workload, h, a), {}).get("total_rate", float("nan"))
                        for a in ("percpu", "baseline", "lock")]
                f.write("%d %s\n" % (h, " ".join("%.1f" % v for v in vals)))
            f.write("\n\n")
    png = os.path.join(args.out, "pmem.png")
    rounds = max(s["rounds"] for s in summary.values())
    for terminal in ("pngcairo", "png"):
        gp = os.path.join(args.out, "pmem.gp")
        with open(gp, "w") as f:
            f.write(GNUPLOT_SCRIPT.format(terminal=terminal, png=png, dat=dat, rounds=rounds,
                                          cores=os.cpu_count(),
                                          xtics=", ".join(str(h) for h in harts)))
        r = subprocess.run([args.gnuplot, gp], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode == 0:
            print("\nbench: plot written: %s" % png)
            return
    print("\nbench: gnuplot failed, no plot: %s" % r.stdout.decode("utf-8", "replace").strip())


def report_other(args, rows):
    """The other benchmarks: a benchmark with its own reporter, tools/bench_<name>.py
    with report(rows, out, gnuplot), gets its rows; any other is shown as it is, one
    table and one CSV file."""
    for name in sorted({r["bench"] for r in rows if not r.get("bench", "pmem").startswith("pmem")}):
        mine = [r for r in rows if r.get("bench") == name]
        reporter = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_%s.py" % name)
        if os.path.exists(reporter):
            sys.dont_write_bytecode = True  # no __pycache__ in the source tree
            sys.path.insert(0, os.path.dirname(reporter))
            module = __import__("bench_%s" % name)
            if hasattr(module, "report"):
                module.report(mine, args.out, args.gnuplot)
                continue
        keys = [k for k in all_keys(mine) if k != "bench"]
        print("\n### %s (as the kernel printed it)\n" % name)
        print("| " + " | ".join(keys) + " |")
        print("|" + "---|" * len(keys))
        for r in mine:
            print("| " + " | ".join(r.get(k, "") for k in keys) + " |")
        path = os.path.join(args.out, "%s.csv" % name)
        write_csv(path, keys, [[r.get(k, "") for k in keys] for r in mine])
        print("\nbench: CSV written: %s" % path)


def main():
    ap = argparse.ArgumentParser(description="Run the hartos benchmarks under QEMU and report.")
    ap.add_argument("--qemu", required=True, help="qemu-system-riscv64")
    ap.add_argument("--bios", required=True, help="OpenSBI firmware path, or 'default'")
    ap.add_argument("--kernel", required=True, help="hartos.elf (build it without poisoning)")
    ap.add_argument("--smp", default="1,2,4", help="hart counts, comma-separated (1,2,4)")
    ap.add_argument("--mem", default="128M", help="QEMU -m size")
    ap.add_argument("--timeout", type=int, default=240, help="seconds per boot")
    ap.add_argument("--out", required=True, help="folder for CSV, plot and logs")
    ap.add_argument("--gnuplot", default="", help="gnuplot program; empty: no plot")
    ap.add_argument("--disk", default="", help="test disk image (tools/mkdisk.py): also run "
                    "the disk benchmarks (bufcache, virtio) on a copy of it")
    ap.add_argument("--debug-kernel", default="", help="a Debug build of hartos.elf without "
                    "poisoning: its instruction counts are reported beside --kernel's")
    args = ap.parse_args()
    try:
        harts = [int(h) for h in args.smp.split(",")]
    except ValueError:
        ap.error("--smp wants numbers like 1,2,4")
    os.makedirs(os.path.join(args.out, "logs"), exist_ok=True)

    start = time.monotonic()
    load = os.getloadavg()[0]
    print("bench: host: %d cores, load average %.1f" % (os.cpu_count(), load))
    if load > os.cpu_count() / 2:
        print("bench: warning: the host is busy: harts share its cores with other work, so "
              "rates are low and noisy (ratios measured in one boot hold up better)")
    rows, failed, one_list = [], False, False
    runs = [(h, "bench=pmem", [], "pmem-smp%d.log" % h) for h in harts]
    runs.append((1, "bench=pmem_instr", ["-icount", "shift=0"], "pmem_instr-icount.log"))
    drain_harts = 4 if 4 in harts else max(harts)
    if drain_harts > 1:
        runs.append((drain_harts, "bench=pmem_drain", ["-icount", "shift=0"],
                     "pmem_drain-smp%d-icount.log" % drain_harts))
    # The lock itself (tests/bench_lock.c, reported by tools/bench_lock.py): its
    # instructions on one hart under -icount, its fairness at 8 harts, and bounces per
    # design (with the disk boot when there is a disk, so the cache rows come too).
    runs.append((1, "bench=lock_instr", ["-icount", "shift=0"], "lock_instr-icount.log"))
    runs.append((8, "bench=lock_fair", [], "lock_fair-smp8.log"))
    if not args.disk:
        runs.append((max(harts), "bench=lock_bounces", [], "lock_bounces-smp%d.log" % max(harts)))
    if args.disk:
        copy = os.path.join(args.out, "disk.img")
        runs.append((max(harts), "bench=bufcache,virtio,lock_bounces",
                     ["-drive", "file=%s,if=none,format=raw,id=hd0" % copy,
                      "-device", "virtio-blk-device,drive=hd0,bus=virtio-mmio-bus.0"],
                     "disk-smp%d.log" % max(harts)))
    for smp, append, extra, log in runs:
        if args.disk and log.startswith("disk-"):
            shutil.copyfile(args.disk, copy)  # every run starts from the pristine image
        status, text = boot(args, smp, append, extra, log,
                            DRAIN_MEM if append == "bench=pmem_drain" else None)
        got = parse(text)
        if status != 0 or "BENCH-END" not in text or not got:
            failed = True
            tail = "\n".join(text.splitlines()[-15:])
            print("bench: error: %s did not run to the end; last lines:\n%s" % (log, tail))
        for row in got:
            if "poison" in row and row["poison"] != "0":
                print("bench: warning: %s ran with poisoning on: figures are not comparable"
                      % log)
                break
        rows += got
        # pmem_init's boot line says how many lists there are: one on several harts is a
        # single-lock allocator (the locks lab's starter, or a student's unfinished one).
        one_list = one_list or (smp > 1 and re.search(r"^pmem: .* on 1 lists", text, re.M))

    debug_per_pair = {}
    if args.debug_kernel:
        # The Debug build's checks cost instructions too: the same two counts, on it.
        status, text = boot(argparse.Namespace(**dict(vars(args), kernel=args.debug_kernel)), 1,
                            "bench=pmem_instr,lock_instr", ["-icount", "shift=0"],
                            "instr-debug-icount.log")
        got = parse(text)
        if status != 0 or "BENCH-END" not in text or not got:
            failed = True
            print("bench: error: the Debug kernel's instruction counts did not run to the end")
        debug_per_pair = instr_figures(got)
        rows += [r for r in got if r.get("bench") != "pmem_instr"]  # lock rows say debug=1
    if one_list:
        ALLOC_NAMES["percpu"] = "one list (mm/pmem.c)"
        print("\nbench: mm/pmem.c keeps one free list on several harts (the locks lab's "
              "starter?): its rows below are a single-lock design and the targets cannot be met")
    summary = summarise(rows)
    per_pair = instr_figures(rows)
    if summary:
        print_pmem_table(summary)
    if per_pair:
        print_instr_table(per_pair, debug_per_pair)
    print_lock_table(rows)
    print_drain_table(rows)
    print_targets(summary, per_pair)
    write_outputs(args, rows, summary, per_pair)
    print("\nbench: CSV written: %s" % ", ".join(os.path.join(args.out, n) for n in
                                                 ("pmem.csv", "pmem_instr.csv", "pmem_raw.csv")))
    if summary:
        plot(args, summary, [h for h in harts if any(k[1] == h for k in summary)])
    report_other(args, rows)
    print("bench: done in %.0f s%s" % (time.monotonic() - start,
                                       "; some boots FAILED (see above)" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
