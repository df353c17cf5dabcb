"""Retrieval: embeddings, BM25, fusion and the in-memory index."""
