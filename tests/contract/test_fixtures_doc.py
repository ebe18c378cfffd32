"""docs/contract-fixtures.md lists every contract fixture with what it pins and its source, as generated."""

from tests.contract.fixtures_doc import DOC, render
from tests.support.contract import FIXTURES


def test_contract_fixtures_doc_is_current():
    assert DOC.read_text(encoding="utf-8") == render(), \
        "docs/contract-fixtures.md is stale: run python -m tests.contract.fixtures_doc"


def test_every_fixture_is_in_the_doc_with_its_source():
    text = render()
    for path in FIXTURES.glob("*/*.json"):
        assert f"`{path.parent.name}/{path.stem}`" in text
