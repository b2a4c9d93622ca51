"""Offline legal assistant on professional secrecy for Walloon CPAS social workers.

The folders are the path of a question: corpus → index → retrieval → answering → render, with
models beside them, and three shells on top: cli, web, evaluation. See README.md, « Architecture ».
"""
