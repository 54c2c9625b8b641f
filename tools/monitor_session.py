#!/usr/bin/env python3
"""Description: boot hartos to its monitor, type the given commands, print the replies.

For measurements and checks that need a booted monitor with many harts, e.g.
  tools/monitor_session.py --qemu Q --bios B --kernel build/hartos.elf --smp 8 \\
      --disk build/disk.img --log build/logs/s.log "stress bufcache 3"
Each command runs to the next prompt (--command-timeout seconds each); the session
ends with `poweroff`. --expect REGEX (repeatable) must match the printed replies, or
the exit status is 1. Uses tools/monitor_test.py's pseudo-terminal console.
"""

import argparse
import os
import re
import shutil
import signal
import sys
import time

from monitor_test import PROMPT, Console, Timeout, add_machine_args, qemu_command


def main(argv=None):
    ap = argparse.ArgumentParser(description="Type commands into the hartos monitor.")
    add_machine_args(ap)
    ap.add_argument("--log", required=True, help="console log (directories are created)")
    ap.add_argument("--boot-timeout", type=float, default=120)
    ap.add_argument("--command-timeout", type=float, default=120)
    ap.add_argument("--expect", action="append", default=[],
                    help="a regex the replies must match (repeatable)")
    ap.add_argument("commands", nargs="+")
    args = ap.parse_args(argv)
    os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
    disk = (args.log[:-4] if args.log.endswith(".log") else args.log) + ".disk.img"
    shutil.copyfile(args.disk, disk)
    cmd = qemu_command(args, disk)
    total = args.boot_timeout + args.command_timeout * (len(args.commands) + 1)
    con = Console(cmd, args.log, time.monotonic() + total)

    def stop(signum, _frame):  # a timeout or Ctrl-C must not leave QEMU running
        con.kill()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    replies, status = [], 0
    try:
        con.expect("^" + re.escape(PROMPT), args.boot_timeout, "boot to the monitor")
        for c in args.commands:
            reply = con.command(c + "\r", args.command_timeout)
            print("%s%s\n%s" % (PROMPT, c, reply), end="", flush=True)
            replies.append(reply)
        con.send("poweroff\r")
        con.proc.wait(30)
    except (Timeout, Exception) as e:  # pylint: disable=broad-except
        print("monitor_session: FAIL: %s" % e)
        print("\n".join(con.tail()))
        status = 1
    finally:
        con.close()
    text = "".join(replies)
    for rx in args.expect:
        if not re.search(rx, text, re.MULTILINE):
            print("monitor_session: FAIL: no /%s/ in the replies" % rx)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
