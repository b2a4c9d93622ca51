"""No network at run time: answering a question opens no socket to anything."""

import os
import subprocess
import sys
import textwrap

import pytest

from tests.helpers.retrieval_fixtures import use_small_index

pytestmark = pytest.mark.integration

PROBE = textwrap.dedent("""
    import sys
    attempts = []

    def audit(event, args):
        if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "http.client.connect"):
            attempts.append((event, repr(args)[:120]))

    sys.addaudithook(audit)
    from assistant.pipeline import Assistant
    reply = Assistant(build_if_missing=False).ask("Puis-je parler d'un usager en concertation de cas ?")
    assert reply.answer.citations, "no answer"
    print("ATTEMPTS", len(attempts), attempts[:3])
""")


def test_asking_a_question_makes_no_network_call(monkeypatch, small_index):
    use_small_index(monkeypatch, small_index)
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=dict(os.environ),
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ATTEMPTS 0 []" in done.stdout, done.stdout
