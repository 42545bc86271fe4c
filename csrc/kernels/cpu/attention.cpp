#include "kernels/cpu/attention.h"

#include "kernels/cpu/eigen.h"
#include <cmath>
#include <limits>
#include <vector>

#include "core/threads.h"
#include "kernels/cpu/attention_ops.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"

namespace pydl::kernels::PYDL_ISA_NS {
namespace {

template <typename T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using Map = Eigen::Map<Mat<T>>;

// The dropout keep-mask of row (b, i), scaled by 1/(1-p) (attention_ops.h: the same streams
// in forward and backward, for any thread count, on either device).
template <typename T>
void dropout_row(const AttnGeom& g, int64_t b, int64_t i, T* m) {
  for (int64_t j = 0; j < g.S; ++j) m[j] = T(attn_dropout(g.seed, b * g.L + i, j, g.p));
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

// C (M, N) (+)= A (M, K) B (K, N), element (i, p) of A at A[i*a_rs + p*a_cs]: pydl's GEMM on the
// calling thread (each thread takes whole batch indices). Eigen's own product spent most of a
// causal 64x64 attention in packing for its 48-row tiles.
template <typename T>
void mm(int64_t M, int64_t N, int64_t K, const T* A, int64_t a_rs, int64_t a_cs, const T* B, int64_t b_rs, int64_t b_cs,
        T* C, int64_t ldc, bool acc) {
  gemm_any<T>(M, N, K, A, a_rs, a_cs, B, b_rs, b_cs, C, ldc, acc, true);
}

// Query rows are taken in blocks; with a causal mask a block only meets the keys before its
// last row, which skips the (zero) upper triangle of the scores.
constexpr int64_t kCausalBlock = 32;

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
      const T* kb = k + b * g.S * g.E;
      const T* vb = v + b * g.S * g.Ev;
      T* Pb = P + b * LS;
      T* ob = out + b * g.L * g.Ev;
      for (int64_t i0 = 0; i0 < g.L; i0 += blk) {
        const int64_t i1 = std::min(i0 + blk, g.L), n = i1 - i0, s1 = g.causal ? std::min(g.S, i1) : g.S;
        T* Sblk = Pb + i0 * g.S;
        mm<T>(n, s1, g.E, qb + i0 * g.E, g.E, 1, kb, 1, g.E, Sblk, g.S, false);  // (n,E) x (s1,E)^T
        SMap<T> Pblk(Sblk, n, s1, Eigen::OuterStride<>(g.S));
        Pblk *= T(g.scale);
        masked_softmax(g, b, i0, i1, s1, Pb);
        if (s1 < g.S) SMap<T>(Sblk + s1, n, g.S - s1, Eigen::OuterStride<>(g.S)).setZero();
        if (g.p > 0) {
          for (int64_t i = i0; i < i1; ++i) dropout_row(g, b, i, drop.data() + (i - i0) * g.S);
          drop.topLeftCorner(n, s1).array() *= Pblk.array();
          mm<T>(n, g.Ev, s1, drop.data(), g.S, 1, vb, g.Ev, 1, ob + i0 * g.Ev, g.Ev, false);
        } else {
          mm<T>(n, g.Ev, s1, Sblk, g.S, 1, vb, g.Ev, 1, ob + i0 * g.Ev, g.Ev, false);  // (n,s1) x (s1,Ev)
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
    Mat<T> dP(blk, g.S), drop(g.p > 0 ? blk : 0, g.p > 0 ? g.S : 0);
    for (int64_t b = b0; b < b1; ++b) {
      const T* qb = q + b * g.L * g.E;
      const T* ob = gout + b * g.L * g.Ev;
      const T* kb = k + b * g.S * g.E;
      const T* vb = v + b * g.S * g.Ev;
      const T* Pb = P + b * LS;
      if (gv) Map<T>(gv + b * g.S * g.Ev, g.S, g.Ev).setZero();
      if (gk) Map<T>(gk + b * g.S * g.E, g.S, g.E).setZero();
      if (gs) Map<T>(gs + b * LS, g.L, g.S).setZero();
      for (int64_t i0 = 0; i0 < g.L; i0 += blk) {
        const int64_t i1 = std::min(i0 + blk, g.L), n = i1 - i0, s1 = g.causal ? std::min(g.S, i1) : g.S;
        const T* Pi = Pb + i0 * g.S;
        CSMap<T> Pblk(Pi, n, s1, Eigen::OuterStride<>(g.S));
        const T* dOi = ob + i0 * g.Ev;
        if (g.p > 0)
          for (int64_t i = i0; i < i1; ++i) dropout_row(g, b, i, drop.data() + (i - i0) * g.S);
        if (gv) {
          T* dV = gv + b * g.S * g.Ev;
          if (g.p > 0) {
            Mat<T> Pd = (Pblk.array() * drop.topLeftCorner(n, s1).array()).matrix();
            mm<T>(s1, g.Ev, n, Pd.data(), 1, s1, dOi, g.Ev, 1, dV, g.Ev, true);
          } else {
            mm<T>(s1, g.Ev, n, Pi, 1, g.S, dOi, g.Ev, 1, dV, g.Ev, true);  // (n,s1)^T x (n,Ev) -> (s1,Ev)
          }
        }
        if (!gq && !gk && !gs) continue;
        mm<T>(n, s1, g.Ev, dOi, g.Ev, 1, vb, 1, g.Ev, dP.data(), g.S, false);  // (n,Ev) x (s1,Ev)^T -> (n,s1)
        auto dPb = dP.topLeftCorner(n, s1);
        if (g.p > 0) dPb.array() *= drop.topLeftCorner(n, s1).array();
        // softmax backward: dS = P * (dP - rowsum(dP * P))
        const Eigen::Array<T, Eigen::Dynamic, 1> dot = (dPb.array() * Pblk.array()).rowwise().sum();
        dPb.array() = Pblk.array() * (dPb.array().colwise() - dot);
        if (gs) SMap<T>(gs + b * LS + i0 * g.S, n, s1, Eigen::OuterStride<>(g.S)) = dPb;
        dPb *= T(g.scale);  // the scores were q k^T * scale
        if (gq) mm<T>(n, g.E, s1, dP.data(), g.S, 1, kb, g.E, 1, gq + b * g.L * g.E + i0 * g.E, g.E, false);  // (n,s1) x (s1,E)
        if (gk) mm<T>(s1, g.E, n, dP.data(), 1, g.S, qb + i0 * g.E, g.E, 1, gk + b * g.S * g.E, g.E, true);
      }
    }
  });
}

PYDL_INSTANTIATE_FLOATING(PYDL_ATTENTION_FNS)

}  // namespace pydl::kernels::PYDL_ISA_NS
