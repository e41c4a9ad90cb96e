-- Outcomes after a first implant, for clinicians (docs/figures.md §7).
--
-- Grain: one row per cohort patient and measure (every measure of $measures, with or without a
-- value, so that the rows also say how complete the measures are).
-- Cohort, by $review_due:
--   false  `outcomes`: patients whose first new_implant (ever) is dated in the period;
--   true   `outcomes_12m`: patients whose first new_implant + 365 days is in the period (their
--          one-year review falls due in it).
-- Parameters: $start, $end (the period, inclusive), $as_of (= $end),
--             $sites (a list; NULL = all sites), $condition (primary_condition; NULL = all),
--             $review_due, $measures.
--   baseline   the latest value dated implant_date - 180 .. implant_date (both inclusive)
--   follow-up  the value dated closest to implant_date + 365, within +-90 days and on or before
--              as_of; of two equally close, the earlier
--   paired     both present; change = follow-up - baseline
-- The patient's primary_condition, tone_pattern, sex and age_at_implant (complete years at the
-- first implant) come alongside, for the clinicians' cohort explorer.

with cohort as (
    select
        site,
        patient_id,
        min(implant_date) as implant_date
    from core.implants
    where in_scope(site, patient_id, $sites, $condition) and procedure = 'new_implant'
    group by site, patient_id
    having in_period(min(implant_date) + if($review_due, 365, 0), $start, $end)
),

measures as (
    select unnest($measures::varchar[]) as measure
),

cohort_measures as (
    select
        c.site,
        c.patient_id,
        c.implant_date,
        m.measure
    from cohort as c
    cross join measures as m
),

measurements as (
    select
        c.site,
        c.patient_id,
        c.implant_date,
        o.measure,
        o.assessment_date,
        o.value
    from cohort as c
    inner join core.outcomes as o on c.site = o.site and c.patient_id = o.patient_id
),

baselines as (
    select
        site,
        patient_id,
        implant_date,
        measure,
        assessment_date as baseline_date,
        value as baseline_value
    from measurements
    where assessment_date between implant_date - 180 and implant_date
    qualify row_number() over (
        partition by site, patient_id, measure order by assessment_date desc
    ) = 1
),

followups as (
    select
        site,
        patient_id,
        implant_date,
        measure,
        assessment_date as followup_date,
        value as followup_value
    from measurements
    where
        abs(assessment_date - (implant_date + 365)) <= 90
        and assessment_date <= $as_of
    qualify row_number() over (
        partition by site, patient_id, measure
        order by abs(assessment_date - (implant_date + 365)), assessment_date
    ) = 1
),

joined as (
    select
        c.site,
        c.patient_id,
        c.implant_date,
        p.primary_condition,
        p.tone_pattern,
        p.sex,
        c.measure,
        b.baseline_date,
        b.baseline_value,
        f.followup_date,
        f.followup_value,
        date_sub('year', p.date_of_birth, c.implant_date) as age_at_implant,
        b.baseline_value is not null and f.followup_value is not null as paired,
        f.followup_value - b.baseline_value as change  -- noqa: RF04
    from cohort_measures as c
    left join baselines as b
        on
            c.site = b.site
            and c.patient_id = b.patient_id
            and c.implant_date = b.implant_date
            and c.measure = b.measure
    left join followups as f
        on
            c.site = f.site
            and c.patient_id = f.patient_id
            and c.implant_date = f.implant_date
            and c.measure = f.measure
    inner join core.patients as p on c.site = p.site and c.patient_id = p.patient_id
),

final as (
    select
        site,
        patient_id,
        implant_date,
        primary_condition,
        tone_pattern,
        sex,
        age_at_implant,
        measure,
        baseline_date,
        baseline_value,
        followup_date,
        followup_value,
        paired,
        change  -- noqa: RF04
    from joined
)

select * from final
order by site, patient_id, measure
