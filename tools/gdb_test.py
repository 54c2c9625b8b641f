#!/usr/bin/env python3
"""Description: check that gdb can debug hartos on QEMU (the CTest test `gdb_attach`).

Starts QEMU paused (`-S -gdb tcp::PORT`, a free port picked now) with 4 harts, then runs
gdb-multiarch in batch mode: load the symbols, attach, stop in kmain (the boot hart),
stop in secondary_main (another hart), and list the threads (one per hart). Passes when
all three are seen. QEMU and gdb are killed after --timeout seconds whatever happens.
Standard library only. Exit status: 0 pass, 1 fail.
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel picks it; QEMU binds it next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def kill_group(proc):
    if proc is not None and proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()


def gdb_commands(kernel: str, port: int, smp: int):
    cmds = [
        "set pagination off",
        "set confirm off",
        "set architecture riscv:rv64",
        "set tcp connect-timeout 20",
        "file " + kernel,
        "target remote localhost:%d" % port,
        # OpenSBI runs first from 0x80000000; the kernel's C code starts at kmain.
        "break kmain",
        "continue",
        "echo @@stop1\\n",
        "info symbol $pc",
    ]
    if smp > 1:
        cmds += [
            "break secondary_main",
            "continue",
            "echo @@stop2\\n",
            "info symbol $pc",
        ]
    cmds += [
        "echo @@threads\\n",
        "info threads",
        "echo @@end\\n",
        "kill",
    ]
    return cmds


def section(out: str, name: str) -> str:
    """Text gdb printed between `echo @@name` and the next @@ marker."""
    m = re.search(r"^@@%s\n(.*?)(?=^@@|\Z)" % re.escape(name), out, re.M | re.S)
    return m.group(1) if m else ""


def check(out: str, smp: int):
    """Problems found in gdb's output (empty list = pass)."""
    problems = []

    def stopped_in(marker, func):
        text = section(out, marker)
        if not re.search(r"^%s(?: \+ \d+)? in section" % func, text, re.M):
            problems.append("did not stop in %s (info symbol $pc said: %r)"
                            % (func, text.strip() or "nothing"))

    stopped_in("stop1", "kmain")
    if smp > 1:
        stopped_in("stop2", "secondary_main")
    threads = re.findall(r"^\*?\s*\d+\s+Thread ", section(out, "threads"), re.M)
    if len(threads) != smp:
        problems.append("info threads shows %d thread(s), expected %d (one per hart)"
                        % (len(threads), smp))
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--bios", required=True, help="OpenSBI firmware path, or 'default'")
    ap.add_argument("--gdb", required=True, help="gdb-multiarch")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--smp", type=int, default=4)
    ap.add_argument("--mem", default="128M")
    ap.add_argument("--append", default="", help="kernel command line")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--log", required=True, help="QEMU console and gdb transcript go here")
    args = ap.parse_args(argv)

    if not os.path.isfile(args.kernel):
        print("gdb_attach: FAIL\nkernel not found: %s (build it first)" % args.kernel)
        return 1
    os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
    kernel = os.path.abspath(args.kernel)
    deadline = time.monotonic() + args.timeout
    qemu = gdb = None
    out, problems = "", []

    def stop(signum, _frame):
        kill_group(gdb)
        kill_group(qemu)
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    console_path = args.log + ".console"
    try:
        # The port may be taken between free_port() and QEMU binding it: try a few.
        for attempt in range(3):
            port = free_port()
            qcmd = [args.qemu, "-machine", "virt", "-nographic", "-bios", args.bios,
                    "-kernel", kernel, "-smp", str(args.smp), "-m", args.mem,
                    "-S", "-gdb", "tcp::%d" % port]
            if args.append:
                qcmd += ["-append", args.append]
            console = open(console_path, "w")
            qemu = subprocess.Popen(qcmd, stdin=subprocess.DEVNULL, stdout=console,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            console.close()
            time.sleep(0.3)
            if qemu.poll() is None:
                break
        else:
            with open(console_path) as f:
                print("gdb_attach: FAIL\nQEMU did not start:\n" + f.read())
            return 1

        gcmd = [args.gdb, "-batch", "-nx"]
        for c in gdb_commands(kernel, port, args.smp):
            gcmd += ["-ex", c]
        gdb = subprocess.Popen(gcmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, universal_newlines=True,
                               start_new_session=True)
        try:
            out, _ = gdb.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            kill_group(gdb)
            out, _ = gdb.communicate()
            problems.append("TIMEOUT after %g s (gdb never got past a continue?)"
                            % args.timeout)
    finally:
        kill_group(gdb)
        kill_group(qemu)

    problems += check(out, args.smp)
    with open(args.log, "w") as f:
        f.write("# qemu: %s\n# gdb: %s\n" % (" ".join(qcmd), " ".join(gcmd)))
        f.write(out)
        f.write("\n# ---- QEMU console ----\n")
        with open(console_path, errors="replace") as c:
            f.write(c.read().replace("\r", ""))
    os.unlink(console_path)

    if problems:
        print(out[-4000:])
        print("gdb_attach: FAIL")
        for p in problems:
            print("  reason: " + p)
        print("log: " + os.path.abspath(args.log))
        return 1
    print("gdb_attach: stopped in kmain and secondary_main, %d threads (port %d)"
          % (args.smp, port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
