"""Recurrent layers against PyTorch (copied weights) and finite differences."""
import numpy as np
import pytest

import pydl
import pydl.nn as nn

torch = pytest.importorskip("torch")


def to_pydl(t, requires_grad=False):
    x = pydl.tensor(t.detach().numpy())
    return x.requires_grad_() if requires_grad else x


def copy_weights(src, dst):
    dst.load_state_dict({k: v.detach().numpy() for k, v in src.state_dict().items()})


LAYERS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]


@pytest.mark.parametrize("name,kw", LAYERS)
@pytest.mark.parametrize("num_layers,bidirectional,batch_first,with_state", [
    (1, False, False, False), (2, False, True, True), (1, True, True, False), (2, True, False, True)])
def test_layer_matches_torch(name, kw, num_layers, bidirectional, batch_first, with_state):
    torch.manual_seed(0)
    T, B, I, H = 5, 3, 4, 6
    tm = getattr(torch.nn, name)(I, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, **kw)
    pm = getattr(nn, name)(I, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, **kw)
    assert [k for k, _ in pm.named_parameters()] == [k for k, _ in tm.named_parameters()]
    copy_weights(tm, pm)
    x = torch.randn(B, T, I) if batch_first else torch.randn(T, B, I)
    x.requires_grad_()
    D = 2 if bidirectional else 1
    state_t = state_p = None
    if with_state:
        h0 = torch.randn(num_layers * D, B, H, requires_grad=True)
        if name == "LSTM":
            c0 = torch.randn(num_layers * D, B, H, requires_grad=True)
            state_t, state_p = (h0, c0), (to_pydl(h0, True), to_pydl(c0, True))
        else:
            state_t, state_p = h0, to_pydl(h0, True)
    px = to_pydl(x, True)
    out_t, hid_t = tm(x, state_t)
    out_p, hid_p = pm(px, state_p)
    np.testing.assert_allclose(out_p.detach().numpy(), out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    hn_t = hid_t[0] if name == "LSTM" else hid_t
    hn_p = hid_p[0] if name == "LSTM" else hid_p
    np.testing.assert_allclose(hn_p.detach().numpy(), hn_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    w = torch.randn(*out_t.shape)
    ((out_t * w).sum() + hn_t.pow(2).sum()).backward()
    ((out_p * to_pydl(w)).sum() + (hn_p * hn_p).sum()).backward()
    np.testing.assert_allclose(px.grad.numpy(), x.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (k, pp), (_, tp) in zip(pm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(pp.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=k)
    if with_state:
        hs_t = state_t if name != "LSTM" else state_t[0]
        hs_p = state_p if name != "LSTM" else state_p[0]
        np.testing.assert_allclose(hs_p.grad.numpy(), hs_t.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(name):
    torch.manual_seed(1)
    tc, pc = getattr(torch.nn, name)(4, 5), getattr(nn, name)(4, 5)
    copy_weights(tc, pc)
    x = torch.randn(3, 4, requires_grad=True)
    px = to_pydl(x, True)
    out_t, out_p = tc(x), pc(px)
    if name == "LSTMCell":
        out_t, out_p = out_t[0] + 2 * out_t[1], out_p[0] + out_p[1] * 2
    np.testing.assert_allclose(out_p.detach().numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    out_t.sum().backward()
    out_p.sum().backward()
    np.testing.assert_allclose(px.grad.numpy(), x.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pc.weight_hh.grad.numpy(), tc.weight_hh.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_unbatched_input():
    torch.manual_seed(2)
    tm, pm = torch.nn.GRU(3, 4, num_layers=2), nn.GRU(3, 4, num_layers=2)
    copy_weights(tm, pm)
    x = torch.randn(6, 3)
    out_t, h_t = tm(x)
    out_p, h_p = pm(to_pydl(x))
    assert tuple(out_p.shape) == (6, 4) and tuple(h_p.shape) == (2, 4)
    np.testing.assert_allclose(out_p.detach().numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_p.detach().numpy(), h_t.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_variable_lengths(bidirectional):
    torch.manual_seed(3)
    tm = torch.nn.LSTM(2, 4, batch_first=True, bidirectional=bidirectional)
    pm = nn.LSTM(2, 4, batch_first=True, bidirectional=bidirectional)
    copy_weights(tm, pm)
    lengths = [5, 2, 4]
    x = torch.randn(3, 5, 2, requires_grad=True)
    packed_t = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out_t, (h_t, c_t) = tm(packed_t)
    pad_t, len_t = torch.nn.utils.rnn.pad_packed_sequence(out_t, batch_first=True)
    px = to_pydl(x, True)
    packed_p = nn.utils.rnn.pack_padded_sequence(px, lengths, batch_first=True, enforce_sorted=False)
    out_p, (h_p, c_p) = pm(packed_p)
    pad_p, len_p = nn.utils.rnn.pad_packed_sequence(out_p, batch_first=True)
    assert len_p.tolist() == len_t.tolist()
    np.testing.assert_allclose(pad_p.detach().numpy(), pad_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    # padding must not leak into the final states
    np.testing.assert_allclose(h_p.detach().numpy(), h_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c_p.detach().numpy(), c_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    (pad_t.sum() + h_t.sum()).backward()
    (pad_p.sum() + h_p.sum()).backward()
    np.testing.assert_allclose(px.grad.numpy(), x.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(packed_p.data.detach().numpy(), packed_t.data.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_pad_sequence_matches_torch():
    seqs = [np.random.rand(n, 3).astype(np.float32) for n in (4, 1, 3)]
    for bf in (False, True):
        ref = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=bf, padding_value=-1.0)
        out = nn.utils.rnn.pad_sequence([pydl.tensor(s) for s in seqs], batch_first=bf, padding_value=-1.0)
        np.testing.assert_array_equal(out.numpy(), ref.numpy())


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
@pytest.mark.parametrize("reverse", [False, True])
def test_layer_op_gradcheck(mode, reverse):
    pydl.manual_seed(0)
    T, B, I, H = 3, 2, 2, 3
    G = {0: 1, 1: 1, 2: 4, 3: 3}[mode]
    f64 = pydl.float64
    x = pydl.randn(T, B, I, dtype=f64, requires_grad=True)
    h0 = pydl.randn(B, H, dtype=f64, requires_grad=True)
    c0 = pydl.randn(B, H, dtype=f64, requires_grad=True) if mode == 2 else None
    w_ih = pydl.randn(G * H, I, dtype=f64, requires_grad=True)
    w_hh = pydl.randn(G * H, H, dtype=f64, requires_grad=True)
    b = pydl.randn(G * H, dtype=f64, requires_grad=True)
    lengths = pydl.tensor([3, 2])

    def f(x, h0, w_ih, w_hh, b, *c):
        out, hn, cn = pydl._C.rnn_layer(mode, x, h0, c[0] if c else None, w_ih, w_hh, b, b * 0.5, reverse, lengths)
        return (out, hn) if cn is None else (out, hn, cn)

    args = (x, h0, w_ih, w_hh, b) + ((c0,) if c0 is not None else ())
    assert pydl.autograd.gradcheck(f, args, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_bad_inputs_raise_clear_errors():
    lstm = nn.LSTM(4, 6, num_layers=2)
    with pytest.raises(ValueError, match=r"input.size\(-1\) must be equal to input_size. Expected 4, got 5"):
        lstm(pydl.randn(3, 2, 5))
    with pytest.raises(ValueError, match=r"Expected hidden\[0\] size \(2, 2, 6\), got \(1, 2, 6\)"):
        lstm(pydl.randn(3, 2, 4), (pydl.zeros(1, 2, 6), pydl.zeros(2, 2, 6)))
    with pytest.raises(TypeError, match="tuple"):
        lstm(pydl.randn(3, 2, 4), pydl.zeros(2, 2, 6))
    with pytest.raises(ValueError, match="4D"):
        nn.GRU(4, 6)(pydl.randn(3, 2, 4, 1))
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(4, 6, dropout=1.5)
    with pytest.raises(ValueError, match="length 7"):
        pydl._C.rnn_layer(2, pydl.randn(3, 2, 4), pydl.zeros(2, 6), pydl.zeros(2, 6), lstm.weight_ih_l0,
                          lstm.weight_hh_l0, None, None, False, pydl.tensor([7, 1]))


def test_seed_program_b_trains():
    """Program B's model (nn.LSTM batch_first + Linear on the last step) learns a toy task."""
    pydl.manual_seed(0)

    class LSTMModel(nn.Module):
        def __init__(self, input_size, hidden_size, num_layers, num_classes):
            super(LSTMModel, self).__init__()
            self.hidden_size = hidden_size
            self.num_layers = num_layers
            self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
            self.fc = nn.Linear(hidden_size, num_classes)

        def forward(self, x):
            h0 = pydl.zeros(self.num_layers, x.size(0), self.hidden_size)
            c0 = pydl.zeros(self.num_layers, x.size(0), self.hidden_size)
            out, _ = self.lstm(x, (h0, c0))
            return self.fc(out[:, -1, :])

    # class = whether the sum of the sequence's first feature is positive
    x = pydl.randn(256, 8, 3)
    y = (x[:, :, 0].sum(1) > 0).long()
    model = LSTMModel(3, 16, 2, 2)
    criterion = nn.CrossEntropyLoss()
    optimizer = pydl.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    acc = (model(x).argmax(1) == y).float().mean().item()
    assert acc > 0.9, acc
