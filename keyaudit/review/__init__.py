"""The access review stage: a run's review sheet written for people (`sheet.py`), the filled file
and the sign-off recorded in the run's evidence and the warehouse together (`records.py`), and the
demo's scripted reviewer of its first month (`demo.py`).

It sits beside remediation, above the report: it may import the report stage (the sheet's CSV and
workbook writers, its query), the warehouse, sources (the review file reader), evidence,
config and the ground floor; only the CLI imports it (docs/architecture.md, "Layers").
"""
