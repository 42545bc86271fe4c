#pragma once
// Shared by the binding files: one init_* function per file, called from module.cpp.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "ops/ops.h"

namespace py = pybind11;

namespace pybind11::detail {
// A Tensor parameter never binds None (pybind11's default for holders would pass a null
// pointer on to the op, which then crashes). Parameters that may be None are declared
// std::optional<Tensor>, whose caster handles None itself. A rejected None makes the call
// fail overload resolution, which install_arg_errors turns into "[op] expected a Tensor ...".
template <>
class type_caster<std::shared_ptr<pydl::TensorImpl>>
    : public copyable_holder_caster<pydl::TensorImpl, std::shared_ptr<pydl::TensorImpl>> {
 public:
  bool load(handle src, bool convert) {
    if (src.is_none()) return false;
    return copyable_holder_caster<pydl::TensorImpl, std::shared_ptr<pydl::TensorImpl>>::load(src, convert);
  }
};
}  // namespace pybind11::detail

namespace pydl {

/// Releases the GIL around a kernel (use instead of py::gil_scoped_release). A daemon thread
/// that returns from a kernel while the interpreter is exiting is parked instead of being
/// ended by CPython inside a destructor, which would abort the whole process.
class NoGil {
 public:
  NoGil() : state_(PyEval_SaveThread()) {}
  ~NoGil() noexcept(false);
  NoGil(const NoGil&) = delete;
  NoGil& operator=(const NoGil&) = delete;

 private:
  PyThreadState* state_;
};

using TensorClass = py::class_<TensorImpl, std::shared_ptr<TensorImpl>>;

/// The bound Tensor class (created by init_tensor, its methods bound by init_tensor_methods).
inline TensorClass tensor_class(py::module_& m) { return py::reinterpret_borrow<TensorClass>(m.attr("Tensor")); }

/// Below this much work, releasing the GIL costs more than it frees.
constexpr int64_t kReleaseGil = 1 << 15;

/// f(), with the GIL released when `work` (about the elements touched) is large.
template <typename F>
auto nogil(int64_t work, F&& f) {
  if (work < kReleaseGil) return f();
  NoGil r;
  return f();
}

using BinFn = Tensor (*)(const Tensor&, const Tensor&);
using UnFn = Tensor (*)(const Tensor&);
/// An op of the elementwise tables: pydl._C.<name> (init_ops) and Tensor.<name> (init_tensor_methods).
template <typename Fn>
struct NamedOp {
  const char* name;
  Fn f;
};
/// The binary ops of ops/binary_ops.h, the comparisons, matmul, floor_divide and the logical ops.
const std::vector<NamedOp<BinFn>>& binary_functions();
/// The binary op called `name` in binary_functions().
BinFn binary_function(const std::string& name);
/// neg, the unary ops of ops/unary_ops.h, clone and contiguous.
const std::vector<NamedOp<UnFn>>& unary_functions();

/// Converts a Python number, bool, list, NumPy array or Tensor to a Tensor (copying
/// non-tensors). `like` (may be null) decides the dtype of Python scalars.
Tensor to_tensor(const py::handle& obj, const Tensor& like, const char* op);
/// True and sets `out` if obj is a Python int/float/bool (or NumPy scalar).
bool as_scalar(const py::handle& obj, double& out, bool& is_int);
/// A NumPy array sharing memory with t (keeps t's storage alive).
py::array to_numpy(const Tensor& t);
/// A capsule exporting t through DLPack (CPU tensors only).
py::capsule to_dlpack(const Tensor& t);
/// A shape as pydl.Size (a tuple before pydl registers Size).
py::object as_size(const Shape& s);
/// The items of a Python index (an int, slice, None, ..., tensor, list or a tuple of those).
std::vector<TensorIndex> parse_index(const py::handle& idx);
/// Parses a shape given as ints or a single sequence: f(2, 3) or f((2, 3)).
Shape parse_shape(const py::args& args, const char* op);
/// DType from a pydl dtype, a NumPy dtype/type or a string; TypeError otherwise.
DType parse_dtype(const py::handle& obj, const char* op);

/// Rewrites pybind11's "incompatible function arguments" TypeError of every function of `m`
/// and method of its classes into "[op] expected a Tensor for argument 'input', got NoneType".
/// Call last: it wraps the functions bound so far.
void install_arg_errors(py::module_& m);

void init_tensor(py::module_& m);
void init_tensor_methods(py::module_& m);
void init_ops(py::module_& m);
void init_autograd(py::module_& m);
void init_indexing(py::module_& m);
void init_nn(py::module_& m);
void init_optim(py::module_& m);
void init_rnn(py::module_& m);
void init_breadth(py::module_& m);
void init_attention(py::module_& m);
void init_resample(py::module_& m);
void init_engine(py::module_& m);
void init_device(py::module_& m);

}  // namespace pydl
