// Pooling over (N*C) planes of (H, W); planes are split across threads.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <limits>

#include "core/threads.h"
#include "kernels/cpu/nn.h"
#include "kernels/cpu/pool_ops.h"

#include "kernels/cpu/isa.h"

namespace pydl::kernels::PYDL_ISA_NS {

// m, im = v, iv when v > m or v is NaN; without a branch.
template <typename T>
inline void take_if(T v, int64_t iv, T& m, int64_t& im) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  const bool take = (v > m) | (v != v);
  const U mask = U(0) - static_cast<U>(take);
  U vb, mb;
  std::memcpy(&vb, &v, sizeof(T));
  std::memcpy(&mb, &m, sizeof(T));
  mb = (vb & mask) | (mb & ~mask);
  std::memcpy(&m, &mb, sizeof(T));
  const int64_t imask = -static_cast<int64_t>(take);
  im = (iv & imask) | (im & ~imask);
}

template <typename T>
void max_pool2d_forward(const PoolGeom& g, const T* x, T* y, int64_t* idx) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  // ceil_mode can add a last window that hangs over the edge: only full windows take the fast path
  const bool fast2 = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && g.dh == 1 &&
                     g.dw == 1 && 2 * g.OH <= g.H && 2 * g.OW <= g.W;
  parallel_for(g.NC, std::max<int64_t>(1, 16384 / std::max<int64_t>(OHW, 1)), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * HW;
      T* yp = y + p * OHW;
      int64_t* ip = idx + p * OHW;
      if (fast2) {  // 2x2 windows, stride 2, no padding: always in bounds
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          const T* r0 = xp + 2 * oh * g.W;
          const T* r1 = r0 + g.W;
          T* yr = yp + oh * g.OW;
          int64_t* ir = ip + oh * g.OW;
          const int64_t base = 2 * oh * g.W;
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            // Selects by bit masks (NaN wins, as in PyTorch): on real data the comparisons
            // are unpredictable, and branches (which ?: compiles to here) cost ~6x more.
            T a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
            const int64_t ia = base + 2 * ow;
            T m = a;
            int64_t im = ia;
            take_if(b, ia + 1, m, im);
            take_if(c, ia + g.W, m, im);
            take_if(d, ia + g.W + 1, m, im);
            yr[ow] = m;
            ir[ow] = im;
          }
        }
        continue;
      }
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        const int64_t hs = oh * g.sh - g.ph;
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const int64_t ws = ow * g.sw - g.pw;
          T m = -std::numeric_limits<T>::infinity();
          int64_t im = -1;
          for (int64_t ki = 0; ki < g.kh; ++ki) {
            const int64_t ih = hs + ki * g.dh;
            if (ih < 0 || ih >= g.H) continue;
            for (int64_t kj = 0; kj < g.kw; ++kj) {
              const int64_t iw = ws + kj * g.dw;
              if (iw < 0 || iw >= g.W) continue;
              T v = xp[ih * g.W + iw];
              if (im < 0 || v > m || std::isnan(v)) { m = v; im = ih * g.W + iw; }
            }
          }
          yp[oh * g.OW + ow] = m;
          ip[oh * g.OW + ow] = im < 0 ? 0 : im;
        }
      }
    }
  });
}

template <typename T>
void max_pool2d_backward(const PoolGeom& g, const T* gy, const int64_t* idx, T* gx) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  parallel_for(g.NC, std::max<int64_t>(1, 16384 / std::max<int64_t>(HW, 1)), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* xp = gx + p * HW;
      std::fill(xp, xp + HW, T(0));
      const T* gp = gy + p * OHW;
      const int64_t* ip = idx + p * OHW;
      for (int64_t o = 0; o < OHW; ++o) xp[ip[o]] += gp[o];
    }
  });
}

namespace {
// Window bounds and divisor of avg pooling output (oh, ow), PyTorch's rules.
inline bool avg_window(const PoolGeom& g, int64_t oh, int64_t ow, bool cip, int64_t divisor, int64_t& h0, int64_t& h1,
                       int64_t& w0, int64_t& w1, int64_t& div) {
  h0 = oh * g.sh - g.ph; w0 = ow * g.sw - g.pw;
  h1 = std::min(h0 + g.kh, g.H + g.ph); w1 = std::min(w0 + g.kw, g.W + g.pw);
  int64_t pool = (h1 - h0) * (w1 - w0);
  h0 = std::max<int64_t>(h0, 0); w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, g.H); w1 = std::min(w1, g.W);
  if (h0 >= h1 || w0 >= w1) return false;
  div = divisor > 0 ? divisor : (cip ? pool : (h1 - h0) * (w1 - w0));
  return true;
}
}  // namespace

template <typename T>
void avg_pool2d_forward(const PoolGeom& g, const T* x, T* y, bool cip, int64_t divisor) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  parallel_for(g.NC, std::max<int64_t>(1, 16384 / std::max<int64_t>(OHW, 1)), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * HW;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          int64_t h0, h1, w0, w1, div;
          T* out = y + p * OHW + oh * g.OW + ow;
          if (!avg_window(g, oh, ow, cip, divisor, h0, h1, w0, w1, div)) { *out = 0; continue; }
          T s = 0;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) s += xp[ih * g.W + iw];
          *out = s / T(div);
        }
    }
  });
}

template <typename T>
void avg_pool2d_backward(const PoolGeom& g, const T* gy, T* gx, bool cip, int64_t divisor) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW;
  parallel_for(g.NC, std::max<int64_t>(1, 16384 / std::max<int64_t>(HW, 1)), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* xp = gx + p * HW;
      std::fill(xp, xp + HW, T(0));
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          int64_t h0, h1, w0, w1, div;
          if (!avg_window(g, oh, ow, cip, divisor, h0, h1, w0, w1, div)) continue;
          T v = gy[p * OHW + oh * g.OW + ow] / T(div);
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) xp[ih * g.W + iw] += v;
        }
    }
  });
}

template <typename T>
void adaptive_avg_pool2d_forward(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y) {
  parallel_for(NC, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      for (int64_t oh = 0; oh < OH; ++oh) {
        const auto [h0, h1] = adaptive_window(oh, H, OH);
        for (int64_t ow = 0; ow < OW; ++ow) {
          const auto [w0, w1] = adaptive_window(ow, W, OW);
          T s = 0;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) s += x[(p * H + ih) * W + iw];
          y[(p * OH + oh) * OW + ow] = s / T((h1 - h0) * (w1 - w0));
        }
      }
  });
}

template <typename T>
void adaptive_avg_pool2d_backward(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* gy, T* gx) {
  parallel_for(NC, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      std::fill(gx + p * H * W, gx + (p + 1) * H * W, T(0));
      for (int64_t oh = 0; oh < OH; ++oh) {
        const auto [h0, h1] = adaptive_window(oh, H, OH);
        for (int64_t ow = 0; ow < OW; ++ow) {
          const auto [w0, w1] = adaptive_window(ow, W, OW);
          T v = gy[(p * OH + oh) * OW + ow] / T((h1 - h0) * (w1 - w0));
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) gx[(p * H + ih) * W + iw] += v;
        }
      }
    }
  });
}

template <typename T>
void adaptive_max_pool2d_forward(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y, int64_t* idx) {
  parallel_for(NC, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      for (int64_t oh = 0; oh < OH; ++oh) {
        const auto [h0, h1] = adaptive_window(oh, H, OH);
        for (int64_t ow = 0; ow < OW; ++ow) {
          const auto [w0, w1] = adaptive_window(ow, W, OW);
          int64_t best = h0 * W + w0;
          T m = x[p * H * W + best];
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) {
              const T v = x[(p * H + ih) * W + iw];
              if (v > m || std::isnan(v)) { m = v; best = ih * W + iw; }  // NaN propagates, as in PyTorch
              if (std::isnan(m)) break;
            }
          y[(p * OH + oh) * OW + ow] = m;
          idx[(p * OH + oh) * OW + ow] = best;
        }
      }
  });
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_POOL_FNS)

}  // namespace pydl::kernels::PYDL_ISA_NS
