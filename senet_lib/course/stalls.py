"""Prove the course runs without between-cell stalls: ``python -m senet_lib course --stalls 20``.

Executes every notebook N times under a plain ``nbclient.NotebookClient`` with nbclient's default settings (no
timeout of ours: a stall would wait forever, which is what this check must show does not happen), solutions
filled and in the chosen tier, and measures for every code cell the two waits a stall shows up as:

* request: from the client sending ``execute_request`` to the kernel starting it (``iopub.status.busy``);
* reply: from the kernel finishing the cell (the later of its ``execute_reply`` and ``idle``) to the client
  taking it (``on_cell_executed``).

The start-up (launching the kernel, its ``kernel_info`` handshake) is reported apart: it includes the kernel's own
imports, so it is seconds long even without a stall.

Kernel and client run on the same machine, so their clocks agree. A watchdog reports a cell that makes no
progress for ``give_up_s`` and kills that run's kernel (our own child process), so the check always ends.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from senet_lib.course.runner import course_notebooks, read_notebook, tier_environment

__all__ = ["RunGaps", "run_once", "stall_check"]


@dataclass
class RunGaps:
    """One execution of one notebook: its wall time, its longest wait and where, or the error that stopped it."""

    notebook: str
    seconds: float
    startup: float = 0.0
    gap: float = 0.0
    where: str = ""
    error: str = ""
    gaps: list[float] = field(default_factory=list)


def _stamp(value) -> float:
    text = value if isinstance(value, str) else value.isoformat()
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def run_once(path: str | Path, tier: str = "quick", give_up_s: float = 900.0) -> RunGaps:
    """Execute ``path`` once under plain nbclient; measure every cell's request and reply waits."""
    import nbclient

    path = Path(path)
    nb = read_notebook(path, solutions=True)
    client = nbclient.NotebookClient(nb, resources={"metadata": {"path": str(path.parent)}})
    sent: dict[int, float] = {}
    taken: dict[int, float] = {}
    progress = {"last": time.time(), "cell": -1}

    def on_execute(cell, cell_index):
        sent[cell_index] = progress["last"] = time.time()
        progress["cell"] = cell_index

    def on_executed(cell, cell_index, execute_reply):
        taken[cell_index] = progress["last"] = time.time()

    client.on_cell_execute, client.on_cell_executed = on_execute, on_executed
    finished, stalled = threading.Event(), []

    def watchdog():
        while not finished.wait(5):
            if time.time() - progress["last"] > give_up_s:
                stalled.append(f"cell {progress['cell']} made no progress for {give_up_s:.0f} s")
                pid = getattr(getattr(client.km, "provisioner", None), "pid", None)
                if pid:
                    os.kill(pid, signal.SIGKILL)  # the kernel this run started; nbclient then raises
                return

    threading.Thread(target=watchdog, daemon=True).start()
    start, error = time.time(), ""
    try:
        with tier_environment(tier):
            client.execute()
    except Exception as err:  # reported, not raised: the check goes on with the next run
        error = (stalled[0] + "; " if stalled else "") + f"{type(err).__name__}: {str(err).strip()[-300:]}"
    finally:
        finished.set()
    result = RunGaps(path.name, time.time() - start, error=error)
    if sent:
        result.startup = min(sent.values()) - start
    for i, cell in enumerate(nb.cells):
        times = cell.metadata.get("execution", {})
        if cell.cell_type != "code" or i not in sent or "iopub.status.busy" not in times:
            continue
        waits = {"request": _stamp(times["iopub.status.busy"]) - sent[i]}
        ends = [_stamp(times[k]) for k in ("shell.execute_reply", "iopub.status.idle") if k in times]
        if i in taken and ends:
            waits["reply"] = taken[i] - max(ends)
        for kind, wait in waits.items():
            result.gaps.append(wait)
            if wait > result.gap:
                result.gap, result.where = wait, f"cell {i} ({kind})"
    return result


def stall_check(
    paths: list[Path] | None = None,
    runs: int = 20,
    tier: str = "quick",
    threshold_s: float = 10.0,
    report=print,
) -> list[RunGaps]:
    """Run the course ``runs`` times over; report each pass and the longest wait; every run's result in order."""
    paths = [Path(p) for p in paths] if paths else course_notebooks()
    results: list[RunGaps] = []
    for n in range(1, runs + 1):
        passed = [run_once(p, tier) for p in paths]
        results += passed
        worst = max(passed, key=lambda r: r.gap)
        bad = [r for r in passed if r.error or r.gap > threshold_s]
        report(
            f"run {n:2d}/{runs}: {sum(r.seconds for r in passed):6.1f} s, start-ups <= "
            f"{max(r.startup for r in passed):4.1f} s, longest wait {worst.gap:5.2f} s "
            f"({worst.notebook} {worst.where}){'' if not bad else ' -- NOT CLEAN: ' + ', '.join(r.notebook for r in bad)}"
        )
        for r in bad:
            report(f"    {r.notebook}: wait {r.gap:.2f} s at {r.where} {r.error}")
    clean = [r for r in results if not r.error and r.gap <= threshold_s]
    worst = max(results, key=lambda r: r.gap)
    per_run = len(paths)
    clean_runs = sum(
        all(not r.error and r.gap <= threshold_s for r in results[i : i + per_run])
        for i in range(0, len(results), per_run)
    )
    report(
        f"{clean_runs}/{runs} clean runs of {per_run} notebook(s) ({len(clean)}/{len(results)} notebook executions); "
        f"longest wait between cells: {worst.gap:.2f} s ({worst.notebook} {worst.where}); threshold {threshold_s:g} s; "
        f"longest kernel start-up {max(r.startup for r in results):.1f} s"
    )
    return results
