-- One row per credential-report line, typed. Sentinels become NULL in the typed columns and
-- stay visible in *_sentinel columns where they carry meaning.
with report as (
    select * from credential_report
),

final as (
    select
        run_id,
        account_id,
        line_number,
        "user" as user_name,
        arn,
        "user" = ka_root_user() as is_root,
        ka_timestamp(user_creation_time) as user_created_at,
        password_enabled = 'true' as is_password_enabled,
        ka_sentinel(password_enabled) as password_enabled_sentinel,
        ka_timestamp(password_last_used) as password_last_used_at,
        ka_sentinel(password_last_used) as password_last_used_sentinel,
        ka_timestamp(password_last_changed) as password_last_changed_at,
        ka_sentinel(password_last_changed) as password_last_changed_sentinel,
        ka_timestamp(password_next_rotation) as password_next_rotation_at,
        mfa_active = 'true' as is_mfa_active,
        access_key_1_active = 'true' as is_key_1_active,
        ka_timestamp(access_key_1_last_rotated) as key_1_created_at,
        ka_timestamp(access_key_1_last_used_date) as key_1_last_used_at,
        ka_text(access_key_1_last_used_region) as key_1_last_used_region,
        ka_text(access_key_1_last_used_service) as key_1_last_used_service,
        access_key_2_active = 'true' as is_key_2_active,
        ka_timestamp(access_key_2_last_rotated) as key_2_created_at,
        ka_timestamp(access_key_2_last_used_date) as key_2_last_used_at,
        ka_text(access_key_2_last_used_region) as key_2_last_used_region,
        ka_text(access_key_2_last_used_service) as key_2_last_used_service,
        cert_1_active = 'true' as is_cert_1_active,
        ka_timestamp(cert_1_last_rotated) as cert_1_created_at,
        cert_2_active = 'true' as is_cert_2_active,
        ka_timestamp(cert_2_last_rotated) as cert_2_created_at
    from report
)

select * from final
