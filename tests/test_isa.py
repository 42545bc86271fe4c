"""Run-time ISA dispatch: every kernel family compiled per instruction set gives the values of the
default level and of NumPy at each level this CPU has (a subprocess per level, PYDL_ISA set), and
no code that the baseline runs uses an AVX instruction (read from the module's machine code)."""
import bisect
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import pydl
import pydl.nn.functional as F

LEVELS = ("baseline", "avx2", "avx512")
# The kernel families compiled per ISA (CMakeLists.txt PYDL_ISA_KERNELS) and one public function of each.
FAMILIES = {"attention": "sdpa_forward", "elementwise": "binary", "gemm_eigen": "eigen_gemm", "reduce": "reduce", "nn_act": "softmax_forward", "nn_loss": "cross_entropy_forward",
            "nn_channel": "channel_add", "nn_norm": "ln_forward", "nn_conv": "conv2d_forward",
            "nn_pool": "max_pool2d_forward", "rnn": "rnn_forward", "nn_optim": "adam_step"}


def _levels():
    have = pydl._C.build_config["isa_detected"]
    return LEVELS[: LEVELS.index(have) + 1]


def _t(a, grad=False):
    return pydl.tensor(a, requires_grad=grad)


def compute():
    """A representative run of every per-ISA family: name -> NumPy array."""
    rng = np.random.default_rng(0)
    out = {}
    for dt in (np.float32, np.float64):
        sfx = "32" if dt == np.float32 else "64"
        x = rng.uniform(-2, 2, (37, 131)).astype(dt)  # odd sizes: vector tails at every width
        y = rng.uniform(0.5, 2, (37, 131)).astype(dt)
        row = rng.uniform(-1, 1, (131,)).astype(dt)
        a, b = _t(x), _t(y)
        out["add" + sfx] = (a + _t(row)).numpy()
        out["mul" + sfx] = (a * b).numpy()
        out["div" + sfx] = (a / b).numpy()
        out["maximum" + sfx] = pydl.maximum(a, b).numpy()
        for name in ("exp", "tanh", "sigmoid", "sqrt", "log", "relu", "abs"):
            arg = b if name in ("sqrt", "log") else a
            out[name + sfx] = getattr(pydl, name)(arg).numpy()
        out["clamp" + sfx] = pydl.clamp(a, -0.5, 0.7).numpy()
        out["where" + sfx] = pydl.where(a > b, a, b).numpy()
        out["sum0" + sfx] = a.sum(0).numpy()
        out["sum1" + sfx] = a.sum(1).numpy()
        out["sum" + sfx] = a.sum().numpy()
        out["amax1" + sfx] = a.amax(1).numpy()
        out["argmax0" + sfx] = a.argmax(0).numpy()
        out["softmax" + sfx] = F.softmax(a, dim=1).numpy()
        out["log_softmax0" + sfx] = F.log_softmax(a, dim=0).numpy()
        xa = _t(x, True)
        (F.gelu(xa) * F.silu(xa) + F.leaky_relu(xa, 0.1) + F.softmax(xa, dim=1)).sum().backward()
        out["act_grad" + sfx] = xa.grad.numpy()
        out["gelu" + sfx] = F.gelu(a).numpy()
        xc = _t(x, True)
        labels = pydl.tensor(rng.integers(0, 131, 37))
        F.cross_entropy(xc, labels, label_smoothing=0.1).backward()
        out["cross_entropy_grad" + sfx] = xc.grad.numpy()
        xl = _t(x, True)
        w, bb = _t(row, True), _t(row[::-1].copy(), True)
        ln = F.layer_norm(xl, (131,), w, bb, eps=1e-5)
        (ln * ln).sum().backward()
        out["layer_norm" + sfx] = ln.detach().numpy()
        out["layer_norm_grad" + sfx] = xl.grad.numpy()
        out["layer_norm_wgrad" + sfx] = w.grad.numpy()
        img = rng.uniform(-1, 1, (3, 5, 11, 13)).astype(dt)
        wt = rng.uniform(-1, 1, (7, 5, 3, 3)).astype(dt)
        xi, wi, bi = _t(img, True), _t(wt, True), _t(rng.uniform(-1, 1, (7,)).astype(dt), True)
        c = F.conv2d(xi, wi, bi, stride=1, padding=1)
        bn = F.batch_norm(c, pydl.zeros(7, dtype=c.dtype), pydl.ones(7, dtype=c.dtype), training=True)
        p = F.max_pool2d(bn, 2) + F.avg_pool2d(bn, 2)
        (p * p).sum().backward()
        out["conv" + sfx] = c.detach().numpy()
        out["pool" + sfx] = p.detach().numpy()
        out["conv_xgrad" + sfx] = xi.grad.numpy()
        out["conv_wgrad" + sfx] = wi.grad.numpy()
        out["conv_bgrad" + sfx] = bi.grad.numpy()
    q, k, v = (_t(rng.uniform(-1, 1, (2, 3, 19, 24)).astype(np.float32), True) for _ in range(3))
    att = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    (att * att).sum().backward()
    out["sdpa"], out["sdpa_qgrad"], out["sdpa_vgrad"] = att.detach().numpy(), q.grad.numpy(), v.grad.numpy()
    edges = _t(EXP_EDGES)  # where exp under- or overflows: a subnormal, a huge finite value, inf (tiled past a vector)
    out["exp_edges"], out["expm1_edges"] = pydl.exp(edges).numpy(), pydl.expm1(edges).numpy()
    out["softmax_edges"] = F.softmax(_t(MASKED_ROW), dim=1).numpy()  # masked keys: exactly 0, no subnormal
    pydl.manual_seed(0)
    for mode in ("LSTM", "GRU"):
        rnn = getattr(pydl.nn, mode)(9, 17, batch_first=True)
        seq = _t(rng.uniform(-1, 1, (4, 6, 9)).astype(np.float32), True)
        o, _ = rnn(seq)
        (o * o).sum().backward()
        out[mode] = o.detach().numpy()
        out[mode + "_grad"] = seq.grad.numpy()
        out[mode + "_wgrad"] = rnn.weight_hh_l0.grad.numpy()
    for name, kw in (("Adam", dict(lr=0.01, weight_decay=0.1)), ("AdamW", dict(lr=0.01, amsgrad=True)),
                     ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("RMSprop", dict(lr=0.01)),
                     ("NAdam", dict(lr=0.01)), ("RAdam", dict(lr=0.01))):
        prm = pydl.nn.Parameter(pydl.tensor(rng.uniform(-1, 1, (1001,)).astype(np.float32)))
        opt = getattr(pydl.optim, name)([prm], **kw)
        for step in range(3):
            opt.zero_grad()
            (prm * prm * (step + 1)).sum().backward()
            opt.step()
        out["opt_" + name] = prm.detach().numpy()
    return out


EXP_EDGES = np.array([-104.0, -103.0, -95.0, -88.3, -87.5, -20.0, -1e-6, 0.0, 1e-6, 20.0, 88.3, 88.6, 88.7, 89.0] * 5,
                     np.float32)


MASKED_ROW = np.where(np.arange(40) % 3 == 0, -np.inf, np.linspace(-110, 5, 40)).astype(np.float32)[None]


def _numpy_refs(rng_seed=0):
    """NumPy values for the elementwise, reduction and softmax entries of compute()."""
    rng = np.random.default_rng(rng_seed)
    ref = {}
    for dt in (np.float32, np.float64):
        sfx = "32" if dt == np.float32 else "64"
        x = rng.uniform(-2, 2, (37, 131)).astype(dt).astype(np.float64)
        y = rng.uniform(0.5, 2, (37, 131)).astype(dt).astype(np.float64)
        row = rng.uniform(-1, 1, (131,)).astype(dt).astype(np.float64)
        ref["add" + sfx], ref["mul" + sfx], ref["div" + sfx] = x + row, x * y, x / y
        ref["maximum" + sfx] = np.maximum(x, y)
        ref["exp" + sfx], ref["tanh" + sfx], ref["sigmoid" + sfx] = np.exp(x), np.tanh(x), 1 / (1 + np.exp(-x))
        ref["sqrt" + sfx], ref["log" + sfx] = np.sqrt(y), np.log(y)
        ref["relu" + sfx], ref["abs" + sfx] = np.maximum(x, 0), np.abs(x)
        ref["clamp" + sfx], ref["where" + sfx] = np.clip(x, -0.5, 0.7), np.where(x > y, x, y)
        ref["sum0" + sfx], ref["sum1" + sfx], ref["sum" + sfx] = x.sum(0), x.sum(1), x.sum()
        ref["amax1" + sfx], ref["argmax0" + sfx] = x.max(1), x.argmax(0)
        e = np.exp(x - x.max(1, keepdims=True))
        ref["softmax" + sfx] = e / e.sum(1, keepdims=True)
        ref["log_softmax0" + sfx] = x - x.max(0) - np.log(np.exp(x - x.max(0)).sum(0))
        rng.integers(0, 131, 37)  # the labels
        w, b = row, row[::-1]
        mu, var = x.mean(1, keepdims=True), x.var(1, keepdims=True)
        ref["layer_norm" + sfx] = (x - mu) / np.sqrt(var + 1e-5) * w + b
        rng.uniform(-1, 1, (3, 5, 11, 13)), rng.uniform(-1, 1, (7, 5, 3, 3)), rng.uniform(-1, 1, (7,))  # keep in step
    e64 = EXP_EDGES.astype(np.float64)
    ref["exp_edges"], ref["expm1_edges"] = np.exp(e64).astype(np.float32), np.expm1(e64).astype(np.float32)
    m64 = np.exp(MASKED_ROW.astype(np.float64) - 5.0)
    ref["softmax_edges"] = (m64 / m64.sum()).astype(np.float32)
    return ref


def _tol(name):
    """Levels differ in FMA contraction and summation order, not in formulas."""
    return dict(rtol=1e-10, atol=1e-10) if name.endswith("64") else dict(rtol=1e-4, atol=1e-4)


def _run_level(level, tmp_path):
    env = dict(os.environ, PYDL_ISA=level, OMP_NUM_THREADS="1")  # single-threaded like the suite (conftest.py)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(pydl.__file__)), env.get("PYTHONPATH", "")])
    dst = tmp_path / f"{level}.npz"
    r = subprocess.run([sys.executable, os.path.abspath(__file__), str(dst)], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split() == [level], r.stdout
    with np.load(dst) as z:
        return dict(z)


@pytest.mark.parametrize("level", LEVELS)
def test_kernels_at_every_isa_level(level, tmp_path):
    if level not in _levels():
        pytest.skip(f"this CPU has no {level}")
    got = _run_level(level, tmp_path)
    here = compute()  # this process runs at the default (highest) level
    assert sorted(got) == sorted(here)
    for name, v in here.items():
        np.testing.assert_allclose(got[name], v, **_tol(name), err_msg=f"{name} at {level} vs default level")
    for name, v in _numpy_refs().items():
        tol = (dict(rtol=1e-5 if name.startswith("softmax") else 1e-6, atol=3e-45) if name.endswith("edges") else  # subnormals too
               dict(rtol=1e-5, atol=1e-4) if name.endswith("32") else dict(rtol=1e-10, atol=1e-10))
        np.testing.assert_allclose(got[name], v, **tol, err_msg=f"{name} at {level} vs NumPy")


def test_isa_level_names_the_kernels():
    cfg = pydl._C.build_config
    assert cfg["isa"] in _levels()
    text = pydl.show_config()
    assert f"instruction set: {cfg['isa']}" in text
    assert cfg["arch"] == "x86-64-v2"  # the core itself needs no AVX


# ---- the machine code: no AVX where the baseline runs ---------------------------------------------
_FUNC = re.compile(r"^([0-9a-f]+) <(.+)>:$")
_INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)")
_BRANCH = re.compile(r"^\s*[0-9a-f]+:\s+(?:(?:call|jmp|j[a-z]{1,3})\s+|lea\s+\S+\(%rip\),%\w+\s+#\s+)([0-9a-f]+) <")
# VEX/EVEX-encoded instructions (all start with v: vmovaps, vfmadd231ps, vzeroupper, ...), wide
# registers, opmasks, and the BMI/LZCNT/MOVBE instructions of the AVX2 flags (tzcnt is left out: it
# runs as bsf before BMI, and the baseline compiler emits it as such).
_AVX_MNEMONIC = re.compile(r"^(?:v[a-z0-9]+|andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx|lzcnt"
                           r"|movbe|k[a-z]+[bwdq])$")
_AVX_REGISTER = re.compile(r"%[yz]mm\d|%k[1-7]\b")
_PADDING = ("nop", "nopw", "nopl", "cs", "data16", "xchg", "int3")
_LOCAL = "local code at "  # unnamed: entered only through the calls and addresses seen, or data (the
# GEMM tables), never merged with another copy (only exported inline functions are)
_ISA_NAMES = ("::avx2::", "::avx512::", "pydl_eigen_avx2", "pydl_eigen_avx512", "gemm_avx2::", "gemm_avx512::",
              "sgemm_kernels_avx2()", "sgemm_kernels_avx512()")


def _disassemble():
    """name -> [uses AVX, uses ZMM registers, names of the functions it calls or jumps to].

    The module is stripped: only exported functions have symbols, so the code of local functions
    and the cold blocks that the linker gathers in one place sit under some other symbol. A block
    that a function branches into (or takes the address of: OpenMP's outlined bodies) below another
    symbol is counted as that function's code."""
    objdump = shutil.which("objdump")
    if objdump is None:
        pytest.skip("no objdump")
    r = subprocess.run([objdump, "-d", "-C", "--no-show-raw-insn", pydl._C.__file__], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    starts, names, insns = [], [], []  # function starts and names; (address, function index, line)
    last, padded = None, False
    for line in r.stdout.splitlines():
        m = _FUNC.match(line)
        if m:
            starts.append(int(m.group(1), 16))
            names.append(m.group(2))
            last, padded = None, False
            continue
        i = _INSN.match(line)
        if not (names and i):
            continue
        addr, mnemonic = int(i.group(1), 16), i.group(2)
        if mnemonic in _PADDING:
            padded = True
            continue
        if (padded and last in ("ret", "jmp", "ud2") and addr % 16 == 0) or last == "noreturn":
            starts.append(addr)  # a local function after the previous one's padding, or a cold block
            names.append(_LOCAL + f"{addr:x}")
        noreturn = mnemonic == "call" and any(s in line for s in ("__cxa_throw", "_Unwind_Resume", "__throw_"))
        last, padded = "noreturn" if noreturn else mnemonic, False
        insns.append((addr, len(names) - 1, line))

    branches = []  # (address, function index, target, target's function index, line)
    for addr, f, line in insns:
        b = _BRANCH.match(line)
        if b:
            t = int(b.group(1), 16)
            branches.append((addr, f, t, bisect.bisect_right(starts, t) - 1, line))
    foreign = {}  # function index -> {block start under its symbol: index of the function the block belongs to}
    blocks = {}

    def attributed(addr, f):
        bl = blocks.get(f)
        if not bl:
            return f
        k = bisect.bisect_right(bl, addr) - 1
        return foreign[f][bl[k]] if k >= 0 else f

    for _ in range(20):  # until no block changes hands (a cold block's own branches follow it)
        changed = False
        for addr, f, t, g, line in branches:
            if g >= 0 and t != starts[g]:
                o = attributed(addr, f)
                if o != g and attributed(t, g) != o:
                    foreign.setdefault(g, {})[t] = o
                    blocks[g] = sorted(foreign[g])
                    changed = True
        if not changed:
            break

    funcs = {n: [False, False, set()] for n in names}
    for addr, f, line in insns:
        rec = funcs[names[attributed(addr, f)]]
        mnemonic = _INSN.match(line).group(2)
        if _AVX_MNEMONIC.match(mnemonic) or _AVX_REGISTER.search(line):
            rec[0] = True
        if "%zmm" in line:
            rec[1] = True
    for addr, f, t, g, line in branches:
        src = names[attributed(addr, f)]
        if g < 0 or t != starts[g] or " lea " in line:
            continue  # a branch inside a function, into a foreign block (counted above), or an address taken
        dst = names[g]
        if dst.endswith("@plt"):  # calls between exported functions go through the PLT
            base = dst.removesuffix("@plt")
            dst = base + "@@Base" if base + "@@Base" in funcs else base
        if dst != src:
            funcs[src][2].add(dst)
    return funcs


def _reaches_avx(name, funcs):
    """Whether name or a function it calls (its local helpers) uses AVX."""
    seen, stack = {name}, [name]
    while stack:
        n = stack.pop()
        if funcs[n][0]:
            return True
        for t in funcs[n][2]:
            if t in funcs and t not in seen:
                seen.add(t)
                stack.append(t)
    return False


def test_no_avx_reachable_from_baseline_code():
    funcs = _disassemble()
    isa = {n for n in funcs if any(s in n for s in _ISA_NAMES)}
    # Every per-ISA family has its avx2 and avx512 copies, and they use the wider instructions.
    for fam, fn in FAMILIES.items():
        for lvl in ("avx2", "avx512"):
            copies = [n for n in isa if f"pydl::kernels::{lvl}::{fn}" in n]
            assert copies, f"{fam}: no {lvl} copy of {fn}"
            assert any(_reaches_avx(n, funcs) for n in copies), f"{fam}: the {lvl} copy of {fn} runs no AVX"
    assert any(funcs[n][1] for n in isa if "avx512" in n)
    # Walk the calls from every function outside the per-ISA code that nothing calls directly
    # (exported, or called through a pointer); the per-ISA copies are entered only through
    # kernels/cpu/dispatch.cpp's pointers, after the CPU check. No exported function reached may use
    # AVX: those are the inline functions and templates that the linker keeps one copy of, which an
    # AVX translation unit could have supplied. (Local code is its own translation unit's: compiled
    # for x86-64-v2 there, and the disassembly of a stripped module cannot always tell whose it is.)
    called = {t for f in funcs.values() for t in f[2]}
    roots = [n for n in funcs if n not in isa and n not in called and not n.startswith(_LOCAL)]
    seen, stack, bad = set(roots), list(roots), []
    while stack:
        n = stack.pop()
        if funcs[n][0] and not n.startswith(_LOCAL):
            bad.append(n)
        for t in funcs[n][2]:
            if t in funcs and t not in isa and t not in seen:
                seen.add(t)
                stack.append(t)
    assert not bad, f"{len(bad)} functions outside the per-ISA code use AVX, e.g. {sorted(bad)[:8]}"


if __name__ == "__main__":
    pydl.set_num_threads(1)
    res = compute()
    np.savez(sys.argv[1], **res)
    print(pydl._C.build_config["isa"])
