-- Hand back the memory DuckDB keeps cached after large queries: briefly lower the limit, then
-- return it to the default (set_memory_limit.sql puts back a limit that had been set).
set memory_limit = '32MB';
reset memory_limit;
