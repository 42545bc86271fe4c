#include "kernels/cpu/attention.h"

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.h"
#include "core/threads.h"

namespace pydl::kernels {
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

// scores (L, S) of problem b -> masked, softmaxed in place.
template <typename T>
void masked_softmax(const AttnGeom& g, int64_t b, T* s) {
  const T ninf = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < g.L; ++i) {
    T* r = s + i * g.S;
    if (g.mask) {
      const int64_t base = b * g.mask_sb + i * g.mask_sl;
      if (g.mask_is_bool) {
        const bool* m = static_cast<const bool*>(g.mask) + base;
        for (int64_t j = 0; j < g.S; ++j) if (!m[j * g.mask_ss]) r[j] = ninf;
      } else {
        const T* m = static_cast<const T*>(g.mask) + base;
        for (int64_t j = 0; j < g.S; ++j) r[j] += m[j * g.mask_ss];
      }
    }
    if (g.causal) for (int64_t j = i + 1; j < g.S; ++j) r[j] = ninf;
    T mx = ninf;
    for (int64_t j = 0; j < g.S; ++j) mx = r[j] > mx ? r[j] : mx;
    if (mx == ninf) {  // every key masked: PyTorch gives a zero row
      std::fill(r, r + g.S, T(0));
      continue;
    }
    T sum = 0;
    for (int64_t j = 0; j < g.S; ++j) { r[j] = std::exp(r[j] - mx); sum += r[j]; }
    const T inv = T(1) / sum;
    for (int64_t j = 0; j < g.S; ++j) r[j] *= inv;
  }
}

}  // namespace

template <typename T>
void sdpa_forward(const AttnGeom& g, const T* q, const T* k, const T* v, T* out, T* P) {
  const int64_t LS = g.L * g.S;
  parallel_for(g.B, 1, [&](int64_t b0, int64_t b1) {
    std::vector<T> drop(g.p > 0 ? LS : 0);
    for (int64_t b = b0; b < b1; ++b) {
      CMap<T> Q(q + b * g.L * g.E, g.L, g.E), Kb(k + b * g.S * g.E, g.S, g.E), V(v + b * g.S * g.Ev, g.S, g.Ev);
      Map<T> Pb(P + b * LS, g.L, g.S), O(out + b * g.L * g.Ev, g.L, g.Ev);
      Pb.noalias() = (Q * Kb.transpose()) * T(g.scale);  // (L,E) x (S,E)^T -> (L,S)
      masked_softmax(g, b, Pb.data());
      if (g.p > 0) {
        for (int64_t i = 0; i < g.L; ++i) dropout_row(g, b, i, drop.data() + i * g.S);
        Map<T> D(drop.data(), g.L, g.S);
        D.array() *= Pb.array();
        O.noalias() = D * V;
      } else {
        O.noalias() = Pb * V;  // (L,S) x (S,Ev) -> (L,Ev)
      }
    }
  });
}

template <typename T>
void sdpa_backward(const AttnGeom& g, const T* q, const T* k, const T* v, const T* P, const T* gout, T* gq, T* gk, T* gv,
                   T* gs) {
  const int64_t LS = g.L * g.S;
  parallel_for(g.B, 1, [&](int64_t b0, int64_t b1) {
    Mat<T> dP(g.L, g.S), drop(g.p > 0 ? g.L : 0, g.p > 0 ? g.S : 0);
    for (int64_t b = b0; b < b1; ++b) {
      CMap<T> Q(q + b * g.L * g.E, g.L, g.E), Kb(k + b * g.S * g.E, g.S, g.E), V(v + b * g.S * g.Ev, g.S, g.Ev);
      CMap<T> Pb(P + b * LS, g.L, g.S), dO(gout + b * g.L * g.Ev, g.L, g.Ev);
      if (g.p > 0)
        for (int64_t i = 0; i < g.L; ++i) dropout_row(g, b, i, drop.data() + i * g.S);
      if (gv) {
        Map<T> dV(gv + b * g.S * g.Ev, g.S, g.Ev);
        if (g.p > 0) dV.noalias() = (Pb.array() * drop.array()).matrix().transpose() * dO;
        else dV.noalias() = Pb.transpose() * dO;  // (L,S)^T x (L,Ev) -> (S,Ev)
      }
      if (!gq && !gk && !gs) continue;
      dP.noalias() = dO * V.transpose();  // (L,Ev) x (S,Ev)^T -> (L,S)
      if (g.p > 0) dP.array() *= drop.array();
      // softmax backward: dS = P * (dP - rowsum(dP * P))
      for (int64_t i = 0; i < g.L; ++i) {
        T dot = 0;
        for (int64_t j = 0; j < g.S; ++j) dot += dP(i, j) * Pb(i, j);
        for (int64_t j = 0; j < g.S; ++j) dP(i, j) = Pb(i, j) * (dP(i, j) - dot);
      }
      if (gs) Map<T>(gs + b * LS, g.L, g.S) = dP;
      if (gq) Map<T>(gq + b * g.L * g.E, g.L, g.E).noalias() = (dP * Kb) * T(g.scale);            // (L,S) x (S,E)
      if (gk) Map<T>(gk + b * g.S * g.E, g.S, g.E).noalias() = (dP.transpose() * Q) * T(g.scale);  // (L,S)^T x (L,E)
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

}  // namespace pydl::kernels
