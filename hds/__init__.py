"""The domain of hds: input records, loading and validation, the store and timelines.

Pipeline: ``load`` (files -> records, with errors as values) -> ``store``
(SQLite) -> ``timeline`` (dates -> segments with facts) -> ``rules`` (facts ->
funder) -> ``claims`` (allocation, claim, trace).
"""
