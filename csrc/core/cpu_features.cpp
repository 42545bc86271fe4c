#include "core/cpu_features.h"

#include <cpuid.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pydl {
namespace {

struct Regs { unsigned a = 0, b = 0, c = 0, d = 0; };

Regs cpuid(unsigned leaf, unsigned sub = 0) {
  Regs r;
  __cpuid_count(leaf, sub, r.a, r.b, r.c, r.d);
  return r;
}

unsigned long long xgetbv0() {
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}

Isa detect() {
  if (__get_cpuid_max(0, nullptr) < 7) return Isa::Baseline;
  Regs l1 = cpuid(1);
  const bool osxsave = l1.c & (1u << 27), avx = l1.c & (1u << 28), fma = l1.c & (1u << 12);
  if (!osxsave || !avx) return Isa::Baseline;
  const unsigned long long xcr0 = xgetbv0();
  const bool ymm_saved = (xcr0 & 0x6) == 0x6;     // SSE + AVX state
  const bool zmm_saved = (xcr0 & 0xe6) == 0xe6;   // + opmask, ZMM0-15 high halves, ZMM16-31
  Regs l7 = cpuid(7, 0);
  const bool avx2 = l7.b & (1u << 5);
  const bool avx512 = (l7.b & (1u << 16)) && (l7.b & (1u << 17)) && (l7.b & (1u << 30)) && (l7.b & (1u << 31));  // F DQ BW VL
  if (avx512 && avx2 && fma && zmm_saved) return Isa::AVX512;
  if (avx2 && fma && ymm_saved) return Isa::AVX2;
  return Isa::Baseline;
}

Isa choose() {
  const Isa hw = detected_isa();
  const char* env = std::getenv("PYDL_ISA");
  if (!env || !*env) return hw;
  Isa want;
  if (!std::strcmp(env, "avx512")) want = Isa::AVX512;
  else if (!std::strcmp(env, "avx2")) want = Isa::AVX2;
  else if (!std::strcmp(env, "baseline")) want = Isa::Baseline;
  else {
    std::fprintf(stderr, "pydl: ignoring PYDL_ISA=%s (expected avx512, avx2 or baseline)\n", env);
    return hw;
  }
  if (static_cast<int>(want) > static_cast<int>(hw)) {
    std::fprintf(stderr, "pydl: PYDL_ISA=%s is not supported by this CPU; using %s\n", env, isa_name(hw));
    return hw;
  }
  return want;
}

}  // namespace

Isa detected_isa() {
  static const Isa isa = detect();
  return isa;
}

Isa active_isa() {
  static const Isa isa = choose();
  return isa;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::AVX512: return "avx512";
    case Isa::AVX2: return "avx2";
    default: return "baseline";
  }
}

bool half_width_avx512() {
  Regs v = cpuid(0);
  const bool amd = v.b == 0x68747541;  // "Auth"enticAMD
  if (!amd) return false;
  Regs l1 = cpuid(1);
  const unsigned family = ((l1.a >> 8) & 0xf) + ((l1.a >> 20) & 0xff);
  return family <= 0x19;  // Zen 4 is family 19h; Zen 5 (1Ah) has full 512-bit FMA pipes
}

}  // namespace pydl
