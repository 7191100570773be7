-- The warehouse's tables and views with their columns: an older warehouse lacks some, and the
-- report leaves out what it cannot show.
with relation_columns as (
    select * from information_schema.columns
),

final as (
    select
        table_name,
        column_name,
    from relation_columns
    where table_catalog = current_database() and table_schema = 'main'
)

select * from final
