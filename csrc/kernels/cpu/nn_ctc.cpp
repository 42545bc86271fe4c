// CTC loss (Graves et al. 2006): the alpha / beta recursions in log space over the extended
// label sequence (blank, l1, blank, l2, ..., blank), one sample per task; the steps are ctc_ops.h's.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/threads.h"
#include "kernels/cpu/ctc_ops.h"
#include "kernels/cpu/nn.h"

namespace pydl::kernels {
template <typename T>
void ctc_forward(int64_t Tn, int64_t N, int64_t C, const T* lp, const int64_t* tg, const int64_t* off, const int64_t* tl,
                 const int64_t* il, int64_t blank, int64_t S2, T* loss, T* alpha) {
  const T ninf = -std::numeric_limits<T>::infinity();
  parallel_for(N, 1, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) {
      const int64_t L = tl[n], S = 2 * L + 1, Ti = il[n];
      const int64_t* t = tg + off[n];
      T* a = alpha + n * Tn * S2;
      auto lab = [&](int64_t s) { return ctc_label(t, blank, s); };
      auto y = [&](int64_t ti, int64_t c) { return lp[(ti * N + n) * C + c]; };
      std::fill(a, a + Tn * S2, ninf);
      if (Ti == 0) { loss[n] = L == 0 ? T(0) : std::numeric_limits<T>::infinity(); continue; }
      a[0] = y(0, blank);
      if (S > 1) a[1] = y(0, lab(1));
      for (int64_t ti = 1; ti < Ti; ++ti)
        for (int64_t s = 0; s < S; ++s) a[ti * S2 + s] = ctc_alpha(a + (ti - 1) * S2, t, blank, s, y(ti, lab(s)));
      const T* al = a + (Ti - 1) * S2;
      loss[n] = -(S > 1 ? ctc_lse2(al[S - 1], al[S - 2]) : al[S - 1]);
    }
  });
}

template <typename T>
void ctc_backward(int64_t Tn, int64_t N, int64_t C, const T* lp, const int64_t* tg, const int64_t* off, const int64_t* tl,
                  const int64_t* il, int64_t blank, int64_t S2, const T* loss, const T* alpha, const T* g, bool zero_inf,
                  T* gx) {
  const T ninf = -std::numeric_limits<T>::infinity();
  std::fill(gx, gx + Tn * N * C, T(0));
  parallel_for(N, 1, [&](int64_t b, int64_t e) {
    std::vector<T> beta(2 * S2), lcab(C);
    for (int64_t n = b; n < e; ++n) {
      const int64_t L = tl[n], S = 2 * L + 1, Ti = il[n];
      if (Ti == 0 || std::isinf(loss[n])) continue;  // no path (zero_infinity) or nothing to learn
      const int64_t* t = tg + off[n];
      const T* a = alpha + n * Tn * S2;
      auto lab = [&](int64_t s) { return ctc_label(t, blank, s); };
      auto y = [&](int64_t ti, int64_t c) { return lp[(ti * N + n) * C + c]; };
      T* bc = beta.data();
      T* bn = beta.data() + S2;
      for (int64_t ti = Ti - 1; ti >= 0; --ti) {
        // beta includes y at time ti, like alpha: alpha_t(s) beta_t(s) / y_t(l'_s) = p(l | x) for every t
        for (int64_t s = 0; s < S; ++s) bc[s] = ctc_beta(ti == Ti - 1 ? nullptr : bn, t, blank, s, S, y(ti, lab(s)));
        std::fill(lcab.begin(), lcab.end(), ninf);
        for (int64_t s = 0; s < S; ++s) lcab[lab(s)] = ctc_lse2(lcab[lab(s)], a[ti * S2 + s] + bc[s]);
        // d(-log p)/d lp_t(c) = -exp(log sum_{s: l'_s = c} alpha beta - log p - lp_t(c))
        const T gn = g[n];
        for (int64_t c = 0; c < C; ++c)
          if (lcab[c] != ninf) gx[(ti * N + n) * C + c] = -gn * std::exp(lcab[c] + loss[n] - y(ti, c));
        std::swap(bc, bn);
      }
    }
  });
  (void)zero_inf;
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_CTC_FNS)

}  // namespace pydl::kernels
