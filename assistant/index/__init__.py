"""The search index: chunks of units, their vectors in Chroma, a French BM25 beside them.

Layout under the index directory:
    current.json             which version is live (replaced atomically, last step of a build)
    chroma/                  Chroma PersistentClient (collection `chunks-<model>-<version>`), unless
                             ASSISTANT_CHROMA_URL points at a Chroma server
    versions/<version>/      chunks.json (chunk records) and bm25/ (bm25s files)
    build.lock, update.lock  one build and one corpus update at a time (index/locks.py)
    readers/                 which versions running processes read (never removed under them)

A build writes a whole new version and switches `current.json` only when it is complete,
so a crash or an error mid-build leaves the previous version live. Vectors of chunks whose
content hash did not change are copied from the live version instead of re-embedded.

Modules, in the order a build runs: chunks → store → build → pointer; a reader: live.
"""
