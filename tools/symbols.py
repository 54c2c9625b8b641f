"""Description: turn kernel addresses in console lines into symbol+offset, from the
symbol map the build writes next to the kernel (hartos.sym, `nm -n` output). The host
runner uses it for panic reports: a backtrace of raw addresses becomes readable.
Standard library only.
"""
import bisect
import os
import re

_ADDR = re.compile(r"0x(80[0-9a-f]{6})\b")


class SymbolMap:
    def __init__(self, path):
        self.addrs, self.names = [], []
        if not path or not os.path.exists(path):
            return
        with open(path) as f:
            for line in f:
                parts = line.split()
                # Text symbols only: T/t (global/local code).
                if len(parts) == 3 and parts[1] in "Tt":
                    self.addrs.append(int(parts[0], 16))
                    self.names.append(parts[2])

    def lookup(self, addr, return_address=False):
        """'name+0xoff' for an address inside the kernel's text, or None. A return
        address is looked up one byte back, in the call instruction: after a call to a
        function that never returns (panic), the next address may be the next function's
        first, and the frame belongs to the caller all the same (gdb does the same)."""
        i = bisect.bisect_right(self.addrs, addr - 1 if return_address else addr) - 1
        if i < 0 or not self.addrs:
            return None
        return "%s+0x%x" % (self.names[i], addr - self.addrs[i])

    def annotate(self, line):
        """The line with <name+0xoff> after every kernel text address in it. The
        addresses of a backtrace line ("#N 0x...") are return addresses."""
        if not self.addrs:
            return line
        frame = re.match(r"\s*#\d+ ", line) is not None

        def replace(m):
            name = self.lookup(int(m.group(1), 16), return_address=frame)
            return m.group(0) + (" <%s>" % name if name else "")

        return _ADDR.sub(replace, line)
