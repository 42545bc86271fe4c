// Per-channel fills, adds and sums over (N, C, P) tensors (biases of conv and conv-transpose).
#include "kernels/cpu/eigen.h"
#include <algorithm>

#include "core/threads.h"
#include "kernels/cpu/nn.h"

#include "kernels/cpu/isa.h"

namespace pydl::kernels::PYDL_ISA_NS {

template <typename T>
void channel_fill(int64_t N, int64_t C, int64_t P, const T* b, T* y) {
  parallel_for(N * C, std::max<int64_t>(1, 16384 / std::max<int64_t>(P, 1)), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) std::fill(y + i * P, y + (i + 1) * P, b ? b[i % C] : T(0));
  });
}

template <typename T>
void channel_add(int64_t N, int64_t C, int64_t P, const T* b, T* y) {
  parallel_for(N * C, std::max<int64_t>(1, 16384 / std::max<int64_t>(P, 1)), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T bv = b[i % C];
      for (int64_t p = 0; p < P; ++p) y[i * P + p] += bv;
    }
  });
}

template <typename T>
void channel_sum(int64_t N, int64_t C, int64_t P, const T* x, T* s) {
  for (int64_t c = 0; c < C; ++c) {
    double acc = 0;
    for (int64_t n = 0; n < N; ++n) acc += Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(x + (n * C + c) * P, P).sum();
    s[c] = T(acc);
  }
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_CHANNEL_FNS)

}  // namespace pydl::kernels::PYDL_ISA_NS
