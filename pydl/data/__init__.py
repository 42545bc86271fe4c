"""pydl.data: datasets, samplers and DataLoader (also importable as pydl.utils.data)."""
