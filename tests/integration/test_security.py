"""Security: no network at run time (the commands run with no network at all), telemetry off,
dependencies pinned and installed as pinned. (Login: test_chat_browser_bad_input.py; personal
data kept out of logs: test_privacy.py and the browser tests; model checksum: test_llm.py.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from assistant.config import REPO_ROOT
from tests.conftest import CORPUS_DIR

pytest.register_assert_rewrite("tests.helpers.retrieval_fixtures")
from tests.helpers.retrieval_fixtures import QUESTION_458TER, UNIT_458TER  # noqa: E402

SCRIPT = Path(sys.executable).parent / "assistant"
# Without `unshare -n` (no permission for namespaces): every connection or name lookup that is not
# a local socket raises, in the process and everything it imports.
GUARD = textwrap.dedent("""
    import sys

    def guard(event, args):
        if event == "socket.getaddrinfo" or (event == "socket.connect" and isinstance(args[1], tuple)):
            raise PermissionError(f"réseau interdit : {event} {args[1:]!r}")

    sys.addaudithook(guard)
    sys.argv = sys.argv[1:]
    import runpy
    runpy.run_path(sys.argv[0], run_name="__main__")
""")
PROBE = "import socket; socket.create_connection(('1.1.1.1', 53), timeout=3); print('CONNECTÉ')"


def without_network(script: Path, args: list[str]) -> tuple[list[str], str]:
    """A Python script in a network namespace with no interface up (`unshare -n`), else under the guard."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n", sys.executable, str(script), *args], "unshare -n"
    return [sys.executable, "-c", GUARD, str(script), *args], "garde des sockets (unshare -n refusé ici)"


def run_offline(script: Path, args: list[str], env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    command, how = without_network(script, args)
    print(f"sans réseau par {how} : {script.name} {' '.join(args)[:80]}")
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO_ROOT)


@pytest.fixture
def probe(tmp_path) -> Path:
    path = tmp_path / "connexion.py"
    path.write_text(PROBE, encoding="utf-8")
    return path


@pytest.mark.unit
def test_the_fallback_guard_blocks_connections(probe):
    done = subprocess.run([sys.executable, "-c", GUARD, str(probe)], capture_output=True, text=True, timeout=30)
    assert done.returncode != 0 and "PermissionError: réseau interdit" in done.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_commands_work_with_no_network_at_all(tmp_path, small_index, probe):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ASSISTANT_LLM": "none", "ASSISTANT_HOME": str(tmp_path / "home"),
           "ASSISTANT_CORPUS_DIR": str(small_index.corpus_dir), "ASSISTANT_INDEX_DIR": str(small_index.index_dir)}
    env.pop("ASSISTANT_CHROMA_URL", None)
    # The mechanism really cuts the network (a control, so that a pass below means something).
    control = run_offline(probe, [], env, timeout=30)
    assert control.returncode != 0 and "CONNECTÉ" not in control.stdout

    done = run_offline(SCRIPT, ["ask", QUESTION_458TER, "--json"], env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert UNIT_458TER in json.loads(done.stdout)["citations"]

    # First start on a new machine: the index is built offline too (two small documents).
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("qe-bastin-2022-513.md", "loi-2018-07-30-csil-r.md"):
        shutil.copy(CORPUS_DIR / name, corpus / name)
    env.update(ASSISTANT_CORPUS_DIR=str(corpus), ASSISTANT_INDEX_DIR=str(tmp_path / "index"))
    built = run_offline(SCRIPT, ["index", "build"], env)
    assert built.returncode == 0 and "en service" in built.stdout, built.stderr[-2000:]
    assert "Traceback" not in built.stderr + done.stderr


TELEMETRY_PROBE = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    for name in ("ANONYMIZED_TELEMETRY", "DO_NOT_TRACK", "TRACELOOP_TELEMETRY", "OTEL_SDK_DISABLED"):
        os.environ.pop(name, None)
    os.environ["LITERAL_API_KEY"] = "cle-literal-factice"  # would send conversations to Literal AI's cloud
    from assistant.config import settings
    from assistant.index.store import chroma_client
    from assistant.web import launch as chat_server
    print("chroma", chroma_client(Path(sys.argv[1])).get_settings().anonymized_telemetry)
    chat_server.configure_environment(settings(), "127.0.0.1", 8000, False)
    print("env", {name: os.environ.get(name) for name in sorted(chat_server.OFFLINE_ENV)})
    import assistant.web.app  # noqa: F401  (registers the app's own data layer)
    from chainlit.data import get_data_layer
    print("data", type(get_data_layer()).__name__)
""")


@pytest.mark.integration
def test_telemetry_is_off_even_when_the_environment_says_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINLIT_")}
    env.update(ASSISTANT_HOME=str(tmp_path / "home"), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", TELEMETRY_PROBE, str(tmp_path / "index")], capture_output=True,
                          text=True, env=env, timeout=180, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert lines["chroma"] == "False"  # Chroma's anonymous product telemetry
    assert eval(lines["env"]) == {"ANONYMIZED_TELEMETRY": "False", "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1",
                                  "OTEL_SDK_DISABLED": "true", "TRACELOOP_TELEMETRY": "false",
                                  "TRANSFORMERS_OFFLINE": "1"}
    assert lines["data"] == "AssistantDataLayer"  # local SQLite, never Literal AI


# -- dependencies ----------------------------------------------------------------------------------

def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    lines = [line.strip() for line in (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    loose = [line for line in lines if not re.fullmatch(r"[A-Za-z0-9_.\-]+==[^=\s;]+", line)]
    assert loose == [], f"contraintes sans version exacte : {loose}"
    return {normal(line.split("==")[0]): line.split("==")[1] for line in lines}


@pytest.mark.unit
def test_every_dependency_is_pinned_and_installed_as_pinned():
    pinned = pins()
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    named = {normal(re.match(r"[A-Za-z0-9_.\-]+", r).group()) for r in requirements} - {normal(project["name"])}
    assert sorted(named - set(pinned)) == [], "dépendances de pyproject.toml absentes de constraints.txt"
    installed = {normal(d.metadata["Name"]): d.version for d in metadata.distributions()}
    assert {n: (v, pinned[n]) for n, v in installed.items() if n in pinned and v != pinned[n]} == {}
    # Nothing installed by hand: what CI will not have is not here either.
    assert sorted(set(installed) - set(pinned) - {normal(project["name"]), "pip", "setuptools", "wheel"}) == []
    assert len(pinned) > 200
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-c constraints.txt" in makefile  # the installation goes through the pins
