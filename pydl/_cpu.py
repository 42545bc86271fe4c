"""Checks at import that this CPU can run the baseline instruction set of pydl's core.

The core is built for x86-64-v2; its AVX2 and AVX-512 kernels are chosen at load time from
CPUID (csrc/core/cpu_features.cpp), so only a CPU older than x86-64-v2 is refused here."""


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
