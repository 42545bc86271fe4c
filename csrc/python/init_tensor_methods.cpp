// Every method, property and operator of Tensor bound in C++, in one place (the methods bound in Python:
// pydl/_tensor_methods.py). The elementwise ones come from the op tables (binary_functions, unary_functions);
// operators are bound here directly so that `a + b` costs one call. pydl._C._tensor_methods names them all.
#include <atomic>
#include <set>

#include "python/bind.h"
#include "python/dlpack.h"

namespace pydl {

namespace {

// An index into t's shape: unlike wrap_dim (which lets a 0-d tensor take dim 0 or -1, as
// reductions do), a 0-d tensor has no entry to read.
int64_t dim_index(const Tensor& t, int64_t dim, const char* op) {
  PYDL_CHECK(t->dim() > 0, IndexError, "[", op, "] dimension specified as ", dim, " but tensor has no dimensions");
  return wrap_dim(dim, t->dim(), op);
}

void check_numpy_ok(const Tensor& t, const char* op) {
  PYDL_CHECK(!t->requires_grad, RuntimeError, "[", op, "] Can't call numpy() on Tensor that requires grad. Use "
             "tensor.detach().numpy() instead.");
}

// a OP other, where other may be a Tensor, a Python scalar or array-like.
py::object binary_obj(BinFn f, const Tensor& a, const py::handle& other, bool reflected) {
  Tensor b;
  try {
    b = to_tensor(other, a, "binary");
  } catch (TypeError&) {
    return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  }
  return py::cast(nogil(a->numel, [&] { return reflected ? f(b, a) : f(a, b); }));
}

// Returned by Tensor.register_post_accumulate_grad_hook; remove() unregisters the hook.
struct PostAccumulateGradHookHandle {
  std::weak_ptr<TensorImpl> tensor;
  uint64_t id;
  void remove() {
    if (auto t = tensor.lock()) {
      auto& v = t->post_accumulate_grad_hooks;
      for (auto it = v.begin(); it != v.end(); ++it)
        if (it->first == id) { v.erase(it); break; }
    }
  }
};

// Binds Tensor methods and keeps their names (pydl._C._tensor_methods, which the ONNX tracer swaps).
class Methods {
 public:
  explicit Methods(TensorClass cls) : cls_(std::move(cls)) {}
  template <typename... A>
  Methods& def(const char* name, A&&... a) {
    cls_.def(name, std::forward<A>(a)...);
    return note(name);
  }
  template <typename... A>
  Methods& def_property(const char* name, A&&... a) {
    cls_.def_property(name, std::forward<A>(a)...);
    return note(name);
  }
  template <typename... A>
  Methods& def_property_readonly(const char* name, A&&... a) {
    cls_.def_property_readonly(name, std::forward<A>(a)...);
    return note(name);
  }
  TensorClass& cls() { return cls_; }
  py::tuple names() const { return py::cast(names_); }

 private:
  Methods& note(const char* name) {
    if (seen_.insert(name).second) names_.push_back(name);
    return *this;
  }
  TensorClass cls_;
  std::vector<std::string> names_;
  std::set<std::string> seen_;
};

}  // namespace

void init_tensor_methods(py::module_& m) {
  Methods t(tensor_class(m));
  TensorClass& cls = t.cls();

  // ---- attributes, autograd state, conversions ----
  cls.def(py::init([](const Tensor& data, bool requires_grad) {
            // Parameter(data): shares data's storage, a fresh leaf
            Tensor t = detach(data);
            PYDL_CHECK(!requires_grad || is_floating(t->dtype), RuntimeError,
                       "[Parameter] only Tensors of floating point dtype can require gradients");
            t->requires_grad = requires_grad;
            return t;
          }),
          py::arg("data"), py::arg("requires_grad") = false);
  t.def_property_readonly("shape", [](const Tensor& t) { return as_size(t->shape); })
      .def("size", [](const Tensor& t, std::optional<int64_t> dim) -> py::object {
            if (dim) return py::int_(t->shape[dim_index(t, *dim, "size")]);
            return as_size(t->shape);
          }, py::arg("dim") = py::none())
      .def("stride", [](const Tensor& t, std::optional<int64_t> dim) -> py::object {
            if (dim) return py::int_(t->strides[dim_index(t, *dim, "stride")]);
            return py::tuple(py::cast(t->strides));
          }, py::arg("dim") = py::none())
      .def("storage_offset", [](const Tensor& t) { return t->offset; })
      .def_property_readonly("dtype", [](const Tensor& t) { return t->dtype; })
      .def_property_readonly("ndim", [](const Tensor& t) { return t->dim(); })
      .def("dim", [](const Tensor& t) { return t->dim(); })
      .def("ndimension", [](const Tensor& t) { return t->dim(); })
      .def("numel", [](const Tensor& t) { return t->numel; })
      .def("nelement", [](const Tensor& t) { return t->numel; })
      .def("element_size", [](const Tensor& t) { return t->itemsize(); })
      .def_property_readonly("itemsize", [](const Tensor& t) { return t->itemsize(); })
      .def_property_readonly("nbytes", [](const Tensor& t) { return t->numel * static_cast<int64_t>(t->itemsize()); })
      .def("is_contiguous", [](const Tensor& t) { return t->is_contiguous(); })
      .def("is_floating_point", [](const Tensor& t) { return is_floating(t->dtype); })
      .def("data_ptr", [](const Tensor& t) {
            begin_export(*t->storage);  // a raw address may be written through at any time: never released
            return reinterpret_cast<uintptr_t>(t->raw());
          })
      .def_property_readonly("_version", [](const Tensor& t) { return t->version(); })
      .def_property_readonly("is_leaf", [](const Tensor& t) { return t->is_leaf(); })
      .def_property_readonly("grad_fn", [](const Tensor& t) { return t->grad_fn; })
      .def_property_readonly("_base_is_view", [](const Tensor& t) { return t->is_view; })
      .def_property("requires_grad", [](const Tensor& t) { return t->requires_grad; },
                    [](const Tensor& t, bool r) {
                      PYDL_CHECK(t->is_leaf(), RuntimeError, "[requires_grad] you can only change requires_grad flags of "
                                 "leaf variables. If you want to use a computed variable in a subgraph that doesn't "
                                 "require differentiation use var_no_grad = var.detach().");
                      PYDL_CHECK(!r || is_floating(t->dtype), RuntimeError, "[requires_grad] only Tensors of floating "
                                 "point dtype can require gradients, got ", dtype_name(t->dtype));
                      t->requires_grad = r;
                    })
      .def("requires_grad_", [](const Tensor& t, bool r) {
            PYDL_CHECK(t->is_leaf() || r, RuntimeError, "[requires_grad_] you can only change requires_grad flags of leaf variables.");
            PYDL_CHECK(!r || is_floating(t->dtype), RuntimeError, "[requires_grad_] only Tensors of floating point dtype "
                       "can require gradients, got ", dtype_name(t->dtype));
            t->requires_grad = r;
            return t;
          }, py::arg("requires_grad") = true)
      .def_property("grad", [](const Tensor& t) {
                      std::lock_guard<std::mutex> lock(grad_mutex(t.get()));
                      return t->grad;
                    },
                    [](const Tensor& t, const std::optional<Tensor>& g) {
                      std::lock_guard<std::mutex> lock(grad_mutex(t.get()));
                      if (g && *g) {
                        PYDL_CHECK((*g)->shape == t->shape, RuntimeError, "[grad] assigned grad has shape ",
                                   shape_str((*g)->shape), " but the tensor has shape ", shape_str(t->shape));
                        PYDL_CHECK((*g)->dtype == t->dtype, TypeError, "[grad] assigned grad has dtype ",
                                   dtype_name((*g)->dtype), " but the tensor has dtype ", dtype_name(t->dtype));
                        t->grad = *g;
                      } else {
                        t->grad.reset();
                      }
                    })
      .def_property("data", [](const Tensor& t) { return detach(t); },
                    [](const Tensor& t, const Tensor& src) {
                      // x.data = y: swap the storage under x, keeping its autograd identity
                      t->storage = src->storage;
                      t->shape = src->shape;
                      t->strides = src->strides;
                      t->offset = src->offset;
                      t->dtype = src->dtype;
                      t->numel = src->numel;
                    })
      .def("detach", [](const Tensor& t) { return detach(t); })
      .def("detach_", [](const Tensor& t) {
            t->grad_fn.reset();
            t->requires_grad = false;
            return t;
          })
      .def("retain_grad", [](const Tensor& t) {
            PYDL_CHECK(t->requires_grad, RuntimeError, "[retain_grad] can't retain_grad on Tensor that has requires_grad=False");
            if (t->is_leaf() || t->retains_grad) return;
            t->retains_grad = true;
            std::weak_ptr<TensorImpl> w = t;
            t->grad_fn->pre_hooks.push_back({t->output_nr, [w](const Tensor& g) -> Tensor {
              if (auto self = w.lock()) {
                AutoGradMode off(false);
                Tensor old;  // dies after the lock (its storage may need the GIL)
                std::lock_guard<std::mutex> lock(grad_mutex(self.get()));
                if (!self->grad) self->grad = contiguous_copy(g);
                else { old = std::move(self->grad); self->grad = add(old, g); }
              }
              return Tensor();
            }});
          })
      .def_property_readonly("retains_grad", [](const Tensor& t) { return t->retains_grad; })
      .def("numpy", [](const Tensor& t, bool force) {
            if (!force) check_numpy_ok(t, "numpy");
            return to_numpy(t);
          }, py::arg("force") = false)
      .def("__array__", [](const Tensor& t, py::object dtype, py::object copy) {
            check_numpy_ok(t, "__array__");
            py::array a = to_numpy(t);
            if (!dtype.is_none()) return py::array(a.attr("astype")(dtype));
            if (!copy.is_none() && copy.cast<bool>()) return py::array(a.attr("copy")());
            return a;
          }, py::arg("dtype") = py::none(), py::arg("copy") = py::none())
      .def("__dlpack__", [](const Tensor& t, py::kwargs) {
            PYDL_CHECK(!t->requires_grad, RuntimeError, "[__dlpack__] Can't export tensors that require gradient, use tensor.detach()");
            return to_dlpack(t);
          })
      .def("__dlpack_device__", [](const Tensor& t) {
            Device d = t->device();  // (kDLCUDA = 2, index) for a GPU tensor
            return py::make_tuple(d.is_cpu() ? static_cast<int>(kDLCPU) : 2, d.is_cpu() ? 0 : d.index);
          })
      .def("item", [](const Tensor& t) -> py::object {
            double v = item(t);
            if (t->dtype == DType::Bool) return py::bool_(v != 0);
            if (t->dtype == DType::Int64) return py::int_(*t->data<int64_t>());
            return py::float_(v);
          })
      .def("tolist", [](const Tensor& t) { return to_numpy(t).attr("tolist")(); })
      .def("__len__", [](const Tensor& t) {
            PYDL_CHECK(t->dim() > 0, TypeError, "len() of a 0-d tensor");
            return t->shape[0];
          })
      .def("__bool__", [](const Tensor& t) {
            PYDL_CHECK(t->numel == 1, RuntimeError, "[bool] Boolean value of Tensor with more than one value is ambiguous");
            return item(t) != 0;
          })
      .def("__float__", [](const Tensor& t) { return item(t); })
      .def("__int__", [](const Tensor& t) -> int64_t {
            if (t->dtype == DType::Int64 && t->numel == 1) return *t->data<int64_t>();
            return static_cast<int64_t>(item(t));
          })
      .def("__index__", [](const Tensor& t) -> int64_t {
            PYDL_CHECK(t->numel == 1 && (t->dtype == DType::Int64 || t->dtype == DType::Bool), TypeError,
                       "only integer tensors of a single element can be converted to an index");
            return static_cast<int64_t>(item(t));
          })
      .def("__hash__", [](const Tensor& t) { return reinterpret_cast<intptr_t>(t.get()) >> 4; });


  // ---- operators ----
  struct BinOp { const char* name; const char* rname; const char* op; };
  const BinOp bins[] = {
      {"__add__", "__radd__", "add"}, {"__sub__", "__rsub__", "sub"}, {"__mul__", "__rmul__", "mul"},
      {"__truediv__", "__rtruediv__", "div"}, {"__pow__", "__rpow__", "pow"}, {"__matmul__", "__rmatmul__", "matmul"},
      {"__floordiv__", "__rfloordiv__", "floor_divide"}, {"__mod__", "__rmod__", "remainder"},
      {"__and__", "__rand__", "logical_and"}, {"__or__", "__ror__", "logical_or"}, {"__xor__", "__rxor__", "logical_xor"},
  };
  for (const BinOp& op : bins) {
    BinFn f = binary_function(op.op);
    // Tensor-Tensor first: the common case resolves on the first overload.
    t.def(op.name, [f](const Tensor& a, const Tensor& b) { return nogil(a->numel, [&] { return f(a, b); }); }, py::is_operator());
    t.def(op.name, [f](const Tensor& a, py::object b) { return binary_obj(f, a, b, false); }, py::is_operator());
    t.def(op.rname, [f](const Tensor& a, py::object b) { return binary_obj(f, a, b, true); }, py::is_operator());
  }
#define PYDL_BIND_DUNDER_CMP(NAME, KOP) {"__" #NAME "__", #NAME},
  const std::pair<const char*, const char*> cmps[] = {PYDL_COMPARE_OPS(PYDL_BIND_DUNDER_CMP)};
#undef PYDL_BIND_DUNDER_CMP
  for (auto& c : cmps) {
    BinFn f = binary_function(c.second);
    t.def(c.first, [f](const Tensor& a, const Tensor& b) { return f(a, b); }, py::is_operator());
    t.def(c.first, [f](const Tensor& a, py::object b) { return binary_obj(f, a, b, false); }, py::is_operator());
  }
  t.def("__neg__", [](const Tensor& a) { return neg(a); });
  t.def("__pos__", [](const Tensor& a) { return a; });
  t.def("__abs__", [](const Tensor& a) { return abs(a); });
  t.def("__invert__", [](const Tensor& a) {
    PYDL_CHECK(a->dtype == DType::Bool || a->dtype == DType::Int64, TypeError, "[bitwise_not] only integer and bool tensors, got ",
               dtype_name(a->dtype));
    if (a->dtype == DType::Bool) return compare(Cmp::Eq, a, scalar_tensor(0, DType::Bool));
    return sub(neg(a), scalar_tensor(1, DType::Int64));
  });

  // In-place operators return self so `x += y` keeps x.
  struct InOp { const char* name; void (*f)(const Tensor&, const Tensor&); };
  const InOp inops[] = {{"__isub__", &sub_}, {"__imul__", &mul_}, {"__itruediv__", &div_}};
  for (const InOp& op : inops) {
    auto f = op.f;
    t.def(op.name, [f](const Tensor& a, py::object b) { f(a, to_tensor(b, a, "inplace")); return a; }, py::is_operator());
  }
  t.def("__iadd__", [](const Tensor& a, py::object b) { add_(a, to_tensor(b, a, "add_")); return a; }, py::is_operator());

  // ---- the elementwise tables as methods: a.exp(), a.maximum(b), a.eq(b), ... ----
  // These take more arguments in Python (pydl/_tensor_methods.py): add(alpha=), sub(alpha=), pow, matmul(out=), round(decimals=).
  const std::set<std::string> in_python = {"add", "sub", "pow", "matmul", "round"};
  for (const auto& b : binary_functions()) {
    if (in_python.count(b.name)) continue;
    BinFn f = b.f;
    std::string name = b.name;
    t.def(b.name, [f, name](const Tensor& a, py::object other) {
      Tensor tb = to_tensor(other, a, name.c_str());
      return nogil(std::max(a->numel, tb->numel), [&] { return f(a, tb); });
    }, py::arg("other"));
  }
  for (const auto& u : unary_functions()) {
    if (in_python.count(u.name)) continue;
    UnFn f = u.f;
    t.def(u.name, [f](const Tensor& a) { return nogil(a->numel * 8, [&] { return f(a); }); });
  }

  // ---- indexing ----
  t.def("__getitem__", [](const Tensor& a, py::handle idx) {
    // the common single-int / single-slice cases skip the item vector's tensor parsing
    if (PyLong_Check(idx.ptr()) && !PyBool_Check(idx.ptr())) {
      TensorIndex it;
      it.kind = TensorIndex::Kind::Int;
      it.i = idx.cast<int64_t>();
      return getitem(a, {it});
    }
    std::vector<TensorIndex> items = parse_index(idx);
    return nogil(a->numel, [&] { return getitem(a, items); });
  });
  t.def("__setitem__", [](const Tensor& a, py::handle idx, py::handle value) {
    std::vector<TensorIndex> items = parse_index(idx);
    Tensor v = to_tensor(value, a, "setitem");
    nogil(a->numel, [&] { setitem(a, items, v); return 0; });
  });

  // ---- hooks ----
  py::class_<PostAccumulateGradHookHandle>(m, "PostAccumulateGradHookHandle")
      .def("remove", &PostAccumulateGradHookHandle::remove);
  // hook(tensor) runs once autograd has accumulated into tensor.grad (DDP starts its allreduce here).
  t.def("register_post_accumulate_grad_hook", [](const Tensor& t, py::function hook) {
        PYDL_CHECK(t->requires_grad, RuntimeError, "[register_post_accumulate_grad_hook] cannot register a hook on a "
                   "tensor that doesn't require gradient");
        PYDL_CHECK(t->is_leaf(), RuntimeError, "[register_post_accumulate_grad_hook] post accumulate grad hooks cannot "
                   "be registered on non-leaf tensors");
        static std::atomic<uint64_t> next_id{0};
        uint64_t id = next_id++;
        // Backward runs without the GIL: take it to call the hook and to drop the last reference.
        std::shared_ptr<py::object> fn(new py::object(hook), [](py::object* o) {
          py::gil_scoped_acquire gil;
          delete o;
        });
        t->post_accumulate_grad_hooks.push_back({id, [fn](const Tensor& v) {
          py::gil_scoped_acquire gil;
          (*fn)(py::cast(v));
        }});
        return PostAccumulateGradHookHandle{t, id};
      }, py::arg("hook"));

  m.attr("_tensor_methods") = t.names();
}

}  // namespace pydl
