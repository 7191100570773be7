-- The connection's memory limit as it is set now.
select current_setting('memory_limit') as memory_limit
