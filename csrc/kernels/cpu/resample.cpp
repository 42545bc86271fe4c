#include "kernels/cpu/resample.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/threads.h"

namespace pydl::kernels {
namespace {

// Source taps of one spatial dim: output o reads inputs idx[o*taps + t] with weight w[o*taps + t].
template <typename T>
struct Taps {
  int64_t taps = 1;
  std::vector<int64_t> idx;
  std::vector<T> w;
};

// PyTorch's area_pixel_compute_scale (in opmath precision T).
template <typename T>
T pixel_scale(int64_t in, int64_t out, bool align, double scale) {
  if (align) return out > 1 ? T(in - 1) / T(out - 1) : T(0);
  return scale > 0 ? T(1.0 / scale) : T(in) / T(out);
}

template <typename T>
T cubic1(T x, T A) { return ((A + 2) * x - (A + 3)) * x * x + 1; }
template <typename T>
T cubic2(T x, T A) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; }

// PyTorch's antialiasing filters (triangle; cubic with a = -0.5) of a distance in input pixels.
template <typename T>
T aa_filter(Interp mode, T x) {
  x = x < 0 ? -x : x;
  if (mode == Interp::Linear) return x < 1 ? 1 - x : T(0);
  const T a = T(-0.5);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return T(0);
}

// Antialiased taps: a filter of support (taps / 2) * max(scale, 1) around each output centre,
// its weights normalised to sum to one (PyTorch's _upsample_*_aa).
template <typename T>
Taps<T> make_aa_taps(Interp mode, bool align, int64_t in, int64_t out, double scale) {
  const T s = pixel_scale<T>(in, out, align, scale);
  const T half = mode == Interp::Linear ? T(1) : T(2);
  const T support = s >= 1 ? half * s : half;
  const T inv = s >= 1 ? T(1) / s : T(1);
  Taps<T> t;
  t.taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  t.idx.assign(out * t.taps, 0);
  t.w.assign(out * t.taps, T(0));
  for (int64_t o = 0; o < out; ++o) {
    const T center = s * (T(o) + T(0.5));
    const int64_t x0 = std::max<int64_t>(static_cast<int64_t>(center - support + T(0.5)), 0);
    const int64_t n = std::min<int64_t>(std::min<int64_t>(static_cast<int64_t>(center + support + T(0.5)), in) - x0, t.taps);
    T total = 0;
    for (int64_t j = 0; j < n; ++j) total += (t.w[o * t.taps + j] = aa_filter(mode, (T(j + x0) - center + T(0.5)) * inv));
    for (int64_t j = 0; j < t.taps; ++j) {
      t.idx[o * t.taps + j] = j < n ? x0 + j : x0;
      if (j < n && total != 0) t.w[o * t.taps + j] /= total;
    }
  }
  return t;
}

template <typename T>
Taps<T> make_taps(Interp mode, bool align, int64_t in, int64_t out, double scale) {
  Taps<T> t;
  t.taps = mode == Interp::Linear ? 2 : mode == Interp::Cubic ? 4 : 1;
  t.idx.resize(out * t.taps);
  t.w.resize(out * t.taps);
  if (mode == Interp::Nearest || mode == Interp::NearestExact) {
    // PyTorch computes nearest source indices in float whatever the dtype.
    const float s = scale > 0 ? float(1.0 / scale) : float(in) / float(out);
    const float off = mode == Interp::NearestExact ? 0.5f : 0.0f;
    for (int64_t o = 0; o < out; ++o) {
      const bool legacy = mode == Interp::Nearest;  // PyTorch's special cases for 'nearest' only
      int64_t i = legacy && out == in ? o : legacy && out == 2 * in ? o / 2 : std::min(static_cast<int64_t>(std::floor((float(o) + off) * s)), in - 1);
      t.idx[o] = i;
      t.w[o] = T(1);
    }
    return t;
  }
  const T s = pixel_scale<T>(in, out, align, scale);
  for (int64_t o = 0; o < out; ++o) {
    T src = align ? s * T(o) : s * (T(o) + T(0.5)) - T(0.5);
    if (mode == Interp::Linear && src < 0) src = 0;  // cubic keeps negative coordinates
    // PyTorch's guard_index_and_lambda: index = min(floor(src), in - 1), fraction clamped to [0, 1].
    const int64_t i = std::min(static_cast<int64_t>(std::floor(src)), in - 1);
    const T l = std::min(std::max(src - T(i), T(0)), T(1));
    if (mode == Interp::Linear) {
      const bool same = in == out;  // PyTorch copies when the sizes agree
      t.idx[2 * o] = same ? o : i; t.w[2 * o] = same ? T(1) : T(1) - l;
      t.idx[2 * o + 1] = same ? o : i + (i < in - 1 ? 1 : 0); t.w[2 * o + 1] = same ? T(0) : l;
    } else {
      const T A = T(-0.75);
      const T c[4] = {cubic2<T>(l + 1, A), cubic1<T>(l, A), cubic1<T>(1 - l, A), cubic2<T>(2 - l, A)};
      for (int64_t k = 0; k < 4; ++k) {
        t.idx[4 * o + k] = std::min(std::max<int64_t>(i - 1 + k, 0), in - 1);
        t.w[4 * o + k] = c[k];
      }
    }
  }
  return t;
}

}  // namespace

template <typename T>
InterpTaps<T> interp_taps(const InterpGeom& g) {
  const bool aa = g.antialias && (g.mode == Interp::Linear || g.mode == Interp::Cubic);
  InterpTaps<T> r;
  for (int d = 0; d < 3; ++d) {
    Taps<T> t = aa && g.in[d] != g.out[d] ? make_aa_taps<T>(g.mode, g.align_corners, g.in[d], g.out[d], g.scale[d])
                                          : make_taps<T>(g.mode, g.align_corners, g.in[d], g.out[d], g.scale[d]);
    r.taps[d] = t.taps;
    r.idx[d] = std::move(t.idx);
    r.w[d] = std::move(t.w);
  }
  return r;
}

template <typename T>
void interp_forward(const InterpGeom& g, const T* x, T* y) {
  const InterpTaps<T> t = interp_taps<T>(g);
  const int64_t I = g.in[0] * g.in[1] * g.in[2], O = g.out[0] * g.out[1] * g.out[2];
  parallel_for(g.NC * g.out[0], std::max<int64_t>(1, 4096 / std::max<int64_t>(g.out[1] * g.out[2], 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t c = r / g.out[0], o0 = r % g.out[0];
      const T* xp = x + c * I;
      T* yp = y + c * O + o0 * g.out[1] * g.out[2];
      for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
        for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
          T acc = 0;
          for (int64_t a = 0; a < t.taps[0]; ++a) {
            const int64_t ia = t.idx[0][o0 * t.taps[0] + a];
            const T wa = t.w[0][o0 * t.taps[0] + a];
            for (int64_t b = 0; b < t.taps[1]; ++b) {
              const int64_t ib = t.idx[1][o1 * t.taps[1] + b];
              const T wab = wa * t.w[1][o1 * t.taps[1] + b];
              const T* row = xp + (ia * g.in[1] + ib) * g.in[2];
              for (int64_t e = 0; e < t.taps[2]; ++e) acc += wab * t.w[2][o2 * t.taps[2] + e] * row[t.idx[2][o2 * t.taps[2] + e]];
            }
          }
          yp[o1 * g.out[2] + o2] = acc;
        }
    }
  });
}

template <typename T>
void interp_backward(const InterpGeom& g, const T* gy, T* gx) {
  const InterpTaps<T> t = interp_taps<T>(g);
  const int64_t I = g.in[0] * g.in[1] * g.in[2], O = g.out[0] * g.out[1] * g.out[2];
  parallel_for(g.NC, std::max<int64_t>(1, 4096 / std::max<int64_t>(O, 1)), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      T* xp = gx + c * I;
      std::fill(xp, xp + I, T(0));
      const T* gp = gy + c * O;
      for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
        for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
          for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
            const T gv = gp[(o0 * g.out[1] + o1) * g.out[2] + o2];
            for (int64_t a = 0; a < t.taps[0]; ++a) {
              const int64_t ia = t.idx[0][o0 * t.taps[0] + a];
              const T wa = t.w[0][o0 * t.taps[0] + a] * gv;
              for (int64_t b = 0; b < t.taps[1]; ++b) {
                const int64_t ib = t.idx[1][o1 * t.taps[1] + b];
                const T wab = wa * t.w[1][o1 * t.taps[1] + b];
                T* row = xp + (ia * g.in[1] + ib) * g.in[2];
                for (int64_t e = 0; e < t.taps[2]; ++e) row[t.idx[2][o2 * t.taps[2] + e]] += wab * t.w[2][o2 * t.taps[2] + e];
              }
            }
          }
    }
  });
}

namespace {
// Calls f(channel_row, in_offset or -1, col_offset) for every element of the columns of one (n, c) plane.
template <typename F>
void each_col(const ColGeom& g, F&& f) {
  const int64_t L = g.out[0] * g.out[1] * g.out[2];
  int64_t kr = 0;
  for (int64_t a = 0; a < g.k[0]; ++a)
    for (int64_t b = 0; b < g.k[1]; ++b)
      for (int64_t e = 0; e < g.k[2]; ++e, ++kr) {
        int64_t l = 0;
        for (int64_t o0 = 0; o0 < g.out[0]; ++o0) {
          const int64_t i0 = o0 * g.s[0] - g.p[0] + a * g.d[0];
          const bool ok0 = i0 >= 0 && i0 < g.in[0];
          for (int64_t o1 = 0; o1 < g.out[1]; ++o1) {
            const int64_t i1 = o1 * g.s[1] - g.p[1] + b * g.d[1];
            const bool ok1 = ok0 && i1 >= 0 && i1 < g.in[1];
            const int64_t base = (i0 * g.in[1] + i1) * g.in[2];
            for (int64_t o2 = 0; o2 < g.out[2]; ++o2, ++l) {
              const int64_t i2 = o2 * g.s[2] - g.p[2] + e * g.d[2];
              f(kr * L + l, ok1 && i2 >= 0 && i2 < g.in[2] ? base + i2 : -1);
            }
          }
        }
      }
}
}  // namespace

template <typename T>
void im2col(const ColGeom& g, const T* x, T* cols) {
  const int64_t I = g.in[0] * g.in[1] * g.in[2], K = g.k[0] * g.k[1] * g.k[2], L = g.out[0] * g.out[1] * g.out[2];
  parallel_for(g.N * g.C, std::max<int64_t>(1, 16384 / std::max<int64_t>(K * L, 1)), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * I;
      T* cp = cols + p * K * L;  // (n, c) owns rows c*K .. c*K+K-1 of sample n's (C*K, L) columns
      each_col(g, [&](int64_t ci, int64_t xi) { cp[ci] = xi >= 0 ? xp[xi] : T(0); });
    }
  });
}

template <typename T>
void col2im(const ColGeom& g, const T* cols, T* x) {
  const int64_t I = g.in[0] * g.in[1] * g.in[2], K = g.k[0] * g.k[1] * g.k[2], L = g.out[0] * g.out[1] * g.out[2];
  parallel_for(g.N * g.C, std::max<int64_t>(1, 16384 / std::max<int64_t>(K * L, 1)), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* xp = x + p * I;
      std::fill(xp, xp + I, T(0));
      const T* cp = cols + p * K * L;
      each_col(g, [&](int64_t ci, int64_t xi) { if (xi >= 0) xp[xi] += cp[ci]; });
    }
  });
}

#define PYDL_RESAMPLE_CPU_FNS(X) X(interp_taps) PYDL_RESAMPLE_FNS(X)
PYDL_INSTANTIATE_FLOATING(PYDL_RESAMPLE_CPU_FNS)

}  // namespace pydl::kernels
