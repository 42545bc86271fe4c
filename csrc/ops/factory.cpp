// Tensor factories and random initialisers (no autograd).
#include <cmath>

#include "core/rng.h"
#include "kernels/cpu/factory.h"
#include "ops/ops.h"

namespace pydl {

namespace K = kernels;

Tensor arange(double start, double end, double step, DType dtype) {
  PYDL_CHECK(step != 0, ValueError, "[arange] step must be nonzero");
  PYDL_CHECK(std::isfinite(start) && std::isfinite(end), ValueError, "[arange] unsupported range: ", start, " -> ", end);
  PYDL_CHECK((step > 0 && end >= start) || (step < 0 && end <= start), ValueError,
             "[arange] upper bound and larger bound inconsistent with step sign");
  double n = std::ceil((end - start) / step);
  PYDL_CHECK(n < 9.2e18, MemoryError, "[arange] too many elements: ", n);
  Tensor t = empty({static_cast<int64_t>(n)}, dtype);
  K::arange_fill(*t, start, step);
  return t;
}

Tensor linspace(double start, double end, int64_t steps, DType dtype) {
  PYDL_CHECK(steps >= 0, ValueError, "[linspace] number of steps must be non-negative, got ", steps);
  Tensor t = empty({steps}, dtype);
  K::linspace_fill(*t, start, end);
  return t;
}

Tensor eye(int64_t n, int64_t m, DType dtype) {
  PYDL_CHECK(n >= 0 && m >= 0, ValueError, "[eye] n and m must be non-negative, got ", n, " and ", m);
  Tensor t = zeros({n, m}, dtype);
  K::eye_fill(*t);
  return t;
}

namespace {
// Fills `t` in place from the default generator (through a contiguous buffer when t is not).
template <typename F>
void fill_random_(const Tensor& t, const F& fill) {
  Tensor c = t->is_contiguous() ? t : empty(t->shape, t->dtype);
  {
    Generator& g = default_generator();
    std::lock_guard<std::mutex> l(g.mutex());
    fill(*c, g);
  }
  if (c != t) { AutoGradMode off(false); copy_(t, c); }
  t->bump_version();
}
}  // namespace

void uniform_(const Tensor& t, double lo, double hi) {
  PYDL_CHECK(lo <= hi, ValueError, "[uniform_] expects from <= to, but got from=", lo, " > to=", hi);
  fill_random_(t, [&](const TensorImpl& c, Generator& g) { K::uniform_fill(c, lo, hi, g); });
}

void normal_(const Tensor& t, double mean, double stdv) {
  PYDL_CHECK(stdv >= 0, ValueError, "[normal_] expects std >= 0.0, but found std ", stdv);
  fill_random_(t, [&](const TensorImpl& c, Generator& g) { K::normal_fill(c, mean, stdv, g); });
}

void bernoulli_(const Tensor& t, double prob) {
  PYDL_CHECK(prob >= 0 && prob <= 1, ValueError, "[bernoulli_] expects 0 <= p <= 1, but got p=", prob);
  fill_random_(t, [&](const TensorImpl& c, Generator& g) { K::bernoulli_fill(c, prob, g); });
}

Tensor rand(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  uniform_(t, 0, 1);
  return t;
}

Tensor randn(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  normal_(t, 0, 1);
  return t;
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype) {
  PYDL_CHECK(high > low, ValueError, "[randint] random_ expects 'from' to be less than 'to', but got from=", low,
             " >= to=", high);
  Tensor t = empty(shape, dtype);
  {
    Generator& g = default_generator();
    std::lock_guard<std::mutex> l(g.mutex());
    K::randint_fill(*t, low, high, g);
  }
  return t;
}

Tensor randperm(int64_t n, DType dtype) {
  PYDL_CHECK(n >= 0, ValueError, "[randperm] n must be non-negative, got ", n);
  Tensor t = arange(0, static_cast<double>(n), 1, DType::Int64);
  {
    Generator& g = default_generator();
    std::lock_guard<std::mutex> l(g.mutex());
    K::shuffle(*t, g);
  }
  return dtype == DType::Int64 ? t : to_dtype(t, dtype);
}

Tensor randperm_mt19937(int64_t n, uint64_t seed) {
  PYDL_CHECK(n >= 0 && n < static_cast<int64_t>(UINT32_MAX / 20), ValueError,
             "[randperm_mt19937] n must be in [0, ", UINT32_MAX / 20, "), got ", n);
  Tensor t = arange(0, static_cast<double>(n), 1, DType::Int64);
  K::shuffle_mt19937(*t, seed);
  return t;
}

}  // namespace pydl
