"""scaled_dot_product_attention, MultiheadAttention and the Transformer layers against PyTorch
(values, gradients, float64 gradcheck, PyTorch state dicts loaded unchanged) and bad input."""
import os
import sys

import numpy as np
import pytest

import pydl
import pydl.nn as nn
import pydl.nn.functional as F
from helpers import check

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RNG = np.random.default_rng(0)


def tcheck(fn, tfn, shapes, **kw):
    """helpers.check with torch as the reference for values and gradients (float64)."""
    def np_ref(*arrs):
        return tfn(*[torch.from_numpy(a) for a in arrs]).numpy()
    return check(fn, np_ref, shapes, dtype="float64", torch_fn=tfn, **kw)


def sdpa(**kw):
    return lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kw)


def tsdpa(**kw):
    return lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, **kw)


QKV = [(2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6)]


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}])
def test_sdpa(kw):
    tcheck(sdpa(**kw), tsdpa(**kw), QKV)


def test_sdpa_shapes_3d_2d_broadcast_and_square_causal():
    tcheck(sdpa(is_causal=True), tsdpa(is_causal=True), [(3, 6, 4), (3, 6, 4), (3, 6, 5)])
    tcheck(sdpa(), tsdpa(), [(5, 4), (7, 4), (7, 3)])
    tcheck(sdpa(), tsdpa(), [(2, 3, 5, 4), (3, 7, 4), (1, 3, 7, 6)])  # batch dims broadcast


def test_sdpa_causal_over_several_row_blocks():
    """Causal attention runs in blocks of query rows that skip the masked keys: check L > block."""
    tcheck(sdpa(is_causal=True), tsdpa(is_causal=True), [(1, 2, 37, 3), (1, 2, 41, 3), (1, 2, 41, 2)])
    tcheck(sdpa(is_causal=True), tsdpa(is_causal=True), [(2, 40, 3), (2, 23, 3), (2, 23, 2)], noncontig=False)


def test_sdpa_gqa():
    tcheck(sdpa(enable_gqa=True), tsdpa(enable_gqa=True), [(2, 4, 5, 4), (2, 2, 7, 4), (2, 2, 7, 6)])


@pytest.mark.parametrize("mshape", [(5, 7), (2, 1, 5, 7), (2, 3, 1, 7), (3, 5, 7)])
def test_sdpa_float_mask_with_grad(mshape):
    """Float masks are added (and get gradients), whether read through strides or materialised."""
    fn = lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m)  # noqa: E731
    tfn = lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m)  # noqa: E731
    tcheck(fn, tfn, QKV + [mshape])


def test_sdpa_bool_mask_and_fully_masked_rows():
    m = RNG.random((2, 1, 5, 7)) < 0.6
    m[0, 0, 1] = False  # a query that may attend to nothing: PyTorch gives zeros
    tm, pm = torch.tensor(m), pydl.tensor(m)
    out = tcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=pm),
                 lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, attn_mask=tm), QKV)
    assert np.all(out.numpy()[0, :, 1] == 0)


def test_sdpa_float32_matches_torch():
    arrs = [RNG.standard_normal(s).astype(np.float32) for s in QKV]
    got = F.scaled_dot_product_attention(*[pydl.tensor(a) for a in arrs], is_causal=True)
    want = TF.scaled_dot_product_attention(*[torch.tensor(a) for a in arrs], is_causal=True)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_sdpa_dropout():
    arrs = [RNG.standard_normal(s) for s in QKV]
    q, k, v = [pydl.tensor(a, requires_grad=True) for a in arrs]

    def fn(q, k, v):
        pydl.manual_seed(7)  # the same mask on every call (gradcheck re-runs forward)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    assert pydl.autograd.gradcheck(fn, [q, k, v])
    qc, kc, vc = [pydl.tensor(RNG.standard_normal((1, 2, 35, 3)), requires_grad=True) for _ in range(3)]
    assert pydl.autograd.gradcheck(lambda q, k, v: (pydl.manual_seed(3), F.scaled_dot_product_attention(
        q, k, v, dropout_p=0.3, is_causal=True))[1], [qc, kc, vc])
    a, b = fn(q, k, v), fn(q, k, v)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert not np.allclose(a.detach().numpy(), F.scaled_dot_product_attention(q, k, v).detach().numpy())
    # with all-ones values each output is (kept weights) / (1 - p): its mean over many rows is 1
    ones = pydl.ones(64, 1, 1, 16, 1, dtype=pydl.float64)
    out = F.scaled_dot_product_attention(pydl.zeros(64, 1, 1, 32, 8, dtype=pydl.float64),
                                         pydl.zeros(64, 1, 1, 16, 8, dtype=pydl.float64), ones.expand(64, 1, 1, 16, 1),
                                         dropout_p=0.5)
    assert abs(out.numpy().mean() - 1) < 0.05


@pytest.mark.parametrize("args, kw, err, match", [
    ([(2, 5, 4), (2, 7, 3), (2, 7, 6)], {}, ValueError, "same embedding size"),
    ([(2, 5, 4), (2, 7, 4), (2, 6, 6)], {}, ValueError, "same sequence length"),
    ([(2, 5, 4), (2, 7, 4), (2, 7, 6)], {"attn_mask": (4, 7)}, ValueError, "does not broadcast"),
    ([(2, 5, 4), (2, 7, 4), (2, 7, 6)], {"attn_mask": (5, 7), "is_causal": True}, ValueError, "is_causal"),
    ([(2, 5, 4), (2, 7, 4), (2, 7, 6)], {"dropout_p": 1.0}, ValueError, "dropout_p"),
    ([(2, 3, 5, 4), (2, 2, 7, 4), (2, 2, 7, 6)], {"enable_gqa": True}, ValueError, "multiple"),
    ([(2, 3, 5, 4), (2, 2, 7, 4), (2, 2, 7, 6)], {}, ValueError, "broadcast"),
    ([(4,), (7, 4), (7, 6)], {}, ValueError, "at least 2 dims"),
])
def test_sdpa_errors(args, kw, err, match):
    q, k, v = [pydl.randn(*s) for s in args]
    if "attn_mask" in kw:
        kw = dict(kw, attn_mask=pydl.zeros(*kw["attn_mask"]))
    with pytest.raises(err, match=match) as e:
        F.scaled_dot_product_attention(q, k, v, **kw)
    assert str(e.value).startswith("[scaled_dot_product_attention]")


def test_sdpa_dtype_errors():
    q = pydl.zeros(2, 3)
    with pytest.raises(TypeError, match=r"^\[scaled_dot_product_attention\]"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(TypeError, match=r"^\[scaled_dot_product_attention\]"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=pydl.zeros(2, 2, dtype=pydl.int64))


# ---- modules: PyTorch state dicts load unchanged and give the same outputs ----------------------

def _p(a):
    return None if a is None else pydl.tensor(a) if isinstance(a, np.ndarray) else a


def _t(a):
    return None if a is None else torch.tensor(a) if isinstance(a, np.ndarray) else a


def same_outputs(tmod, pmod, args, kw=None, train=False, atol=1e-5):
    """Loads tmod's state_dict into pmod, runs both (eval unless train) and compares all outputs."""
    kw = kw or {}
    pmod.load_state_dict(tmod.state_dict())
    tmod.train(train)
    pmod.train(train)
    to = tmod(*[_t(a) for a in args], **{k: _t(v) for k, v in kw.items()})
    po = pmod(*[_p(a) for a in args], **{k: _p(v) for k, v in kw.items()})
    to, po = (to, po) if isinstance(to, tuple) else ((to,), (po,))
    for a, b in zip(to, po):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), atol=atol, rtol=1e-4)
    return to, po


X = RNG.standard_normal((5, 3, 16)).astype(np.float32)   # (L, N, E)
Y = RNG.standard_normal((7, 3, 16)).astype(np.float32)   # (S, N, E)
KPM = np.zeros((3, 7), bool)
KPM[0, 4:] = True
AM = RNG.random((5, 7)) < 0.3


@pytest.mark.parametrize("ctor, args, kw", [
    (dict(), (X, X, X), {}),
    (dict(bias=False), (X, Y, Y), dict(average_attn_weights=False)),
    (dict(kdim=8, vdim=6), (X, Y[..., :8].copy(), Y[..., :6].copy()), {}),
    (dict(add_bias_kv=True, add_zero_attn=True), (X, Y, Y), dict(key_padding_mask=KPM, attn_mask=AM)),
    (dict(), (X, Y, Y), dict(attn_mask=np.where(AM, -1.5, 0.25).astype(np.float32), need_weights=False)),
    (dict(), (X, Y, Y), dict(key_padding_mask=KPM, need_weights=False)),
    (dict(batch_first=True), (X.swapaxes(0, 1).copy(), Y.swapaxes(0, 1).copy(), Y.swapaxes(0, 1).copy()),
     dict(key_padding_mask=KPM)),
    (dict(), (X[:, 0].copy(), Y[:, 0].copy(), Y[:, 0].copy()), dict(key_padding_mask=KPM[0].copy())),  # unbatched
    (dict(), (X, X, X), dict(attn_mask=np.triu(np.ones((5, 5), bool), 1), is_causal=True, need_weights=False)),
    (dict(), (X, Y, Y), dict(attn_mask=RNG.random((12, 5, 7)) < 0.3, need_weights=False)),  # (N*H, L, S)
    (dict(dropout=0.5), (X, Y, Y), dict(attn_mask=RNG.standard_normal((12, 5, 7)).astype(np.float32),
                                        key_padding_mask=np.where(KPM, -np.inf, 0).astype(np.float32))),  # no dropout in eval
])
def test_multihead_attention_matches_torch(ctor, args, kw):
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(16, 4, **ctor)
    same_outputs(t, nn.MultiheadAttention(16, 4, **ctor), args, kw)


def test_multihead_attention_parameters_and_gradients():
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(16, 4, kdim=8, vdim=6)
    p = nn.MultiheadAttention(16, 4, kdim=8, vdim=6)
    assert sorted(dict(p.named_parameters())) == sorted(dict(t.named_parameters()))
    t64, p64 = torch.nn.MultiheadAttention(16, 4).double(), nn.MultiheadAttention(16, 4, dtype=pydl.float64)
    assert sorted(p64.state_dict()) == ["in_proj_bias", "in_proj_weight", "out_proj.bias", "out_proj.weight"]
    p64.load_state_dict(t64.state_dict())
    x, y = X.astype(np.float64), Y.astype(np.float64)
    to, _ = t64(torch.tensor(x), torch.tensor(y), torch.tensor(y), key_padding_mask=torch.tensor(KPM))
    po, _ = p64(pydl.tensor(x), pydl.tensor(y), pydl.tensor(y), key_padding_mask=pydl.tensor(KPM))
    w = RNG.standard_normal(to.shape)
    (to * torch.tensor(w)).sum().backward()
    (po * pydl.tensor(w)).sum().backward()
    tp = dict(t64.named_parameters())
    for name, par in p64.named_parameters():
        np.testing.assert_allclose(par.grad.numpy(), tp[name].grad.numpy(), rtol=1e-8, atol=1e-10, err_msg=name)


def test_multihead_attention_errors():
    with pytest.raises(ValueError, match=r"^\[MultiheadAttention\] embed_dim \(10\) must be divisible"):
        nn.MultiheadAttention(10, 4)
    m = nn.MultiheadAttention(16, 4)
    x = pydl.tensor(X)
    with pytest.raises(ValueError, match=r"^\[multi_head_attention_forward\] expected query embedding size 16"):
        m(pydl.zeros(5, 3, 8), x, x)
    with pytest.raises(ValueError, match=r"^\[multi_head_attention_forward\] the shape of the 2D attn_mask"):
        m(x, x, x, attn_mask=pydl.zeros(4, 5))
    with pytest.raises(ValueError, match=r"^\[multi_head_attention_forward\] expected key_padding_mask of shape"):
        m(x, x, x, key_padding_mask=pydl.zeros(3, 4, dtype=pydl.bool))


@pytest.mark.parametrize("kw", [dict(), dict(norm_first=True, activation="gelu"), dict(activation=F.silu),
                                dict(batch_first=True, bias=False, layer_norm_eps=1e-3)])
def test_transformer_encoder_layer(kw):
    torch.manual_seed(0)
    tkw = dict(kw, activation=TF.silu) if kw.get("activation") is F.silu else kw
    x = X.swapaxes(0, 1).copy() if kw.get("batch_first") else X
    same_outputs(torch.nn.TransformerEncoderLayer(16, 4, 32, **tkw), nn.TransformerEncoderLayer(16, 4, 32, **kw), (x,),
                 dict(src_key_padding_mask=KPM[:, :5].copy()))


def test_transformer_decoder_layer_and_stacks():
    torch.manual_seed(0)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(7).numpy()
    same_outputs(torch.nn.TransformerDecoderLayer(16, 4, 32, norm_first=True),
                 nn.TransformerDecoderLayer(16, 4, 32, norm_first=True), (Y, X),
                 dict(tgt_mask=mask, memory_key_padding_mask=KPM[:, :5].copy(), tgt_is_causal=True))
    enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(16, 4, 32), 2, torch.nn.LayerNorm(16),
                                      enable_nested_tensor=False)
    same_outputs(enc, nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, 32), 2, nn.LayerNorm(16)), (Y,),
                 dict(mask=mask))
    dec = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(16, 4, 32), 2)
    same_outputs(dec, nn.TransformerDecoder(nn.TransformerDecoderLayer(16, 4, 32), 2), (Y, X), dict(tgt_mask=mask))


def test_transformer_full_model_and_mask():
    torch.manual_seed(0)
    t = torch.nn.Transformer(16, 4, 2, 2, 32, batch_first=True)
    p = nn.Transformer(16, 4, 2, 2, 32, batch_first=True)
    assert sorted(p.state_dict()) == sorted(t.state_dict())
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    np.testing.assert_array_equal(mask.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(5).numpy())
    src, tgt = Y.swapaxes(0, 1).copy(), X.swapaxes(0, 1).copy()
    same_outputs(t, p, (src, tgt), dict(tgt_mask=mask.numpy(), src_key_padding_mask=KPM))
    with pytest.raises(RuntimeError, match=r"^\[Transformer\] activation should be relu/gelu"):
        nn.TransformerEncoderLayer(16, 4, activation="tanh")


def test_transformer_encoder_layer_training_gradients_match_torch():
    """Train mode without dropout: the parameters' gradients agree with PyTorch's (float64)."""
    torch.manual_seed(0)
    t = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True, norm_first=True).double()
    p = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True, norm_first=True, dtype=pydl.float64)
    p.load_state_dict(t.state_dict())
    x = RNG.standard_normal((3, 5, 16))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    (t(torch.tensor(x), src_mask=mask, is_causal=True) ** 2).sum().backward()
    (p(pydl.tensor(x), src_mask=pydl.tensor(mask.numpy()), is_causal=True) ** 2).sum().backward()
    tp = dict(t.named_parameters())
    for name, par in p.named_parameters():
        np.testing.assert_allclose(par.grad.numpy(), tp[name].grad.numpy(), rtol=1e-7, atol=1e-9, err_msg=name)


def test_transformer_lm_example_trains():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"))
    import transformer_lm
    pydl.manual_seed(0)
    text, chars = transformer_lm.load_corpus()
    loss = transformer_lm.main(["--steps", "40", "--batch", "8", "--seq", "32"])
    assert loss < 0.8 * np.log(len(chars))  # well below a uniform guess after 40 steps
