-- keyaudit warehouse, version 12: waivers that behave like exceptions (keyaudit.rules.waivers).
--   granted_on      the day the risk was accepted (optional in the waiver file); a waiver without
--                   a key id is reopened for keys created on a later day (UTC)
--   count_reopened  findings on such keys: matched, but not suppressed
--   needs_review    not expired, and expires within [waivers] review_days of the run's as_of date
-- status may now also be 'reopened': the waiver matched only keys created after it was granted.
alter table waivers add column granted_on date;
alter table waivers add column count_reopened integer;
alter table waivers add column needs_review boolean;
