"""Profile a command with py-spy and say where its CPU time went.

Stages: run the command under ``py-spy record --subprocesses --format raw`` (collapsed stacks,
one line per distinct stack with its sample count), then fold the stacks three ways: by
process, by the function on top of the stack (self time), and by the module or library
that appears anywhere in the stack (inclusive time).

Shares are of the samples py-spy took while a thread was running (py-spy leaves idle
threads out), summed over all processes of the tree.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_PROCESS = re.compile(r'^(process \d+:".*?")(?:;|$)')
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def pyspy_binary() -> str | None:
    """The py-spy executable next to this interpreter or on PATH, if installed."""
    here = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


def record(argv: list[str], out: Path, cwd: Path, rate: int = 100) -> int:
    """Run ``argv`` under py-spy, writing collapsed stacks to ``out``; the exit status.

    The command's own output goes to ``cwd/profiled-output.txt``.
    """
    binary = pyspy_binary()
    if binary is None:
        raise FileNotFoundError("py-spy is not installed: run `.venv/bin/pip install py-spy`")
    cmd = [binary, "record", "--subprocesses", "--full-filenames", "--format", "raw"]
    cmd += ["--rate", str(rate)]
    cmd += ["--output", str(out), "--", *argv]
    with (cwd / "profiled-output.txt").open("wb") as sink:
        return subprocess.run(cmd, cwd=cwd, stdout=sink, stderr=sink, check=False).returncode


def component(path: str) -> str:
    """A frame's file as a short name: ``aggregator.fetch``, ``lib:sqlalchemy``, ``py:json``."""
    parts = Path(path).parts
    if "site-packages" in parts:
        rest = parts[parts.index("site-packages") + 1 :]
        return "lib:" + (rest[0].removesuffix(".py") if rest else "?")
    if "aggregator" in parts:
        rest = parts[parts.index("aggregator") :]
        return ".".join(rest).removesuffix(".py")
    std = [i for i, part in enumerate(parts) if re.fullmatch(r"python3\.\d+", part)]
    if std and len(parts) > std[-1] + 1:
        return "py:" + parts[std[-1] + 1].removesuffix(".py")
    if path.startswith("<frozen "):
        return "py:" + path.removeprefix("<frozen ").split(".")[0].rstrip(">")
    return "py:" + Path(path).name.removesuffix(".py")


def _process_label(frame: str) -> str:
    """``process 123:"/path/python /path/prog --flag"`` -> ``123 prog --flag``."""
    pid, _, cmd = frame.removeprefix("process ").partition(":")
    cmd = cmd.strip('"')
    if not cmd:
        return f"{pid} (command line not read)"
    if "multiprocessing" in cmd:
        return f"{pid} (worker process)"
    words = cmd.split()
    if words and words[0].endswith(("python", "python3")) and len(words) > 1:
        words = words[1:]
    head = " ".join([Path(words[0]).name, *words[1:2]]) if words else "?"
    return f"{pid} {head}"


@dataclass(frozen=True)
class Profile:
    """The folded stacks of one recording."""

    total: int
    by_process: list[tuple[str, int]]
    self_by_function: list[tuple[str, int]]
    inclusive_by_component: list[tuple[str, int]]
    inclusive_by_function: list[tuple[str, int]]


def fold(raw: str) -> Profile:
    """Fold py-spy's collapsed-stack text into the three views."""
    procs: collections.Counter[str] = collections.Counter()
    selfs: collections.Counter[str] = collections.Counter()
    comps: collections.Counter[str] = collections.Counter()
    funcs: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        proc = "main"
        # Leading process frames, parent first; a command line may itself hold ";".
        while (head := _PROCESS.match(stack)) is not None:
            proc = _process_label(head[1])
            stack = stack[head.end() :]
        parsed = []
        for frame in stack.split(";") if stack else []:
            m = _FRAME.match(frame)
            if m is not None:
                parsed.append((m["func"], component(m["file"])))
        procs[proc] += count
        if parsed:
            func, comp = parsed[-1]
            selfs[f"{comp}:{func}"] += count
        for comp in {c for _, c in parsed}:
            comps[comp] += count
        for name in {f"{c}:{f}" for f, c in parsed}:
            funcs[name] += count
    return Profile(
        total=total,
        by_process=procs.most_common(),
        self_by_function=selfs.most_common(25),
        inclusive_by_component=comps.most_common(25),
        inclusive_by_function=[kv for kv in funcs.most_common(60) if kv[0].startswith("aggr")],
    )


def render(profile: Profile) -> str:
    """The three views as text, with shares of all samples."""
    total = profile.total or 1

    def block(title: str, rows: list[tuple[str, int]]) -> list[str]:
        out = [title]
        out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in rows]
        return out

    lines = [f"py-spy: {profile.total} samples of running threads"]
    lines += block("by process:", profile.by_process[:10])
    lines += block("self time, top functions:", profile.self_by_function)
    lines += block("inclusive, by module or library:", profile.inclusive_by_component)
    lines += block("inclusive, our functions:", profile.inclusive_by_function[:25])
    return "\n".join(lines)
