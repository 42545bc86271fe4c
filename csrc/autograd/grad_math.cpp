#include "autograd/grad_math.h"

#include "kernels/dispatch.h"

namespace pydl {

namespace K = kernels;

Tensor dense_copy(const Tensor& t) {
  Tensor out = empty(t->shape, t->dtype, t->device());
  PYDL_KERNEL(t->device(), copy, *out, *t);
  return out;
}

Tensor grad_cast(const Tensor& t, DType dtype) {
  if (t->dtype == dtype) return t;
  Tensor out = empty(t->shape, dtype, t->device());
  PYDL_KERNEL(t->device(), copy, *out, *t);
  if (is_floating(dtype) && is_floating(t->dtype) && any_requires_grad({&t})) {
    auto node = make_node("ToCopyBackward", {t}, [src = t->dtype](FunctionNode&, const TensorList& g) -> TensorList {
      return {grad_cast(g[0], src)};
    });
    set_history(out, node);
  }
  return out;
}

Tensor grad_add(const Tensor& a, const Tensor& b) {
  PYDL_CHECK(a->shape == b->shape, RuntimeError, "[backward] cannot sum gradients of shapes ", shape_str(a->shape),
             " and ", shape_str(b->shape));
  Device dev = common_device("backward", {a.get(), b.get()});
  Tensor bb = grad_cast(b, a->dtype);
  Tensor out = empty(a->shape, a->dtype, dev);
  PYDL_KERNEL(dev, binary, K::BinaryOp::Add, *out, *a, *bb);
  if (any_requires_grad({&a, &bb})) {
    auto node = make_node("AddBackward", {a, bb}, [](FunctionNode&, const TensorList& g) -> TensorList {
      return {g[0], g[0]};
    });
    set_history(out, node);
  }
  return out;
}

void grad_add_(const Tensor& acc, const Tensor& g) {
  PYDL_CHECK(acc->shape == g->shape, RuntimeError, "[backward] cannot add a gradient of shape ", shape_str(g->shape),
             " into .grad of shape ", shape_str(acc->shape));
  Device dev = common_device("backward", {acc.get(), g.get()});
  Tensor gg = g->dtype == acc->dtype ? g : grad_cast(g, acc->dtype);
  PYDL_KERNEL(dev, binary, K::BinaryOp::Add, *acc, *acc, *gg);
  acc->bump_version();
}

}  // namespace pydl
