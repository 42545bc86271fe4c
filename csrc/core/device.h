#pragma once
// Devices: where a tensor's storage lives. The CPU always exists; CUDA devices exist only in a
// PYDL_CUDA=ON build on a machine with a GPU (core/cuda_runtime.cu). Every function here is
// callable in every build: without CUDA the CUDA ones report no device or refuse clearly.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace pydl {

struct TensorImpl;

enum class DeviceType : int8_t { CPU = 0, CUDA = 1 };

/// A device: the CPU, or CUDA device `index`.
struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool operator==(const Device& o) const { return type == o.type && (type == DeviceType::CPU || index == o.index); }
  bool operator!=(const Device& o) const { return !(*this == o); }
  /// "cpu" or "cuda:0", as PyTorch prints devices.
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

/// The one device the defined tensors among `ts` live on (CPU when none is defined). RuntimeError
/// "[op] expected all tensors on the same device, got cpu and cuda:0" otherwise.
Device common_device(const char* op, std::initializer_list<const TensorImpl*> ts);
/// RuntimeError naming `op` unless `d` can hold tensors in this build on this machine (for
/// CUDA: "no CUDA device is available for device='cuda'", with the device as `spelled`, or d.str()).
void check_device_available(Device d, const char* op, const char* spelled = nullptr);

/// True when this build carries the CUDA backend (PYDL_CUDA=ON).
bool built_with_cuda();
/// Visible CUDA devices (0 without a GPU, a driver, or a CUDA build).
int cuda_device_count();

/// Memory of device `d` (d.is_cpu(): the CPU allocator; CUDA: the caching device allocator).
void* device_alloc(Device d, size_t nbytes);
/// Returns memory from device_alloc(d, nbytes).
void device_free(Device d, void* p, size_t nbytes);
/// Sets n bytes of device memory to zero (on the device's stream).
void device_memset0(Device d, void* p, size_t n);
/// Copies n bytes between any two devices. `non_blocking` lets a copy from or to pinned host
/// memory run asynchronously on the device's stream; every other copy has finished on return.
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t n, bool non_blocking = false);
/// Page-locked host memory (cudaHostAlloc) for fast, asynchronous copies; RuntimeError without CUDA.
void* alloc_pinned(size_t nbytes);
/// Returns memory from alloc_pinned.
void free_pinned(void* p);
/// Waits until all queued work of CUDA device `index` (-1: every device) has finished.
void cuda_synchronize(int index);
/// Bytes of CUDA device `index` held by tensors / held by the caching allocator (in use + cached).
size_t cuda_memory_allocated(int index);
size_t cuda_memory_reserved(int index);
/// Frees the caching allocator's unused blocks on every CUDA device.
void cuda_empty_cache();
/// The stream kernels of device `index` run on (a cudaStream_t); nullptr without CUDA.
void* cuda_stream(int index);
/// Makes `index` the current CUDA device of the calling thread (no-op without CUDA).
void cuda_set_device(int index);

/// Set while a kernel for a CUDA device is being called (kernels/dispatch.h): CPU-side data
/// pointers of CUDA tensors may be taken only then, so an op without a CUDA kernel raises
/// instead of handing device memory to a CPU kernel.
struct CudaKernelScope {
  CudaKernelScope();
  ~CudaKernelScope();
  CudaKernelScope(const CudaKernelScope&) = delete;
  CudaKernelScope& operator=(const CudaKernelScope&) = delete;
};
/// Throws unless inside a CudaKernelScope (called by TensorImpl::raw() for CUDA tensors).
void check_cuda_pointer_access();

}  // namespace pydl
