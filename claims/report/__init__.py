"""The report step of the pipeline: what people read, print, open in Excel or mail.

Each writer takes plain values (pence, dates, strings) from the claims layer
and renders them; none of them computes money. A command builds a `Report`
(``claims.report.deliver``: title, columns, rows, notes) and hands it to the
one `deliver`, which renders it as a terminal table, CSV, JSON, a workbook or
HTML. Every column's heading and kind come from ``claims.report.columns``.
"""
