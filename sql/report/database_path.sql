-- The file of the warehouse the report reads (NULL in memory), for error messages.
with databases as (
    select * from duckdb_databases()
),

final as (
    select path from databases where database_name = current_database()
)

select * from final
