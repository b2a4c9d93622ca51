"""The local model behind an OpenAI-compatible HTTP server (llama.cpp's server, from xllamacpp).

For trying the scale-out set-up without a GPU: several app processes share this server as they
would share a vLLM server (docs/reliability.md, « Montée en charge »).

Usage:
    OMP_NUM_THREADS=2 .venv/bin/python eval/serve_llm.py --port 8080 [--parallel 1] [--context 4096]
    # then, for each app process:
    ASSISTANT_LLM=openai-compatible ASSISTANT_LLM_URL=http://127.0.0.1:8080/v1 \\
        ASSISTANT_LLM_MODEL=qwen2.5-coder-1.5b-instruct .venv/bin/assistant chat --port 8001

The model is the project's (joined and verified in ASSISTANT_HOME/models, or ASSISTANT_MODEL_PATH).
It listens on the loopback unless --host says otherwise; `--parallel N` splits the context into
N slots answered together (each gets context/N tokens). Ctrl+C (or SIGTERM) stops it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import settings  # noqa: E402
from assistant.models.model_file import ensure_model  # noqa: E402


def start_server(model: Path, host: str, port: int, parallel: int, context: int, threads: int):
    """A running llama.cpp HTTP server (OpenAI routes under /v1); kept alive by the returned object."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.n_ctx = context
    params.n_parallel = parallel
    params.cpuparams_batch.n_threads = threads
    params.cpuparams.n_threads = 1  # one thread writes fastest on a shared 2-core machine (assistant/models/local_llm.py)
    params.offline = True
    params.ui = False
    params.verbosity = 1
    params.hostnames = [host]
    params.port = port
    return xllamacpp.Server(params)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--context", type=int, default=4096)
    args = parser.parse_args()
    config = settings()
    model = ensure_model(config)
    server = start_server(model, args.host, args.port, args.parallel, args.context * args.parallel,
                          config.llm_threads)
    print(f"Modèle local servi sur http://{args.host}:{args.port}/v1 ({model.name}, {args.parallel} à la fois)",
          flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
