"""pydl.optim: optimizers calling fused C++ update kernels."""
