#!/usr/bin/env python3
"""Description: keep every transcript and code excerpt in the docs true to the tree
(the CTest test `docs_transcripts`, and `ninja -C build docs-update`).

Every fenced block in docs/*.md and README.md carries a marker, an HTML comment alone on
the line right before its opening fence, that says where its text comes from:

  <!-- source: kernel/spinlock.c acquire -->
  <!-- source: kernel/spinlock.c acquire from="interrupts_push" to="^    }" -->
      A code excerpt: the whole definition of the name (function, struct, enum, macro,
      asm label) in that file, or with from=/to= (regexes) the lines of it from the first
      line matching from= to the next matching to=. Compared whitespace-normalised, and
      regenerated from the source by --update. An excerpt with lines holding only `...`
      (elided code) is only checked: its pieces must occur in that order.
  <!-- run -->
      A shell session. The block's `$ ` lines (with `\\` continuations) are run from the
      top of the repository (bash, `build/` is the build folder) and the lines after each
      command are what it printed.
  <!-- monitor smp=4 -->
      A kernel monitor session. Lines before the first `hartos> ` are the boot console
      (choose them with keep=); each `hartos> CMD` line is typed and followed by the
      reply. All monitor blocks with the same smp= and mem= share one scripted boot.
  <!-- gdb smp=2 append="ktest=..." [stop=REGEX] -->
      A gdb session: QEMU starts paused with a gdb server, gdb-multiarch (with the
      settings of build/gdbinit and tools/gdb/hartos.py) reads the block's `(gdb) `
      commands, each followed by its output. stop=REGEX: when the console shows it, gdb
      gets a SIGINT (the student's Ctrl-C), which ends the running `continue`.
  <!-- saved: docs/results/bench.txt from="^\\| inflight" -->
      Output of a long run (bench, soak) saved by a real run of its tool (the file's
      first line names the command; `ninja docs-bench` writes it). The block shows the
      lines from the first matching from= up to the next blank line (or keep= lines) and
      must match them.
  <!-- input -->   something to type (no output): not checked.
  <!-- figure -->  a drawing or a hand-made table (a timeline, a lock order): not checked.

Options after the kind: keep=REGEX shows only the output lines that match; compare=REGEX
compares only those lines (the others are shown but may vary, e.g. gdb's stop location);
mem=, append= for monitor and gdb boots; needs=PATH (run blocks) skips the block, saying
so, where PATH does not exist (the bench kernel before any `ninja bench`). Quote values
that hold spaces.

Comparison masks what legitimately varies: every number (decimal or hex) becomes `#`,
runs of blanks become one, consecutive lines equal after masking count once (a row per
hart), and lines may come in any order (hart order, ctest -j). What remains is the
structure: a line appearing or disappearing, a lock renamed, a column added, a message or
help text changed. A mismatch prints a unified diff naming the page and the line.

Modes: --check (default) exits 1 on any mismatch; --update rewrites the blocks whose
structure changed (--all: every generated block) in place. Results of QEMU runs are cached
in <build>/docs-cache keyed by the command and the kernel, disk and tools it ran on, so a
second run of an unchanged tree boots nothing. Standard library only.
Usage: tools/docs_transcripts.py --build BUILD [--update [--all]] [--jobs N] [-v] [PAGE...]
"""

import argparse
import concurrent.futures
import difflib
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

KINDS = ("source", "run", "monitor", "gdb", "saved", "input", "figure")
_MARK_RE = re.compile(r"^<!--\s*(\w+)(:?)\s*(.*?)\s*-->\s*$")
_FENCE_RE = re.compile(r"^(```|~~~)")
SHOWN_ROOT = "~/hartos"  # what the repository's absolute path reads as in the docs


class Block:
    def __init__(self, page, mark_line, start, end, kind, args, opts, body):
        self.page, self.mark_line, self.start, self.end = page, mark_line, start, end
        self.kind, self.args, self.opts, self.body = kind, args, opts, body
        self.new = None  # regenerated text (list of lines), or None
        self.error = None

    def where(self):
        return "%s:%d" % (self.page, self.start + 1)


def parse_marker(text):
    m = _MARK_RE.match(text)
    if not m:
        return None
    kind, words = m.group(1), shlex.split(m.group(3))
    args = [w for w in words if "=" not in w]
    opts = dict(w.split("=", 1) for w in words if "=" in w)
    return kind, args, opts


def pages(root, only):
    found = sorted(glob.glob(os.path.join(root, "docs", "*.md"))) + [os.path.join(root, "README.md")]
    rel = [os.path.relpath(p, root) for p in found]
    return [p for p in rel if not only or p in only or os.path.basename(p) in only]


def parse_page(root, page):
    """The page's lines and its fenced blocks; problems for blocks with no marker."""
    with open(os.path.join(root, page), encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    blocks, problems, i = [], [], 0
    while i < len(lines):
        if not _FENCE_RE.match(lines[i]):
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not _FENCE_RE.match(lines[j]):
            j += 1
        if j == len(lines):
            problems.append("%s:%d: fenced block never closed" % (page, i + 1))
            break
        mark = parse_marker(lines[i - 1]) if i > 0 else None
        if not mark or mark[0] not in KINDS:
            problems.append("%s:%d: fenced block without a marker (<!-- run -->, <!-- source: "
                            "FILE NAME -->, ... see tools/docs_transcripts.py)" % (page, i + 1))
        else:
            blocks.append(Block(page, i - 1, i, j, mark[0], mark[1], mark[2], lines[i + 1:j]))
        i = j + 1
    return lines, blocks, problems


# ---------------------------------------------------------------------------------------
# Masking and comparison
# ---------------------------------------------------------------------------------------

# A number: hex with 0x, a bare hex word that holds a digit (register dumps), a decimal.
_NUM_RE = re.compile(r"0x[0-9a-fA-F]+|\b[0-9a-fA-F]*\d[0-9a-fA-F]*\b|\d+(\.\d+)?")


def mask(line):
    return " ".join(_NUM_RE.sub("#", line).split())


# Lines that come and go with the host's speed, not with the code: a slow test's timing
# note, QEMU saying it was stopped by `timeout`.
VOLATILE = re.compile(r"^\s*# \S+ took \d+ ms$|terminating on signal")


def masked(lines, compare=None):
    out = []
    for line in lines:
        if VOLATILE.search(line) or compare and not re.search(compare, line):
            continue
        m = mask(line)
        if m and (not out or out[-1] != m):
            out.append(m)
    return out


def same_structure(old, new, compare=None):
    a, b = masked(old, compare), masked(new, compare)
    return a == b or sorted(set(a)) == sorted(set(b))


def structural_diff(b, old_name, new_name):
    """A unified diff of the lines that differ after masking (a source block: all lines),
    so that a changed number next to a renamed lock does not hide the rename."""
    if b.kind == "source":
        return difflib.unified_diff(b.body, b.new, old_name, new_name, lineterm="", n=1)
    key = (lambda l: " ".join(l.split())) if b.kind == "source" else mask
    compare = b.opts.get("compare")
    old = [l for l in b.body if not VOLATILE.search(l) and (not compare or re.search(compare, l))]
    new = [l for l in b.new if not VOLATILE.search(l) and (not compare or re.search(compare, l))]
    old_keys, new_keys = set(map(key, old)), set(map(key, new))
    out = ["--- " + old_name, "+++ " + new_name]
    out += ["-" + l for l in old if key(l) not in new_keys]
    out += ["+" + l for l in new if key(l) not in old_keys]
    return out


# ---------------------------------------------------------------------------------------
# Code excerpts
# ---------------------------------------------------------------------------------------

def norm(text):
    return " ".join(text.split())


def definition(src, name):
    """The text of name's definition in a C/asm/Python source, or None."""
    lines = src.split("\n")
    if " " not in name:  # a function or macro of that name comes before a struct of it
        call = re.compile(r"^(?!\s)(?!(?:struct|enum|union)\s+%s\b)[^;=]*\b%s\s*\(" % (
            re.escape(name), re.escape(name)))
        first = next((i for i, l in enumerate(lines) if call.search(l)
                      and not l.startswith(("/*", " *", "//"))
                      and not (l.rstrip().endswith(";") and "{" not in l)), None)
        if first is not None:
            lines = lines[first:]
    else:
        name = name.split()[-1]
    pat = re.compile(r"^(?!\s)(?:[^;=]*[\s*])?%s\b\s*(\(|\{|$|:|;)|^#define\s+%s\b|"
                     r"^(?:def|class)\s+%s\b|^%s:" % ((re.escape(name),) * 4))
    for i, line in enumerate(lines):
        if line.startswith(("/*", "//", " *", "*", "#:")) and not line.startswith("#define"):
            continue  # a comment naming the function is not its definition
        if not pat.search(line) or line.rstrip().endswith(";") and "{" not in line:
            continue
        if line.startswith("#define"):
            j = i
            while lines[j].rstrip().endswith("\\") and j + 1 < len(lines):
                j += 1
            return "\n".join(lines[i:j + 1])
        if line.startswith(("def ", "class ")):
            j = i + 1
            while j < len(lines) and (not lines[j] or lines[j][0] in " \t#"):
                j += 1
            return "\n".join(lines[i:j])
        if line.rstrip().endswith(":") and not line.startswith(("def", "class")):
            j = i + 1  # an assembly label: up to the next blank line
            while j < len(lines) and lines[j].strip():
                j += 1
            return "\n".join(lines[i:j])
        j = i
        while j < len(lines) and not lines[j].startswith("}"):
            j += 1
        return "\n".join(lines[i:j + 1])
    return None


def excerpt_region(root, b):
    """(text the excerpt is checked against, where, error): the file, or the name's
    definition in it, or with from=/to= the lines of that from the first line matching
    from= to the next line matching to=."""
    if not b.args:
        return None, None, "source marker names no file"
    path = os.path.join(root, b.args[0])
    if not os.path.isfile(path):
        return None, None, "%s does not exist" % b.args[0]
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    where = b.args[0]
    if len(b.args) > 1:
        text = definition(text, b.args[1])
        where = "%s (%s)" % (b.args[0], b.args[1])
        if text is None:
            return None, where, "%s defines no %s" % (b.args[0], b.args[1])
    if "from" in b.opts:
        lines = text.split("\n")
        start = next((i for i, l in enumerate(lines) if re.search(b.opts["from"], l)), None)
        if start is None:
            return None, where, "no line matches from=%r in %s" % (b.opts["from"], where)
        end = start
        if "to" in b.opts:
            end = next((i for i in range(start, len(lines))
                        if re.search(b.opts["to"], lines[i])), None)
            if end is None:
                return None, where, "no line matches to=%r after from= in %s" % (
                    b.opts["to"], where)
        text = "\n".join(lines[start:end + 1])
    return text, where, None


def elided(b):
    return any(l.strip() in ("...", "/* ... */", "// ...") for l in b.body)


def regen_source(root, b):
    """A whole definition or a from=/to= region is regenerated from the source; an excerpt
    with `...` elisions can only be checked (its pieces must occur in order)."""
    text, where, err = excerpt_region(root, b)
    if err:
        return None, err
    if not elided(b) and (len(b.args) > 1 or "from" in b.opts):
        return dedent(text.split("\n")), None
    hay, pos = norm(text), 0
    pieces, cur = [], []
    for line in b.body:
        if line.strip() in ("...", "/* ... */", "// ..."):
            pieces.append(cur)
            cur = []
        else:
            cur.append(line)
    pieces.append(cur)
    for piece in pieces:
        needle = norm("\n".join(piece))
        if not needle:
            continue
        k = hay.find(needle, pos)
        if k < 0:
            first = next(l for l in piece if l.strip())
            for l in piece:  # name the first excerpt line that is gone, to make the fix easy
                if l.strip() and norm(l) not in hay:
                    first = l
                    break
            return None, ("excerpt no longer occurs in %s (an excerpt with `...` cannot be "
                          "regenerated: edit it); first line not found: %s" % (
                              where, first.strip()))
        pos = k + len(needle)
    return None, None


def dedent(lines):
    ind = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=0)
    return [l[ind:].rstrip() for l in lines]


# ---------------------------------------------------------------------------------------
# Running things, with a cache
# ---------------------------------------------------------------------------------------

class Env:
    def __init__(self, root, build, jobs, verbose):
        self.root, self.build, self.verbose = root, os.path.abspath(build), verbose
        self.cache_dir = os.path.join(self.build, "docs-cache")
        os.makedirs(self.cache_dir, exist_ok=True)
        self.cfg = self.read_cache_vars()
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
        # The commands see the repository at its top with build/ being this build folder.
        self.work = tempfile.mkdtemp(prefix="hartos-docs-")
        for name in os.listdir(root):
            if name not in ("build", ".git"):
                os.symlink(os.path.join(root, name), os.path.join(self.work, name))
        os.symlink(self.build, os.path.join(self.work, "build"))
        self.stamp = self.tree_stamp()
        self.skipped = []

    def read_cache_vars(self):
        cfg = {}
        path = os.path.join(self.build, "CMakeCache.txt")
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                m = re.match(r"^(\w+):\w+=(.*)$", line)
                if m:
                    cfg[m.group(1)] = m.group(2)
        return cfg

    def tree_stamp(self):
        """Hash of what a run's output depends on: the kernel, the disk, the host tools."""
        h = hashlib.sha256()
        files = [os.path.join(self.build, f) for f in ("hartos.elf", "disk.img", "gdbinit")]
        files += sorted(glob.glob(os.path.join(self.root, "tools", "*.py")))
        files += sorted(glob.glob(os.path.join(self.root, "tools", "gdb", "*.py")))
        files += sorted(glob.glob(os.path.join(self.root, "tests", "*.cmake")))
        for f in files:
            if os.path.basename(f) == "docs_transcripts.py" or not os.path.isfile(f):
                continue
            with open(f, "rb") as fh:
                h.update(hashlib.sha256(fh.read()).digest())
        return h.hexdigest()

    def cached(self, key, fn):
        name = hashlib.sha256((self.stamp + json.dumps(key)).encode()).hexdigest()[:24]
        path = os.path.join(self.cache_dir, name + ".json")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                return json.load(fh)
        t0 = time.monotonic()
        out = fn()
        if self.verbose:
            print("docs: ran in %4.1f s: %s" % (time.monotonic() - t0, json.dumps(key)[:110]),
                  flush=True)
        with open(path + ".tmp", "w", encoding="utf-8") as fh:
            json.dump(out, fh)
        os.replace(path + ".tmp", path)
        return out

    def shown(self, text):
        """Output as the docs show it: this machine's paths replaced by a clone's."""
        text = re.sub(r"/tmp/hartos-docs-\w+", SHOWN_ROOT, text)
        text = text.replace(self.root, SHOWN_ROOT)
        text = text.replace(self.build, SHOWN_ROOT + "/build")
        return text

    def qemu(self):
        return self.cfg.get("HARTOS_QEMU", "qemu-system-riscv64")

    def bios(self):
        return self.cfg.get("HARTOS_BIOS", "default")


def commands_of(body):
    """[(command, shown lines)] from `$ ` lines and their `\\` continuations."""
    cmds, i = [], 0
    while i < len(body):
        if body[i].startswith("$ "):
            shown = [body[i]]
            while shown[-1].rstrip().endswith("\\") and i + 1 < len(body):
                i += 1
                shown.append(body[i])
            text = "\n".join(shown)[2:]
            cmds.append((text, shown))
        i += 1
    return cmds


def run_page_blocks(env, bs):
    """A page's run blocks in page order: a later block may read a log an earlier one
    wrote, so each block's cache key includes the commands of every block before it."""
    results, before = [], []
    for b in bs:
        try:
            results.append(run_block(env, b, before))
        except Exception as e:
            results.append((None, str(e)))
        before = before + [c for c, _ in commands_of(b.body)]
    return results


def run_block(env, b, before=()):
    """Runs the block's commands in order, in one bash each; the block is cached whole, so
    a command may read what an earlier one in the same block wrote."""
    cmds = commands_of(b.body)
    if not cmds:
        return None, "run block has no `$ ` command line"
    need = b.opts.get("needs")
    if need and not os.path.exists(os.path.join(env.work, need)):
        # A product of a long run (the bench kernel): checked where it exists, for example
        # after `ninja bench` or in `ninja docs-update`, which runs the bench first.
        env.skipped.append("%s: skipped, %s does not exist (run `ninja -C build bench`)" % (
            b.where(), need))
        return None, None
    timeout = float(b.opts.get("timeout", 120))

    def go():
        outs = []
        for cmd, _ in cmds:
            try:
                p = subprocess.run(["bash", "-c", cmd], cwd=env.work, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   timeout=timeout, start_new_session=True)
            except subprocess.TimeoutExpired:
                raise RuntimeError("`%s` ran longer than %d s" % (cmd, timeout))
            # Control characters (a log read while another run rewrote it) never belong
            # in a page: drop them, so the comparison shows the damage as a changed line.
            outs.append(re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "",
                               p.stdout.decode("utf-8", "replace")))
        return outs

    outs = env.cached(["run", [c for c, _ in cmds], list(before)], go)
    out = []
    for (cmd, shown), text in zip(cmds, outs):
        lines = [l for l in env.shown(text).rstrip("\n").split("\n") if l.strip()]
        if "keep" in b.opts:
            lines = [l for l in lines if re.search(b.opts["keep"], l)]
        out += shown + lines
    return out, None


# ---------------------------------------------------------------------------------------
# Monitor sessions: one scripted boot per (smp, mem) for all blocks of all pages
# ---------------------------------------------------------------------------------------

MON_PROMPT = "hartos> "


def monitor_session(env, smp, mem, commands):
    """Boots the monitor, types the commands; returns {"boot": lines, "replies": [...]}."""
    from monitor_test import Console, Timeout
    from ktest_runner import kernel_cmdline

    def go():
        log = os.path.join(env.build, "logs", "docs_monitor@smp%s.log" % smp)
        os.makedirs(os.path.dirname(log), exist_ok=True)
        disk = log[:-4] + ".disk.img"
        shutil.copyfile(os.path.join(env.build, "disk.img"), disk)
        cmd = [env.qemu(), "-machine", "virt", "-nographic", "-bios", env.bios(),
               "-kernel", os.path.join(env.build, "hartos.elf"), "-smp", str(smp), "-m", mem,
               "-append", kernel_cmdline("", int(smp), mem),
               "-global", "virtio-mmio.force-legacy=false",
               "-drive", "file=%s,if=none,format=raw,id=hd0" % disk.replace(",", ",,"),
               "-device", "virtio-blk-device,drive=hd0,bus=virtio-mmio-bus.0"]
        con = Console(cmd, log, time.monotonic() + 60 + 30 * len(commands))
        try:
            con.expect(r"^" + re.escape(MON_PROMPT), 60, "first prompt")
            boot = con.text[:con.pos - len(MON_PROMPT)]
            replies = []
            for c in commands:
                m = re.match(r"^stress \S+ (\d+)", c)
                wait = 30 + (int(m.group(1)) if m else 0)
                replies.append(con.command(c + "\r", wait, c))
            return {"boot": boot.rstrip("\n").split("\n"), "replies": replies}
        except Timeout as e:
            raise RuntimeError("monitor boot (smp=%s): %s; console in %s" % (smp, e, log))
        finally:
            con.close()
    return env.cached(["monitor", smp, mem, commands], go)


def monitor_commands(b):
    return [l[len(MON_PROMPT):] for l in b.body if l.startswith(MON_PROMPT)]


def regen_monitor(env, b, session):
    boot_lines = []
    for line in b.body:
        if line.startswith(MON_PROMPT):
            break
        boot_lines.append(line)
    out = []
    if boot_lines or "keep" in b.opts:  # the boot console is shown: keep= chooses its lines
        lines = session["boot"]
        if "keep" in b.opts:
            lines = [l for l in lines if re.search(b.opts["keep"], l)]
        out += lines
    replies = iter(session["replies_for"][id(b)])
    for c in monitor_commands(b):
        out.append(MON_PROMPT + c)
        reply = next(replies).rstrip("\n")
        if reply:
            out += reply.split("\n")
    return [env.shown(l) for l in out], None


# ---------------------------------------------------------------------------------------
# gdb sessions (batch mode, stops at breakpoints)
# ---------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def regen_gdb(env, b):
    """QEMU paused with a gdb server; gdb-multiarch reads the block's commands from a pipe
    (as a student types them). With stop=REGEX, once the console shows REGEX gdb gets a
    SIGINT, a student's Ctrl-C, which ends the `continue` it is in."""
    from ktest_runner import kernel_cmdline
    cmds = [l[len("(gdb) "):] for l in b.body if l.startswith("(gdb) ")]
    smp, mem = b.opts.get("smp", "2"), b.opts.get("mem", "128M")
    append, stop = b.opts.get("append", "ktest=boot"), b.opts.get("stop")
    timeout = float(b.opts.get("timeout", 90))

    def go():
        port = free_port()
        console = os.path.join(env.build, "logs", "docs_gdb.%d.console" % port)
        os.makedirs(os.path.dirname(console), exist_ok=True)
        with open(console, "w") as out:
            qemu = subprocess.Popen(
                [env.qemu(), "-machine", "virt", "-nographic", "-bios", env.bios(), "-kernel",
                 os.path.join(env.build, "hartos.elf"), "-smp", smp, "-m", mem, "-append",
                 kernel_cmdline(append, int(smp), mem), "-gdb", "tcp:127.0.0.1:%d" % port,
                 "-S"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        script = ["set pagination off", "set confirm off", "set width 0",
                  "set architecture riscv:rv64",
                  "file %s" % os.path.join(env.build, "hartos.elf"),
                  "source %s" % os.path.join(env.root, "tools", "gdb", "hartos.py"),
                  "target remote 127.0.0.1:%d" % port]
        for i, c in enumerate(cmds):
            script += ["echo @@%d\\n" % i, c]
        script += ["echo @@end\\n", "kill", "quit"]
        gdb = subprocess.Popen([env.cfg.get("HARTOS_GDB", "gdb-multiarch"), "-q", "-nx"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
        done = threading.Event()

        def interrupt():
            end = time.monotonic() + timeout
            while stop and not done.is_set() and time.monotonic() < end:
                with open(console, errors="replace") as fh:
                    if re.search(stop, fh.read(), re.M):
                        time.sleep(1.0)  # let the other harts reach their waits
                        gdb.send_signal(signal.SIGINT)
                        return
                time.sleep(0.1)
        watcher = threading.Thread(target=interrupt, daemon=True)
        watcher.start()
        try:
            out, _ = gdb.communicate(("\n".join(script) + "\n").encode(), timeout=timeout)
            out = out.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            gdb.kill()
            out = gdb.communicate()[0].decode("utf-8", "replace")
        finally:
            done.set()
            for p in (qemu,):
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
            qemu.wait()
            os.unlink(console)
        out = out.replace("(gdb) ", "")  # the prompts gdb prints while it reads a pipe
        parts = {}
        for m in re.finditer(r"^@@(\d+)\n(.*?)(?=^@@)", out, re.M | re.S):
            parts[int(m.group(1))] = m.group(2).rstrip("\n")
        if len(parts) != len(cmds):
            raise RuntimeError("gdb did not get through the block's commands:\n" + out[-1500:])
        return [parts[i] for i in range(len(cmds))]

    replies = env.cached(["gdb", smp, mem, append, stop, cmds], go)
    out = []
    for c, r in zip(cmds, replies):
        out.append("(gdb) " + c)
        out += [l for l in env.shown(r).split("\n") if l.strip()] if r else []
    return out, None


# ---------------------------------------------------------------------------------------
# Saved output of long runs
# ---------------------------------------------------------------------------------------

def regen_saved(env, b):
    if not b.args:
        return None, "saved marker names no file"
    path = os.path.join(env.root, b.args[0])
    if not os.path.isfile(path):
        return None, "%s does not exist (write it with a real run of its tool)" % b.args[0]
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().rstrip("\n").split("\n")
    if lines and lines[0].startswith("# saved from:"):
        lines = lines[1:]
    if "from" in b.opts:  # one table: from its first line to the blank line after it
        start = next((i for i, l in enumerate(lines) if re.search(b.opts["from"], l)), None)
        if start is None:
            return None, "%s has no line matching from=%r" % (b.args[0], b.opts["from"])
        end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
        lines = lines[start:end]
    if "keep" in b.opts:
        lines = [l for l in lines if re.search(b.opts["keep"], l)]
    return lines, None


def save_run(root, args):
    """Runs a long command, echoing it, and keeps its output (paths as a clone shows them)
    in a file under docs/ whose first line names the command."""
    cmd = args.pages
    if not cmd:
        print("docs: --save needs a command after --")
        return 2
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = []
    for raw in p.stdout:
        line = raw.decode("utf-8", "replace")
        sys.stdout.write(line)
        out.append(line)
    if p.wait() != 0:
        # The run itself failed (a benchmark or soak boot that failed, on a busy host a
        # timeout): its output is not a table to teach from. Say so loudly; with
        # --keep-going the rest of docs-update still runs.
        print("docs: WARNING: `%s` failed (status %d); %s left as it was, look at the "
              "output above" % (" ".join(cmd), p.returncode, args.save))
        return 0 if args.keep_going else 1
    build = os.path.abspath(args.build)
    text = "".join(out).replace(build, SHOWN_ROOT + "/build").replace(root, SHOWN_ROOT)
    # ninja's own progress lines are not the tool's output
    text = "\n".join(l for l in text.split("\n") if not re.match(r"^\[\d+/\d+\] ", l))
    path = os.path.join(root, args.save)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("# saved from: %s\n%s\n" % (args.shown or " ".join(cmd), text.strip("\n")))
    print("docs: saved the output in %s" % args.save)
    return 0


# ---------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description="Check or regenerate the docs' transcripts.")
    ap.add_argument("--root", default=ROOT)
    ap.add_argument("--build", required=True)
    ap.add_argument("--update", action="store_true", help="rewrite changed blocks in place")
    ap.add_argument("--all", action="store_true", help="with --update: rewrite every block")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--save", metavar="FILE",
                    help="run the command after -- (a long run: bench, soak), show its output "
                         "and save it in FILE for <!-- saved: FILE --> blocks")
    ap.add_argument("--shown", help="with --save: the command as the docs name it")
    ap.add_argument("--keep-going", action="store_true",
                    help="with --save: a failed run warns (and keeps the old file) but exits 0")
    ap.add_argument("pages", nargs="*", help="only these pages (e.g. 05-pmem.md); with "
                    "--save: the command to run")
    args = ap.parse_args(argv)
    root = os.path.abspath(args.root)
    if args.save:
        return save_run(root, args)
    if not os.path.isfile(os.path.join(args.build, "hartos.elf")):
        print("docs: %s/hartos.elf not found: build first (ninja -C %s)" % (args.build, args.build))
        return 1

    problems, parsed = [], {}
    for page in pages(root, args.pages):
        lines, blocks, probs = parse_page(root, page)
        parsed[page] = (lines, blocks)
        problems += probs
    blocks = [b for _, bs in parsed.values() for b in bs]

    for b in blocks:
        if b.kind == "source":
            b.new, b.error = regen_source(root, b)

    env = Env(root, args.build, args.jobs, args.verbose)
    try:
        # Monitor boots: every monitor block's commands, grouped by (smp, mem), in page order.
        groups = {}
        for b in blocks:
            if b.kind == "monitor":
                key = (b.opts.get("smp", "4"), b.opts.get("mem", "128M"))
                groups.setdefault(key, []).append(b)
        futures = {}
        for key, bs in groups.items():
            cmds = [c for b in bs for c in monitor_commands(b)]
            futures[key] = env.pool.submit(monitor_session, env, key[0], key[1], cmds)
        jobs, page_runs = [], []
        for page, (_, bs) in parsed.items():
            runs = [b for b in bs if b.kind == "run"]
            if runs:
                page_runs.append((runs, env.pool.submit(run_page_blocks, env, runs)))
        for b in blocks:
            if b.kind == "gdb":
                jobs.append((b, env.pool.submit(regen_gdb, env, b)))
            elif b.kind == "saved":
                jobs.append((b, env.pool.submit(regen_saved, env, b)))
        for key, bs in groups.items():
            try:
                session = futures[key].result()
            except Exception as e:  # a boot that failed fails all of its blocks
                for b in bs:
                    problems.append("%s: %s" % (b.where(), e))
                continue
            replies = iter(session["replies"])
            session["replies_for"] = {id(b): [next(replies) for _ in monitor_commands(b)]
                                      for b in bs}
            for b in bs:
                b.new, b.error = regen_monitor(env, b, session)
        for b, fut in jobs:
            try:
                b.new, b.error = fut.result()
            except Exception as e:
                b.new, b.error = None, str(e)
        for runs, fut in page_runs:
            for b, (new, err) in zip(runs, fut.result()):
                b.new, b.error = new, err
    finally:
        env.pool.shutdown(wait=True)
        shutil.rmtree(env.work, ignore_errors=True)

    changed = 0
    for page, (lines, bs) in parsed.items():
        edits = []
        for b in bs:
            if b.error:
                problems.append("%s: %s" % (b.where(), b.error))
                continue
            if b.new is None:
                continue
            b.new = [l.rstrip() for l in b.new]
            if b.kind == "source":  # code: every character counts, blanks aside
                same = norm("\n".join(b.body)) == norm("\n".join(b.new))
            else:
                same = same_structure(b.body, b.new, b.opts.get("compare"))
            if args.update and (not same or args.all and b.new != b.body):
                edits.append(b)
            elif not same:
                diff = structural_diff(b, "%s (the page)" % b.where(),
                                       "the tree now (%s)" % " ".join([b.kind] + b.args))
                why = ("the excerpt differs from %s" % " ".join(b.args) if b.kind == "source"
                       else "numbers, blanks and order are ignored; this is structural")
                problems.append("%s: the %s block no longer matches (%s):\n  %s" % (
                    b.where(), b.kind, why, "\n  ".join(diff)))
        if edits:
            for b in sorted(edits, key=lambda b: -b.start):
                lines[b.start + 1:b.end] = b.new
            with open(os.path.join(root, page), "w", encoding="utf-8") as fh:
                fh.write("\n".join(lines))
            changed += len(edits)
            print("docs: %s: %d block(s) rewritten" % (page, len(edits)))

    for p in env.skipped + problems:
        print(p)
    kinds = {}
    for b in blocks:
        kinds[b.kind] = kinds.get(b.kind, 0) + 1
    summary = ", ".join("%d %s" % (n, k) for k, n in sorted(kinds.items()))
    if problems:
        print("docs: %d problem(s) in %d blocks (%s)%s" % (
            len(problems), len(blocks), summary,
            "" if args.update else "; `ninja -C build docs-update` rewrites drifted output"))
        return 1
    print("docs: %d blocks true to the tree (%s)%s" % (
        len(blocks), summary, "; %d rewritten" % changed if args.update else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
