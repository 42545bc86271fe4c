// The CUDA side of core/device.h, compiled only in a PYDL_CUDA=ON build: device count, one
// stream per device, a caching device allocator, pinned host memory and copies. Every call
// tolerates a machine without a GPU (device_count() is then 0 and nothing else is reached).
#include <cuda_runtime.h>

#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/allocator.h"
#include "core/device.h"
#include "core/error.h"

namespace pydl {
namespace {

void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clear it, so that the next call does not report it again
  if (e == cudaErrorMemoryAllocation) throw MemoryError(str("[cuda] out of memory in ", what));
  throw RuntimeError(str("[cuda] ", what, " failed: ", cudaGetErrorString(e)));
}

constexpr int kMaxDevices = 64;

// Rounds sizes up so that blocks can be reused: 512 bytes below 1 MiB, then 4 classes per
// power of two (at most 25% waste), like the CPU allocator.
size_t size_class(size_t n) {
  if (n < (1u << 20)) return (n + 511) / 512 * 512;
  size_t p = 1;
  while ((p << 1) <= n) p <<= 1;
  size_t step = p / 4;
  return (n + step - 1) / step * step;
}

// Blocks freed by tensors are kept per device and size class and handed to the next request of
// that class. All of a device's work runs on its one stream, so a block freed after a kernel was
// queued may be reused by the next kernel: the stream orders them.
struct DeviceCache {
  std::unordered_map<size_t, std::vector<void*>> free_blocks;
  size_t allocated = 0;  // in use by tensors
  size_t reserved = 0;   // in use + cached
};

struct Runtime {
  std::mutex mu;
  DeviceCache dev[kMaxDevices];
  cudaStream_t streams[kMaxDevices] = {};
  void release(int d) {
    for (auto& kv : dev[d].free_blocks)
      for (void* p : kv.second) {
        cudaSetDevice(d);
        cudaFree(p);
        dev[d].reserved -= kv.first;
      }
    dev[d].free_blocks.clear();
  }
};

Runtime& rt() {
  static Runtime* r = new Runtime();  // leaked on purpose: outlives static tensors at exit
  return *r;
}

struct DeviceScope {  // selects device d for the calling thread, restores the previous one
  int prev = 0;
  explicit DeviceScope(int d) {
    cudaGetDevice(&prev);
    if (prev != d) check(cudaSetDevice(d), "cudaSetDevice");
  }
  ~DeviceScope() { cudaSetDevice(prev); }
};

}  // namespace

bool built_with_cuda() { return true; }

int cuda_device_count() {
  static const int n = [] {
    int c = 0;
    if (cudaGetDeviceCount(&c) != cudaSuccess) {
      cudaGetLastError();  // the sticky "no device" / "no driver" error
      return 0;
    }
    return c < kMaxDevices ? c : kMaxDevices;
  }();
  return n;
}

void* cuda_stream(int index) {
  Runtime& r = rt();
  std::lock_guard<std::mutex> lock(r.mu);
  if (!r.streams[index]) {
    DeviceScope s(index);
    check(cudaStreamCreateWithFlags(&r.streams[index], cudaStreamNonBlocking), "cudaStreamCreate");
  }
  return r.streams[index];
}

void cuda_set_device(int index) { check(cudaSetDevice(index), "cudaSetDevice"); }

void* device_alloc(Device d, size_t nbytes) {
  if (d.is_cpu()) return alloc_bytes(nbytes);
  check_device_available(d, "alloc");
  size_t n = size_class(nbytes == 0 ? 1 : nbytes);
  Runtime& r = rt();
  {
    std::lock_guard<std::mutex> lock(r.mu);
    DeviceCache& c = r.dev[d.index];
    auto it = c.free_blocks.find(n);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.allocated += n;
      return p;
    }
  }
  DeviceScope s(d.index);
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, n);
  if (e == cudaErrorMemoryAllocation) {  // give the cached blocks back and try once more
    cudaGetLastError();
    cuda_synchronize(d.index);
    cuda_empty_cache();
    e = cudaMalloc(&p, n);
  }
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw MemoryError(str("[cuda] out of memory: could not allocate ", nbytes, " bytes on ", d.str()));
  }
  check(e, "cudaMalloc");
  std::lock_guard<std::mutex> lock(r.mu);
  r.dev[d.index].allocated += n;
  r.dev[d.index].reserved += n;
  return p;
}

void device_free(Device d, void* p, size_t nbytes) {
  if (d.is_cpu()) return free_bytes(p, nbytes);
  if (!p) return;
  size_t n = size_class(nbytes == 0 ? 1 : nbytes);
  Runtime& r = rt();
  std::lock_guard<std::mutex> lock(r.mu);
  r.dev[d.index].free_blocks[n].push_back(p);
  r.dev[d.index].allocated -= n;
}

void cuda_empty_cache() {
  Runtime& r = rt();
  std::lock_guard<std::mutex> lock(r.mu);
  for (int d = 0; d < cuda_device_count(); ++d) r.release(d);
}

size_t cuda_memory_allocated(int index) {
  if (index < 0 || index >= cuda_device_count()) return 0;
  std::lock_guard<std::mutex> lock(rt().mu);
  return rt().dev[index].allocated;
}

size_t cuda_memory_reserved(int index) {
  if (index < 0 || index >= cuda_device_count()) return 0;
  std::lock_guard<std::mutex> lock(rt().mu);
  return rt().dev[index].reserved;
}

void device_memset0(Device d, void* p, size_t n) {
  if (d.is_cpu()) {
    if (n) std::memset(p, 0, n);
    return;
  }
  DeviceScope s(d.index);
  check(cudaMemsetAsync(p, 0, n, static_cast<cudaStream_t>(cuda_stream(d.index))), "cudaMemsetAsync");
}

void copy_bytes(void* dst, Device dd, const void* src, Device sd, size_t n, bool non_blocking) {
  if (n == 0) return;
  if (dd.is_cpu() && sd.is_cpu()) {
    std::memcpy(dst, src, n);
    return;
  }
  int dev = dd.is_cuda() ? dd.index : sd.index;
  DeviceScope s(dev);
  auto stream = static_cast<cudaStream_t>(cuda_stream(dev));
  if (dd.is_cuda() && sd.is_cuda() && dd.index != sd.index) {
    cuda_synchronize(sd.index);  // the source's producers ran on its own device's stream
    check(cudaMemcpyPeerAsync(dst, dd.index, src, sd.index, n, stream), "cudaMemcpyPeerAsync");
  } else {
    check(cudaMemcpyAsync(dst, src, n, cudaMemcpyDefault, stream), "cudaMemcpyAsync");
  }
  // Asynchronous only where the host side is pinned (cudaMemcpyAsync from pageable memory is
  // staged and would be synchronous anyway) or both sides are on the device.
  if (!non_blocking && !(dd.is_cuda() && sd.is_cuda())) check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
}

void* alloc_pinned(size_t nbytes) {
  PYDL_CHECK(cuda_device_count() > 0, RuntimeError, "[pin_memory] pinned memory needs a CUDA device; no CUDA device "
             "is available (this CUDA build found no GPU or no driver)");
  void* p = nullptr;
  check(cudaHostAlloc(&p, nbytes == 0 ? 1 : nbytes, cudaHostAllocPortable), "cudaHostAlloc");
  return p;
}

void free_pinned(void* p) {
  if (p) cudaFreeHost(p);  // waits for copies still reading it
}

void cuda_synchronize(int index) {
  int n = cuda_device_count();
  for (int d = index < 0 ? 0 : index; d < (index < 0 ? n : index + 1) && d < n; ++d) {
    DeviceScope s(d);
    check(cudaStreamSynchronize(static_cast<cudaStream_t>(cuda_stream(d))), "cudaStreamSynchronize");
  }
}

}  // namespace pydl
