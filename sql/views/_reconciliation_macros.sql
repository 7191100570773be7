-- Words for the reconciliation view's lines (sql/views/reconciliation.sql).

-- The first five names of a list and how many more: a line stays one line for 1,000 users.
create or replace macro ka_named(names) as
    array_to_string(names[1:5], ', ')
    || case when len(names) > 5 then ' and ' || (len(names) - 5) || ' more' else '' end;

-- A kind of resource of rule_population_kinds, in the plural.
create or replace macro ka_kind_plural(kind) as
    case kind when 'key' then 'keys' when 'user' then 'users' when 'root user' then 'root users'
        else kind || 's' end;

-- The command that lists the items behind a reconciliation line (sql/queries/reconcile_*.sql).
create or replace macro ka_reconcile_command(query_name, run_id, account_id) as
    'keyaudit query --file ' || query_name || ' --param run_id=' || run_id
    || coalesce(' --param account_id=' || account_id, '');
