#!/usr/bin/env python3
"""Description: report the buffer cache benchmark (tests/bench_bufcache.c).

The kernel, booted with `bench=bufcache` and the test disk (tools/mkdisk.py image) on
virtio-mmio-bus.0, prints one line per measurement:

    BENCH bench=bufcache cache=bucketed workload=hit round=0 nbuf=64 harts=2
          ops=74368,76256 us=200054 hits=150624 misses=0 acquires=301248 spins=0
          hand_steps=0 errors=0

(on one line). This module turns those lines into medians over the rounds, a Markdown
table (bucketed beside single-lock), the targets it was built to meet, a CSV file and, with
gnuplot, a plot of hit-path throughput against harts. tools/bench.py can call
report(rows, out, gnuplot) with its parsed BENCH rows; run alone, it reads console logs:

    bench_bufcache.py [--out DIR] [--gnuplot PROG] console.log...

Only the standard library; any python3 >= 3.9.
"""

import argparse
import csv
import os
import statistics
import subprocess
import sys

TARGET_HIT_SPINS_PER_1K_ACQ = 0.1   # disjoint hit sets, bucketed cache
TARGET_HIT_RATIO_2_HARTS = 1.8      # bucketed / single-lock total throughput


def parse(text):
    """The BENCH lines of a console, as dicts of strings."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("BENCH "):
            rows.append(dict(w.split("=", 1) for w in line.split()[1:] if "=" in w))
    return rows


def figures(row):
    """Derived figures of one measurement."""
    ops = sum(int(v) for v in row["ops"].split(",") if v)
    us, harts = int(row["us"]), int(row["harts"])
    misses, acq, spins = int(row["misses"]), int(row["acquires"]), int(row["spins"])
    return {
        "ops_per_s": ops * 1e6 / us if us else 0.0,
        "spins": spins,
        "spins_per_1k_acq": 1000.0 * spins / acq if acq else 0.0,
        "spins_per_1k_ops": 1000.0 * spins / ops if ops else 0.0,
        "us_per_miss": us * harts / misses if misses else 0.0,
        "hand_steps_per_miss": int(row["hand_steps"]) / misses if misses else 0.0,
        "errors": int(row["errors"]),
    }


def summarise(rows):
    """Medians over the rounds, per (workload, nbuf, harts, cache). The bucketed rows
    also get `ratio`: the median over rounds of bucketed / single-lock ops/s, each
    round's pair measured back to back (steadier than a ratio of medians on a busy host)."""
    groups, by_round = {}, {}
    for row in rows:
        if row.get("bench") != "bufcache":
            continue
        key = (row["workload"], int(row["nbuf"]), int(row["harts"]), row["cache"])
        f = figures(row)
        groups.setdefault(key, []).append(f)
        by_round[key + (row.get("round"),)] = f["ops_per_s"]
    summary = {key: {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
               | {"rounds": len(rounds), "errors": sum(r["errors"] for r in rounds)}
               for key, rounds in groups.items()}
    for key, s in summary.items():
        if key[3] != "bucketed":
            continue
        ratios = [ops / by_round[key[:3] + ("single-lock", r)]
                  for (*k, r), ops in by_round.items() if tuple(k) == key
                  and by_round.get(key[:3] + ("single-lock", r))]
        if ratios:
            s["ratio"] = statistics.median(ratios)
    return summary


def order(key):
    workload, nbuf, harts, cache = key
    return ({"hit": 0, "miss": 1, "test0": 2}.get(workload, 9), nbuf, harts, cache != "bucketed")


def print_table(summary):
    print("\n### Buffer cache: bucketed (fs/bufcache.c) against single lock (baseline)\n")
    print("| workload | nbuf | harts | cache | ops/s | ratio | spins | spins/1k acq "
          "| spins/1k ops | us/miss | hand steps/miss |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for key in sorted(summary, key=order):
        s = summary[key]
        ratio = "%.2fx" % s["ratio"] if "ratio" in s else ""
        print("| %s | %d | %d | %s | %.0f | %s | %.0f | %.3f | %.3f | %.1f | %.2f |" % (
            key[0], key[1], key[2], key[3], s["ops_per_s"], ratio, s["spins"],
            s["spins_per_1k_acq"], s["spins_per_1k_ops"], s["us_per_miss"],
            s["hand_steps_per_miss"]))
    rounds = sorted({s["rounds"] for s in summary.values()})
    print("\nMedians over %s rounds per row; ratio = median of bucketed / single-lock ops/s "
          "within each round." %
          "/".join(str(r) for r in rounds))


def print_targets(summary):
    print("\n### Targets (reported, not asserted)\n")
    hits = sorted(((k, s) for k, s in summary.items() if k[0] == "hit" and k[3] == "bucketed"),
                  key=lambda ks: order(ks[0]))
    worst = max((s["spins_per_1k_acq"] for _, s in hits), default=None)
    if worst is not None:
        print("- hit path, disjoint sets: at most %.3f spins per 1000 acquires over %s harts "
              "(target <= %.1f): %s" % (
                  worst, ",".join(str(k[2]) for k, _ in hits), TARGET_HIT_SPINS_PER_1K_ACQ,
                  "met" if worst <= TARGET_HIT_SPINS_PER_1K_ACQ else "NOT met"))
    b = summary.get(("hit", 64, 2, "bucketed"))
    if b and "ratio" in b:
        r = b["ratio"]
        print("- hit path at 2 harts: %.2fx the single-lock baseline (target >= %.1fx): %s" %
              (r, TARGET_HIT_RATIO_2_HARTS, "met" if r >= TARGET_HIT_RATIO_2_HARTS else "NOT met"))
    small, large = summary.get(("miss", 64, 1, "bucketed")), summary.get(("miss", 512, 1, "bucketed"))
    if small and large:
        print("- miss path at 1 hart, nbuf 64 vs 512: %.1f vs %.1f us per miss, %.2f vs %.2f "
              "hand steps per miss (should not grow with nbuf)" % (
                  small["us_per_miss"], large["us_per_miss"], small["hand_steps_per_miss"],
                  large["hand_steps_per_miss"]))
    for key in sorted(k for k in summary if k[0] == "test0"):
        print("- test0 (%d harts, 65,000 ops), %s: tot = %.0f spins, %.3f per 1000 acquires" %
              (key[2], key[3], summary[key]["spins"], summary[key]["spins_per_1k_acq"]))
    errors = sum(s["errors"] for s in summary.values())
    if errors:
        print("- WARNING: %d reads failed during the bench" % errors)


def write_csv(path, summary):
    names = ["ops_per_s", "ratio", "spins", "spins_per_1k_acq", "spins_per_1k_ops", "us_per_miss",
             "hand_steps_per_miss", "rounds", "errors"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "nbuf", "harts", "cache"] + names)
        for key in sorted(summary, key=order):
            w.writerow(list(key) + [summary[key].get(n, "") for n in names])


def plot(summary, out, gnuplot):
    """bufcache.png: hit-path ops/s against harts, both caches."""
    data = os.path.join(out, "bufcache_hit.dat")
    harts = sorted({k[2] for k in summary if k[0] == "hit"})
    with open(data, "w") as f:
        for h in harts:
            b = summary.get(("hit", 64, h, "bucketed"), {}).get("ops_per_s", 0)
            s = summary.get(("hit", 64, h, "single-lock"), {}).get("ops_per_s", 0)
            f.write("%d %.0f %.0f\n" % (h, b, s))
    script = "\n".join([
        "set terminal pngcairo size 800,500", "set output '%s'" % os.path.join(out, "bufcache.png"),
        "set title 'Buffer cache hit path (disjoint block sets)'", "set xlabel 'harts'",
        "set ylabel 'bread+brelse per second'", "set key left top", "set yrange [0:*]",
        "set xtics (%s)" % ", ".join(str(h) for h in harts),
        "plot '%s' using 1:2 with linespoints title 'bucketed', "
        "'%s' using 1:3 with linespoints title 'single lock'" % (data, data), ""])
    try:
        subprocess.run([gnuplot], input=script.encode(), check=True, timeout=60)
        return os.path.join(out, "bufcache.png")
    except (OSError, subprocess.SubprocessError) as e:
        print("bench: warning: gnuplot failed for the bufcache plot: %s" % e)
        return None


def report(rows, out=None, gnuplot=""):
    """Prints the tables and targets; writes CSV and plot into out. Returns the summary."""
    summary = summarise(rows)
    if not summary:
        print("bench: no bufcache measurements (is the test disk attached?)")
        return summary
    print_table(summary)
    print_targets(summary)
    if out:
        os.makedirs(out, exist_ok=True)
        write_csv(os.path.join(out, "bufcache.csv"), summary)
        print("\nbench: CSV written: %s" % os.path.join(out, "bufcache.csv"))
        if gnuplot and any(k[0] == "hit" for k in summary):
            png = plot(summary, out, gnuplot)
            if png:
                print("bench: plot written: %s" % png)
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(description="Report bench=bufcache console logs.")
    ap.add_argument("logs", nargs="+", help="console logs of bench=bufcache boots")
    ap.add_argument("--out", help="folder for bufcache.csv (and the plot)")
    ap.add_argument("--gnuplot", default="", help="gnuplot program; empty: no plot")
    args = ap.parse_args(argv)
    rows = []
    for path in args.logs:
        with open(path, encoding="utf-8", errors="replace") as f:
            rows += parse(f.read())
    return 0 if report(rows, args.out, args.gnuplot) else 1


if __name__ == "__main__":
    sys.exit(main())
