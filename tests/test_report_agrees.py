"""The HTML report of a real store, in a real browser: its tiles, its table and its chart tell one story.
Months before the first submission are 'not claimed', drafts are drafts, and 'total claimed' counts only
what was submitted."""

import pytest

from hds.money import format_pounds
from tests import browser
from tests.cli_helpers import ok

READ = """() => {
  const tiles = Object.fromEntries([...document.querySelectorAll('#key-figures > div')].map(
      d => [d.querySelector('dt').textContent, d.querySelector('dd').childNodes[0].textContent]));
  const table = document.querySelector('#table-claims');
  const head = [...table.querySelectorAll('thead th')].map(th => th.textContent);
  const row = tr => Object.fromEntries([...tr.children].map((c, i) => [head[i], c.textContent]));
  const rows = [...table.querySelectorAll('tbody tr')].map(tr => ({...row(tr), month: tr.dataset.month,
                                                                    state: tr.dataset.state}));
  const totals = Object.fromEntries([...table.querySelectorAll('tfoot tr')].map(tr => [tr.dataset.total, row(tr)]));
  const bars = [...document.querySelectorAll('#chart-received svg g[id^="received-"]')]
      .filter(g => /-\\d{4}-\\d\\d$/.test(g.id))
      .map(g => ({id: g.id.replace(/^received-/, ''), height: g.getBBox().height}));
  return {tiles, rows, totals, bars};
}"""


def pounds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    return sign * int(text.lstrip("-£").replace(",", "").replace(".", ""))


@pytest.fixture(scope="module")
def seen(paid_store, tmp_path_factory, chromium):
    browser.require_chromium()
    out = tmp_path_factory.mktemp("agree") / "report.html"
    ok("report", "--from", "2020-08", "--to", "2020-12", "-o", out, "--db", paid_store)
    with browser.open_file(out, chromium, width=1280, height=900) as view:
        assert view.errors() == []
        return view.evaluate(READ)


def test_months_before_the_first_submission_are_not_claimed_anywhere(seen):
    states = {r["month"]: r["state"] for r in seen["rows"]}
    assert states == {"2020-08": "not claimed", "2020-09": "not claimed", "2020-10": "submitted",
                      "2020-11": "draft", "2020-12": "draft"}
    assert [r["Status"] for r in seen["rows"]] == ["Not claimed", "Not claimed", "Under-paid", "Draft", "Draft"]
    charted = {bar["id"].split("-", 1)[1] for bar in seen["bars"]}
    assert not charted & {"2020-08", "2020-09"}  # nothing drawn as claimed, draft or awaiting for them


def test_the_tiles_the_table_and_the_chart_agree(seen):
    rows, totals, tiles = seen["rows"], seen["totals"], seen["tiles"]
    submitted = [r for r in rows if r["state"] == "submitted"]
    claimed = sum(pounds(r["Total claimed"]) for r in submitted)
    assert pounds(tiles["Total claimed"]) == pounds(totals["Total claimed"]["Total claimed"]) == claimed == 66265314
    drafts = sum(pounds(r["Total claimed"]) for r in rows if r["state"] == "draft")
    assert pounds(tiles["Drafts, not submitted"]) == pounds(totals["Drafts, not submitted"]["Total claimed"]) == drafts
    outside = sum(pounds(r["Total claimed"]) for r in rows if r["state"] == "not claimed")
    assert pounds(tiles["Not claimed by hds"]) == pounds(totals["Not claimed by hds"]["Total claimed"]) == outside
    assert tiles["Awaiting payment"] == format_pounds(0)  # October is paid; drafts await nothing
    assert not [b for b in seen["bars"] if b["id"].startswith("awaiting-")]
    kinds = {}
    for bar in seen["bars"]:
        kind, month = bar["id"].split("-", 1)
        kinds.setdefault(kind, {})[month] = bar["height"]
    assert set(kinds["claimed"]) == {r["month"] for r in submitted}
    assert set(kinds["draft"]) == {r["month"] for r in rows if r["state"] == "draft"}
    assert set(kinds["received"]) == {r["month"] for r in rows if r["Received"] != "—"}
    # the bars are drawn to the table's amounts: claimed over received, and a draft over the claimed month
    october = next(r for r in rows if r["month"] == "2020-10")
    ratio = pounds(october["Total claimed"]) / pounds(october["Received"])
    assert kinds["claimed"]["2020-10"] / kinds["received"]["2020-10"] == pytest.approx(ratio, rel=2e-3)
    november = next(r for r in rows if r["month"] == "2020-11")
    assert kinds["draft"]["2020-11"] / kinds["claimed"]["2020-10"] == pytest.approx(
        pounds(november["Total claimed"]) / pounds(october["Total claimed"]), rel=5e-3)
    assert pounds(tiles["Running position"]) == pounds(october["Difference"]) == -284682
