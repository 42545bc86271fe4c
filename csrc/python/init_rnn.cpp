// Bindings for the recurrent layer op (pydl._C.rnn_layer).
#include "ops/rnn.h"
#include "python/bind.h"

namespace pydl {

void init_rnn(py::module_& m) {
  m.def("rnn_layer",
        [](int mode, const Tensor& x, const Tensor& h0, std::optional<Tensor> c0, const Tensor& w_ih, const Tensor& w_hh,
           std::optional<Tensor> b_ih, std::optional<Tensor> b_hh, bool reverse, std::optional<Tensor> lengths) {
          NoGil r;
          return rnn_layer(mode, x, h0, c0.value_or(Tensor()), w_ih, w_hh, b_ih.value_or(Tensor()),
                           b_hh.value_or(Tensor()), reverse, lengths.value_or(Tensor()));
        },
        py::arg("mode"), py::arg("input"), py::arg("h0"), py::arg("c0"), py::arg("w_ih"), py::arg("w_hh"),
        py::arg("b_ih"), py::arg("b_hh"), py::arg("reverse"), py::arg("lengths"),
        "One direction of one recurrent layer over a (T, B, I) sequence: [output, h_n, c_n].");
}

}  // namespace pydl
