"""API coverage: how much of PyTorch's public API pydl has, by name, per namespace.

    python benchmarks/api_coverage.py [--missing] [--json out.json]

For each namespace (nn module classes without Lazy*, nn.functional, optimizers, LR schedulers,
Tensor methods, torch.* functions) it lists PyTorch's public names and counts those that pydl

  * has: the same name exists in the matching pydl namespace, and
  * tests: the name appears as an identifier somewhere under tests/ (so a name that exists only
    to be counted does not count).

The headline percentage is `tested / total`; the denominator keeps the names deliberately left out
(listed with the reason) so the number is not flattered. Needs torch installed.
"""
import argparse
import inspect
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Names pydl leaves out on purpose, with the reason (printed with the report).
LEFT_OUT = {
    "nn": {
        "DataParallel": "single-process multi-GPU wrapper; pydl runs on the CPU (use pydl.distributed DDP)",
        "Container": "deprecated alias kept by torch for old pickles",
        "NLLLoss2d": "deprecated alias of NLLLoss",
        "CrossMapLRN2d": "legacy Lua-torch layer",
        "FractionalMaxPool2d": "random-pooling research layer, rarely used",
        "FractionalMaxPool3d": "random-pooling research layer, rarely used",
        "LinearCrossEntropyLoss": "torch 2.13 experimental fused loss",
    },
    "functional": {
        "boolean_dispatch": "torch.jit plumbing, not an nn op",
        "assert_int_or_pair": "torch internal argument check",
        "conv_tbc": "legacy fairseq layout",
        "grouped_mm": "CUDA grouped GEMM", "scaled_grouped_mm": "CUDA float8 GEMM", "scaled_mm": "CUDA float8 GEMM",
        "native_channel_shuffle": "internal alias of channel_shuffle",
        "multi_head_attention_forward": "internal helper of nn.MultiheadAttention",
        "fractional_max_pool2d": "see FractionalMaxPool2d", "fractional_max_pool3d": "see FractionalMaxPool3d",
        "fractional_max_pool2d_with_indices": "see FractionalMaxPool2d",
        "fractional_max_pool3d_with_indices": "see FractionalMaxPool3d",
        "linear_cross_entropy": "torch 2.13 experimental fused loss",
    },
    "optim": {
        "Muon": "torch 2.13 addition (orthogonalised momentum); not yet",
        "LBFGS": "owned by issue 12",
    },
    "lr_scheduler": {},
    "Tensor": {},
    "torch": {},
}
LEFT_OUT_PATTERNS = {
    # complex numbers, quantisation, sparse layouts, CUDA/storage internals and named tensors are outside
    # pydl's dtypes (float32/float64/int64/bool) and its dense CPU storage
    "Tensor": r"(^q_|quantiz|^int_repr|sparse|^to_mkldnn|^is_mkldnn|^coalesce|^indices$|^values$|crow_|col_indices|"
              r"ccol|row_indices|^conj|^imag$|^real$|^resolve_|^is_conj|^is_neg|complex|^angle|^polar|^cuda|^is_cuda|"
              r"^pin_memory|^is_pinned|^share_memory|^is_shared|^storage|^untyped_storage|^record_stream|"
              r"^names$|^rename|^refine_names|^align_|^has_names|^ipu|^xpu|^mps|^mtia|^is_ipu|^is_xpu|^is_mps|"
              r"^is_meta|^is_quantized|^is_nested|^is_vulkan|^is_maia|^hpu|^is_hpu|^nested|^to_padded|^dequantize|"
              r"^smm$|^sspaddmm|^_)",
    "torch": r"(^q_|quantiz|quantize|sparse|mkldnn|^fbgemm|^conj|^is_conj|^is_neg|complex|^polar|^view_as_real|"
             r"^view_as_complex|^cudnn|^miopen|^native_|^nested|^segment_reduce|^fused_|^_|^is_vulkan|"
             r"^choose_qparams|^dequantize|^int_repr|^resolve_|^rnn_|^gru_cell|^lstm_cell|^rnn_tanh|^smm$|^hsmm$|^sspaddmm|"
             r"^compile$|^export$|^jit|^vmap$|^cond$|^while_loop|^sym_|^Sym|^get_device_module|^set_default_device|"
             r"^get_device$|^is_storage|^set_deterministic|^are_deterministic|^use_deterministic|^is_deterministic|"
             r"^set_warn_always|^is_warn_always|^set_float32_matmul|^get_float32_matmul|^from_file|^typename)",
}


def _public(names):
    return sorted(n for n in names if not n.startswith("_"))


def torch_names():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as O
    import torch.optim.lr_scheduler as S
    mods = [n for n in _public(dir(nn)) if inspect.isclass(getattr(nn, n)) and issubclass(getattr(nn, n), nn.Module)
            and not n.startswith("Lazy")]
    fns = [n for n in _public(dir(F)) if callable(getattr(F, n)) and not inspect.isclass(getattr(F, n))
           and getattr(getattr(F, n), "__module__", None) in ("torch.nn.functional", "torch._C._nn", "torch", None,
                                                              "torch._jit_internal")]
    opts = [n for n in _public(dir(O)) if inspect.isclass(getattr(O, n)) and issubclass(getattr(O, n), O.Optimizer)
            and n != "Optimizer"]
    scheds = [n for n in _public(dir(S)) if inspect.isclass(getattr(S, n))
              and (issubclass(getattr(S, n), S.LRScheduler) or n == "ReduceLROnPlateau") and n != "LRScheduler"]
    tmeth = _public(dir(torch.Tensor))
    tfun = [n for n in _public(torch.__all__) if callable(getattr(torch, n, None)) and not inspect.isclass(getattr(torch, n))]
    return {"nn": mods, "functional": fns, "optim": opts, "lr_scheduler": scheds, "Tensor": tmeth, "torch": tfun}


def pydl_namespaces():
    sys.path.insert(0, str(ROOT))
    import pydl
    import pydl.nn.functional
    import pydl.optim.lr_scheduler
    return {"nn": pydl.nn, "functional": pydl.nn.functional, "optim": pydl.optim,
            "lr_scheduler": pydl.optim.lr_scheduler, "Tensor": pydl.Tensor, "torch": pydl}


def tested_identifiers():
    words = set()
    for p in (ROOT / "tests").rglob("*.py"):
        words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", p.read_text()))
    return words


def coverage():
    names, ns, words = torch_names(), pydl_namespaces(), tested_identifiers()
    report = {}
    for key, lst in names.items():
        left = dict(LEFT_OUT[key])
        pat = LEFT_OUT_PATTERNS.get(key)
        has = [n for n in lst if hasattr(ns[key], n)]
        tested = [n for n in has if n in words]
        for n in lst:
            if n not in has and n not in left and pat and re.search(pat, n):
                left[n] = "outside pydl's dtypes/storage (complex, quantised, sparse, device internals)"
        missing = [n for n in lst if n not in has and n not in left]
        report[key] = {"total": len(lst), "has": len(has), "tested": len(tested), "pct": 100.0 * len(tested) / max(len(lst), 1),
                       "untested": [n for n in has if n not in words], "missing": missing,
                       "left_out": {n: left[n] for n in lst if n in left and n not in has}}
    return report


TITLES = {"nn": "nn module classes (no Lazy*)", "functional": "nn.functional", "optim": "optimizers",
          "lr_scheduler": "LR schedulers", "Tensor": "Tensor methods", "torch": "torch.* functions"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--missing", action="store_true", help="list every missing name")
    ap.add_argument("--json", help="write the full report here")
    args = ap.parse_args(argv)
    rep = coverage()
    print(f"{'namespace':32s} {'torch':>6s} {'pydl':>6s} {'tested':>7s} {'coverage':>9s}")
    for k, r in rep.items():
        print(f"{TITLES[k]:32s} {r['total']:6d} {r['has']:6d} {r['tested']:7d} {r['pct']:8.1f}%")
    for k, r in rep.items():
        if r["left_out"]:
            print(f"\nleft out of {TITLES[k]} on purpose ({len(r['left_out'])}):")
            reasons = {}
            for n, why in r["left_out"].items():
                reasons.setdefault(why, []).append(n)
            for why, ns in reasons.items():
                print(f"  {', '.join(ns)}: {why}")
        if r["untested"]:
            print(f"\n{TITLES[k]} present but not named in tests/ (not counted): {', '.join(r['untested'])}")
        if args.missing and r["missing"]:
            print(f"\n{TITLES[k]} missing ({len(r['missing'])}): {', '.join(r['missing'])}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(rep, indent=1))
    return rep


if __name__ == "__main__":
    main()
