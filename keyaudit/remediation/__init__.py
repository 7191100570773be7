"""Acting on a run's deactivation plan once it is approved: read the approved plan file
(`approval`), re-read each due key and deactivate it or say why not (`act`), and record what was
done in the warehouse and the run's evidence (`record`). docs/remediation.md.

A stage beside outcome, review and integrity, none importing another: it may import the report
and every stage below it. Imported by: the CLI.
"""
