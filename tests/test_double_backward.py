"""Double backward of the ops whose first-order backward is a fused kernel (conv, softmax, class losses,
normalisation): under create_graph the engine runs their op-written backward, so second derivatives match
torch's and finite differences of the first derivative."""
import numpy as np
import pytest

from helpers import check_double_backward

torch = pytest.importorskip("torch")

R = np.random.default_rng(0)


def a(*shape, lo=-1.0, hi=1.0):
    return R.uniform(lo, hi, size=shape)


def t(*shape, n=5):
    return R.integers(0, n, size=shape).astype(np.int64)


CASES = {
    "conv2d": (lambda F, x, w, b: F.conv2d(x, w, b), a(2, 3, 5, 5), a(4, 3, 3, 3), a(4)),
    "conv2d_stride_pad": (lambda F, x, w: F.conv2d(x, w, stride=2, padding=1), a(1, 2, 6, 5), a(3, 2, 3, 2)),
    "conv2d_dilation_pad2": (lambda F, x, w: F.conv2d(x, w, padding=(1, 2), dilation=(2, 1)), a(1, 2, 6, 5), a(2, 2, 2, 3)),
    "conv2d_groups_stride": (lambda F, x, w, b: F.conv2d(x, w, b, stride=(2, 1), groups=2), a(2, 4, 5, 5), a(6, 2, 3, 3), a(6)),
    "conv2d_same_even_kernel": (lambda F, x, w: F.conv2d(x, w, padding="same"), a(1, 2, 5, 4), a(2, 2, 4, 3)),
    "conv2d_unbatched": (lambda F, x, w: F.conv2d(x, w, stride=2), a(2, 5, 5), a(2, 2, 3, 3)),
    "conv1d": (lambda F, x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2), a(2, 3, 9), a(2, 3, 3), a(2)),
    "conv_transpose2d": (lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
                         a(1, 3, 3, 3), a(3, 2, 3, 3), a(2)),
    "conv_transpose2d_groups_dilation": (lambda F, x, w: F.conv_transpose2d(x, w, groups=2, dilation=2, stride=(1, 2)),
                                         a(2, 4, 3, 3), a(4, 1, 2, 2)),
    "conv_transpose1d": (lambda F, x, w: F.conv_transpose1d(x, w, stride=3, padding=1), a(1, 2, 4), a(2, 3, 3)),
    "softmax": (lambda F, x: F.softmax(x, dim=1), a(3, 5)),
    "softmax_dim0": (lambda F, x: F.softmax(x, dim=0), a(4, 2, 3)),
    "log_softmax": (lambda F, x: F.log_softmax(x, dim=-1), a(3, 5)),
    "log_softmax_dim1": (lambda F, x: F.log_softmax(x, dim=1), a(2, 4, 3)),
    "cross_entropy": (lambda F, x, y: F.cross_entropy(x, y), a(4, 5), t(4)),
    "cross_entropy_weight_sum": (lambda F, x, y, w: F.cross_entropy(x, y, w, reduction="sum"), a(4, 5), t(4), a(5, lo=0.2), {"const": (2,)}),
    "cross_entropy_ignore_none": (lambda F, x, y: F.cross_entropy(x, y, ignore_index=2, reduction="none"),
                                  a(6, 5), np.array([0, 2, 1, 2, 4, 3])),
    "cross_entropy_smoothing_weight": (lambda F, x, y, w: F.cross_entropy(x, y, w, ignore_index=1, label_smoothing=0.2),
                                       a(6, 5), np.array([0, 1, 1, 2, 4, 3]), a(5, lo=0.2), {"const": (2,)}),
    "cross_entropy_spatial": (lambda F, x, y: F.cross_entropy(x, y, label_smoothing=0.1), a(2, 4, 3, 2), t(2, 3, 2, n=4)),
    "cross_entropy_1d": (lambda F, x, y: F.cross_entropy(x, y), a(5), np.array(3)),
    "nll_loss": (lambda F, x, y: F.nll_loss(F.log_softmax(x, 1), y), a(4, 5), t(4)),
    "nll_loss_weight_ignore_none": (lambda F, x, y, w: F.nll_loss(x.tanh(), y, w, ignore_index=0, reduction="none"),
                                    a(5, 4), np.array([0, 1, 3, 0, 2]), a(4, lo=0.2), {"const": (2,)}),
    "layer_norm": (lambda F, x, w, b: F.layer_norm(x, (5,), w, b), a(3, 2, 5), a(5), a(5)),
    "layer_norm_2d_no_affine": (lambda F, x: F.layer_norm(x, (3, 4)), a(2, 3, 4)),
    "layer_norm_weight_only": (lambda F, x, w: F.layer_norm(x, (4,), w, eps=0.1), a(3, 4), a(4)),
    "batch_norm_train": (lambda F, x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=True),
                         a(4, 3, 2, 2), a(3), a(3), a(3), a(3, lo=0.5), {"const": (3, 4)}),
    "batch_norm_train_no_stats": (lambda F, x, w: F.batch_norm(x, None, None, w, training=True, eps=0.1), a(5, 3), a(3)),
    "batch_norm_eval": (lambda F, x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=False),
                        a(2, 3, 4), a(3), a(3), a(3), a(3, lo=0.5), {"const": (3, 4)}),
    "group_norm": (lambda F, x, w, b: F.group_norm(x, 2, w, b), a(2, 4, 3), a(4), a(4)),
    "instance_norm": (lambda F, x: F.instance_norm(x), a(2, 3, 4)),
    "mse_loss": (lambda F, x, y: F.mse_loss(x, y), a(3, 4), a(3, 4)),
    "mse_loss_none": (lambda F, x, y: F.mse_loss(x, y, reduction="none"), a(3, 4), a(3, 4)),
    "l1_loss_sum": (lambda F, x, y: F.l1_loss(x, y, reduction="sum"), a(3, 4), a(3, 4)),
    "smooth_l1_loss": (lambda F, x, y: F.smooth_l1_loss(x, y, beta=0.7), a(3, 4), a(3, 4)),
    "binary_cross_entropy": (lambda F, x, y, w: F.binary_cross_entropy(x, y, w), a(3, 4, lo=0.1, hi=0.9), a(3, 4, lo=0.0),
                             a(3, 4, lo=0.5), {"const": (2,)}),
    "bce_with_logits_pos_weight": (lambda F, x, y, pw: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw),
                                   a(3, 4), a(3, 4, lo=0.0), a(4, lo=0.5), {"const": (2,)}),
    "pad_reflect": (lambda F, x: F.pad(x, (1, 2, 2, 1), mode="reflect"), a(1, 2, 4, 4)),
    "pad_constant": (lambda F, x: F.pad(x, (1, 1, 0, 2), value=2.0), a(2, 3, 3)),
    "embedding_padding_idx": (lambda F, i, w: F.embedding(i, w, padding_idx=1), t(2, 3, n=4), a(4, 3)),
    "interpolate_bilinear": (lambda F, x: F.interpolate(x, size=(5, 3), mode="bilinear", align_corners=False), a(1, 2, 3, 4)),
    "interpolate_nearest": (lambda F, x: F.interpolate(x, scale_factor=2, mode="nearest"), a(1, 2, 3)),
    "adaptive_max_pool2d": (lambda F, x: F.adaptive_max_pool2d(x, (2, 3)), a(1, 2, 5, 4)),
    "attention": (lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v), a(2, 3, 4), a(2, 5, 4), a(2, 5, 3)),
    "attention_causal_scale": (lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3),
                               a(1, 2, 4, 3), a(1, 2, 4, 3), a(1, 2, 4, 2)),
    "attention_float_mask": (lambda F, q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                             a(2, 3, 4), a(2, 5, 4), a(2, 5, 3), a(3, 5)),
    "attention_bool_mask": (lambda F, q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                            a(2, 3, 4), a(2, 5, 4), a(2, 5, 3), np.arange(15).reshape(3, 5) % 3 != 1),
    "cumprod": (lambda F, x: x.cumprod(1), a(3, 4)),
    "cumprod_zeros": (lambda F, x: x.cumprod(0), np.array([[0.5, 0.0, 1.5], [2.0, -1.0, 0.0], [0.0, 0.7, -0.3]])),
}


@pytest.mark.parametrize("name", list(CASES))
def test_double_backward(name):
    fn, *arrays = CASES[name]
    kw = arrays.pop() if isinstance(arrays[-1], dict) else {}
    check_double_backward(fn, *arrays, **kw)


@pytest.mark.parametrize("fn", [
    lambda F, x, w: F.conv2d(x, w, stride=2, padding=1),
    lambda F, x, w: F.conv_transpose2d(x, w.transpose(0, 1), stride=2),
    lambda F, x, w: F.log_softmax(F.conv2d(x, w), 1),
    lambda F, x, w: F.cross_entropy(F.conv2d(x, w), torch_or_pydl(F, np.zeros((1, 3, 3), dtype=np.int64))),
])
def test_third_derivative_matches_torch(fn):
    """The op-written backward is itself recorded through ops whose backward is op-written: any order works."""
    import pydl
    xa, wa = a(1, 2, 5, 5), a(3, 2, 3, 3)
    res = []
    for lib in (pydl, torch):
        F = lib.nn.functional
        x, w = lib.tensor(xa, requires_grad=True), lib.tensor(wa, requires_grad=True)
        (g,) = lib.autograd.grad(fn(F, x, w).pow(3).sum(), [x], create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), [w], create_graph=True)
        (k,) = lib.autograd.grad(h.sin().sum(), [x])
        res.append([r.detach().numpy() for r in (g, h, k)])
    for p, q in zip(*res):
        np.testing.assert_allclose(p, q, rtol=1e-7, atol=1e-8 * np.abs(q).max())


def torch_or_pydl(F, arr):
    import pydl
    return torch.from_numpy(arr) if F is torch.nn.functional else pydl.from_numpy(arr)
