#include "kernels/cpu/factory.h"

#include <algorithm>
#include <random>

namespace pydl::kernels {

void arange_fill(const TensorImpl& out, double start, double step) {
  PYDL_DISPATCH_NUMERIC(out.dtype, "arange", [&] {
    scalar_t* p = out.data<scalar_t>();
    for (int64_t i = 0; i < out.numel; ++i) p[i] = static_cast<scalar_t>(start + i * step);
  });
}

void linspace_fill(const TensorImpl& out, double start, double end) {
  const int64_t steps = out.numel;
  PYDL_DISPATCH_NUMERIC(out.dtype, "linspace", [&] {
    scalar_t* p = out.data<scalar_t>();
    double step = steps > 1 ? (end - start) / (steps - 1) : 0;
    for (int64_t i = 0; i < steps; ++i)
      p[i] = static_cast<scalar_t>(steps == 1 || i < steps / 2 ? start + i * step : end - (steps - 1 - i) * step);
  });
}

void eye_fill(const TensorImpl& out) {
  const int64_t n = out.shape[0], m = out.shape[1];
  PYDL_DISPATCH_ALL(out.dtype, "eye", [&] {
    scalar_t* p = out.data<scalar_t>();
    for (int64_t i = 0; i < std::min(n, m); ++i) p[i * m + i] = scalar_t(1);
  });
}

void uniform_fill(const TensorImpl& out, double lo, double hi, Generator& g) {
  PYDL_DISPATCH_FLOAT(out.dtype, "uniform_", [&] {
    scalar_t* p = out.data<scalar_t>();
    for (int64_t i = 0; i < out.numel; ++i) p[i] = static_cast<scalar_t>(lo + (hi - lo) * g.uniform());
  });
}

void normal_fill(const TensorImpl& out, double mean, double stdv, Generator& g) {
  PYDL_DISPATCH_FLOAT(out.dtype, "normal_", [&] {
    scalar_t* p = out.data<scalar_t>();
    for (int64_t i = 0; i < out.numel; ++i) p[i] = static_cast<scalar_t>(mean + stdv * g.normal());
  });
}

void bernoulli_fill(const TensorImpl& out, double prob, Generator& g) {
  PYDL_DISPATCH_ALL(out.dtype, "bernoulli_", [&] {
    scalar_t* p = out.data<scalar_t>();
    for (int64_t i = 0; i < out.numel; ++i) p[i] = static_cast<scalar_t>(g.uniform() < prob);
  });
}

void randint_fill(const TensorImpl& out, int64_t low, int64_t high, Generator& g) {
  const uint64_t range = static_cast<uint64_t>(high - low);
  PYDL_DISPATCH_NUMERIC(out.dtype, "randint", [&] {
    scalar_t* p = out.data<scalar_t>();
    for (int64_t i = 0; i < out.numel; ++i) p[i] = static_cast<scalar_t>(low + static_cast<int64_t>(g.next_u64() % range));
  });
}

void shuffle(const TensorImpl& out, Generator& g) {
  int64_t* p = out.data<int64_t>();
  for (int64_t i = out.numel - 1; i > 0; --i) std::swap(p[i], p[g.next_u64() % static_cast<uint64_t>(i + 1)]);
}

void shuffle_mt19937(const TensorImpl& out, uint64_t seed) {
  int64_t* p = out.data<int64_t>();
  const int64_t n = out.numel;
  std::mt19937 eng(static_cast<uint32_t>(seed));
  for (int64_t i = 0; i + 1 < n; ++i) std::swap(p[i], p[i + static_cast<int64_t>(eng() % static_cast<uint64_t>(n - i))]);
}

}  // namespace pydl::kernels
