-- drip.create_sequence_from_prefab(p_prefab text, p_name text default null, p_trigger_value text default null) returns bigint
-- Creates a ready-made sequence: birthday, welcome (0h, 24h, +6 days) or post_purchase
-- (0h, +3 days). Returns the new sequence id.
create or replace function drip.create_sequence_from_prefab(
    p_prefab text, p_name text default null, p_trigger_value text default null
) returns bigint
language plpgsql volatile
set search_path = ''
as $$
declare
    v_id bigint;
begin
    if p_prefab is null or p_prefab not in ('birthday', 'welcome', 'post_purchase') then
        raise exception 'unknown prefab: %', coalesce(quote_literal(left(p_prefab, 60)), 'NULL')
            using errcode = '22023', column = 'p_prefab', detail = 'field: p_prefab',
                  hint = 'Use birthday, welcome or post_purchase.';
    end if;
    if p_prefab = 'birthday' then
        insert into drip.sequences (name, description, trigger_type, trigger_value)
        values (coalesce(p_name, 'Birthday greeting'), 'A greeting on each contact''s birthday.',
                'anniversary', coalesce(p_trigger_value, 'birthday'))
        returning id into v_id;
        insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body) values
        (v_id, 1, 0, 'Happy birthday, {{FirstName|friend}}!',
         '<p>Happy birthday, {{FirstName|friend}}!</p><p>All of us wish you a wonderful day.</p>');
    elsif p_prefab = 'welcome' then
        insert into drip.sequences (name, description, trigger_type, trigger_value)
        values (coalesce(p_name, 'Welcome series'), 'Three emails that welcome a new contact.',
                'tag_added', coalesce(p_trigger_value, 'welcome'))
        returning id into v_id;
        insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body) values
        (v_id, 1, 0, 'Welcome, {{FirstName|there}}!',
         '<p>Hi {{FirstName|there}},</p><p>Thanks for joining us. We are glad you are here.</p>'),
        (v_id, 2, 24, 'Getting started, {{FirstName|there}}',
         '<p>Hi {{FirstName|there}},</p><p>Here are three things most people do on their first day.</p>'),
        (v_id, 3, 144, 'One week in: how is it going?',
         '<p>Hi {{FirstName|there}},</p><p>You have been with us a week. Reply and tell us how it is going.</p>');
    else
        insert into drip.sequences (name, description, trigger_type, trigger_value)
        values (coalesce(p_name, 'After purchase'), 'A thank-you and a follow-up after a purchase.',
                'after_purchase', p_trigger_value)
        returning id into v_id;
        insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body) values
        (v_id, 1, 0, 'Thank you for your order, {{FirstName|there}}',
         '<p>Hi {{FirstName|there}},</p><p>Thank you for your purchase. We are preparing it now.</p>'),
        (v_id, 2, 72, 'How are you finding it, {{FirstName|there}}?',
         '<p>Hi {{FirstName|there}},</p><p>A few days in: is everything working as you hoped?</p>');
    end if;
    return v_id;
end
$$;
