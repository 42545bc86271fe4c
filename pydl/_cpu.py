"""Checks at import that this CPU can run the instruction set pydl's core was built for.

The core builds for x86-64-v2 (PYDL_ARCH); the hot kernel families (GEMM, elementwise,
reductions, activations, norms, convolution, pooling, RNN, optimizers) also have AVX2+FMA and
AVX-512 copies, picked at load time from CPUID and XGETBV (csrc/core/cpu_features.cpp,
csrc/kernels/cpu/dispatch.cpp), so this check refuses only CPUs older than x86-64-v2."""


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        return None
    return None


# What each -march level needs (the flags that matter for generated code).
_REQUIRED = {
    "x86-64-v3": {"avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe"},
    "x86-64-v4": {"avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq"},
    "x86-64-v2": {"sse4_2", "ssse3", "popcnt"},
}


def check_cpu(arch):
    """Raises ImportError when the CPU lacks the instructions of build arch `arch`."""
    need = _REQUIRED.get(arch)
    flags = _cpu_flags()
    if not need or flags is None:
        return
    missing = sorted(need - flags)
    if missing:
        raise ImportError(
            f"pydl was built for -march={arch} but this CPU lacks {', '.join(missing)}; "
            "rebuild from source with `pip install . -Ccmake.define.PYDL_ARCH=x86-64`")
