// CTC loss: checks, the alpha recursion forward, the beta recursion backward (kernels/cpu/nn_ctc.cpp).
#include <limits>

#include "kernels/cpu/nn.h"
#include "kernels/dispatch.h"
#include "ops/device.h"
#include "ops/nn.h"

namespace pydl {

namespace K = kernels;

Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths, const Tensor& target_lengths,
                int64_t blank, bool zero_infinity) {
  PYDL_CHECK(log_probs && targets && input_lengths && target_lengths, TypeError, "[ctc_loss] expected tensors");
  PYDL_CHECK(is_floating(log_probs->dtype), TypeError, "[ctc_loss] log_probs must be floating, got ", dtype_name(log_probs->dtype));
  PYDL_CHECK(log_probs->dim() == 3 || log_probs->dim() == 2, ValueError, "[ctc_loss] log_probs must be (T, N, C) or (T, C), got ",
             shape_str(log_probs->shape));
  const bool unbatched = log_probs->dim() == 2;
  Tensor lp = contig(unbatched ? unsqueeze(log_probs, 1) : log_probs);
  const int64_t Tn = lp->shape[0], N = lp->shape[1], C = lp->shape[2];
  PYDL_CHECK(blank >= 0 && blank < C, ValueError, "[ctc_loss] blank (", blank, ") must be in [0, ", C, ")");
  PYDL_CHECK(targets->dtype == DType::Int64 && input_lengths->dtype == DType::Int64 && target_lengths->dtype == DType::Int64,
             TypeError, "[ctc_loss] targets and lengths must be int64");
  // Lengths and targets are checked on the host (CUDA ones are copied back: one wait each) and
  // read by the kernel on log_probs' device.
  const Device dev = lp->device();
  auto host = [](const Tensor& t) { return contig(t->device().is_cuda() ? to_device(t, Device{}, false) : t); };
  auto on_dev = [&](const Tensor& t) { return t->device() == dev ? t : to_device(t, dev, false); };
  Tensor il = host(reshape(input_lengths, {-1})), tl = host(reshape(target_lengths, {-1}));
  PYDL_CHECK(il->numel == N && tl->numel == N, ValueError, "[ctc_loss] expected ", N, " input and target lengths, got ",
             il->numel, " and ", tl->numel);
  Tensor tg = host(unbatched && targets->dim() == 1 && tl->numel == 1 ? unsqueeze(targets, 0) : targets);
  const int64_t* ilp = il->data<int64_t>();
  const int64_t* tlp = tl->data<int64_t>();
  std::vector<int64_t> off(N);
  int64_t maxL = 0, total = 0;
  for (int64_t n = 0; n < N; ++n) {
    PYDL_CHECK(ilp[n] >= 0 && ilp[n] <= Tn, ValueError, "[ctc_loss] input_lengths[", n, "] = ", ilp[n], " must be in [0, ", Tn, "]");
    PYDL_CHECK(tlp[n] >= 0, ValueError, "[ctc_loss] target_lengths[", n, "] = ", tlp[n], " must be >= 0");
    maxL = std::max(maxL, tlp[n]);
    off[n] = tg->dim() == 2 ? n * tg->shape[1] : total;
    total += tlp[n];
  }
  if (tg->dim() == 2) {
    PYDL_CHECK(tg->shape[0] == N && tg->shape[1] >= maxL, ValueError, "[ctc_loss] targets of shape ", shape_str(tg->shape),
               " are too short for ", N, " samples with target lengths up to ", maxL);
  } else {
    PYDL_CHECK(tg->dim() == 1 && tg->numel >= total, ValueError, "[ctc_loss] 1-D targets must hold sum(target_lengths) = ", total,
               " labels, got shape ", shape_str(tg->shape));
  }
  const int64_t* tp = tg->data<int64_t>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < tlp[n]; ++k)
      PYDL_CHECK(tp[off[n] + k] >= 0 && tp[off[n] + k] < C && tp[off[n] + k] != blank, ValueError, "[ctc_loss] target label ",
                 tp[off[n] + k], " of sample ", n, " must be in [0, ", C, ") and differ from blank (", blank, ")");
  const int64_t S2 = 2 * maxL + 1;
  Tensor raw = empty({N}, lp->dtype, dev), alpha = empty({N, Tn, S2}, lp->dtype, dev);
  Tensor offs = empty({N}, DType::Int64);
  std::copy(off.begin(), off.end(), offs->data<int64_t>());
  const Tensor tgd = on_dev(tg), offd = on_dev(offs), tld = on_dev(tl), ild = on_dev(il);
  PYDL_DISPATCH_FLOAT(lp->dtype, "ctc_loss", [&] {
    PYDL_KERNEL(dev, ctc_forward<scalar_t>, Tn, N, C, lp->data<scalar_t>(), tgd->data<int64_t>(), offd->data<int64_t>(),
                tld->data<int64_t>(), ild->data<int64_t>(), blank, S2, raw->data<scalar_t>(), alpha->data<scalar_t>());
  });
  Tensor out = raw;
  if (zero_infinity) {
    AutoGradMode off_(false);
    out = where(compare(Cmp::Eq, raw, to_device(scalar_tensor(std::numeric_limits<double>::infinity(), raw->dtype), dev, false)),
                to_device(scalar_tensor(0, raw->dtype), dev, false), raw);
  }
  if (unbatched) out = reshape(out, {});
  if (any_requires_grad({&log_probs})) {
    auto node = make_node("CtcLossBackward", {log_probs}, [=, lp = Tensor()](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor gc = contig(reshape(g[0], {-1}));
      Tensor lps = contig(unbatched ? unsqueeze(n.get(0), 1) : n.get(0));
      Tensor gx = empty(lps->shape, lps->dtype, dev);
      PYDL_DISPATCH_FLOAT(lps->dtype, "ctc_loss", [&] {
        PYDL_KERNEL(dev, ctc_backward<scalar_t>, Tn, N, C, lps->data<scalar_t>(), tgd->data<int64_t>(), offd->data<int64_t>(),
                    tld->data<int64_t>(), ild->data<int64_t>(), blank, S2, raw->data<scalar_t>(), alpha->data<scalar_t>(),
                    gc->data<scalar_t>(), zero_infinity, gx->data<scalar_t>());
      });
      return {unbatched ? reshape(gx, {Tn, C}) : gx};
    });
    node->saved.emplace_back(log_probs, false);
    node->once_differentiable = true;
    set_history(out, node);
  }
  return out;
}

}  // namespace pydl
