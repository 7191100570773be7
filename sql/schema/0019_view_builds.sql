-- keyaudit warehouse, version 19: the hash of the SQL the staging and auditor views were created
-- from. A writer whose files hash the same (and that applied no migration) keeps the views
-- instead of binding all of them again at every connection (keyaudit.warehouse.db.migrate).
create table view_builds (
    sql_sha256 varchar not null
);
