-- drip.condition_events(p_source text, p_contact_ids bigint[], p_near regclass default null) returns integer
-- What a write means for conditions, set-based over the contacts its statement touched
-- (p_source: what it wrote, 'tag', 'group', 'attribute', 'event', 'purchased', 'clicked', or '*'
-- for new contacts). First exit conditions (behaviour 22): the touched contacts' active
-- enrollments in sequences (active or not) whose exit_condition reads p_source and now holds
-- exit (drip.exit_enrollments). Then segments (behaviour 21): for each active segment sequence
-- whose entry_condition reads p_source, each touched contact's membership (drip.segment_members)
-- is set to whether it matches now; those who were not members and are now enter, and are
-- enrolled under the sequence's reentry rule. Every condition is judged in one statement for all
-- the touched contacts. Two writers that make one contact match: the contacts are locked (FOR NO
-- KEY UPDATE, in id order; an UPDATE of the contacts holds them already) before judging, so the
-- second judges after the first commits, sees its write, and finds the membership it made.
-- Returns how many it enrolled. Next to p_near on Citus.
create or replace function drip.condition_events(p_source text, p_contact_ids bigint[], p_near regclass default null)
returns integer
language plpgsql volatile
security definer
set search_path = ''
set work_mem = '64MB'
set jit = off
-- reads configuration (reference tables on Citus) from inside a shard: see drip.route_events
set citus.allow_nested_distributed_execution = on
as $$
declare
    v_cases text;
    v_sequence_ids bigint[];
    v_ids bigint[];
    v_contacts bigint[];
    v_values text[];
    v_contacts_table constant text := drip.local_table(p_near, 'contacts');
begin
    if coalesce(cardinality(p_contact_ids), 0) = 0 then
        return 0;
    end if;

    -- exit conditions, whether or not the sequence is active
    select string_agg(format('when %s then %s', s.id, drip.condition_predicate(s.exit_condition, true, 'now()', p_near)),
                      ' ' order by s.id),
           array_agg(s.id order by s.id)
    into v_cases, v_sequence_ids
    from drip.sequences s
    where s.exit_condition is not null and (p_source = '*' or p_source = any (s.exit_sources));
    if v_cases is not null then
        execute format($sql$
            select array_agg(e.id order by e.id)
            from %s e join %s c on c.id = e.contact_id
            where e.contact_id = any ($1) and e.status = 'active' and e.sequence_id = any ($2)
              and case e.sequence_id %s else false end$sql$,
            drip.local_table(p_near, 'enrollments'), v_contacts_table, v_cases)
        into v_ids
        using p_contact_ids, v_sequence_ids;
        perform drip.exit_enrollments(v_ids, 'the contact met the sequence''s exit condition', p_near);
    end if;

    -- segments
    select string_agg(format('when %s then %s', s.id, drip.condition_predicate(s.entry_condition, false, 'now()', p_near)),
                      ' ' order by s.id),
           array_agg(s.id order by s.id)
    into v_cases, v_sequence_ids
    from drip.sequences s
    where s.active and s.trigger_type = 'segment' and (p_source = '*' or p_source = any (s.entry_sources));
    if v_cases is null then
        return 0;
    end if;
    -- A write to the contacts themselves holds their rows already (an UPDATE), or made them (an
    -- INSERT: no one else sees them yet); a write to their tags, groups, purchases or events does
    -- not, so it takes the same lock now.
    if p_source not in ('attribute', '*') then
        execute format('select count(*) from (select from %s c where c.id = any ($1) order by c.id for no key update) l',
                       v_contacts_table)
        using p_contact_ids;
    end if;
    -- judged: the (segment, contact) pairs that match now; the touched contacts' other memberships
    -- end, and the pairs that were not members enter
    execute format($sql$
        with judged as (
            select s.id as sequence_id, c.id as contact_id
            from %1$s c
            cross join unnest($2::bigint[]) as s (id)
            where c.id = any ($1) and case s.id %3$s else false end
        ), gone as (
            delete from %2$s m
            where m.contact_id = any ($1) and m.sequence_id = any ($2)
              and not exists (select from judged j where j.sequence_id = m.sequence_id and j.contact_id = m.contact_id)
        ), entered as (
            -- members already are left out first: a conflict costs a speculative insertion each
            insert into %2$s (sequence_id, contact_id)
            select j.sequence_id, j.contact_id from judged j
            where not exists (select from %2$s m where m.sequence_id = j.sequence_id and m.contact_id = j.contact_id)
            order by j.sequence_id, j.contact_id
            on conflict do nothing
            returning sequence_id, contact_id
        )
        select array_agg(x.contact_id), array_agg(x.sequence_id::text) from entered x$sql$,
        v_contacts_table, drip.local_table(p_near, 'segment_members'), v_cases)
    into v_contacts, v_values
    using p_contact_ids, v_sequence_ids;
    return drip.enroll_events('segment', v_contacts, v_values, null, v_sequence_ids, p_near);
end
$$;
revoke all on function drip.condition_events(text, bigint[], regclass) from public;
comment on function drip.condition_events(text, bigint[], regclass) is
    'Exits enrollments whose exit_condition now holds and enrolls contacts entering segments, for the contacts a write touched.';
