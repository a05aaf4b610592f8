"""The load's digest: the rows a load wrote, encoded as compact JSON, whichever encoder wrote them."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hds import chain

CELLS = st.one_of(st.none(), st.text(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
                  st.sampled_from(["\x7f", "é", "\u2028", "a\"b", "a\\b", "\x00", "\n", "£1,234.50", "😀"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(CELLS, max_size=6), max_size=8))
def test_the_quick_encoding_of_plain_rows_is_the_standard_librarys_byte_for_byte(rows):
    assert chain._compact_plain(rows) == json.dumps(rows, separators=(",", ":")).encode()


def test_a_digest_of_plain_rows_is_the_same_however_they_are_encoded():
    rows = [["E1", "D1", "home_care", "2020-10-05", None, 35000, "OCC", 0, 1, "{}", 2],
            ["E2", "D2", "Café", "2020-10-06", "2020-11-01", 2 ** 65, "OCC", 1, 0, '{"note": "\x7f"}', 3]]
    closed = [["E0", 1]]
    assert chain.table_digest(rows, closed, plain=True) == chain.table_digest(rows, closed)
    assert chain.table_digest(rows[:1], closed, plain=True) != chain.table_digest(rows[1:], closed, plain=True)
