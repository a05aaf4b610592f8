"""The synthetic data's NHS numbers: one a patient, none shared by two patients but for the few slips the
generator makes on purpose; or, asked for, a random number for every discharge as it gave before."""

from collections import defaultdict

from fixtures.generate import SLIPS, WORKED_EXAMPLE_NUMBER, generate
from hds.load import parse_nhs_number


def _numbers(tables) -> tuple[dict, dict]:
    by_patient, by_number = defaultdict(set), defaultdict(set)
    for row in tables["discharges"]:
        if row["nhs_number"]:
            by_patient[row["patient_id"]].add(row["nhs_number"])
            by_number[row["nhs_number"]].add(row["patient_id"])
    return by_patient, by_number


def test_each_patient_keeps_one_nhs_number_and_no_two_share_one_but_for_a_few_slips():
    tables = generate(seed=3, per_month=400)
    discharges = tables["discharges"]
    by_patient, by_number = _numbers(tables)
    shared = [n for n, patients in by_number.items() if len(patients) > 1]
    several = [p for p, numbers in by_patient.items() if len(numbers) > 1]
    assert 0 < len(shared) <= 3 * len(discharges) / SLIPS and len(several) <= len(shared)
    assert all(parse_nhs_number(n) == n and n.startswith("999") for n in by_number)  # valid, in the test range
    assert by_number[WORKED_EXAMPLE_NUMBER] == {"P000000"}  # the worked example's number is its own
    assert generate(seed=3, per_month=400) == tables  # the seed decides it


def test_random_numbers_are_drawn_for_every_discharge_and_the_rest_is_the_same():
    mine, drawn = generate(seed=3, per_month=400), generate(seed=3, per_month=400, random_nhs_numbers=True)
    assert {name: rows for name, rows in mine.items() if name != "discharges"} == \
        {name: rows for name, rows in drawn.items() if name != "discharges"}
    strip = [[{k: v for k, v in row.items() if k != "nhs_number"} for row in t["discharges"]] for t in (mine, drawn)]
    assert strip[0] == strip[1]
    assert [bool(r["nhs_number"]) for r in mine["discharges"]] == [bool(r["nhs_number"]) for r in drawn["discharges"]]
    by_patient, _ = _numbers(drawn)
    assert sum(len(numbers) > 1 for numbers in by_patient.values()) > 50  # a repeat patient's numbers differ


def test_the_committed_sample_is_what_the_generator_writes_with_its_earlier_draws(tmp_path):
    from fixtures import SAMPLE_DIR
    from fixtures.generate import write

    folder = write(generate(seed=1, per_month=250, random_nhs_numbers=True), tmp_path / "sample")
    for name in ("discharges", "episodes", "events", "block_costs"):
        assert (folder / f"{name}.csv").read_bytes() == (SAMPLE_DIR / f"{name}.csv").read_bytes(), name
