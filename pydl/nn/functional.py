"""pydl.nn.functional: neural-network ops with PyTorch signatures, each one call into the C++ core."""
