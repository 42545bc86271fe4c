#include "kernels/cpu/scan.h"

#include <algorithm>
#include <cmath>

#include "core/threads.h"
#include "kernels/cpu/scan_ops.h"

namespace pydl::kernels {
namespace {
// Calls f(base, stride) for each line of the (outer, R, inner) block.
template <typename F>
void lines(int64_t outer, int64_t R, int64_t inner, F f) {
  parallel_for(outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(R, 1)), [&](int64_t b, int64_t e) {
    for (int64_t l = b; l < e; ++l) f((l / inner) * R * inner + l % inner, inner);
  });
}
}  // namespace

template <typename T>
void cumprod_forward(int64_t outer, int64_t R, int64_t inner, const T* x, T* y) {
  lines(outer, R, inner, [&](int64_t o, int64_t s) { cumprod_line(R, s, x + o, y + o); });
}

template <typename T>
void cumprod_backward(int64_t outer, int64_t R, int64_t inner, const T* x, const T* g, T* gx) {
  lines(outer, R, inner, [&](int64_t o, int64_t s) { cumprod_backward_line(R, s, x + o, g + o, gx + o); });
}

template <typename T>
void logcumsumexp_forward(int64_t outer, int64_t R, int64_t inner, const T* x, T* y) {
  lines(outer, R, inner, [&](int64_t o, int64_t s) { logcumsumexp_line(R, s, x + o, y + o); });
}

template <typename T>
void logcumsumexp_backward(int64_t outer, int64_t R, int64_t inner, const T* x, const T* y, const T* g, T* gx) {
  lines(outer, R, inner, [&](int64_t o, int64_t s) { logcumsumexp_backward_line(R, s, x + o, y + o, g + o, gx + o); });
}

template <typename T>
void cummax_forward(int64_t outer, int64_t R, int64_t inner, const T* x, T* y, int64_t* idx, bool is_max) {
  lines(outer, R, inner, [&](int64_t o, int64_t s) { cummax_line(R, s, x + o, y + o, idx + o, is_max); });
}

template <typename T>
void searchsorted(int64_t rows, int64_t M, int64_t K, const T* s, int64_t s_stride, const T* v, int64_t* out, bool right) {
  parallel_for(rows * K, 1024, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = sorted_bound(s + (i / K) * s_stride, M, v[i], right);
  });
}

#define INST(T)                                                                                  \
  template void cumprod_forward<T>(int64_t, int64_t, int64_t, const T*, T*);                     \
  template void cummax_forward<T>(int64_t, int64_t, int64_t, const T*, T*, int64_t*, bool);                \
  template void searchsorted<T>(int64_t, int64_t, int64_t, const T*, int64_t, const T*, int64_t*, bool);
#define INST_FLOAT(T)                                                                            \
  template void cumprod_backward<T>(int64_t, int64_t, int64_t, const T*, const T*, T*);          \
  template void logcumsumexp_forward<T>(int64_t, int64_t, int64_t, const T*, T*);                \
  template void logcumsumexp_backward<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, T*);
INST(float)
INST(double)
INST(int64_t)
INST_FLOAT(float)
INST_FLOAT(double)

}  // namespace pydl::kernels
