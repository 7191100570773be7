-- The file of the warehouse the report reads (NULL in memory), for error messages, and whether
-- this connection reads it read-only: a second process may open the file as a reader beside a
-- read-only connection, never beside a writer (keyaudit.report.beside).
with databases as (
    select * from duckdb_databases()
),

final as (
    select
        path,
        readonly
    from databases where database_name = current_database()
)

select * from final
