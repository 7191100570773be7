-- keyaudit warehouse, version 9: the AWS calls each run made, from its own record (issue 20.10).
--
-- The run counts every API call as it makes it (keyaudit.sources.aws.calls: once per call, its
-- retries not counted again; a denied call counts). The report's methodology lists these, so it
-- names exactly what the run called. Loaded from the evidence: each account's collection.json
-- (`calls`, its AssumeRole included) and run.json (`api_calls`, the calls made for the run as a
-- whole from the caller's session: who am I, Organizations, SCPs). A files run calls nothing
-- and has no row; a run loaded before version 9 has none either.
create table api_calls (
    run_id varchar not null,
    account_id varchar,              -- NULL: made for the run as a whole, not for one account
    service varchar not null,        -- as IAM policies name it: iam, sts, organizations
    operation varchar not null,      -- e.g. GetCredentialReport
    calls bigint not null
);
