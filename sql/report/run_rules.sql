-- The rule catalogue as the run evaluated it: severity, parameters and control mappings.
with run_rules as (
    select * from run_rules where run_id = $run_id
),

final as (
    select * from run_rules
)

select * from final order by rule_id
