-- Remove the stand-in of finding_tickets_stand_in.sql.
drop view if exists temp.finding_tickets
