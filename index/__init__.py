"""Chunking, embeddings, FAISS and BM25 indexes, persistence."""
