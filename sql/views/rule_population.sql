-- Per run and enabled rule: what the rule judges (its evaluated population) and how many there
-- were, so the control view can say "CIS 1.14: 412 active IAM-user access keys evaluated".
-- The population of each rule is defined in rule_population_kinds, its per-account count and
-- whether it was evaluated there in rule_coverage; this adds them up over the run's accounts in
-- scope (accounts_evaluated: those whose evidence let the rule judge).
select * from rule_population_for(null)
