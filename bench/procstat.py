"""CPU time and memory of a process, read from /proc (Linux); of several, summed (a list of pids)."""

import os

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _summed(read):
    def summed(pid):
        return read(pid) if isinstance(pid, int) else sum(read(p) for p in pid)
    summed.__doc__, summed.__name__ = read.__doc__, read.__name__
    return summed


@_summed
def cpu_seconds(pid: int) -> float:
    """User + system CPU of all the process's threads so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime 14, stime 15 (1-based, man proc).
    return (int(fields[11]) + int(fields[12])) / _TICK


@_summed
def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * _PAGE


@_summed
def peak_rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


class Sampler:
    """Peak RSS of a process, sampled while a scenario runs."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak = 0

    def sample(self) -> int:
        try:
            rss = rss_bytes(self.pid)
        except FileNotFoundError:
            return 0
        self.peak = max(self.peak, rss)
        return rss
