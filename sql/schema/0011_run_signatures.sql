-- keyaudit warehouse, version 11: the signature of each signed run's manifest (issue 21).
--
-- Hashes alone prove nothing to someone who can rewrite the evidence and the warehouse
-- together; a signature made with a key that person does not hold does
-- (keyaudit.evidence.signing). One row per signed run, replaced with the run; a run without a
-- row was not signed. The same record is manifest.sig.json in the run's evidence folder.
create table run_signatures (
    run_id varchar not null,
    manifest_sha256 varchar not null,   -- the manifest the signature covers
    algorithm varchar not null,         -- 'Ed25519' | 'ECDSA_SHA_256' | 'RSASSA_PSS_SHA_256'
    key_id varchar,                     -- the KMS key's ARN; null for a key file
    public_key_sha256 varchar not null, -- SHA-256 of the public key's DER SubjectPublicKeyInfo
    signature varchar not null,         -- base64
    signed_at timestamptz not null,
    signed_text varchar not null        -- exactly what was signed
);
