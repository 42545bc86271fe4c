"""Runs pydl's benchmarks against NumPy and PyTorch in the same run.

    python benchmarks/run.py [--quick] [--filter SUBSTR] [--repeat N] [--threads N]
                             [--json PATH] [--markdown PATH] [--plot PATH]

Cases come from every `benchmarks/cases_*.py` (each exposes `cases(quick) -> list[Case]`);
a module that fails to import is skipped with a warning.
"""
import argparse
import glob
import importlib
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller cases, fewer and shorter blocks (under a minute)")
    p.add_argument("--filter", default=None, metavar="SUBSTR",
                   help="only cases whose name or group contains SUBSTR (comma-separated: any of them)")
    p.add_argument("--repeat", type=int, default=None, metavar="N",
                   help="timed blocks per library and case (default 7, 3 with --quick)")
    p.add_argument("--threads", type=int, default=2, metavar="N", help="threads for pydl, NumPy's BLAS and PyTorch")
    p.add_argument("--block-ms", type=float, default=None, help="target length of one block (default 100, 50 with --quick)")
    p.add_argument("--pause", type=float, default=None,
                   help="seconds of pause between blocks (default 0.3, 0.1 with --quick)")
    p.add_argument("--json", metavar="PATH", help="write results and machine info as JSON")
    p.add_argument("--markdown", metavar="PATH", help="write a Markdown table with date and machine info")
    p.add_argument("--plot", metavar="PATH", help="write a PNG bar chart of pydl's speed-ups (needs matplotlib)")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    return p.parse_args(argv)


def discover(quick, log=sys.stderr):
    """Imports every cases_*.py beside this file and returns their cases."""
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    found = []
    for path in sorted(glob.glob(os.path.join(HERE, "cases_*.py"))):
        mod_name = os.path.splitext(os.path.basename(path))[0]
        try:
            mod = importlib.import_module(mod_name)
            found.extend(mod.cases(quick))
        except Exception as e:  # the features a module needs may not exist yet
            print(f"warning: skipping {mod_name}.py: {type(e).__name__}: {e}", file=log)
    return found


def main(argv=None):
    args = parse_args(argv)
    # BLAS and OpenMP pools read their size when the library loads: set it before any import.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import pydl
    import harness

    pydl.set_num_threads(args.threads)
    torch = harness.optional_torch()
    if torch is not None:
        torch.set_num_threads(args.threads)

    repeat = args.repeat or (3 if args.quick else 7)
    target = (args.block_ms or (50 if args.quick else 100)) / 1000
    if args.pause is None:  # the pauses dominate a quick run's wall time (about 10 per case)
        args.pause = 0.1 if args.quick else 0.3
    settings = {"quick": args.quick, "repeat": repeat, "block_ms": target * 1000, "pause_s": args.pause,
                "threads": args.threads, "filter": args.filter}

    cases = discover(args.quick)
    if args.filter:
        subs = [f.strip().lower() for f in args.filter.split(",") if f.strip()]
        cases = [c for c in cases if any(f in c.name.lower() or f in c.group.lower() for f in subs)]
    if args.list:
        print("\n".join(f"{c.group:12s} {c.name}" for c in cases))
        return 0
    if not cases:
        print("no benchmark case to run", file=sys.stderr)
        return 1

    machine = harness.machine_info(args.threads)
    print(harness.machine_line(machine))
    if torch is None:
        print("PyTorch is not installed: its columns stay empty")
    if machine["load_average"] and machine["load_average"][0] > 0.5 * machine["cpus_usable"]:
        print(f"warning: load average {machine['load_average'][0]:.1f} on {machine['cpus_usable']} CPUs: "
              "other work shares the cores, timings (multi-threaded ones most) will be noisy")
    t_start = time.perf_counter()
    results = []
    for i, case in enumerate(cases, 1):
        print(f"[{i}/{len(cases)}] {case.name}", file=sys.stderr, flush=True)
        try:
            timings = harness.measure(case, repeat, target, args.pause)
        except Exception:
            print(f"warning: case {case.name!r} failed:\n{traceback.format_exc()}", file=sys.stderr)
            continue
        for lib, tm in timings.items():
            if tm.error:
                print(f"warning: {case.name}: {lib} failed: {tm.error}", file=sys.stderr)
        results.append(harness.result_record(case, timings))
    settings["seconds"] = round(time.perf_counter() - t_start, 1)
    harness.add_peak_shares(results, machine)

    print()
    print(harness.text_table(results))
    print(f"{len(results)} cases in {settings['seconds']} s ({repeat} blocks of ~{target * 1000:.0f} ms per library, "
          f"{args.pause} s pauses)")
    if args.json:
        harness.write_json(args.json, results, machine, settings)
        print(f"wrote {args.json}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(harness.markdown_table(results, machine, settings))
        print(f"wrote {args.markdown}")
    if args.plot:
        if not harness.plot(args.plot, results, machine):
            return 1
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
