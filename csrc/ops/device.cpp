#include "ops/device.h"

#include <cstring>

#include "ops/ops.h"

#ifdef PYDL_WITH_CUDA
#include "kernels/cuda/device.h"
#include "kernels/cuda/kernels.h"
#endif

namespace pydl {

Tensor to_device(const Tensor& a, Device device, bool non_blocking) {
  check_device_available(device, "to");
  if (a->device() == device) return a;
  Device src_dev = a->device();
  Tensor out = copy_contiguous_to(contig(a), device, non_blocking);
  if (any_requires_grad({&a})) {
    auto node = make_node("ToCopyBackward", {a}, [src_dev](FunctionNode&, const TensorList& g) -> TensorList {
      return {to_device(g[0], src_dev, false)};
    });
    set_history(out, node);
  }
  return out;
}

Tensor pin_memory(const Tensor& a) {
  PYDL_CHECK(a->device().is_cpu(), RuntimeError, "[pin_memory] cannot pin a tensor on ", a->device().str(),
             ": only CPU memory can be pinned");
  if (a->storage->pinned && a->is_contiguous()) return a;
  Tensor src = contig(a);
  auto storage = std::make_shared<Storage>(static_cast<size_t>(src->numel) * src->itemsize(), Device{}, true);
  Tensor out = std::make_shared<TensorImpl>(std::move(storage), src->shape, contiguous_strides(src->shape), 0, src->dtype);
  if (src->numel) std::memcpy(out->raw(), src->raw(), src->numel * src->itemsize());
  out->requires_grad = a->requires_grad && a->is_leaf();
  return out;
}

#ifdef PYDL_WITH_CUDA
bool cuda_self_test() { return cuda::self_test(); }
std::string cublas_library() { return kernels::cuda::cublas_library(); }
void add_cublas_search_dir(const std::string& dir) { kernels::cuda::add_cublas_search_dir(dir.c_str()); }
#else
bool cuda_self_test() { return false; }
std::string cublas_library() { return ""; }
void add_cublas_search_dir(const std::string&) {}
#endif

}  // namespace pydl
