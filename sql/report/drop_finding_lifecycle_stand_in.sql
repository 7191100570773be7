-- Remove the stand-in of finding_lifecycle_stand_in.sql.
drop view if exists temp.finding_lifecycle
