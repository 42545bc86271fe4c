"""Indexing functional forms (index_select, gather, scatter_add, ...)."""
