"""`borderpass sources add` and the refusals of `borderpass ingest` (a whole batch through
the command line is in tests/test_demo.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import delete, select

from borderpass.evidence.models import EvidenceSource
from borderpass.identity.models import ApiToken
from borderpass.kit.db import unit_of_work
from tests.conftest import Command


def test_sources_add_and_what_ingest_refuses(tmp_path: Path, cli: Command) -> None:
    name = f"CLI Registry {uuid.uuid4().hex[:8]}"
    batch = tmp_path / "batch.csv"
    batch.write_text("specimen_id,document_kind,document_number\n")
    try:
        added = cli("sources", "add", name, "--kind", "registry")
        assert added.exit_code == 0, added.output
        assert len(added.stdout.strip()) > 20  # the API key, shown once
        taken = cli("sources", "add", name, "--kind", "registry")
        assert taken.exit_code == 1 and "A source with that name exists." in taken.stderr
        wrong = cli("ingest", "tests", str(batch), "--source", name)
        assert wrong.exit_code == 2
        assert f"source {name!r} is a registry and cannot send tests" in wrong.stderr
        unknown = cli("ingest", "vaccinations", str(batch), "--source", "Nobody")
        assert unknown.exit_code == 2 and "unknown source 'Nobody'" in unknown.stderr
        missing = cli("ingest", "tests", str(tmp_path / "none.csv"))
        assert missing.exit_code == 2 and "no such file" in missing.stderr
    finally:
        with unit_of_work() as session:
            source = session.scalar(select(EvidenceSource.id).where(EvidenceSource.name == name))
            session.execute(delete(ApiToken).where(ApiToken.principal_id == source))
            session.execute(delete(EvidenceSource).where(EvidenceSource.name == name))


def test_a_refused_source_is_not_written(cli: Command) -> None:
    name = f"CLI Source {uuid.uuid4().hex[:8]}"
    refused = cli("sources", "add", name, "--kind", "hospital")
    assert refused.exit_code == 1
    assert refused.stderr == "invalid_input: A source is a lab or a registry.\n"
    with unit_of_work() as session:
        assert session.scalar(select(EvidenceSource).where(EvidenceSource.name == name)) is None
