-- How a connection the report reads with is set: timestamps in UTC, and no progress bar drawn on
-- stdout for long queries.
set TimeZone = 'UTC';
set enable_progress_bar = false;
