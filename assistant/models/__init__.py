"""The models: embeddings (e5, USE, sentence-transformers) and the LLM (local llama.cpp or a server)."""
