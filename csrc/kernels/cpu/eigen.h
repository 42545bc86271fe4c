#pragma once
// Eigen as pydl's kernels use it: include this instead of <Eigen/Core>.
//
// Eigen 3.4's AVX-512 float exp (arch/AVX512/MathFunctions.h) is an older Cephes form that clamps its
// argument to +-88.376: exp(x) is 0 for x in (-103.9, -88.4) where the true value is a subnormal,
// inf for x in (88.4, 88.72) where it is finite, and a few ulp off elsewhere. Its SSE and AVX exp is
// the newer pexp_float (within 1 ulp, exact under- and overflow). The specialisation below gives
// the AVX-512 copies of the kernels that one too, for exp and expm1 (Eigen's expm1 calls its exp),
// so exp and everything built on it (softmax, elu, silu, ...) has the same values on every machine.
// (Eigen's float logistic calls the old exp only where its result is below 1e-38.)
#include <Eigen/Core>

#if defined(EIGEN_VECTORIZE_AVX512)
namespace Eigen::internal {
template <>
struct scalar_exp_op<float> {
  EIGEN_EMPTY_STRUCT_CTOR(scalar_exp_op)
  inline const float operator()(const float& a) const { return numext::exp(a); }
  template <typename Packet>
  inline Packet packetOp(const Packet& a) const { return pexp_float(a); }
};

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
#endif
