#!/usr/bin/env python3
"""Description: tests of tools/docs_transcripts.py itself (the CTest test docs_selftest).

No QEMU: the masking rules, the marker parser and the code excerpt checks on made-up
pages in a temporary tree. Each case is one thing the drift check must catch (a renamed
lock, a new column, a changed message, an excerpt that left its file, a block without a
marker) or must let pass (other numbers, another boot hart, another order of lines).
Standard library only. Exit status 0 when every case holds.
"""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import docs_transcripts as dt  # noqa: E402


LOCKSTAT = ["lock               kind     acquires contentions",
            "pmem.cpu0          tas        106632           0",
            "pmem.cpu1          tas        108736           3"]


class Masking(unittest.TestCase):
    def same(self, a, b):
        return dt.same_structure(a, b)

    def test_numbers_times_and_addresses_vary(self):
        self.assertTrue(self.same(["hartos: booting on hart 0, device tree at 0x82200000",
                                   "  1s  98528 pages  12.5 us"],
                                  ["hartos: booting on hart 3, device tree at 0x87e00000",
                                   "  1s  6592 pages  7.25 us"]))

    def test_register_dumps_vary(self):
        self.assertTrue(self.same(["  a0=00000000000fa7ad   s10=0000000000000001"],
                                  ["  a0=00000000000a80ff   s10=0000000080204f98"]))

    def test_hart_order_and_rows_per_hart_vary(self):
        self.assertTrue(self.same(LOCKSTAT, [LOCKSTAT[0], LOCKSTAT[2], LOCKSTAT[1],
                                             "pmem.cpu2          tas        127232           0"]))

    def test_a_renamed_lock_is_caught(self):
        self.assertFalse(self.same(LOCKSTAT, [LOCKSTAT[0], LOCKSTAT[1].replace("pmem", "kmem")]))

    def test_a_new_column_is_caught(self):
        self.assertFalse(self.same(LOCKSTAT, [LOCKSTAT[0] + "    bounces"] + LOCKSTAT[1:]))

    def test_a_changed_message_is_caught(self):
        self.assertFalse(self.same(["hartos: 4 of 4 harts online (NCPU=8)"],
                                   ["hartos: 4 of 4 harts up (NCPU=8)"]))

    def test_a_line_appearing_is_caught(self):
        self.assertFalse(self.same(["  help   this list"],
                                   ["  help   this list", "  top    the busiest locks"]))

    def test_a_timing_note_of_a_slow_host_is_not_structure(self):
        self.assertTrue(self.same(["    ok 4 ping_pong"],
                                  ["    # ping_pong took 6079 ms", "    ok 4 ping_pong"]))

    def test_compare_limits_the_lines_compared(self):
        self.assertTrue(dt.same_structure(["(gdb) bt", "#0 foo ()"], ["(gdb) bt", "#0 bar ()"],
                                          compare=r"^\(gdb\)"))


class Pages(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        os.makedirs(os.path.join(self.root, "docs"))
        os.makedirs(os.path.join(self.root, "kernel"))
        with open(os.path.join(self.root, "kernel", "lock.c"), "w") as f:
            f.write("/* acquire: a comment naming it */\n"
                    "void acquire(struct spinlock *lk)\n{\n    take(lk);\n"
                    "    lk->acquires++;\n}\n\nvoid release(struct spinlock *lk)\n{\n"
                    "    give(lk);\n}\n")

    def tearDown(self):
        self.tmp.cleanup()

    def page(self, text):
        with open(os.path.join(self.root, "docs", "01-x.md"), "w") as f:
            f.write(text)
        return dt.parse_page(self.root, "docs/01-x.md")

    def test_a_block_without_a_marker_is_a_problem_naming_its_line(self):
        _, blocks, problems = self.page("text\n\n```\noutput\n```\n")
        self.assertEqual(blocks, [])
        self.assertEqual(len(problems), 1)
        self.assertIn("docs/01-x.md:3", problems[0])

    def test_markers_and_options(self):
        _, blocks, problems = self.page(
            '<!-- monitor smp=2 keep="^(hartos|pmem):" -->\n```\nhartos> help\n```\n')
        self.assertEqual(problems, [])
        self.assertEqual((blocks[0].kind, blocks[0].opts["smp"], blocks[0].opts["keep"]),
                         ("monitor", "2", "^(hartos|pmem):"))
        self.assertEqual(dt.monitor_commands(blocks[0]), ["help"])

    def test_an_excerpt_is_regenerated_from_its_definition(self):
        _, blocks, _ = self.page("<!-- source: kernel/lock.c acquire -->\n```c\n```\n")
        new, err = dt.regen_source(self.root, blocks[0])
        self.assertIsNone(err)
        self.assertEqual(new[0], "void acquire(struct spinlock *lk)")  # not the comment
        self.assertEqual(new[-1], "}")

    def test_a_from_to_excerpt(self):
        _, blocks, _ = self.page('<!-- source: kernel/lock.c acquire from="take" to="acquires" -->'
                                 '\n```c\n```\n')
        new, err = dt.regen_source(self.root, blocks[0])
        self.assertEqual((new, err), (["take(lk);", "lk->acquires++;"], None))

    def test_an_elided_excerpt_that_left_its_file_names_the_file_and_line(self):
        _, blocks, _ = self.page("<!-- source: kernel/lock.c release -->\n```c\n"
                                 "void release(struct spinlock *lk)\n...\n    drop(lk);\n```\n")
        new, err = dt.regen_source(self.root, blocks[0])
        self.assertIsNone(new)
        self.assertIn("kernel/lock.c (release)", err)
        self.assertIn("drop(lk);", err)

    def test_a_function_is_found_before_a_struct_of_the_same_name(self):
        src = ("struct ev {\n    int a;\n};\n\nstatic inline void ev(int k)\n{\n    rec(k);\n}\n")
        self.assertTrue(dt.definition(src, "ev").startswith("static inline void ev"))
        self.assertTrue(dt.definition(src, "struct ev").startswith("struct ev {"))

    def test_a_missing_definition_is_named(self):
        _, blocks, _ = self.page("<!-- source: kernel/lock.c holding -->\n```c\n```\n")
        _, err = dt.regen_source(self.root, blocks[0])
        self.assertIn("defines no holding", err)

    def test_commands_with_continuations(self):
        body = ["$ for i in 1 2; do \\", "    echo $i; \\", "  done", "1", "2", "$ true"]
        cmds = dt.commands_of(body)
        self.assertEqual([c for c, _ in cmds], ["for i in 1 2; do \\\n    echo $i; \\\n  done",
                                                "true"])


if __name__ == "__main__":
    unittest.main()
