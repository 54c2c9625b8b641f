#!/usr/bin/env python3
"""Description: the soak run: boot the whole ktest suite many times, at several hart
counts, each time with a new random stress seed, and keep the log of every failure
together with the command that replays it. Not part of `ninja test` (it takes minutes);
run it as `ninja -C build soak` or directly:

    tools/soak.py --build build --runs 20 --smp 1,2,3,4

Each boot goes through tools/ktest_runner.py (fresh disk copy, timeout, KTAP judging)
and, when it wrote to the disk, tools/checkdisk.py. Logs of passing boots are deleted;
failing ones stay in <build>/soak/ under a name that carries the seed.
Standard library only.
"""
import argparse
import concurrent.futures
import os
import random
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def cmake_cache(build):
    """The build folder's CMakeCache.txt as a dict (QEMU, firmware, python paths)."""
    values = {}
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            if "=" in line and ":" in line.split("=", 1)[0] and not line.startswith(("#", "//")):
                key, value = line.rstrip("\n").split("=", 1)
                values[key.split(":", 1)[0]] = value
    return values


def boot(args, cache, index, smp, seed):
    """Runs one boot; returns (ok, seconds, log path, replay command)."""
    outdir = os.path.join(args.build, "soak")
    log = os.path.join(outdir, f"run{index:03d}-smp{smp}-seed{seed}.log")
    disk = os.path.join(args.build, "disk.img")
    cmd = [sys.executable, os.path.join(HERE, "ktest_runner.py"),
           "--qemu", cache["HARTOS_QEMU"], "--bios", cache["HARTOS_BIOS"],
           "--kernel", os.path.join(args.build, "hartos.elf"),
           "--smp", str(smp), "--mem", args.mem, "--timeout", str(args.timeout),
           "--append", f"ktest={args.suites} seed={seed}", "--log", log,
           "--name", f"soak{index}@smp{smp}"]
    if os.path.exists(disk):
        cmd += ["--disk", disk]
    start = time.monotonic()
    ok = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT).returncode == 0
    copy = log[:-len(".log")] + ".disk.img"
    if ok and os.path.exists(copy):
        check = [sys.executable, os.path.join(HERE, "checkdisk.py"), "--image", copy, "--log", log]
        ok = subprocess.run(check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT).returncode == 0
    seconds = time.monotonic() - start
    if ok:
        for path in (log, log + ".trace", copy):  # .trace: the trace suite's dump
            if os.path.exists(path):
                os.remove(path)
    return ok, seconds, log, shlex.join(cmd)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build", help="configured build folder")
    parser.add_argument("--runs", type=int, default=20, help="boots per hart count")
    parser.add_argument("--smp", default="1,2,3,4", help="hart counts, comma-separated")
    parser.add_argument("--suites", default="all", help="ktest= selection")
    parser.add_argument("--mem", default="128M")
    parser.add_argument("--timeout", type=int, default=180)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seed", type=int, help="seed for choosing the stress seeds")
    args = parser.parse_args()

    cache = cmake_cache(args.build)
    os.makedirs(os.path.join(args.build, "soak"), exist_ok=True)
    chooser = random.Random(args.seed)
    plan = [(i, int(smp), chooser.randrange(1, 2**32))
            for i in range(args.runs) for smp in args.smp.split(",")]
    print(f"soak: {len(plan)} boots of ktest={args.suites} ({args.runs} at each of "
          f"{args.smp} harts), {args.jobs} at a time", flush=True)
    failures, times = [], {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        jobs = {pool.submit(boot, args, cache, *p): p for p in plan}
        for done in concurrent.futures.as_completed(jobs):
            index, smp, seed = jobs[done]
            ok, seconds, log, replay = done.result()
            times.setdefault(smp, []).append(seconds)
            if not ok:
                failures.append((index, smp, seed, log, replay))
                print(f"soak: FAIL run {index} at {smp} harts, seed {seed}: {log}", flush=True)
    print("\n| harts | boots | failed | mean s | max s |\n|---|---|---|---|---|")
    for smp in sorted(times):
        t = times[smp]
        nfail = sum(1 for f in failures if f[1] == smp)
        print(f"| {smp} | {len(t)} | {nfail} | {sum(t) / len(t):.1f} | {max(t):.1f} |")
    for index, smp, seed, log, replay in failures:
        print(f"\nreplay run {index} (seed {seed}):\n  {replay}")
    print(f"\n{len(plan) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
