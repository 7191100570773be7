"""The sources stage: where credential data comes from, saved as evidence as it is read.

Owns AWS collection (`aws/`: sessions, discovery, credential report, keys, other credentials,
SCPs, privilege data, the record of API calls), a folder of reports (`files`, with the report
and keys-file parsers and the review file reader), the simulated organization (`demo/`), the
run's sessions and clock (`provider`) and collection on Dask workers (`remote`).

May import: evidence (the store it writes), rules, config and the ground floor. Never the
warehouse or the report: they read what sources saved.
"""
