"""Sampling our server with py-spy during a scenario, and the top of the profile.

`python -m bench run typing-50 --targets ours --profile` records the server
for the typing window (py-spy, non-blocking, so the server is not paused at
each sample) into bench/results/profile-<scenario>.txt as collapsed stacks,
and writes the top entries by self and by inclusive time next to it.
"""

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path


def py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def start(pid: int, seconds: float, out: Path, rate: int = 200) -> subprocess.Popen:
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy is not installed: pip install -r requirements-dev.txt")
    # BENCH_PROFILE_GIL=1: only the thread holding the GIL is sampled, so that a
    # thread waiting for the GIL (after a syscall, a lock) does not look busy:
    # closer to where the CPU goes than the default wall-clock view.
    gil = ["--gil"] if os.environ.get("BENCH_PROFILE_GIL") == "1" else []
    return subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--rate", str(rate),
         "--nonblocking", "--threads", *gil, "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )


def _frame_name(frame: str) -> str:
    # "function (path/to/file.py:123)" -> "function (file.py)"
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rsplit("/", 1)[-1] if where else ""
    return f"{name} ({file})" if file else name


def summarize(collapsed: Path, top: int = 25) -> str:
    """Top functions by self samples and by inclusive samples, as Markdown."""
    own, inclusive = Counter(), Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = [_frame_name(f) for f in stack.split(";")]
        # py-spy --threads puts "thread (0x...)" first; idle threads sit in a wait.
        frames = [f for f in frames if not f.startswith(("thread (", "process "))]
        if not frames:
            continue
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
    lines = [f"{total} samples.", "", "| self % | function |", "| ---: | --- |"]
    lines += [f"| {100 * n / total:.1f} | `{f}` |" for f, n in own.most_common(top)]
    lines += ["", "| inclusive % | function |", "| ---: | --- |"]
    lines += [f"| {100 * n / total:.1f} | `{f}` |" for f, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"
