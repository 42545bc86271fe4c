// Embedding lookups and index-map padding.
#include <algorithm>
#include <cstring>

#include "core/threads.h"
#include "kernels/cpu/nn.h"

namespace pydl::kernels {

template <typename T>
void embedding_forward(int64_t n, int64_t D, const T* w, const int64_t* idx, T* out) {
  parallel_for(n, std::max<int64_t>(1, 16384 / std::max<int64_t>(D, 1)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) std::memcpy(out + i * D, w + idx[i] * D, D * sizeof(T));
  });
}

template <typename T>
void embedding_backward(int64_t n, int64_t V, int64_t D, const T* g, const int64_t* idx, int64_t pad, T* gw) {
  std::fill(gw, gw + V * D, T(0));
  // Columns split across threads: rows with equal indices never race.
  parallel_for(D, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)), [&](int64_t d0, int64_t d1) {
    for (int64_t i = 0; i < n; ++i) {
      if (idx[i] == pad) continue;
      T* r = gw + idx[i] * D;
      const T* gr = g + i * D;
      for (int64_t d = d0; d < d1; ++d) r[d] += gr[d];
    }
  });
}

namespace {
// Walks output positions of the padded dims from `d` on; calls f(out_offset, in_offset or -1).
template <typename F>
void walk(size_t d, const std::vector<int64_t>& in, const std::vector<std::vector<int64_t>>& map, int64_t oo, int64_t io,
          bool valid, const F& f) {
  if (map.empty()) { f(oo, valid ? io : -1); return; }  // no padded dim: the element itself
  const auto& m = map[d];
  const int64_t osz = static_cast<int64_t>(m.size());
  if (d + 1 == map.size()) {
    for (int64_t o = 0; o < osz; ++o) f(oo * osz + o, valid && m[o] >= 0 ? io * in[d] + m[o] : -1);
    return;
  }
  for (int64_t o = 0; o < osz; ++o) walk(d + 1, in, map, oo * osz + o, io * in[d] + std::max<int64_t>(m[o], 0), valid && m[o] >= 0, f);
}
}  // namespace

template <typename T>
void pad_forward(int64_t outer, const std::vector<int64_t>& in, const std::vector<std::vector<int64_t>>& map, const T* x, T* y,
                 T value) {
  int64_t isz = 1, osz = 1;
  for (size_t d = 0; d < in.size(); ++d) { isz *= in[d]; osz *= static_cast<int64_t>(map[d].size()); }
  parallel_for(outer, std::max<int64_t>(1, 16384 / std::max<int64_t>(osz, 1)), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const T* xo = x + o * isz;
      T* yo = y + o * osz;
      walk(0, in, map, 0, 0, true, [&](int64_t out, int64_t src) { yo[out] = src >= 0 ? xo[src] : value; });
    }
  });
}

template <typename T>
void pad_backward(int64_t outer, const std::vector<int64_t>& in, const std::vector<std::vector<int64_t>>& map, const T* gy, T* gx) {
  int64_t isz = 1, osz = 1;
  for (size_t d = 0; d < in.size(); ++d) { isz *= in[d]; osz *= static_cast<int64_t>(map[d].size()); }
  parallel_for(outer, std::max<int64_t>(1, 16384 / std::max<int64_t>(osz, 1)), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      T* xo = gx + o * isz;
      const T* go = gy + o * osz;
      std::fill(xo, xo + isz, T(0));
      walk(0, in, map, 0, 0, true, [&](int64_t out, int64_t src) { if (src >= 0) xo[src] += go[out]; });
    }
  });
}

#define INST(T)                                                                                                       \
  template void embedding_forward<T>(int64_t, int64_t, const T*, const int64_t*, T*);                                  \
  template void embedding_backward<T>(int64_t, int64_t, int64_t, const T*, const int64_t*, int64_t, T*);               \
  template void pad_forward<T>(int64_t, const std::vector<int64_t>&, const std::vector<std::vector<int64_t>>&, const T*, \
                               T*, T);                                                                                \
  template void pad_backward<T>(int64_t, const std::vector<int64_t>&, const std::vector<std::vector<int64_t>>&,         \
                                const T*, T*);
INST(float)
INST(double)
INST(int64_t)

}  // namespace pydl::kernels
