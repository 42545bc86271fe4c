"""A small Transformer language model (2 encoder layers, d=128, causal mask) trained on text.

Character-level next-token prediction over text shipped with the repository (by default its
README.md followed by pydl's own Python sources, about 450 KB; or any file given with --text);
nothing is downloaded.

    python examples/transformer_lm.py [--steps 300] [--text PATH] [--batch 32] [--seq 64]

The model is written once over a library (`make_model(pydl)` or `make_model(torch)`), so the
benchmark case (benchmarks/cases_transformer.py) times the same network in both.
"""
import argparse
import math
import os
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def make_model(lib, vocab, seq_len=64, d_model=128, nhead=4, num_layers=2, dim_feedforward=512, dropout=0.1):
    """A decoder-only Transformer LM over `lib` (pydl or torch): token + learned position
    embeddings, num_layers causal TransformerEncoderLayers (pre-norm), a final norm and head."""
    nn = lib.nn

    class TransformerLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.seq_len = seq_len
            self.tok = nn.Embedding(vocab, d_model)
            self.pos = nn.Embedding(seq_len, d_model)
            layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab)
            self.register_buffer("causal", nn.Transformer.generate_square_subsequent_mask(seq_len))
            self.register_buffer("positions", lib.arange(seq_len))

        def forward(self, idx):
            t = idx.shape[1]
            x = self.tok(idx) + self.pos(self.positions[:t])
            x = self.encoder(x, mask=self.causal[:t, :t], is_causal=True)
            return self.head(self.norm(x))

    return TransformerLM()


def load_corpus(path=None):
    """(text, sorted characters) of the given file, else of README.md and pydl/**/*.py."""
    root = os.path.dirname(HERE)
    if path:
        paths = [path]
    else:
        paths = [os.path.join(root, "README.md")]
        for d, _, files in sorted(os.walk(os.path.join(root, "pydl"))):
            paths += [os.path.join(d, f) for f in sorted(files) if f.endswith(".py") and f != "_build_info.py"]
    parts = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            parts.append(f.read())
    text = "\n".join(parts)
    return text, sorted(set(text))


def batches(data, batch, seq_len, rng):
    """Random windows of the encoded corpus: inputs (batch, seq_len) and next-token targets."""
    starts = rng.integers(0, len(data) - seq_len - 1, batch)
    x = np.stack([data[s:s + seq_len] for s in starts])
    y = np.stack([data[s + 1:s + seq_len + 1] for s in starts])
    return x, y


def train_step_fn(lib, model, opt, x, y):
    """One step (zero_grad, forward, cross-entropy, backward, clip, AdamW) on fixed tensors; returns the loss tensor."""
    vocab = model.head.out_features
    loss_fn = lib.nn.functional.cross_entropy

    def step():
        opt.zero_grad()
        logits = model(x)
        loss = loss_fn(logits.reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss
    return step


def main(argv=None):
    import pydl

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--text", default=None, help="UTF-8 text file to train on (default: README.md + pydl sources)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    text, chars = load_corpus(args.text)
    index = {c: i for i, c in enumerate(chars)}
    data = np.array([index[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    print(f"corpus: {len(data)} characters, vocabulary {len(chars)}")

    pydl.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = make_model(pydl, len(chars), seq_len=args.seq)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params / 1e6:.2f} M parameters")
    opt = pydl.optim.Adam(model.parameters(), lr=args.lr)
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        x, y = batches(train, args.batch, args.seq, rng)
        model.train()
        opt.zero_grad()
        logits = model(pydl.tensor(x))
        loss = pydl.nn.functional.cross_entropy(logits.reshape(-1, len(chars)), pydl.tensor(y).reshape(-1))
        loss.backward()
        opt.step()
        if step % 50 == 0 or step == 1:
            model.eval()
            with pydl.no_grad():
                vx, vy = batches(val, args.batch, args.seq, np.random.default_rng(1))
                vl = pydl.nn.functional.cross_entropy(model(pydl.tensor(vx)).reshape(-1, len(chars)),
                                                      pydl.tensor(vy).reshape(-1)).item()
            print(f"step {step:4d}  train loss {loss.item():.3f}  val loss {vl:.3f}  "
                  f"(uniform: {math.log(len(chars)):.3f})  {time.perf_counter() - t0:.1f}s")
    return loss.item()


if __name__ == "__main__":
    main()
