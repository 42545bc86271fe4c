#include "kernels/cpu/attention.h"

#include "kernels/cpu/eigen.h"
#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.h"
#include "core/threads.h"
#include "kernels/cpu/isa.h"

namespace pydl::kernels::PYDL_ISA_NS {
namespace {

template <typename T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using Map = Eigen::Map<Mat<T>>;
template <typename T>
using CMap = Eigen::Map<const Mat<T>>;

// The dropout keep-mask of row (b, i), scaled by 1/(1-p): one splitmix64 stream per row,
// seeded from (seed, row), so forward and backward (and any thread count) draw the same mask.
template <typename T>
void dropout_row(const AttnGeom& g, int64_t b, int64_t i, T* m) {
  uint64_t state = g.seed ^ (0x9e3779b97f4a7c15ull * uint64_t(b * g.L + i + 1));
  const double scale = g.p >= 1 ? 0.0 : 1.0 / (1.0 - g.p);
  const uint32_t threshold = static_cast<uint32_t>(std::min(g.p * 4294967296.0, 4294967295.0));
  for (int64_t j = 0; j < g.S; j += 2) {
    const uint64_t r = splitmix64(state);
    m[j] = uint32_t(r) < threshold ? T(0) : T(scale);
    if (j + 1 < g.S) m[j + 1] = uint32_t(r >> 32) < threshold ? T(0) : T(scale);
  }
}

// Rows [i0, i1) of problem b's scores (row stride S, first `s1` keys) -> masked, softmaxed in place.
template <typename T>
void masked_softmax(const AttnGeom& g, int64_t b, int64_t i0, int64_t i1, int64_t s1, T* s) {
  const T ninf = -std::numeric_limits<T>::infinity();
  for (int64_t i = i0; i < i1; ++i) {
    T* r = s + i * g.S;
    if (g.mask) {
      const int64_t base = b * g.mask_sb + i * g.mask_sl;
      if (g.mask_is_bool) {
        const bool* m = static_cast<const bool*>(g.mask) + base;
        for (int64_t j = 0; j < s1; ++j) if (!m[j * g.mask_ss]) r[j] = ninf;
      } else {
        const T* m = static_cast<const T*>(g.mask) + base;
        for (int64_t j = 0; j < s1; ++j) r[j] += m[j * g.mask_ss];
      }
    }
    if (g.causal) for (int64_t j = i + 1; j < s1; ++j) r[j] = ninf;
    Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> row(r, s1);
    const T mx = s1 ? row.maxCoeff() : ninf;
    if (mx == ninf) {  // every key masked: PyTorch gives a zero row
      row.setZero();
      continue;
    }
    row = (row - mx).exp();
    row *= T(1) / row.sum();
  }
}

// Query rows are taken in blocks; with a causal mask a block only meets the keys before its
// last row, which skips the (zero) upper triangle of the scores.
constexpr int64_t kCausalBlock = 16;

template <typename T>
using SMap = Eigen::Map<Mat<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using CSMap = Eigen::Map<const Mat<T>, 0, Eigen::OuterStride<>>;

}  // namespace

template <typename T>
void sdpa_forward(const AttnGeom& g, const T* q, const T* k, const T* v, T* out, T* P) {
  const int64_t LS = g.L * g.S, blk = g.causal ? kCausalBlock : std::max<int64_t>(g.L, 1);
  parallel_for(g.B, 1, [&](int64_t b0, int64_t b1) {
    Mat<T> drop(g.p > 0 ? blk : 0, g.p > 0 ? g.S : 0);
    for (int64_t b = b0; b < b1; ++b) {
      const T* qb = q + b * g.L * g.E;
      CMap<T> Kb(k + b * g.S * g.E, g.S, g.E), V(v + b * g.S * g.Ev, g.S, g.Ev);
      T* Pb = P + b * LS;
      T* ob = out + b * g.L * g.Ev;
      for (int64_t i0 = 0; i0 < g.L; i0 += blk) {
        const int64_t i1 = std::min(i0 + blk, g.L), n = i1 - i0, s1 = g.causal ? std::min(g.S, i1) : g.S;
        SMap<T> Pblk(Pb + i0 * g.S, n, s1, Eigen::OuterStride<>(g.S));
        Pblk.noalias() = (CMap<T>(qb + i0 * g.E, n, g.E) * Kb.topRows(s1).transpose()) * T(g.scale);  // (n,E) x (s1,E)^T
        masked_softmax(g, b, i0, i1, s1, Pb);
        if (s1 < g.S) SMap<T>(Pb + i0 * g.S + s1, n, g.S - s1, Eigen::OuterStride<>(g.S)).setZero();
        Map<T> O(ob + i0 * g.Ev, n, g.Ev);
        if (g.p > 0) {
          for (int64_t i = i0; i < i1; ++i) dropout_row(g, b, i, drop.data() + (i - i0) * g.S);
          O.noalias() = (Pblk.array() * drop.topLeftCorner(n, s1).array()).matrix() * V.topRows(s1);
        } else {
          O.noalias() = Pblk * V.topRows(s1);  // (n,s1) x (s1,Ev) -> (n,Ev)
        }
      }
    }
  });
}

template <typename T>
void sdpa_backward(const AttnGeom& g, const T* q, const T* k, const T* v, const T* P, const T* gout, T* gq, T* gk, T* gv,
                   T* gs) {
  const int64_t LS = g.L * g.S, blk = g.causal ? kCausalBlock : std::max<int64_t>(g.L, 1);
  parallel_for(g.B, 1, [&](int64_t b0, int64_t b1) {
    Mat<T> dP(blk, g.S), drop(g.p > 0 ? blk : 0, g.p > 0 ? g.S : 0), Pd;
    for (int64_t b = b0; b < b1; ++b) {
      const T* qb = q + b * g.L * g.E;
      const T* ob = gout + b * g.L * g.Ev;
      CMap<T> Kb(k + b * g.S * g.E, g.S, g.E), V(v + b * g.S * g.Ev, g.S, g.Ev);
      const T* Pb = P + b * LS;
      if (gv) Map<T>(gv + b * g.S * g.Ev, g.S, g.Ev).setZero();
      if (gk) Map<T>(gk + b * g.S * g.E, g.S, g.E).setZero();
      if (gs) Map<T>(gs + b * LS, g.L, g.S).setZero();
      for (int64_t i0 = 0; i0 < g.L; i0 += blk) {
        const int64_t i1 = std::min(i0 + blk, g.L), n = i1 - i0, s1 = g.causal ? std::min(g.S, i1) : g.S;
        CSMap<T> Pblk(Pb + i0 * g.S, n, s1, Eigen::OuterStride<>(g.S));
        CMap<T> dO(ob + i0 * g.Ev, n, g.Ev), Q(qb + i0 * g.E, n, g.E);
        if (g.p > 0)
          for (int64_t i = i0; i < i1; ++i) dropout_row(g, b, i, drop.data() + (i - i0) * g.S);
        if (gv) {
          Map<T> dV(gv + b * g.S * g.Ev, g.S, g.Ev);
          if (g.p > 0) {
            Pd = (Pblk.array() * drop.topLeftCorner(n, s1).array()).matrix();
            dV.topRows(s1).noalias() += Pd.transpose() * dO;
          } else {
            dV.topRows(s1).noalias() += Pblk.transpose() * dO;  // (n,s1)^T x (n,Ev) -> (s1,Ev)
          }
        }
        if (!gq && !gk && !gs) continue;
        auto dPb = dP.topLeftCorner(n, s1);
        dPb.noalias() = dO * V.topRows(s1).transpose();  // (n,Ev) x (s1,Ev)^T -> (n,s1)
        if (g.p > 0) dPb.array() *= drop.topLeftCorner(n, s1).array();
        // softmax backward: dS = P * (dP - rowsum(dP * P))
        const Eigen::Array<T, Eigen::Dynamic, 1> dot = (dPb.array() * Pblk.array()).rowwise().sum();
        dPb.array() = Pblk.array() * (dPb.array().colwise() - dot);
        if (gs) SMap<T>(gs + b * LS + i0 * g.S, n, s1, Eigen::OuterStride<>(g.S)) = dPb;
        if (gq) Map<T>(gq + b * g.L * g.E + i0 * g.E, n, g.E).noalias() = (dPb * Kb.topRows(s1)) * T(g.scale);  // (n,s1) x (s1,E)
        if (gk) Map<T>(gk + b * g.S * g.E, g.S, g.E).topRows(s1).noalias() += (dPb.transpose() * Q) * T(g.scale);
      }
    }
  });
}

#define PYDL_INST(T)                                                                                  \
  template void sdpa_forward<T>(const AttnGeom&, const T*, const T*, const T*, T*, T*);                \
  template void sdpa_backward<T>(const AttnGeom&, const T*, const T*, const T*, const T*, const T*, T*, \
                                 T*, T*, T*);
PYDL_INST(float)
PYDL_INST(double)
#undef PYDL_INST

}  // namespace pydl::kernels::PYDL_ISA_NS
