#include "kernels/cpu/index.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/threads.h"

namespace pydl::kernels {
namespace {

constexpr int64_t kGrain = 1 << 14;

// Row-major walk over `shape` from linear position b to e, calling f(coords).
template <typename F>
void walk(const Shape& shape, int64_t b, int64_t e, F&& f) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  std::vector<int64_t> c(nd);
  int64_t r = b;
  for (int64_t d = nd - 1; d >= 0; --d) { c[d] = r % shape[d]; r /= shape[d]; }
  for (int64_t i = b; i < e; ++i) {
    f(c);
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++c[d] < shape[d]) break;
      c[d] = 0;
    }
  }
}

inline int64_t dot(const std::vector<int64_t>& c, const Shape& st) {
  int64_t o = 0;
  for (size_t d = 0; d < c.size(); ++d) o += c[d] * st[d];
  return o;
}

template <typename T>
inline void store(T* p, T v, bool acc) {
  if constexpr (std::is_same_v<T, bool>) *p = acc ? (*p || v) : v;
  else *p = acc ? *p + v : v;
}

}  // namespace

bool find_out_of_range(const TensorImpl& idx, int64_t size, int64_t& bad) {
  bool found = false;
  Shape cs = idx.strides;
  const int64_t* p = idx.data<int64_t>();
  walk(idx.shape, 0, idx.numel, [&](const std::vector<int64_t>& c) {
    if (found) return;
    int64_t v = p[dot(c, cs)];
    if (v < -size || v >= size) { bad = v; found = true; }
  });
  return found;
}

void wrap_indices(const TensorImpl& out, const TensorImpl& idx, int64_t size) {
  int64_t* o = out.data<int64_t>();
  const int64_t* p = idx.data<int64_t>();
  parallel_for(idx.numel, kGrain, [&](int64_t b, int64_t e) {
    walk(idx.shape, b, e, [&, i = b](const std::vector<int64_t>& c) mutable {
      int64_t v = p[dot(c, idx.strides)];
      o[i++] = v < 0 ? v + size : v;
    });
  });
}

void gather(const TensorImpl& out, const TensorImpl& a, int64_t dim, const TensorImpl& idx) {
  PYDL_DISPATCH_ALL(a.dtype, "gather", [&] {
    scalar_t* o = out.data<scalar_t>();
    const scalar_t* src = a.data<scalar_t>();
    const int64_t* ix = idx.data<int64_t>();
    parallel_for(idx.numel, kGrain, [&](int64_t b, int64_t e) {
      walk(idx.shape, b, e, [&, i = b](const std::vector<int64_t>& c) mutable {
        int64_t off = 0;
        for (size_t d = 0; d < c.size(); ++d) off += (static_cast<int64_t>(d) == dim ? ix[i] : c[d]) * a.strides[d];
        o[i++] = src[off];
      });
    });
  });
}

void scatter(const TensorImpl& self, int64_t dim, const TensorImpl& idx, const TensorImpl& src, bool accumulate) {
  if (idx.numel == 0) return;
  // outer = idx's shape without `dim`; each outer position owns a line of self along dim.
  Shape outer_shape = idx.shape, ist = idx.strides, sst = src.strides, dst = self.strides;
  int64_t R = 1, ist_d = 0, sst_d = 0, dst_d = 0;
  if (!idx.shape.empty()) {
    R = idx.shape[dim];
    ist_d = idx.strides[dim];
    sst_d = src.strides[dim];
    dst_d = self.strides[dim];
    outer_shape.erase(outer_shape.begin() + dim);
    ist.erase(ist.begin() + dim);
    sst.erase(sst.begin() + dim);
    dst.erase(dst.begin() + dim);
  }
  int64_t outer = 1;
  for (int64_t s : outer_shape) outer *= s;
  PYDL_DISPATCH_ALL(self.dtype, "scatter", [&] {
    scalar_t* o = self.data<scalar_t>();
    const scalar_t* s = src.data<scalar_t>();
    const int64_t* ix = idx.data<int64_t>();
    parallel_for(outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(R, 1)), [&](int64_t b, int64_t e) {
      walk(outer_shape, b, e, [&](const std::vector<int64_t>& c) {
        int64_t io = dot(c, ist), so = dot(c, sst), oo = dot(c, dst);
        for (int64_t r = 0; r < R; ++r) store(o + oo + ix[io + r * ist_d] * dst_d, s[so + r * sst_d], accumulate);
      });
    });
  });
}

namespace {
// Offset in `a` of output position `c` under `plan` (index tensors contiguous of index_shape).
inline int64_t adv_offset(const std::vector<int64_t>& c, const TensorImpl& a, const AdvIndexPlan& plan,
                          const std::vector<const int64_t*>& ix) {
  int64_t off = 0, lin = 0;
  size_t k = 0;
  for (size_t d = 0; d < c.size(); ++d) {
    int64_t sd = plan.src_dim[d];
    if (sd >= 0) off += c[d] * a.strides[sd];
    else lin = lin * plan.index_shape[k++] + c[d];
  }
  for (size_t j = 0; j < ix.size(); ++j) off += ix[j][lin] * a.strides[plan.adv_dims[j]];
  return off;
}
}  // namespace

void index_gather(const TensorImpl& out, const TensorImpl& a, const AdvIndexPlan& plan) {
  std::vector<const int64_t*> ix;
  for (const Tensor& t : plan.indices) ix.push_back(t->data<int64_t>());
  PYDL_DISPATCH_ALL(a.dtype, "index", [&] {
    scalar_t* o = out.data<scalar_t>();
    const scalar_t* src = a.data<scalar_t>();
    parallel_for(out.numel, kGrain, [&](int64_t b, int64_t e) {
      walk(plan.out_shape, b, e, [&, i = b](const std::vector<int64_t>& c) mutable { o[i++] = src[adv_offset(c, a, plan, ix)]; });
    });
  });
}

void index_put(const TensorImpl& a, const AdvIndexPlan& plan, const TensorImpl& values, bool accumulate) {
  std::vector<const int64_t*> ix;
  for (const Tensor& t : plan.indices) ix.push_back(t->data<int64_t>());
  int64_t n = 1;
  for (int64_t s : plan.out_shape) n *= s;
  PYDL_DISPATCH_ALL(a.dtype, "index_put_", [&] {
    scalar_t* dst = a.data<scalar_t>();
    const scalar_t* v = values.data<scalar_t>();
    auto body = [&](int64_t b, int64_t e) {
      walk(plan.out_shape, b, e, [&](const std::vector<int64_t>& c) {
        store(dst + adv_offset(c, a, plan, ix), v[dot(c, values.strides)], accumulate);
      });
    };
    // Repeated indices make accumulation racy: run it serially.
    if (accumulate) body(0, n);
    else parallel_for(n, kGrain, body);
  });
}

int64_t count_nonzero(const TensorImpl& a) {
  int64_t cnt = 0;
  PYDL_DISPATCH_ALL(a.dtype, "nonzero", [&] {
    const scalar_t* p = a.data<scalar_t>();
    walk(a.shape, 0, a.numel, [&](const std::vector<int64_t>& c) { cnt += p[dot(c, a.strides)] != scalar_t(0); });
  });
  return cnt;
}

void nonzero(const TensorImpl& out, const TensorImpl& a) {
  int64_t* o = out.data<int64_t>();
  const size_t nd = a.shape.size();
  PYDL_DISPATCH_ALL(a.dtype, "nonzero", [&] {
    const scalar_t* p = a.data<scalar_t>();
    walk(a.shape, 0, a.numel, [&](const std::vector<int64_t>& c) {
      if (p[dot(c, a.strides)] != scalar_t(0)) { std::copy(c.begin(), c.end(), o); o += nd; }
    });
  });
}

void argsort(const TensorImpl& out, const TensorImpl& a, int64_t outer, int64_t R, int64_t inner, bool descending) {
  int64_t* o = out.data<int64_t>();
  PYDL_DISPATCH_ALL(a.dtype, "sort", [&] {
    const scalar_t* p = a.data<scalar_t>();
    parallel_for(outer * inner, std::max<int64_t>(1, kGrain / std::max<int64_t>(R, 1)), [&](int64_t b, int64_t e) {
      std::vector<int64_t> perm(R);
      for (int64_t l = b; l < e; ++l) {
        int64_t oi = l / inner, ii = l % inner;
        const scalar_t* line = p + oi * R * inner + ii;
        std::iota(perm.begin(), perm.end(), 0);
        // NaN sorts last ascending and first descending, like PyTorch.
        auto key_less = [&](int64_t x, int64_t y) {
          scalar_t u = line[x * inner], v = line[y * inner];
          if constexpr (std::is_floating_point_v<scalar_t>) {
            bool nu = u != u, nv = v != v;
            if (nu || nv) return descending ? (nu && !nv) : (!nu && nv);
          }
          return descending ? u > v : u < v;
        };
        std::stable_sort(perm.begin(), perm.end(), key_less);
        int64_t* ol = o + oi * R * inner + ii;
        for (int64_t r = 0; r < R; ++r) ol[r * inner] = perm[r];
      }
    });
  });
}

void cumsum(const TensorImpl& out, const TensorImpl& a, int64_t outer, int64_t R, int64_t inner) {
  PYDL_DISPATCH_NUMERIC(out.dtype, "cumsum", [&] {
    scalar_t* o = out.data<scalar_t>();
    const scalar_t* p = a.data<scalar_t>();
    parallel_for(outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(R * inner, 1)), [&](int64_t b, int64_t e) {
      for (int64_t oi = b; oi < e; ++oi) {
        const scalar_t* src = p + oi * R * inner;
        scalar_t* dst = o + oi * R * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] = src[i];
        for (int64_t r = 1; r < R; ++r)
          for (int64_t i = 0; i < inner; ++i) dst[r * inner + i] = dst[(r - 1) * inner + i] + src[r * inner + i];
      }
    });
  });
}

void one_hot(const TensorImpl& out, const TensorImpl& idx, int64_t num_classes) {
  int64_t* o = out.data<int64_t>();
  const int64_t* ix = idx.data<int64_t>();
  parallel_for(idx.numel, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i * num_classes + ix[i]] = 1;
  });
}

}  // namespace pydl::kernels
