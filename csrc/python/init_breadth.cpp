// Bindings for the issue-13 breadth ops (pydl._C.<name>): unary math, scans,
// CTC loss and the NAdam / RAdam / Adamax / ASGD / Rprop / SparseAdam steps. GIL released.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>

#include "autograd/node.h"
#include "ops/nn.h"
#include "python/bind.h"

namespace pydl {

namespace {
template <typename F>
auto nogil(F&& f) {
  NoGil r;
  return f();
}

// Tensor.register_hook: a Python function run on the tensor's gradient during backward (its result,
// when not None, replaces the gradient). A non-leaf's hook sits on its grad_fn; a leaf's on its
// gradient accumulator, which the registry keeps alive (and with it the leaf) until the handle is removed.
struct HookEntry {
  std::shared_ptr<std::atomic<bool>> alive;
  std::shared_ptr<Node> keep;  // a leaf's accumulator, else null
};
std::mutex hook_mutex;
std::map<int64_t, HookEntry> hook_registry;
std::atomic<int64_t> next_hook_id{1};

int64_t register_hook(const Tensor& t, py::function fn) {
  PYDL_CHECK(t->requires_grad, RuntimeError,
             "[register_hook] cannot register a hook on a tensor that doesn't require gradient");
  std::shared_ptr<Node> node;
  uint32_t slot = 0;
  std::shared_ptr<Node> keep;
  if (t->grad_fn) {
    node = t->grad_fn;
    slot = t->output_nr;
  } else {
    node = gradient_edge(t).fn;
    keep = node;
  }
  auto alive = std::make_shared<std::atomic<bool>>(true);
  // the Python callable is released with the GIL held, whichever thread frees the graph
  std::shared_ptr<py::function> pf(new py::function(std::move(fn)), [](py::function* f) {
    // A hook never removed is freed by the registry's static destructor, after the interpreter
    // is gone: then the callable is leaked, not decref'd (taking the GIL there would crash).
    if (!Py_IsInitialized()) {
      f->release();
      delete f;
      return;
    }
    py::gil_scoped_acquire g;
    delete f;
  });
  node->pre_hooks.push_back({slot, [pf, alive](const Tensor& grad) -> Tensor {
    if (!alive->load()) return Tensor();
    py::gil_scoped_acquire g;
    try {
      py::object r = (*pf)(grad);
      if (r.is_none()) return Tensor();
      PYDL_CHECK(py::isinstance<TensorImpl>(r), TypeError, "[register_hook] a hook must return None or a Tensor, got ",
                 std::string(py::str(py::type::handle_of(r).attr("__name__"))));
      Tensor out = r.cast<Tensor>();
      PYDL_CHECK(out->shape == grad->shape, RuntimeError, "[register_hook] the hook returned a gradient of shape ",
                 shape_str(out->shape), " for a gradient of shape ", shape_str(grad->shape));
      return out;
    } catch (py::error_already_set& e) {
      throw RuntimeError(str("[register_hook] the hook raised ", e.what()));
    }
  }});
  int64_t id = next_hook_id++;
  std::lock_guard<std::mutex> lock(hook_mutex);
  hook_registry[id] = {alive, keep};
  return id;
}

void remove_hook(int64_t id) {
  std::shared_ptr<Node> keep;
  {
    std::lock_guard<std::mutex> lock(hook_mutex);
    auto it = hook_registry.find(id);
    if (it == hook_registry.end()) return;
    it->second.alive->store(false);
    keep = std::move(it->second.keep);
    hook_registry.erase(it);
  }
}
}  // namespace

void init_breadth(py::module_& m) {
  // the rest of the unary math is bound from ops/unary_ops.h, the activations from ops/activation_ops.h
  m.def("trigamma", [](const Tensor& a) { return nogil([&] { return trigamma(a); }); }, py::arg("input"));

  m.def("cumprod", [](const Tensor& a, int64_t d) { return nogil([&] { return cumprod(a, d); }); });
  m.def("logcumsumexp", [](const Tensor& a, int64_t d) { return nogil([&] { return logcumsumexp(a, d); }); });
  m.def("cummax", [](const Tensor& a, int64_t d) { return nogil([&] { return cummax(a, d, true); }); });
  m.def("cummin", [](const Tensor& a, int64_t d) { return nogil([&] { return cummax(a, d, false); }); });

  m.def("searchsorted", [](const Tensor& s, const Tensor& v, bool right) { return nogil([&] { return searchsorted(s, v, right); }); });

  m.def("_register_hook", &register_hook, py::arg("tensor"), py::arg("hook"));
  // Hooks still registered at exit are dropped while Python can still free their callables.
  py::module_::import("atexit").attr("register")(py::cpp_function([] {
    std::map<int64_t, HookEntry> left;
    {
      std::lock_guard<std::mutex> lock(hook_mutex);
      left.swap(hook_registry);
    }
  }));
  m.def("_remove_hook", &remove_hook, py::arg("id"));

  m.def("ctc_loss", [](const Tensor& lp, const Tensor& tg, const Tensor& il, const Tensor& tl, int64_t blank, bool zi) {
    return nogil([&] { return ctc_loss(lp, tg, il, tl, blank, zi); });
  });

  using TL = TensorList;
  using Coefs = std::vector<std::vector<double>>;
  m.def("nadam_", [](const TL& p, const TL& g, const TL& m1, const TL& v, const Coefs& c, double lr, double b1, double b2,
                     double eps, double wd, bool dec, bool mx) { nogil([&] { nadam_(p, g, m1, v, c, lr, b1, b2, eps, wd, dec, mx); return 0; }); },
        "NAdam step in place; coefs[i] = (1 - beta2^t, grad coefficient, exp_avg coefficient).");
  m.def("radam_", [](const TL& p, const TL& g, const TL& m1, const TL& v, const Coefs& c, double lr, double b1, double b2,
                     double eps, double wd, bool dec, bool mx) { nogil([&] { radam_(p, g, m1, v, c, lr, b1, b2, eps, wd, dec, mx); return 0; }); },
        "RAdam step in place; coefs[i] = (1 - beta1^t, 1 - beta2^t, rectification or -1).");
  m.def("adamax_", [](const TL& p, const TL& g, const TL& m1, const TL& u, const Coefs& c, double lr, double b1, double b2,
                      double eps, double wd, bool mx) { nogil([&] { adamax_(p, g, m1, u, c, lr, b1, b2, eps, wd, mx); return 0; }); },
        "Adamax step in place; coefs[i] = (1 - beta1^t,).");
  m.def("asgd_", [](const TL& p, const TL& g, const TL& ax, const Coefs& c, double lambd, double wd, bool mx) {
    nogil([&] { asgd_(p, g, ax, c, lambd, wd, mx); return 0; });
  }, "ASGD step in place; coefs[i] = (eta, mu).");
  m.def("rprop_", [](const TL& p, const TL& g, const TL& prev, const TL& ss, double em, double ep, double smin, double smax,
                     bool mx) { nogil([&] { rprop_(p, g, prev, ss, em, ep, smin, smax, mx); return 0; }); },
        "Rprop step in place.");
  m.def("sparse_adam_", [](const TL& p, const TL& g, const TL& m1, const TL& v, const Coefs& c, double lr, double b1,
                           double b2, double eps, bool mx) { nogil([&] { sparse_adam_(p, g, m1, v, c, lr, b1, b2, eps, mx); return 0; }); },
        "SparseAdam step (dense gradients: entries with a zero gradient are skipped); coefs[i] = (1 - beta1^t, 1 - beta2^t).");
}

}  // namespace pydl
