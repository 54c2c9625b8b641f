#!/usr/bin/env python3
"""Description: drive the hartos monitor over a pseudo-terminal (CTest tests monitor@smpN).

Boots hartos with no ktest= on the kernel command line, so kmain starts the monitor
(kernel/monitor.c), under QEMU -nographic with QEMU's stdin and stdout on a pseudo-
terminal, as a user's terminal would be. Then it types like a user: waits for the
prompt, sends a command, waits for the next prompt and checks the reply in between:
  help lists every command; harts shows N online harts; threads lists the monitor
  thread; mem's per-CPU free pages add up to its total; lockstat lists runq.cpu0;
  an unknown command or a bad argument gets one error line and the prompt comes back;
  the line editor's Backspace, Ctrl-U, Ctrl-C and Up arrow work; `test lib` prints
  KTAP with ok and the monitor stays up; `test spinlock,bufcache` passes twice in a
  row; Ctrl-C stops `stress pmem 30` within seconds; `stress bufcache 2` runs to its
  end, after which lockstat shows the buffers' locks as one row; `read 0` dumps block 0
  of the disk (a fresh copy of the image, as tools/ktest_runner.py attaches it) byte
  for byte; `poweroff` makes QEMU exit with status 0.
The kernel command line holds only what tools/ktest_runner.py adds to every boot
(test.smp= and test.mem=, which the boot and lib suites compare with the device tree).
Everything QEMU prints goes into the log (--log) as it arrives. Each wait has its own
deadline and the whole run has --timeout, after which QEMU is killed: it never hangs.
Only the standard library is used. Exit status: 0 pass, 1 fail, 2 bad command line.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tty

from ktest_runner import kernel_cmdline, mem_mib

PROMPT = "hartos> "
BLOCK_SIZE = 1024  # drivers/virtio_blk.h VIRTIO_BLK_BSIZE
TAIL_LINES = 40
COMMANDS = ["help", "harts", "threads", "mem", "lockstat", "bcache", "test", "stress",
            "bench", "read", "poweroff"]


class Timeout(Exception):
    """A wait ran out: the monitor is not answering, so no later check can pass."""


class Console:
    """QEMU on a pseudo-terminal: type into it, wait for text to come out of it."""

    def __init__(self, cmd, log_path, deadline):
        self.deadline = deadline
        self.text = ""  # everything printed so far, CR removed
        self.pos = 0  # where the next expect() starts looking
        self.cond = threading.Condition()
        self.closed = False
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo or line editing by the pty itself: the kernel does both
        self.master = master
        self.log = open(log_path, "w", encoding="utf-8")
        self.log.write("monitor_test: %s\n" % " ".join(cmd))
        self.log.flush()
        try:
            self.proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                                         start_new_session=True)
        finally:
            os.close(slave)
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self):
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:  # EIO: QEMU exited and closed the slave
                data = b""
            text = data.decode("utf-8", errors="replace").replace("\r", "")
            with self.cond:
                if not data:
                    self.closed = True
                self.text += text
                self.cond.notify_all()
            if not data:
                return
            self.log.write(text)
            self.log.flush()

    def send(self, keys):
        os.write(self.master, keys.encode())

    def expect(self, pattern, timeout, what):
        """Waits for the regex after the last match; returns the match and moves past it."""
        rx = re.compile(pattern, re.MULTILINE)
        end = min(time.monotonic() + timeout, self.deadline)
        with self.cond:
            while True:
                m = rx.search(self.text, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                left = end - time.monotonic()
                if left <= 0 or self.closed:
                    raise Timeout("%s: no /%s/ within %g s%s" % (
                        what, pattern, timeout, " (QEMU exited)" if self.closed else ""))
                self.cond.wait(min(left, 0.2))

    def command(self, keys, timeout=15, what=None):
        """Types keys (Enter included) and returns the reply: the lines after the echoed
        line, up to the next prompt."""
        self.send(keys)
        start = self.pos
        self.expect(r"^" + re.escape(PROMPT), timeout, what or repr(keys))
        reply = self.text[start:self.pos - len(PROMPT)]
        return reply.split("\n", 1)[1] if "\n" in reply else ""

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        self.proc.wait()

    def close(self):
        """Kills QEMU if it still runs; the log is complete when this returns."""
        self.kill()
        self.pump.join(5)  # it ends at EIO, once QEMU's side of the pty is gone
        os.close(self.master)
        self.log.close()

    def tail(self):
        with self.cond:
            return self.text.split("\n")[-TAIL_LINES:]


class Checks:
    """Runs the checks in order and remembers which failed."""

    def __init__(self, con, smp, image):
        self.con, self.smp, self.image = con, smp, image
        self.failures, self.passed = [], 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print("ok - %s" % what)
        else:
            self.failures.append("%s%s" % (what, ": " + detail if detail else ""))
            print("not ok - %s%s" % (what, ": " + detail if detail else ""))

    def run(self):
        con, smp = self.con, self.smp
        con.expect(r"type 'help' for commands", 60, "boot banner")
        con.expect(r"^" + re.escape(PROMPT), 10, "first prompt")
        self.check(True, "boots to the monitor prompt")

        reply = con.command("help\r")
        missing = [c for c in COMMANDS if not re.search(r"^\s+%s\b" % c, reply, re.M)]
        self.check(not missing, "help lists every command", "missing %s" % missing)

        reply = con.command("harts\r")
        m = re.search(r"^(\d+) of (\d+) harts online", reply, re.M)
        rows = re.findall(r"^\d+\s+\d+\s+yes\s+\d+\s+\S", reply, re.M)
        self.check(m and int(m.group(1)) == smp and int(m.group(2)) == smp and len(rows) == smp,
                   "harts shows %d online harts" % smp, reply.strip())

        reply = con.command("threads\r")
        self.check(re.search(r"^monitor\s+running\s+0\b", reply, re.M),
                   "threads lists the monitor thread, running on cpu 0", reply.strip())

        self.check_mem(con.command("mem\r"))

        reply = con.command("lockstat\r")
        self.check(re.search(r"^runq\.cpu0\s+tas\s+\d+\s+\d+", reply, re.M), "lockstat lists runq.cpu0")
        reply = con.command("lockstat reset\r")
        self.check("0 again" in reply, "lockstat reset", reply.strip())

        self.check_errors()
        self.check_editor()

        reply = con.command("test lib\r", 90)
        self.check(re.search(r"^KTAP version 1$", reply, re.M)
                   and re.search(r"^ok 1 lib$", reply, re.M)
                   and "# ktest: 1 of 1 suites passed" in reply
                   and con.proc.poll() is None,
                   "test lib prints KTAP with ok and the monitor stays up",
                   "\n".join(reply.strip().split("\n")[-5:]))
        # Suites that keep static state (registered locks, a test cache, blocks they
        # wrote) must pass when a student runs them again in the same boot.
        for run in (1, 2):
            reply = con.command("test spinlock,bufcache\r", 120)
            self.check("# ktest: 2 of 2 suites passed" in reply,
                       "test spinlock,bufcache passes, run %d in this boot" % run,
                       "\n".join(l for l in reply.split("\n") if "not ok" in l or ": " in l)[-2000:])

        self.check_stress()
        self.check_read()

        reply = con.command("bcache\r")
        # One row per bucket (the lab's starter has one): numbered 0.., holding every buffer.
        buckets = re.findall(r"^\s+(\d+)\s+(\d+)\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+$", reply, re.M)
        nbuf = re.search(r"^bcache bcache: (\d+) buffers", reply, re.M)
        self.check(re.search(r"^disk 0: \d+ blocks", reply, re.M) and buckets and nbuf
                   and [int(b[0]) for b in buckets] == list(range(len(buckets)))
                   and sum(int(b[1]) for b in buckets) == int(nbuf.group(1)),
                   "bcache shows the disk and every bucket, holding every buffer", reply.strip())

        con.send("poweroff\r")
        con.expect(r"powering off", 10, "poweroff")
        try:
            status = con.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            status = None
        self.check(status == 0, "poweroff makes QEMU exit 0", "status %s" % status)

    def check_mem(self, reply):
        lines = reply.strip().split("\n")
        header = next((l.split() for l in lines if l.startswith("cpu")), [])
        rows = [l.split() for l in lines if re.match(r"^\d+\s", l)]
        m = re.search(r"^free: (\d+) pages", reply, re.M)
        # As many rows as lists: one per CPU, or one for a single-list allocator.
        nlists = re.search(r"^free: \d+ pages .* on (\d+) lists", reply, re.M)
        ok = "free" in header and m and nlists and len(rows) == int(nlists.group(1))
        if ok:
            col = header.index("free")
            total = sum(int(r[col]) for r in rows)
            ok = total == int(m.group(1)) and total > 0
        self.check(ok, "mem: the per-CPU free pages add up to the total", reply.strip())

    def check_errors(self):
        con = self.con
        for keys, rx, what in [
                ("frobnicate\r", r"^monitor: unknown command 'frobnicate'", "unknown command"),
                ("read\r", r"^read: wrong number of arguments; usage: read <block>",
                 "missing argument"),
                ("stress pmem lots\r", r"^stress: bad argument 'lots'", "bad number"),
                ("stress frob 1\r", r"^stress: bad argument 'frob'", "bad stress target"),
                ("lockstat frob\r", r"^lockstat: bad argument 'frob'", "bad lockstat argument"),
                ("test nosuch\r", r"unknown test suite 'nosuch'", "unknown test suite"),
                ("bench nosuch\r", r"unknown benchmark 'nosuch'", "unknown benchmark")]:
            reply = con.command(keys)
            self.check(re.search(rx, reply, re.M) and len(reply.strip().split("\n")) == 1,
                       "%s: one error line, prompt back" % what, reply.strip())
        reply = con.command("harts\r")
        self.check("harts online" in reply, "the monitor still works after errors")

    def check_editor(self):
        con = self.con
        reply = con.command("hxyz\x7f\x7f\x7felp\r")
        self.check(re.search(r"^\s+poweroff\b", reply, re.M), "Backspace (DEL) edits the line")
        reply = con.command("garbage\x15mem\r")
        self.check(re.search(r"^free: \d+ pages", reply, re.M), "Ctrl-U kills the line")
        con.send("harts\x03")
        con.expect(r"\^C\n" + re.escape(PROMPT), 5, "Ctrl-C at the prompt")
        self.check(True, "Ctrl-C cancels the line being typed")
        reply = con.command("\x1b[A\r")  # Up: the last command entered, `mem`
        self.check(re.search(r"^free: \d+ pages", reply, re.M), "Up recalls the last command")

    def check_stress(self):
        con = self.con
        start = time.monotonic()
        con.send("stress pmem 30\r")
        con.expect(r"^\s*1s\s+\d+ pages", 15, "first stress counter line")
        con.send("\x03")
        stopped = time.monotonic()
        reply = con.command("", 10, "prompt after Ctrl-C")
        now = time.monotonic()
        self.check("stopped by Ctrl-C" in reply and ", 0 errors" in reply
                   and now - stopped < 5 and now - start < 20,
                   "Ctrl-C stops stress pmem 30 (prompt %.1f s after Ctrl-C, %.1f s after "
                   "the command)" % (now - stopped, now - start), reply.strip())
        reply = con.command("stress bufcache 2\r", 20)
        lines = re.findall(r"^\s*\ds\s+\d+ reads .* errors 0$", reply, re.M)
        self.check(len(lines) == 2 and "done after 2 s, 0 errors" in reply,
                   "stress bufcache 2 prints two counter lines and ends", reply.strip())
        # The storm went through most buffers: their 64 locks, all named bcache.buf, are one row.
        reply = con.command("lockstat\r")
        rows = re.findall(r"^bcache\.buf\s+tas(?:\s+(?:\d+|-))+(.*)$", reply, re.M)
        self.check(len(rows) == 1 and re.match(r"^\s+\((\d+) locks of this name\)$", rows[0]),
                   "lockstat shows the bcache.buf locks as one row", reply.strip())

    def check_read(self):
        con = self.con
        with open(self.image, "rb") as f:
            block0 = f.read(BLOCK_SIZE)
            nblocks = f.seek(0, os.SEEK_END) // BLOCK_SIZE
        reply = con.command("read 0\r")
        dumped = bytearray()
        for m in re.finditer(r"^([0-9a-f]{4}) ((?: [0-9a-f]{2}){16})  \|", reply, re.M):
            dumped += bytes(int(x, 16) for x in m.group(2).split())
        self.check(bytes(dumped) == block0, "read 0 dumps block 0 of the disk",
                   "%d bytes dumped" % len(dumped))
        reply = con.command("read %d\r" % nblocks)
        self.check(re.search(r"^read: bad argument '%d'" % nblocks, reply, re.M),
                   "read past the end of the disk is refused", reply.strip())


def add_machine_args(ap):
    """The options that say what to boot (shared with tools/monitor_session.py)."""
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--bios", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("--mem", default="128M")
    ap.add_argument("--disk", required=True, help="disk image; a fresh copy is attached")


def qemu_command(args, disk):
    """QEMU booting the kernel to its monitor (no ktest=), with disk on bus 0."""
    return [args.qemu, "-machine", "virt", "-nographic", "-bios", args.bios,
            "-kernel", args.kernel, "-smp", str(args.smp), "-m", args.mem,
            "-append", kernel_cmdline("", args.smp, args.mem),
            "-global", "virtio-mmio.force-legacy=false",
            "-drive", "file=%s,if=none,format=raw,id=hd0" % disk.replace(",", ",,"),
            "-device", "virtio-blk-device,drive=hd0,bus=virtio-mmio-bus.0"]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Drive the hartos monitor over a pty.")
    add_machine_args(ap)
    ap.add_argument("--timeout", type=float, default=180, help="seconds for the whole run")
    ap.add_argument("--log", required=True, help="console log (directories are created)")
    ap.add_argument("--name", help="name in the summary (default monitor@smpN)")
    args = ap.parse_args(argv)
    name = args.name or "monitor@smp%d" % args.smp
    try:
        mem_mib(args.mem)
    except ValueError as e:
        ap.error(str(e))
    for what, path in (("kernel", args.kernel), ("disk image", args.disk)):
        if not os.path.isfile(path):
            print("%s: FAIL\n%s not found: %s (build it first: ninja -C build)" % (name, what, path))
            return 1

    os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
    base = args.log[:-4] if args.log.endswith(".log") else args.log
    disk = base + ".disk.img"
    shutil.copyfile(args.disk, disk)
    cmd = qemu_command(args, disk)
    try:
        con = Console(cmd, args.log, time.monotonic() + args.timeout)
    except OSError as e:
        print("%s: FAIL\ncannot start QEMU (%s): %s" % (name, args.qemu, e))
        return 1

    def stop(signum, _frame):  # CTest's timeout or Ctrl-C must not leave QEMU running
        con.kill()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    checks = Checks(con, args.smp, args.disk)
    try:
        checks.run()
    except Timeout as e:
        checks.check(False, "the monitor answers", str(e))
    finally:
        con.close()
    if not checks.failures:
        print("%s: PASS (%d checks)" % (name, checks.passed))
        return 0
    print("---- last %d console lines (%s) ----" % (TAIL_LINES, name))
    print("\n".join(con.tail()))
    print("---- end of console ----")
    print("%s: FAIL (%d of %d checks)" % (name, len(checks.failures),
                                          len(checks.failures) + checks.passed))
    for f in checks.failures:
        print("  reason: %s" % f.split("\n")[0])
    print("log: %s" % os.path.abspath(args.log))
    return 1


if __name__ == "__main__":
    sys.exit(main())
