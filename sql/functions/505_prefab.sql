-- drip.prefab(p_prefab text) returns jsonb
-- A ready-made sequence as data: {"sequence": {settings}, "steps": [{delay_hours, subject,
-- html_body, active}, ...]} for birthday, welcome (0h, 24h, +6 days) or post_purchase (0h, +3
-- days), every setting given: what the prefab says, else drip.sequence_defaults() (so active as
-- drip.create_sequence_from_prefab creates it). That function saves it; the admin pages' prefab
-- buttons fill the form with it, so both always offer the same sequences.
create or replace function drip.prefab(p_prefab text) returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
    v_defaults constant jsonb := drip.sequence_defaults();
    v_prefab jsonb;
begin
    case p_prefab
    when 'birthday' then
        v_prefab := jsonb_build_object(
            'sequence', jsonb_build_object('name', 'Birthday greeting',
                'description', 'A greeting on each contact''s birthday.',
                'trigger_type', 'anniversary', 'trigger_value', 'birthday'),
            'steps', jsonb_build_array(
                jsonb_build_object('delay_hours', 0, 'subject', 'Happy birthday, {{FirstName|friend}}!',
                    'html_body', '<p>Happy birthday, {{FirstName|friend}}!</p><p>All of us wish you a wonderful day.</p>')));
    when 'welcome' then
        v_prefab := jsonb_build_object(
            'sequence', jsonb_build_object('name', 'Welcome series',
                'description', 'Three emails that welcome a new contact.',
                'trigger_type', 'tag_added', 'trigger_value', 'welcome'),
            'steps', jsonb_build_array(
                jsonb_build_object('delay_hours', 0, 'subject', 'Welcome, {{FirstName|there}}!',
                    'html_body', '<p>Hi {{FirstName|there}},</p><p>Thanks for joining us. We are glad you are here.</p>'),
                jsonb_build_object('delay_hours', 24, 'subject', 'Getting started, {{FirstName|there}}',
                    'html_body', '<p>Hi {{FirstName|there}},</p><p>Here are three things most people do on their first day.</p>'),
                jsonb_build_object('delay_hours', 144, 'subject', 'One week in: how is it going?',
                    'html_body', '<p>Hi {{FirstName|there}},</p><p>You have been with us a week. Reply and tell us how it is going.</p>')));
    when 'post_purchase' then
        v_prefab := jsonb_build_object(
            'sequence', jsonb_build_object('name', 'After purchase',
                'description', 'A thank-you and a follow-up after a purchase.',
                'trigger_type', 'after_purchase', 'trigger_value', null),
            'steps', jsonb_build_array(
                jsonb_build_object('delay_hours', 0, 'subject', 'Thank you for your order, {{FirstName|there}}',
                    'html_body', '<p>Hi {{FirstName|there}},</p><p>Thank you for your purchase. We are preparing it now.</p>'),
                jsonb_build_object('delay_hours', 72, 'subject', 'How are you finding it, {{FirstName|there}}?',
                    'html_body', '<p>Hi {{FirstName|there}},</p><p>A few days in: is everything working as you hoped?</p>')));
    else
        raise exception 'unknown prefab: %', coalesce(quote_literal(left(p_prefab, 60)), 'NULL')
            using errcode = '22023', column = 'p_prefab', detail = 'field: p_prefab',
                  hint = 'Use birthday, welcome or post_purchase.';
    end case;
    return jsonb_build_object(
        'sequence', (v_defaults -> 'sequence') || (v_prefab -> 'sequence'),
        'steps', (select jsonb_agg((v_defaults -> 'step') || t.step order by t.n)
                  from jsonb_array_elements(v_prefab -> 'steps') with ordinality as t (step, n)));
end
$$;
