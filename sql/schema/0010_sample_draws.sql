-- keyaudit warehouse, version 10: the samples auditors drew from a run (issue 21).
--
-- `keyaudit sample` orders a run's keys, findings or users by SHA-256(seed || id) and takes the
-- first N (sql/queries/sample_*.sql). Each draw is kept, append-only, so the auditor's working
-- papers can cite it and anyone can re-draw it from the seed.
create table sample_draws (
    run_id varchar not null,
    drawn_at timestamptz not null,
    population_kind varchar not null, -- 'keys' | 'findings' | 'users'
    seed varchar not null,
    size integer not null,            -- asked for
    population_size integer not null, -- the run's keys / findings / users
    drawn integer not null,           -- least of size and population_size
    sample_ids varchar[] not null,    -- the ids drawn, in their order
    query_name varchar not null,      -- the saved query that drew them (sql/queries)
    files_sha256 varchar              -- "sample-….csv <sha256>; sample-….xlsx <sha256>"
);
