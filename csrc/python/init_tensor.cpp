// The Tensor class (its methods: init_tensor_methods.cpp), NumPy / buffer / DLPack interop, conversions.
#include <cstring>

#include "python/bind.h"
#include "python/dlpack.h"

namespace pydl {

namespace {

const char* np_format(DType dt) {
  switch (dt) {
    case DType::Float32: return "f";
    case DType::Float64: return "d";
    case DType::Int64: return "q";
    case DType::Bool: return "?";
  }
  return "?";
}

py::dtype np_dtype(DType dt) {
  switch (dt) {
    case DType::Float32: return py::dtype::of<float>();
    case DType::Float64: return py::dtype::of<double>();
    case DType::Int64: return py::dtype::of<int64_t>();
    case DType::Bool: return py::dtype::of<bool>();
  }
  return py::dtype::of<float>();
}

bool dtype_from_numpy(const py::dtype& d, DType& out) {
  char k = d.kind();
  size_t sz = d.itemsize();
  if (k == 'f' && sz == 4) { out = DType::Float32; return true; }
  if (k == 'f' && sz == 8) { out = DType::Float64; return true; }
  if (k == 'i' && sz == 8) { out = DType::Int64; return true; }
  if (k == 'b') { out = DType::Bool; return true; }
  return false;
}

// Wraps a NumPy array's memory in a Tensor (no copy); the tensor keeps the array alive.
Tensor wrap_numpy(const py::array& arr, const char* op) {
  DType dt;
  if (!dtype_from_numpy(arr.dtype(), dt))
    throw TypeError(str("[", op, "] can't convert np.ndarray of type numpy.", std::string(py::str(arr.dtype())),
                        ". The only supported types are: float64, float32, int64, and bool."));
  int64_t nd = arr.ndim();
  Shape shape(nd), strides(nd);
  int64_t isz = static_cast<int64_t>(itemsize(dt));
  int64_t span = 1;
  for (int64_t i = 0; i < nd; ++i) {
    shape[i] = arr.shape(i);
    int64_t sb = arr.strides(i);
    PYDL_CHECK(sb >= 0, ValueError, "[", op, "] at least one stride in the given numpy array is negative; make a copy "
               "first (array.copy())");
    PYDL_CHECK(sb % isz == 0, ValueError, "[", op, "] given numpy array strides not a multiple of the element byte size");
    strides[i] = sb / isz;
    if (shape[i] > 0) span += (shape[i] - 1) * strides[i];
  }
  auto* keep = new py::object(arr);
  std::shared_ptr<void> owner(keep, [](void* p) {
    py::gil_scoped_acquire gil;
    delete static_cast<py::object*>(p);
  });
  auto storage = std::make_shared<Storage>(const_cast<void*>(arr.data()), static_cast<size_t>(span * isz), std::move(owner));
  return std::make_shared<TensorImpl>(std::move(storage), shape, strides, 0, dt);
}

Tensor from_dlpack_capsule(py::capsule cap) {
  PYDL_CHECK(std::string(cap.name()) == "dltensor", ValueError, "[from_dlpack] expected a DLPack capsule named 'dltensor' "
             "(it may have been consumed already), got '", cap.name(), "'");
  auto* mt = static_cast<DLManagedTensor*>(cap.get_pointer());
  const DLTensor& t = mt->dl_tensor;
  PYDL_CHECK(t.device.device_type == kDLCPU, RuntimeError, "[from_dlpack] only CPU tensors are supported, got device type ",
             t.device.device_type);
  DType dt;
  if (t.dtype.code == kDLFloat && t.dtype.bits == 32) dt = DType::Float32;
  else if (t.dtype.code == kDLFloat && t.dtype.bits == 64) dt = DType::Float64;
  else if (t.dtype.code == kDLInt && t.dtype.bits == 64) dt = DType::Int64;
  else if (t.dtype.code == kDLBool || (t.dtype.code == kDLUInt && t.dtype.bits == 8 && false)) dt = DType::Bool;
  else throw TypeError(str("[from_dlpack] unsupported DLPack dtype (code ", int(t.dtype.code), ", bits ", int(t.dtype.bits), ")"));
  PYDL_CHECK(t.dtype.lanes == 1, TypeError, "[from_dlpack] vector dtypes are not supported");
  Shape shape(t.shape, t.shape + t.ndim);
  Shape strides = t.strides ? Shape(t.strides, t.strides + t.ndim) : contiguous_strides(shape);
  int64_t span = 1;
  for (int i = 0; i < t.ndim; ++i) {
    PYDL_CHECK(strides[i] >= 0, ValueError, "[from_dlpack] negative strides are not supported");
    if (shape[i] > 0) span += (shape[i] - 1) * strides[i];
  }
  std::shared_ptr<void> owner(mt, [](void* p) {
    auto* m = static_cast<DLManagedTensor*>(p);
    if (m->deleter) m->deleter(m);
  });
  PyCapsule_SetName(cap.ptr(), "used_dltensor");
  void* data = static_cast<char*>(t.data) + t.byte_offset;
  auto storage = std::make_shared<Storage>(data, static_cast<size_t>(span) * itemsize(dt), std::move(owner));
  return std::make_shared<TensorImpl>(std::move(storage), shape, strides, 0, dt);
}

// The buffer protocol (memoryview(t), bytes(t)): the view's owner is a block holding the
// storage and the geometry, so the memory outlives a later `t.data = ...`.
struct BufferView {
  ExportedStorage storage;
  std::vector<Py_ssize_t> shape, strides;
};

int tensor_getbuffer(PyObject* obj, Py_buffer* view, int flags) {
  view->obj = nullptr;
  Tensor t;
  try {
    t = py::handle(obj).cast<Tensor>();
  } catch (...) {
    PyErr_SetString(PyExc_BufferError, "[buffer] not a pydl Tensor");
    return -1;
  }
  if ((flags & PyBUF_STRIDES) != PyBUF_STRIDES && !t->is_contiguous()) {
    PyErr_SetString(PyExc_BufferError, "[buffer] the tensor is not contiguous; call .contiguous() first");
    return -1;
  }
  auto* bv = new BufferView{ExportedStorage(t->storage), {t->shape.begin(), t->shape.end()}, {}};
  for (int64_t st : t->strides) bv->strides.push_back(static_cast<Py_ssize_t>(st * static_cast<int64_t>(t->itemsize())));
  PyObject* owner = PyCapsule_New(bv, "pydl.buffer", [](PyObject* cap) {
    delete static_cast<BufferView*>(PyCapsule_GetPointer(cap, "pydl.buffer"));
  });
  if (!owner) { delete bv; return -1; }
  view->obj = owner;
  view->buf = t->raw();
  view->itemsize = static_cast<Py_ssize_t>(t->itemsize());
  view->len = static_cast<Py_ssize_t>(t->numel) * view->itemsize;
  view->readonly = 0;
  view->format = (flags & PyBUF_FORMAT) ? const_cast<char*>(np_format(t->dtype)) : nullptr;
  view->ndim = static_cast<int>(t->dim());
  view->shape = (flags & PyBUF_ND) ? bv->shape.data() : nullptr;
  view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? bv->strides.data() : nullptr;
  view->suboffsets = nullptr;
  view->internal = nullptr;
  return 0;
}

struct DLPackCtx {
  ExportedStorage storage;  // not the tensor: its storage may be swapped (x.data = y)
  Shape shape, strides;
  DLManagedTensor mt;
};

}  // namespace

py::capsule to_dlpack(const Tensor& t) {
  PYDL_CHECK(t->device().is_cpu(), RuntimeError, "[to_dlpack] only CPU tensors can be exported, got a tensor on ",
             t->device().str(), "; use .cpu() first");
  auto* ctx = new DLPackCtx{ExportedStorage(t->storage), t->shape, t->strides, {}};
  DLTensor& d = ctx->mt.dl_tensor;
  d.data = t->storage->data;
  d.byte_offset = static_cast<uint64_t>(t->offset) * t->itemsize();
  d.device = {kDLCPU, 0};
  d.ndim = static_cast<int32_t>(t->dim());
  switch (t->dtype) {
    case DType::Float32: d.dtype = {kDLFloat, 32, 1}; break;
    case DType::Float64: d.dtype = {kDLFloat, 64, 1}; break;
    case DType::Int64: d.dtype = {kDLInt, 64, 1}; break;
    case DType::Bool: d.dtype = {kDLBool, 8, 1}; break;
  }
  d.shape = ctx->shape.data();
  d.strides = ctx->strides.data();
  ctx->mt.manager_ctx = ctx;
  ctx->mt.deleter = [](DLManagedTensor* self) { delete static_cast<DLPackCtx*>(self->manager_ctx); };
  return py::capsule(&ctx->mt, "dltensor", [](PyObject* cap) {
    // Only an unconsumed capsule still owns the tensor.
    if (PyCapsule_IsValid(cap, "dltensor")) {
      auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, "dltensor"));
      if (m && m->deleter) m->deleter(m);
    }
  });
}

// A Python object owning a reference to `s`: what exported memory (NumPy, buffer views)
// keeps alive. Not the tensor: `x.data = y` swaps the storage under a live tensor handle.
py::capsule storage_owner(const std::shared_ptr<Storage>& s) {
  return py::capsule(new ExportedStorage(s), "pydl.storage",
                     [](PyObject* cap) { delete static_cast<ExportedStorage*>(PyCapsule_GetPointer(cap, "pydl.storage")); });
}

py::array to_numpy(const Tensor& t) {
  PYDL_CHECK(t->device().is_cpu(), TypeError, "[numpy] can't convert ", t->device().str(), " device type tensor to "
             "numpy. Use Tensor.cpu() to copy the tensor to host memory first.");
  Shape sb(t->strides);
  for (auto& s : sb) s *= static_cast<int64_t>(t->itemsize());
  return py::array(np_dtype(t->dtype), t->shape, sb, t->raw(), storage_owner(t->storage));
}

bool as_scalar(const py::handle& obj, double& out, bool& is_int) {
  if (PyBool_Check(obj.ptr())) { out = obj.ptr() == Py_True; is_int = true; return true; }
  if (PyLong_Check(obj.ptr())) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
    if (overflow) throw ValueError("[scalar] Python int too large to convert to int64");
    out = static_cast<double>(v);
    is_int = true;
    return true;
  }
  if (PyFloat_Check(obj.ptr())) { out = PyFloat_AS_DOUBLE(obj.ptr()); is_int = false; return true; }
  if (py::isinstance<py::array>(obj) || !PyObject_HasAttrString(obj.ptr(), "dtype")) return false;
  // NumPy scalars (np.float32(2), np.int64(3))
  py::object np = py::module_::import("numpy");
  if (py::isinstance(obj, np.attr("integer")) || py::isinstance(obj, np.attr("bool_"))) {
    out = obj.cast<double>(); is_int = true; return true;
  }
  if (py::isinstance(obj, np.attr("floating"))) { out = obj.cast<double>(); is_int = false; return true; }
  return false;
}

Tensor to_tensor(const py::handle& obj, const Tensor& like, const char* op) {
  if (py::isinstance<TensorImpl>(obj)) return obj.cast<Tensor>();
  double v;
  bool is_int;
  if (like && PyBool_Check(obj.ptr()) && like->dtype == DType::Bool) return scalar_tensor(obj.ptr() == Py_True, DType::Bool);
  if (like && PyLong_Check(obj.ptr()) && !is_floating(like->dtype)) {
    // exact: an int scalar for an integer tensor must not pass through a double (2**62 + 1)
    int overflow = 0;
    long long iv = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
    PYDL_CHECK(!overflow, ValueError, "[", op, "] Python int too large to convert to int64");
    Tensor t = empty({}, DType::Int64);
    *t->data<int64_t>() = iv;
    return t;
  }
  if (like && as_scalar(obj, v, is_int)) return wrap_scalar(v, is_int, like);
  py::object np = py::module_::import("numpy");
  py::array arr;
  try {
    arr = np.attr("asarray")(obj);
  } catch (py::error_already_set& e) {
    // NumPy says why (a ragged list, a list nested too deep, an object without __array__)
    std::string why = py::str(e.value());
    throw TypeError(str("[", op, "] expected a Tensor, number or array-like, got ",
                        std::string(py::str(py::type::handle_of(obj).attr("__name__"))), why.empty() ? "" : " (", why.substr(0, 200),
                        why.empty() ? "" : ")"));
  }
  char k = arr.dtype().kind();
  std::string target;
  // Python floats become float32; NumPy arrays and scalars (np.float64(2.0)) keep float64, like torch
  bool from_numpy = py::isinstance<py::array>(obj) || py::isinstance(obj, np.attr("generic"));
  if (k == 'f') target = (!from_numpy || arr.dtype().itemsize() < 4) ? "float32" : (arr.dtype().itemsize() == 4 ? "float32" : "float64");
  else if (k == 'i' || k == 'u') {
    target = "int64";
    if (k == 'u' && arr.dtype().itemsize() == 8 && arr.size() > 0 &&
        np.attr("any")(np.attr("greater")(arr, py::int_(INT64_MAX))).cast<bool>())
      throw ValueError(str("[", op, "] value out of range for int64 (Python ints must be < 2**63)"));
  }
  else if (k == 'b') target = "bool";
  else
    throw TypeError(str("[", op, "] can't convert an array of dtype ", std::string(py::str(arr.dtype())),
                        " to a tensor; supported: float32, float64, int64, bool"));
  arr = np.attr("asarray")(arr, target, py::arg("order") = "C");  // ascontiguousarray would make 0-d 1-d
  return contiguous_copy(wrap_numpy(arr, op));
}

Shape parse_shape(const py::args& args, const char* op) {
  Shape s;
  if (args.size() == 1 && !PyLong_Check(args[0].ptr())) {
    try {
      for (auto h : args[0]) s.push_back(h.cast<int64_t>());
    } catch (py::cast_error&) {
      throw TypeError(str("[", op, "] size must be a sequence of ints, got ", std::string(py::repr(args[0]))));
    } catch (py::error_already_set&) {
      throw TypeError(str("[", op, "] size must be a sequence of ints, got ", std::string(py::repr(args[0]))));
    }
    return s;
  }
  for (auto h : args) {
    PYDL_CHECK(PyLong_Check(h.ptr()) || PyObject_HasAttrString(h.ptr(), "__index__"), TypeError, "[", op,
               "] size must be ints, got ", std::string(py::repr(h)));
    s.push_back(h.cast<int64_t>());
  }
  return s;
}

DType parse_dtype(const py::handle& obj, const char* op) {
  if (py::isinstance<DType>(obj)) return obj.cast<DType>();
  if (obj.ptr() == reinterpret_cast<PyObject*>(&PyFloat_Type)) return DType::Float32;
  if (obj.ptr() == reinterpret_cast<PyObject*>(&PyLong_Type)) return DType::Int64;
  if (obj.ptr() == reinterpret_cast<PyObject*>(&PyBool_Type)) return DType::Bool;
  try {
    py::object np = py::module_::import("numpy");
    py::dtype d = np.attr("dtype")(obj);
    DType dt;
    if (dtype_from_numpy(d, dt)) return dt;
  } catch (py::error_already_set&) {
  }
  throw TypeError(str("[", op, "] unsupported dtype ", std::string(py::repr(obj)), "; use pydl.float32, float64, int64 or bool"));
}

// pydl.Size, registered from Python at import (_set_size_type); shapes are built as it.
// A leaked reference: it must outlive every tensor, and the interpreter's teardown order.
static PyObject* size_type = nullptr;

py::object as_size(const Shape& s) {
  py::tuple t = py::cast(s);
  if (!size_type) return std::move(t);
  return py::reinterpret_borrow<py::object>(size_type)(t);
}

void init_tensor(py::module_& m) {
  m.def("_set_size_type", [](py::object cls) { Py_XDECREF(size_type); size_type = cls.release().ptr(); });
  py::enum_<DType>(m, "dtype")
      .value("bool", DType::Bool)
      .value("int64", DType::Int64)
      .value("float32", DType::Float32)
      .value("float64", DType::Float64)
      .def("__repr__", [](DType d) { return std::string("pydl.") + dtype_name(d); })
      .def("__str__", [](DType d) { return std::string("pydl.") + dtype_name(d); })
      .def_property_readonly("is_floating_point", [](DType d) { return is_floating(d); })
      .def_property_readonly("itemsize", [](DType d) { return itemsize(d); });

  py::class_<Node, std::shared_ptr<Node>>(m, "Node")
      .def("name", [](const Node& n) { return std::string(n.name()); })
      .def("__repr__", [](const Node& n) { return str("<", n.name(), " object>"); })
      .def_property_readonly("next_functions", [](const Node& n) {
        py::list l;
        for (const Edge& e : n.next_edges) l.append(py::make_tuple(e.fn ? py::cast(e.fn) : py::none(), e.input_nr));
        return py::tuple(l);
      });

  TensorClass cls(m, "Tensor", py::buffer_protocol(), py::dynamic_attr());
  auto* heap = reinterpret_cast<PyHeapTypeObject*>(cls.ptr());
  heap->as_buffer.bf_getbuffer = tensor_getbuffer;
  heap->as_buffer.bf_releasebuffer = nullptr;

  m.def("from_numpy", [](py::object obj) {
        PYDL_CHECK(py::isinstance<py::array>(obj), TypeError, "[from_numpy] expected np.ndarray (got ",
                   std::string(py::str(py::type::handle_of(obj).attr("__name__"))), ")");
        py::array arr = obj.cast<py::array>();
        char order = arr.dtype().attr("byteorder").cast<std::string>()[0];
        PYDL_CHECK(order != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? '>' : '<'), ValueError, "[from_numpy] the array's byte order is not "
                   "native (dtype ", std::string(py::str(arr.dtype())), "); convert it first: "
                   "array.astype(array.dtype.newbyteorder('='))");
        if (!arr.writeable() &&
            PyErr_WarnEx(PyExc_UserWarning, "[from_numpy] the given NumPy array is not writable; the tensor shares its "
                         "memory, so writing to the tensor is undefined behaviour. Copy the array (or use "
                         "pydl.tensor) to write to it.", 1) != 0)
          throw py::error_already_set();
        return wrap_numpy(arr, "from_numpy");
      }, py::arg("ndarray"), "A tensor sharing memory with a NumPy array (zero copy).");
  m.def("from_dlpack", [](py::object obj) {
        if (py::isinstance<py::capsule>(obj)) return from_dlpack_capsule(obj.cast<py::capsule>());
        PYDL_CHECK(py::hasattr(obj, "__dlpack__"), TypeError, "[from_dlpack] object has no __dlpack__ method");
        return from_dlpack_capsule(obj.attr("__dlpack__")().cast<py::capsule>());
      }, py::arg("ext_tensor"), "A tensor sharing memory with a DLPack-exporting object (zero copy).");
  m.def("_to_tensor", [](py::object obj, std::optional<DType> dtype) {
        if (dtype && !py::isinstance<TensorImpl>(obj) && !py::isinstance<py::array>(obj)) {
          // Python numbers go straight to the requested dtype: through float32 first, 0.1 as
          // float64 would read 0.10000000149 and 1e39 would be inf.
          py::object np = py::module_::import("numpy");
          try {
            obj = np.attr("asarray")(obj, np_dtype(*dtype));
          } catch (py::error_already_set& e) {
            if (!e.matches(PyExc_ValueError) && !e.matches(PyExc_TypeError) && !e.matches(PyExc_OverflowError)) throw;
            throw TypeError(str("[tensor] could not convert ", std::string(py::str(py::type::handle_of(obj).attr("__name__"))),
                                " to a ", dtype_name(*dtype), " tensor: ", e.what()));
          }
        }
        Tensor t = py::isinstance<TensorImpl>(obj) ? contiguous_copy(obj.cast<Tensor>()) : to_tensor(obj, Tensor(), "tensor");
        return dtype ? cast_raw(t, *dtype) : t;
      }, py::arg("data"), py::arg("dtype") = py::none());
  m.def("_parse_dtype", [](py::object obj) { return parse_dtype(obj, "dtype"); });
}

}  // namespace pydl
