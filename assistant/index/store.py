"""The Chroma store: an embedded one under the index folder, or a server (ASSISTANT_CHROMA_URL),
with a deadline on each request and retries while a server does not answer."""

from __future__ import annotations

from pathlib import Path

import tenacity

from assistant.errors import IndexUnavailable

COLLECTION_PREFIX = "chunks-"


class ChromaStore:
    """Where the vectors live (`url`: a Chroma server, else embedded under the index folder),
    one client opened on first use, and the retry policy every request goes through."""

    def __init__(self, index_dir: Path, url: str | None = None):
        self.index_dir, self.url = index_dir, url or None
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = chroma_client(self.index_dir, self.url)
        return self._client

    def retry(self, call):
        return with_retries(call, url=self.url or "")


def chroma_client(index_dir: Path, url: str | None = None):
    """Chroma server at `url` (ASSISTANT_CHROMA_URL), else an embedded store under index/."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        from urllib.parse import urlparse

        try:
            parsed = urlparse(url if "://" in url else f"http://{url}")
            valid = parsed.scheme in ("http", "https") and bool(parsed.hostname) and (parsed.port or 8000) > 0
        except ValueError:  # « http://[bad », a port beyond 65535…
            valid = False
        if not valid:
            raise IndexUnavailable(f"ASSISTANT_CHROMA_URL invalide (« {url} ») : attendu une adresse comme "
                                   "http://hote:8000, ou retirez la variable pour le stockage intégré.")
        return bounded(with_retries(lambda: http_client(parsed, settings), url=url))
    return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=settings)


def http_client(parsed, settings):
    """A quick heartbeat first, with a deadline: creating the client has none and would wait forever
    on a server that hangs."""
    import chromadb
    import httpx

    ssl, port = parsed.scheme == "https", parsed.port or 8000
    httpx.get(f"{'https' if ssl else 'http'}://{parsed.hostname}:{port}/api/v2/heartbeat",
              timeout=httpx.Timeout(CHROMA_TIMEOUT, connect=min(5.0, CHROMA_TIMEOUT)))
    return chromadb.HttpClient(host=parsed.hostname, port=port, ssl=ssl, settings=settings)


# Chroma's HTTP client waits forever by default: a server that hangs (stopped, overloaded, cut
# off without a reset) would freeze every question. One request gets this long at most.
CHROMA_TIMEOUT = 30.0


def bounded(client):
    """The client with a deadline on each request (its httpx session; the version is pinned)."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(CHROMA_TIMEOUT, connect=min(5.0, CHROMA_TIMEOUT))
    return client


# A Chroma server that does not answer (restarting, overloaded, network blip) is asked again
# after these pauses, then the user gets a French error: 3.75 s at most, nothing half-written
# goes live (a build switches current.json only at its end).
CHROMA_RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0)


def unreachable(error: Exception) -> bool:
    """The server did not answer (as opposed to answering with an error)."""
    import httpx

    return (isinstance(error, (httpx.TransportError, ConnectionError))
            or (isinstance(error, ValueError) and "Could not connect" in str(error)))


def silent(error: Exception) -> bool:
    """The server was reached but did not answer in time."""
    import httpx

    return isinstance(error, (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout, TimeoutError))


def with_retries(call, delays: tuple[float, ...] | None = None, url: str = ""):
    """`call()`, tried again with growing pauses while the Chroma server does not answer; a server
    that took the request and went quiet is not asked again (the waits would stack up)."""
    delays = CHROMA_RETRY_DELAYS if delays is None else delays
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(lambda error: unreachable(error) and not silent(error)),
        wait=lambda state: delays[min(state.attempt_number, len(delays)) - 1] if delays else 0,
        stop=tenacity.stop_after_attempt(len(delays) + 1), reraise=True)
    try:
        return retrying(call)
    except Exception as error:
        if silent(error):
            raise IndexUnavailable(f"le serveur Chroma ({url}) ne répond plus (aucune réponse en "
                                   f"{CHROMA_TIMEOUT:g} s) : vérifiez-le, puis reposez la question.") from None
        if unreachable(error):
            raise IndexUnavailable(f"serveur Chroma injoignable à {url} ({error.__class__.__name__}, "
                                   f"{len(delays) + 1} essais en {sum(delays):g} s) : vérifiez qu'il tourne, "
                                   "ou retirez ASSISTANT_CHROMA_URL.") from None
        raise


def collection_name(model: str, version: str) -> str:
    return f"{COLLECTION_PREFIX}{model}-{version}"
