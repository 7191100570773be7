"""The rules stage: what the rules are, not what they find.

Owns the catalogue (`catalogue`: sql/rules/<ID>.sql + <ID>.yml, validated on load), the
remediation commands (`commands`), the waiver file's format and validation (`waivers`,
`waiver_yaml`) and the rules' documentation (`doc`). Writing findings and applying waivers is the
warehouse's (keyaudit.warehouse.findings, .run_rules, .waivers).

May import: config and the ground floor. Beside privilege in one stage; neither imports the other.
"""
