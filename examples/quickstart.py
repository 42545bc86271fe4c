"""Fits y = 3x - 2 (plus noise) by gradient descent, with pydl's autograd doing the calculus.

    python examples/quickstart.py
"""
import pydl

pydl.manual_seed(0)
x = pydl.randn(256, 1)
y = 3 * x - 2 + 0.1 * pydl.randn(256, 1)

w = pydl.zeros(1, 1, requires_grad=True)
b = pydl.zeros(1, requires_grad=True)
lr = 0.05

for step in range(101):
    loss = ((x @ w + b - y) ** 2).mean()
    loss.backward()                    # fills w.grad and b.grad
    with pydl.no_grad():               # the update itself is not part of the graph
        w -= lr * w.grad
        b -= lr * b.grad
    w.grad = None
    b.grad = None
    if step % 10 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")

print(f"w = {w.item():.3f} (true 3), b = {b.item():.3f} (true -2)")
