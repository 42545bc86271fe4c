// Bindings for the attention ops (pydl._C.scaled_dot_product_attention).
#include "ops/attention.h"
#include "python/bind.h"

namespace pydl {

void init_attention(py::module_& m) {
  m.def("scaled_dot_product_attention",
        [](const Tensor& q, const Tensor& k, const Tensor& v, std::optional<Tensor> mask, double p, bool causal,
           std::optional<double> scale, bool gqa) {
          NoGil r;
          return scaled_dot_product_attention(q, k, v, mask ? *mask : Tensor(), p, causal, scale, gqa);
        },
        py::arg("query"), py::arg("key"), py::arg("value"), py::arg("attn_mask") = py::none(), py::arg("dropout_p") = 0.0,
        py::arg("is_causal") = false, py::arg("scale") = py::none(), py::arg("enable_gqa") = false);
}

}  // namespace pydl
