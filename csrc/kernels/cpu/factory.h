#pragma once
// Fills for the tensor factories and random initialisers. `out` is contiguous; the random
// fills draw from `g` in element order (the caller holds g's lock).
#include "core/rng.h"
#include "core/tensor.h"

namespace pydl::kernels {

/// out[i] = start + i * step
void arange_fill(const TensorImpl& out, double start, double step);
/// out evenly spaced from start to end, filled from both ends as PyTorch does (the last value is exact).
void linspace_fill(const TensorImpl& out, double start, double end);
/// Ones on the diagonal of a zeroed (n, m) `out`.
void eye_fill(const TensorImpl& out);
/// out[i] ~ U[lo, hi)
void uniform_fill(const TensorImpl& out, double lo, double hi, Generator& g);
/// out[i] ~ N(mean, stdv^2)
void normal_fill(const TensorImpl& out, double mean, double stdv, Generator& g);
/// out[i] = 1 with probability p, else 0
void bernoulli_fill(const TensorImpl& out, double p, Generator& g);
/// out[i] uniform in [low, high)
void randint_fill(const TensorImpl& out, int64_t low, int64_t high, Generator& g);
/// Fisher-Yates shuffle of an int64 `out` in place.
void shuffle(const TensorImpl& out, Generator& g);
/// PyTorch's CPU randperm shuffle of an int64 `out` in place: mt19937 seeded with the low 32 bits of `seed`.
void shuffle_mt19937(const TensorImpl& out, uint64_t seed);

}  // namespace pydl::kernels
