#include "core/tensor.h"

#include <cstring>
#include <limits>

#include "core/allocator.h"

namespace pydl {

Storage::Storage(size_t n, Device d, bool pin)
    : data(pin ? alloc_pinned(n) : device_alloc(d, n)), nbytes(n), device(d), pinned(pin) {}
Storage::Storage(void* d, size_t n, std::shared_ptr<void> owner) : data(d), nbytes(n), external(std::move(owner)) {}
Storage::~Storage() {
  if (external) return;
  if (pinned)
    free_pinned(data);
  else
    device_free(device, data, nbytes);
}

struct DerivedValue {
  std::vector<int64_t> key;  // geometry and dtype of the source view, then the caller's key
  uint64_t version, epoch;
  Tensor value;
};

void begin_export(Storage& s) {
  s.live_exports.fetch_add(1);
  s.export_epoch.fetch_add(1);
}
void end_export(Storage& s) { s.live_exports.fetch_sub(1); }

Tensor derived_of(const Tensor& t, const std::vector<int64_t>& key, const std::function<Tensor()>& make) {
  Storage& s = *t->storage;
  if (s.external || s.live_exports.load() != 0) return make();
  std::vector<int64_t> full{t->offset, static_cast<int64_t>(t->dtype), t->dim()};
  full.insert(full.end(), t->shape.begin(), t->shape.end());
  full.insert(full.end(), t->strides.begin(), t->strides.end());
  full.insert(full.end(), key.begin(), key.end());
  const uint64_t epoch = s.export_epoch.load(), version = s.version;
  std::shared_ptr<const DerivedValue> have = std::atomic_load(&s.derived);
  if (have && have->version == version && have->epoch == epoch && have->key == full) return have->value;
  Tensor value = make();
  std::atomic_store(&s.derived, std::shared_ptr<const DerivedValue>(new DerivedValue{std::move(full), version, epoch, value}));
  return value;
}

TensorImpl::TensorImpl(std::shared_ptr<Storage> s, Shape sh, Shape st, int64_t off, DType dt)
    : storage(std::move(s)), shape(std::move(sh)), strides(std::move(st)), offset(off), dtype(dt) {
  numel = 1;
  for (int64_t d : shape)  // views (expand, reshape) reach here without checked_numel
    PYDL_CHECK(!__builtin_mul_overflow(numel, d, &numel), ValueError, "[view] shape ", shape_str(shape),
               " has more elements than an int64 can count");
}

bool TensorImpl::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t i = dim() - 1; i >= 0; --i) {
    if (shape[i] == 1) continue;
    if (strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

Shape contiguous_strides(const Shape& shape) {
  Shape st(shape.size());
  int64_t s = 1;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    st[i] = s;
    s *= shape[i] > 0 ? shape[i] : 1;
  }
  return st;
}

int64_t checked_numel(const Shape& shape, const char* op) {
  for (int64_t d : shape)  // before the size check, so (2**62, -1) is a ValueError, not a MemoryError
    PYDL_CHECK(d >= 0, ValueError, "[", op, "] negative dimension in shape ", shape_str(shape));
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / 16 / d)
      throw MemoryError(str("[", op, "] shape ", shape_str(shape), " is too large to allocate"));
    n *= d;
  }
  return n;
}

Tensor empty(const Shape& shape, DType dtype, Device device) {
  int64_t n = checked_numel(shape, "empty");
  auto storage = std::make_shared<Storage>(static_cast<size_t>(n) * itemsize(dtype), device);
  return std::make_shared<TensorImpl>(std::move(storage), shape, contiguous_strides(shape), 0, dtype);
}

Tensor zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  device_memset0(device, t->storage->data, t->numel * t->itemsize());
  return t;
}

Tensor copy_contiguous_to(const Tensor& t, Device device, bool non_blocking) {
  if (t->device() == device) return t;
  PYDL_CHECK(t->is_contiguous(), RuntimeError, "[to] internal: copy_contiguous_to needs a contiguous tensor");
  Tensor out = empty(t->shape, t->dtype, device);
  const char* src = static_cast<const char*>(t->storage->data) + t->offset * static_cast<int64_t>(t->itemsize());
  copy_bytes(out->storage->data, device, src, t->device(), t->numel * t->itemsize(), non_blocking);
  return out;
}

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  if (device.is_cuda()) return copy_contiguous_to(full(shape, value, dtype), device);  // filled on the host
  Tensor t = empty(shape, dtype);
  PYDL_DISPATCH_ALL(dtype, "full", [&] {
    scalar_t v = static_cast<scalar_t>(value);
    scalar_t* p = t->data<scalar_t>();
    for (int64_t i = 0; i < t->numel; ++i) p[i] = v;
  });
  return t;
}

Tensor scalar_tensor(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto v = std::make_shared<TensorImpl>(base->storage, std::move(shape), std::move(strides), offset, base->dtype);
  v->is_view = true;
  return v;
}

Tensor detach(const Tensor& t) {
  auto d = std::make_shared<TensorImpl>(t->storage, t->shape, t->strides, t->offset, t->dtype);
  d->is_view = t->is_view;
  return d;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t n = ndim == 0 ? 1 : ndim;  // 0-d tensors accept dim 0 and -1, like PyTorch
  PYDL_CHECK(dim >= -n && dim < n, IndexError, "[", op, "] dimension out of range (expected to be in range of [",
             -n, ", ", n - 1, "], but got ", dim, ")");
  return dim < 0 ? dim + n : dim;
}

double item(const Tensor& t) {
  PYDL_CHECK(t->numel == 1, ValueError, "[item] a Tensor with ", t->numel,
             " elements cannot be converted to Scalar");
  if (t->device().is_cuda()) {  // one element back to the host
    Tensor h = empty({}, t->dtype);
    const char* src = static_cast<const char*>(t->storage->data) + t->offset * static_cast<int64_t>(t->itemsize());
    copy_bytes(h->raw(), Device{}, src, t->device(), t->itemsize());
    return item(h);
  }
  return PYDL_DISPATCH_ALL(t->dtype, "item", [&] { return static_cast<double>(*t->data<scalar_t>()); });
}

}  // namespace pydl
