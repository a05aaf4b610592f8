"""`hds notices`: a letter per person of `hds upcoming`, notices.csv with the same fields, all owner-only; a
folder that holds files is not written into unless told; the council's own template is used when named."""

import os
import stat
import zipfile

import pytest

from tests.cli_helpers import hds, ok

ARGS = ("--as-of", "2020-11-15", "--days", "2")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def text_of(docx) -> str:
    with zipfile.ZipFile(docx) as archive:
        return archive.read("word/document.xml").decode("utf-8")


@pytest.fixture
def no_libreoffice(monkeypatch):
    import claims.notices

    monkeypatch.setattr(claims.notices.shutil, "which", lambda name: None)


def test_one_letter_per_person_of_upcoming_and_the_csv(sample_store, tmp_path, no_libreoffice):
    worklist = ok("upcoming", *ARGS, "--csv", "--db", sample_store)
    folder = tmp_path / "letters"
    result = hds("notices", *ARGS, "-o", folder, "--db", sample_store)
    assert result.exit_code == 0, result.output
    ids = [line.split(",")[0] for line in worklist.splitlines()[1:] if line]
    assert ids and sorted(p.name for p in folder.iterdir()) == sorted([f"{i}.docx" for i in ids] + ["notices.csv"])
    assert (folder / "notices.csv").read_text() == worklist.rstrip("\n") + "\n"
    assert f"Wrote {len(ids)} letter(s) (0 as PDF) and notices.csv to {folder}" in result.output
    assert "LibreOffice is not installed" in result.output
    assert mode(folder) == 0o700 and all(mode(p) == 0o600 for p in folder.iterdir())
    letter = text_of(folder / "D0001681.docx")
    assert "15 November 2020" in letter and "16 November 2020" in letter and "£708.74" in letter
    assert "{{" not in letter


def test_a_folder_with_files_is_not_overwritten_unless_told(sample_store, tmp_path, no_libreoffice):
    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    result = hds("notices", *ARGS, "-o", folder, "--db", sample_store)
    assert result.exit_code == 1 and "already holds files" in result.output and "--force" in result.output
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]
    ok("notices", *ARGS, "-o", folder, "--force", "--db", sample_store)
    assert (folder / "notices.csv").exists() and (folder / "keep.txt").read_text() == "mine"
    assert mode(folder) == 0o700


def test_the_council_s_template_from_hds_toml(sample_store, tmp_path, no_libreoffice):
    from docx import Document

    from tests.conftest import copy_store

    db = copy_store(sample_store, tmp_path / "store" / "hds.db")
    (tmp_path / "store" / "letters").mkdir()
    document = Document()
    document.add_paragraph("Ref {{ discharge_id }}: {{ next_funder }} pays from {{ pays_from }}, {{ weekly_cost }}")
    document.save(tmp_path / "store" / "letters" / "ours.docx")
    (tmp_path / "store" / "hds.toml").write_text('[notices]\ntemplate = "letters/ours.docx"\n')
    ok("notices", *ARGS, "-o", tmp_path / "out", "--db", db)
    assert "Ref D0001681: council pays from 16 November 2020, £708.74" in text_of(tmp_path / "out" / "D0001681.docx")
    (tmp_path / "store" / "hds.toml").write_text('[notices]\ntemplate = "letters/missing.docx"\n')
    result = hds("notices", *ARGS, "-o", tmp_path / "again", "--db", db)
    assert result.exit_code == 1 and "missing.docx does not exist" in result.output


def test_letters_as_pdf_where_libreoffice_is_installed(sample_store, tmp_path):
    import shutil

    if not shutil.which("soffice"):
        pytest.skip("LibreOffice is not installed")
    folder = tmp_path / "letters"
    output = ok("notices", "--as-of", "2020-11-15", "--days", "1", "-o", folder, "--db", sample_store)
    pdfs = sorted(folder.glob("*.pdf"))
    assert len(pdfs) == len(list(folder.glob("*.docx"))) > 0 and f"({len(pdfs)} as PDF)" in output
    assert all(p.read_bytes().startswith(b"%PDF") and mode(p) == 0o600 for p in pdfs)
