// Autograd entry points: backward, grad, grad mode, seeding.
#include "autograd/engine.h"
#include "core/rng.h"
#include "python/bind.h"

namespace pydl {

void init_autograd(py::module_& m) {
  m.def("run_backward", [](const TensorList& roots, const std::vector<std::optional<Tensor>>& grads, bool retain_graph,
                           bool create_graph, const TensorList& inputs, bool allow_unused) {
        TensorList g;
        for (auto& x : grads) g.push_back(x ? *x : Tensor());
        py::gil_scoped_release r;
        return run_backward(roots, g, retain_graph, create_graph, inputs, allow_unused);
      }, py::arg("roots"), py::arg("grads"), py::arg("retain_graph"), py::arg("create_graph"), py::arg("inputs"),
      py::arg("allow_unused"));
  m.def("is_grad_enabled", &GradMode::is_enabled);
  m.def("set_grad_enabled", &GradMode::set_enabled);
  m.def("manual_seed", [](uint64_t s) { default_generator().manual_seed(s); });
  m.def("initial_seed", []() { return default_generator().initial_seed(); });
}

}  // namespace pydl
