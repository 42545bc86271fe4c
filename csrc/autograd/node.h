#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/tensor.h"

namespace pydl {

using TensorList = std::vector<Tensor>;

/// Where a gradient goes: input `input_nr` of node `fn`.
struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;
};

/// Shape, dtype and device of one output of a node, used to make zero gradients and to
/// check the shapes that backward functions return.
struct OutputMeta {
  Shape shape;
  DType dtype;
  Device device = Device{};
};

/// A tensor kept for backward. Records the version at save time so that an in-place
/// change afterwards is caught. An op's own output is kept without its grad_fn (that
/// would be a reference cycle) and gets it back, weakly, when unpacked.
class SavedVariable {
 public:
  SavedVariable() = default;
  SavedVariable(const Tensor& t, bool is_output);
  /// The saved tensor; throws if it was freed by backward or changed in place.
  Tensor unpack(const char* node_name) const;
  void reset() { data_.reset(); released_ = true; }
  /// Hands the saved tensor's grad_fn to `out` if nothing else holds it (iterative teardown).
  void steal_history(std::vector<std::shared_ptr<Node>>& out);
  bool defined() const { return data_ != nullptr || released_; }

 private:
  Tensor data_;
  uint64_t version_ = 0;
  bool is_output_ = false;
  bool released_ = false;
  bool requires_grad_ = false;
  uint32_t output_nr_ = 0;
  std::weak_ptr<Node> grad_fn_;
};

/// A step of the backward graph. apply() maps gradients of the outputs to gradients of
/// the inputs (one per next_edges entry; a null Tensor means "no gradient").
struct Node : std::enable_shared_from_this<Node> {
  std::vector<Edge> next_edges;
  std::vector<OutputMeta> outputs;
  uint64_t seq_nr;
  Node();
  /// Frees long chains of nodes iteratively (a 100,000-op chain would overflow the stack).
  virtual ~Node();
  virtual const char* name() const = 0;
  virtual TensorList apply(TensorList&& grads) = 0;
  /// Frees saved tensors after a backward without retain_graph.
  virtual void release_saved() {}
  /// Functions run on the incoming gradient of output i before apply (retain_grad, hooks).
  std::vector<std::pair<uint32_t, std::function<Tensor(const Tensor&)>>> pre_hooks;
};

/// A node whose backward is a lambda written next to the op's forward.
struct FunctionNode : Node {
  using Fn = std::function<TensorList(FunctionNode&, const TensorList&)>;
  const char* name_;
  Fn fn;
  std::vector<SavedVariable> saved;
  bool released = false;
  /// Set by ops whose backward calls raw kernels: differentiating their gradient again
  /// (create_graph) raises instead of silently treating it as a constant.
  bool once_differentiable = false;
  /// The same backward written with ops, beside a fused `fn`: run instead of it when the engine records the
  /// backward (create_graph), so that the gradient is differentiable again; `fn` stays the first-order path.
  Fn graph_fn;
  FunctionNode(const char* name, Fn f) : name_(name), fn(std::move(f)) {}
  ~FunctionNode() override;
  const char* name() const override { return name_; }
  TensorList apply(TensorList&& grads) override {
    return graph_fn && GradMode::is_enabled() ? graph_fn(*this, grads) : fn(*this, grads);
  }
  // Two threads may run backward through one graph: the one that frees the saved tensors
  // must not race with the other one reading them.
  void release_saved() override {
    std::lock_guard<std::mutex> lock(saved_mu_);
    for (auto& s : saved) s.reset();
    released = true;
  }
  /// The i-th saved tensor (version-checked).
  Tensor get(size_t i) const {
    std::lock_guard<std::mutex> lock(saved_mu_);
    return saved[i].unpack(name_);
  }

 private:
  mutable std::mutex saved_mu_;
};

/// Accumulates a gradient into a leaf's .grad.
struct AccumulateGrad : Node {
  Tensor variable;
  explicit AccumulateGrad(Tensor v);
  const char* name() const override { return "AccumulateGrad"; }
  TensorList apply(TensorList&& grads) override;
};

/// The lock guarding `t->grad`: every thread whose backward reaches a leaf updates its .grad,
/// so read-modify-write of .grad (the first assignment too) holds this (striped by address).
std::mutex& grad_mutex(const TensorImpl* t);

/// True when grad mode is on and any of `inputs` requires grad.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const TensorList& inputs);
/// The edge a gradient for `t` flows into (its grad_fn, or its leaf accumulator).
Edge gradient_edge(const Tensor& t);
/// Creates a FunctionNode whose edges lead to `inputs` (undefined or non-grad inputs get empty edges).
std::shared_ptr<FunctionNode> make_node(const char* name, const TensorList& inputs, FunctionNode::Fn fn);
/// Makes `outputs` results of `node`: sets grad_fn, output_nr, requires_grad.
void set_history(const TensorList& outputs, const std::shared_ptr<Node>& node);
inline void set_history(const Tensor& output, const std::shared_ptr<Node>& node) { set_history(TensorList{output}, node); }

}  // namespace pydl
