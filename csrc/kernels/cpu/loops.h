#pragma once
// Strided N-operand iteration shared by the elementwise kernels.
#include <array>

#include "core/tensor.h"
#include "core/threads.h"

namespace pydl::kernels {

/// Calls f(ptrs, inner_strides_bytes, n) over runs of the innermost dimension of
/// `shape` for N operands that all have that shape (broadcast inputs have stride 0).
/// Dims are coalesced first, so contiguous operands make one long run; the outer
/// runs are split across threads when numel >= grain.
template <size_t N, typename F>
void for_each_run(const Shape& shape_in, const std::array<const TensorImpl*, N>& ops, int64_t grain, const F& f) {
  // Collect geometry in bytes, dropping size-1 dims.
  Shape shape;
  std::array<Shape, N> st;
  std::array<char*, N> base;
  for (size_t k = 0; k < N; ++k) base[k] = static_cast<char*>(ops[k]->raw());
  for (size_t d = 0; d < shape_in.size(); ++d) {
    if (shape_in[d] == 1) continue;
    shape.push_back(shape_in[d]);
    for (size_t k = 0; k < N; ++k) st[k].push_back(ops[k]->strides[d] * static_cast<int64_t>(ops[k]->itemsize()));
  }
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  if (numel == 0) return;
  // Merge dim d into d+1 when every operand walks them as one.
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d) {
    bool ok = true;
    for (size_t k = 0; k < N; ++k) ok = ok && st[k][d] == st[k][d + 1] * shape[d + 1];
    if (!ok) continue;
    shape[d + 1] *= shape[d];
    shape.erase(shape.begin() + d);
    for (size_t k = 0; k < N; ++k) st[k].erase(st[k].begin() + d);
  }
  if (shape.empty()) {
    std::array<int64_t, N> s{};
    f(base, s, int64_t(1));
    return;
  }
  const int64_t nd = static_cast<int64_t>(shape.size());
  const int64_t inner = shape[nd - 1];
  std::array<int64_t, N> inner_st;
  for (size_t k = 0; k < N; ++k) inner_st[k] = st[k][nd - 1];
  const int64_t outer = numel / inner;
  if (outer == 1) {  // one run: split it across threads directly
    parallel_for(inner, grain, [&](int64_t b, int64_t e) {
      std::array<char*, N> p;
      for (size_t k = 0; k < N; ++k) p[k] = base[k] + b * inner_st[k];
      f(p, inner_st, e - b);
    });
    return;
  }
  int64_t outer_grain = std::max<int64_t>(1, grain / inner);
  parallel_for(outer, outer_grain, [&](int64_t b, int64_t e) {
    Shape idx(nd - 1);
    int64_t r = b;
    for (int64_t d = nd - 2; d >= 0; --d) { idx[d] = r % shape[d]; r /= shape[d]; }
    std::array<char*, N> p;
    for (size_t k = 0; k < N; ++k) {
      p[k] = base[k];
      for (int64_t d = 0; d < nd - 1; ++d) p[k] += idx[d] * st[k][d];
    }
    for (int64_t o = b; o < e; ++o) {
      f(p, inner_st, inner);
      for (int64_t d = nd - 2; d >= 0; --d) {  // advance the multi-index
        for (size_t k = 0; k < N; ++k) p[k] += st[k][d];
        if (++idx[d] < shape[d]) break;
        for (size_t k = 0; k < N; ++k) p[k] -= st[k][d] * shape[d];
        idx[d] = 0;
      }
    }
  });
}

}  // namespace pydl::kernels
