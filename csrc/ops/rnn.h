#pragma once
#include "ops/ops.h"

namespace pydl {

/// One direction of one recurrent layer over a (T, B, I) sequence. mode: 0 RNN tanh,
/// 1 RNN relu, 2 LSTM (gates i,f,g,o), 3 GRU (gates r,z,n), PyTorch's weight layout.
/// c0 only for LSTM; biases and lengths (int64, (B,)) may be null. Returns
/// {output (T,B,H), h_n (B,H), c_n (B,H) or null}.
TensorList rnn_layer(int mode, const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& w_ih,
                     const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh, bool reverse, const Tensor& lengths);

}  // namespace pydl
