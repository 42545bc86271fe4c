"""CUDA self-test: every CUDA kernel compared with its CPU kernel on the same inputs.

Each case builds its inputs on the CPU from a seeded NumPy generator, runs one function on the
CPU and on the GPU (the same inputs copied there), and compares the outputs and the gradients of
the inputs. ``pydl info --cuda-selftest`` runs all cases; tests/test_cuda.py runs each as a test.
Both need a PYDL_CUDA=ON build on a machine with a GPU, and say so plainly without one.
"""
import numpy as np

__all__ = ["CASES", "run_case", "main"]


def _F():
    import pydl.nn.functional as F
    return F


def _r(*shape, seed=0, low=-1.0, high=1.0):
    return np.random.default_rng(seed + len(shape)).uniform(low, high, shape).astype(np.float32)


def _labels(n, c, seed=0):
    return np.random.default_rng(seed).integers(0, c, n).astype(np.int64)


# name -> (input arrays (float ones get requires_grad), function of pydl tensors returning tensors)
def _cases():
    import pydl
    F = _F()
    x34, y34, y4 = _r(3, 4), _r(3, 4, seed=1), _r(4, seed=2)
    pos = _r(3, 4, low=0.1, high=2.0)
    img, w1, b1 = _r(2, 3, 9, 9), _r(4, 3, 3, 3, seed=3), _r(4, seed=4)
    return {
        # elementwise: broadcasting, strides (transposes), every dtype path
        "add_broadcast": ([x34, y4], lambda a, b: [a + b]),
        "sub_mul_div": ([x34, y34], lambda a, b: [(a - b) * b / (b.abs() + 1)]),
        "pow_max_min": ([pos, y34], lambda a, b: [a ** b, pydl.maximum(a, b), pydl.minimum(a, b)]),
        "strided_transpose": ([x34, _r(4, 3, seed=5)], lambda a, b: [a.t() * b + b]),
        "unary": ([pos], lambda a: [a.exp(), a.log(), a.tanh(), a.sigmoid(), a.sqrt(), a.sin(), F.relu(a - 1)]),
        "compare_where_clamp": ([x34, y34], lambda a, b: [pydl.where(a > b, a, b), a.clamp(-0.5, 0.5),
                                                       (a <= b).float()]),
        "int_ops": ([np.arange(12, dtype=np.int64).reshape(3, 4) - 5],
                    lambda a: [a * 3 - 1, a // 2, a % 3, (a > 0).sum()]),
        "casts_copies": ([x34], lambda a: [a.double().float() * 2, a.t().contiguous(), (a * 10).long().float()]),
        # reductions
        "reduce": ([_r(4, 5, 6)], lambda a: [a.sum(), a.sum(1), a.mean((0, 2)), a.amax(2), a.max(1)[0], a.prod(0)]),
        "argmax": ([_r(6, 7)], lambda a: [a.argmax(1).float(), a.argmin(0).float(), a.argmax().float()]),
        # matmul through cuBLAS
        "matmul_2d": ([_r(17, 33), _r(33, 9, seed=6)], lambda a, b: [a @ b]),
        "matmul_batched": ([_r(3, 5, 7), _r(3, 7, 4, seed=7)], lambda a, b: [pydl.matmul(a, b)]),
        "matmul_transposed": ([_r(7, 5), _r(4, 7, seed=8)], lambda a, b: [a.t() @ b.t()]),
        "linear": ([_r(8, 20), _r(6, 20, seed=9), _r(6, seed=10)], lambda x, w, b: [F.linear(x, w, b)]),
        # nn
        "conv2d": ([img, w1, b1], lambda x, w, b: [F.conv2d(x, w, b, stride=1, padding=1)]),
        "conv2d_strided_groups": ([_r(2, 4, 8, 8), _r(6, 2, 3, 3, seed=11)],
                                  lambda x, w: [F.conv2d(x, w, None, stride=2, padding=1, groups=2)]),
        "conv_transpose2d": ([_r(2, 4, 5, 5), _r(4, 3, 3, 3, seed=51), _r(3, seed=52), _r(4, 2, 2, 3, seed=53)],
                             lambda x, w, b, w2: [F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
                                                  F.conv_transpose2d(x, w2, None, groups=2, dilation=(2, 1))]),
        "max_pool2d": ([_r(2, 3, 8, 8)], lambda x: [F.max_pool2d(x, 2), F.max_pool2d(x, 3, 2, 1)]),
        "softmax": ([_r(5, 7), _r(2, 3, 4, seed=12)], lambda a, b: [F.softmax(a, 1), F.log_softmax(b, 1)]),
        "cross_entropy": ([_r(8, 5), _labels(8, 5)], lambda x, t: [F.cross_entropy(x, t),
                                                                   F.cross_entropy(x, t, label_smoothing=0.1)]),
        "nll_loss": ([_r(8, 5), _labels(8, 5, seed=1)], lambda x, t: [F.nll_loss(F.log_softmax(x, 1), t)]),
        # normalisation: batch norm in training (running statistics updated) and eval mode, layer norm
        "batch_norm_train": ([_r(4, 3, 5, 5), _r(3, seed=13, low=0.5, high=1.5), _r(3, seed=14)],
                             lambda x, w, b: _batch_norm_train(pydl, x, w, b)),
        "batch_norm_eval": ([_r(4, 3, 6), _r(3, seed=15), _r(3, seed=16, low=0.5, high=2.0), _r(3, seed=13), _r(3, seed=14)],
                            lambda x, rm, rv, w, b: [F.batch_norm(x, rm.detach(), rv.detach(), w, b, training=False)]),
        "batch_norm_2d_no_affine": ([_r(7, 4)], lambda x: [F.batch_norm(x, None, None, training=True)]),
        "layer_norm": ([_r(3, 5, 40), _r(40, seed=17, low=0.5, high=1.5), _r(40, seed=18), _r(2, 3, 300, seed=19)],
                       lambda x, w, b, y: [F.layer_norm(x, 40, w, b), F.layer_norm(x, (5, 40)), F.layer_norm(y, 300)]),
        # embedding (repeated indices: the backward's rows collide)
        "embedding": ([_r(10, 6), np.array([[1, 2, 2, 9], [0, 2, 1, 1], [7, 7, 7, 3]], dtype=np.int64)],
                      lambda w, i: [F.embedding(i, w), F.embedding(i, w, padding_idx=2), F.embedding(i[0], w * 2)]),
        # gather / scatter(-add) along a dim: repeated and negative indices (scatter's are distinct per row:
        # which of several writes lands is unspecified on a GPU)
        "gather_scatter_add": ([_r(4, 5), np.array([[0, 4, 4], [-1, 2, 2], [1, 1, 1], [3, 0, -5]], dtype=np.int64),
                                _r(4, 3, seed=20)],
                               lambda a, i, s: [a.gather(1, i), a.t().gather(0, i.t() % 5), pydl.scatter_add(a, 1, i, s),
                                                pydl.scatter_add(a, 0, i % 4, s),
                                                pydl.scatter_add((a * 0).long(), 1, i, (s * 10).long()).float()]),
        "scatter": ([_r(4, 5), np.array([[0, 4, 2], [-1, 2, 0], [1, 3, 0], [3, 0, -4]], dtype=np.int64), _r(4, 3, seed=21)],
                    lambda a, i, s: [pydl.scatter(a, 1, i, s), pydl.scatter(a, 1, i, value=2.5),
                                     pydl.scatter(a.t(), 0, i.t(), s.t())]),
        # advanced indexing: index_select, x[idx] (backward: accumulating index_put), index_put
        "index_select_advanced": ([_r(5, 6), np.array([4, 0, 0, -1], dtype=np.int64), _r(3, 6, seed=22)],
                                  lambda a, i, v: [a.index_select(0, i), a.index_select(1, i), a[i, i], a[:, i], a.t()[i],
                                                   pydl.index_put(a, (i[:2],), v[:2]),  # distinct: plain writes
                                                   pydl.index_put(a, (i[:3],), v, accumulate=True)]),
        # scans along each dim (cumprod: a zero in a line, the backward's no-division path), ints included
        "cumsum_cumprod": ([_r(3, 4, 5), np.arange(-5, 7, dtype=np.int64).reshape(3, 4)],
                           lambda a, i: [a.cumsum(0), a.cumsum(1), a.t().cumsum(-1), pydl.cumprod(a, 1),
                                         pydl.cumprod(a * (a > -0.8).float(), 2), pydl.cumprod(a.sum(0), 0),
                                         i.cumsum(1).float(), pydl.cumprod(i, 0).float()]),
        "one_hot": ([np.array([[0, 3, 1], [4, 4, 0]], dtype=np.int64)],
                    lambda i: [F.one_hot(i, 6).float(), F.one_hot(i).float(), F.one_hot(i.t()[0]).float()]),
        # pad: every mode, several dims, negative (cropping) constant padding, ints
        "pad": ([_r(2, 3, 5, 6), np.arange(12, dtype=np.int64).reshape(3, 4)],
                lambda x, i: [F.pad(x, (1, 2)), F.pad(x, (2, 1, 0, 3), value=0.5), F.pad(x, (-1, 2, 1, -2)),
                              F.pad(x, (3, 2, 1, 4), mode="reflect"), F.pad(x, (2, 3, 4, 1), mode="replicate"),
                              F.pad(x, (2, 6, 5, 1), mode="circular"), F.pad(x.transpose(2, 3), (1, 1, 1, 1, 1, 1)),
                              F.pad(i, (1, 2), value=7).float(), F.pad(i, (2, 1, 1, 1), mode="reflect").float()]),
        # sort / argsort / topk: ties (stable order), NaN, descending, every dim, ints
        "sort_topk": ([np.array([[0.5, -1.0, 0.5, np.nan, 2.0, -1.0], [3.0, 1.0, np.nan, 1.0, 0.0, 3.0]], dtype=np.float32),
                       _r(3, 7, 4), np.array([[3, 1, 3, 0], [2, 2, 5, 1]], dtype=np.int64)],
                      lambda a, b, i: [*pydl.sort(a, 1), *pydl.sort(a, 1, descending=True), *pydl.sort(b, 1),
                                       pydl.argsort(b, 0).float(), *pydl.topk(b, 3, 1), *pydl.topk(b, 2, 2, largest=False),
                                       *pydl.sort(i, 1), pydl.argsort(i, 0, descending=True).float()]),
        # bool masks: nonzero (strided, ints, none set), x[mask], x[mask] = v (with and without autograd),
        # masked_select / masked_fill(_) / masked_scatter
        "nonzero_masks": ([_r(3, 4, 5), _r(3, 4, 5, seed=40) > 0, _r(3, 4, seed=41) > 0, _r(60, seed=42),
                           np.array([[0, 2, 0], [1, 0, 3]], dtype=np.int64)],
                          lambda x, m, m2, s, i: _mask_runs(pydl, x, m, m2, s, i)),
        # interpolate: every mode, align_corners, antialias, scale factors, 1-D / 2-D / 3-D
        "interpolate": ([_r(2, 3, 5, 6), _r(2, 2, 7), _r(1, 2, 3, 4, 5)],
                        lambda x, l, v: [F.interpolate(x, size=(7, 9)), F.interpolate(x, scale_factor=2),
                                         F.interpolate(x, size=(3, 4), mode="nearest-exact"),
                                         F.interpolate(x, size=(8, 11), mode="bilinear"),
                                         F.interpolate(x, size=(8, 4), mode="bilinear", align_corners=True),
                                         F.interpolate(x, size=(9, 10), mode="bicubic"),
                                         F.interpolate(x, size=(4, 13), mode="bicubic", align_corners=True),
                                         F.interpolate(x, size=(3, 4), mode="bilinear", antialias=True),
                                         F.interpolate(x, size=(2, 3), mode="bicubic", antialias=True),
                                         F.interpolate(l, size=12, mode="linear"), F.interpolate(l, size=3),
                                         F.interpolate(v, size=(4, 5, 3), mode="trilinear"),
                                         F.interpolate(v, scale_factor=1.5)]),
        # im2col / col2im: unfold, fold, conv3d (which runs on them)
        "unfold_fold_conv3d": ([_r(2, 3, 7, 6), _r(2, 12, 20, seed=43), _r(2, 2, 4, 5, 6, seed=44),
                                _r(3, 2, 2, 3, 2, seed=45)],
                               lambda x, c, v, w: [F.unfold(x, 2, padding=1, stride=2), F.unfold(x, (3, 2), dilation=(2, 1)),
                                                   F.fold(c, (5, 6), 2), F.fold(c, (6, 10), 2, dilation=(1, 2), padding=1, stride=2),
                                                   F.conv3d(v, w, padding=1)]),
        # attention: causal, bool mask (a row with every key masked), float mask (its gradient), scale,
        # dropout (the same streams on both devices), broadcast batch dims
        "scaled_dot_product_attention": ([_r(2, 3, 5, 4), _r(2, 3, 6, 4, seed=46), _r(2, 3, 6, 3, seed=47),
                                          _attn_bool_mask(), _r(2, 1, 5, 6, seed=48), _r(3, 5, 4, seed=49)],
                                         lambda q, k, v, m, fm, q1: _attention_runs(pydl, F, q, k, v, m, fm, q1)),
        # CTC: repeated labels (the skip rule), an empty target, 1-D targets, an impossible sample (zero_infinity)
        "ctc_loss": ([_r(6, 3, 5), np.array([[1, 2, 2], [3, 3, 0], [4, 1, 2]], dtype=np.int64),
                      np.array([6, 5, 4], dtype=np.int64), np.array([3, 2, 0], dtype=np.int64),
                      np.array([6, 1, 4], dtype=np.int64), np.array([1, 2, 2, 3, 3], dtype=np.int64)],
                     lambda x, t, il, tl, il2, t1: [F.ctc_loss(F.log_softmax(x, 2), t, il, tl, reduction="none"),
                                                    F.ctc_loss(F.log_softmax(x, 2), t, il, tl),
                                                    F.ctc_loss(F.log_softmax(x, 2), t1, il, tl, reduction="sum"),
                                                    F.ctc_loss(F.log_softmax(x, 2), t, il2, tl, reduction="sum",
                                                               zero_infinity=True)]),
        # cummax / cummin (ties: the last index; NaN propagates; ints) and searchsorted (NaN last, shared or
        # per-row boundaries, both sides)
        "cummax_searchsorted": ([np.array([[0.5, 2.0, 2.0, np.nan, 3.0], [1.0, -1.0, 1.0, 0.0, -1.0]], dtype=np.float32),
                                 np.array([[3, 1, 3, 0], [2, 2, 5, 1]], dtype=np.int64),
                                 np.array([-1.0, 0.0, 0.0, 2.5, np.nan], dtype=np.float32), _r(2, 6, seed=54)],
                                lambda a, i, b, v: [*pydl.cummax(a, 1), *pydl.cummin(a, 1), pydl.cummax(a, 0)[0],
                                                    pydl.cummax(i, 1)[0].float(), pydl.cummin(i, 0)[1].float(),
                                                    pydl.searchsorted(b, v).float(), pydl.searchsorted(b, v, right=True).float(),
                                                    pydl.searchsorted(v.sort(1)[0], v).float(),
                                                    pydl.searchsorted(b, a).float(), pydl.bucketize(v, b.detach()).float()]),
        # logcumsumexp along both dims, with -inf entries (their gradient is 0) and large values
        "logcumsumexp": ([np.array([[0.5, -np.inf, 2.0, 80.0, -3.0], [-np.inf, -np.inf, 1.0, 0.0, 90.0]], dtype=np.float32),
                          _r(3, 4, 5, seed=55)],
                         lambda a, b: [pydl.logcumsumexp(a, 1), pydl.logcumsumexp(b, 1), pydl.logcumsumexp(b, 0)]),
        # pooling
        "avg_pool2d": ([_r(2, 3, 9, 9)], lambda x: [F.avg_pool2d(x, 2), F.avg_pool2d(x, 3, 2, 1),
                                                    F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
                                                    F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, divisor_override=5)]),
        "adaptive_avg_pool2d": ([_r(2, 3, 9, 7)], lambda x: [F.adaptive_avg_pool2d(x, (4, 3)), F.adaptive_avg_pool2d(x, 1),
                                                             F.adaptive_avg_pool2d(x, (9, 7))]),
        "adaptive_max_pool2d": ([_r(2, 3, 9, 7)], lambda x: [F.adaptive_max_pool2d(x, (4, 3)), F.adaptive_max_pool2d(x, 1),
                                                             F.adaptive_max_pool2d(x, (5, 7), return_indices=True)[1].float()]),
        # activations (the fused kernels of act_ops.h): values around each branch point
        "activations": ([_r(4, 60, low=-4.0, high=4.0)], lambda x: _activations(F, x)),
        "activations_large_x": ([_r(2, 30, low=-40.0, high=40.0)],
                                lambda x: [F.softplus(x), F.mish(x), F.logsigmoid(x), F.silu(x), F.elu(x), F.selu(x),
                                           F.gelu(x), F.gelu(x, approximate="tanh")]),
        # pointwise losses: broadcasting, weights, pos_weight, every reduction
        "point_losses": ([_r(4, 5), _r(4, 5, seed=1), _r(5, seed=2)],
                         lambda x, y, r: [F.mse_loss(x, y), F.mse_loss(x, r, reduction="none"), F.l1_loss(x, y, reduction="sum"),
                                          F.smooth_l1_loss(x, y, beta=0.5), F.smooth_l1_loss(x, r, reduction="none", beta=2.0),
                                          F.huber_loss(x, y, delta=0.3)]),
        "binary_cross_entropy": ([_r(4, 5, low=0.02, high=0.98), _r(4, 5, seed=1, low=0.0, high=1.0), _r(5, seed=2, low=0.5, high=2.0),
                                  _r(4, 5, seed=3, low=-6.0, high=6.0)],
                                 lambda p, t, w, z: [F.binary_cross_entropy(p, t), F.binary_cross_entropy(p, t, weight=w, reduction="none"),
                                                     F.binary_cross_entropy_with_logits(z, t),
                                                     F.binary_cross_entropy_with_logits(z, t, weight=w, pos_weight=w * 2, reduction="sum"),
                                                     F.kl_div(F.log_softmax(z, 1), F.softmax(p, 1), reduction="batchmean")]),
        # recurrent layers, the kernels themselves (rnn_layer: one direction of one layer): every mode, reversed,
        # with sequence lengths (finished sequences carry their state), without biases
        "rnn_layer_lstm": (_rnn_inputs(4), lambda *a: _rnn_layer_runs(pydl, 2, *a)),
        "rnn_layer_gru": (_rnn_inputs(3), lambda *a: _rnn_layer_runs(pydl, 3, *a)),
        "rnn_layer_tanh": (_rnn_inputs(1), lambda *a: _rnn_layer_runs(pydl, 0, *a)),
        "rnn_layer_relu": (_rnn_inputs(1), lambda *a: _rnn_layer_runs(pydl, 1, *a)),
    }


def _mask_runs(pydl, x, m, m2, s, i):
    y = x * 1
    y[m] = 0.5                                        # setitem under autograd
    k = int(m2.sum().item())
    z = x * 1
    z[m2] = s[:k * 5].reshape(k, 5)                   # values with a gradient
    w = x.detach() * 1
    w[m2] = 7.0                                       # in place, no autograd
    w.masked_fill_(m, -1.0)
    return [pydl.nonzero(m).float(), pydl.nonzero(m.transpose(0, 2)).float(), pydl.nonzero(i).float(),
            pydl.nonzero(x > 2).float(), x[m], x[m2], x[:, m2[0]], x[x > 2], x.masked_select(m),
            x.masked_select(m2[:, :, None]), x.masked_fill(m, 3.0), y, z, w, x.masked_scatter(m, s)]


def _attn_bool_mask():
    m = np.random.default_rng(50).uniform(0, 1, (5, 6)) > 0.3
    m[1] = False  # every key masked: a zero row
    return m


def _attention_runs(pydl, F, q, k, v, m, fm, q1):
    sdpa = F.scaled_dot_product_attention
    outs = [sdpa(q, k, v), sdpa(q, k, v, is_causal=True), sdpa(q, k, v, attn_mask=m), sdpa(q, k, v, attn_mask=fm, scale=0.3),
            sdpa(q1, k, v)]
    pydl.manual_seed(5)
    outs.append(sdpa(q, k, v, dropout_p=0.3))
    return outs


def _activations(F, x):
    return [F.leaky_relu(x, 0.1), F.elu(x, 0.8), F.gelu(x), F.gelu(x, approximate="tanh"), F.silu(x),
            F.softplus(x), F.softplus(x, beta=2.0, threshold=3.0), F.hardtanh(x, -0.5, 0.7), F.hardswish(x),
            F.hardsigmoid(x), F.mish(x), F.selu(x), F.celu(x, 0.7), F.softsign(x), F.softshrink(x, 0.3),
            F.hardshrink(x, 0.3), F.tanhshrink(x), F.threshold(x, 0.2, -1.0), F.logsigmoid(x)]


def _rnn_inputs(gates, T=5, B=3, I=4, H=6):
    """x, h0, c0, w_ih, w_hh, b_ih, b_hh of one layer direction with `gates` gates, and sequence lengths."""
    G = gates * H
    return [_r(T, B, I, seed=30), _r(B, H, seed=31), _r(B, H, seed=32), _r(G, I, seed=33), _r(G, H, seed=34),
            _r(G, seed=35), _r(G, seed=36), np.array([5, 2, 0], dtype=np.int64)]


def _rnn_layer_runs(pydl, mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths):
    c0 = c0 if mode == 2 else None
    outs = []
    for reverse, lens, biases in [(False, None, True), (True, None, True), (False, lengths, True), (True, lengths, True),
                                  (False, None, False)]:
        bi, bh = (b_ih, b_hh) if biases else (None, None)
        outs += [o for o in pydl._C.rnn_layer(mode, x, h0, c0, w_ih, w_hh, bi, bh, reverse, lens) if o is not None]
    return outs


def _batch_norm_train(pydl, x, w, b):
    """Training-mode batch norm, twice (the running statistics are compared as outputs)."""
    F = _F()
    rm, rv = pydl.zeros(3, device=x.device), pydl.ones(3, device=x.device)
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2)
    y2 = F.batch_norm(x * 2 + 1, rm, rv, w, b, training=True)
    return [y, y2, rm, rv]


def _dropout_case(pydl):
    """The GPU's dropout mask equals the CPU's for the same seed (the same counter-based streams)."""
    F = _F()
    pydl.manual_seed(123)
    cpu = F.dropout(pydl.ones(40000), 0.3, True)
    pydl.manual_seed(123)
    gpu = F.dropout(pydl.ones(40000, device="cuda"), 0.3, True).cpu()
    np.testing.assert_array_equal(cpu.numpy(), gpu.numpy())


# name -> optimizer of a parameter list (every fused step, with its options' branches)
_OPTIMIZERS = {
    "sgd": lambda o, ps: o.SGD(ps, lr=0.1, momentum=0.9),
    "adam": lambda o, ps: o.Adam(ps, lr=0.01),
    "adamw_amsgrad": lambda o, ps: o.AdamW(ps, lr=0.01, weight_decay=0.1, amsgrad=True),
    "rmsprop": lambda o, ps: o.RMSprop(ps, lr=0.01),
    "rmsprop_centered_momentum": lambda o, ps: o.RMSprop(ps, lr=0.01, momentum=0.9, centered=True, weight_decay=0.01),
    "adagrad": lambda o, ps: o.Adagrad(ps, lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1),
    "adadelta": lambda o, ps: o.Adadelta(ps, lr=1.0, weight_decay=0.01),
    "nadam": lambda o, ps: o.NAdam(ps, lr=0.01, weight_decay=0.01),
    "radam": lambda o, ps: o.RAdam(ps, lr=0.01),  # rectified from step 6 on: both branches run
    "radam_decoupled": lambda o, ps: o.RAdam(ps, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    "adamax": lambda o, ps: o.Adamax(ps, lr=0.01, weight_decay=0.01),
    "asgd": lambda o, ps: o.ASGD(ps, lr=0.01, t0=2),  # averaging from step 3 on
    "rprop": lambda o, ps: o.Rprop(ps, lr=0.01),
    "sparse_adam": lambda o, ps: o.SparseAdam(ps, lr=0.01),
    "adafactor": lambda o, ps: o.Adafactor(ps, lr=0.01),  # its factored state lives on the parameter's device
}


def _optim_case(pydl, name, steps=7):
    """Seven steps of optimizer `name` on the GPU match the CPU's."""
    from pydl import nn, optim
    models = []
    for dev in ("cpu", "cuda"):
        pydl.manual_seed(0)
        m = nn.Linear(6, 3).to(dev)
        opt = _OPTIMIZERS[name](optim, m.parameters())
        x = pydl.tensor(_r(5, 6), device=dev)
        for _ in range(steps):
            opt.zero_grad()
            (m(x) ** 2).sum().backward()
            opt.step()
        models.append([p.detach().cpu().numpy() for p in m.parameters()])
    for a, b in zip(*models):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def _mnistnet_case(pydl):
    """Two Adam steps of MnistNet (dropout off) give the same losses on the GPU as on the CPU."""
    from pydl import optim
    from pydl.train.models import MnistNet
    F = _F()
    losses = []
    x, t = _r(16, 1, 28, 28), _labels(16, 10)
    for dev in ("cpu", "cuda"):
        pydl.manual_seed(0)
        m = MnistNet().to(dev).eval()
        opt = optim.Adam(m.parameters(), lr=1e-3)
        xs, ts = pydl.tensor(x, device=dev), pydl.tensor(t, device=dev)
        run = []
        for _ in range(2):
            opt.zero_grad()
            loss = F.nll_loss(m(xs), ts)
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)


def _rnn_module_case(pydl, kind):
    """A 2-layer bidirectional LSTM / GRU module (batch_first, and on a packed batch): outputs, states and every
    parameter's gradient on the GPU match the CPU's."""
    from pydl import nn
    x = _r(3, 6, 4, seed=40)
    results = []
    for dev in ("cpu", "cuda"):
        pydl.manual_seed(0)
        m = getattr(nn, kind)(4, 5, num_layers=2, bidirectional=True, batch_first=True).to(dev)
        xs = pydl.tensor(x, device=dev, requires_grad=True)
        out, state = m(xs)
        states = list(state) if kind == "LSTM" else [state]
        packed = nn.utils.rnn.pack_padded_sequence(xs, pydl.tensor([6, 4, 1]), batch_first=True)
        pout, _ = m(packed)
        padded, _ = nn.utils.rnn.pad_packed_sequence(pout, batch_first=True)
        (out.sum() + sum((s * 2).sum() for s in states) + (padded * 3).sum()).backward()
        results.append([t.detach().cpu().numpy() for t in [out, padded, xs.grad, *states]] +
                       [p.grad.cpu().numpy() for p in m.parameters()])
    for k, (a, b) in enumerate(zip(*results)):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5, err_msg=f"{kind} module: result {k}")


def _special(pydl):
    cases = {"dropout": lambda: _dropout_case(pydl), "mnistnet_train_step": lambda: _mnistnet_case(pydl),
             "lstm_module": lambda: _rnn_module_case(pydl, "LSTM"), "gru_module": lambda: _rnn_module_case(pydl, "GRU")}
    for name in _OPTIMIZERS:
        cases[name] = lambda name=name: _optim_case(pydl, name)
    return cases


def case_names():
    """Names of every case (valid without a GPU, for test ids)."""
    import pydl
    return sorted(_cases()) + sorted(_special(pydl))


def run_case(name, rtol=1e-4, atol=1e-5):
    """Runs case `name` on the CPU and the GPU and asserts that outputs and gradients agree."""
    import pydl
    special = _special(pydl)
    if name in special:
        return special[name]()
    arrays, fn = _cases()[name]
    results = []
    for dev in ("cpu", "cuda"):
        ins = [pydl.tensor(a, device=dev, requires_grad=a.dtype == np.float32) for a in arrays]
        outs = fn(*ins)
        diff = [o for o in outs if o.requires_grad]
        if diff:
            sum((o.float() * (i + 1)).sum() for i, o in enumerate(diff)).backward()
        results.append(([o.detach().cpu().numpy() for o in outs],
                        [None if i.grad is None else i.grad.cpu().numpy() for i in ins]))
    (co, cg), (go, gg) = results
    for k, (a, b) in enumerate(zip(co, go)):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol, err_msg=f"{name}: output {k}")
    for k, (a, b) in enumerate(zip(cg, gg)):
        assert (a is None) == (b is None), f"{name}: gradient {k} exists on one device only"
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=rtol, atol=atol, err_msg=f"{name}: gradient of input {k}")


def main():
    """Runs every case; prints one line each. Returns 0 when all pass, 1 on a failure, 2 without a GPU."""
    import pydl
    if not pydl.cuda.is_built():
        print("CUDA self-test: this pydl build has no CUDA support (build with PYDL_CUDA=ON); nothing was run")
        return 2
    if not pydl.cuda.is_available():
        print("CUDA self-test: no GPU: this CUDA build found no CUDA device (or no driver); nothing was run on a GPU")
        return 2
    print(f"CUDA self-test on {pydl.cuda.device_count()} device(s); cuBLAS: {pydl.cuda.cublas_library() or 'not found'}")
    failed = 0
    for name in case_names():
        try:
            run_case(name)
            print(f"  ok    {name}")
        except Exception as e:  # noqa: BLE001 - report every case, then the verdict
            failed += 1
            print(f"  FAIL  {name}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    print(f"CUDA self-test: {len(case_names()) - failed} passed, {failed} failed")
    return 1 if failed else 0
