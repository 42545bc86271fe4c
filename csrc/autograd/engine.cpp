#include "autograd/engine.h"

#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "autograd/grad_math.h"

namespace pydl {

namespace {

struct BySeq {  // later-created nodes run first, as in PyTorch
  bool operator()(const std::shared_ptr<Node>& a, const std::shared_ptr<Node>& b) const { return a->seq_nr < b->seq_nr; }
};

void accumulate(Tensor& slot, Tensor g) {
  if (!slot) slot = std::move(g);
  else slot = grad_add(slot, g);
}

// Gradients computed by a once-differentiable node's raw kernels carry no graph: when the
// caller asked for one (create_graph), give them a node that raises if reached.
void guard_double_backward(Node& node, const TensorList& incoming, TensorList& out) {
  auto* fn = dynamic_cast<FunctionNode*>(&node);
  if (!fn || !fn->once_differentiable || fn->graph_fn) return;
  std::string name = fn->name();
  // The gradients depend on the incoming gradients and on the op's own inputs: both lead here.
  auto err = make_node("NotDifferentiableTwice", incoming, [name](FunctionNode&, const TensorList&) -> TensorList {
    throw RuntimeError(str("[", name, "] double backward is not supported: the gradient of this op is computed by a "
                           "kernel that autograd cannot differentiate again (create_graph=True reached it)"));
  });
  for (const Edge& e : node.next_edges)
    if (e.fn) err->next_edges.push_back(e);
  bool reachable = false;
  for (const Edge& e : err->next_edges) reachable = reachable || e.fn;
  if (!reachable) return;
  TensorList defined;
  for (Tensor& t : out)
    if (t && !t->requires_grad) defined.push_back(t);
  if (!defined.empty()) set_history(defined, err);
}

}  // namespace

TensorList run_backward(const TensorList& roots, const TensorList& grad_roots, bool retain_graph, bool create_graph,
                        const TensorList& inputs, bool allow_unused) {
  PYDL_CHECK(roots.size() == grad_roots.size(), ValueError, "[backward] got ", roots.size(), " tensors and ",
             grad_roots.size(), " gradients");
  AutoGradMode mode(create_graph);

  std::unordered_map<Node*, TensorList> buffers;
  std::vector<std::shared_ptr<Node>> root_nodes;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    PYDL_CHECK(r && r->requires_grad, RuntimeError, "[backward] element ", i,
               " of tensors does not require grad and does not have a grad_fn");
    Tensor g = grad_roots[i];
    if (!g) {
      PYDL_CHECK(r->numel == 1, RuntimeError, "[backward] grad can be implicitly created only for scalar outputs; "
                 "got a tensor of shape ", shape_str(r->shape), ": pass gradient=");
      g = full(r->shape, 1.0, r->dtype, r->device());
    } else {
      PYDL_CHECK(g->shape == r->shape, RuntimeError, "[backward] gradient of shape ", shape_str(g->shape),
                 " does not match the output's shape ", shape_str(r->shape));
      if (g->dtype != r->dtype) g = grad_cast(g, r->dtype);  // a leaf's .grad keeps the leaf's dtype
    }
    Edge e = gradient_edge(r);
    auto& buf = buffers[e.fn.get()];
    buf.resize(e.fn->outputs.size());
    accumulate(buf[e.input_nr], g);
    root_nodes.push_back(e.fn);
  }

  // Gradients asked for by autograd.grad are captured where they enter their edge.
  const bool capture = !inputs.empty();
  std::unordered_map<Node*, std::vector<std::pair<uint32_t, size_t>>> targets;
  std::vector<std::shared_ptr<Node>> keep_alive;
  TensorList captured(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    PYDL_CHECK(inputs[i] && inputs[i]->requires_grad, RuntimeError, "[autograd.grad] input ", i,
               " of the differentiated tensors does not require grad");
    Edge e = gradient_edge(inputs[i]);
    keep_alive.push_back(e.fn);
    targets[e.fn.get()].push_back({e.input_nr, i});
  }

  // Count, for every reachable node, how many edges lead into it (iteratively: the
  // graph may be a chain of 100,000 ops).
  std::unordered_map<Node*, int> deps;
  {
    std::unordered_set<Node*> seen;
    std::vector<Node*> stack;
    for (auto& n : root_nodes)
      if (seen.insert(n.get()).second) stack.push_back(n.get());
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      for (const Edge& e : n->next_edges) {
        if (!e.fn) continue;
        ++deps[e.fn.get()];
        if (seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
      }
    }
  }

  std::priority_queue<std::shared_ptr<Node>, std::vector<std::shared_ptr<Node>>, BySeq> ready;
  {
    std::unordered_set<Node*> pushed;
    for (auto& n : root_nodes)
      if (deps[n.get()] == 0 && pushed.insert(n.get()).second) ready.push(n);
  }

  while (!ready.empty()) {
    std::shared_ptr<Node> node = ready.top();
    ready.pop();
    TensorList grads = std::move(buffers[node.get()]);
    buffers.erase(node.get());
    grads.resize(node->outputs.size());

    for (auto& h : node->pre_hooks)
      if (grads[h.first]) {
        Tensor r = h.second(grads[h.first]);
        if (r) grads[h.first] = r;
      }
    if (capture) {
      auto it = targets.find(node.get());
      if (it != targets.end())
        for (auto& t : it->second) captured[t.second] = grads[t.first];
      if (dynamic_cast<AccumulateGrad*>(node.get())) continue;  // grad() does not touch .grad
    }

    bool any = false;
    for (auto& g : grads) any = any || g;
    TensorList out;
    if (any) {
      for (size_t i = 0; i < grads.size(); ++i)
        if (!grads[i]) grads[i] = zeros(node->outputs[i].shape, node->outputs[i].dtype, node->outputs[i].device);
      TensorList incoming = create_graph ? grads : TensorList();
      out = node->apply(std::move(grads));
      if (!retain_graph) node->release_saved();
      if (create_graph) guard_double_backward(*node, incoming, out);
    }
    out.resize(node->next_edges.size());

    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.fn) continue;
      if (out[i]) {
        const OutputMeta& m = e.fn->outputs[e.input_nr];
        PYDL_CHECK(out[i]->shape == m.shape, RuntimeError, "[backward] function ", node->name(),
                   " returned a gradient of shape ", shape_str(out[i]->shape), " at index ", i,
                   " but expected shape ", shape_str(m.shape));
        if (out[i]->dtype != m.dtype) out[i] = grad_cast(out[i], m.dtype);
        auto& buf = buffers[e.fn.get()];
        buf.resize(e.fn->outputs.size());
        accumulate(buf[e.input_nr], out[i]);
      }
      if (--deps[e.fn.get()] == 0) ready.push(e.fn);
    }
  }

  if (capture && !allow_unused)
    for (size_t i = 0; i < captured.size(); ++i)
      PYDL_CHECK(captured[i], RuntimeError, "[autograd.grad] One of the differentiated Tensors (input ", i,
                 ") appears to not have been used in the graph. Set allow_unused=True if this is the desired "
                 "behavior.");
  return captured;
}

}  // namespace pydl
