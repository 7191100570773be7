-- Per run, control and kind of resource (key, user, root user, account): the distinct resources
-- of that kind the control's rules evaluated, failing, waived and passing, over the whole run.
-- Defined in _control_populations_for.sql, which per-owner reports call with their accounts.
select * from control_populations_for(null)
