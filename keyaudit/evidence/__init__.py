"""The evidence stage: a run's folder on disk and what proves it unchanged.

Owns the store (`store`: files written whole, account and run manifests), `SHA256SUMS` (`sums`),
the manifest signature (`signing`), run.json (`run_record`, the one module that reads and writes
it), the waiver file kept with the run (`kept_waivers`), the run lock (`runlock`), the files added
after a run (`after_run`) and the reading of a run's service control policies (`scps`).

May import: rules, config and the ground floor. Never the sources that write into it, nor the
warehouse: checking a run against the warehouse is the integrity stage's (keyaudit.integrity).
"""
