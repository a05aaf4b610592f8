"""The report step of the pipeline: what people read, print, open in Excel or mail.

Each writer takes plain values (pence, dates, strings) from the claims layer
and renders them; none of them computes money.
"""
