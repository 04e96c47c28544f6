"""The export job: extracts of the Info Mart's facts and dimensions to object storage (export/job.py)."""
