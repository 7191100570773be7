-- Set the connection's memory limit to $limit.
set memory_limit = $limit
