"""nn breadth, part A, against PyTorch: normalisation (GroupNorm, InstanceNorm, RMSNorm,
LocalResponseNorm, BatchNorm3d), interpolate / Upsample, pixel_shuffle, unfold / fold, pad modes
and padding layers, conv3d, transposed / grouped / depthwise convolution, 1-D and adaptive
pools, max_unpool, lp_pool; float64 values and gradients (non-contiguous too), gradcheck, errors."""
import numpy as np
import pytest

import pydl
import pydl.nn as nn
import pydl.nn.functional as F
from helpers import check

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RNG = np.random.default_rng(0)


def tcheck(fn, tfn=None, shapes=(), **kw):
    """helpers.check with torch as the reference for values and gradients (float64); tfn
    defaults to fn with F replaced by torch's functional (same call on torch tensors)."""
    tfn = tfn or fn

    def np_ref(*arrs):
        return tfn(*[torch.from_numpy(a) for a in arrs]).numpy()
    return check(fn, np_ref, shapes, dtype="float64", torch_fn=tfn, **kw)


def lib(x):
    """pydl's or torch's functional module, by the type of x."""
    return TF if isinstance(x, torch.Tensor) else F


# ---- normalisation -------------------------------------------------------------------------------

def test_group_norm():
    tcheck(lambda x, w, b: lib(x).group_norm(x, 2, w, b, eps=1e-3), shapes=[(2, 4, 3, 5), (4,), (4,)])
    tcheck(lambda x: lib(x).group_norm(x, 3), shapes=[(3, 6, 4)])


def test_instance_norm():
    tcheck(lambda x, w, b: lib(x).instance_norm(x, weight=w, bias=b), shapes=[(2, 4, 3, 5), (4,), (4,)])
    tcheck(lambda x: lib(x).instance_norm(x), shapes=[(2, 3, 6)])


def test_rms_norm_and_local_response_norm():
    tcheck(lambda x, w: lib(x).rms_norm(x, (3, 5), w), shapes=[(2, 4, 3, 5), (3, 5)])
    tcheck(lambda x: lib(x).rms_norm(x, (5,), eps=1e-3), shapes=[(4, 5)])
    tcheck(lambda x: lib(x).local_response_norm(x, 3), shapes=[(2, 6, 5)])
    tcheck(lambda x: lib(x).local_response_norm(x, 4, alpha=0.1, beta=0.5, k=2.0), shapes=[(2, 6, 5, 4)])


def _modules_agree(tmod, pmod, x, train=True, steps=2):
    """Same state dict in, same outputs (train then eval) and the same buffers after training steps."""
    pmod.load_state_dict(tmod.state_dict())
    for m in (tmod, pmod):
        m.train(train)
    for _ in range(steps):
        np.testing.assert_allclose(pmod(pydl.tensor(x)).detach().numpy(), tmod(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-5, atol=1e-5)
    for k, v in tmod.state_dict().items():
        np.testing.assert_allclose(pmod.state_dict()[k].numpy(), v.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    tmod.eval()
    pmod.eval()
    np.testing.assert_allclose(pmod(pydl.tensor(x)).detach().numpy(), tmod(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name, args, kw, shape", [
    ("GroupNorm", (2, 6), {}, (3, 6, 4, 5)),
    ("GroupNorm", (3, 6), dict(affine=False, eps=1e-3), (3, 6, 7)),
    ("InstanceNorm1d", (4,), {}, (3, 4, 7)),
    ("InstanceNorm1d", (4,), dict(affine=True, track_running_stats=True), (3, 4, 7)),
    ("InstanceNorm1d", (4,), dict(track_running_stats=True), (4, 7)),  # unbatched
    ("InstanceNorm2d", (4,), dict(affine=True, track_running_stats=True, momentum=0.3), (2, 4, 3, 5)),
    ("InstanceNorm3d", (2,), dict(affine=True), (2, 2, 3, 4, 3)),
    ("BatchNorm3d", (3,), {}, (2, 3, 2, 4, 3)),
    ("RMSNorm", ((4, 5),), {}, (3, 4, 5)),
    ("RMSNorm", (5,), dict(eps=1e-2, elementwise_affine=False), (3, 5)),
    ("LocalResponseNorm", (3,), dict(alpha=0.01), (2, 6, 4, 4)),
])
def test_norm_modules(name, args, kw, shape):
    torch.manual_seed(0)
    t = getattr(torch.nn, name)(*args, **kw)
    with torch.no_grad():
        for p in t.parameters():
            p.uniform_(0.5, 1.5)
    p = getattr(nn, name)(*args, **kw)
    assert sorted(p.state_dict()) == sorted(t.state_dict())
    _modules_agree(t, p, RNG.standard_normal(shape).astype(np.float32))


def test_norm_errors():
    with pytest.raises(ValueError, match=r"^\[group_norm\] expected the number of channels \(5\)"):
        F.group_norm(pydl.zeros(2, 5, 3), 2)
    with pytest.raises(ValueError, match=r"^\[GroupNorm\]"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"^\[InstanceNorm2d\] expected 3D \(unbatched\) or 4D"):
        nn.InstanceNorm2d(3)(pydl.zeros(2, 3, 4, 4, 4))
    with pytest.raises(ValueError, match=r"^\[instance_norm\] expected more than 1 spatial element"):
        F.instance_norm(pydl.zeros(2, 3, 1))
    with pytest.raises(ValueError, match=r"^\[rms_norm\] normalized_shape"):
        F.rms_norm(pydl.zeros(2, 3), (4,))
    with pytest.raises(ValueError, match=r"^\[BatchNorm3d\]"):
        nn.BatchNorm3d(3)(pydl.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"^\[local_response_norm\]"):
        F.local_response_norm(pydl.zeros(2, 3), 2)


# ---- interpolate and Upsample ---------------------------------------------------------------------

SIZES = [dict(size=11), dict(scale_factor=2.5), dict(size=3), dict(scale_factor=0.7),
         dict(scale_factor=1.5, recompute_scale_factor=True)]


@pytest.mark.parametrize("mode, kw", [("nearest", {}), ("nearest-exact", {}), ("linear", {}),
                                      ("linear", dict(align_corners=True)), ("area", {})])
@pytest.mark.parametrize("size", SIZES)
def test_interpolate_1d(mode, kw, size):
    tcheck(lambda x: lib(x).interpolate(x, mode=mode, **kw, **size), shapes=[(2, 3, 7)])


@pytest.mark.parametrize("mode, kw", [("nearest", {}), ("nearest-exact", {}), ("bilinear", {}),
                                      ("bilinear", dict(align_corners=True)), ("bicubic", {}),
                                      ("bicubic", dict(align_corners=True)), ("area", {})])
@pytest.mark.parametrize("size", [dict(size=(9, 4)), dict(scale_factor=(2, 1.5)), dict(size=3),
                                  dict(scale_factor=0.6), dict(scale_factor=2.0, recompute_scale_factor=True)])
def test_interpolate_2d(mode, kw, size):
    tcheck(lambda x: lib(x).interpolate(x, mode=mode, **kw, **size), shapes=[(2, 2, 5, 6)])


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("kw", [dict(size=(3, 4)), dict(scale_factor=0.3), dict(size=(9, 5), align_corners=True),
                                dict(scale_factor=(1.7, 0.45))])
def test_interpolate_antialias(mode, kw):
    tcheck(lambda x: lib(x).interpolate(x, mode=mode, antialias=True, **kw), shapes=[(1, 2, 7, 11)])


def test_interpolate_3d_and_float32():
    tcheck(lambda x: lib(x).interpolate(x, scale_factor=1.7, mode="trilinear"), shapes=[(1, 2, 3, 4, 3)])
    tcheck(lambda x: lib(x).interpolate(x, size=(4, 5, 2)), shapes=[(1, 2, 3, 4, 3)])
    x = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)
    for mode in ("nearest", "bilinear", "bicubic"):
        np.testing.assert_allclose(F.interpolate(pydl.tensor(x), scale_factor=1.3, mode=mode).numpy(),
                                   TF.interpolate(torch.tensor(x), scale_factor=1.3, mode=mode).numpy(),
                                   rtol=1e-5, atol=1e-5)


def test_upsample_modules():
    x = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)
    for args, kw in [((), dict(scale_factor=2)), ((), dict(size=(7, 3), mode="bilinear")),
                     ((), dict(scale_factor=(1.5, 2), mode="bicubic", align_corners=True))]:
        np.testing.assert_allclose(nn.Upsample(*args, **kw)(pydl.tensor(x)).numpy(),
                                   torch.nn.Upsample(*args, **kw)(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-5)
    for name in ("UpsamplingNearest2d", "UpsamplingBilinear2d"):
        np.testing.assert_allclose(getattr(nn, name)(scale_factor=2)(pydl.tensor(x)).numpy(),
                                   getattr(torch.nn, name)(scale_factor=2)(torch.tensor(x)).numpy(), rtol=1e-5,
                                   atol=1e-5)


@pytest.mark.parametrize("call, err, match", [
    (lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"), NotImplementedError, "needs 4D input"),
    (lambda x: F.interpolate(x, size=4, scale_factor=2), ValueError, "only one of size or scale_factor"),
    (lambda x: F.interpolate(x), ValueError, "either size or scale_factor"),
    (lambda x: F.interpolate(x, size=4, align_corners=True), ValueError, "align_corners option"),
    (lambda x: F.interpolate(x, size=(4, 4)), ValueError, "same number of spatial dimensions"),
    (lambda x: F.interpolate(x, size=4, mode="cubic"), ValueError, "mode must be one of"),
    (lambda x: F.interpolate(x, size=0), ValueError, "must be positive"),
    (lambda x: F.interpolate(x, size=4, mode="linear", antialias=True), ValueError, "anti-alias option"),
])
def test_interpolate_errors(call, err, match):
    with pytest.raises(err, match=match) as e:
        call(pydl.zeros(2, 3, 5))
    assert str(e.value).startswith("[interpolate]")


# ---- pixel shuffle, unfold / fold, padding ---------------------------------------------------------

def test_pixel_shuffle_unshuffle():
    tcheck(lambda x: lib(x).pixel_shuffle(x, 2), shapes=[(2, 8, 3, 4)])
    tcheck(lambda x: lib(x).pixel_unshuffle(x, 2), shapes=[(2, 3, 4, 6)])
    tcheck(lambda x: lib(x).pixel_shuffle(x, 3), shapes=[(9, 2, 2)])
    x = pydl.randn(2, 3, 8, 4, 6)
    np.testing.assert_array_equal(nn.PixelShuffle(2)(nn.PixelUnshuffle(2)(x)).numpy(), x.numpy())
    with pytest.raises(ValueError, match=r"^\[pixel_shuffle\] expected the channel dim \(6\)"):
        F.pixel_shuffle(pydl.zeros(1, 6, 2, 2), 2)
    with pytest.raises(ValueError, match=r"^\[pixel_unshuffle\]"):
        F.pixel_unshuffle(pydl.zeros(1, 1, 3, 4), 2)


def test_unfold_fold():
    kw = dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    tcheck(lambda x: lib(x).unfold(x, **kw), shapes=[(2, 3, 6, 7)])
    tcheck(lambda x: lib(x).unfold(x, 2), shapes=[(3, 4, 5)])  # unbatched
    tcheck(lambda x: lib(x).fold(x, (5, 6), (2, 2), padding=1), shapes=[(2, 12, 42)])
    tcheck(lambda x: lib(x).fold(x, (4, 5), 2, stride=2, dilation=1), shapes=[(8, 4)])
    x = RNG.standard_normal((2, 3, 6, 7)).astype(np.float32)
    np.testing.assert_allclose(nn.Fold((6, 7), 3, padding=1)(nn.Unfold(3, padding=1)(pydl.tensor(x))).numpy(),
                               torch.nn.Fold((6, 7), 3, padding=1)(torch.nn.Unfold(3, padding=1)(torch.tensor(x))).numpy(),
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"^\[unfold\] only 3D or 4D input"):
        F.unfold(pydl.zeros(2, 3), 2)
    with pytest.raises(ValueError, match=r"^\[unfold\] the kernel"):
        F.unfold(pydl.zeros(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match=r"^\[fold\] input \(1, 4, 5\) has 5 blocks"):
        F.fold(pydl.zeros(1, 4, 5), (3, 3), 2)
    with pytest.raises(ValueError, match=r"^\[fold\] expected size of input's dim 1"):
        F.fold(pydl.zeros(1, 5, 4), (3, 3), 2)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_modes(mode):
    tcheck(lambda x: lib(x).pad(x, (1, 2), mode=mode), shapes=[(2, 3, 5)])
    tcheck(lambda x: lib(x).pad(x, (1, 2, 2, 1), mode=mode), shapes=[(2, 3, 5, 4)])
    tcheck(lambda x: lib(x).pad(x, (1, 0, 2, 1, 1, 1), mode=mode), shapes=[(1, 2, 3, 4, 3)])


@pytest.mark.parametrize("name, args, shape", [
    ("ZeroPad1d", ((1, 2),), (2, 3, 5)), ("ZeroPad2d", (2,), (2, 3, 4, 5)), ("ZeroPad3d", (1,), (1, 2, 3, 3, 3)),
    ("ConstantPad1d", (2, 3.5), (3, 5)), ("ConstantPad2d", ((1, 0, 2, 1), -1.0), (2, 3, 4, 5)),
    ("ConstantPad3d", (1, 0.5), (1, 2, 3, 3, 3)), ("ReflectionPad1d", ((2, 1),), (2, 3, 5)),
    ("ReflectionPad2d", (2,), (2, 3, 4, 5)), ("ReflectionPad3d", (1,), (1, 2, 3, 3, 3)),
    ("ReplicationPad1d", (3,), (2, 3, 5)), ("ReplicationPad2d", ((1, 2, 0, 3),), (3, 4, 5)),
    ("ReplicationPad3d", (1,), (1, 2, 3, 3, 3)), ("CircularPad1d", (2,), (2, 3, 5)),
    ("CircularPad2d", ((1, 2, 2, 1),), (2, 3, 4, 5)), ("CircularPad3d", (1,), (1, 2, 3, 3, 3)),
])
def test_padding_modules(name, args, shape):
    x = RNG.standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(getattr(nn, name)(*args)(pydl.tensor(x)).numpy(),
                                  getattr(torch.nn, name)(*args)(torch.tensor(x)).numpy())


def test_padding_errors():
    with pytest.raises(ValueError, match=r"^\[ReflectionPad2d\] padding must be an int or a tuple of 4"):
        nn.ReflectionPad2d((1, 2))
    with pytest.raises(ValueError, match=r"^\[pad\] reflect padding"):
        nn.ReflectionPad1d(5)(pydl.zeros(1, 2, 4))
    with pytest.raises(ValueError, match=r"^\[ZeroPad2d\] expected a 3D or 4D input"):
        nn.ZeroPad2d(1)(pydl.zeros(4))


# ---- convolution -------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kw", [dict(), dict(stride=(1, 2, 1), padding=1, dilation=(1, 1, 2), groups=2),
                                dict(padding="same"), dict(padding="valid", stride=2)])
def test_conv3d(kw):
    tcheck(lambda x, w, b: lib(x).conv3d(x, w, b, **kw), shapes=[(1, 4, 3, 4, 4), (4, 4 // kw.get("groups", 1), 2, 3, 2),
                                                               (4,)])


def test_conv3d_unbatched_and_errors():
    tcheck(lambda x, w: lib(x).conv3d(x, w, padding=1), shapes=[(2, 3, 4, 3), (3, 2, 3, 3, 3)])
    with pytest.raises(ValueError, match=r"^\[conv3d\] input \(1, 3, 4, 4, 4\) has 3 channels"):
        F.conv3d(pydl.zeros(1, 3, 4, 4, 4), pydl.zeros(2, 2, 1, 1, 1))
    with pytest.raises(ValueError, match=r"^\[conv3d\] kernel size"):
        F.conv3d(pydl.zeros(1, 1, 2, 2, 2), pydl.zeros(1, 1, 3, 3, 3))
    with pytest.raises(ValueError, match=r"^\[conv3d\] expected 4-D"):
        F.conv3d(pydl.zeros(1, 1, 2), pydl.zeros(1, 1, 1, 1, 1))


@pytest.mark.parametrize("groups, cin, cout", [(2, 4, 6), (4, 4, 4), (4, 4, 8)])  # grouped, depthwise, multiplier 2
def test_grouped_and_depthwise_conv2d(groups, cin, cout):
    tcheck(lambda x, w, b: lib(x).conv2d(x, w, b, padding=1, stride=(1, 2), groups=groups),
           shapes=[(2, cin, 5, 6), (cout, cin // groups, 3, 3), (cout,)])
    torch.manual_seed(0)
    t = torch.nn.Conv2d(cin, cout, 3, padding=1, groups=groups)
    p = nn.Conv2d(cin, cout, 3, padding=1, groups=groups)
    p.load_state_dict(t.state_dict())
    x = RNG.standard_normal((2, cin, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(p(pydl.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-4,
                               atol=1e-5)


def test_conv_transpose1d():
    tcheck(lambda x, w, b: lib(x).conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1, groups=2),
           shapes=[(2, 4, 7), (4, 3, 3), (6,)])
    tcheck(lambda x, w: lib(x).conv_transpose1d(x, w, dilation=2), shapes=[(3, 5), (3, 2, 2)])


@pytest.mark.parametrize("cls, shape, kw, out", [
    ("ConvTranspose1d", (2, 4, 7), dict(stride=2, padding=1), None),
    ("ConvTranspose1d", (2, 4, 7), dict(stride=3, padding=1, groups=2), [2, 6, 20]),
    ("ConvTranspose1d", (4, 7), dict(stride=2, bias=False), [16]),
    ("ConvTranspose2d", (2, 4, 5, 6), dict(stride=2, padding=1, output_padding=1, dilation=1), None),
    ("ConvTranspose2d", (2, 4, 5, 6), dict(stride=(2, 3), padding=(1, 0), groups=2), (10, 18)),
    ("ConvTranspose2d", (4, 5, 6), dict(stride=2), (12, 14)),
])
def test_conv_transpose_modules(cls, shape, kw, out):
    torch.manual_seed(0)
    t = getattr(torch.nn, cls)(4, 6, 3, **kw)
    p = getattr(nn, cls)(4, 6, 3, **kw)
    assert tuple(p.weight.shape) == tuple(t.weight.shape)
    p.load_state_dict(t.state_dict())
    x = RNG.standard_normal(shape).astype(np.float32)
    kwargs = {} if out is None else dict(output_size=out)
    np.testing.assert_allclose(p(pydl.tensor(x), **kwargs).detach().numpy(), t(torch.tensor(x), **kwargs).detach().numpy(),
                               rtol=1e-4, atol=1e-5)


def test_conv_transpose_and_conv3d_module_errors():
    m = nn.ConvTranspose2d(2, 2, 3, stride=2)
    with pytest.raises(ValueError, match=r"^\[ConvTranspose2d\] requested an output size of \[20, 20\]"):
        m(pydl.zeros(1, 2, 4, 4), output_size=(20, 20))
    with pytest.raises(ValueError, match=r"^\[ConvTranspose1d\] only \"zeros\" padding mode"):
        nn.ConvTranspose1d(2, 2, 3, padding_mode="reflect")
    torch.manual_seed(0)
    t = torch.nn.Conv3d(2, 4, 3, padding=1, padding_mode="circular", groups=2)
    p = nn.Conv3d(2, 4, 3, padding=1, padding_mode="circular", groups=2)
    p.load_state_dict(t.state_dict())
    x = RNG.standard_normal((1, 2, 4, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(p(pydl.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-4,
                               atol=1e-5)


# ---- pooling -------------------------------------------------------------------------------------------

def test_adaptive_pools():
    tcheck(lambda x: lib(x).adaptive_max_pool2d(x, (3, 4)), shapes=[(2, 3, 7, 9)])
    tcheck(lambda x: lib(x).adaptive_max_pool2d(x, (None, 2)), shapes=[(3, 5, 4)])
    tcheck(lambda x: lib(x).adaptive_max_pool1d(x, 4), shapes=[(2, 3, 9)])
    tcheck(lambda x: lib(x).adaptive_avg_pool1d(x, 4), shapes=[(2, 3, 9)])
    x = RNG.standard_normal((2, 3, 7, 9)).astype(np.float32)
    po, pi = nn.AdaptiveMaxPool2d((3, 4), return_indices=True)(pydl.tensor(x))
    to, ti = torch.nn.AdaptiveMaxPool2d((3, 4), return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(pi.numpy(), ti.numpy())
    np.testing.assert_array_equal(po.numpy(), to.numpy())
    po, pi = nn.AdaptiveMaxPool1d(4, return_indices=True)(pydl.tensor(x[:, :, 0]))
    np.testing.assert_array_equal(pi.numpy(), torch.nn.AdaptiveMaxPool1d(4, True)(torch.tensor(x[:, :, 0]))[1].numpy())
    np.testing.assert_array_equal(nn.AdaptiveAvgPool1d(3)(pydl.tensor(x[:, :, 0])).numpy(),
                                  torch.nn.AdaptiveAvgPool1d(3)(torch.tensor(x[:, :, 0])).numpy())
    with pytest.raises(ValueError, match=r"^\[adaptive_max_pool2d\] output_size must be positive"):
        F.adaptive_max_pool2d(pydl.zeros(1, 2, 3, 3), 0)


def test_pool1d_modules():
    x = RNG.standard_normal((2, 3, 11)).astype(np.float32)
    for name, args, kw in [("MaxPool1d", (3,), dict(stride=2, padding=1)), ("AvgPool1d", (4,), dict(stride=2)),
                           ("AvgPool1d", (3,), dict(padding=1, count_include_pad=False, ceil_mode=True))]:
        np.testing.assert_allclose(getattr(nn, name)(*args, **kw)(pydl.tensor(x)).numpy(),
                                   getattr(torch.nn, name)(*args, **kw)(torch.tensor(x)).numpy(), rtol=1e-6)


def _unpool2d(x):
    out, idx = lib(x).max_pool2d(x, 2, stride=2, return_indices=True)
    return lib(x).max_unpool2d(out, idx, 2, stride=2, output_size=(7, 9))


def _unpool1d(x):
    out, idx = lib(x).max_pool1d(x, 2, stride=2, return_indices=True)
    return lib(x).max_unpool1d(out, idx, 2, stride=2, output_size=[9])


def test_max_unpool():
    tcheck(_unpool2d, shapes=[(2, 3, 7, 9)])
    tcheck(_unpool1d, shapes=[(2, 3, 9)])
    x = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)
    po, pi = nn.MaxPool2d(2, return_indices=True)(pydl.tensor(x))
    to, ti = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(nn.MaxUnpool2d(2)(po, pi).numpy(), torch.nn.MaxUnpool2d(2)(to, ti).numpy())
    np.testing.assert_array_equal(nn.MaxUnpool1d(2)(*nn.MaxPool1d(2, return_indices=True)(pydl.tensor(x[:, 0]))).numpy(),
                                  torch.nn.MaxUnpool1d(2)(*torch.nn.MaxPool1d(2, return_indices=True)(torch.tensor(x[:, 0]))).numpy())
    with pytest.raises(ValueError, match=r"^\[max_unpool2d\] invalid output_size"):
        nn.MaxUnpool2d(2)(po, pi, output_size=(20, 20))
    with pytest.raises(IndexError, match=r"^\[max_unpool2d\] found an invalid max index"):
        F.max_unpool2d(po, pi * 100, 2)


def test_lp_pool():
    tcheck(lambda x: lib(x).lp_pool2d(x.abs() + 0.1, 2, 3, 2), shapes=[(2, 3, 7, 9)])
    tcheck(lambda x: lib(x).lp_pool1d(x.abs() + 0.1, 3, 2), shapes=[(2, 3, 9)])
    x = RNG.random((2, 3, 8, 8)).astype(np.float32) + 0.1
    np.testing.assert_allclose(nn.LPPool2d(1.5, (2, 3), stride=2)(pydl.tensor(x)).numpy(),
                               torch.nn.LPPool2d(1.5, (2, 3), stride=2)(torch.tensor(x)).numpy(), rtol=1e-5)
    np.testing.assert_allclose(nn.LPPool1d(2, 3)(pydl.tensor(x[:, 0])).numpy(),
                               torch.nn.LPPool1d(2, 3)(torch.tensor(x[:, 0])).numpy(), rtol=1e-5)
