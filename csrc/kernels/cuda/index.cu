// CUDA mirror of kernels/cpu/index.cpp's gather and scatter(-add) along a dim, and advanced
// indexing (index_gather / index_put): one thread per index (or output) element, any strides of
// the indexed tensor. Accumulating writes add atomically (equal indices collide); plain writes
// to one position from several elements land in an unspecified order, as on PyTorch's GPU.
// one_hot runs one thread per index; argsort one per element, which counts the elements of its
// line that go before it (a stable rank, O(R) per element) and writes its index at that rank.
// nonzero: count_nonzero sums a block count per step (__syncthreads_count) and brings the total
// back to the host; nonzero flags each element, takes CUB's inclusive sum of the flags (each
// element's output row) and writes the coordinates of the flagged ones in row-major order.
#include <cub/device/device_scan.cuh>

#include <algorithm>
#include <type_traits>

#include "kernels/cpu/index.h"
#include "kernels/cpu/sort_ops.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

// idx's shape, and the element strides of the tensors walked over it; `dim` is the indexed dim.
struct AlongDim {
  int nd = 0;
  int dim = 0;
  int64_t size[kMaxDims];
  int64_t st_t[kMaxDims];  // the indexed tensor (gather's source, scatter's self)
  int64_t st_i[kMaxDims];  // idx
  int64_t st_s[kMaxDims];  // scatter's src
  int64_t sd = 0;          // st_t[dim] (0 for a 0-d tensor)
  // Offsets of element k of idx's shape in the indexed tensor (without `dim`), idx and src.
  __device__ void offsets(int64_t k, int64_t& ot, int64_t& oi, int64_t& os) const {
    ot = oi = os = 0;
    for (int d = nd - 1; d >= 0; --d) {
      int64_t q = k / size[d], c = k - q * size[d];
      if (d != dim) ot += c * st_t[d];
      oi += c * st_i[d];
      os += c * st_s[d];
      k = q;
    }
  }
};

AlongDim along_dim(const TensorImpl& t, int64_t dim, const TensorImpl& idx, const TensorImpl* src, const char* op) {
  PYDL_CHECK(idx.shape.size() <= static_cast<size_t>(kMaxDims), RuntimeError, "[", op, "] CUDA kernels take at most ",
             kMaxDims, " dims, got ", idx.shape.size());
  AlongDim g;
  g.nd = static_cast<int>(idx.shape.size());
  g.dim = static_cast<int>(dim);
  for (int d = 0; d < g.nd; ++d) {
    g.size[d] = idx.shape[d];
    g.st_t[d] = t.strides[d];
    g.st_i[d] = idx.strides[d];
    g.st_s[d] = src ? src->strides[d] : 0;
  }
  g.sd = g.nd ? t.strides[dim] : 0;
  return g;
}

template <typename T>
__global__ void gather_k(AlongDim g, int64_t n, T* out, const T* a, const int64_t* ix) {
  PYDL_CUDA_LOOP(k, n) {
    int64_t ot, oi, os;
    g.offsets(k, ot, oi, os);
    out[k] = a[ot + ix[oi] * g.sd];
  }
}

template <typename T>
__device__ void add_at(T* p, T v) {
  if constexpr (std::is_same_v<T, bool>) {
    if (v) *p = true;  // logical or: every writer stores the same value
  } else if constexpr (std::is_same_v<T, int64_t>) {
    atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));  // two's complement
  } else {
    atomicAdd(p, v);
  }
}

template <typename T>
__global__ void scatter_k(AlongDim g, int64_t n, T* self, const int64_t* ix, const T* src, bool accumulate) {
  PYDL_CUDA_LOOP(k, n) {
    int64_t ot, oi, os;
    g.offsets(k, ot, oi, os);
    T* p = self + ot + ix[oi] * g.sd;
    if (accumulate) add_at(p, src[os]);
    else *p = src[os];
  }
}

// a[plan] over the output's shape: dims walking a (stride st_a) and the index block (st_j: the
// row-major stride of that dim in the broadcast index shape), then one index tensor per adv dim.
struct AdvGeom {
  int nd = 0, nix = 0;
  int64_t size[kMaxDims];
  int64_t st_a[kMaxDims];
  int64_t st_j[kMaxDims];
  const int64_t* ix[kMaxDims];
  int64_t ist[kMaxDims];
  __device__ int64_t offset(int64_t k) const {
    int64_t o = 0, j = 0;
    for (int d = nd - 1; d >= 0; --d) {
      int64_t q = k / size[d], c = k - q * size[d];
      o += c * st_a[d];
      j += c * st_j[d];
      k = q;
    }
    for (int t = 0; t < nix; ++t) o += ix[t][j] * ist[t];
    return o;
  }
};

AdvGeom adv_geom(const TensorImpl& a, const AdvIndexPlan& plan, const char* op) {
  const size_t nd = plan.out_shape.size();
  PYDL_CHECK(nd <= static_cast<size_t>(kMaxDims) && plan.adv_dims.size() <= static_cast<size_t>(kMaxDims), RuntimeError,
             "[", op, "] CUDA kernels take at most ", kMaxDims, " dims, got ", nd);
  AdvGeom g;
  g.nd = static_cast<int>(nd);
  int64_t js = 1;
  for (int d = g.nd - 1; d >= 0; --d) {
    g.size[d] = plan.out_shape[d];
    const int64_t sd = plan.src_dim[d];
    g.st_a[d] = sd >= 0 ? a.strides[sd] : 0;
    g.st_j[d] = sd >= 0 ? 0 : js;
    if (sd < 0) js *= plan.out_shape[d];
  }
  g.nix = static_cast<int>(plan.adv_dims.size());
  for (int t = 0; t < g.nix; ++t) {
    g.ix[t] = plan.indices[t]->data<int64_t>();
    g.ist[t] = a.strides[plan.adv_dims[t]];
  }
  return g;
}

template <typename T>
__global__ void index_gather_k(AdvGeom g, int64_t n, T* out, const T* a) {
  PYDL_CUDA_LOOP(k, n) { out[k] = a[g.offset(k)]; }
}

template <typename T>
__global__ void index_put_k(AdvGeom g, int64_t n, T* a, const T* v, bool accumulate) {
  PYDL_CUDA_LOOP(k, n) {
    T* p = a + g.offset(k);
    if (accumulate) add_at(p, v[k]);
    else *p = v[k];
  }
}

template <typename T>
__global__ void argsort_k(int64_t n, int64_t R, int64_t inner, const T* a, int64_t* out, bool descending) {
  PYDL_CUDA_LOOP(k, n) {
    const int64_t oi = k / (R * inner), rem = k - oi * R * inner, i = rem / inner, ii = rem - i * inner;
    const int64_t base = oi * R * inner + ii;
    const T v = a[k];
    int64_t rank = 0;
    for (int64_t j = 0; j < R; ++j) {
      const T u = a[base + j * inner];
      rank += sorts_before(u, v, descending) || (j < i && !sorts_before(v, u, descending));
    }
    out[base + rank * inner] = i;
  }
}

__global__ void one_hot_k(int64_t n, int64_t C, const int64_t* idx, int64_t* out) {
  PYDL_CUDA_LOOP(i, n) out[i * C + idx[i]] = 1;
}

// True when element i (row-major) of the tensor under `ix` is nonzero.
template <typename T>
__device__ bool nonzero_at(const Indexer<1>& ix, int64_t i) {
  char* p[1];
  ix.offsets(i, p);
  return *reinterpret_cast<const T*>(p[0]) != T(0);
}

// Every thread of a block runs the same number of steps (the loop is over block starts), as
// __syncthreads_count needs.
template <typename T>
__global__ void count_nonzero_k(Indexer<1> ix, int64_t n, unsigned long long* count) {
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t b = blockIdx.x * static_cast<int64_t>(blockDim.x); b < n; b += step) {
    const int64_t i = b + threadIdx.x;
    const int c = __syncthreads_count(i < n && nonzero_at<T>(ix, i));
    if (threadIdx.x == 0 && c) atomicAdd(count, static_cast<unsigned long long>(c));
  }
}

template <typename T>
__global__ void nonzero_flags_k(Indexer<1> ix, int64_t n, int64_t* flags) {
  PYDL_CUDA_LOOP(i, n) flags[i] = nonzero_at<T>(ix, i) ? 1 : 0;
}

// rows[i]: the inclusive sum of the flags; a flagged element writes its coordinates at row rows[i] - 1.
__global__ void nonzero_write_k(Indexer<1> ix, int64_t n, const int64_t* rows, int64_t* out) {
  PYDL_CUDA_LOOP(i, n) {
    const int64_t before = i ? rows[i - 1] : 0;
    if (rows[i] == before) continue;
    int64_t* o = out + before * ix.nd, r = i;
    for (int d = ix.nd - 1; d >= 0; --d) {
      o[d] = r % ix.size[d];
      r /= ix.size[d];
    }
  }
}

Device current_device() {
  int dev = 0;
  cudaGetDevice(&dev);
  return Device{DeviceType::CUDA, dev};
}

}  // namespace

void gather(const TensorImpl& out, const TensorImpl& a, int64_t dim, const TensorImpl& idx) {
  if (idx.numel == 0) return;
  AlongDim g = along_dim(a, dim, idx, nullptr, "gather");
  auto s = stream_of(out);
  PYDL_DISPATCH_ALL(a.dtype, "gather", [&] {
    gather_k<scalar_t><<<blocks_for(idx.numel), kThreads, 0, s>>>(g, idx.numel, out.data<scalar_t>(), a.data<scalar_t>(),
                                                                  idx.data<int64_t>());
  });
  check_launch("gather");
}

void scatter(const TensorImpl& self, int64_t dim, const TensorImpl& idx, const TensorImpl& src, bool accumulate) {
  if (idx.numel == 0) return;
  AlongDim g = along_dim(self, dim, idx, &src, "scatter");
  auto s = stream_of(self);
  PYDL_DISPATCH_ALL(self.dtype, "scatter", [&] {
    scatter_k<scalar_t><<<blocks_for(idx.numel), kThreads, 0, s>>>(g, idx.numel, self.data<scalar_t>(),
                                                                   idx.data<int64_t>(), src.data<scalar_t>(), accumulate);
  });
  check_launch("scatter");
}

void index_gather(const TensorImpl& out, const TensorImpl& a, const AdvIndexPlan& plan) {
  if (out.numel == 0) return;
  AdvGeom g = adv_geom(a, plan, "index");
  auto s = stream_of(out);
  PYDL_DISPATCH_ALL(a.dtype, "index", [&] {
    index_gather_k<scalar_t><<<blocks_for(out.numel), kThreads, 0, s>>>(g, out.numel, out.data<scalar_t>(),
                                                                        a.data<scalar_t>());
  });
  check_launch("index_gather");
}

void index_put(const TensorImpl& a, const AdvIndexPlan& plan, const TensorImpl& values, bool accumulate) {
  if (values.numel == 0) return;
  AdvGeom g = adv_geom(a, plan, "index_put_");
  auto s = stream_of(a);
  PYDL_DISPATCH_ALL(a.dtype, "index_put_", [&] {
    index_put_k<scalar_t><<<blocks_for(values.numel), kThreads, 0, s>>>(g, values.numel, a.data<scalar_t>(),
                                                                        values.data<scalar_t>(), accumulate);
  });
  check_launch("index_put");
}

void argsort(const TensorImpl& out, const TensorImpl& a, int64_t outer, int64_t R, int64_t inner, bool descending) {
  const int64_t n = outer * R * inner;
  if (n == 0) return;
  auto s = stream_of(out);
  PYDL_DISPATCH_ALL(a.dtype, "sort", [&] {
    argsort_k<scalar_t><<<blocks_for(n), kThreads, 0, s>>>(n, R, inner, a.data<scalar_t>(), out.data<int64_t>(), descending);
  });
  check_launch("argsort");
}

void one_hot(const TensorImpl& out, const TensorImpl& idx, int64_t num_classes) {
  if (idx.numel == 0) return;
  auto s = stream_of(out);
  one_hot_k<<<blocks_for(idx.numel), kThreads, 0, s>>>(idx.numel, num_classes, idx.data<int64_t>(), out.data<int64_t>());
  check_launch("one_hot");
}

int64_t count_nonzero(const TensorImpl& a) {
  if (a.numel == 0) return 0;
  auto s = stream_of(a);
  const TensorImpl* ts[1] = {&a};
  Indexer<1> ix = make_indexer(ts, "nonzero");
  Tensor count = zeros({1}, DType::Int64, a.device());
  const unsigned blocks = std::min<unsigned>(blocks_for(a.numel), 1024);
  PYDL_DISPATCH_ALL(a.dtype, "nonzero", [&] {
    count_nonzero_k<scalar_t><<<blocks, kThreads, 0, s>>>(ix, a.numel, reinterpret_cast<unsigned long long*>(count->data<int64_t>()));
  });
  check_launch("count_nonzero");
  int64_t n = 0;
  copy_bytes(&n, Device{}, count->data<int64_t>(), a.device(), sizeof(n));  // waits for the stream
  return n;
}

void nonzero(const TensorImpl& out, const TensorImpl& a) {
  if (out.numel == 0) return;  // nothing nonzero, or a 0-d input (no coordinates)
  auto s = stream_of(a);
  const TensorImpl* ts[1] = {&a};
  Indexer<1> ix = make_indexer(ts, "nonzero");
  const int64_t n = a.numel;
  Tensor rows = empty({n}, DType::Int64, a.device());
  int64_t* r = rows->data<int64_t>();
  PYDL_DISPATCH_ALL(a.dtype, "nonzero", [&] { nonzero_flags_k<scalar_t><<<blocks_for(n), kThreads, 0, s>>>(ix, n, r); });
  check_launch("nonzero");
  size_t tmp_bytes = 0;
  cub::DeviceScan::InclusiveSum(nullptr, tmp_bytes, r, r, n, s);
  Tensor tmp = empty({static_cast<int64_t>(tmp_bytes / sizeof(int64_t) + 1)}, DType::Int64, current_device());
  PYDL_CHECK(cub::DeviceScan::InclusiveSum(tmp->data<int64_t>(), tmp_bytes, r, r, n, s) == cudaSuccess, RuntimeError,
             "[nonzero] CUDA prefix sum failed");
  nonzero_write_k<<<blocks_for(n), kThreads, 0, s>>>(ix, n, r, out.data<int64_t>());
  check_launch("nonzero");
}

}  // namespace pydl::kernels::cuda
