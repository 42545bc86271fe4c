#pragma once
// The instruction-set level kernels run at: detected once from CPUID and XGETBV (the OS must
// save the YMM/ZMM state, or the instructions fault), optionally lowered by PYDL_ISA.

namespace pydl {

/// Kernel instruction-set levels, lowest first.
enum class Isa { Baseline = 0, AVX2 = 1, AVX512 = 2 };

/// The highest level this CPU and OS support (baseline: x86-64-v2).
Isa detected_isa();
/// The level kernels use: detected_isa(), or lower when PYDL_ISA=avx512|avx2|baseline asks for it.
Isa active_isa();
/// "baseline", "avx2" or "avx512".
const char* isa_name(Isa isa);
/// AMD Zen 4 and older cores run AVX-512 on 256-bit units (same FMA rate as AVX2).
bool half_width_avx512();

}  // namespace pydl
