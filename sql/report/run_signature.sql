-- The signature of the run's manifest (keyaudit.evidence.signing): none when the run was not
-- signed.
with run_signatures as (
    select * from run_signatures where run_id = $run_id
),

final as (
    select
        algorithm,
        key_id,
        public_key_sha256,
        manifest_sha256,
        signed_at,
    from run_signatures
)

select * from final
