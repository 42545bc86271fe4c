#pragma once
// The nn ops (pydl.nn.functional): linear, activations, dropout, losses, convolution,
// pooling, normalisation, embedding, pad, and the fused optimizer steps.
#include <optional>
#include <string>

#include "ops/activation_ops.h"
#include "ops/ops.h"

namespace pydl {

enum class Reduction { None, Mean, Sum };
/// 'none' | 'mean' | 'sum' -> Reduction; ValueError naming `op` otherwise.
Reduction parse_reduction(const std::string& s, const char* op);
/// Window arguments (kernel_size, stride, padding, dilation, groups) must be below 2**31, so that
/// the output-size arithmetic of conv and pool cannot overflow int64.
inline void check_window(const IntList& v, const char* op, const char* what) {
  for (int64_t x : v)
    PYDL_CHECK(x > -(int64_t(1) << 31) && x < (int64_t(1) << 31), ValueError, "[", op, "] ", what, " ", shape_str(v),
               " is too large (each value must be below 2**31)");
}

/// Makes `node`, the backward of a fused kernel (it runs raw kernels, so it is not differentiable again), the
/// history of `out`, saving the inputs `saved` that it reads. `graph_fn`, the same backward written with ops
/// (reading the same saved inputs), makes it differentiable again: the engine runs it under create_graph.
inline void set_fused_history(const Tensor& out, const std::shared_ptr<FunctionNode>& node, const TensorList& saved,
                              FunctionNode::Fn graph_fn = nullptr) {
  for (const Tensor& t : saved) node->saved.emplace_back(t, false);
  node->once_differentiable = true;
  node->graph_fn = std::move(graph_fn);
  set_history(out, node);
}

/// A kernel's gradient gx = L^T(gy) that is linear in gy (pooling, pad, embedding): when autograd records
/// (create_graph), its own gradient is the forward map L applied to the incoming gradient, `forward` (written with ops).
template <typename F>
void record_linear_grad(const char* name, const Tensor& gy, const Tensor& gx, F forward) {
  if (!any_requires_grad({&gy})) return;
  auto node = make_node(name, {gy}, [forward](FunctionNode&, const TensorList& gg) -> TensorList { return {forward(gg[0])}; });
  set_history(gx, node);
}

// ---- activation.cpp ------------------------------------------------------------------
/// x @ weight^T + bias over the last dim of x (any leading dims); one GEMM with fused bias.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);
/// A float32 CPU weight (rows, cols) as the GEMM's packed B = weight^T (cols, rows) (sgemm_pack_b),
/// packed once and reused across calls until the weight changes (derived_of): Linear, RNN layers.
Tensor packed_weight_t(const Tensor& w);
#define PYDL_DECLARE_ACT(NAME, NODE, PARAMS, ...) Tensor NAME(const Tensor& x PYDL_UNPAREN PARAMS);
PYDL_ACTIVATIONS(PYDL_DECLARE_ACT)  // leaky_relu, ..., logsigmoid: ops/activation_ops.h
#undef PYDL_DECLARE_ACT
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
/// Zeroes elements with probability p and scales the rest by 1/(1-p); identity unless training.
Tensor dropout(const Tensor& x, double p, bool training);

// ---- loss.cpp ------------------------------------------------------------------------
/// Fused log-softmax + NLL on logits (N, C, d...) with int64 class targets (N, d...).
Tensor cross_entropy(const Tensor& x, const Tensor& target, const Tensor& weight, Reduction red, int64_t ignore_index,
                     double label_smoothing);
Tensor nll_loss(const Tensor& x, const Tensor& target, const Tensor& weight, Reduction red, int64_t ignore_index);
Tensor mse_loss(const Tensor& x, const Tensor& y, Reduction red);
Tensor l1_loss(const Tensor& x, const Tensor& y, Reduction red);
Tensor smooth_l1_loss(const Tensor& x, const Tensor& y, Reduction red, double beta);
Tensor binary_cross_entropy(const Tensor& x, const Tensor& y, const Tensor& weight, Reduction red);
Tensor binary_cross_entropy_with_logits(const Tensor& x, const Tensor& y, const Tensor& weight, const Tensor& pos_weight,
                                        Reduction red);

/// CTC loss per sample, shape (N,) (0-d for unbatched (T, C) input); targets (N, S) padded or 1-D concatenated.
Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths, const Tensor& target_lengths,
                int64_t blank, bool zero_infinity);

// ---- conv.cpp ------------------------------------------------------------------------
/// x (N, C, H, W) or (C, H, W) with weight (O, C/groups, kh, kw); padding: (top, bottom, left, right).
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, IntList stride, IntList padding, IntList dilation,
              int64_t groups);
/// Transposed convolution (the gradient of conv2d w.r.t. its input); weight (C, O/groups, kh, kw).
Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b, IntList stride, IntList padding,
                        IntList output_padding, int64_t groups, IntList dilation);

// ---- pool.cpp ------------------------------------------------------------------------
std::pair<Tensor, Tensor> max_pool2d(const Tensor& x, IntList kernel, IntList stride, IntList padding, IntList dilation,
                                     bool ceil_mode);
Tensor avg_pool2d(const Tensor& x, IntList kernel, IntList stride, IntList padding, bool ceil_mode, bool count_include_pad,
                  std::optional<int64_t> divisor_override);
Tensor adaptive_avg_pool2d(const Tensor& x, IntList output_size);
/// (values, int64 flat indices into each H*W plane) of max over adaptive windows.
std::pair<Tensor, Tensor> adaptive_max_pool2d(const Tensor& x, IntList output_size);

// ---- norm.cpp ------------------------------------------------------------------------
/// Updates running_mean/var in place in training mode (when given).
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps);
Tensor layer_norm(const Tensor& x, IntList normalized_shape, const Tensor& weight, const Tensor& bias, double eps);
Tensor embedding(const Tensor& weight, const Tensor& indices, std::optional<int64_t> padding_idx);
/// pad = (last_lo, last_hi, prev_lo, prev_hi, ...); mode constant | reflect | replicate | circular.
Tensor pad(const Tensor& x, IntList pad, const std::string& mode, double value);

// ---- optim.cpp: in place over lists of parameters, bump versions --------------------
void sgd_(const TensorList& params, const TensorList& grads, const TensorList& bufs, const std::vector<bool>& fresh,
          double lr, double momentum, double dampening, double wd, bool nesterov, bool maximize);
void adam_(const TensorList& params, const TensorList& grads, const TensorList& m, const TensorList& v,
           const TensorList& vmax, const std::vector<int64_t>& steps, double lr, double b1, double b2, double eps,
           double wd, bool amsgrad, bool maximize, bool decoupled);
void rmsprop_(const TensorList& params, const TensorList& grads, const TensorList& sq, const TensorList& bufs,
              const TensorList& gavg, double lr, double alpha, double eps, double wd, double momentum, bool centered,
              bool maximize);
void adagrad_(const TensorList& params, const TensorList& grads, const TensorList& sums, const std::vector<int64_t>& steps,
              double lr, double lr_decay, double wd, double eps, bool maximize);
void adadelta_(const TensorList& params, const TensorList& grads, const TensorList& sq, const TensorList& acc, double lr,
               double rho, double eps, double wd, bool maximize);
// The step-dependent scalars come per parameter (`coefs[i]`), computed by pydl.optim:
// nadam (bc2, c_grad, c_avg), radam (bc1, bc2, rect or -1), adamax (bc1), asgd (eta, mu), sparse_adam (bc1, bc2).
void nadam_(const TensorList& params, const TensorList& grads, const TensorList& m, const TensorList& v,
            const std::vector<std::vector<double>>& coefs, double lr, double b1, double b2, double eps, double wd,
            bool decoupled, bool maximize);
void radam_(const TensorList& params, const TensorList& grads, const TensorList& m, const TensorList& v,
            const std::vector<std::vector<double>>& coefs, double lr, double b1, double b2, double eps, double wd,
            bool decoupled, bool maximize);
void adamax_(const TensorList& params, const TensorList& grads, const TensorList& m, const TensorList& u,
             const std::vector<std::vector<double>>& coefs, double lr, double b1, double b2, double eps, double wd,
             bool maximize);
void asgd_(const TensorList& params, const TensorList& grads, const TensorList& ax,
           const std::vector<std::vector<double>>& coefs, double lambd, double wd, bool maximize);
void rprop_(const TensorList& params, const TensorList& grads, const TensorList& prev, const TensorList& step_sizes,
            double etaminus, double etaplus, double step_min, double step_max, bool maximize);
void sparse_adam_(const TensorList& params, const TensorList& grads, const TensorList& m, const TensorList& v,
                  const std::vector<std::vector<double>>& coefs, double lr, double b1, double b2, double eps, bool maximize);


}  // namespace pydl
