#!/usr/bin/env python3
"""Description: host-side self-tests of tools/ktest_runner.py, no QEMU needed.

The KTAP parser and the pass/fail rules are checked on fake consoles; the QEMU plumbing
(timeout, exit status, log streaming, disk copy) is checked by running the runner with a
small fake "QEMU" script in place of qemu-system-riscv64. Run: python3 tools/test_ktest_runner.py
"""

import os
import stat
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktest_runner as kr  # noqa: E402

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ktest_runner.py")

OPENSBI_NOISE = """\
OpenSBI v1.1
   ____                    _____ ____ _____
  / __ \\                  / ____|  _ \\_   _|
Platform Name             : riscv-virtio,qemu
Boot HART ID              : 3
hartos: 4 harts online, 128 MiB
"""

GOOD = OPENSBI_NOISE + """\
KTAP version 1
1..2
    KTAP version 1
    # Subtest: boot
    1..3
    ok 1 harts_online
    ok 2 dtb_memory
    ok 3 something # SKIP no disk
ok 1 boot
    KTAP version 1
    # Subtest: lib
    1..2
    ok 1 printf
    ok 2 string
ok 2 lib
"""


def fake(text):
    """Console lines as QEMU's serial delivers them: CRLF."""
    return [l + "\r\n" for l in textwrap.dedent(text).split("\n")]


def verdict(text, status=0, end=kr.EXITED, expect_panic=None):
    return kr.judge(kr.parse_ktap(fake(text)), status, end, expect_panic, 30, "t@smp2")


class ParserTest(unittest.TestCase):
    def test_nested_ok_passes_and_counts_leaves(self):
        v = verdict(GOOD)
        self.assertTrue(v.passed, v.reasons)
        self.assertEqual(v.summary, "t@smp2: 4 passed, 0 failed, 1 skipped")

    def test_structure(self):
        r = kr.parse_ktap(fake(GOOD))
        self.assertEqual(r.top.plan, 2)
        self.assertEqual([x.name for x in r.top.results], ["boot", "lib"])
        self.assertEqual([(b.name, b.plan, len(b.results)) for b in r.blocks],
                         [("boot", 3, 3), ("lib", 2, 2)])
        self.assertTrue(r.top.results[0].ok and not r.top.results[0].is_leaf)
        skip = r.blocks[0].results[2]
        self.assertTrue(skip.skipped)
        self.assertEqual(skip.directive, "SKIP no disk")

    def test_example_from_the_brief(self):
        v = verdict("""\
            KTAP version 1
            1..2
                KTAP version 1
                # Subtest: boot
                1..3
                ok 1 harts_online
                not ok 2 dtb_memory
                # tests/test_boot.c:40: expected ncpu == 4, got 2 != 4
                ok 3 something # SKIP no disk
            ok 1 boot
            not ok 2 lib
            """, status=1)
        self.assertFalse(v.passed)
        self.assertEqual(v.summary, "t@smp2: 1 passed, 2 failed, 1 skipped")
        self.assertTrue(any("not ok 2 dtb_memory" in r for r in v.reasons), v.reasons)
        self.assertTrue(any("not ok 2 lib" in r for r in v.reasons), v.reasons)

    def test_nested_not_ok_fails_even_with_exit_0(self):
        v = verdict(GOOD.replace("    ok 2 string", "    not ok 2 string"))
        self.assertFalse(v.passed)
        self.assertEqual(len(v.reasons), 1, v.reasons)
        self.assertIn("    not ok 2 string", v.reasons[0])

    def test_top_plan_mismatch(self):
        v = verdict(GOOD.replace("1..2\n    KTAP", "1..3\n    KTAP", 1))
        self.assertFalse(v.passed)
        self.assertIn("top level: plan 1..3 but 2 result(s)", v.reasons)

    def test_missing_results_after_plan(self):
        v = verdict(GOOD.split("ok 1 boot")[0])   # stopped inside the first suite
        self.assertFalse(v.passed)
        self.assertIn("top level: plan 1..2 but 0 result(s)", v.reasons)

    def test_subtest_plan_mismatch(self):
        v = verdict(GOOD.replace("    1..2\n", "    1..5\n"))
        self.assertFalse(v.passed)
        self.assertIn("subtest 'lib': plan 1..5 but 2 result(s)", v.reasons)

    def test_no_plan_at_all(self):
        v = verdict(OPENSBI_NOISE + "hartos: error: unknown test suite 'bogus'\n", status=1)
        self.assertFalse(v.passed)
        joined = "\n".join(v.reasons)
        self.assertIn("no KTAP report", joined)
        self.assertIn("hartos: error: unknown test suite 'bogus'", joined)
        self.assertIn("QEMU exited with status 1", joined)

    def test_results_without_plan(self):
        v = verdict("KTAP version 1\nok 1 a\nok 2 b\n")
        self.assertFalse(v.passed)
        self.assertIn("no top-level KTAP plan (1..N) before the results", v.reasons)

    def test_misnumbered_results(self):
        v = verdict("KTAP version 1\n1..2\nok 1 a\nok 1 b\n")
        self.assertFalse(v.passed)
        self.assertTrue(any("numbered [1, 1]" in r for r in v.reasons), v.reasons)

    def test_panic_fails(self):
        v = verdict(GOOD.split("ok 1 boot")[0] + "hart 2: panic: release: not holding pmem\n",
                    status=2)
        self.assertFalse(v.passed)
        self.assertIn("kernel panic: hart 2: panic: release: not holding pmem", v.reasons)
        self.assertIn("QEMU exited with status 2", v.reasons)

    def test_panic_fails_even_after_complete_report(self):
        v = verdict(GOOD + "panic: late\n", status=0)
        self.assertFalse(v.passed)

    def test_expected_panic(self):
        text = "KTAP version 1\n1..1\npanic: acquire: spinlock 'x' held twice\n"
        self.assertTrue(verdict(text, status=2, expect_panic=r"held twice").passed)
        self.assertFalse(verdict(text, status=0, expect_panic=r"held twice").passed)
        self.assertFalse(verdict(text, status=2, expect_panic=r"double free").passed)
        self.assertFalse(verdict(GOOD, status=0, expect_panic=r"held twice").passed)
        hang = verdict(text, status=None, end=kr.PANIC_HANG, expect_panic=r"held twice")
        self.assertFalse(hang.passed)

    def test_exit_status_nonzero_without_failures(self):
        v = verdict(GOOD, status=1)
        self.assertFalse(v.passed)
        self.assertEqual(v.reasons, ["QEMU exited with status 1"])

    def test_timeout(self):
        v = verdict(GOOD.split("ok 1 boot")[0], status=None, end=kr.TIMEOUT)
        self.assertFalse(v.passed)
        self.assertEqual(v.reasons[0], "TIMEOUT after 30 s")

    def test_cr_and_noise_robust(self):
        text = "\r\r" + GOOD.replace("\n", "\r\n") + "some trailing boot message\n"
        r = kr.parse_ktap(text.splitlines(keepends=True))
        self.assertEqual(r.counts(), (4, 0, 1))
        self.assertEqual(r.structure_problems(), [])

    def test_flat_report(self):
        v = verdict("KTAP version 1\n1..3\nok 1 a\nok 2 b # SKIP why\nok 3 - c\n")
        self.assertTrue(v.passed, v.reasons)
        self.assertEqual(v.summary, "t@smp2: 2 passed, 0 failed, 1 skipped")

    def test_subtest_name_before_version(self):
        text = GOOD.replace("    KTAP version 1\n    # Subtest: boot\n",
                            "    # Subtest: boot\n    KTAP version 1\n")
        r = kr.parse_ktap(fake(text))
        self.assertEqual([b.name for b in r.blocks], ["boot", "lib"])
        self.assertTrue(verdict(text).passed)

    def test_two_levels_of_nesting(self):
        v = verdict("""\
            KTAP version 1
            1..1
                KTAP version 1
                # Subtest: outer
                1..1
                    KTAP version 1
                    # Subtest: inner
                    1..2
                    ok 1 x
                    not ok 2 y
                not ok 1 inner
            not ok 1 outer
            """, status=1)
        self.assertFalse(v.passed)
        self.assertEqual(v.summary, "t@smp2: 1 passed, 1 failed, 0 skipped")


class HelpersTest(unittest.TestCase):
    def test_mem(self):
        self.assertEqual(kr.mem_mib("128M"), 128)
        self.assertEqual(kr.mem_mib("128"), 128)
        self.assertEqual(kr.mem_mib("1G"), 1024)
        self.assertEqual(kr.mem_mib("2g"), 2048)
        self.assertEqual(kr.mem_mib("262144K"), 256)
        self.assertRaises(ValueError, kr.mem_mib, "1.5G")
        self.assertRaises(ValueError, kr.mem_mib, "100K")

    def test_cmdline(self):
        self.assertEqual(kr.kernel_cmdline("ktest=boot", 2, "1G"),
                         "ktest=boot test.smp=2 test.mem=1024")
        self.assertEqual(kr.kernel_cmdline("", 1, "128M"), "test.smp=1 test.mem=128")


FAKE_QEMU = r"""#!/bin/sh
# Fake qemu-system-riscv64: prints the console file named in $FAKE_CONSOLE, sleeps
# $FAKE_SLEEP seconds, exits $FAKE_STATUS. Records its arguments in $FAKE_ARGS.
printf '%s\n' "$@" > "$FAKE_ARGS"
cat "$FAKE_CONSOLE"
sleep "${FAKE_SLEEP:-0}"
exit "${FAKE_STATUS:-0}"
"""


class RunnerProcessTest(unittest.TestCase):
    """The runner end to end, with a shell script standing in for QEMU."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        d = self.tmp.name
        self.qemu = os.path.join(d, "qemu")
        with open(self.qemu, "w") as f:
            f.write(FAKE_QEMU)
        os.chmod(self.qemu, os.stat(self.qemu).st_mode | stat.S_IXUSR)
        self.kernel = os.path.join(d, "hartos.elf")
        open(self.kernel, "w").close()
        self.console = os.path.join(d, "console.txt")
        self.args_file = os.path.join(d, "args.txt")
        self.log = os.path.join(d, "logs", "sub", "t@smp2.log")

    def tearDown(self):
        self.tmp.cleanup()

    def run_runner(self, console, status=0, sleep=0, extra=(), timeout=20):
        with open(self.console, "w") as f:
            f.write(console.replace("\n", "\r\n"))
        env = dict(os.environ, FAKE_CONSOLE=self.console, FAKE_ARGS=self.args_file,
                   FAKE_STATUS=str(status), FAKE_SLEEP=str(sleep))
        p = subprocess.run([sys.executable, RUNNER, "--qemu", self.qemu, "--bios", "default",
                            "--kernel", self.kernel, "--smp", "2", "--mem", "128M",
                            "--append", "ktest=boot,lib", "--timeout", str(timeout),
                            "--log", self.log] + list(extra),
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=60)
        return p.returncode, p.stdout

    def qemu_args(self):
        with open(self.args_file) as f:
            return f.read().split("\n")

    def test_pass(self):
        rc, out = self.run_runner(GOOD)
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.strip(), "boot,lib@smp2: 4 passed, 0 failed, 1 skipped")
        args = self.qemu_args()
        self.assertEqual(args[args.index("-append") + 1],
                         "ktest=boot,lib test.smp=2 test.mem=128")
        for flag, value in (("-machine", "virt"), ("-bios", "default"), ("-smp", "2"),
                            ("-m", "128M"), ("-kernel", self.kernel)):
            self.assertEqual(args[args.index(flag) + 1], value)
        with open(self.log) as f:
            log = f.read()
        self.assertNotIn("\r", log)
        self.assertIn("ok 2 lib\n", log)

    def test_fail_prints_tail_reason_and_log(self):
        rc, out = self.run_runner(GOOD.replace("ok 2 dtb_memory", "not ok 2 dtb_memory"),
                                  status=1)
        self.assertEqual(rc, 1, out)
        self.assertIn("not ok 2 dtb_memory", out)
        self.assertIn("QEMU exited with status 1", out)
        self.assertIn("log: " + self.log, out)

    def test_timeout_kills_qemu(self):
        rc, out = self.run_runner(GOOD.split("ok 1 boot")[0], sleep=30, timeout=1)
        self.assertEqual(rc, 1, out)
        self.assertIn("TIMEOUT after 1 s", out)
        # The partial console is in the log even though QEMU never exited.
        with open(self.log) as f:
            self.assertIn("ok 1 harts_online", f.read())

    def test_expected_panic(self):
        console = "KTAP version 1\n1..1\nhart 0: panic: acquire: lock 'x' held\n"
        rc, out = self.run_runner(console, status=2, extra=["--expect-panic", "held$"])
        self.assertEqual(rc, 0, out)
        rc, out = self.run_runner(console, status=2)
        self.assertEqual(rc, 1, out)
        self.assertIn("kernel panic: hart 0: panic: acquire: lock 'x' held", out)

    def test_disk_copy(self):
        img = os.path.join(self.tmp.name, "disk.img")
        with open(img, "wb") as f:
            f.write(b"\xaa" * 4096)
        rc, out = self.run_runner(GOOD, extra=["--disk", img])
        self.assertEqual(rc, 0, out)
        copy = os.path.join(os.path.dirname(self.log), "t@smp2.disk.img")
        self.assertIn("disk: " + copy, out)
        with open(copy, "rb") as f:
            self.assertEqual(f.read(), b"\xaa" * 4096)
        args = self.qemu_args()
        self.assertIn("virtio-mmio.force-legacy=false", args)
        self.assertIn("file=%s,if=none,format=raw,id=hd0" % copy, args)
        self.assertIn("virtio-blk-device,drive=hd0,bus=virtio-mmio-bus.0", args)
        rc, out = self.run_runner(GOOD, extra=["--disk", img, "--disk-legacy"])
        self.assertNotIn("virtio-mmio.force-legacy=false", self.qemu_args())

    def test_disk_through_blkdebug(self):
        img = os.path.join(self.tmp.name, "disk.img")
        conf = os.path.join(self.tmp.name, "faults,1.blkdebug")
        for path in (img, conf):
            open(path, "w").close()
        rc, out = self.run_runner(GOOD, extra=["--disk", img, "--blkdebug", conf])
        self.assertEqual(rc, 0, out)
        copy = os.path.join(os.path.dirname(self.log), "t@smp2.disk.img")
        self.assertIn("driver=raw,file.driver=blkdebug,file.config=%s,"
                      "file.image.filename=%s,if=none,id=hd0"
                      % (conf.replace(",", ",,"), copy), self.qemu_args())

    def test_missing_kernel(self):
        os.unlink(self.kernel)
        rc, out = self.run_runner(GOOD)
        self.assertEqual(rc, 1)
        self.assertIn("kernel not found", out)


class SymbolsTest(unittest.TestCase):
    """Panic reports get symbol names from the build's hartos.sym (tools/symbols.py)."""

    def test_addresses_become_symbol_plus_offset(self):
        import symbols
        with tempfile.NamedTemporaryFile("w", suffix=".sym", delete=False) as f:
            f.write("0000000080200000 T _start\n0000000080201000 T acquire\n"
                    "0000000080201100 t spin_until_acquired\n0000000080300000 B cpus\n")
        try:
            m = symbols.SymbolMap(f.name)
            self.assertEqual(m.annotate("  #0 0x80201104"),
                             "  #0 0x80201104 <spin_until_acquired+0x4>")
            self.assertEqual(m.annotate("taken at 0x80201000."), "taken at 0x80201000 <acquire+0x0>.")
            self.assertEqual(m.annotate("no address here"), "no address here")
            # A backtrace's addresses are return addresses: one right after a call to a
            # function that never returns can be the next function's first byte, and
            # still belongs to the caller. Other addresses (sepc=...) are looked up as is.
            self.assertEqual(m.annotate("  #1 0x80201100"), "  #1 0x80201100 <acquire+0x100>")
            self.assertEqual(m.annotate("sepc=0x80201100"),
                             "sepc=0x80201100 <spin_until_acquired+0x0>")
        finally:
            os.unlink(f.name)

    def test_panic_block_spans_report_and_backtrace(self):
        lines = ["ok 1 x", "trap: load access fault", "  ra=0000000080200010 ",
                 "panic: boom", "backtrace:", "  #0 0x80200010", "not ok 2 y"]
        self.assertEqual(kr.panic_block(lines), lines[1:6])
        self.assertEqual(kr.panic_block(["ok 1 x"]), [])

    def test_expected_panic_needs_the_panic_exit_status(self):
        text = "KTAP version 1\n1..1\npanic: boom [hart 0, cpu 0]\n"
        self.assertTrue(verdict(text, status=2, expect_panic="boom").passed)
        self.assertFalse(verdict(text, status=1, expect_panic="boom").passed)


if __name__ == "__main__":
    unittest.main(verbosity=2)
