// Recurrent layers: one op per layer direction for the whole sequence, forward and
// backward through time in C++ (kernels/cpu/rnn.cpp).
#include "kernels/cpu/rnn.h"
#include "kernels/dispatch.h"
#include "ops/device.h"
#include "ops/nn.h"
#include "ops/ops.h"
#include "ops/rnn.h"

namespace pydl {

namespace K = kernels;

namespace {
const char* mode_name(K::RnnMode m) {
  switch (m) {
    case K::RnnMode::Tanh: return "rnn_tanh";
    case K::RnnMode::Relu: return "rnn_relu";
    case K::RnnMode::LSTM: return "lstm";
    case K::RnnMode::GRU: return "gru";
  }
  return "rnn";
}

void* ptr(const Tensor& t) { return t ? t->raw() : nullptr; }
}  // namespace

TensorList rnn_layer(int mode_i, const Tensor& x_in, const Tensor& h0_in, const Tensor& c0_in, const Tensor& w_ih_in,
                     const Tensor& w_hh_in, const Tensor& b_ih_in, const Tensor& b_hh_in, bool reverse,
                     const Tensor& lengths_in) {
  PYDL_CHECK(mode_i >= 0 && mode_i <= 3, ValueError, "[rnn] unknown mode ", mode_i);
  const auto mode = static_cast<K::RnnMode>(mode_i);
  const char* op = mode_name(mode);
  PYDL_CHECK(x_in && x_in->dim() == 3, ValueError, "[", op, "] expected input of shape (seq_len, batch, input_size), got ",
             x_in ? shape_str(x_in->shape) : "None");
  const DType dt = x_in->dtype;
  PYDL_CHECK(is_floating(dt), TypeError, "[", op, "] expected a floating input, got ", dtype_name(dt));
  const int64_t T = x_in->shape[0], B = x_in->shape[1], I = x_in->shape[2];
  const int64_t G = K::rnn_gates(mode);
  PYDL_CHECK(w_ih_in->dim() == 2 && w_ih_in->shape[1] == I && w_ih_in->shape[0] % G == 0, ValueError, "[", op,
             "] input.size(-1) must be equal to input_size: weight_ih has shape ", shape_str(w_ih_in->shape),
             " but the input has shape ", shape_str(x_in->shape));
  const int64_t H = w_ih_in->shape[0] / G;
  PYDL_CHECK(w_hh_in->shape == Shape({G * H, H}), ValueError, "[", op, "] weight_hh has shape ", shape_str(w_hh_in->shape),
             ", expected ", shape_str({G * H, H}));
  for (const Tensor* b : {&b_ih_in, &b_hh_in})
    PYDL_CHECK(!*b || (*b)->shape == Shape({G * H}), ValueError, "[", op, "] bias has shape ", shape_str((*b)->shape),
               ", expected ", shape_str({G * H}));
  PYDL_CHECK(h0_in && h0_in->shape == Shape({B, H}), ValueError, "[", op, "] expected hidden size ", shape_str({B, H}),
             ", got ", h0_in ? shape_str(h0_in->shape) : "None");
  if (mode == K::RnnMode::LSTM)
    PYDL_CHECK(c0_in && c0_in->shape == Shape({B, H}), ValueError, "[", op, "] expected cell state size ", shape_str({B, H}),
               ", got ", c0_in ? shape_str(c0_in->shape) : "None");
  for (const Tensor* t : {&h0_in, &c0_in, &w_ih_in, &w_hh_in, &b_ih_in, &b_hh_in})
    PYDL_CHECK(!*t || (*t)->dtype == dt, TypeError, "[", op, "] all tensors must have the input's dtype ", dtype_name(dt),
               ", got ", dtype_name((*t)->dtype));
  const Device dev = common_device(op, {x_in.get(), h0_in.get(), c0_in.get(), w_ih_in.get(), w_hh_in.get(),
                                         b_ih_in.get(), b_hh_in.get()});
  // lengths are checked on the CPU (wherever they are given) and read by the kernel on dev
  Tensor lengths;
  if (lengths_in) {
    PYDL_CHECK(lengths_in->dtype == DType::Int64 && lengths_in->shape == Shape({B}), ValueError, "[", op,
               "] lengths must be an int64 tensor of shape ", shape_str({B}), ", got ", dtype_name(lengths_in->dtype), " ",
               shape_str(lengths_in->shape));
    AutoGradMode off(false);
    Tensor host = contig(to_device(lengths_in, Device{}, false));
    for (int64_t b = 0; b < B; ++b) {
      int64_t L = host->data<int64_t>()[b];
      PYDL_CHECK(L >= 0 && L <= T, ValueError, "[", op, "] length ", L, " of sequence ", b, " is outside [0, ", T, "]");
    }
    lengths = to_device(host, dev, false);
  }

  Tensor x = contig(x_in), w_ih = contig(w_ih_in), w_hh = contig(w_hh_in), b_ih = contig(b_ih_in), b_hh = contig(b_hh_in);
  Tensor hs = empty({T + 1, B, H}, dt, dev);
  Tensor cs = mode == K::RnnMode::LSTM ? empty({T + 1, B, H}, dt, dev) : Tensor();
  Tensor gates = empty({T, B, G * H}, dt, dev);
  Tensor extra = mode == K::RnnMode::GRU ? empty({T, B, H}, dt, dev) : Tensor();
  Tensor out = empty({T, B, H}, dt, dev);
  {
    AutoGradMode off(false);
    copy_(select(hs, 0, 0), h0_in);
    if (cs) copy_(select(cs, 0, 0), c0_in);
  }
  K::RnnArgs args{mode, T, B, I, H, reverse, lengths ? lengths->data<int64_t>() : nullptr, x->raw(), w_ih->raw(),
                  w_hh->raw(), ptr(b_ih), ptr(b_hh), hs->raw(), ptr(cs), gates->raw(), ptr(extra), out->raw()};
  Tensor wih_p, whh_p;  // held until the kernel is done
  if (dev.is_cpu() && dt == DType::Float32 && I > 0 && H > 0) {
    wih_p = packed_weight_t(w_ih_in);
    whh_p = packed_weight_t(w_hh_in);
    args.w_ih_packed = wih_p->data<float>();
    args.w_hh_packed = whh_p->data<float>();
  }
  PYDL_KERNEL(dev, rnn_forward, dt, args);
  Tensor hn = contiguous_copy(select(hs, 0, T));
  Tensor cn = cs ? contiguous_copy(select(cs, 0, T)) : Tensor();

  if (any_requires_grad({&x_in, &h0_in, &c0_in, &w_ih_in, &w_hh_in, &b_ih_in, &b_hh_in})) {
    auto node = make_node(
        mode == K::RnnMode::LSTM ? "LstmBackward" : (mode == K::RnnMode::GRU ? "GruBackward" : "RnnBackward"),
        {x_in, h0_in, c0_in, w_ih_in, w_hh_in, b_ih_in, b_hh_in},
        [mode, T, B, I, H, G, reverse, dt, dev, has_c0 = bool(c0_in), has_bih = bool(b_ih_in), has_bhh = bool(b_hh_in)](
            FunctionNode& n, const TensorList& g) -> TensorList {
          Tensor x = n.get(0), w_ih = n.get(1), w_hh = n.get(2), hs = n.get(3), cs = n.get(4), gates = n.get(5),
                 extra = n.get(6), lengths = n.get(7);
          Tensor go = contig(g[0]), ghn = contig(g[1]), gcn = mode == K::RnnMode::LSTM ? contig(g[2]) : Tensor();
          auto want = [&](int i) { return static_cast<bool>(n.next_edges[i].fn); };
          Tensor dx = want(0) ? empty({T, B, I}, dt, dev) : Tensor();
          Tensor dh0 = want(1) ? empty({B, H}, dt, dev) : Tensor();
          Tensor dc0 = want(2) && has_c0 ? empty({B, H}, dt, dev) : Tensor();
          Tensor dwih = want(3) ? empty({G * H, I}, dt, dev) : Tensor();
          Tensor dwhh = want(4) ? empty({G * H, H}, dt, dev) : Tensor();
          Tensor dbih = want(5) && has_bih ? empty({G * H}, dt, dev) : Tensor();
          Tensor dbhh = want(6) && has_bhh ? empty({G * H}, dt, dev) : Tensor();
          PYDL_KERNEL(dev, rnn_backward, dt,
                      K::RnnArgs{mode, T, B, I, H, reverse, lengths ? lengths->data<int64_t>() : nullptr, x->raw(),
                                 w_ih->raw(), w_hh->raw(), nullptr, nullptr, hs->raw(), ptr(cs), gates->raw(), ptr(extra),
                                 nullptr},
                      ptr(go), ptr(ghn), ptr(gcn), ptr(dx), ptr(dh0), ptr(dc0), ptr(dwih), ptr(dwhh), ptr(dbih), ptr(dbhh));
          return {dx, dh0, dc0, dwih, dwhh, dbih, dbhh};
        });
    for (const Tensor& t : {x, w_ih, w_hh, hs, cs, gates, extra, lengths}) node->saved.emplace_back(t, false);
    node->once_differentiable = true;  // backward runs raw kernels
    set_history(TensorList{out, hn, cn}, node);
  }
  return {out, hn, cn};
}

}  // namespace pydl
