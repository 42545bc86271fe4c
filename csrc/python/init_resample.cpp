// Bindings for the resampling ops (pydl._C.interpolate, im2col, col2im).
#include "ops/resample.h"
#include "python/bind.h"

namespace pydl {

void init_resample(py::module_& m) {
  m.def("interpolate", [](const Tensor& x, IntList size, std::vector<double> scales, const std::string& mode, bool align,
                          bool aa) {
    NoGil r;
    return interpolate(x, size, scales, mode, align, aa);
  }, py::arg("input"), py::arg("size"), py::arg("scales"), py::arg("mode"), py::arg("align_corners"),
     py::arg("antialias") = false);
  m.def("im2col", [](const Tensor& x, IntList k, IntList d, IntList p, IntList s) {
    NoGil r;
    return im2col(x, k, d, p, s);
  }, py::arg("input"), py::arg("kernel_size"), py::arg("dilation"), py::arg("padding"), py::arg("stride"));
  m.def("col2im", [](const Tensor& x, IntList os, IntList k, IntList d, IntList p, IntList s) {
    NoGil r;
    return col2im(x, os, k, d, p, s);
  }, py::arg("input"), py::arg("output_size"), py::arg("kernel_size"), py::arg("dilation"), py::arg("padding"),
     py::arg("stride"));
}

}  // namespace pydl
