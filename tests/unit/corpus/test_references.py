import pytest

from assistant.corpus.model import Corpus
from assistant.corpus.references import cited_in, division_key, parse_list, roman_to_int

CP = "code-penal-1867:art-"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from tests.conftest import CORPUS_DIR
    return Corpus.load(CORPUS_DIR)


@pytest.mark.unit
def test_lists_and_ranges_of_article_numbers():
    assert parse_list("417/7 à 417/22, 433quater/1 et 435") == [
        ("417/7", "417/22"), ("433quater/1", None), ("435", None)]
    assert parse_list("1er") == [("1", None)]


@pytest.mark.unit
def test_roman_numerals_and_division_keys():
    assert roman_to_int("XIV") == 14 and roman_to_int("IX") == 9
    assert division_key("TITRE", "I", "ter") == division_key("Titre", "1", "ter") == ("titre", "1ter")


@pytest.mark.integration
def test_458ter_cites_324bis_458_and_the_whole_titre_iter(corpus):
    refs = corpus.unit(CP + "458ter").references
    assert CP + "324bis" in refs and CP + "458" in refs
    titre_iter = [u.id for u in corpus.documents["code-penal-1867"].units
                  if any(p.startswith("TITRE Iter.") for p in u.path)]
    assert len(titre_iter) >= 10 and set(titre_iter) <= set(refs)


@pytest.mark.integration
def test_ranges_are_expanded_in_document_order(corpus):
    refs = corpus.unit(CP + "458bis").references
    assert CP + "417/7" in refs and CP + "417/15" in refs and CP + "417/22" in refs
    assert CP + "417/23" not in refs  # the text jumps from 417/22 to 417/24


@pytest.mark.integration
def test_articles_of_other_acts_are_not_taken_for_this_code(corpus):
    refs = corpus.unit(CP + "137").references
    # "l'article 2, alinéa premier, 2°, de la loi du 10 juillet 1978" is not Code pénal art. 2
    assert CP + "2" not in refs
    assert CP + "51" in refs and CP + "53" in refs  # "au sens des articles 51 à 53"


@pytest.mark.integration
def test_previous_article(corpus):
    articles = [u for u in corpus.documents["code-penal-1867"].units if u.kind == "article"]
    citing = [u for u in articles if "article précédent" in u.plain_text]
    assert citing
    for unit in citing:
        index = articles.index(unit)
        assert articles[index - 1].id in unit.references


@pytest.mark.integration
def test_a_fragment_cites_only_what_it_names(corpus):
    unit = corpus.unit("code-penal-1867:art-458ter")
    assert cited_in("des peines prévues à l'article 458", unit, corpus) == ["code-penal-1867:art-458"]
    assert cited_in("Les participants sont tenus au secret", unit, corpus) == []
    assert cited_in("l'article précédent", corpus.unit("code-penal-1867:art-422ter"), corpus) == ["code-penal-1867:art-422bis"]


def test_references_across_documents_by_name(corpus):
    refs = corpus.unit("qe-cassart-2025:question").references
    assert CP + "458ter" in refs
    assert "circulaire-2022-06-02" in refs and "loi-2018-07-30-csil-r" in refs


@pytest.mark.integration
def test_every_reference_resolves_to_a_unit_or_document(corpus):
    ids = {u.id for u in corpus.units} | set(corpus.documents)
    for unit in corpus.units:
        assert set(unit.references) <= ids, unit.id
        assert unit.id not in unit.references


@pytest.mark.unit
@pytest.mark.parametrize("question, named", [
    ("Le décret maltraitance de 2004 m'oblige à agir ?", ["decret-cf-2004-05-12-maltraitance"]),
    ("le decret flamand, il définit quoi ?", ["decret-fl-2024-03-29-refuges"]),
    ("La loi de 2018 dit qui participe ?", ["loi-2018-07-30-csil-r"]),
    ("Et le décret CSIL-R de la FWB ?", ["decret-cf-2023-06-08-csil-r"]),
    # the author names a parliamentary question; the year chooses among the author's
    ("Bastin en parlait dans sa question de 2022", ["qe-bastin-2022-513", "qe-bastin-2022-79"]),
    ("Qu'a répondu le ministre à Cassart ?", ["qe-cassart-2025"]),
    # or the minister it was put to, the year choosing among his
    ("Le ministre Collignon répondait quoi en 2022 ?", ["qe-bastin-2022-513", "qe-bastin-2022-79"]),
    ("Desquesnes compte revoir la circulaire ?", ["qe-cassart-2025"]),
    # the region or community by its adjective
    ("Selon la circulaire wallonne, je dois vérifier quoi ?", ["circulaire-2022-06-02"]),
    ("Un décret wallon permet aux AS de siéger ?", []),
    # a kind word alone, or with a word every question has, names nothing
    ("La loi permet au CPAS de parler ?", []),
    ("Un décret m'oblige à signaler ?", []),
    ("la loi dit que le code pénal de 2024 s'applique ?", []),
])
def test_a_text_named_loosely_by_kind_and_year_subject_or_author(corpus, question, named):
    from assistant.corpus.references import designations, loosely_named

    assert loosely_named(question, designations(corpus)) == named


@pytest.mark.unit
def test_a_region_names_a_text_by_its_adjective_in_either_gender():
    from assistant.corpus.references import regional

    assert regional("Région wallonne") == {"wallonne", "wallon"}
    assert regional("Communauté flamande") == {"flamande", "flamand"}
    assert regional("Communauté française") == set() and regional("fédéral") == set()
