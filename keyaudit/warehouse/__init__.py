"""The warehouse stage: DuckDB, the one place a run's data is loaded, evaluated and queried.

Owns connect and migrate (`db`), loading a run from its evidence (`load`, `marts`,
`reconciliation`, `remediation_plan`, `kept`: views whose rows loading keeps per run), every
writer of the findings tables (`findings`: the rules evaluated; `run_rules`; `waivers`: waivers
applied; SQL in sql/findings/), reviews' rows (`reviews`), sample draws (`samples`), saved
queries (`saved_queries`) and the demo's anchor.

May import: sources (the parsers of what was collected), evidence, privilege, rules, config and
the ground floor. Never the report or anything above it.
"""
