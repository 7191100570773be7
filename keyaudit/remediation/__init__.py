"""Acting on a run's deactivation plan once it is approved: read the approved plan file
(`approval`), re-read each due key and deactivate it or say why not (`act`), and record what was
done in the warehouse and the run's evidence (`record`). docs/remediation.md."""
