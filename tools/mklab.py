#!/usr/bin/env python3
"""Description: write the locks lab's starter repository from this tree (`ninja lab-locks`).

The kernel in this repository is the lab's solution. A region a student writes is marked
in the solution's sources by two lines, each alone on its line:

    /* LAB(locks) begin <id> */          (or: /* LAB(locks) begin <id>: <C text> */)
    ...the solution...
    /* LAB(locks) end <id> */

In the starter the whole region, markers included, becomes lab/locks/<id>.c (<id>.h in a
header), or the C text after `begin <id>:` when the starter text is a line or two.

The starter (default build/lab-locks/) is a fresh git repository with one commit, made from
the files git knows about (tracked, or new and not ignored: build folders stay out):
  - every marked region replaced; lab/ and this tool left out;
  - docs/05-pmem.md and docs/07-bufcache.md, which walk through the solution, left out,
    and every Markdown link to them pointing at the handout, docs/lab-locks.md.
Generation fails, writing nothing usable, when a marker is unbalanced or malformed, a
replacement file is missing or unused, or a distinctive solution identifier (listed in
SOLUTION_ONLY below) survives anywhere in the starter.

--solution writes the same tree with the marker lines dropped and the solution kept (and
the chapters kept): the base the grader's mutants (lab/locks/mutants/) are applied to.

Only the standard library is used. Exit status: 0 written, 1 a problem (one line each).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

LAB = "locks"
HANDOUT = "docs/lab-locks.md"
# Files the starter does not get: the lab's sources, the generator and its self-test, and
# the chapters that walk through the solution (the handout replaces them).
LEFT_OUT_DIRS = ("lab/",)
LEFT_OUT_FILES = {"tools/mklab.py", "tools/lab_selftest.py"}
SOLUTION_CHAPTERS = {"docs/05-pmem.md", "docs/07-bufcache.md"}
# Names only the solution has (functions, fields, constants). None may appear anywhere in
# the starter; add one here whenever the solution gains a name a student should invent.
SOLUTION_ONLY = [
    "clock_evict",   # fs/bufcache.c: the evictor that unlinks its victim across buckets
    "lock_my_list",  # mm/pmem.c: the current CPU's list, re-checked under its lock
    "unlink_chunk",  # mm/pmem.c: a thief's one-chunk steal
    "steal_lock",    # mm/pmem.c: thieves take turns
    "push_page",     # mm/pmem.c: the chunked lists' push and pop
    "pop_page",
    "part_cas",      # mm/pmem.c: the lock-free partial chunk
    "part_first",
    "part_pop",
    "part_push",
]

BEGIN_RE = re.compile(r"^(\s*)/\* LAB\((\w+)\) begin ([a-z0-9]+(?:-[a-z0-9]+)*)(?:: (.*?))? \*/\s*$")
END_RE = re.compile(r"^\s*/\* LAB\((\w+)\) end ([a-z0-9]+(?:-[a-z0-9]+)*) \*/\s*$")
MARK = "LAB(%s)" % LAB
# Markdown links to a solution chapter, with or without a docs/ prefix or an #anchor.
CHAPTER_LINK_RE = re.compile(
    r"\[([^\]]*)\]\(((?:\.\./)?(?:docs/)?)(0(?:5-pmem|7-bufcache)\.md)(?:#[^)\s]*)?\)")


# A row of a Markdown table of contents that links a solution chapter: in the starter it
# announces the lab's part instead of what the chapter explains.
CHAPTER_ROW_RE = re.compile(r"^(\|[^|]*\|)[^|]*\]\((?:docs/)?0(5-pmem|7-bufcache)\.md\)[^|]*\|[^|]*\|\s*$")
CHAPTER_ROWS = {"5-pmem": " [The locks lab, part 1: the page allocator](lab-locks.md) | "
                          "the handout: what to build, the rules, hints, how it is graded |",
                "7-bufcache": " [The locks lab, part 2: the buffer cache](lab-locks.md) | "
                              "the same handout, its second part |"}


class LabError(Exception):
    pass


def source_files(root):
    """Paths (relative, sorted) git tracks or would track: no build folders, no ignored files."""
    out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                          "--exclude-standard"], capture_output=True, check=True).stdout
    paths = sorted({p for p in out.decode().split("\0") if p})
    return [p for p in paths if os.path.isfile(os.path.join(root, p))]


def replacement_path(root, rid, rel):
    ext = ".h" if rel.endswith(".h") else ".c"
    return os.path.join(root, "lab", LAB, rid + ext)


def expand(root, rel, text, solution, used, problems):
    """The file's text with each marked region replaced (or, for --solution, unmarked)."""
    out, region = [], None  # region: (id, lineno, indent, inline text)
    for lineno, line in enumerate(text.splitlines(keepends=True), 1):
        where = "%s:%d" % (rel, lineno)
        b, e = BEGIN_RE.match(line), END_RE.match(line)
        if b and b.group(2) == LAB:
            if region:
                problems.append("%s: begin %s inside region %s (line %d)"
                                % (where, b.group(3), region[0], region[1]))
            region = (b.group(3), lineno, b.group(1), b.group(4))
            continue
        elif e and e.group(1) == LAB:
            if not region:
                problems.append("%s: end %s without a begin" % (where, e.group(2)))
            elif e.group(2) != region[0]:
                problems.append("%s: end %s closes region %s (line %d)"
                                % (where, e.group(2), region[0], region[1]))
            else:
                rid, _, indent, inline = region
                if rid in used:
                    problems.append("%s: region %s is also marked in %s" % (where, rid, used[rid]))
                used[rid] = rel
                if not solution:
                    out.append(starter_text(root, rel, rid, indent, inline, problems))
            region = None
            continue
        elif MARK in line:
            problems.append("%s: malformed %s marker: %s" % (where, MARK, line.strip()))
            continue
        if not region or solution:
            out.append(line)
    if region:
        problems.append("%s:%d: region %s never ends" % (rel, region[1], region[0]))
    return "".join(out)


def starter_text(root, rel, rid, indent, inline, problems):
    path = replacement_path(root, rid, rel)
    if inline is not None:
        if os.path.exists(path):
            problems.append("%s: region %s has inline text and a file %s: keep one"
                            % (rel, rid, os.path.relpath(path, root)))
        return indent + inline + "\n"
    if not os.path.isfile(path):
        problems.append("%s: region %s: its starter text %s is missing"
                        % (rel, rid, os.path.relpath(path, root)))
        return ""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # The file carries its own markers (so it reads as what it replaces); drop them.
    lines = [l for l in text.splitlines(keepends=True) if not (BEGIN_RE.match(l) or END_RE.match(l))]
    return "".join(lines)


def check_starter(out_dir, files):
    """Problems: solution identifiers or lab markers that survived in the starter."""
    problems = []
    words = re.compile(r"\b(%s)\b" % "|".join(map(re.escape, SOLUTION_ONLY)))
    for rel in files:
        try:
            with open(os.path.join(out_dir, rel), encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError:
            continue  # images
        for lineno, line in enumerate(text.splitlines(), 1):
            m = words.search(line)
            if m:
                problems.append("%s:%d: solution identifier '%s' survives in the starter"
                                % (rel, lineno, m.group(1)))
            if MARK in line:
                problems.append("%s:%d: a %s marker survives in the starter" % (rel, lineno, MARK))
    return problems


def git_commit(out_dir, message):
    def git(*args):
        subprocess.run(["git", "-C", out_dir] + list(args), check=True,
                       stdout=subprocess.DEVNULL)
    git("init", "-q", "-b", "main")
    # A local identity: the commit works as root in CI with no git configuration at all.
    git("config", "user.name", "hartos lab generator")
    git("config", "user.email", "lab@hartos.invalid")
    git("config", "commit.gpgsign", "false")
    git("add", "-A")
    git("commit", "-q", "-m", message)


def safe_to_replace(out_dir):
    """Only a folder this tool wrote (or an empty one) is ever deleted."""
    if not os.path.exists(out_dir):
        return True
    if not os.path.isdir(out_dir):
        return False
    entries = os.listdir(out_dir)
    return not entries or (".git" in entries and os.path.isfile(os.path.join(out_dir, HANDOUT)))


def generate(root, out_dir, solution):
    files = source_files(root)
    problems, used, written = [], {}, []
    texts = {}
    for rel in files:
        if rel.startswith(LEFT_OUT_DIRS) or rel in LEFT_OUT_FILES:
            continue
        if not solution and rel in SOLUTION_CHAPTERS:
            continue
        path = os.path.join(root, rel)
        with open(path, "rb") as f:
            data = f.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            texts[rel] = data  # binary (images): copied as they are
            continue
        text = expand(root, rel, text, solution, used, problems)
        if not solution and rel.endswith(".md"):
            text = "\n".join(CHAPTER_ROW_RE.sub(lambda m: m.group(1) + CHAPTER_ROWS[m.group(2)], l)
                            for l in text.split("\n"))
            text = CHAPTER_LINK_RE.sub(
                lambda m: "[%s](%slab-locks.md)" % (m.group(1).replace(m.group(3), "lab-locks.md"),
                                                    m.group(2)), text)
        texts[rel] = text.encode("utf-8")
    have = {os.path.splitext(n)[0] for n in os.listdir(os.path.join(root, "lab", LAB))
            if os.path.isfile(os.path.join(root, "lab", LAB, n))}
    for rid in sorted(have - set(used)):
        problems.append("lab/%s/%s: starter text for a region no source marks" % (LAB, rid))
    if not os.path.isfile(os.path.join(root, HANDOUT)):
        problems.append("%s: the handout is missing" % HANDOUT)
    if problems:
        raise LabError(problems)

    if not safe_to_replace(out_dir):
        raise LabError(["%s exists and is not a tree this tool wrote: not touching it" % out_dir])
    shutil.rmtree(out_dir, ignore_errors=True)
    for rel, data in texts.items():
        dst = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(data)
        shutil.copymode(os.path.join(root, rel), dst)
        written.append(rel)
    if not solution:
        problems = check_starter(out_dir, written)
        if problems:
            shutil.rmtree(out_dir)
            raise LabError(problems)
    git_commit(out_dir, "The locks lab: starter" if not solution else "The locks lab: solution")
    return len(written), sorted(used)


def main(argv=None):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description="Write the locks lab's starter repository.")
    ap.add_argument("--out", default=os.path.join(root, "build", "lab-locks"),
                    help="folder to write (default: build/lab-locks; replaced if this tool "
                         "wrote it before)")
    ap.add_argument("--solution", action="store_true",
                    help="keep the solution, drop only the marker lines (base for mutants)")
    args = ap.parse_args(argv)
    out_dir = os.path.abspath(args.out)
    try:
        n, regions = generate(root, out_dir, args.solution)
    except LabError as e:
        for p in e.args[0]:
            print("mklab: error: %s" % p)
        return 1
    except subprocess.CalledProcessError as e:
        print("mklab: error: %s failed (status %d)" % (" ".join(e.cmd), e.returncode))
        return 1
    print("mklab: wrote the %s of the %s lab to %s: %d files, regions %s (one commit)"
          % ("solution" if args.solution else "starter", LAB, out_dir, n, ", ".join(regions)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
