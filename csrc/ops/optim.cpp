// Fused optimizer steps over lists of parameters: argument checks, then one kernel
// call per parameter, in place; every written tensor's version counter is bumped.
#include "kernels/dispatch.h"
#include "ops/nn.h"

namespace pydl {

namespace K = kernels;

namespace {

// Checks that every list in `lists` (named by `names`) has params' length, shapes and dtype.
void check_lists(const char* op, const TensorList& params, std::initializer_list<std::pair<const char*, const TensorList*>> lists) {
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    PYDL_CHECK(p, TypeError, "[", op, "] params[", i, "] is None");
    PYDL_CHECK(is_floating(p->dtype), TypeError, "[", op, "] params[", i, "] must be floating, got ", dtype_name(p->dtype));
    PYDL_CHECK(p->is_contiguous(), ValueError, "[", op, "] params[", i, "] of shape ", shape_str(p->shape), " must be contiguous");
    common_device(op, {params[0].get(), p.get()});
  }
  for (auto& [name, l] : lists) {
    PYDL_CHECK(l->size() == params.size(), ValueError, "[", op, "] got ", params.size(), " params but ", l->size(), " ", name);
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor& t = (*l)[i];
      PYDL_CHECK(t, TypeError, "[", op, "] ", name, "[", i, "] is None");
      PYDL_CHECK(t->shape == params[i]->shape, ValueError, "[", op, "] ", name, "[", i, "] has shape ", shape_str(t->shape),
                 " but the parameter has shape ", shape_str(params[i]->shape));
      PYDL_CHECK(t->dtype == params[i]->dtype, TypeError, "[", op, "] ", name, "[", i, "] has dtype ", dtype_name(t->dtype),
                 " but the parameter has dtype ", dtype_name(params[i]->dtype));
      PYDL_CHECK(t->is_contiguous(), ValueError, "[", op, "] ", name, "[", i, "] must be contiguous");
      common_device(op, {params[i].get(), t.get()});
    }
  }
}

template <typename T> T* ptr(const Tensor& t, int64_t off) { return t ? t->data<T>() + off : nullptr; }

std::vector<int64_t> sizes(const TensorList& ps) {
  std::vector<int64_t> s;
  for (const Tensor& p : ps) s.push_back(p->numel);
  return s;
}

constexpr int64_t kGrain = 1 << 15;

// Calls f(i, begin, end) over the parameters' elements: on the CPU split across threads in one
// parallel region; on a GPU one whole parameter per call (one kernel launch each).
template <typename F>
void for_segments(const TensorList& params, const F& f) {
  if (!params.empty() && params[0]->device().is_cuda()) {
    for (size_t i = 0; i < params.size(); ++i) f(i, 0, params[i]->numel);
    return;
  }
  K::parallel_segments(sizes(params), kGrain, f);
}

}  // namespace

void sgd_(const TensorList& params, const TensorList& grads, const TensorList& bufs, const std::vector<bool>& fresh,
          double lr, double momentum, double dampening, double wd, bool nesterov, bool maximize) {
  check_lists("sgd_", params, {{"grads", &grads}});
  if (momentum != 0) check_lists("sgd_", params, {{"momentum_buffers", &bufs}});
  PYDL_CHECK(fresh.size() == params.size() || momentum == 0, ValueError, "[sgd_] got ", params.size(), " params but ",
             fresh.size(), " fresh flags");
  PYDL_CHECK(!nesterov || (momentum > 0 && dampening == 0), ValueError,
             "[sgd_] Nesterov momentum requires a momentum and zero dampening");
  for_segments(params, [&](size_t i, int64_t b, int64_t e) {
    const Tensor& p = params[i];
    Tensor buf = momentum != 0 ? bufs[i] : Tensor();
    PYDL_DISPATCH_FLOAT(p->dtype, "sgd_", [&] {
      PYDL_KERNEL(p->device(), sgd_step<scalar_t>, e - b, ptr<scalar_t>(p, b), ptr<scalar_t>(grads[i], b),
                  ptr<scalar_t>(buf, b), momentum != 0 && fresh[i], lr, momentum, dampening, wd, nesterov, maximize);
    });
  });
  for (size_t i = 0; i < params.size(); ++i) {
    params[i]->bump_version();
    if (momentum != 0) bufs[i]->bump_version();
  }
}

void adam_(const TensorList& params, const TensorList& grads, const TensorList& m, const TensorList& v, const TensorList& vmax,
           const std::vector<int64_t>& steps, double lr, double b1, double b2, double eps, double wd, bool amsgrad,
           bool maximize, bool decoupled) {
  check_lists("adam_", params, {{"grads", &grads}, {"exp_avgs", &m}, {"exp_avg_sqs", &v}});
  if (amsgrad) check_lists("adam_", params, {{"max_exp_avg_sqs", &vmax}});
  PYDL_CHECK(steps.size() == params.size(), ValueError, "[adam_] got ", params.size(), " params but ", steps.size(), " steps");
  for (size_t i = 0; i < params.size(); ++i)
    PYDL_CHECK(steps[i] >= 1, ValueError, "[adam_] steps[", i, "] must be >= 1 (the count after incrementing), got ", steps[i]);
  for_segments(params, [&](size_t i, int64_t b, int64_t e) {
    PYDL_DISPATCH_FLOAT(params[i]->dtype, "adam_", [&] {
      PYDL_KERNEL(params[i]->device(), adam_step<scalar_t>, e - b, ptr<scalar_t>(params[i], b), ptr<scalar_t>(grads[i], b),
                  ptr<scalar_t>(m[i], b), ptr<scalar_t>(v[i], b), amsgrad ? ptr<scalar_t>(vmax[i], b) : nullptr, steps[i],
                  lr, b1, b2, eps, wd, amsgrad, maximize, decoupled);
    });
  });
  for (size_t i = 0; i < params.size(); ++i) {
    params[i]->bump_version(); m[i]->bump_version(); v[i]->bump_version();
    if (amsgrad) vmax[i]->bump_version();
  }
}

void rmsprop_(const TensorList& params, const TensorList& grads, const TensorList& sq, const TensorList& bufs,
              const TensorList& gavg, double lr, double alpha, double eps, double wd, double momentum, bool centered,
              bool maximize) {
  check_lists("rmsprop_", params, {{"grads", &grads}, {"square_avgs", &sq}});
  if (momentum > 0) check_lists("rmsprop_", params, {{"momentum_buffers", &bufs}});
  if (centered) check_lists("rmsprop_", params, {{"grad_avgs", &gavg}});
  for_segments(params, [&](size_t i, int64_t b, int64_t e) {
    PYDL_DISPATCH_FLOAT(params[i]->dtype, "rmsprop_", [&] {
      PYDL_KERNEL(params[i]->device(), rmsprop_step<scalar_t>, e - b, ptr<scalar_t>(params[i], b), ptr<scalar_t>(grads[i], b), ptr<scalar_t>(sq[i], b),
                                momentum > 0 ? ptr<scalar_t>(bufs[i], b) : nullptr,
                                centered ? ptr<scalar_t>(gavg[i], b) : nullptr, lr, alpha, eps, wd, momentum, centered, maximize);
    });
  });
  for (size_t i = 0; i < params.size(); ++i) {
    params[i]->bump_version(); sq[i]->bump_version();
    if (momentum > 0) bufs[i]->bump_version();
    if (centered) gavg[i]->bump_version();
  }
}

void adagrad_(const TensorList& params, const TensorList& grads, const TensorList& sums, const std::vector<int64_t>& steps,
              double lr, double lr_decay, double wd, double eps, bool maximize) {
  check_lists("adagrad_", params, {{"grads", &grads}, {"state_sums", &sums}});
  PYDL_CHECK(steps.size() == params.size(), ValueError, "[adagrad_] got ", params.size(), " params but ", steps.size(), " steps");
  for_segments(params, [&](size_t i, int64_t b, int64_t e) {
    PYDL_DISPATCH_FLOAT(params[i]->dtype, "adagrad_", [&] {
      PYDL_KERNEL(params[i]->device(), adagrad_step<scalar_t>, e - b, ptr<scalar_t>(params[i], b), ptr<scalar_t>(grads[i], b), ptr<scalar_t>(sums[i], b),
                                steps[i], lr, lr_decay, wd, eps, maximize);
    });
  });
  for (size_t i = 0; i < params.size(); ++i) { params[i]->bump_version(); sums[i]->bump_version(); }
}

void adadelta_(const TensorList& params, const TensorList& grads, const TensorList& sq, const TensorList& acc, double lr,
               double rho, double eps, double wd, bool maximize) {
  check_lists("adadelta_", params, {{"grads", &grads}, {"square_avgs", &sq}, {"acc_deltas", &acc}});
  for_segments(params, [&](size_t i, int64_t b, int64_t e) {
    PYDL_DISPATCH_FLOAT(params[i]->dtype, "adadelta_", [&] {
      PYDL_KERNEL(params[i]->device(), adadelta_step<scalar_t>, e - b, ptr<scalar_t>(params[i], b), ptr<scalar_t>(grads[i], b), ptr<scalar_t>(sq[i], b),
                                 ptr<scalar_t>(acc[i], b), lr, rho, eps, wd, maximize);
    });
  });
  for (size_t i = 0; i < params.size(); ++i) { params[i]->bump_version(); sq[i]->bump_version(); acc[i]->bump_version(); }
}

// ---- NAdam, RAdam, Adamax, ASGD, Rprop, SparseAdam ----

namespace {
void check_coefs(const char* op, const TensorList& params, const std::vector<std::vector<double>>& coefs, size_t k) {
  PYDL_CHECK(coefs.size() == params.size(), ValueError, "[", op, "] got ", params.size(), " params but ", coefs.size(),
             " coefficient rows");
  for (size_t i = 0; i < coefs.size(); ++i)
    PYDL_CHECK(coefs[i].size() == k, ValueError, "[", op, "] coefs[", i, "] must hold ", k, " numbers, got ", coefs[i].size());
}

// Runs step(i, b, e) over every parameter's elements in parallel, then bumps each written list's versions.
template <typename F>
void run_step(const TensorList& params, std::initializer_list<const TensorList*> written, F step) {
  for_segments(params, step);
  for (size_t i = 0; i < params.size(); ++i) {
    params[i]->bump_version();
    for (const TensorList* l : written) (*l)[i]->bump_version();
  }
}
}  // namespace

void nadam_(const TensorList& params, const TensorList& grads, const TensorList& m, const TensorList& v,
            const std::vector<std::vector<double>>& c, double lr, double b1, double b2, double eps, double wd,
            bool decoupled, bool maximize) {
  check_lists("nadam_", params, {{"grads", &grads}, {"exp_avgs", &m}, {"exp_avg_sqs", &v}});
  check_coefs("nadam_", params, c, 3);
  run_step(params, {&m, &v}, [&](size_t i, int64_t b, int64_t e) {
    PYDL_DISPATCH_FLOAT(params[i]->dtype, "nadam_", [&] {
      PYDL_KERNEL(params[i]->device(), nadam_step<scalar_t>, e - b, ptr<scalar_t>(params[i], b), ptr<scalar_t>(grads[i], b), ptr<scalar_t>(m[i], b),
                              ptr<scalar_t>(v[i], b), lr, b1, b2, eps, wd, decoupled, maximize, c[i][0], c[i][1], c[i][2]);
    });
  });
}

void radam_(const TensorList& params, const TensorList& grads, const TensorList& m, const TensorList& v,
            const std::vector<std::vector<double>>& c, double lr, double b1, double b2, double eps, double wd,
            bool decoupled, bool maximize) {
  check_lists("radam_", params, {{"grads", &grads}, {"exp_avgs", &m}, {"exp_avg_sqs", &v}});
  check_coefs("radam_", params, c, 3);
  run_step(params, {&m, &v}, [&](size_t i, int64_t b, int64_t e) {
    PYDL_DISPATCH_FLOAT(params[i]->dtype, "radam_", [&] {
      PYDL_KERNEL(params[i]->device(), radam_step<scalar_t>, e - b, ptr<scalar_t>(params[i], b), ptr<scalar_t>(grads[i], b), ptr<scalar_t>(m[i], b),
                              ptr<scalar_t>(v[i], b), lr, b1, b2, eps, wd, decoupled, maximize, c[i][0], c[i][1], c[i][2]);
    });
  });
}

void adamax_(const TensorList& params, const TensorList& grads, const TensorList& m, const TensorList& u,
             const std::vector<std::vector<double>>& c, double lr, double b1, double b2, double eps, double wd,
             bool maximize) {
  check_lists("adamax_", params, {{"grads", &grads}, {"exp_avgs", &m}, {"exp_infs", &u}});
  check_coefs("adamax_", params, c, 1);
  run_step(params, {&m, &u}, [&](size_t i, int64_t b, int64_t e) {
    PYDL_DISPATCH_FLOAT(params[i]->dtype, "adamax_", [&] {
      PYDL_KERNEL(params[i]->device(), adamax_step<scalar_t>, e - b, ptr<scalar_t>(params[i], b), ptr<scalar_t>(grads[i], b), ptr<scalar_t>(m[i], b),
                               ptr<scalar_t>(u[i], b), lr, b1, b2, eps, wd, maximize, c[i][0]);
    });
  });
}

void asgd_(const TensorList& params, const TensorList& grads, const TensorList& ax,
           const std::vector<std::vector<double>>& c, double lambd, double wd, bool maximize) {
  check_lists("asgd_", params, {{"grads", &grads}, {"axs", &ax}});
  check_coefs("asgd_", params, c, 2);
  run_step(params, {&ax}, [&](size_t i, int64_t b, int64_t e) {
    PYDL_DISPATCH_FLOAT(params[i]->dtype, "asgd_", [&] {
      PYDL_KERNEL(params[i]->device(), asgd_step<scalar_t>, e - b, ptr<scalar_t>(params[i], b), ptr<scalar_t>(grads[i], b), ptr<scalar_t>(ax[i], b),
                             c[i][0], c[i][1], lambd, wd, maximize);
    });
  });
}

void rprop_(const TensorList& params, const TensorList& grads, const TensorList& prev, const TensorList& ss,
            double etaminus, double etaplus, double smin, double smax, bool maximize) {
  check_lists("rprop_", params, {{"grads", &grads}, {"prevs", &prev}, {"step_sizes", &ss}});
  PYDL_CHECK(0 < etaminus && etaminus < 1 && etaplus > 1, ValueError, "[rprop_] invalid eta values: ", etaminus, ", ", etaplus);
  run_step(params, {&prev, &ss}, [&](size_t i, int64_t b, int64_t e) {
    PYDL_DISPATCH_FLOAT(params[i]->dtype, "rprop_", [&] {
      PYDL_KERNEL(params[i]->device(), rprop_step<scalar_t>, e - b, ptr<scalar_t>(params[i], b), ptr<scalar_t>(grads[i], b), ptr<scalar_t>(prev[i], b),
                              ptr<scalar_t>(ss[i], b), etaminus, etaplus, smin, smax, maximize);
    });
  });
}

void sparse_adam_(const TensorList& params, const TensorList& grads, const TensorList& m, const TensorList& v,
                  const std::vector<std::vector<double>>& c, double lr, double b1, double b2, double eps, bool maximize) {
  check_lists("sparse_adam_", params, {{"grads", &grads}, {"exp_avgs", &m}, {"exp_avg_sqs", &v}});
  check_coefs("sparse_adam_", params, c, 2);
  run_step(params, {&m, &v}, [&](size_t i, int64_t b, int64_t e) {
    PYDL_DISPATCH_FLOAT(params[i]->dtype, "sparse_adam_", [&] {
      PYDL_KERNEL(params[i]->device(), sparse_adam_step<scalar_t>, e - b, ptr<scalar_t>(params[i], b), ptr<scalar_t>(grads[i], b), ptr<scalar_t>(m[i], b),
                                    ptr<scalar_t>(v[i], b), lr, b1, b2, eps, c[i][0], c[i][1], maximize);
    });
  });
}

}  // namespace pydl
