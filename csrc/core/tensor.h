#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"

namespace pydl {

using Shape = std::vector<int64_t>;
struct Node;
struct TensorImpl;
/// A tensor handle: shared ownership of its TensorImpl (null = undefined tensor).
using Tensor = std::shared_ptr<TensorImpl>;
struct DerivedValue;

/// A block of memory shared by a tensor and its views. `version` counts in-place
/// changes; autograd compares it against the version a saved tensor had.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  std::shared_ptr<void> external;  // set when the memory belongs to someone else (numpy, dlpack)
  uint64_t version = 0;
  Device device;        // where `data` lives
  bool pinned = false;  // page-locked host memory (pin_memory), freed with free_pinned
  /// Memory handed out of pydl (NumPy arrays, buffer views, DLPack, data_ptr) can be written
  /// without a version bump: `live_exports` counts the exports alive now (data_ptr's forever),
  /// `export_epoch` every export ever made. derived_of trusts neither kind of storage.
  std::atomic<int64_t> live_exports{0};
  std::atomic<uint64_t> export_epoch{0};
  /// derived_of's cached value (read and written with std::atomic_load / atomic_store).
  std::shared_ptr<const DerivedValue> derived;
  Storage(size_t nbytes, Device device = Device{}, bool pinned = false);  // owned, from the device's allocator
  Storage(void* data, size_t nbytes, std::shared_ptr<void> owner);  // borrowed
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;  // in elements
  int64_t offset = 0;  // in elements
  DType dtype = DType::Float32;
  int64_t numel = 1;
  bool is_view = false;

  // autograd
  bool requires_grad = false;
  bool retains_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  uint32_t output_nr = 0;
  std::weak_ptr<Node> grad_accumulator;
  /// Run, with this tensor, after autograd accumulated into .grad (keyed by a handle id).
  std::vector<std::pair<uint64_t, std::function<void(const Tensor&)>>> post_accumulate_grad_hooks;

  TensorImpl(std::shared_ptr<Storage> s, Shape shape, Shape strides, int64_t offset, DType dt);

  int64_t dim() const { return static_cast<int64_t>(shape.size()); }
  bool is_leaf() const { return grad_fn == nullptr; }
  bool is_contiguous() const;
  size_t itemsize() const { return pydl::itemsize(dtype); }
  Device device() const { return storage->device; }
  /// The first element. For a CUDA tensor only inside a CudaKernelScope (kernels/dispatch.h):
  /// a CPU kernel must never be handed device memory.
  void* raw() const {
#ifdef PYDL_WITH_CUDA
    if (storage->device.is_cuda()) check_cuda_pointer_access();
#endif
    return static_cast<char*>(storage->data) + offset * static_cast<int64_t>(itemsize());
  }
  template <typename T> T* data() const { return static_cast<T*>(raw()); }
  /// Marks an in-place change (autograd checks saved versions against this).
  void bump_version() { ++storage->version; }
  uint64_t version() const { return storage->version; }
};

/// Row-major strides of `shape`.
Shape contiguous_strides(const Shape& shape);
/// Product of the dims; throws ValueError on negative dims, MemoryError on overflow.
int64_t checked_numel(const Shape& shape, const char* op);
/// A new uninitialised contiguous tensor on `device`.
Tensor empty(const Shape& shape, DType dtype, Device device = Device{});
/// A new tensor of zeros.
Tensor zeros(const Shape& shape, DType dtype, Device device = Device{});
/// A tensor filled with `value`.
Tensor full(const Shape& shape, double value, DType dtype, Device device = Device{});
/// A 0-d tensor holding `value`.
Tensor scalar_tensor(double value, DType dtype, Device device = Device{});
/// A contiguous tensor `t` (same geometry) copied to `device` (no autograd); `non_blocking`
/// as in copy_bytes. Returns `t` itself when it is already there.
Tensor copy_contiguous_to(const Tensor& t, Device device, bool non_blocking = false);
/// A tensor sharing `base`'s storage with the given geometry (a view).
Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset);
/// A new tensor sharing storage and version counter with `t`, with no autograd history.
Tensor detach(const Tensor& t);
/// Normalises a possibly negative dim into [0, ndim); IndexError names the op otherwise.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
/// Reads element 0 of `t` as a double.
double item(const Tensor& t);

/// Marks `s`'s memory as reachable from outside pydl until the matching end_export (see
/// Storage::live_exports); an export that is never released (a raw pointer) omits it.
void begin_export(Storage& s);
void end_export(Storage& s);
/// A storage kept alive and exported (begin_export .. end_export) by an owner outside pydl.
struct ExportedStorage {
  std::shared_ptr<Storage> storage;
  explicit ExportedStorage(std::shared_ptr<Storage> s) : storage(std::move(s)) { begin_export(*storage); }
  ~ExportedStorage() { end_export(*storage); }
  ExportedStorage(const ExportedStorage&) = delete;
  ExportedStorage& operator=(const ExportedStorage&) = delete;
};

/// A value computed from `t`'s elements alone by `make` (a weight's packed copy for the GEMM),
/// cached beside t's storage and returned again while the elements cannot have changed: same
/// storage version, same geometry and `key`, and no export of the memory since (memory borrowed
/// from NumPy or DLPack, or exported, is never cached). One value per storage: another key
/// replaces it.
Tensor derived_of(const Tensor& t, const std::vector<int64_t>& key, const std::function<Tensor()>& make);

}  // namespace pydl
