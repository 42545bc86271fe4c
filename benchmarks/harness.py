"""Benchmark harness: cases, timing discipline, machine info and report formats.

A case module (`benchmarks/cases_<topic>.py`) exposes `cases(quick) -> list[Case]`; `run.py`
finds it by its name. Each library of a case is timed in its own block of calls, the libraries
in turns (A B C A B C ...), with a pause between blocks, because OpenBLAS / OpenMP thread
pools keep spinning after their work and would steal the next library's cores.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field

LIBS = ("pydl", "numpy", "torch")
LABELS = {"pydl": "pydl", "numpy": "NumPy", "torch": "PyTorch"}


@dataclass
class Case:
    name: str                 # "matmul 1024"
    group: str                # "matmul"
    fns: dict                 # {"pydl": callable, "numpy": callable, "torch": callable-or-None}; no-arg callables, inputs prebuilt
    work: float | None = None # units of work per call (flops, bytes, samples) for the rate column
    unit: str = "ms"          # rate unit: "GFLOP/s", "GB/s", "samples/s", or "us/call" / "ms" for plain time
    kind: str = "time"        # "time": fns are timed; "value": each fn returns a number in `unit` (e.g. peak
                              # RSS in "MB"), lower is better, measured once per library (not timed)
    context: object = None    # optional no-arg callable returning a context manager held while the case runs
                              # (e.g. a busy neighbour process on the cores)


@dataclass
class Timing:
    times: list = field(default_factory=list)  # seconds per call, one entry per block
    calls: int = 0                             # calls per block
    error: str | None = None

    @property
    def median(self):
        return statistics.median(self.times)

    @property
    def min(self):
        return min(self.times)


def optional_torch():
    """Returns the torch module, or None where PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


# --- timing ---------------------------------------------------------------------------------

def _block(fn, n):
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - t0


def calibrate(fn, target):
    """Warms fn up and returns the number of calls that takes about `target` seconds."""
    t = _block(fn, 1)  # warm-up: first-call allocations, lazy inits, page faults
    if t >= target:
        return 1
    n = 1
    while True:  # grow n until a block is long enough (target / 5) to extrapolate from
        t = _block(fn, n)
        if t >= target / 5:
            return max(1, round(n * target / t))
        n *= min(100, max(2, int(target / 5 / max(t, 1e-9)) + 1))


def measure(case: Case, repeat: int, target: float, pause: float) -> dict:
    """Times every library of a case in turns; returns {lib: Timing} for the libraries present.

    A "value" case calls each library's fn once and keeps the number it returns in `times`."""
    with (case.context() if case.context else contextlib.nullcontext()):
        if case.kind == "value":
            return _measure_values(case)
        return _measure_times(case, repeat, target, pause)


def _measure_times(case, repeat, target, pause):
    timings = {}
    for lib in LIBS:
        fn = case.fns.get(lib)
        if fn is None:
            continue
        tm = timings[lib] = Timing()
        try:  # calibration only sizes the blocks, so it needs no pauses of its own
            tm.calls = calibrate(fn, target)
        except Exception as e:  # a library failing on one case must not stop the run
            tm.error = f"{type(e).__name__}: {e}"
    time.sleep(pause)
    for _ in range(repeat):
        for lib, tm in timings.items():
            if tm.error:
                continue
            tm.times.append(_block(case.fns[lib], tm.calls) / tm.calls)
            time.sleep(pause)
    return timings


def _measure_values(case: Case) -> dict:
    values = {}
    for lib in LIBS:
        fn = case.fns.get(lib)
        if fn is None:
            continue
        tm = values[lib] = Timing(calls=1)
        try:
            tm.times.append(float(fn()))
        except Exception as e:
            tm.error = f"{type(e).__name__}: {e}"
    return values


def rate(case: Case, seconds: float) -> float:
    """The case's rate column for one call taking `seconds`."""
    unit = case.unit
    if unit in ("us/call", "us"):
        return seconds * 1e6
    if unit == "ms":
        return seconds * 1e3
    if case.work is None:
        raise ValueError(f"[benchmarks] case {case.name!r} has unit {unit!r} but no work")
    r = case.work / seconds
    return r / 1e9 if unit.startswith("G") else r / 1e6 if unit.startswith("M") else r


def result_record(case: Case, timings: dict) -> dict:
    """A JSON-ready record of one case: times, rates and pydl's speed-ups (>1: pydl faster)."""
    rec = {"name": case.name, "group": case.group, "unit": case.unit, "work": case.work, "kind": case.kind,
           "libs": {}}
    for lib, tm in timings.items():
        if tm.error:
            rec["libs"][lib] = {"error": tm.error}
            continue
        if case.kind == "value":  # a measured number in case.unit, lower is better
            rec["libs"][lib] = {"value": tm.median, "samples": len(tm.times)}
            continue
        rec["libs"][lib] = {
            "median_s": tm.median, "min_s": tm.min, "calls_per_block": tm.calls, "blocks": len(tm.times),
            "rate_median": rate(case, tm.median), "rate_best": rate(case, tm.min),
        }
    key = "value" if case.kind == "value" else "median_s"  # both lower-is-better, so one ratio rule
    ok = {lib: v[key] for lib, v in rec["libs"].items() if key in v}
    rec["speedup"] = {
        other: ok[other] / ok["pydl"]
        for other in ("numpy", "torch") if "pydl" in ok and other in ok and ok["pydl"] > 0
    }
    return rec


# --- machine info ---------------------------------------------------------------------------

def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _numpy_blas(np):
    info = {}
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        info["build"] = {k: blas.get(k) for k in ("name", "version", "openblas configuration") if blas.get(k)}
    except Exception as e:  # NumPy < 1.25 has no mode="dicts"
        info["build"] = f"unavailable ({type(e).__name__})"
    try:
        import threadpoolctl
        info["threadpools"] = [
            {k: p.get(k) for k in ("user_api", "internal_api", "version", "num_threads", "architecture")}
            for p in threadpoolctl.threadpool_info()
        ]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    return info


def machine_info(threads: int) -> dict:
    """CPU, cores, threads, load, library versions and NumPy's BLAS, for the report."""
    import numpy as np
    import pydl
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "threads_requested": threads,
        "threads": {"pydl": pydl.get_num_threads()},
        "versions": {"pydl": pydl.__version__, "numpy": np.__version__},
        "pydl_build": {k: v for k, v in dict(pydl._C.build_config).items()},
        "fma_peak": fma_peaks(threads),
        "numpy_blas": _numpy_blas(np),
    }
    torch = optional_torch()
    if torch is not None:
        info["versions"]["torch"] = torch.__version__
        info["threads"]["torch"] = torch.get_num_threads()
    return info


def fma_peaks(threads, seconds=0.2, tries=3):
    """The machine's float32 FMA peak (GFLOP/s, `threads` threads) per ISA level pydl can run, best of tries."""
    import pydl
    levels = ("baseline", "avx2", "avx512")
    have = levels[: levels.index(pydl._C.build_config["isa_detected"]) + 1]
    return {lvl: max(pydl._C._fma_peak_gflops(lvl, threads, seconds) for _ in range(tries)) for lvl in have[1:]}


def add_peak_shares(results, machine):
    """Adds each GFLOP/s record's share of the FMA peak of the ISA level pydl runs at (rec['peak_pct'])."""
    peak = machine.get("fma_peak", {}).get(machine["pydl_build"].get("isa"))
    if not peak:
        return
    for rec in results:
        if rec["unit"] == "GFLOP/s":
            rec["peak_pct"] = {lib: 100 * v["rate_median"] / peak for lib, v in rec["libs"].items() if "rate_median" in v}


def isa_line(m):
    b = m["pydl_build"]
    peaks = ", ".join(f"{k} {v:.0f}" for k, v in m.get("fma_peak", {}).items())
    return (f"pydl ISA {b.get('isa')} (CPU {b.get('isa_detected')}, GEMM {b.get('gemm')}, core -march={b.get('arch')}); "
            f"FMA peak at {m['threads_requested']} threads: {peaks} GFLOP/s")


def _blas(m):
    blas = m["numpy_blas"].get("build")
    return f"{blas.get('name', '?')} {blas.get('version', '')}".strip() if isinstance(blas, dict) else blas


def machine_line(m: dict) -> str:
    blas = _blas(m)
    vers = ", ".join(f"{LABELS[k]} {v}" for k, v in m["versions"].items())
    load = " ".join(f"{x:.1f}" for x in m["load_average"]) if m.get("load_average") else "?"
    return (f"{m['date']} | {m['cpu']} | {m['cpus_usable']} usable of {m['cpu_count']} CPUs | "
            f"{m['threads_requested']} threads | load {load} | {vers} | NumPy BLAS: {blas} | "
            f"{isa_line(m)}")


# --- reports --------------------------------------------------------------------------------

def fmt_time(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.2f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_num(x):
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def fmt_speedup(x):
    if x is None:
        return "-"
    return f"{x:.2f}x" if x >= 0.1 else f"{x:.2g}x"


def _cells(rec):
    """Per-library time ('median (min)'), rate and speed-up cells of one record."""
    times, rates = {}, {}
    for lib in LIBS:
        v = rec["libs"].get(lib)
        if v is None:
            times[lib], rates[lib] = "n/a", "-"
        elif "error" in v:
            times[lib], rates[lib] = "error", "-"
        elif "value" in v:  # a value case: the number in the time column, its unit beside it
            times[lib] = f"{fmt_num(v['value'])} {rec['unit']}"
            rates[lib] = fmt_num(v["value"])
        else:
            times[lib] = f"{fmt_time(v['median_s'])} ({fmt_time(v['min_s'])})"
            rates[lib] = fmt_num(v["rate_median"])
            if "peak_pct" in rec and lib in rec["peak_pct"]:
                rates[lib] += f" ({rec['peak_pct'][lib]:.0f}%)"
    sp = {k: fmt_speedup(rec["speedup"].get(k)) for k in ("numpy", "torch")}
    return times, rates, sp


def text_table(results):
    head = ["case", "pydl median (min)", "NumPy median (min)", "PyTorch median (min)",
            "rate pydl / NumPy / PyTorch", "vs NumPy", "vs PyTorch"]
    rows = []
    for rec in results:
        times, rates, sp = _cells(rec)
        unit = f" {rec['unit']}"
        rows.append([rec["name"], times["pydl"], times["numpy"], times["torch"],
                     " / ".join(rates[l] for l in LIBS) + unit, sp["numpy"], sp["torch"]])
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    out = [line(head), "-" * len(line(head))] + [line(r) for r in rows]
    out.append("speed-up = other library's median time / pydl's median time (>1: pydl faster); "
               "for value rows (MB): other's value / pydl's (>1: pydl uses less)")
    return "\n".join(out)


def markdown_table(results, machine, settings):
    out = ["# pydl benchmarks", "",
           "Regenerate with `python benchmarks/run.py --repeat 5 --json results.json --markdown "
           "benchmarks/RESULTS.md --plot benchmarks/results.png` on a quiet machine (the chart: `results.png`).", "",
           f"- date: {machine['date']}",
           f"- CPU: {machine['cpu']} ({machine['cpus_usable']} usable of {machine['cpu_count']} CPUs, "
           f"load average {' '.join(f'{x:.1f}' for x in machine['load_average'] or [])})",
           f"- threads: {machine['threads_requested']} requested; " +
           ", ".join(f"{LABELS[k]} {v}" for k, v in machine["threads"].items()),
           "- versions: " + ", ".join(f"{LABELS[k]} {v}" for k, v in machine["versions"].items()) +
           f", Python {machine['python']}",
           f"- NumPy BLAS: {_blas(machine)}",
           f"- pydl build: {isa_line(machine)}, {machine['pydl_build'].get('compiler')}",
           f"- settings: {settings}", "",
           "Times are per call, median over blocks (min in parentheses). Speed-up is the other "
           "library's median time over pydl's: above 1 means pydl is faster. Value rows (unit MB) "
           "are measured once per library, lower is better, and their ratio is the other's value over "
           "pydl's: above 1 means pydl uses less. GFLOP/s rates carry, in parentheses, their share of the "
           "FMA peak measured above for the ISA level pydl runs at.", "",
           "| case | pydl | NumPy | PyTorch | rate pydl / NumPy / PyTorch | speed-up vs NumPy | vs PyTorch |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for rec in results:
        times, rates, sp = _cells(rec)
        out.append(f"| {rec['name']} | {times['pydl']} | {times['numpy']} | {times['torch']} | "
                   f"{' / '.join(rates[l] for l in LIBS)} {rec['unit']} | {sp['numpy']} | {sp['torch']} |")
    return "\n".join(out) + "\n"


def write_json(path, results, machine, settings):
    with open(path, "w") as f:
        json.dump({"machine": machine, "settings": settings, "results": results}, f, indent=2)


def plot(path, results, machine):
    """Bar chart of pydl's speed-ups over NumPy and PyTorch per case (log scale; 1 = parity)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("--plot needs matplotlib: pip install matplotlib  (or: pip install '.[plot]')", file=sys.stderr)
        return False
    names = [r["name"] for r in results]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(names) + 1.5))
    h = 0.4
    for k, (lib, color) in enumerate((("numpy", "tab:blue"), ("torch", "tab:orange"))):
        vals = [r["speedup"].get(lib, float("nan")) for r in results]
        ax.barh([i + (k - 0.5) * h for i in range(len(names))], vals, height=h, color=color,
                label=f"pydl vs {LABELS[lib]}")
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    ax.set_xlabel("speed-up (other median time / pydl median time; >1: pydl faster)")
    ax.set_title(f"pydl speed-ups, {machine['date'][:10]}, {machine['threads_requested']} threads\n{machine['cpu']}",
                 fontsize=9)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return True
