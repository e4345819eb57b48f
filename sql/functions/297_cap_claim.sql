-- drip.cap_claim(p_claimed bigint[], p_now timestamptz, p_near regclass default null) returns bigint[]
-- Under frequency caps (behaviour 24), before a dispatch batch decides: locks the contacts of its
-- marketing enrollments (FOR NO KEY UPDATE, in id order), so that a second dispatcher holding
-- another of a contact's due steps decides only after the first committed and counts what it
-- queued; and adds to the batch those contacts' other due enrollments that no one holds, so
-- that the batch can send a contact's higher-priority mail first. Returns the batch's ids.
create or replace function drip.cap_claim(p_claimed bigint[], p_now timestamptz, p_near regclass default null)
returns bigint[]
language plpgsql volatile
set search_path = ''
set jit = off
set citus.allow_nested_distributed_execution = on
as $$
declare
    v_contacts bigint[];
    v_more bigint[];
    v_enrollments constant text := drip.local_table(p_near, 'enrollments');
    v_marketing constant bigint[] := (select array_agg(s.id) from drip.sequences s
                                      where s.active and s.message_class = 'marketing');
begin
    if p_claimed is null or v_marketing is null then
        return p_claimed;
    end if;
    execute format($sql$
        select array_agg(l.id order by l.id) from (
            select c.id from %s c
            where c.id in (select e.contact_id from %s e where e.id = any ($1) and e.sequence_id = any ($2))
            order by c.id
            for no key update of c
        ) l$sql$, drip.local_table(p_near, 'contacts'), v_enrollments)
    into v_contacts
    using p_claimed, v_marketing;
    if v_contacts is null then
        return p_claimed;
    end if;
    execute format($sql$
        select array_agg(x.id) from (
            select e.id from %s e
            where e.contact_id = any ($1) and e.status = 'active' and e.sequence_id = any ($4)
              and e.next_step_due_at <= $2 and e.last_step_sent_at is distinct from $2 and e.id <> all ($3)
            for update of e skip locked
        ) x$sql$, v_enrollments)
    into v_more
    using v_contacts, p_now, p_claimed, v_marketing;
    return p_claimed || coalesce(v_more, '{}');
end
$$;
revoke all on function drip.cap_claim(bigint[], timestamptz, regclass) from public;
comment on function drip.cap_claim(bigint[], timestamptz, regclass) is
    'Locks the contacts of a capped dispatch batch and adds their other due enrollments to it.';

-- drip.cap_release(p_contact_id bigint, p_now timestamptz, p_queued integer, p_near regclass default null) returns timestamptz
-- When a cap allows the contact one more marketing message again, after p_queued more were
-- queued at p_now: for every cap the contact has reached, the moment the oldest send that must
-- leave its period does so; the latest of them. Called by dispatch only for the steps a cap holds
-- back (the step is then due at that moment, moved into its window).
create or replace function drip.cap_release(p_contact_id bigint, p_now timestamptz, p_queued integer,
                                            p_near regclass default null)
returns timestamptz
language plpgsql stable
set search_path = ''
set citus.allow_nested_distributed_execution = on
as $$
declare
    v_cap record;
    v_at timestamptz;
    v_release timestamptz;
begin
    for v_cap in select c.max_messages, c.per from drip.frequency_caps c loop
        -- the sends in the period, newest first: this batch's (at p_now), then the counted ones
        if v_cap.max_messages <= p_queued then
            v_at := p_now;
        elsif p_near is null then
            -- one server: a static statement, planned once per session (this runs per held step)
            select cs.queued_at into v_at
            from drip.contact_sends cs
            join drip.outbox o on o.id = cs.outbox_id and o.contact_id = cs.contact_id
            where cs.contact_id = p_contact_id and cs.queued_at > p_now - v_cap.per and o.status <> 'cancelled'
            order by cs.queued_at desc
            offset v_cap.max_messages - p_queued - 1 limit 1;
        else
            execute format($sql$
                select cs.queued_at from %s cs
                join %s o on o.id = cs.outbox_id and o.contact_id = cs.contact_id
                where cs.contact_id = $1 and cs.queued_at > $2 - $3 and o.status <> 'cancelled'
                order by cs.queued_at desc
                offset $4 limit 1$sql$, drip.local_table(p_near, 'contact_sends'), drip.local_table(p_near, 'outbox'))
            into v_at
            using p_contact_id, p_now, v_cap.per, v_cap.max_messages - p_queued - 1;
        end if;
        -- a cap not reached holds nothing back
        if v_at is not null then
            v_release := greatest(v_release, v_at + v_cap.per);
        end if;
    end loop;
    return coalesce(v_release, p_now);
end
$$;
revoke all on function drip.cap_release(bigint, timestamptz, integer, regclass) from public;
