#include "kernels/cpu/reduce.h"

#include "kernels/cpu/eigen.h"
#include <cmath>
#include <limits>

#include "core/threads.h"

#include "kernels/cpu/isa.h"

namespace pydl::kernels::PYDL_ISA_NS {
namespace {

template <typename T>
T lowest() { return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest(); }
template <typename T>
T highest() { return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max(); }
template <typename T>
T qnan() { return std::numeric_limits<T>::quiet_NaN(); }
template <typename T>
bool isnan_(T v) { if constexpr (std::is_floating_point_v<T>) return v != v; else return false; }

#define PYDL_REDUCE_COMBINE(NAME, IDENTITY, COMBINE, ...) case ReduceOp::NAME: return COMBINE;
#define PYDL_REDUCE_IDENTITY(NAME, IDENTITY, ...) case ReduceOp::NAME: return IDENTITY;
#define PYDL_REDUCE_RUN(NAME, IDENTITY, COMBINE, RUN) case ReduceOp::NAME: return RUN;

template <typename T>
inline T combine(ReduceOp op, T a, T b) {
  switch (op) { PYDL_REDUCE_KERNELS(PYDL_REDUCE_COMBINE) }
  return a;
}

template <typename T>
T identity(ReduceOp op) {
  switch (op) { PYDL_REDUCE_KERNELS(PYDL_REDUCE_IDENTITY) }
  return T(0);
}

// Reduction of one contiguous run; float sums go through Eigen (vectorised, several accumulators).
template <typename Acc, typename In>
Acc reduce_run(ReduceOp op, const In* p, int64_t n) {
  if constexpr (std::is_floating_point_v<In> && std::is_same_v<Acc, In>) {
    Eigen::Map<const Eigen::Array<In, Eigen::Dynamic, 1>> m(p, n);
    if (n == 0) return identity<Acc>(op);
    using T = In;
    switch (op) { PYDL_REDUCE_KERNELS(PYDL_REDUCE_RUN) }
  }
  Acc acc = identity<Acc>(op);
  for (int64_t i = 0; i < n; ++i) acc = combine<Acc>(op, acc, static_cast<Acc>(p[i]));
  return acc;
}

template <typename Acc, typename In>
void reduce_typed(ReduceOp op, Acc* out, const In* in, int64_t outer, int64_t R, int64_t inner) {
  if (inner == 1) {
    if (outer == 1) {  // one long run: partial results per thread
      int nt = get_num_threads();
      if (R < (1 << 15) || nt == 1) { out[0] = reduce_run<Acc, In>(op, in, R); return; }
      std::vector<Acc> part(nt, identity<Acc>(op));
      parallel_for(R, 1 << 15, [&](int64_t b, int64_t e) { part[omp_get_thread_num()] = reduce_run<Acc, In>(op, in + b, e - b); });
      Acc acc = identity<Acc>(op);
      for (Acc v : part) acc = combine<Acc>(op, acc, v);
      out[0] = acc;
      return;
    }
    parallel_for(outer, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(R, 1)), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) out[o] = reduce_run<Acc, In>(op, in + o * R, R);
    });
    return;
  }
  // inner > 1: accumulate rows, vectorised across `inner`
  auto body = [&](int64_t o, int64_t i0, int64_t i1) {
    Acc* dst = out + o * inner;
    for (int64_t i = i0; i < i1; ++i) dst[i] = identity<Acc>(op);
    for (int64_t r = 0; r < R; ++r) {
      const In* src = in + (o * R + r) * inner;
      for (int64_t i = i0; i < i1; ++i) dst[i] = combine<Acc>(op, dst[i], static_cast<Acc>(src[i]));
    }
  };
  if (outer >= get_num_threads() || outer * R * inner < (1 << 15)) {
    parallel_for(outer, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(R * inner, 1)), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) body(o, 0, inner);
    });
  } else {
    for (int64_t o = 0; o < outer; ++o)
      parallel_for(inner, 256, [&](int64_t b, int64_t e) { body(o, b, e); });
  }
}

}  // namespace

void reduce(ReduceOp op, const TensorImpl& out, const TensorImpl& in, int64_t outer, int64_t R, int64_t inner) {
  PYDL_DISPATCH_ALL(out.dtype, "reduce", [&] {
    using Acc = scalar_t;
    PYDL_DISPATCH_ALL(in.dtype, "reduce", [&] { reduce_typed<Acc, scalar_t>(op, out.data<Acc>(), in.data<scalar_t>(), outer, R, inner); });
  });
}

void arg_reduce(bool is_max, const TensorImpl* values, const TensorImpl& indices, const TensorImpl& in, int64_t outer,
                int64_t R, int64_t inner) {
  PYDL_DISPATCH_ALL(in.dtype, "argmax", [&] {
    const scalar_t* src = in.data<scalar_t>();
    scalar_t* vo = values ? values->data<scalar_t>() : nullptr;
    int64_t* io = indices.data<int64_t>();
    parallel_for(outer * inner, 4096, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        int64_t o = k / inner, i = k % inner;
        const scalar_t* p = src + o * R * inner + i;
        scalar_t best = p[0];
        int64_t bi = 0;
        for (int64_t r = 1; r < R; ++r) {
          scalar_t v = p[r * inner];
          bool nan_best = false;
          if constexpr (std::is_floating_point_v<scalar_t>) nan_best = best != best;
          if (nan_best) break;
          bool better;
          if constexpr (std::is_floating_point_v<scalar_t>) better = (v != v) || (is_max ? v > best : v < best);
          else better = is_max ? v > best : v < best;
          if (better) { best = v; bi = r; }
        }
        if (vo) vo[k] = best;
        io[k] = bi;
      }
    });
  });
}

}  // namespace pydl::kernels::PYDL_ISA_NS
