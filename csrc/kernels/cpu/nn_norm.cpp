// Batch norm and layer norm: statistics accumulate in double; channels (batch norm) or
// rows (layer norm) are split across threads.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/eigen.h"

#include "core/threads.h"
#include "kernels/cpu/nn.h"

#include "kernels/cpu/isa.h"

namespace pydl::kernels::PYDL_ISA_NS {
namespace {
template <typename T>
using CArr = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
}  // namespace

template <typename T>
void bn_stats(int64_t N, int64_t C, int64_t S, const T* x, double eps, T* mean, T* invstd, T* var_biased) {
  const double M = double(N * S);
  parallel_for(C, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double s = 0;
      for (int64_t n = 0; n < N; ++n) s += CArr<T>(x + (n * C + c) * S, S).sum();
      const double mu = s / M;
      double q = 0;
      for (int64_t n = 0; n < N; ++n) q += (CArr<T>(x + (n * C + c) * S, S) - T(mu)).square().sum();
      const double var = q / M;
      mean[c] = T(mu);
      var_biased[c] = T(var);
      invstd[c] = T(1.0 / std::sqrt(var + eps));
    }
  });
}

template <typename T>
void bn_apply(int64_t N, int64_t C, int64_t S, const T* x, const T* mean, const T* invstd, const T* w, const T* b, T* y) {
  parallel_for(N * C, std::max<int64_t>(1, 16384 / std::max<int64_t>(S, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t c = r % C;
      const T a = invstd[c] * (w ? w[c] : T(1));
      const T sh = (b ? b[c] : T(0)) - mean[c] * a;
      const T* xr = x + r * S;
      T* yr = y + r * S;
      for (int64_t i = 0; i < S; ++i) yr[i] = xr[i] * a + sh;
    }
  });
}

template <typename T>
void bn_backward(int64_t N, int64_t C, int64_t S, const T* x, const T* gy, const T* mean, const T* invstd, const T* w,
                 bool training, T* gx, T* gw, T* gb) {
  const double M = double(N * S);
  parallel_for(C, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const T mu = mean[c], is = invstd[c];
      double sg = 0, sgx = 0;  // sum(gy), sum(gy * xhat)
      for (int64_t n = 0; n < N; ++n) {
        const T* xr = x + (n * C + c) * S;
        const T* gr = gy + (n * C + c) * S;
        CArr<T> ga(gr, S), xa(xr, S);
        sg += ga.sum();
        sgx += (ga * (xa - mu)).sum();
      }
      sgx *= is;
      if (gb) gb[c] = T(sg);
      if (gw) gw[c] = T(sgx);
      if (!gx) continue;
      const T wc = w ? w[c] : T(1);
      if (training) {
        // gx = w*invstd/M * (M*gy - sum(gy) - xhat*sum(gy*xhat))
        const T k = wc * is, mg = T(sg / M), mgx = T(sgx / M);
        for (int64_t n = 0; n < N; ++n) {
          const T* xr = x + (n * C + c) * S;
          const T* gr = gy + (n * C + c) * S;
          T* o = gx + (n * C + c) * S;
          for (int64_t i = 0; i < S; ++i) o[i] = k * (gr[i] - mg - (xr[i] - mu) * is * mgx);
        }
      } else {
        const T k = wc * is;
        for (int64_t n = 0; n < N; ++n) {
          const T* gr = gy + (n * C + c) * S;
          T* o = gx + (n * C + c) * S;
          for (int64_t i = 0; i < S; ++i) o[i] = k * gr[i];
        }
      }
    }
  });
}

template <typename T>
void ln_forward(int64_t R, int64_t D, const T* x, const T* w, const T* b, double eps, T* y, T* mean, T* invstd) {
  parallel_for(R, std::max<int64_t>(1, 8192 / std::max<int64_t>(D, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * D;
      CArr<T> xa(xr, D);
      const T mu = T(double(xa.sum()) / double(D));
      const double q = (xa - mu).square().sum();
      const T is = T(1.0 / std::sqrt(q / double(D) + eps));
      mean[r] = mu;
      invstd[r] = is;
      T* yr = y + r * D;
      for (int64_t i = 0; i < D; ++i) {
        T v = (xr[i] - mu) * is;
        if (w) v *= w[i];
        if (b) v += b[i];
        yr[i] = v;
      }
    }
  });
}

template <typename T>
void ln_backward(int64_t R, int64_t D, const T* x, const T* gy, const T* mean, const T* invstd, const T* w, T* gx, T* gw, T* gb) {
  if (gx)
    parallel_for(R, std::max<int64_t>(1, 8192 / std::max<int64_t>(D, 1)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* xr = x + r * D;
        const T* gr = gy + r * D;
        const T mu = mean[r], is = invstd[r];
        double s1 = 0, s2 = 0;  // sum(gxhat), sum(gxhat * xhat)
        for (int64_t i = 0; i < D; ++i) {
          T gh = gr[i] * (w ? w[i] : T(1));
          s1 += gh;
          s2 += gh * (xr[i] - mu) * is;
        }
        const T m1 = T(s1 / double(D)), m2 = T(s2 / double(D));
        T* o = gx + r * D;
        for (int64_t i = 0; i < D; ++i) {
          T gh = gr[i] * (w ? w[i] : T(1));
          o[i] = is * (gh - m1 - (xr[i] - mu) * is * m2);
        }
      }
    });
  if (gw || gb)
    parallel_for(D, 256, [&](int64_t d0, int64_t d1) {
      std::vector<double> aw(d1 - d0, 0.0), ab(d1 - d0, 0.0);
      for (int64_t r = 0; r < R; ++r) {
        const T* xr = x + r * D;
        const T* gr = gy + r * D;
        const T mu = mean[r], is = invstd[r];
        for (int64_t i = d0; i < d1; ++i) {
          aw[i - d0] += gr[i] * (xr[i] - mu) * is;
          ab[i - d0] += gr[i];
        }
      }
      for (int64_t i = d0; i < d1; ++i) {
        if (gw) gw[i] = T(aw[i - d0]);
        if (gb) gb[i] = T(ab[i - d0]);
      }
    });
}

template <typename T>
void bn_update_running(int64_t C, const T* mean, const T* var_biased, double unbias, double momentum, T* rm, int64_t sm,
                       T* rv, int64_t sv) {
  for (int64_t c = 0; c < C; ++c) {
    rm[c * sm] = T((1 - momentum) * rm[c * sm] + momentum * mean[c]);
    rv[c * sv] = T((1 - momentum) * rv[c * sv] + momentum * var_biased[c] * unbias);
  }
}

template <typename T>
void bn_running_stats(int64_t C, const T* rm, int64_t sm, const T* rv, int64_t sv, double eps, T* mean, T* invstd) {
  for (int64_t c = 0; c < C; ++c) {
    mean[c] = rm[c * sm];
    invstd[c] = T(1.0 / std::sqrt(double(rv[c * sv]) + eps));
  }
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_NORM_FNS)

}  // namespace pydl::kernels::PYDL_ISA_NS
