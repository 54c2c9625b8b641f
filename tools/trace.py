#!/usr/bin/env python3
"""Description: hartos lock traces: from the kernel's dump to a timeline.

The kernel prints its per-hart trace rings in a framed text form (kernel/trace.h):

    TRACE-BEGIN v1 label=pmem-baseline harts=4 timebase=10000000 capacity=16383
    L 8055c580 pmem.baseline                 a lock's name
    T 80257af8 ktest/0                       a thread's name
    E 1 123456789 acq 8055c580 3             hart, time, kind, object, argument
    H 1 events=12000 dropped=0
    TRACE-END events=48000 dropped=0

This tool reads that from a console log or a `.trace` file (tools/ktest_runner.py writes
<log>.trace) and
  - converts each dump into Chrome trace-event JSON (<label>.json), which Perfetto
    (ui.perfetto.dev) and chrome://tracing open: one process per hart; lock holds are
    slices named after the lock, spins are slices of their own ("spin: <lock>", from
    finding the lock taken to getting it), threads' time on the hart is a slice track of
    its own, and steals, misses and evictions are instant events;
  - draws a PNG timeline with gnuplot: harts as rows, lock holds coloured by lock, spins
    in red below them, a short window (a few milliseconds) where every hart is busy;
    several dumps stacked on one picture share colours and window length;
  - checks a dump (`check`): events from every hart, time never going back on a hart,
    acquires and releases of each lock alternating on each hart, no two harts holding
    one lock at once, the dropped count reported; and that the JSON loads and its
    slices nest on every track.

Subcommands:
    convert INPUT... --out DIR [--png] [--gnuplot P] [--symbols hartos.sym]
    check TRACE [--harts N] [--out DIR]                       (exit 1 on a problem)
    selftest                          the checks above on made-up dumps (exit 1 if blind)
    run --qemu Q --bios B --kernel K --bench pmem_trace --out DIR [--disk IMG]
        [--compare NAME=LABEL,LABEL ...] [--cost]   boot, convert, draw (ninja trace-*)

Only the standard library is used; the PNG needs gnuplot (gnuplot-nox).
"""

import argparse
import bisect
import json
import os
import re
import shutil
import subprocess
import sys
import time

KINDS = ("req", "acq", "rel", "steal", "miss", "evict", "switch", "mark")
# Colours for the locks that are held longest in a picture; the rest are grey.
PALETTE = ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
           "#bcbd22")
OTHER_COLOUR, SPIN_COLOUR = "#c0c0c0", "#d62728"
# Thread lane, then lock lanes, in each hart's process (Chrome trace tids).
THREAD_TID, LOCK_TID = 0, 1
DESCRIPTIONS = {
    "pmem-baseline": "pmem, single lock (tests/pmem_baseline.c)",
    "pmem-percpu": "pmem, per-CPU lists (mm/pmem.c)",
    "pmem-percpu-steal": "pmem, per-CPU lists, every page starting on CPU 0",
    "bufcache-single-lock": "buffer cache hits, single lock (tests/bcache_baseline.c)",
    "bufcache-bucketed": "buffer cache hits, hash buckets (fs/bufcache.c)",
    "bufcache-single-lock-miss": "buffer cache misses, single lock",
    "bufcache-bucketed-miss": "buffer cache misses, hash buckets",
}


class Dump:
    """One TRACE-BEGIN .. TRACE-END block."""

    def __init__(self, header):
        self.header = header
        self.label = header.get("label", "trace")
        self.harts = int(header.get("harts", 0))
        self.timebase = int(header.get("timebase", 10000000))
        self.capacity = int(header.get("capacity", 0))
        self.locks, self.threads = {}, {}
        self.events = {}       # hart -> [(time, kind, obj, arg)] in ring order
        self.hart_info = {}    # hart -> {"events": n, "dropped": n}
        self.end = None        # the TRACE-END fields, or None if the dump was cut off
        self.bad_lines = []

    def lock_name(self, obj):
        return self.locks.get(obj) or "lock@%x" % obj

    def us(self, t, t0):
        return (t - t0) * 1e6 / self.timebase


def fields(words):
    return dict(w.split("=", 1) for w in words if "=" in w)


def parse(lines):
    """Every dump in some console text, in order."""
    dumps, cur = [], None
    for raw in lines:
        line = raw.replace("\r", "").strip()
        words = line.split()
        if not words:
            continue
        if words[0] == "TRACE-BEGIN":
            cur = Dump(fields(words[2:]))
            dumps.append(cur)
        elif cur is None or cur.end is not None:
            continue
        elif words[0] == "TRACE-END":
            cur.end = fields(words[1:])
        elif words[0] in ("L", "T") and len(words) >= 3:
            (cur.locks if words[0] == "L" else cur.threads)[int(words[1], 16)] = \
                " ".join(words[2:])
        elif words[0] == "E" and len(words) == 6 and words[3] in KINDS:
            hart = int(words[1])
            cur.events.setdefault(hart, []).append(
                (int(words[2]), words[3], int(words[4], 16), int(words[5])))
        elif words[0] == "H" and len(words) >= 2:
            cur.hart_info[int(words[1])] = {k: int(v) for k, v in fields(words[2:]).items()}
        else:
            cur.bad_lines.append(line)
    return dumps


def read_symbols(path):
    """address -> name from `nm -n` output (build/hartos.sym): names unregistered locks."""
    syms = {}
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[1] in "bBdDsS":
                    syms[int(parts[0], 16)] = parts[2]
    return syms


# ---------------------------------------------------------------------------------------
# From events to intervals
# ---------------------------------------------------------------------------------------

def intervals(dump):
    """Per hart: holds (t0, t1, lock, spins), spins (t0, t1, lock, n), thread runs
    (t0, t1, thread) and instants (t, kind, obj, arg). Unmatched ends (a lock taken
    before the trace started, one still held when it stopped) are left out."""
    out = {}
    for hart, evs in dump.events.items():
        holds, spins, runs, instants = [], [], [], []
        asked, held, running = {}, {}, None
        for t, kind, obj, arg in evs:
            if kind == "req":
                asked[obj] = t
            elif kind == "acq":
                t_req = asked.pop(obj, None)
                if arg and t_req is not None:
                    spins.append((t_req, t, obj, arg))
                held[obj] = (t, arg)
            elif kind == "rel":
                if obj in held:
                    t_acq, n = held.pop(obj)
                    holds.append((t_acq, t, obj, n))
            elif kind == "switch":
                if arg:
                    running = (t, obj)
                elif running and running[1] == obj:
                    runs.append((running[0], t, obj))
                    running = None
            else:
                instants.append((t, kind, obj, arg))
        out[hart] = {"holds": holds, "spins": spins, "runs": runs, "instants": instants}
    return out


def assign_lanes(slices):
    """Gives each (start, end, ...) slice a lane such that slices in one lane nest
    properly (Chrome's rule for one track). Holds need not nest: sleep() lets go of the
    condition lock while it still holds the thread's, so a hold may overlap another
    one without containing it; it then goes to a second lane. Returns [(lane, slice)]."""
    stacks, placed = [], []
    for s in sorted(slices, key=lambda s: (s[0], -s[1])):
        for lane, stack in enumerate(stacks):
            while stack and stack[-1] <= s[0]:
                stack.pop()
            if not stack or s[1] <= stack[-1]:
                break
        else:
            stacks.append([])
            lane, stack = len(stacks) - 1, stacks[-1]
        stack.append(s[1])
        placed.append((lane, s))
    return placed


# ---------------------------------------------------------------------------------------
# Chrome trace-event JSON
# ---------------------------------------------------------------------------------------

def t_zero(dump):
    firsts = [evs[0][0] for evs in dump.events.values() if evs]
    return min(firsts) if firsts else 0


def to_chrome(dump, symbols=None):
    symbols = symbols or {}

    def lock_name(obj):
        return dump.locks.get(obj) or symbols.get(obj) or "lock@%x" % obj

    t0, per_hart, events = t_zero(dump), intervals(dump), []
    us = lambda t: round(dump.us(t, t0), 3)  # noqa: E731
    for hart in sorted(per_hart):
        iv, pid = per_hart[hart], hart + 1
        events.append({"name": "process_name", "ph": "M", "pid": pid, "tid": THREAD_TID,
                       "args": {"name": "hart %d" % hart}})
        events.append({"name": "process_sort_index", "ph": "M", "pid": pid,
                       "tid": THREAD_TID, "args": {"sort_index": hart}})
        events.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": THREAD_TID,
                       "args": {"name": "threads"}})
        for a, b, obj in iv["runs"]:
            events.append({"name": dump.threads.get(obj, "thread@%x" % obj), "cat": "thread",
                           "ph": "X", "ts": us(a), "dur": round(us(b) - us(a), 3), "pid": pid,
                           "tid": THREAD_TID})
        slices = [(a, b, "spin: " + lock_name(obj), "spin", obj, n)
                  for a, b, obj, n in iv["spins"]]
        slices += [(a, b, lock_name(obj), "lock", obj, n) for a, b, obj, n in iv["holds"]]
        lanes = 0
        for lane, (a, b, name, cat, obj, n) in assign_lanes(slices):
            lanes = max(lanes, lane + 1)
            events.append({"name": name, "cat": cat, "ph": "X", "ts": us(a),
                           "dur": round(us(b) - us(a), 3), "pid": pid, "tid": LOCK_TID + lane,
                           "args": {"lock": "0x%x" % obj, "spins": n}})
        for lane in range(max(lanes, 1)):
            events.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": LOCK_TID + lane,
                           "args": {"name": "locks" if lane == 0 else
                                    "locks (overlapping holds %d)" % lane}})
        for t, kind, obj, arg in iv["instants"]:
            if kind == "steal":
                args = {"from cpu": obj, "pages": arg}
            elif kind in ("miss", "evict"):
                args = {"cache": lock_name(obj), "block": arg}
            else:
                args = {"obj": "0x%x" % obj, "arg": arg}
            events.append({"name": kind, "cat": kind, "ph": "i", "s": "t", "ts": us(t),
                           "pid": pid, "tid": LOCK_TID, "args": args})
    return {"traceEvents": events, "displayTimeUnit": "ns",
            "otherData": {"label": dump.label, "harts": dump.harts,
                          "timebase": dump.timebase, "capacity": dump.capacity,
                          "dropped": int((dump.end or {}).get("dropped", -1)),
                          "source": "hartos kernel/trace.c via tools/trace.py"}}


def validate_chrome(doc, harts=None):
    """Structural problems of a trace-event JSON document (empty list: none)."""
    problems = []
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        return ["no traceEvents list"]
    tracks, named, open_b = {}, set(), {}
    for i, e in enumerate(doc["traceEvents"]):
        missing = [k for k in ("name", "ph", "pid", "tid") if k not in e]
        if e.get("ph") != "M" and "ts" not in e:
            missing.append("ts")
        if missing:
            problems.append("event %d lacks %s" % (i, ", ".join(missing)))
            continue
        ph, key = e["ph"], (e["pid"], e["tid"])
        if ph == "M":
            if e["name"] == "process_name":
                named.add(e["pid"])
        elif ph == "X":
            if not isinstance(e.get("dur"), (int, float)) or e["dur"] < 0:
                problems.append("event %d: X without a duration >= 0" % i)
            else:
                tracks.setdefault(key, []).append((e["ts"], e["ts"] + e["dur"]))
        elif ph in ("B", "E"):
            open_b[key] = open_b.get(key, 0) + (1 if ph == "B" else -1)
        elif ph not in ("i", "I"):
            problems.append("event %d: unexpected phase %r" % (i, ph))
    problems += ["track %s: %d B events without an E" % (k, n) for k, n in open_b.items() if n]
    for key, slices in tracks.items():
        stack = []
        for a, b in sorted(slices, key=lambda s: (s[0], -s[1])):
            while stack and stack[-1] <= a + 1e-9:
                stack.pop()
            if stack and b > stack[-1] + 1e-9:
                problems.append("track %s: slice %.3f..%.3f overlaps its parent without "
                                "nesting" % (key, a, b))
                break
            stack.append(b)
    if harts is not None:
        for hart in range(harts):
            if hart + 1 not in named:
                problems.append("no track (process_name) for hart %d" % hart)
    return problems


# ---------------------------------------------------------------------------------------
# Checks on the dump itself
# ---------------------------------------------------------------------------------------

def check_dump(dump, harts=None):
    problems = ["unreadable line: %s" % l for l in dump.bad_lines[:5]]
    if dump.end is None:
        return problems + ["no TRACE-END: the dump was cut off"]
    if "dropped" not in dump.end:
        problems.append("TRACE-END does not report dropped=")
    want = harts if harts is not None else dump.harts
    if dump.harts != want:
        problems.append("dump says harts=%d, expected %d" % (dump.harts, want))
    for hart in range(want):
        evs = dump.events.get(hart, [])
        if not evs:
            problems.append("hart %d: no events" % hart)
            continue
        info = dump.hart_info.get(hart)
        if info is None or info.get("events") != len(evs):
            problems.append("hart %d: %d events, its H line says %s"
                            % (hart, len(evs), info and info.get("events")))
        back = sum(1 for a, b in zip(evs, evs[1:]) if b[0] < a[0])
        if back:
            problems.append("hart %d: time goes back %d times" % (hart, back))
        problems += check_pairs(dump, hart, evs)
    dropped = sum(i.get("dropped", 0) for i in dump.hart_info.values())
    if str(dropped) != dump.end.get("dropped"):
        problems.append("TRACE-END dropped=%s, the harts' sum is %d"
                        % (dump.end.get("dropped"), dropped))
    problems += check_exclusion(dump)
    return problems


def check_pairs(dump, hart, evs):
    """On one hart, acquires and releases of a lock alternate. Allowed at the edges of
    the window: one release first (taken before tracing started) and one acquire last."""
    seen, held, problems = set(), {}, []
    for t, kind, obj, _ in evs:
        if kind not in ("acq", "rel"):
            continue
        first = obj not in seen
        seen.add(obj)
        if kind == "acq" and held.get(obj):
            problems.append("hart %d: %s acquired again at %d without a release"
                            % (hart, dump.lock_name(obj), t))
        if kind == "rel" and not held.get(obj) and not first:
            problems.append("hart %d: %s released at %d but not held"
                            % (hart, dump.lock_name(obj), t))
        held[obj] = kind == "acq"
    return problems[:10]


def check_exclusion(dump):
    """No two harts hold one lock at once: the trace records `acq` after taking a lock
    and `rel` before letting it go, so even the recorded holds never overlap."""
    by_lock = {}
    for hart, iv in intervals(dump).items():
        for a, b, obj, _ in iv["holds"]:
            by_lock.setdefault(obj, []).append((a, b, hart))
    problems = []
    for obj, holds in by_lock.items():
        holds.sort()
        for (a0, b0, h0), (a1, b1, h1) in zip(holds, holds[1:]):
            if a1 < b0 and h0 != h1:
                problems.append("%s held by hart %d (%d..%d) and hart %d (%d..%d) at once"
                                % (dump.lock_name(obj), h0, a0, b0, h1, a1, b1))
                break
    return problems


# ---------------------------------------------------------------------------------------
# The PNG (gnuplot)
# ---------------------------------------------------------------------------------------

def busiest_window(dump, iv, length_us):
    """Start (in dump ticks) of the window of length_us in which the harts are seen at
    work (taking locks) in the most tenths of the window, all harts together: a stretch
    where harts run side by side, not one hart alone while the host runs the others
    later. Ties go to the window with the most acquires."""
    acqs = [a for a in (sorted(h[0] for h in v["holds"]) for v in iv.values()) if a]
    if not acqs:
        return t_zero(dump)
    width = length_us * dump.timebase / 1e6
    tenth = width / 10
    lo, hi = min(a[0] for a in acqs), max(a[-1] for a in acqs)
    best, best_start, start = None, lo, lo

    def count(a, t0, t1):
        return bisect.bisect_left(a, t1) - bisect.bisect_left(a, t0)

    while start <= max(lo, hi - width):
        busy = sum(1 for a in acqs for k in range(10)
                   if count(a, start + k * tenth, start + (k + 1) * tenth))
        score = (busy, sum(count(a, start, start + width) for a in acqs))
        if best is None or score > best:
            best, best_start = score, start
        start += max(width / 20, 1)
    return int(best_start)


def window_stats(dump, iv, start, end):
    """Share of hart time spent spinning and holding locks within [start, end)."""
    def covered(items):
        return sum(max(0, min(b, end) - max(a, start)) for a, b, *_ in items)
    total = (end - start) * max(dump.harts, 1)
    spin = sum(covered(v["spins"]) for v in iv.values())
    # Holds nest; count time under at least one lock, per hart.
    hold = 0
    for v in iv.values():
        last = start
        for a, b, *_ in sorted(v["holds"]):
            a, b = max(a, last), min(b, end)
            if b > a:
                hold += b - a
                last = b
    return 100.0 * spin / total, 100.0 * hold / total


def lock_colours(panels):
    """The same lock gets the same colour in every panel: the longest-held names first."""
    held = {}
    for dump, iv, start, end in panels:
        for v in iv.values():
            for a, b, obj, _ in v["holds"]:
                if b > start and a < end:
                    name = dump.lock_name(obj)
                    held[name] = held.get(name, 0) + min(b, end) - max(a, start)
    names = sorted(held, key=lambda n: -held[n])
    return {n: PALETTE[i] for i, n in enumerate(names[:len(PALETTE)])}


def render_png(dumps, png, gnuplot, window_us=3000, title=None, start_us=None):
    """Draws dumps stacked, one panel each, same window length; returns problems. The
    window starts start_us after a dump's first event, or where the harts are busiest."""
    if not gnuplot:
        return ["gnuplot not found: no picture (apt-get install gnuplot-nox)"]
    base = os.path.splitext(png)[0]
    panels = []
    for d in dumps:
        iv = intervals(d)
        start = (busiest_window(d, iv, window_us) if start_us is None
                 else t_zero(d) + int(start_us * d.timebase / 1e6))
        panels.append((d, iv, start, start + int(window_us * d.timebase / 1e6)))
    colours = lock_colours(panels)
    harts = max(d.harts for d in dumps)
    height = 120 + len(dumps) * (90 + 48 * harts)
    gp = ['set terminal pngcairo size 1400,%d font ",10" noenhanced' % height,
          "set output '%s'" % png,
          'set multiplot layout %d,1 title "%s"' % (len(dumps), (title or "").replace('"', "'")),
          "set xlabel 'time in the window (microseconds)'",
          "set ytics (%s)" % ", ".join('"hart %d" %d' % (h, h) for h in range(harts)),
          "set yrange [%s:-0.6] reverse" % (harts - 0.4),
          "set xrange [0:%d]" % window_us,
          "set key outside right top vertical Left reverse samplen 1 width 1",
          "set rmargin 24", "set lmargin 9",
          "set grid xtics", "set style fill solid 1.0 noborder", "set mxtics 5"]
    for i, (d, iv, start, end) in enumerate(panels):
        dat = "%s.%d.dat" % (base, i)
        blocks, plots = [], []
        spin_pct, hold_pct = window_stats(d, iv, start, end)

        def x(t):
            return d.us(t, start)

        by_colour = {}
        for h, v in iv.items():
            depth_ends = []
            for a, b, obj, _ in sorted(v["holds"], key=lambda s: (s[0], -s[1])):
                if b <= start or a >= end:
                    continue
                while depth_ends and depth_ends[-1] <= a:
                    depth_ends.pop()
                depth = min(len(depth_ends), 2)
                depth_ends.append(b)
                name = d.lock_name(obj)
                key = name if name in colours else "other locks"
                xa, xb = x(max(a, start)), x(min(b, end))
                # Nested holds are drawn thinner, on top of the one they sit in.
                half = 0.17 - 0.05 * depth
                by_colour.setdefault(key, []).append(
                    (depth, "%.3f %.3f %.3f %.3f" % ((xa + xb) / 2, h - 0.17, (xb - xa) / 2, half)))
        spins = ["%.3f %.3f %.3f 0.15" % ((x(max(a, start)) + x(min(b, end))) / 2, h + 0.2,
                                          (x(min(b, end)) - x(max(a, start))) / 2)
                 for h, v in iv.items() for a, b, *_ in v["spins"] if b > start and a < end]
        marks = {}  # above the row: steals and misses; below it: evictions
        for h, v in iv.items():
            for t, kind, *_ in v["instants"]:
                if start <= t < end and kind != "mark":
                    y = h + 0.45 if kind == "evict" else h - 0.45
                    marks.setdefault(kind, []).append("%.3f %.3f" % (x(t), y))
        order = [n for n in sorted(colours, key=list(colours).index) if n in by_colour]
        if "other locks" in by_colour:
            order.append("other locks")
        for name in order:
            rows = [r for _, r in sorted(by_colour[name])]
            blocks.append(rows)
            plots.append("'%s' index %d using 1:2:3:4 with boxxyerror lc rgb '%s' title '%s'"
                         % (dat, len(blocks) - 1, colours.get(name, OTHER_COLOUR),
                            name.replace("'", "")))
        if spins:
            blocks.append(spins)
            plots.append("'%s' index %d using 1:2:3:4 with boxxyerror lc rgb '%s' "
                         "title 'spinning'" % (dat, len(blocks) - 1, SPIN_COLOUR))
        for kind, pt in (("steal", 7), ("miss", 11), ("evict", 9)):
            if kind in marks:
                blocks.append(marks[kind])
                plots.append("'%s' index %d using 1:2 with points pt %d ps 1.1 lc rgb 'black' "
                             "title '%s'" % (dat, len(blocks) - 1, pt, kind))
        with open(dat, "w") as f:
            for rows in blocks:
                f.write("\n".join(rows) + "\n\n\n")
        gp.append('set title "%s: %.0f%% of hart time spinning, %.0f%% holding a lock" '
                  'font ",11"' % (DESCRIPTIONS.get(d.label, d.label), spin_pct, hold_pct))
        gp.append("plot " + ", \\\n     ".join(plots) if plots else
                  "plot 1/0 notitle")
    gp.append("unset multiplot")
    script = base + ".gp"
    with open(script, "w") as f:
        f.write("\n".join(gp) + "\n")
    r = subprocess.run([gnuplot, script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        return ["gnuplot failed on %s: %s" % (script, r.stdout.decode("utf-8", "replace")[-800:])]
    return []


# ---------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------

def write_json(dump, out, symbols, prefix=""):
    path = os.path.join(out, "%s%s.json" % (prefix, dump.label))
    with open(path, "w") as f:
        json.dump(to_chrome(dump, symbols), f)
    return path


def convert(dumps, out, symbols, gnuplot, png, window_us, start_us=None):
    os.makedirs(out, exist_ok=True)
    problems = []
    for d in dumps:
        print("trace: %-26s %6d events, %d dropped -> %s" % (
            d.label, sum(len(e) for e in d.events.values()),
            int((d.end or {}).get("dropped", -1)), write_json(d, out, symbols)))
        if png:
            path = os.path.join(out, "%s.png" % d.label)
            p = render_png([d], path, gnuplot, window_us, "hartos: " + d.label, start_us)
            problems += p
            if not p:
                print("trace: %-26s picture -> %s" % (d.label, path))
    return problems


def read_input(paths):
    dumps = []
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as f:
            dumps += parse(f)
    return dumps


def cmd_convert(args):
    dumps = read_input(args.input)
    if not dumps:
        print("trace: no TRACE-BEGIN in %s" % ", ".join(args.input))
        return 1
    problems = convert(dumps, args.out, read_symbols(args.symbols), args.gnuplot, args.png,
                       args.window_us, args.start_us)
    for p in problems:
        print("trace: warning: %s" % p)
    return 0


def cmd_check(args):
    dumps = read_input([args.trace])
    problems = [] if dumps else ["no TRACE-BEGIN in %s" % args.trace]
    out = args.out or os.path.dirname(os.path.abspath(args.trace))
    for d in dumps:
        problems += ["%s: %s" % (d.label, p) for p in check_dump(d, args.harts)]
        stem = os.path.basename(args.trace).split(".log")[0].split(".trace")[0]
        path = write_json(d, out, {}, stem + ".")
        with open(path) as f:
            doc = json.load(f)  # what Perfetto and chrome://tracing read
        problems += ["%s.json: %s" % (d.label, p) for p in validate_chrome(doc, d.harts)]
        slices = sum(1 for e in doc["traceEvents"] if e["ph"] == "X")
        print("trace check: %s: harts=%d events=%d dropped=%s; %s: %d events, %d slices" % (
            d.label, d.harts, sum(len(e) for e in d.events.values()),
            (d.end or {}).get("dropped", "?"), path, len(doc["traceEvents"]), slices))
    for p in problems:
        print("trace check: FAIL: %s" % p)
    print("trace check: %s" % ("ok" if not problems else "%d problem(s)" % len(problems)))
    return 1 if problems else 0


def boot(args, smp, append, extra, name):
    """One QEMU boot; returns (exit status, console lines). Log (without the trace
    lines) and the dumps go to <out>/logs/<name>.log and .log.trace."""
    cmd = [args.qemu, "-machine", "virt", "-bios", args.bios, "-kernel", args.kernel,
           "-smp", str(smp), "-m", args.mem, "-nographic", "-append", append] + extra
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=args.timeout)
        status, text = p.returncode, p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        status, text = None, (e.stdout or b"").decode("utf-8", "replace")
    lines = text.replace("\r", "").splitlines()
    log = os.path.join(args.out, "logs", name + ".log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    dumping = False
    with open(log, "w") as f, open(log + ".trace", "w") as t:
        f.write("# %s\n" % " ".join(cmd))
        for line in lines:
            dumping = dumping or line.startswith("TRACE-BEGIN")
            (t if dumping else f).write(line + "\n")
            dumping = dumping and not line.startswith("TRACE-END")
    print("trace: boot %-22s %s in %.1f s (log: %s)" % (
        name, "timed out" if status is None else "exit %d" % status,
        time.monotonic() - start, log), flush=True)
    return status, lines


def cmd_run(args):
    os.makedirs(args.out, exist_ok=True)
    extra = []
    if args.disk:
        copy = os.path.join(args.out, "disk.img")
        shutil.copyfile(args.disk, copy)
        extra = ["-drive", "file=%s,if=none,format=raw,id=hd0" % copy,
                 "-device", "virtio-blk-device,drive=hd0,bus=virtio-mmio-bus.0"]
    load = os.getloadavg()[0]  # harts are host threads: a busy host shows in the picture
    status, lines = boot(args, args.smp, "bench=%s" % args.bench, extra, args.bench)
    dumps = [d for d in parse(lines) if d.end is not None]
    # pmem_init's boot line says how many lists there are: one on several harts is the
    # locks lab's starter (or a student's unfinished allocator), whose pictures say so.
    if args.smp > 1 and any(re.match(r"pmem: .* on 1 lists", l) for l in lines):
        print("trace: mm/pmem.c keeps one free list (the locks lab's starter?)")
        DESCRIPTIONS.update({
            "pmem-percpu": "pmem, one list (mm/pmem.c)",
            "pmem-percpu-steal": "pmem, one list (mm/pmem.c), every page on it"})
    failed = status != 0 or not dumps
    if failed:
        print("trace: error: bench=%s did not run to the end; last lines:\n%s"
              % (args.bench, "\n".join(lines[-15:])))
    symbols = read_symbols(args.symbols)
    problems = convert(dumps, args.out, symbols, args.gnuplot, True, args.window_us)
    by_label = {d.label: d for d in dumps}
    for spec in args.compare:
        name, labels = spec.split("=", 1)
        chosen = [by_label[l] for l in labels.split(",") if l in by_label]
        if len(chosen) < 2:
            continue
        path = os.path.join(args.out, name + ".png")
        title = ("hartos on %d harts under QEMU on %d host cores (load %.1f when it ran): "
                 "%s, %d us each" % (chosen[0].harts, os.cpu_count(), load,
                                     " vs ".join(d.label for d in chosen), args.window_us))
        p = render_png(chosen, path, args.gnuplot, args.window_us, title)
        problems += p
        if not p:
            print("trace: side by side -> %s" % path)
    for d in dumps:
        problems += ["%s: %s" % (d.label, p) for p in check_dump(d)]
    if args.cost:
        status, lines = boot(args, 1, "ktest=trace", ["-icount", "shift=0"], "trace-cost")
        cost = [l.strip(" #") for l in lines if "trace cost:" in l]
        print("trace: %s" % (cost[0] if cost else "no cost line (exit %s)" % status))
    for p in problems:
        print("trace: warning: %s" % p)
    return 1 if failed else 0


SELFTEST_GOOD = """TRACE-BEGIN v1 label=selftest harts=2 timebase=10000000 capacity=15
L 100 a
L 200 b
E 0 10 acq 100 0
E 0 12 acq 200 0
E 0 14 rel 100 0
E 0 16 rel 200 0
E 0 17 switch 300 1
E 0 40 switch 300 0
E 1 11 req 100 0
E 1 15 acq 100 2
E 1 18 steal 0 7
E 1 20 rel 100 0
H 0 events=6 dropped=0
H 1 events=4 dropped=3
TRACE-END events=10 dropped=3
"""
# Each bad dump, made from the good one, and words the check must say about it.
SELFTEST_BAD = [
    (("E 1 15 acq 100 2", "E 1 13 acq 100 2"), "at once"),        # two harts hold a
    (("E 0 16 rel 200 0", "E 0 9 rel 200 0"), "time goes back"),
    (("E 0 12 acq 200 0", "E 0 12 acq 100 0"), "acquired again"),
    (("TRACE-END events=10 dropped=3", ""), "cut off"),
    (("TRACE-END events=10 dropped=3", "TRACE-END events=10"), "dropped"),
]


def cmd_selftest(args):
    """The checker and the converter on small made-up dumps (CTest trace_tool)."""
    problems = []
    good = parse(SELFTEST_GOOD.splitlines())[0]
    problems += ["good dump: %s" % p for p in check_dump(good, 2)]
    doc = json.loads(json.dumps(to_chrome(good)))
    problems += ["good JSON: %s" % p for p in validate_chrome(doc, 2)]
    # a and b overlap without nesting (as in sleep()): two lock lanes, both well nested.
    if len({e["tid"] for e in doc["traceEvents"] if e.get("cat") == "lock"}) != 2:
        problems.append("overlapping holds did not get a lane each")
    if not any(e.get("cat") == "spin" and e["dur"] == 0.4 for e in doc["traceEvents"]):
        problems.append("no 0.4 us spin slice for hart 1")
    for (old, new), words in SELFTEST_BAD:
        bad = parse(SELFTEST_GOOD.replace(old, new).splitlines())[0]
        found = check_dump(bad, 2)
        if not any(words in p for p in found):
            problems.append("bad dump (%s -> %s): no problem mentions %r; got %s"
                            % (old, new, words, found))
    misnested = {"traceEvents": [
        {"name": "p", "ph": "X", "ts": 0, "dur": 5, "pid": 1, "tid": 1},
        {"name": "c", "ph": "X", "ts": 3, "dur": 5, "pid": 1, "tid": 1}]}
    if not validate_chrome(misnested):
        problems.append("misnested slices on one track not reported")
    for p in problems:
        print("trace selftest: FAIL: %s" % p)
    print("trace selftest: %s" % ("ok" if not problems else "%d problem(s)" % len(problems)))
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description="hartos lock traces: dump -> JSON and PNG.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    gnuplot = shutil.which("gnuplot") or ""

    c = sub.add_parser("convert", help="console log or .trace -> <label>.json (+ .png)")
    c.add_argument("input", nargs="+")
    c.add_argument("--out", default=".")
    c.add_argument("--png", action="store_true", help="also draw <label>.png")
    c.add_argument("--gnuplot", default=gnuplot)
    c.add_argument("--symbols", help="build/hartos.sym: names for locks not registered")
    c.add_argument("--window-us", type=int, default=2000, help="picture window (2000)")
    c.add_argument("--start-us", type=float, help="window start after the first event "
                   "(default: where the harts are busiest)")

    k = sub.add_parser("check", help="check a dump and its JSON (CTest trace@smp2.check)")
    k.add_argument("trace")
    k.add_argument("--harts", type=int, help="harts the dump must cover")
    k.add_argument("--out", help="folder for the JSON (default: next to the trace)")

    r = sub.add_parser("run", help="boot a traced benchmark, convert and draw (ninja trace-*)")
    r.add_argument("--qemu", required=True)
    r.add_argument("--bios", required=True)
    r.add_argument("--kernel", required=True)
    r.add_argument("--bench", required=True, help="pmem_trace or bufcache_trace")
    r.add_argument("--smp", type=int, default=4)
    r.add_argument("--mem", default="128M")
    r.add_argument("--disk", default="", help="test disk image (bufcache_trace needs it)")
    r.add_argument("--timeout", type=int, default=300)
    r.add_argument("--out", required=True)
    r.add_argument("--gnuplot", default=gnuplot)
    r.add_argument("--symbols")
    r.add_argument("--window-us", type=int, default=2000)
    r.add_argument("--compare", action="append", default=[], metavar="NAME=LABEL,LABEL",
                   help="also draw these dumps stacked in NAME.png")
    r.add_argument("--cost", action="store_true", help="also boot ktest=trace on one hart "
                   "under -icount and print instructions per acquire+release pair")
    sub.add_parser("selftest", help="check the checker on made-up dumps (CTest trace_tool)")
    args = ap.parse_args()
    return {"convert": cmd_convert, "check": cmd_check, "run": cmd_run,
            "selftest": cmd_selftest}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
