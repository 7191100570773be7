-- keyaudit warehouse, version 16: the long-term credentials of IAM users besides access keys
-- and passwords (issue 22, part 1).
--
-- Collected with ListSSHPublicKeys (per user), ListServiceSpecificCredentials (AllUsers, once
-- per account) and ListSigningCertificates (per user the credential report shows with a
-- certificate); the raw answers are evidence (ssh_public_keys.json,
-- service_specific_credentials.json, signing_certificates.json). The credentials mart
-- (sql/marts/credentials.sql) adds the credential report's certificate slots where the listing
-- was not collected.

-- One row per SSH public key, service-specific credential and signing certificate listed.
create table iam_credentials (
    run_id varchar not null,
    account_id varchar not null,
    user_name varchar not null,
    credential_kind varchar not null,  -- 'ssh_public_key' | 'service_specific_credential' | 'signing_certificate'
    credential_id varchar not null,    -- SSHPublicKeyId, ServiceSpecificCredentialId, CertificateId
    service_name varchar,              -- e.g. codecommit.amazonaws.com, cassandra.amazonaws.com, bedrock.amazonaws.com
    status varchar not null,           -- 'Active' | 'Inactive' | 'Expired'
    created_at timestamptz,            -- UploadDate or CreateDate
    expires_at timestamptz,            -- ExpirationDate: Bedrock API keys created with an expiry only
    last_used_at timestamptz           -- no IAM API reports the last use of these credentials
                                       -- (2026-12): NULL, never "never used"
);
-- 'collected' | 'off' ([collection] other_credentials = false) | 'failed' (the account is
-- partial, credentials_error says why) | 'not collected' (a folder of files, or evidence from
-- before version 16); NULL for skipped accounts
alter table accounts add column credentials_status varchar;
alter table accounts add column credentials_error varchar;
