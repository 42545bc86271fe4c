// Parsing Python indices (for x[...] and x[...] = v, bound in init_tensor_methods.cpp), and the indexing ops as
// pydl._C functions.
#include "python/bind.h"
#include "ops/device.h"

namespace pydl {

namespace {

std::optional<int64_t> slice_part(const py::handle& h) {
  if (h.is_none()) return std::nullopt;
  try {
    return py::reinterpret_borrow<py::object>(h).attr("__index__")().cast<int64_t>();
  } catch (py::error_already_set&) {
    throw TypeError(str("[index] slice indices must be integers or None, got ", std::string(py::repr(h))));
  }
}

TensorIndex parse_item(const py::handle& h) {
  TensorIndex it;
  if (h.is_none()) { it.kind = TensorIndex::Kind::None; return it; }
  if (h.ptr() == Py_Ellipsis) { it.kind = TensorIndex::Kind::Ellipsis; return it; }
  if (py::isinstance<TensorImpl>(h)) { it.kind = TensorIndex::Kind::Tensor; it.t = h.cast<Tensor>(); return it; }
  if (PyBool_Check(h.ptr()) || py::isinstance(h, py::module_::import("numpy").attr("bool_"))) {
    it.kind = TensorIndex::Kind::Tensor;
    it.t = scalar_tensor(PyObject_IsTrue(h.ptr()) ? 1 : 0, DType::Bool);
    return it;
  }
  if (PyLong_Check(h.ptr()) || (PyIndex_Check(h.ptr()) && !py::isinstance<py::array>(h))) {
    it.kind = TensorIndex::Kind::Int;
    it.i = py::reinterpret_borrow<py::object>(h).attr("__index__")().cast<int64_t>();
    return it;
  }
  if (PySlice_Check(h.ptr())) {
    it.kind = TensorIndex::Kind::Slice;
    it.start = slice_part(h.attr("start"));
    it.stop = slice_part(h.attr("stop"));
    std::optional<int64_t> step = slice_part(h.attr("step"));
    it.step = step.value_or(1);
    return it;
  }
  if (py::isinstance<py::array>(h) && py::reinterpret_borrow<py::array>(h).ndim() == 0) {
    // a 0-d array indexes like the scalar it holds (an int selects, a bool adds a dim)
    return parse_item(py::reinterpret_borrow<py::object>(h).attr("item")());
  }
  if (PyRange_Check(h.ptr())) {  // x[range(n), y]: the positions it holds, like a list
    it.kind = TensorIndex::Kind::Tensor;
    it.t = arange(h.attr("start").cast<double>(), h.attr("stop").cast<double>(), h.attr("step").cast<double>(), DType::Int64);
    return it;
  }
  if (py::isinstance<py::list>(h) || py::isinstance<py::array>(h)) {
    Tensor t = to_tensor(h, Tensor(), "index");
    // [] comes back as float64 from NumPy: an empty index list means int64
    if (t->numel == 0 && t->dtype != DType::Bool) t = empty(t->shape, DType::Int64);
    it.kind = TensorIndex::Kind::Tensor;
    it.t = t;
    return it;
  }
  throw IndexError(str("[index] only integers, slices (`:`), ellipsis (`...`), None, lists, ranges and int64 or bool tensors "
                       "are valid indices (got ", std::string(py::str(py::type::handle_of(h).attr("__name__"))), ")"));
}

TensorList parse_indices(const py::handle& obj) {
  TensorList out;
  for (auto h : obj) out.push_back(h.is_none() ? Tensor() : to_tensor(h, Tensor(), "index"));
  return out;
}

double fill_value(const py::handle& v, const char* op) {
  if (py::isinstance<TensorImpl>(v)) {
    Tensor t = v.cast<Tensor>();
    PYDL_CHECK(t->dim() == 0, ValueError, "[", op, "] only supports a 0-dimensional value tensor, but got tensor with ",
               t->dim(), " dimension(s)");
    return item(t);
  }
  double d;
  bool is_int;
  PYDL_CHECK(as_scalar(v, d, is_int), TypeError, "[", op, "] value must be a number or a 0-d tensor, got ",
             std::string(py::str(py::type::handle_of(v).attr("__name__"))));
  return d;
}

}  // namespace

std::vector<TensorIndex> parse_index(const py::handle& idx) {
  std::vector<TensorIndex> items;
  if (py::isinstance<py::tuple>(idx)) {
    for (auto h : idx) items.push_back(parse_item(h));
  } else {
    items.push_back(parse_item(idx));
  }
  return items;
}

void init_indexing(py::module_& m) {
  m.def("getitem", [](const Tensor& a, py::handle idx) { return getitem(a, parse_index(idx)); });
  m.def("index", [](const Tensor& a, py::handle indices) { return index(a, parse_indices(indices)); });
  m.def("index_select", [](const Tensor& a, int64_t dim, const Tensor& idx) {
    return nogil(idx->numel * 64, [&] { return index_select(a, dim, idx); });
  }, py::arg("input"), py::arg("dim"), py::arg("index"));
  m.def("gather", [](const Tensor& a, int64_t dim, const Tensor& idx) {
    return nogil(idx->numel, [&] { return gather(a, dim, idx); });
  }, py::arg("input"), py::arg("dim"), py::arg("index"));
  m.def("scatter_add", [](const Tensor& a, int64_t dim, const Tensor& idx, const Tensor& src) {
    return nogil(a->numel + idx->numel, [&] { return scatter_add(a, dim, idx, src); });
  }, py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("src"));
  m.def("scatter_add_", [](const Tensor& a, int64_t dim, const Tensor& idx, const Tensor& src) {
    nogil(idx->numel, [&] { scatter_add_(a, dim, idx, src); return 0; });
    return a;
  }, py::arg("self"), py::arg("dim"), py::arg("index"), py::arg("src"));
  m.def("index_put_", [](const Tensor& a, py::handle indices, py::handle values, bool accumulate) {
    TensorList idx = parse_indices(indices);
    Tensor v = to_tensor(values, a, "index_put_");
    nogil(a->numel, [&] { index_put_(a, idx, v, accumulate); return 0; });
    return a;
  }, py::arg("self"), py::arg("indices"), py::arg("values"), py::arg("accumulate") = false);
  m.def("index_put", [](const Tensor& a, py::handle indices, py::handle values, bool accumulate) {
    TensorList idx = parse_indices(indices);
    Tensor v = to_tensor(values, a, "index_put");
    return nogil(a->numel, [&] { return index_put(a, idx, v, accumulate); });
  }, py::arg("input"), py::arg("indices"), py::arg("values"), py::arg("accumulate") = false);
  m.def("nonzero", [](const Tensor& a) { return nogil(a->numel, [&] { return nonzero(a); }); });
  m.def("scatter", [](const Tensor& a, int64_t dim, const Tensor& idx, py::handle src) {
    // a scalar src goes to input's device (a CUDA input takes a CUDA src)
    Tensor s = py::isinstance<TensorImpl>(src) ? src.cast<Tensor>()
                                               : expand(to_device(to_tensor(src, a, "scatter"), a->device(), false), idx->shape);
    return nogil(a->numel + idx->numel, [&] { return scatter(a, dim, idx, s); });
  }, py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("src"));
  m.def("scatter_", [](const Tensor& a, int64_t dim, const Tensor& idx, py::handle src) {
    // a scalar src goes to input's device (a CUDA input takes a CUDA src)
    Tensor s = py::isinstance<TensorImpl>(src) ? src.cast<Tensor>()
                                               : expand(to_device(to_tensor(src, a, "scatter_"), a->device(), false), idx->shape);
    nogil(idx->numel, [&] { scatter_(a, dim, idx, s); return 0; });
    return a;
  }, py::arg("self"), py::arg("dim"), py::arg("index"), py::arg("src"));
  m.def("masked_fill", [](const Tensor& a, const Tensor& mask, py::handle v) {
    if (py::isinstance<TensorImpl>(v) && v.cast<Tensor>()->requires_grad) return masked_fill(a, mask, v.cast<Tensor>());
    return masked_fill(a, mask, fill_value(v, "masked_fill"));
  }, py::arg("input"), py::arg("mask"), py::arg("value"));
  m.def("masked_fill_", [](const Tensor& a, const Tensor& mask, py::handle v) {
    if (py::isinstance<TensorImpl>(v) && v.cast<Tensor>()->requires_grad) {
      // differentiable in the value: out of place, then written back like any in-place op
      Tensor r = masked_fill(a, mask, v.cast<Tensor>());
      index_put_(a, {}, r, false);
      return a;
    }
    masked_fill_(a, mask, fill_value(v, "masked_fill_"));
    return a;
  }, py::arg("self"), py::arg("mask"), py::arg("value"));
  m.def("masked_select", &masked_select, py::arg("input"), py::arg("mask"));
  m.def("sort", [](const Tensor& a, int64_t dim, bool descending) {
    return nogil(a->numel * 8, [&] { return sort(a, dim, descending); });
  }, py::arg("input"), py::arg("dim") = -1, py::arg("descending") = false);
  m.def("topk", [](const Tensor& a, int64_t k, int64_t dim, bool largest) {
    return nogil(a->numel * 8, [&] { return topk(a, k, dim, largest); });
  }, py::arg("input"), py::arg("k"), py::arg("dim") = -1, py::arg("largest") = true);
  m.def("cumsum", &cumsum, py::arg("input"), py::arg("dim"));
  m.def("one_hot", &one_hot, py::arg("tensor"), py::arg("num_classes") = -1);
}

}  // namespace pydl
