// Bindings for the nn ops (pydl._C.<name>). Argument parsing (PyTorch defaults, tuples)
// lives in pydl/nn/functional.py; each binding releases the GIL around the op.
#include "ops/nn.h"
#include "python/bind.h"

namespace pydl {

namespace {
// Runs f without the GIL (nn ops are large enough that releasing it always pays).
template <typename F>
auto nogil(F&& f) {
  NoGil r;
  return f();
}
Tensor opt(const std::optional<Tensor>& t) { return t ? *t : Tensor(); }
using OT = std::optional<Tensor>;
// pydl._C.<name>(input, ...) for op f, run without the GIL.
template <typename... A>
void def_nogil(py::module_& m, const char* name, Tensor (*f)(const Tensor&, A...)) {
  m.def(name, [f](const Tensor& x, A... rest) { return nogil([&] { return f(x, rest...); }); });
}
}  // namespace

void init_nn(py::module_& m) {
  m.def("linear", [](const Tensor& x, const Tensor& w, OT b) { return nogil([&] { return linear(x, w, opt(b)); }); },
        py::arg("input"), py::arg("weight"), py::arg("bias") = py::none());
#define PYDL_BIND_ACT(NAME, ...) def_nogil(m, #NAME, &NAME);
  PYDL_ACTIVATIONS(PYDL_BIND_ACT)  // leaky_relu, ..., logsigmoid: ops/activation_ops.h
#undef PYDL_BIND_ACT
  m.def("softmax", [](const Tensor& x, int64_t d) { return nogil([&] { return softmax(x, d); }); });
  m.def("log_softmax", [](const Tensor& x, int64_t d) { return nogil([&] { return log_softmax(x, d); }); });
  m.def("dropout", [](const Tensor& x, double p, bool tr) { return nogil([&] { return dropout(x, p, tr); }); });

  m.def("cross_entropy", [](const Tensor& x, const Tensor& t, OT w, const std::string& red, int64_t ig, double ls) {
    Reduction r = parse_reduction(red, "cross_entropy");
    return nogil([&] { return cross_entropy(x, t, opt(w), r, ig, ls); });
  });
  m.def("nll_loss", [](const Tensor& x, const Tensor& t, OT w, const std::string& red, int64_t ig) {
    Reduction r = parse_reduction(red, "nll_loss");
    return nogil([&] { return nll_loss(x, t, opt(w), r, ig); });
  });
  m.def("mse_loss", [](const Tensor& x, const Tensor& y, const std::string& red) {
    Reduction r = parse_reduction(red, "mse_loss");
    return nogil([&] { return mse_loss(x, y, r); });
  });
  m.def("l1_loss", [](const Tensor& x, const Tensor& y, const std::string& red) {
    Reduction r = parse_reduction(red, "l1_loss");
    return nogil([&] { return l1_loss(x, y, r); });
  });
  m.def("smooth_l1_loss", [](const Tensor& x, const Tensor& y, const std::string& red, double beta) {
    Reduction r = parse_reduction(red, "smooth_l1_loss");
    return nogil([&] { return smooth_l1_loss(x, y, r, beta); });
  });
  m.def("binary_cross_entropy", [](const Tensor& x, const Tensor& y, OT w, const std::string& red) {
    Reduction r = parse_reduction(red, "binary_cross_entropy");
    return nogil([&] { return binary_cross_entropy(x, y, opt(w), r); });
  });
  m.def("binary_cross_entropy_with_logits", [](const Tensor& x, const Tensor& y, OT w, OT pw, const std::string& red) {
    Reduction r = parse_reduction(red, "binary_cross_entropy_with_logits");
    return nogil([&] { return binary_cross_entropy_with_logits(x, y, opt(w), opt(pw), r); });
  });

  m.def("conv2d", [](const Tensor& x, const Tensor& w, std::optional<Tensor> b, IntList stride, IntList padding,
                     IntList dilation, int64_t groups) {
    NoGil r;
    return conv2d(x, w, b ? *b : Tensor(), stride, padding, dilation, groups);
  }, py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
     py::arg("groups"));
  m.def("conv_transpose2d", [](const Tensor& x, const Tensor& w, std::optional<Tensor> b, IntList stride, IntList padding,
                               IntList output_padding, int64_t groups, IntList dilation) {
    NoGil r;
    return conv_transpose2d(x, w, b ? *b : Tensor(), stride, padding, output_padding, groups, dilation);
  });

  m.def("max_pool2d", [](const Tensor& x, IntList k, IntList s, IntList p, IntList d, bool ceil) {
    NoGil r;
    return max_pool2d(x, k, s, p, d, ceil);
  });
  m.def("avg_pool2d", [](const Tensor& x, IntList k, IntList s, IntList p, bool ceil, bool cip, std::optional<int64_t> dv) {
    NoGil r;
    return avg_pool2d(x, k, s, p, ceil, cip, dv);
  });
  m.def("adaptive_avg_pool2d", [](const Tensor& x, IntList os) {
    NoGil r;
    return adaptive_avg_pool2d(x, os);
  });
  m.def("adaptive_max_pool2d", [](const Tensor& x, IntList os) {
    NoGil r;
    return adaptive_max_pool2d(x, os);
  });
  m.def("batch_norm", [](const Tensor& x, OT rm, OT rv, OT w, OT b, bool training, double mom, double eps) {
    NoGil r;
    return batch_norm(x, opt(rm), opt(rv), opt(w), opt(b), training, mom, eps);
  });
  m.def("layer_norm", [](const Tensor& x, IntList ns, OT w, OT b, double eps) {
    NoGil r;
    return layer_norm(x, ns, opt(w), opt(b), eps);
  });
  m.def("embedding", [](const Tensor& w, const Tensor& idx, std::optional<int64_t> pad) {
    NoGil r;
    return embedding(w, idx, pad);
  });
  m.def("pad", [](const Tensor& x, IntList p, const std::string& mode, double value) {
    NoGil r;
    return pad(x, p, mode, value);
  });
}

}  // namespace pydl
