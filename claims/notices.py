"""Letters telling people their free care ends (`hds notices`): one per person of `hds upcoming`.

Each letter is the council's template (``[notices] template`` in hds.toml) or
the plain one hds ships, filled with docxtpl: when the free care ends, who
pays from then, the weekly cost and what happens next. Beside the .docx
letters: a PDF of each where LibreOffice is installed, and notices.csv with
the worklist's fields for a mail merge. Letters are personal data: the folder
is the owner's only (0700) and so is every file in it (0600); a folder that
already holds files is written into only when asked (--force).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from claims.report.forward import people_records
from claims.report.formats import to_csv
from claims.report.output import make_private_folder, write_output
from claims.upcoming import FIELDS, Person, Upcoming
from hds.days import to_date
from hds.errors import HdsError
from hds.money import format_pounds

CSV_NAME = "notices.csv"


@dataclass(frozen=True)
class Written:
    folder: Path
    letters: list[Path]
    pdfs: list[Path]
    csv: Path
    pdf_note: str  # why there are no PDFs, when there are none


def bundled_template() -> Path:
    return Path(str(resources.files("claims") / "templates" / "free-care-ends.docx"))


def write_notices(up: Upcoming, folder: Path, config, force: bool = False) -> Written:
    """One letter per person of `up` in `folder` (made owner-only), their PDFs and notices.csv."""
    template = config.notices_template or bundled_template()
    if not template.is_file():
        raise HdsError(f"{config.where('notices', 'template')}: the letter template {template} does not exist")
    folder = _folder(Path(folder), force)
    letters = [_letter(template, person, up, config, folder) for person in up.people]
    csv_path = folder / CSV_NAME
    write_output(csv_path, to_csv(people_records(up), list(FIELDS)))
    pdfs, note = to_pdf(letters, folder)
    return Written(folder, letters, pdfs, csv_path, note)


def _folder(folder: Path, force: bool) -> Path:
    if folder.exists() and not folder.is_dir():
        raise HdsError(f"{folder} is a file; give a folder for the letters")
    if folder.is_dir() and not folder.is_symlink() and any(folder.iterdir()) and not force:
        raise HdsError(f"{folder} already holds files; choose an empty or new folder, or give --force to write "
                       "into it (files of the same name are replaced)")
    return make_private_folder(folder)


def _letter(template: Path, person: Person, up: Upcoming, config, folder: Path) -> Path:
    from docxtpl import DocxTemplate

    try:
        document = DocxTemplate(str(template))
        document.render(letter_context(person, up, config))
    except Exception as exc:  # a template the council changed: say which and why, never a traceback
        raise HdsError(f"the letter template {template} could not be filled for {person.discharge_id}: "
                       f"{type(exc).__name__}: {exc}") from None
    buffer = io.BytesIO()
    document.save(buffer)
    path = folder / f"{_safe_name(person.discharge_id)}.docx"
    write_output(path, buffer.getvalue())
    return path


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text).lstrip(".") or "letter"


def letter_context(person: Person, up: Upcoming, config) -> dict:
    """What a template may use: every field of `hds upcoming` and the words around them."""
    return {
        "discharge_id": person.discharge_id, "patient_id": person.patient_id, "scheme": person.scheme,
        "name": "Sir or Madam", "council": config.council_label, "ccg": config.ccg_label,
        "letter_date": _long(up.as_of), "as_of": _long(up.as_of), "discharge_date": _long(person.discharge_date),
        "pays_from": _long(person.pays_from), "last_free_day": _long(person.pays_from - 1),
        "next_funder": person.next_funder, "next_funder_text": who_pays(person.next_funder, config),
        "weekly_cost": format_pounds(person.weekly_pence), "outstanding": person.outstanding,
        "what_next": what_next(person, config),
    }


def _long(day: int) -> str:
    date = to_date(day)
    return f"{date.day} {date:%B %Y}"


def who_pays(next_funder: str, config) -> str:
    words = {"ccg": f"the NHS ({config.ccg_label}) while it decides on NHS Continuing Healthcare",
             "council": f"{config.council_label} while your needs are assessed",
             "bau": "the usual arrangements for paying for care",
             "excluded": "no one under the scheme", "hds": "the NHS"}
    return " and ".join(words.get(f, f) for f in next_funder.split("+"))


def what_next(person: Person, config) -> str:
    """What the person can expect after the free care, in plain words."""
    steps = []
    if "CHC decision" in person.outstanding:
        steps.append("The NHS will tell you its decision on NHS Continuing Healthcare, which would pay for all of "
                     "your care if you are eligible.")
    if "Care Act assessment" in person.outstanding:
        steps.append(f"{config.council_label} will assess your care needs with you, if it has not done so yet, "
                     "and carry out a financial assessment to work out what, if anything, you will pay towards "
                     "your care. You will be told the result before you are asked to pay anything.")
    if not steps:
        steps.append("If the council arranges your care, a financial assessment works out what, if anything, you "
                     "pay towards it; if you have agreed to pay for your own care, you pay from the date agreed "
                     "with you.")
    return " ".join(steps)


def to_pdf(letters: list[Path], folder: Path) -> tuple[list[Path], str]:
    """A PDF beside each letter, by LibreOffice when it is installed; the PDFs and, without them, why not."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not letters:
        return [], ""
    if soffice is None:
        return [], "LibreOffice is not installed, so the letters are .docx only"
    with tempfile.TemporaryDirectory(prefix="hds-soffice-") as profile:
        try:
            subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                            "--outdir", str(folder), *map(str, letters)], check=True, capture_output=True,
                           timeout=60 + 5 * len(letters))
        except (subprocess.SubprocessError, OSError) as exc:
            return [], f"LibreOffice could not make PDFs ({type(exc).__name__}); the letters are .docx only"
    pdfs = [p.with_suffix(".pdf") for p in letters if p.with_suffix(".pdf").exists()]
    for pdf in pdfs:
        os.chmod(pdf, 0o600)
    return pdfs, "" if len(pdfs) == len(letters) else f"LibreOffice made {len(pdfs)} of {len(letters)} PDFs"
