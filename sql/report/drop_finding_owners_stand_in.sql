-- Remove the stand-in of finding_owners_stand_in.sql.
drop view if exists temp.finding_owners
