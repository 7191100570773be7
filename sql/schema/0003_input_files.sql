-- keyaudit warehouse, version 3: the files handed in for a files-source run
-- (`keyaudit run --source files`), one row per entry of the folder, with what became of it.
-- Empty for runs collected from AWS. The report's scope section lists these with their hashes.

create table input_files (
    run_id varchar not null,
    file_name varchar not null,         -- name in the folder given with --files
    kind varchar not null,              -- credential_report | access_keys | ignored
    status varchar not null,            -- assessed | not_assessed | unattributed (reports);
                                        -- used | not_used (keys files); ignored
    account_id varchar,                 -- null when no account could be determined
    account_from varchar,               -- 'file name' | 'arns'
    sha256 varchar,                     -- of the file as handed in (null when unreadable)
    bytes bigint,
    modified_at timestamptz,            -- file modification time in the folder
    evidence_path varchar,              -- where the verbatim copy is, relative to the run's evidence folder
    reason varchar                      -- why not assessed / not used / ignored
);
