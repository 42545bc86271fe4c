// Ops as functions of pydl._C (their Tensor methods and operators: init_tensor_methods.cpp), and the
// elementwise tables both bind from.
#include "python/bind.h"

namespace pydl {

namespace {

template <Cmp OP>
Tensor cmp(const Tensor& a, const Tensor& b) { return compare(OP, a, b); }

Tensor logical_and(const Tensor& a, const Tensor& b) { return mul(to_dtype(a, DType::Bool), to_dtype(b, DType::Bool)); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return add(to_dtype(a, DType::Bool), to_dtype(b, DType::Bool)); }
Tensor logical_xor(const Tensor& a, const Tensor& b) { return compare(Cmp::Ne, to_dtype(a, DType::Bool), to_dtype(b, DType::Bool)); }

// The keywords of each form of ops/reduce_ops.h, after the input.
#define PYDL_REDUCE_ARGS_Dims py::arg("dim"), py::arg("keepdim") = false
#define PYDL_REDUCE_ARGS_DimsDtype PYDL_REDUCE_ARGS_Dims, py::arg("dtype") = py::none()
#define PYDL_REDUCE_ARGS_OptDim py::arg("dim") = py::none(), py::arg("keepdim") = false
#define PYDL_REDUCE_ARGS_OptDimDtype PYDL_REDUCE_ARGS_OptDim, py::arg("dtype") = py::none()
#define PYDL_REDUCE_ARGS_Correction py::arg("dim"), py::arg("correction"), py::arg("keepdim") = false

// pydl._C.<name>(input, ...) for reduction f, the GIL released on large inputs.
template <typename... A, typename... Args>
void def_reduction(py::module_& m, const char* name, Tensor (*f)(const Tensor&, A...), const Args&... args) {
  m.def(name, [f](const Tensor& a, A... rest) { return nogil(a->numel, [&] { return f(a, rest...); }); }, py::arg("input"), args...);
}

}  // namespace

const std::vector<NamedOp<BinFn>>& binary_functions() {
#define PYDL_BIND_BINARY(NAME, ...) {#NAME, &NAME},
#define PYDL_BIND_CMP(NAME, KOP) {#NAME, &cmp<Cmp::KOP>},
  static const std::vector<NamedOp<BinFn>> fns = {
      PYDL_BINARY_OPS(PYDL_BIND_BINARY, PYDL_BIND_BINARY) PYDL_COMPARE_OPS(PYDL_BIND_CMP)
      {"matmul", &matmul}, {"floor_divide", &floor_divide},
      {"logical_and", &logical_and}, {"logical_or", &logical_or}, {"logical_xor", &logical_xor},
  };
#undef PYDL_BIND_BINARY
#undef PYDL_BIND_CMP
  return fns;
}

BinFn binary_function(const std::string& name) {
  for (const auto& b : binary_functions())
    if (name == b.name) return b.f;
  throw RuntimeError(str("[binary_function] no binary op named ", name));
}

const std::vector<NamedOp<UnFn>>& unary_functions() {
#define PYDL_BIND_UNARY(NAME, ...) {#NAME, &NAME},
  static const std::vector<NamedOp<UnFn>> fns = {
      {"neg", &neg}, PYDL_UNARY_OPS(PYDL_BIND_UNARY) {"clone", &clone}, {"contiguous", &contiguous},
  };
#undef PYDL_BIND_UNARY
  return fns;
}

void init_ops(py::module_& m) {
  // ---- functions (pydl._C.<name>) ----
  // the elementwise tables: pydl._C.<name> (Tensor.<name> in init_tensor_methods.cpp)
#define PYDL_NAME_BINARY(NAME, ...) , #NAME
  // pydl and Tensor export these (the tuple's first entry stands before the table's commas)
  m.attr("_binary_ops") = py::make_tuple("floor_divide" PYDL_BINARY_OPS(PYDL_NAME_BINARY, PYDL_NAME_BINARY)
                                         PYDL_COMPARE_OPS(PYDL_NAME_BINARY), "logical_and", "logical_or", "logical_xor");
#undef PYDL_NAME_BINARY
  for (const auto& b : binary_functions()) {
    BinFn f = b.f;
    std::string name = b.name;
    m.def(b.name, [f, name](py::object a, py::object other) {
      Tensor ta, tb;
      if (py::isinstance<TensorImpl>(a)) { ta = a.cast<Tensor>(); tb = to_tensor(other, ta, name.c_str()); }
      else { tb = to_tensor(other, Tensor(), name.c_str()); ta = to_tensor(a, tb, name.c_str()); }
      return nogil(std::max(ta->numel, tb->numel), [&] { return f(ta, tb); });
    }, py::arg("input"), py::arg("other"));
  }
  m.def("pow_scalar", &pow_scalar);

#define PYDL_NAME_UNARY(NAME, ...) , #NAME
  m.attr("_unary_ops") = py::make_tuple("neg" PYDL_UNARY_OPS(PYDL_NAME_UNARY));  // pydl and Tensor export these
#undef PYDL_NAME_UNARY
  for (const auto& u : unary_functions()) {
    UnFn f = u.f;
    m.def(u.name, [f](const Tensor& a) { return nogil(a->numel * 8, [&] { return f(a); }); }, py::arg("input"));
  }
  m.def("clamp", [](const Tensor& a, std::optional<double> lo, std::optional<double> hi) { return clamp(a, lo, hi); },
        py::arg("input"), py::arg("min") = py::none(), py::arg("max") = py::none());
  m.def("where", [](const Tensor& c, py::object a, py::object b) {
    Tensor ta = py::isinstance<TensorImpl>(a) ? a.cast<Tensor>() : Tensor();
    Tensor tb = py::isinstance<TensorImpl>(b) ? b.cast<Tensor>() : Tensor();
    if (!ta && !tb) ta = to_tensor(a, Tensor(), "where");
    if (!ta) ta = to_tensor(a, tb, "where");
    if (!tb) tb = to_tensor(b, ta, "where");
    return where(c, ta, tb);
  });
  m.def("to_dtype", &to_dtype);

  // in place
  m.def("add_", [](const Tensor& a, py::object b, double alpha) { add_(a, to_tensor(b, a, "add_"), alpha); return a; },
        py::arg("self"), py::arg("other"), py::arg("alpha") = 1.0);
  m.def("sub_", [](const Tensor& a, py::object b) { sub_(a, to_tensor(b, a, "sub_")); return a; });
  m.def("mul_", [](const Tensor& a, py::object b) { mul_(a, to_tensor(b, a, "mul_")); return a; });
  m.def("div_", [](const Tensor& a, py::object b) { div_(a, to_tensor(b, a, "div_")); return a; });
  m.def("copy_", [](const Tensor& a, py::object b) { copy_(a, to_tensor(b, a, "copy_")); return a; });
  m.def("fill_", [](const Tensor& a, double v) { fill_(a, v); return a; });
  m.def("zero_", [](const Tensor& a) { zero_(a); return a; });
  m.def("relu_", [](const Tensor& a) { relu_(a); return a; }, py::arg("input"));
  m.def("clamp_", [](const Tensor& a, std::optional<double> lo, std::optional<double> hi) { clamp_(a, lo, hi); return a; },
        py::arg("self"), py::arg("min") = py::none(), py::arg("max") = py::none());

  // shapes
  m.def("view", &view);
  m.def("reshape", &reshape);
  m.def("transpose", &transpose);
  m.def("permute", &permute);
  m.def("expand", &expand);
  m.def("squeeze", &squeeze);
  m.def("unsqueeze", &unsqueeze);
  m.def("flatten", &flatten);
  m.def("slice", &slice);
  m.def("select", &select);
  m.def("cat", &cat);
  m.def("stack", &stack);
  m.def("split", &split);
  m.def("split_size", &split_size);
  m.def("chunk", &chunk);

  // reductions
  // the ops of ops/reduce_ops.h: pydl._C.<name>, with the keywords of the op's form (pydl/_functional.py parses
  // torch's arguments for pydl.<name> and Tensor.<name>)
  py::list reductions;  // (name, form) pairs: pydl._C._reductions
#define PYDL_BIND_REDUCE(NAME, FORM)                                                                                  \
  def_reduction(m, #NAME, static_cast<Tensor (*)(const Tensor&, PYDL_REDUCE_PARAMS_##FORM)>(&NAME), PYDL_REDUCE_ARGS_##FORM); \
  reductions.append(py::make_tuple(#NAME, #FORM));
  PYDL_REDUCE_OPS(PYDL_BIND_REDUCE)
#undef PYDL_BIND_REDUCE
  m.attr("_reductions") = py::tuple(reductions);
  m.def("max_dim", &max_dim);
  m.def("min_dim", &min_dim);
  m.def("vector_norm", [](const Tensor& a, double ord, IntList d, bool k) { return nogil(a->numel, [&] { return vector_norm(a, ord, d, k); }); });
  m.def("tril", &tril);
  m.def("triu", &triu);

  // factories
  m.def("empty", [](const Shape& s, DType dt) { return empty(s, dt); });
  m.def("zeros", [](const Shape& s, DType dt) { return zeros(s, dt); });
  m.def("full", [](const Shape& s, py::object v, DType dt) {
    if (dt == DType::Int64 && PyLong_Check(v.ptr())) {  // exact beyond 2**53
      Tensor t = empty(s, dt);
      int64_t iv = v.cast<int64_t>();
      std::fill(t->data<int64_t>(), t->data<int64_t>() + t->numel, iv);
      return t;
    }
    return full(s, v.cast<double>(), dt);
  });
  m.def("arange", &arange);
  m.def("linspace", &linspace);
  m.def("eye", &eye);
  m.def("rand", &rand);
  m.def("randn", &randn);
  m.def("randint", &randint);
  m.def("randperm", &randperm);
  m.def("randperm_mt19937", &randperm_mt19937);
  m.def("uniform_", [](const Tensor& t, double a, double b) { uniform_(t, a, b); return t; });
  m.def("normal_", [](const Tensor& t, double a, double b) { normal_(t, a, b); return t; });
  m.def("bernoulli_", [](const Tensor& t, double p) { bernoulli_(t, p); return t; });
  m.def("parse_shape", [](py::args a) { return parse_shape(a, "shape"); });
}

}  // namespace pydl
