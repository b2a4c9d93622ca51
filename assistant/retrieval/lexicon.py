"""Everyday words → the legal texts' words (`lexicon.yaml`), appended to retrieval queries."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.text import fold

LEXICON_FILE = Path(__file__).with_name("lexicon.yaml")
ACRONYMS_FILE = Path(__file__).with_name("acronyms.yaml")


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_FILE) -> tuple[tuple[re.Pattern, str, bool], ...]:
    """(pattern, legal words, setting) triples; * matches any ending, # any number."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    compiled = []
    for entry in entries:
        words = [re.escape(fold(str(w))).replace(r"\*", r"\w*").replace(r"\#", r"\d+").replace(r"\ ", r"\s+")
                 for w in entry["words"]]
        compiled.append((re.compile(rf"\b(?:{'|'.join(words)})\b"), str(entry["legal"]), bool(entry.get("setting"))))
    return tuple(compiled)


def legal_terms(question: str, setting: bool = True) -> list[str]:
    """The legal phrasings of the everyday words in the question, each once, in order; without
    the entries that only name the CPAS setting when `setting` is False."""
    folded = fold(question)
    return [legal for pattern, legal, of_setting in load_lexicon()
            if (setting or not of_setting) and pattern.search(folded)]


def expand(question: str, setting: bool = True) -> str:
    """The question followed by the legal words it evokes (unchanged when none)."""
    terms = legal_terms(question, setting)
    return f"{question} ({'; '.join(terms)})" if terms else question


@lru_cache(maxsize=4)
def load_acronyms(path: Path = ACRONYMS_FILE) -> tuple[re.Pattern, dict[str, str]]:
    """One pattern matching every acronym as a whole upper-case word, and their meanings."""
    meanings = {str(k): str(v) for k, v in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items()}
    longest_first = sorted(meanings, key=len, reverse=True)  # CSIL-R before CSIL
    pattern = re.compile(rf"(?<![\w-])(?:{'|'.join(map(re.escape, longest_first))})(?![\w-])")
    return pattern, meanings


def spell_out(question: str) -> str:
    """The question with each known acronym followed by its meaning: "RIS (revenu d'intégration sociale)"."""
    pattern, meanings = load_acronyms()
    return pattern.sub(lambda m: f"{m.group(0)} ({meanings[m.group(0)]})", question)
