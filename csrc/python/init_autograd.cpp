// Autograd entry points: backward, grad, grad mode, seeding.
#include "autograd/engine.h"
#include "core/rng.h"
#include "python/bind.h"

#include <unordered_set>

namespace pydl {

namespace {

// Makes `outputs` (computed without grad) results of a node over `inputs` whose backward calls the
// Python function backward(*grad_outputs) -> one gradient (or None) per input.
TensorList python_function(const TensorList& inputs, const TensorList& outputs, py::function backward) {
  if (!any_requires_grad(inputs)) return outputs;
  for (const Tensor& t : outputs)
    PYDL_CHECK(t && t->is_leaf(), RuntimeError, "[_python_function] outputs must be tensors computed without grad");
  std::shared_ptr<py::object> fn(new py::object(backward), [](py::object* o) {
    py::gil_scoped_acquire gil;
    delete o;
  });
  size_t n_in = inputs.size();
  auto node = make_node("PythonFunctionBackward", inputs, [fn, n_in](FunctionNode&, const TensorList& grads) {
    py::gil_scoped_acquire gil;
    py::tuple args(grads.size());
    for (size_t i = 0; i < grads.size(); ++i) args[i] = grads[i] ? py::cast(grads[i]) : py::none();
    py::object r = (*fn)(*args);
    py::tuple rt = py::isinstance<py::tuple>(r) || py::isinstance<py::list>(r) ? py::tuple(r) : py::make_tuple(r);
    PYDL_CHECK(rt.size() == n_in, RuntimeError, "[_python_function] backward returned ", rt.size(),
               " gradients for ", n_in, " inputs");
    TensorList out;
    for (auto g : rt) out.push_back(g.is_none() ? Tensor() : g.cast<Tensor>());
    return out;
  });
  set_history(outputs, node);
  return outputs;
}

// The leaf tensors whose gradients a backward from `roots` would accumulate (DDP's find_unused_parameters).
TensorList reachable_leaves(const TensorList& roots) {
  TensorList leaves;
  std::unordered_set<Node*> seen;
  std::vector<Node*> stack;
  for (const Tensor& r : roots)
    if (r && r->grad_fn && seen.insert(r->grad_fn.get()).second) stack.push_back(r->grad_fn.get());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (auto* acc = dynamic_cast<AccumulateGrad*>(n)) leaves.push_back(acc->variable);
    for (const Edge& e : n->next_edges)
      if (e.fn && seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
  }
  return leaves;
}

}  // namespace

void init_autograd(py::module_& m) {
  m.def("run_backward", [](const TensorList& roots, const std::vector<std::optional<Tensor>>& grads, bool retain_graph,
                           bool create_graph, const TensorList& inputs, bool allow_unused) {
        TensorList g;
        for (auto& x : grads) g.push_back(x ? *x : Tensor());
        NoGil r;
        return run_backward(roots, g, retain_graph, create_graph, inputs, allow_unused);
      }, py::arg("roots"), py::arg("grads"), py::arg("retain_graph"), py::arg("create_graph"), py::arg("inputs"),
      py::arg("allow_unused"));
  m.def("is_grad_enabled", &GradMode::is_enabled);
  m.def("set_grad_enabled", &GradMode::set_enabled);
  m.def("_python_function", &python_function, py::arg("inputs"), py::arg("outputs"), py::arg("backward"));
  m.def("_reachable_leaves", &reachable_leaves, py::arg("roots"));
  // For code that writes a tensor's memory from outside pydl's ops (MPI collectives): saved copies go stale.
  m.def("_bump_version", [](const Tensor& t) { t->bump_version(); });
  m.def("manual_seed", [](uint64_t s) {  // as torch.manual_seed: the CUDA generator too
    default_generator().manual_seed(s);
    cuda_generator().manual_seed(s);
  });
  m.def("cuda_manual_seed_all", [](uint64_t s) { cuda_generator().manual_seed(s); },
        "Seeds the generator of the CUDA kernels (dropout on the GPU) alone.");
  m.def("initial_seed", []() { return default_generator().initial_seed(); });
}

}  // namespace pydl
