#include "kernels/cpu/index.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/threads.h"
#include "kernels/cpu/sort_ops.h"

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
  if (idx.shape.size() <= 1 || idx.is_contiguous()) {  // the common case: a plain loop
    const int64_t* p = idx.data<int64_t>();
    const int64_t st = idx.shape.size() == 1 ? idx.strides[0] : 1;
    for (int64_t i = 0; i < idx.numel; ++i) {
      int64_t v = p[i * st];
      if (v < -size || v >= size) { bad = v; return true; }
    }
    return false;
  }
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
  if (idx.shape.size() <= 1 || idx.is_contiguous()) {
    const int64_t st = idx.shape.size() == 1 ? idx.strides[0] : 1;
    for (int64_t i = 0; i < idx.numel; ++i) { int64_t v = p[i * st]; o[i] = v < 0 ? v + size : v; }
    return;
  }
  parallel_for(idx.numel, kGrain, [&](int64_t b, int64_t e) {
    walk(idx.shape, b, e, [&, i = b](const std::vector<int64_t>& c) mutable {
      int64_t v = p[dot(c, idx.strides)];
      o[i++] = v < 0 ? v + size : v;
    });
  });
}

void gather(const TensorImpl& out, const TensorImpl& a, int64_t dim, const TensorImpl& idx) {
  if (idx.numel == 0) return;
  // rows of idx's last dim; the base offset of a row skips `dim` (added per element from idx)
  const int64_t nd = static_cast<int64_t>(idx.shape.size());
  const int64_t L = nd ? idx.shape[nd - 1] : 1, rows = idx.numel / L;
  Shape row_shape(idx.shape.begin(), idx.shape.begin() + std::max<int64_t>(nd - 1, 0)), row_st;
  for (int64_t d = 0; d + 1 < nd; ++d) row_st.push_back(d == dim ? 0 : a.strides[d]);
  const int64_t sd = nd ? a.strides[dim] : 0;
  const int64_t sl = (nd && nd - 1 != dim) ? a.strides[nd - 1] : 0;
  PYDL_DISPATCH_ALL(a.dtype, "gather", [&] {
    scalar_t* o = out.data<scalar_t>();
    const scalar_t* src = a.data<scalar_t>();
    const int64_t* ix = idx.data<int64_t>();
    parallel_for(rows, std::max<int64_t>(1, kGrain / L), [&](int64_t b, int64_t e) {
      walk(row_shape, b, e, [&, r = b](const std::vector<int64_t>& c) mutable {
        const int64_t base = dot(c, row_st);
        const int64_t* xi = ix + r * L;
        scalar_t* orow = o + r * L;
        for (int64_t j = 0; j < L; ++j) orow[j] = src[base + j * sl + xi[j] * sd];
        ++r;
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
// Output dims after the last index dim walk `a` with fixed strides: they are copied as
// runs of L elements (stride s in `a`) starting at row_off[r] from the indexed base.
struct InnerRuns {
  int64_t k = 0;       // number of leading output dims walked per element
  int64_t L = 1, s = 0;
  std::vector<int64_t> row_off;
};

InnerRuns inner_runs(const AdvIndexPlan& plan, const TensorImpl& a) {
  InnerRuns r;
  int64_t nd = static_cast<int64_t>(plan.out_shape.size());
  r.k = nd;
  while (r.k > 0 && plan.src_dim[r.k - 1] >= 0) --r.k;
  Shape sh, st;
  for (int64_t d = r.k; d < nd; ++d) {
    if (plan.out_shape[d] == 1) continue;
    sh.push_back(plan.out_shape[d]);
    st.push_back(a.strides[plan.src_dim[d]]);
  }
  for (int64_t d = static_cast<int64_t>(sh.size()) - 2; d >= 0; --d) {
    if (st[d] != st[d + 1] * sh[d + 1]) continue;
    sh[d + 1] *= sh[d];
    sh.erase(sh.begin() + d);
    st.erase(st.begin() + d);
  }
  if (!sh.empty()) {
    r.L = sh.back();
    r.s = st.back();
    sh.pop_back();
    st.pop_back();
  }
  int64_t rows = 1;
  for (int64_t v : sh) rows *= v;
  r.row_off.reserve(rows);
  walk(sh, 0, rows, [&](const std::vector<int64_t>& c) { r.row_off.push_back(dot(c, st)); });
  return r;
}

// Calls f(a_offset, out_linear, run_length, a_stride) for each run of the output.
// Output layout: [dims before the index block] [index block] [inner dims, as runs].
template <typename F>
void for_each_run(const TensorImpl& a, const AdvIndexPlan& plan, bool parallel, const F& f) {
  std::vector<const int64_t*> ix;
  for (const Tensor& t : plan.indices) ix.push_back(t->data<int64_t>());
  std::vector<int64_t> ist;
  for (int64_t d : plan.adv_dims) ist.push_back(a.strides[d]);
  InnerRuns r = inner_runs(plan, a);
  int64_t total = 1;
  for (int64_t v : plan.out_shape) total *= v;
  if (total == 0) return;
  int64_t nb = 0;
  while (nb < r.k && plan.src_dim[nb] >= 0) ++nb;
  Shape before(plan.out_shape.begin(), plan.out_shape.begin() + nb), bst;
  for (int64_t d = 0; d < nb; ++d) bst.push_back(a.strides[plan.src_dim[d]]);
  int64_t n_before = 1, n_index = 1;
  for (int64_t v : before) n_before *= v;
  for (int64_t v : plan.index_shape) n_index *= v;
  std::vector<int64_t> boff;
  boff.reserve(n_before);
  walk(before, 0, n_before, [&](const std::vector<int64_t>& c) { boff.push_back(dot(c, bst)); });
  const int64_t inner_n = r.L * static_cast<int64_t>(r.row_off.size());
  const size_t nix = ix.size();
  auto body = [&](int64_t b, int64_t e) {
    int64_t bi = b / n_index, li = b % n_index;
    for (int64_t t = b; t < e; ++t) {
      int64_t off = boff[bi];
      for (size_t j = 0; j < nix; ++j) off += ix[j][li] * ist[j];
      if (inner_n == 1) f(off, t, int64_t(1), int64_t(0));
      else
        for (size_t q = 0; q < r.row_off.size(); ++q) f(off + r.row_off[q], t * inner_n + static_cast<int64_t>(q) * r.L, r.L, r.s);
      if (++li == n_index) { li = 0; ++bi; }
    }
  };
  int64_t outer = n_before * n_index;
  if (parallel) parallel_for(outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(inner_n, 1)), body);
  else body(0, outer);
}
}  // namespace

void index_gather(const TensorImpl& out, const TensorImpl& a, const AdvIndexPlan& plan) {
  PYDL_DISPATCH_ALL(a.dtype, "index", [&] {
    scalar_t* o = out.data<scalar_t>();
    const scalar_t* src = a.data<scalar_t>();
    for_each_run(a, plan, true, [&](int64_t ao, int64_t oo, int64_t L, int64_t s) {
      const scalar_t* p = src + ao;
      scalar_t* q = o + oo;
      if (s == 1) std::copy(p, p + L, q);
      else for (int64_t j = 0; j < L; ++j) q[j] = p[j * s];
    });
  });
}

void index_put(const TensorImpl& a, const AdvIndexPlan& plan, const TensorImpl& values, bool accumulate) {
  // values: contiguous of plan.out_shape
  PYDL_DISPATCH_ALL(a.dtype, "index_put_", [&] {
    scalar_t* dst = a.data<scalar_t>();
    const scalar_t* v = values.data<scalar_t>();
    // Repeated indices make accumulation racy: run it serially.
    for_each_run(a, plan, !accumulate, [&](int64_t ao, int64_t vo, int64_t L, int64_t s) {
      scalar_t* p = dst + ao;
      const scalar_t* q = v + vo;
      for (int64_t j = 0; j < L; ++j) store(p + j * s, q[j], accumulate);
    });
  });
}

int64_t count_nonzero(const TensorImpl& a) {
  int64_t cnt = 0;
  PYDL_DISPATCH_ALL(a.dtype, "nonzero", [&] {
    const scalar_t* p = a.data<scalar_t>();
    if (a.is_contiguous()) {
      for (int64_t i = 0; i < a.numel; ++i) cnt += p[i] != scalar_t(0);
      return;
    }
    walk(a.shape, 0, a.numel, [&](const std::vector<int64_t>& c) { cnt += p[dot(c, a.strides)] != scalar_t(0); });
  });
  return cnt;
}

void nonzero(const TensorImpl& out, const TensorImpl& a) {
  int64_t* o = out.data<int64_t>();
  const int64_t nd = static_cast<int64_t>(a.shape.size());
  PYDL_DISPATCH_ALL(a.dtype, "nonzero", [&] {
    const scalar_t* p = a.data<scalar_t>();
    if (a.is_contiguous() && nd > 0 && a.numel > 0) {
      // scan rows of the last dim; coordinates of the row advance once per row
      const int64_t L = a.shape[nd - 1], rows = a.numel / L;
      std::vector<int64_t> c(nd, 0);
      for (int64_t r = 0; r < rows; ++r) {
        const scalar_t* row = p + r * L;
        for (int64_t j = 0; j < L; ++j) {
          if (row[j] == scalar_t(0)) continue;
          for (int64_t d = 0; d < nd - 1; ++d) o[d] = c[d];
          o[nd - 1] = j;
          o += nd;
        }
        for (int64_t d = nd - 2; d >= 0; --d) {
          if (++c[d] < a.shape[d]) break;
          c[d] = 0;
        }
      }
      return;
    }
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
        auto key_less = [&](int64_t x, int64_t y) { return sorts_before(line[x * inner], line[y * inner], descending); };
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
