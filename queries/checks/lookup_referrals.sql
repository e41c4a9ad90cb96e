-- Grain: one row per referral_id read, for the appointments checks (see lookup_patients.sql).
create or replace temp view lookup_referrals as
with referrals as (
    select * from status_referrals
    where referral_id is not null
),

final as (
    select
        referral_id,
        count(*) = 1 as unique_key,
        bool_and(not quarantined) as accepted,
        case when count(*) = 1 then any_value(patient_id) end as patient_id
    from referrals
    group by referral_id
)

select * from final
