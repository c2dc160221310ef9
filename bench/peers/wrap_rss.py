"""Runs a command and writes its peak resident set size (KiB, from wait4) to $PEERS_RSS_FILE.

Brian2's cpp_standalone device runs its compiled `./main` through this (prefs
`devices.cpp_standalone.run_cmd_unix`), so the peak memory reported is the simulation binary's own,
not the Python process's or the compiler's."""

import os
import sys

pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
with open(os.environ["PEERS_RSS_FILE"], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
