#include "autograd/node.h"

#include <atomic>
#include <mutex>

#include "autograd/grad_math.h"

namespace pydl {

namespace {
thread_local bool g_grad_enabled = true;
std::atomic<uint64_t> g_next_seq{0};
}  // namespace

bool GradMode::is_enabled() { return g_grad_enabled; }
void GradMode::set_enabled(bool enabled) { g_grad_enabled = enabled; }

Node::Node() : seq_nr(g_next_seq++) {}

namespace {
thread_local bool t_deleting = false;
thread_local std::vector<std::shared_ptr<Node>> t_pending;
}  // namespace

// Queues `n` for the iterative teardown when this is its last reference, else drops it.
// Several edges may reach one node (y * y): only the last one dropped owns it.
static void release_node(std::shared_ptr<Node>&& n) {
  if (!n) return;
  if (n.use_count() == 1) t_pending.push_back(std::move(n));
  else n.reset();
}

Node::~Node() {
  std::vector<std::shared_ptr<Node>> children;
  children.reserve(next_edges.size());
  for (auto& e : next_edges) children.push_back(std::move(e.fn));
  next_edges.clear();
  for (auto& c : children) release_node(std::move(c));
  if (t_deleting) return;
  t_deleting = true;
  while (!t_pending.empty()) {
    std::shared_ptr<Node> n = std::move(t_pending.back());
    t_pending.pop_back();
    n.reset();  // its destructor queues its own children instead of recursing
  }
  t_deleting = false;
}

FunctionNode::~FunctionNode() {
  // Saved tensors may be shared by several slots (y * y saves y twice): release them one
  // by one so that the last holder of a tensor hands its history to the teardown queue.
  for (auto& s : saved) s.steal_history(t_pending);
}

void SavedVariable::steal_history(std::vector<std::shared_ptr<Node>>& out) {
  Tensor t = std::move(data_);
  if (t && t.use_count() == 1 && t->grad_fn) {
    std::shared_ptr<Node> fn = std::move(t->grad_fn);
    if (fn.use_count() == 1) out.push_back(std::move(fn));
  }
}

SavedVariable::SavedVariable(const Tensor& t, bool is_output) {
  if (!t) return;
  version_ = t->version();
  is_output_ = is_output;
  requires_grad_ = t->requires_grad;
  if (is_output) {
    data_ = detach(t);  // no grad_fn: the node owns us, we must not own the node
    grad_fn_ = t->grad_fn;
    output_nr_ = t->output_nr;
  } else {
    data_ = t;
  }
}

Tensor SavedVariable::unpack(const char* node_name) const {
  if (released_)
    throw RuntimeError(str("[", node_name, "] Trying to backward through the graph a second time (or directly "
                           "access saved tensors after they have already been freed). Saved intermediate values of "
                           "the graph are freed when you call .backward() or autograd.grad(). Specify "
                           "retain_graph=True if you need to backward through the graph a second time."));
  if (!data_) return data_;
  if (data_->version() != version_)
    throw RuntimeError(str("[", node_name, "] one of the variables needed for gradient computation has been "
                           "modified by an inplace operation: [", dtype_name(data_->dtype), " ",
                           shape_str(data_->shape), "] is at version ", data_->version(), "; expected version ",
                           version_, " instead."));
  if (!is_output_) return data_;
  Tensor t = detach(data_);
  t->grad_fn = grad_fn_.lock();
  t->output_nr = output_nr_;
  t->requires_grad = requires_grad_;
  return t;
}

AccumulateGrad::AccumulateGrad(Tensor v) : variable(std::move(v)) {
  outputs.push_back({variable->shape, variable->dtype, variable->device()});
}

std::mutex& grad_mutex(const TensorImpl* t) {
  static std::mutex stripes[64];
  return stripes[(reinterpret_cast<uintptr_t>(t) >> 6) % 64];
}

TensorList AccumulateGrad::apply(TensorList&& grads) {
  Tensor g = std::move(grads[0]);
  if (!g) return {};
  Tensor& v = variable;
  Tensor old;  // the replaced .grad dies after the lock is released (its storage may need the GIL)
  {
    // Only the update itself holds the lock: hooks (Python) may read .grad, which takes it too.
    std::lock_guard<std::mutex> lock(grad_mutex(v.get()));
    if (!v->grad) {
      // Steal the incoming buffer when nobody else can see it; otherwise copy, so that
      // .grad is always a dense tensor of its own (optimizers update it in place).
      bool unique = g.use_count() == 1 && g->storage.use_count() == 1 && !g->is_view && g->is_contiguous() &&
                    g->grad_fn == nullptr;
      v->grad = (unique || GradMode::is_enabled()) ? g : dense_copy(g);
    } else if (GradMode::is_enabled()) {
      old = std::move(v->grad);
      v->grad = grad_add(old, g);  // create_graph: keep the graph of the accumulated gradient
    } else {
      grad_add_(v->grad, g);
    }
  }
  if (!v->post_accumulate_grad_hooks.empty()) {
    auto hooks = v->post_accumulate_grad_hooks;  // a hook may remove itself
    for (auto& h : hooks) h.second(v);
  }
  return {};
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (*t && (*t)->requires_grad) return true;
  return false;
}

bool any_requires_grad(const TensorList& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t && t->requires_grad) return true;
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (t->grad_fn) return {t->grad_fn, t->output_nr};
  if (!t->requires_grad) return {};
  auto acc = t->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t);
    t->grad_accumulator = acc;
  }
  return {acc, 0};
}

std::shared_ptr<FunctionNode> make_node(const char* name, const TensorList& inputs, FunctionNode::Fn fn) {
  auto node = std::make_shared<FunctionNode>(name, std::move(fn));
  node->next_edges.reserve(inputs.size());
  for (const Tensor& t : inputs) node->next_edges.push_back(t && t->requires_grad ? gradient_edge(t) : Edge{});
  return node;
}

void set_history(const TensorList& outputs, const std::shared_ptr<Node>& node) {
  uint32_t nr = 0;
  for (const Tensor& t : outputs) {
    if (t) {
      t->grad_fn = node;
      t->output_nr = nr;
      t->requires_grad = true;
      node->outputs.push_back({t->shape, t->dtype, t->device()});
    } else {
      node->outputs.push_back({{}, DType::Float32});
    }
    ++nr;
  }
}

}  // namespace pydl
