-- Per run, control and rule: resources evaluated, failing, waived and passing, the accounts the
-- rule was evaluated in, and the result (pass / fail / not evaluated) over the whole run.
-- Defined in _control_results_for.sql, which per-owner reports call with their accounts.
select * from control_results_for(null)
