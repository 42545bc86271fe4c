// CUDA mirror of kernels/cpu/nn_index.cpp's embedding lookups: forward one thread per output
// element; backward adds each gradient row into its table row atomically (equal indices collide).
// pad: one thread per output element, reading its source through the op's per-dim maps (copied to
// the device); the backward adds atomically (reflect / replicate map several outputs to one input).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

template <typename T>
__global__ void embedding_fwd_k(int64_t n, int64_t D, const T* w, const int64_t* idx, T* out) {
  PYDL_CUDA_LOOP(k, n * D) {
    int64_t i = k / D;
    out[k] = w[idx[i] * D + (k - i * D)];
  }
}

template <typename T>
__global__ void embedding_bwd_k(int64_t n, int64_t D, const T* g, const int64_t* idx, int64_t pad, T* gw) {
  PYDL_CUDA_LOOP(k, n * D) {
    int64_t i = k / D, r = idx[i];
    if (r != pad) atomicAdd(gw + r * D + (k - i * D), g[k]);
  }
}

// The last k dims of a padded block: input sizes, output sizes, and where each dim's map starts.
struct PadGeom {
  int k = 0;
  int64_t in[kMaxDims], out[kMaxDims], moff[kMaxDims];
  int64_t isz = 1, osz = 1;
  // Source offset of output element e within its (outer) block, -1 when e lies in the padding.
  __device__ int64_t source(int64_t e, const int64_t* map) const {
    int64_t src = 0, stride = 1;
    for (int d = k - 1; d >= 0; --d) {
      const int64_t j = e % out[d];
      e /= out[d];
      const int64_t i = map[moff[d] + j];
      if (i < 0) return -1;
      src += i * stride;
      stride *= in[d];
    }
    return src;
  }
};

template <typename T>
__global__ void pad_fwd_k(PadGeom g, int64_t n, const int64_t* map, const T* x, T* y, T value) {
  PYDL_CUDA_LOOP(k, n) {
    const int64_t o = k / g.osz, src = g.source(k - o * g.osz, map);
    y[k] = src >= 0 ? x[o * g.isz + src] : value;
  }
}

template <typename T>
__global__ void pad_bwd_k(PadGeom g, int64_t n, const int64_t* map, const T* gy, T* gx) {
  PYDL_CUDA_LOOP(k, n) {
    const int64_t o = k / g.osz, src = g.source(k - o * g.osz, map);
    if (src >= 0) atomicAdd(gx + o * g.isz + src, gy[k]);
  }
}

// The geometry, and the maps concatenated into one device tensor (`dmap`).
PadGeom pad_geom(const std::vector<int64_t>& in, const std::vector<std::vector<int64_t>>& map, Tensor& dmap) {
  PYDL_CHECK(in.size() <= static_cast<size_t>(kMaxDims), RuntimeError, "[pad] CUDA kernels pad at most ", kMaxDims,
             " dims, got ", in.size());
  PadGeom g;
  g.k = static_cast<int>(in.size());
  std::vector<int64_t> flat;
  for (int d = 0; d < g.k; ++d) {
    g.in[d] = in[d];
    g.out[d] = static_cast<int64_t>(map[d].size());
    g.moff[d] = static_cast<int64_t>(flat.size());
    g.isz *= g.in[d];
    g.osz *= g.out[d];
    flat.insert(flat.end(), map[d].begin(), map[d].end());
  }
  int dev = 0;
  cudaGetDevice(&dev);
  const Device cd{DeviceType::CUDA, dev};
  dmap = empty({std::max<int64_t>(static_cast<int64_t>(flat.size()), 1)}, DType::Int64, cd);
  if (!flat.empty()) copy_bytes(dmap->data<int64_t>(), cd, flat.data(), Device{}, flat.size() * sizeof(int64_t));
  return g;
}

}  // namespace

template <typename T>
void pad_forward(int64_t outer, const std::vector<int64_t>& in, const std::vector<std::vector<int64_t>>& map, const T* x, T* y,
                 T value) {
  Tensor dmap;
  PadGeom g = pad_geom(in, map, dmap);
  const int64_t n = outer * g.osz;
  if (n == 0) return;
  pad_fwd_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(g, n, dmap->data<int64_t>(), x, y, value);
  check_launch("pad_forward");
}

template <typename T>
void pad_backward(int64_t outer, const std::vector<int64_t>& in, const std::vector<std::vector<int64_t>>& map, const T* gy, T* gx) {
  Tensor dmap;
  PadGeom g = pad_geom(in, map, dmap);
  cudaStream_t s = current_stream();
  cudaMemsetAsync(gx, 0, outer * g.isz * sizeof(T), s);
  const int64_t n = outer * g.osz;
  if (n == 0) return;
  pad_bwd_k<T><<<blocks_for(n), kThreads, 0, s>>>(g, n, dmap->data<int64_t>(), gy, gx);
  check_launch("pad_backward");
}

template <typename T>
void embedding_forward(int64_t n, int64_t D, const T* w, const int64_t* idx, T* out) {
  if (n * D == 0) return;
  embedding_fwd_k<T><<<blocks_for(n * D), kThreads, 0, current_stream()>>>(n, D, w, idx, out);
  check_launch("embedding_forward");
}

template <typename T>
void embedding_backward(int64_t n, int64_t V, int64_t D, const T* g, const int64_t* idx, int64_t pad, T* gw) {
  cudaStream_t s = current_stream();
  cudaMemsetAsync(gw, 0, V * D * sizeof(T), s);
  if (n * D == 0) return;
  embedding_bwd_k<T><<<blocks_for(n * D), kThreads, 0, s>>>(n, D, g, idx, pad, gw);
  check_launch("embedding_backward");
}

#define INST(T)                                                                            \
  template void embedding_forward<T>(int64_t, int64_t, const T*, const int64_t*, T*); \
  template void embedding_backward<T>(int64_t, int64_t, int64_t, const T*, const int64_t*, int64_t, T*);
#define INST_PAD(T)                                                                                                    \
  template void pad_forward<T>(int64_t, const std::vector<int64_t>&, const std::vector<std::vector<int64_t>>&, const T*, \
                               T*, T);
#define INST_PAD_BWD(T)                                                                                            \
  template void pad_backward<T>(int64_t, const std::vector<int64_t>&, const std::vector<std::vector<int64_t>>&, \
                                const T*, T*);
INST(float)
INST(double)
INST_PAD(float)
INST_PAD(double)
INST_PAD(int64_t)
INST_PAD_BWD(float)
INST_PAD_BWD(double)

}  // namespace pydl::kernels::cuda
