#!/usr/bin/env python3
"""Description: keep docs/ true to the code (the CTest test `docs_check`).

For every docs/*.md, looks at each inline code span (`...`) outside fenced code blocks:
  - a repository path (`kernel/sched.c`, `tools/ktest_runner.py`, `tests/test_*.c`,
    `tests/ktest.{h,c}`, `arch/riscv/`, `kernel/sched.c:120`) must exist; paths under
    build/ are generated and not checked;
  - a bare source file name (`trapvec.S`) must exist somewhere in the repository;
  - a function written as a call (`sleep()`, `sleep(chan, lk)`) must be defined in the
    repository: a C definition or #define in .c/.h/.S files, a label `name:` in .S,
    `def name(` or `class name` in .py, `function(name` / `macro(name` in CMake files;
and every relative Markdown link (`[text](04-threads.md)`) must point at a file.
A path right after the words "new file" (an exercise asks the reader to create it) is
not checked.

Prints one line per problem (`docs/01-boot.md:42: function ... not defined`) and exits 1
if there is any, 0 otherwise. Standard library only; any python3 >= 3.6 runs it.
Usage: tools/check_docs.py [--root REPO] [-v]
"""

import argparse
import glob
import os
import re
import sys

# Top-level folders of the repository that a path in the docs may start with. A span whose
# first component is one of these is a path claim; anything else (`hartos.elf`,
# `a0/a1`, `-smp 4`) is left alone.
SOURCE_DIRS = {"arch", "kernel", "lib", "mm", "drivers", "fs", "tests", "tools", "cmake",
               "docs", ".ci"}
TOP_FILES = {"CMakeLists.txt", "README.md", ".clang-format", ".gitignore"}
GENERATED_DIRS = {"build"}
# Bare file names with these extensions must exist somewhere in the tree.
SOURCE_EXTS = (".c", ".h", ".S", ".py", ".cmake", ".ld", ".sh", ".in")
# Files searched for definitions.
DEF_EXTS = (".c", ".h", ".S", ".py", ".cmake")
SKIP_DIRS = {".git", "build", "docs", "__pycache__"}
# Names used as calls in the docs that live outside the repository (compiler builtins,
# CMake commands). Keep this list short: everything else must be defined in the tree.
EXTERNAL = {"add_test", "set_tests_properties", "add_custom_target", "__atomic_exchange_n",
            "__atomic_store_n", "__atomic_load_n", "__atomic_fetch_add",
            "__atomic_compare_exchange_n", "__builtin_return_address", "__sync_synchronize", "sizeof",
            "offsetof"}

_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_SPAN_RE = re.compile(r"(`+)(.+?)\1")
_LINK_RE = re.compile(r"\]\(([^)\s]+)\)")
_CALL_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\([^()]*\)$")
_PATHLIKE_RE = re.compile(r"^[A-Za-z0-9_.@*{},\-]+(/[A-Za-z0-9_.@*{},\-]*)*$")
_LINE_SUFFIX_RE = re.compile(r":\d+(-\d+)?$")
_NEW_FILE_RE = re.compile(r"\bnew file\s*$", re.I)


def spans(md_text):
    """(line number, code span text) for inline spans outside fenced code blocks."""
    in_fence = False
    for lineno, line in enumerate(md_text.splitlines(), 1):
        if _FENCE_RE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue  # commands and console output, not claims about the tree
        for m in _SPAN_RE.finditer(line):
            if _NEW_FILE_RE.search(line[:m.start()]):
                continue  # "create a new file `tests/test_mine.c`": not there yet, on purpose
            yield lineno, m.group(2).strip()


def links(md_text):
    in_fence = False
    for lineno, line in enumerate(md_text.splitlines(), 1):
        if _FENCE_RE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        for m in _LINK_RE.finditer(line):
            yield lineno, m.group(1)


def expand_braces(path):
    """tests/ktest.{h,c} -> [tests/ktest.h, tests/ktest.c] (one level, enough for docs)."""
    m = re.search(r"\{([^{}]*)\}", path)
    if not m:
        return [path]
    out = []
    for alt in m.group(1).split(","):
        out += expand_braces(path[:m.start()] + alt + path[m.end():])
    return out


def path_claim(span):
    """The repository path a span names, or None if it does not name one."""
    text = _LINE_SUFFIX_RE.sub("", span)
    if text in TOP_FILES:
        return text
    if "/" not in text or not _PATHLIKE_RE.match(text):
        return None
    first = text.split("/", 1)[0]
    if first in GENERATED_DIRS or first not in SOURCE_DIRS:
        return None
    return text


def bare_file_claim(span):
    text = _LINE_SUFFIX_RE.sub("", span)
    if "/" in text or " " in text or not re.match(r"^[A-Za-z0-9_.\-]+$", text):
        return None
    return text if text.endswith(SOURCE_EXTS) and not text.startswith(".") else None


def path_exists(root, path):
    for p in expand_braces(path):
        full = os.path.join(root, p)
        if any(ch in p for ch in "*?["):
            if not glob.glob(full):
                return False
        elif not os.path.exists(full):
            return False
    return True


def source_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for f in filenames:
            if f.endswith(DEF_EXTS) or f == "CMakeLists.txt":
                yield os.path.join(dirpath, f)


def all_file_names(root):
    names = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in {".git", "build"}]
        names.update(filenames)
    return names


# A C definition: at the start of a line, type words (and maybe an attribute), the name,
# its parameter list, then `{` (possibly on a later line, after attributes).
_C_HEAD = r"^(?:[A-Za-z_][\w]*[ \t\*]+|__attribute__\(\([^)]*\)\)[ \t]*|\*[ \t]*)*"


def defined_names(root):
    """Every name the tree defines (functions, macros, labels, Python defs, CMake functions)."""
    names = set()
    c_def = re.compile(_C_HEAD + r"([A-Za-z_]\w*)\s*\(", re.M)
    macro = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)", re.M)
    label = re.compile(r"^\s*([A-Za-z_.$][\w.$]*):", re.M)
    pydef = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", re.M)
    cmake = re.compile(r"^\s*(?:function|macro)\s*\(\s*([A-Za-z_]\w*)", re.M | re.I)
    for path in source_files(root):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        if path.endswith((".c", ".h", ".S")):
            names.update(macro.findall(text))
            for m in c_def.finditer(text):
                if _is_definition(text, m.end() - 1):
                    names.add(m.group(1))
        if path.endswith(".S"):
            names.update(label.findall(text))
        if path.endswith(".py"):
            names.update(pydef.findall(text))
        if path.endswith(".cmake") or path.endswith("CMakeLists.txt"):
            names.update(cmake.findall(text))
    return names


_C_KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do", "else"}


def _is_definition(text, open_paren):
    """After the '(' at open_paren: matching ')', attributes, then '{' means a definition."""
    line_start = text.rfind("\n", 0, open_paren) + 1
    head = text[line_start:open_paren]
    words = re.findall(r"[A-Za-z_]\w*", head)
    if len(words) < 2 or words[-1] in _C_KEYWORDS or head[:1].isspace():
        # A definition has a return type before the name (`void f(`); `f(` alone is a call.
        return False
    depth, i = 0, open_paren
    while i < len(text):
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                break
        i += 1
    rest = text[i + 1:i + 400]
    rest = re.sub(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)", "", rest)
    rest = re.sub(r"/\*.*?\*/", "", rest, flags=re.S)
    return rest.lstrip().startswith("{")


def check(root, verbose=False):
    problems = []
    docs = sorted(glob.glob(os.path.join(root, "docs", "*.md")))
    if not docs:
        return ["docs/: no Markdown files found under %s" % os.path.join(root, "docs")]
    defs = defined_names(root)
    files = all_file_names(root)
    nchecked = 0
    for doc in docs:
        rel = os.path.relpath(doc, root)
        with open(doc, encoding="utf-8") as f:
            text = f.read()
        for lineno, span in spans(text):
            path = path_claim(span)
            if path is not None:
                nchecked += 1
                if not path_exists(root, path):
                    problems.append("%s:%d: file `%s` does not exist" % (rel, lineno, path))
                continue
            bare = bare_file_claim(span)
            if bare is not None:
                nchecked += 1
                if bare not in files:
                    problems.append("%s:%d: file `%s` is not anywhere in the repository"
                                    % (rel, lineno, bare))
                continue
            m = _CALL_RE.match(span)
            if m:
                nchecked += 1
                name = m.group(1)
                if name not in defs and name not in EXTERNAL:
                    problems.append("%s:%d: function `%s()` is not defined in the repository"
                                    % (rel, lineno, name))
        for lineno, target in links(text):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            nchecked += 1
            target_path = target.split("#", 1)[0]
            full = os.path.normpath(os.path.join(os.path.dirname(doc), target_path))
            if not os.path.exists(full):
                problems.append("%s:%d: link target `%s` does not exist" % (rel, lineno, target))
    if verbose:
        print("check_docs: %d file(s), %d name(s) checked, %d definition(s) known"
              % (len(docs), nchecked, len(defs)))
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check that docs/ names only files and "
                                 "functions that exist.")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="repository root (default: the folder above tools/)")
    ap.add_argument("-v", "--verbose", action="store_true", help="say how much was checked")
    args = ap.parse_args(argv)
    problems = check(os.path.abspath(args.root), args.verbose)
    for p in problems:
        print(p)
    if problems:
        print("check_docs: %d problem(s): a file or function the docs name is missing "
              "(rename it in docs/, or restore it)" % len(problems))
        return 1
    print("check_docs: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
