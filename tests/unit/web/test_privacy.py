"""Personal data in questions: found, masked, announced in French, kept out of logs."""

from __future__ import annotations

import io
import logging

import pytest

from assistant.web import privacy
from assistant.corpus.model import Corpus
from tests.conftest import CORPUS_DIR

pytestmark = pytest.mark.unit

VALID_NATIONAL_NUMBER = "85073003328"  # check digits 97 − (850730033 mod 97)
BORN_2003 = "03010151242"  # born from 2000: the check is computed with a leading 2


def kinds(text: str) -> list[str]:
    return privacy.kinds(privacy.find_personal_data(text))


@pytest.mark.parametrize("text", [
    f"Mon usager ({VALID_NATIONAL_NUMBER}) demande son dossier",
    f"numéro {BORN_2003}",
    "NN 85.07.30-033.28 à vérifier",
    "NN 85.07.30-033.99 (mal recopié, mais au format officiel)",
])
def test_national_register_numbers(text):
    assert kinds(text) == ["national_number"]


def test_eleven_digits_without_a_valid_check_are_not_a_national_number():
    assert kinds("dossier 85073003361") == []


@pytest.mark.parametrize("text", ["appelez le 0471 23 45 67", "tél. +32 471 23 45 67", "au 02/123.45.67",
                                  "0032 4 123 45 67"])
def test_phone_numbers(text):
    assert kinds(text) == ["phone"]


def test_email_and_ibans():
    assert kinds("écrire à jean.dupont@example.be") == ["email"]
    assert kinds("versé sur BE68 5390 0754 7034") == ["iban"]
    assert kinds("IBAN FR76 3000 6000 0112 3456 7890 189") == ["iban"]  # mod 97 checked
    assert kinds("référence AB12 3456 7890 1234 5678") == []


@pytest.mark.parametrize("text", [
    "Madame Dupont habite rue de la Station 12 à 4000 Liège",
    "Jean DUPONT, avenue Louise 54",
    "l'usager Marc Lambert vit chaussée de Charleroi 112, 6000 Charleroi",
])
def test_a_name_with_an_address(text):
    assert kinds(text) == ["name_address"]


@pytest.mark.parametrize("text", [
    "Puis-je parler de Jean Dupont en concertation ?",  # a name alone: no address
    "Il habite rue de la Station 12.",  # an address alone: no name
    "Art. 458ter du Code pénal du 8 juin 1867, § 2",
    "la loi du 30 juillet 2018, article 12, et le décret du 02/06/2022",
])
def test_ordinary_questions_are_not_flagged(text):
    assert kinds(text) == []


def test_the_legal_corpus_itself_raises_no_warning():
    corpus = Corpus.load(CORPUS_DIR)
    flagged = [unit.id for unit in corpus.units if privacy.find_personal_data(unit.plain_text)]
    assert flagged == []


def test_redaction_masks_every_datum_and_keeps_the_question():
    text = (f"Madame Dupont, rue de la Station 12, 4000 Liège, NN {VALID_NATIONAL_NUMBER}, "
            "tél. 0471 23 45 67 : puis-je prévenir le SAJ ?")
    masked = privacy.redact(text)
    for secret in ("Dupont", "Station", "Liège", VALID_NATIONAL_NUMBER, "0471"):
        assert secret not in masked
    assert "[numéro national masqué]" in masked and "[téléphone masqué]" in masked
    assert masked.endswith("puis-je prévenir le SAJ ?")


def test_warning_names_what_was_found_in_french():
    findings = privacy.find_personal_data(f"{VALID_NATIONAL_NUMBER} et jean@example.be")
    warning = privacy.warning(findings)
    assert "un numéro de registre national et une adresse e-mail" in warning
    assert "secret professionnel" in warning and "masquées" in warning


def test_logs_never_hold_the_personal_data():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.privacy")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        privacy.install_log_redaction("tests.privacy")
        privacy.install_log_redaction("tests.privacy")  # idempotent
        logger.warning("question reçue : %s", f"NN {VALID_NATIONAL_NUMBER}, mail jean@example.be")
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert VALID_NATIONAL_NUMBER not in logged and "jean@example.be" not in logged
    assert "[numéro national masqué]" in logged
    assert sum(isinstance(f, privacy.RedactingFilter) for f in handler.filters) == 1


def test_tracebacks_in_logs_are_masked_too():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(privacy.RedactingFilter())
    logger = logging.getLogger("tests.privacy.traceback")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise ValueError(f"question illisible : {VALID_NATIONAL_NUMBER}")
    except ValueError:
        logger.error("erreur dans on_message", exc_info=True)
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert "Traceback" in logged and "ValueError: question illisible : [numéro national masqué]" in logged
    assert VALID_NATIONAL_NUMBER not in logged
