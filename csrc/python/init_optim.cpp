// Bindings for the fused optimizer steps (pydl._C.<name>_): in place, GIL released.
#include "ops/nn.h"
#include "python/bind.h"

namespace pydl {

void init_optim(py::module_& m) {
  using TL = TensorList;
  m.def("sgd_", [](const TL& p, const TL& g, const TL& buf, const std::vector<bool>& fresh, double lr, double mom,
                   double damp, double wd, bool nesterov, bool maximize) {
    NoGil r;
    sgd_(p, g, buf, fresh, lr, mom, damp, wd, nesterov, maximize);
  }, py::arg("params"), py::arg("grads"), py::arg("momentum_buffers"), py::arg("fresh"), py::arg("lr"), py::arg("momentum"),
     py::arg("dampening"), py::arg("weight_decay"), py::arg("nesterov"), py::arg("maximize"),
     "SGD step in place over a list of parameters.");
  m.def("adam_", [](const TL& p, const TL& g, const TL& m1, const TL& v, const TL& vmax, const std::vector<int64_t>& steps,
                    double lr, double b1, double b2, double eps, double wd, bool amsgrad, bool maximize, bool decoupled) {
    NoGil r;
    adam_(p, g, m1, v, vmax, steps, lr, b1, b2, eps, wd, amsgrad, maximize, decoupled);
  }, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"), py::arg("max_exp_avg_sqs"),
     py::arg("steps"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
     py::arg("amsgrad"), py::arg("maximize"), py::arg("decoupled_weight_decay"),
     "Adam / AdamW step in place over a list of parameters.");
  m.def("rmsprop_", [](const TL& p, const TL& g, const TL& sq, const TL& buf, const TL& gavg, double lr, double alpha,
                       double eps, double wd, double mom, bool centered, bool maximize) {
    NoGil r;
    rmsprop_(p, g, sq, buf, gavg, lr, alpha, eps, wd, mom, centered, maximize);
  }, py::arg("params"), py::arg("grads"), py::arg("square_avgs"), py::arg("momentum_buffers"), py::arg("grad_avgs"),
     py::arg("lr"), py::arg("alpha"), py::arg("eps"), py::arg("weight_decay"), py::arg("momentum"), py::arg("centered"),
     py::arg("maximize"), "RMSprop step in place over a list of parameters.");
  m.def("adagrad_", [](const TL& p, const TL& g, const TL& sums, const std::vector<int64_t>& steps, double lr,
                       double lr_decay, double wd, double eps, bool maximize) {
    NoGil r;
    adagrad_(p, g, sums, steps, lr, lr_decay, wd, eps, maximize);
  }, py::arg("params"), py::arg("grads"), py::arg("state_sums"), py::arg("steps"), py::arg("lr"), py::arg("lr_decay"),
     py::arg("weight_decay"), py::arg("eps"), py::arg("maximize"), "Adagrad step in place over a list of parameters.");
  m.def("adadelta_", [](const TL& p, const TL& g, const TL& sq, const TL& acc, double lr, double rho, double eps, double wd,
                        bool maximize) {
    NoGil r;
    adadelta_(p, g, sq, acc, lr, rho, eps, wd, maximize);
  }, py::arg("params"), py::arg("grads"), py::arg("square_avgs"), py::arg("acc_deltas"), py::arg("lr"), py::arg("rho"),
     py::arg("eps"), py::arg("weight_decay"), py::arg("maximize"), "Adadelta step in place over a list of parameters.");
}

}  // namespace pydl
