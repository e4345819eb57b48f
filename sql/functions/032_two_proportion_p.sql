-- drip.two_proportion_p(p_hits bigint, p_trials bigint, p_base_hits bigint, p_base_trials bigint) returns numeric
-- The two-sided p-value of the two-proportion z-test (behaviour 25): is p_hits/p_trials different
-- from p_base_hits/p_base_trials? z = (p1 - p0) / sqrt(p (1 - p) (1/n1 + 1/n0)) with the pooled
-- rate p, and p-value = 2 (1 - Phi(|z|)) = erfc(|z| / sqrt 2), by the normal approximation
-- (Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7; PostgreSQL 15 has no erf). NULL
-- while either arm has no trials; 1 when the pooled rate is 0 or 1 (nothing differs).
create or replace function drip.two_proportion_p(p_hits bigint, p_trials bigint, p_base_hits bigint, p_base_trials bigint)
returns numeric
language plpgsql immutable parallel safe
set search_path = ''
as $$
declare
    v_pooled double precision;
    v_z double precision;
    v_x double precision;
    v_t double precision;
begin
    if coalesce(p_trials, 0) <= 0 or coalesce(p_base_trials, 0) <= 0 then
        return null;
    end if;
    v_pooled := (p_hits + p_base_hits)::double precision / (p_trials + p_base_trials);
    if v_pooled <= 0 or v_pooled >= 1 then
        return 1;
    end if;
    v_z := (p_hits::double precision / p_trials - p_base_hits::double precision / p_base_trials)
           / sqrt(v_pooled * (1 - v_pooled) * (1.0 / p_trials + 1.0 / p_base_trials));
    v_x := abs(v_z) / sqrt(2.0);
    v_t := 1 / (1 + 0.3275911 * v_x);
    return round((((((1.061405429 * v_t - 1.453152027) * v_t + 1.421413741) * v_t - 0.284496736) * v_t
                   + 0.254829592) * v_t * exp(-v_x * v_x))::numeric, 6);
end
$$;
comment on function drip.two_proportion_p(bigint, bigint, bigint, bigint) is
    'Two-sided p-value of the two-proportion z-test (normal approximation).';
