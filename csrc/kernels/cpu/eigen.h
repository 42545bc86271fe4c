#pragma once
// Eigen as pydl's kernels use it: include this instead of <Eigen/Core>.
//
// Eigen 3.4's vector exp is not exact where exp under- or overflows:
// - its SSE/AVX float exp (pexp_float) clamps x to -88.723, so exp(x) for every x below, -inf
//   included, is 2.9e-39 (a subnormal) instead of the true subnormal or 0; a softmax then gave
//   masked keys 1.8e-40 instead of 0, and the subnormals slowed every later multiply on Intel
//   cores (causal attention ran 20x slower than unmasked). pexp_double does the same at -709.4.
// - its AVX-512 float exp (arch/AVX512/MathFunctions.h) is an older Cephes form that clamps to
//   +-88.376: 0 for x in (-103.9, -88.4), inf for x in (88.4, 88.72), a few ulp off elsewhere.
// The specialisations below give every ISA copy of the kernels pexp_float / pexp_double, with the
// arguments below the clamp computed as exp(x + c) * exp(-c) (one rounding into the subnormals,
// 0 where the true value is), for exp and expm1 (Eigen's expm1 calls its exp), so exp and everything
// built on it (softmax, elu, silu, ...) has the same values on every machine.
// (Eigen's float logistic calls the old exp only where its result is below 1e-38.)
#include <Eigen/Core>

namespace Eigen::internal {

// exp with exact underflow: pexp_float / pexp_double above their clamp, exp(x + c) * exp(-c) below.
template <typename Packet>
inline Packet pydl_pexp(const Packet& x) {
  using S = typename unpacket_traits<Packet>::type;
  constexpr bool f32 = sizeof(S) == 4;
  Packet y = f32 ? pexp_float(x) : pexp_double(x);
  const Packet low = pcmp_lt(x, pset1<Packet>(f32 ? S(-88) : S(-708)));
  if (predux_any(low)) {
    const Packet c = pset1<Packet>(f32 ? S(20) : S(50));
    const Packet exp_minus_c = pset1<Packet>(f32 ? S(2.061153622438558e-09) : S(1.9287498479639178e-22));
    const Packet shifted = pmul(f32 ? pexp_float(padd(x, c)) : pexp_double(padd(x, c)), exp_minus_c);
    y = pselect(low, shifted, y);
  }
  return y;
}

template <typename S>
struct pydl_exp_op {
  inline const S operator()(const S& a) const { return numext::exp(a); }
  template <typename Packet>
  inline Packet packetOp(const Packet& a) const { return pydl_pexp(a); }
};
template <>
struct scalar_exp_op<float> : pydl_exp_op<float> {};
template <>
struct scalar_exp_op<double> : pydl_exp_op<double> {};

// Eigen's generic_expm1 (Kahan's u - 1 correction) with pexp_float in place of pexp.
template <>
struct scalar_expm1_op<float> {
  EIGEN_EMPTY_STRUCT_CTOR(scalar_expm1_op)
  inline const float operator()(const float& a) const { return numext::expm1(a); }
  template <typename Packet>
  inline Packet packetOp(const Packet& x) const {
    const Packet one = pset1<Packet>(1.f), neg_one = pset1<Packet>(-1.f);
    const Packet u = pexp_float(x), u_minus_one = psub(u, one);
    const Packet logu = plog(u);
    const Packet r = pselect(pcmp_eq(logu, u), u, pmul(u_minus_one, pdiv(x, logu)));  // u = +inf: inf
    return pselect(pcmp_eq(u, one), x, pselect(pcmp_eq(u_minus_one, neg_one), neg_one, r));
  }
};

}  // namespace Eigen::internal
