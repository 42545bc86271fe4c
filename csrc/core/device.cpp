#include "core/device.h"

#include <cstring>

#include "core/allocator.h"
#include "core/error.h"
#include "core/tensor.h"

namespace pydl {

Device common_device(const char* op, std::initializer_list<const TensorImpl*> ts) {
  const TensorImpl* first = nullptr;
  for (const TensorImpl* t : ts) {
    if (!t) continue;
    if (!first) {
      first = t;
    } else if (t->device() != first->device()) {
      throw RuntimeError(str("[", op, "] expected all tensors on the same device, got ", first->device().str(), " and ",
                             t->device().str()));
    }
  }
  return first ? first->device() : Device{};
}

void check_device_available(Device d, const char* op, const char* spelled) {
  if (d.is_cpu()) return;
  int n = cuda_device_count();
  const std::string name = spelled ? spelled : d.str();
  if (n == 0)
    throw RuntimeError(str("[", op, "] device ", name, " is not available: no CUDA device is available for device='",
                           name, "' (",
                           built_with_cuda() ? "this CUDA build found no GPU or no driver"
                                             : "this pydl build has no CUDA support; build with PYDL_CUDA=ON",
                           ")"));
  PYDL_CHECK(d.index >= 0 && d.index < n, RuntimeError, "[", op, "] device ", d.str(), " is not available: only ", n,
             " CUDA device", n == 1 ? " is" : "s are", " visible");
}

namespace {
thread_local int g_cuda_scope = 0;
}
CudaKernelScope::CudaKernelScope() { ++g_cuda_scope; }
CudaKernelScope::~CudaKernelScope() { --g_cuda_scope; }

void check_cuda_pointer_access() {
  PYDL_CHECK(g_cuda_scope > 0, RuntimeError, "[cuda] this op has no CUDA kernel yet and its tensors are on a CUDA "
             "device; move them with .cpu() first");
}

#ifndef PYDL_WITH_CUDA
// The CPU-only build: no CUDA device ever exists, so nothing below reaches a CUDA branch.
bool built_with_cuda() { return false; }
int cuda_device_count() { return 0; }
void* device_alloc(Device d, size_t nbytes) {
  check_device_available(d, "alloc");
  return alloc_bytes(nbytes);
}
void device_free(Device, void* p, size_t nbytes) { free_bytes(p, nbytes); }
void device_memset0(Device d, void* p, size_t n) {
  check_device_available(d, "memset");
  std::memset(p, 0, n);
}
void copy_bytes(void* dst, Device dd, const void* src, Device sd, size_t n, bool) {
  check_device_available(dd, "copy");
  check_device_available(sd, "copy");
  if (n) std::memcpy(dst, src, n);
}
void* alloc_pinned(size_t) {
  throw RuntimeError("[pin_memory] pinned memory needs a CUDA device; no CUDA device is available (this pydl build "
                     "has no CUDA support)");
}
void free_pinned(void*) {}
void cuda_synchronize(int) {}
size_t cuda_memory_allocated(int) { return 0; }
size_t cuda_memory_reserved(int) { return 0; }
void cuda_empty_cache() {}
void* cuda_stream(int) { return nullptr; }
void cuda_set_device(int) {}
#endif

}  // namespace pydl
