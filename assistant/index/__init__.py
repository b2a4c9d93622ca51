"""The search index: chunks, Chroma store, build, the live version and its locks."""
