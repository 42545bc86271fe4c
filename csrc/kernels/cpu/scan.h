#pragma once
// Cumulative scans along the middle axis of a contiguous (outer, R, inner) block, one
// thread per group of lines. Instantiated for float and double.
#include <cstdint>

namespace pydl::kernels {

/// y[r] = x[0] * ... * x[r].
template <typename T> void cumprod_forward(int64_t outer, int64_t R, int64_t inner, const T* x, T* y);
/// gx[r] = sum_{j>=r} g[j] prod_{k<=j, k!=r} x[k], in O(R) per line and without dividing by x.
template <typename T> void cumprod_backward(int64_t outer, int64_t R, int64_t inner, const T* x, const T* g, T* gx);
/// y[r] = log(sum_{k<=r} exp(x[k])), as a running log-add-exp.
template <typename T> void logcumsumexp_forward(int64_t outer, int64_t R, int64_t inner, const T* x, T* y);
/// gx[r] = sum_{j>=r} g[j] exp(x[r] - y[j]), as a reverse scan of factors exp(y[j] - y[j+1]) <= 1.
template <typename T>
void logcumsumexp_backward(int64_t outer, int64_t R, int64_t inner, const T* x, const T* y, const T* g, T* gx);
/// Running max (min) and the index of its last occurrence; NaN propagates like torch.
template <typename T>
void cummax_forward(int64_t outer, int64_t R, int64_t inner, const T* x, T* y, int64_t* idx, bool is_max);

/// out[r, k] = lower (upper when right) bound of v[r, k] in the sorted row s[r] (s_stride 0: one shared row).
template <typename T>
void searchsorted(int64_t rows, int64_t M, int64_t K, const T* s, int64_t s_stride, const T* v, int64_t* out, bool right);

}  // namespace pydl::kernels
