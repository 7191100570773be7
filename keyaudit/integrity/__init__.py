"""The integrity stage: a recorded run proven unchanged, and finished only from that proof.

`verify.py` compares a run's evidence folder with its manifests, its signature and what the
warehouse recorded when the run was loaded (`keyaudit verify`); `resume.py` continues an
interrupted run from its evidence (`keyaudit run --resume`), after the same comparison. Both
read the warehouse, so they sit above it and above the evidence stage (docs/architecture.md,
"Layers").

May import: the warehouse and every stage below it. Imported by: the pipeline and the CLI.
"""
