-- drip.promote_variant(p_variant_id bigint) returns bigint
-- Ends a test (behaviour 25): the variant's subject and body become its step's own content, and
-- every variant of the step is deactivated, so every later message is the winner. The report
-- keeps each arm's counts. Returns the step id; an unknown variant is an error (P0002).
create or replace function drip.promote_variant(p_variant_id bigint) returns bigint
language plpgsql volatile
set search_path = ''
as $$
declare
    v_variant drip.step_variants;
begin
    select * into v_variant from drip.step_variants v where v.id = p_variant_id for update;
    if v_variant.id is null then
        raise exception 'variant % does not exist', coalesce(p_variant_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_variant_id', detail = 'field: p_variant_id',
                  hint = 'List a step''s variants with: pgdrip variants list STEP';
    end if;
    update drip.sequence_steps st set subject = v_variant.subject, html_body = v_variant.html_body
    where st.id = v_variant.step_id;
    update drip.step_variants v set active = false where v.step_id = v_variant.step_id and v.active;
    return v_variant.step_id;
end
$$;
comment on function drip.promote_variant(bigint) is
    'Makes a variant its step''s content and deactivates the step''s variants; returns the step id.';
