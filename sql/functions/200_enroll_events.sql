-- drip.enroll_events(p_trigger_type text, p_contact_ids bigint[], p_values text[], p_occurrence date default null, p_sequence_ids bigint[] default null, p_near regclass default null, p_keys text[] default null, p_event_ids bigint[] default null) returns integer
-- Set-based heart of enrollment: every (contact, value) event enrolls the contact, unless it is
-- bounced, or unsubscribed (from all mail, or from the sequence's topic) and the sequence is not
-- transactional (behaviour 23), into each active sequence of that type whose value is NULL or
-- matches (only those of p_sequence_ids, when given), within the sequence's re-entry rule and,
-- where a sequence has one, its entry_condition judged for the contact now (behaviour 17).
-- Values match case-insensitively for tags and event names; a segment's value is the sequence's
-- id (drip.condition_events decided who entered; its condition is not judged again here). Event
-- sequences enroll once per (contact, key) while active: p_keys and p_event_ids, beside
-- p_contact_ids, give each event's key and row (its payload fills {{event.X}} tags).
-- Step 1 is due at now() plus its delay (for an anniversary, p_occurrence's local midnight in
-- the contact's zone, else the sequence's), moved into the send window. Returns new enrollments.
-- Fast path: one plain INSERT of the pairs not already enrolled (ON CONFLICT's speculative
-- insertion cost 27 % more in bulk). If a concurrent writer enrolled one of the pairs first,
-- the unique index refuses it and the same statement is run with ON CONFLICT DO NOTHING.
-- On Citus it runs inside one shard (p_near, see drip.local_table) and enrolls the contacts
-- that live there; the others are the other shards' work (drip.route_events).

-- Replaced by the query below; dropped when upgrading from the first release.
drop function if exists drip.enrollment_candidates(text, bigint[], text[]);
-- Replaced by the signature below (event keys); dropped when upgrading.
drop function if exists drip.enroll_events(text, bigint[], text[], date, bigint[]);
drop function if exists drip.enroll_events(text, bigint[], text[], date, bigint[], regclass);

create or replace function drip.enroll_events(
    p_trigger_type text, p_contact_ids bigint[], p_values text[], p_occurrence date default null,
    p_sequence_ids bigint[] default null, p_near regclass default null, p_keys text[] default null,
    p_event_ids bigint[] default null
) returns integer
language plpgsql volatile
security definer
set search_path = ''
-- bulk events (100k tags in one INSERT) sort and hash in memory rather than on disk
set work_mem = '64MB'
set jit = off
-- Key lookups only: a sequential scan of enrollments inside a nested loop grows with every row
-- this statement inserts (quadratic when the statistics say the table is empty).
set enable_seqscan = off
-- reads configuration (reference tables on Citus) from inside a shard: see drip.route_events
set citus.allow_nested_distributed_execution = on
as $$
declare
    -- the few sequences this event type starts, in id order, with what enrollment needs of them
    v_sequence_ids bigint[];
    v_sequence_values text[];
    v_first_delays numeric[];
    v_zones text[];
    v_window_starts time[];
    v_window_ends time[];
    v_days integer[];
    v_never boolean[];
    v_transactional boolean[];
    v_topics bigint[];
    v_holdouts numeric[];
    v_conditions jsonb[];
    v_count integer := 0;
    v_added integer;
    -- one round: which sequences (subscripts of the arrays above), for which events
    v_round integer;
    v_take integer[];
    v_contacts bigint[];
    v_values text[];
    v_keys text[];
    v_event_ids bigint[];
    -- $1 events' contacts, $2 their values, $3 occurrence, $4..$6 the sequences, $7 the trigger
    -- type, $8..$12 the sequences' zones, windows, days and re-entry, $13 $14 the events' keys and
    -- ids, $15..$17 the sequences' class (transactional), topic and holdout share; %1$s..%3$s,
    -- %5$s the tables
    -- (enrollments, contacts, pruned_enrollments), %4$s the conflict clause; the id given
    -- explicitly, as a Citus shard has no identity default, only the sequence
    v_insert constant text := $sql$
        insert into %1$s (id, sequence_id, contact_id, next_step_due_at, occurrence, event_key, event_id, holdout)
        overriding system value
        select distinct on (s.id, ev.contact_id, ev.key)
               nextval('drip.enrollments_id_seq'), s.id, ev.contact_id,
               drip.next_send_time(
                   case when $3 is null then now()
                        else drip.local_instant($3::timestamp, coalesce(ev.time_zone, s.zone)) end
                   + s.first_delay * interval '1 hour',
                   coalesce(ev.time_zone, s.zone), s.window_start, s.window_end, s.days),
               $3, ev.key, ev.event_id,
               -- behaviour 25: the sequence's holdout share, chosen by contact (drip.holdout_share)
               s.holdout_percent > 0 and drip.holdout_share(ev.contact_id, s.id) < s.holdout_percent
        from (select ev.contact_id, ev.value, ev.key, ev.event_id, c.time_zone,
                     c.unsubscribed_at is not null as unsubscribed
              from unnest($1, $2, $13, $14) as ev (contact_id, value, key, event_id)
              join %2$s c on c.id = ev.contact_id and c.bounced_at is null
              offset 0) ev  -- each contact looked up once, whatever the number of sequences
        join unnest($4, $5, $6, $8, $9, $10, $11, $12, $15, $16, $17)
             as s (id, trigger_value, first_delay, zone, window_start, window_end, days, never, transactional, topic_id,
                   holdout_percent)
          on case when $7 = 'segment' then s.id::text = ev.value
                  when s.trigger_value is null then true
                  when $7 in ('tag_added', 'event') then lower(s.trigger_value) = lower(ev.value)
                  else s.trigger_value = ev.value end
             and (s.transactional or not ev.unsubscribed)
        where (s.topic_id is null or s.transactional
               or not exists (select from %5$s tu where tu.contact_id = ev.contact_id and tu.topic_id = s.topic_id))
          and not exists (select from %1$s e
                          where e.sequence_id = s.id and e.contact_id = ev.contact_id and e.status = 'active'
                            and e.event_key is not distinct from ev.key)
          and ($3 is null
               or not exists (select from %1$s e
                              where e.sequence_id = s.id and e.contact_id = ev.contact_id and e.occurrence = $3)
                  and not exists (select from %3$s p
                                  where p.sequence_id = s.id and p.contact_id = ev.contact_id and p.occurrence = $3))
          -- reentry = 'never': at most once, ever (pruned enrollments remembered)
          and (not s.never
               or not exists (select from %1$s e where e.sequence_id = s.id and e.contact_id = ev.contact_id)
                  and not exists (select from %3$s p
                                  where p.sequence_id = s.id and p.contact_id = ev.contact_id))
        -- one lock order for every writer, so concurrent bulk enrollments cannot deadlock; the
        -- same sort removes a pair asked for twice (two matching tags in one statement)
        order by s.id, ev.contact_id, ev.key
        %4$s$sql$;
    v_enrollments constant text := drip.local_table(p_near, 'enrollments');
begin
    select array_agg(s.id order by s.id), array_agg(s.trigger_value order by s.id),
           array_agg(coalesce((select st.delay_hours from drip.sequence_steps st
                               where st.sequence_id = s.id and st.active
                               order by st.step_order limit 1), 0) order by s.id),
           array_agg(s.time_zone order by s.id), array_agg(s.send_window_start order by s.id),
           array_agg(s.send_window_end order by s.id), array_agg(s.send_days_mask order by s.id),
           array_agg(s.reentry = 'never' order by s.id),
           array_agg(s.message_class = 'transactional' order by s.id), array_agg(s.topic_id order by s.id),
           array_agg(s.holdout_percent order by s.id),
           array_agg(case when s.trigger_type <> 'segment' then s.entry_condition end order by s.id)
    into v_sequence_ids, v_sequence_values, v_first_delays, v_zones, v_window_starts, v_window_ends, v_days, v_never,
         v_transactional, v_topics, v_holdouts, v_conditions
    from drip.sequences s
    where s.active and s.trigger_type = p_trigger_type and (p_sequence_ids is null or s.id = any (p_sequence_ids));
    if v_sequence_ids is null or coalesce(cardinality(p_contact_ids), 0) = 0 then
        return 0;
    end if;

    -- the sequences without an entry condition together (round 0), then each one with its
    -- condition (round i), for the events whose contact it holds for, judged in one statement
    for v_round in select 0 where array_position(v_conditions, null) is not null
                   union all
                   select i from generate_subscripts(v_sequence_ids, 1) i where v_conditions[i] is not null loop
        if v_round = 0 then
            v_take := array(select i from generate_subscripts(v_sequence_ids, 1) i where v_conditions[i] is null);
            v_contacts := p_contact_ids;
            v_values := p_values;
            v_keys := p_keys;
            v_event_ids := p_event_ids;
        else
            v_take := array[v_round];
            execute format('select array_agg(u.contact_id order by u.n), array_agg(u.value order by u.n), '
                           'array_agg(u.key order by u.n), array_agg(u.event_id order by u.n) '
                           'from unnest($1, $2, $3, $4) with ordinality as u (contact_id, value, key, event_id, n) '
                           'join %s c on c.id = u.contact_id where %s',
                           drip.local_table(p_near, 'contacts'),
                           drip.condition_predicate(v_conditions[v_round], false, 'now()', p_near))
            into v_contacts, v_values, v_keys, v_event_ids
            using p_contact_ids, p_values, p_keys, p_event_ids;
            continue when v_contacts is null;
        end if;
        begin
            execute format(v_insert, v_enrollments, drip.local_table(p_near, 'contacts'),
                           drip.local_table(p_near, 'pruned_enrollments'), '',
                           drip.local_table(p_near, 'topic_unsubscribes'))
                using v_contacts, v_values, p_occurrence, drip.pick(v_sequence_ids, v_take),
                      drip.pick(v_sequence_values, v_take), drip.pick(v_first_delays, v_take), p_trigger_type,
                      drip.pick(v_zones, v_take), drip.pick(v_window_starts, v_take), drip.pick(v_window_ends, v_take),
                      drip.pick(v_days, v_take), drip.pick(v_never, v_take), v_keys, v_event_ids,
                      drip.pick(v_transactional, v_take), drip.pick(v_topics, v_take), drip.pick(v_holdouts, v_take);
        exception when unique_violation then
            execute format(v_insert, v_enrollments, drip.local_table(p_near, 'contacts'),
                           drip.local_table(p_near, 'pruned_enrollments'), 'on conflict do nothing',
                           drip.local_table(p_near, 'topic_unsubscribes'))
                using v_contacts, v_values, p_occurrence, drip.pick(v_sequence_ids, v_take),
                      drip.pick(v_sequence_values, v_take), drip.pick(v_first_delays, v_take), p_trigger_type,
                      drip.pick(v_zones, v_take), drip.pick(v_window_starts, v_take), drip.pick(v_window_ends, v_take),
                      drip.pick(v_days, v_take), drip.pick(v_never, v_take), v_keys, v_event_ids,
                      drip.pick(v_transactional, v_take), drip.pick(v_topics, v_take), drip.pick(v_holdouts, v_take);
        end;
        get diagnostics v_added = row_count;
        v_count := v_count + v_added;
    end loop;

    -- wake the dispatcher only when a matching sequence starts with a 0-hour step (if only its
    -- delayed neighbours enrolled someone, the cost is one dispatch that finds nothing). Not from
    -- inside a Citus shard: a NOTIFY there reaches only that worker, and aborts a multi-shard
    -- transaction; runners on Citus find such mail by their regular dispatch.
    if v_count > 0 and 0 >= any (v_first_delays) and v_enrollments = 'drip.enrollments' then
        perform pg_notify('drip_due', '');
    end if;
    return v_count;
end
$$;
revoke all on function drip.enroll_events(text, bigint[], text[], date, bigint[], regclass, text[], bigint[]) from public;
comment on function drip.enroll_events(text, bigint[], text[], date, bigint[], regclass, text[], bigint[]) is
    'Enrolls each (contact, value) event into every matching active sequence; returns new enrollments.';
