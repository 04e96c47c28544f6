"""Data quality of the Info Mart with Great Expectations 1.x.

Expectation suites over the raw tables, the staging models, the marts and the aggregates
(:mod:`quality.suites`), run as one checkpoint of a file-backed context under the Info Mart's
home (:mod:`quality.context`, :mod:`quality.checkpoint`); :func:`quality.run.run_quality` keeps
the results, builds the Data Docs and makes them render offline (:mod:`quality.assets`).

Reads the database through the core (``infomart``) only.
"""
