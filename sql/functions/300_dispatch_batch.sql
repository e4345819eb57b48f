-- drip.dispatch_batch(p_now timestamptz, p_limit integer, p_after_due timestamptz default null, p_after_id bigint default null, out claimed integer, out last_due timestamptz, out last_id bigint, out queued integer)
-- One batch of the dispatcher: claims up to p_limit due enrollments (SKIP LOCKED) after the
-- (next_step_due_at, id) cursor; those outside their recipient's send window wait for its next
-- opening; the others get the next active step queued and advance (the next due time moved
-- into the window) or complete. Returns how many it claimed, the cursor for the next batch, and
-- how many messages it queued.
-- Conditions (behaviours 19 and 22), when any step has a send_if or any sequence an
-- exit_condition: the batch is claimed first, then each condition among its rows is judged for
-- all of them in one statement (drip.condition_predicate, at p_now), then the same statement
-- queues with the outcome: an enrollment whose exit_condition holds exits (its unsent mail
-- cancelled), a step whose send_if is false is skipped (nothing queued, counted in step_stats,
-- the enrollment moves on as if it had been sent at p_now). A database without conditions runs
-- the statement as it always did: the judged variant is a second compiled copy.
-- The cursor matters at scale: each batch moves its rows out of the due index and leaves dead
-- entries at its front; without it, batch k walked the dead entries of the k-1 batches before
-- (per-due time at 1M was 1.4x that at 10k). A row skipped because another transaction held
-- it is taken by the next call.

-- drip.dispatch_shard(p_near regclass, p_now timestamptz, p_limit integer) returns integer[]
-- The same batch on Citus, inside the shard next to p_near (drip.dispatch_due runs it in every
-- shard at once): {claimed, queued}. It notifies no one: a NOTIFY there would reach only its
-- worker, so drip.dispatch_due notifies on the coordinator.
-- The statement is written once, below, and compiled into both functions: into dispatch_batch
-- with the tables' names (its plan cached for the session), into dispatch_shard with
-- placeholders for the shard names and $n for the variables, run by EXECUTE.

-- Replaced by the signature below (the cursor); dropped when upgrading from the first release.
drop function if exists drip.dispatch_batch(timestamptz, integer);
-- Its result gained `queued` (issue 18): a result type cannot be replaced, only dropped first.
do $$
begin
    if exists (select 1 from pg_catalog.pg_proc p
               where p.oid = to_regprocedure('drip.dispatch_batch(timestamptz, integer, timestamptz, bigint)')
                 and not 'queued' = any (p.proargnames)) then
        drop function drip.dispatch_batch(timestamptz, integer, timestamptz, bigint);
    end if;
end
$$;

do $compile$
declare
    v_statement constant text := $statement$
    with due as (
        select e.id, e.sequence_id, e.contact_id, e.last_step_order_sent, e.next_step_due_at, e.event_id, e.holdout,
               s.time_zone as sequence_zone, s.send_window_start, s.send_window_end, s.send_days_mask,
               s.message_class = 'transactional' as transactional, s.topic_id, s.priority
        from {enrollments} e
        join {sequences} s on s.id = e.sequence_id and s.active
        where {due_rows}
    ), gated as (
        -- behaviour 10: only inside the recipient's send window, on an allowed day, local time
        select d.*, c.email, c.first_name, c.last_name, c.attributes,
               -- behaviour 23: receipts go to unsubscribed contacts too, never to bounced ones; marketing
               -- mail to neither, nor to a contact who left its topic
               c.id is not null and c.bounced_at is null
               and (d.transactional
                    or c.unsubscribed_at is null
                       and (d.topic_id is null
                            or not exists (select from {topic_unsubscribes} tu
                                           where tu.contact_id = d.contact_id and tu.topic_id = d.topic_id)))
                   as reachable,
               coalesce(c.time_zone, d.sequence_zone) as zone,
               drip.next_send_time(p_now, coalesce(c.time_zone, d.sequence_zone), d.send_window_start,
                                   d.send_window_end, d.send_days_mask) as opens
        from due d
        left join {contacts} c on c.id = d.contact_id
    ), deferred as (
        -- outside it: wait for the next opening (a window added later defers mail already due)
        update {enrollments} e
        set next_step_due_at = g.opens
        from gated g
        where e.id = g.id and g.opens > p_now and not {exit}
    ), planned as (
        select g.id, g.sequence_id, g.contact_id, g.last_step_order_sent, g.email, g.first_name, g.last_name,
               g.reachable, g.zone, g.send_window_start, g.send_window_end, g.send_days_mask, g.transactional,
               g.topic_id, g.holdout,
               cur.id as step_id, cur.step_order, var.id as variant_id,
               -- the arm's content: a variant's, else the step's own (behaviour 25)
               coalesce(var.subject_merge, cur.subject_merge) as subject_merge,
               coalesce(var.body_merge, cur.body_merge) as body_merge,
               coalesce(var.text_merge, cur.text_merge) as text_merge,
               coalesce(var.tracked_merge, cur.tracked_merge) as tracked_merge,
               coalesce(var.tracked_text_merge, cur.tracked_text_merge) as tracked_text_merge,
               -- {{attribute.X}} and {{event.X}} first, only in the steps that have them (behaviour 18)
               case when coalesce(var.field_tags, cur.field_tags)
                    then drip.render_fields(coalesce(var.subject, cur.subject), g.attributes, pl.payload, false)
                    else coalesce(var.subject, cur.subject) end as subject,
               case when coalesce(var.field_tags, cur.field_tags)
                    then drip.render_fields(coalesce(var.html_body, cur.html_body), g.attributes, pl.payload, true)
                    else coalesce(var.html_body, cur.html_body) end as html_body,
               case when coalesce(var.field_tags, cur.field_tags)
                    then drip.render_fields(coalesce(var.text_body, cur.text_body), g.attributes, pl.payload, false)
                    else coalesce(var.text_body, cur.text_body) end as text_body,
               case when coalesce(var.field_tags, cur.field_tags)
                    then drip.render_fields(coalesce(var.tracked_html, cur.tracked_html), g.attributes, pl.payload, true)
                    else coalesce(var.tracked_html, cur.tracked_html) end as tracked_html,
               case when coalesce(var.field_tags, cur.field_tags)
                    then drip.render_fields(coalesce(var.tracked_text, cur.tracked_text), g.attributes, pl.payload,
                                            false)
                    else coalesce(var.tracked_text, cur.tracked_text) end as tracked_text,
               case when coalesce(var.field_tags, cur.field_tags)
                    then array(select drip.render_fields(h.href, g.attributes, pl.payload, true)
                               from unnest(coalesce(var.link_hrefs, cur.link_hrefs)) with ordinality as h (href, n)
                               order by h.n)
                    else coalesce(var.link_hrefs, cur.link_hrefs) end as link_hrefs,
               nxt.delay_hours as next_delay,
               {skip} as skip, {exit} as exit,
               {cap_columns}
        from gated g
        left join lateral (
            select st.id, st.step_order, st.subject, st.html_body, st.subject_merge, st.body_merge,
                   st.text_body, st.text_merge, st.tracked_html, st.tracked_merge, st.tracked_text,
                   st.tracked_text_merge, st.link_hrefs, st.field_tags, st.control_weight
            from {sequence_steps} st
            where st.sequence_id = g.sequence_id and st.active and st.step_order > g.last_step_order_sent
            order by st.step_order limit 1
        ) cur on true
        left join lateral (
            select st.delay_hours from {sequence_steps} st
            where st.sequence_id = g.sequence_id and st.active and st.step_order > cur.step_order
            order by st.step_order limit 1
        ) nxt on true
        -- the arm (behaviour 25): drip.step_arm, only where some step has variants
        left join lateral (
            select v.* from {step_variants} v
            where {variants_on} and v.id = drip.step_arm(cur.id, g.contact_id)
        ) var on true
        -- the payload of the event that enrolled the contact, for {{event.X}} tags
        left join lateral (
            select ev.payload from {events} ev
            where ev.id = g.event_id and ev.contact_id = g.contact_id and coalesce(var.field_tags, cur.field_tags)
            limit 1
        ) pl on true{cap_join}
        where g.opens <= p_now or {exit}
    ), queued as (
        insert into {outbox} (id, enrollment_id, step_id, contact_id, to_address, subject, html_body, text_body,
                                 list_unsubscribe, message_id, list_id, links, variant_id) overriding system value
        select nextval('drip.outbox_id_seq'), p.id, p.step_id, p.contact_id, p.email,
               pg_catalog.btrim(drip.render_template(p.subject, p.subject_merge, p.first_name, p.last_name, p.email,
                                                     false)),
               drip.compose_html(coalesce((t.r).html,
                                          drip.render_template(p.html_body, p.body_merge, p.first_name, p.last_name,
                                                               p.email, true)), v_header, v_footer, u.link),
               drip.compose_text(coalesce((t.r).text_part,
                                          drip.render_template(p.text_body, p.text_merge, p.first_name, p.last_name,
                                                               p.email, false)), v_text_header, v_text_footer, u.link),
               '<' || u.link || '>' || coalesce(', <mailto:' || v_mailto || '?subject=unsubscribe>', ''),
               '<' || gen_random_uuid() || '@' || v_domain || '>',
               -- one list per topic (behaviour 23), else per sequence
               '<' || coalesce('topic-' || p.topic_id, 'sequence-' || p.sequence_id) || '.' || v_domain || '>',
               (t.r).links, p.variant_id
        from planned p
        -- the visible unsubscribe link and List-Unsubscribe: the user's own URL, else one-click;
        -- none in transactional mail (behaviour 23)
        cross join lateral (values (case when not p.transactional then coalesce(
            drip.unsubscribe_link(v_unsubscribe_url, v_unsubscribe_key, p.contact_id),
            v_public_url || '/u/' || drip.link_token(v_link_key, 'u', p.contact_id, p.id, p.step_id, 0)) end))
            as u (link)
        -- tracked links, when the return path is set up (a one-time filter: nothing runs otherwise)
        left join lateral (
            select drip.render_links(
                       drip.render_template(p.tracked_html, p.tracked_merge, p.first_name, p.last_name, p.email, true),
                       drip.render_template(p.tracked_text, p.tracked_text_merge, p.first_name, p.last_name, p.email,
                                            false),
                       p.link_hrefs, p.first_name, p.last_name, p.email, p.contact_id, p.id, p.step_id, v_public_url,
                       v_link_key) as r
            where v_public_url is not null
            offset 0
        ) t on true
        -- one row per (enrollment, step) even if an operator rewound the enrollment; a plain
        -- probe of the unique index, as ON CONFLICT's speculative insertion cost 15 percent of a batch.
        -- No race: only the holder of the enrollment's row lock queues for it. A LIMIT keeps it a
        -- probe by key: as NOT EXISTS, a plan made while the outbox looked empty read the whole
        -- index for every row (a join filter instead of an index condition).
        left join lateral (
            select true as found from {outbox} o where o.enrollment_id = p.id and o.step_id = p.step_id limit 1
        ) done on true
        -- a held-out enrollment (behaviour 25) moves on as if sent, and is sent nothing
        where p.step_id is not null and p.reachable and not p.skip and not p.exit and not p.held and not p.holdout
          and done.found is null
        returning id, contact_id, step_id
    ), advanced as (
        update {enrollments} e
        set last_step_order_sent = case when p.exit or p.held then e.last_step_order_sent
                                        else coalesce(p.step_order, e.last_step_order_sent) end,
            last_step_sent_at = case when p.step_id is null or p.exit or p.held then e.last_step_sent_at else p_now end,
            next_step_due_at = case when p.exit then null
                                    -- held back by a cap: due when it allows again, in the window (behaviour 24)
                                    when p.held then drip.next_send_time(drip.cap_release(p.contact_id, p_now,
                                                                                          p.cap_queued, v_near),
                                                                         p.zone, p.send_window_start, p.send_window_end,
                                                                         p.send_days_mask)
                                    when p.next_delay is null then null
                                    else drip.next_send_time(p_now + p.next_delay * interval '1 hour', p.zone,
                                                             p.send_window_start, p.send_window_end,
                                                             p.send_days_mask) end,
            status = case when p.exit then 'exited' when p.held or p.next_delay is not null then 'active'
                          else 'completed' end,
            completed_at = case when p.next_delay is null and not p.exit and not p.held then p_now end,
            exited_at = case when p.exit then p_now end
        from planned p
        where e.id = p.id
    ), held_out as (
        insert into {step_stats} (step_id, day, contact_id, held_out)
        select p.step_id, (now() at time zone 'UTC')::date, min(p.contact_id), count(*)
        from planned p
        where p.holdout and p.step_id is not null and p.reachable and not p.skip and not p.exit and not p.held
        group by p.step_id
    ){judged_ctes}
    select (select count(*) from due), (select count(*) from queued), l.next_step_due_at, l.id
    into claimed, v_queued, last_due, last_id
    from (select) as one
    left join lateral (select d.next_step_due_at, d.id from due d
                       order by d.next_step_due_at desc, d.id desc limit 1) l on true
$statement$;
    -- which enrollments the batch takes: the next due ones, claimed (the plain variant and the
    -- judged variant's claim); or, in the judged variant's statement, the ones its claim locked
    v_due_rows constant text := $part$e.status = 'active'
          and e.next_step_due_at <= p_now
          and (e.next_step_due_at, e.id) > (coalesce(p_after_due, '-infinity'::timestamptz), coalesce(p_after_id, 0))
          -- one step per enrollment per call: a step queued by this call is not taken again
          and e.last_step_sent_at is distinct from p_now
        order by e.next_step_due_at, e.id
        limit p_limit
        for update of e skip locked$part$;
    v_claim constant text := $part$select array_agg(x.id) into v_claimed
    from (select e.id from {enrollments} e
          join {sequences} s on s.id = e.sequence_id and s.active
          where $part$ || v_due_rows || ') x';
    -- what the judged variant adds: skipped steps counted, and an exited enrollment's mail cancelled
    v_judged_ctes constant text := $part$, skips as (
        insert into {step_stats} (step_id, day, contact_id, skipped)
        select p.step_id, (now() at time zone 'UTC')::date, min(p.contact_id), count(*)
        from planned p
        where p.skip and not p.exit and p.step_id is not null
        group by p.step_id
    ), exit_mail as (
        update {outbox} o
        set status = 'cancelled', last_error = 'the contact met the sequence''s exit condition'
        where o.enrollment_id = any (v_exit) and o.status in ('queued', 'sending')
    ), sends as (
        -- under caps, the marketing mail queued now counts from now on (drip.contact_sends)
        -- (the class found by key: a join of the two CTEs is a nested loop of every row with every row)
        insert into {contact_sends} (contact_id, queued_at, outbox_id)
        select q.contact_id, p_now, q.id
        from queued q
        join {sequence_steps} st on st.id = q.step_id
        join {sequences} s on s.id = st.sequence_id and s.message_class = 'marketing'
        where v_caps
    ), held_counts as (
        insert into {step_stats} (step_id, day, contact_id, cap_deferred)
        select p.step_id, (now() at time zone 'UTC')::date, min(p.contact_id), count(*)
        from planned p
        where p.held
        group by p.step_id
    )$part$;
    -- behaviour 24 in the judged variant: a marketing step that would be queued (its step exists,
    -- the contact is reachable, inside the window, not skipped, not exiting) is a candidate; each
    -- contact's candidates in order of priority, then due time, go while the tightest cap leaves
    -- room (its count of that contact's mail in its period, cancelled not counted); the rest are
    -- held: deferred, never skipped
    v_candidate constant text := $part$(cur.id is not null and g.reachable and not {skip} and not {exit}
                                         and not g.transactional and not g.holdout and g.opens <= p_now)$part$;
    v_cap_columns constant text := replace($part$coalesce({candidate}
                    and count(*) filter (where {candidate})
                        over (partition by g.contact_id order by g.priority desc, g.next_step_due_at, g.id) > rm.room,
                    false) as held,
               greatest(0, least(rm.room, count(*) filter (where {candidate}) over (partition by g.contact_id)))::integer
                   as cap_queued$part$, '{candidate}', v_candidate);
    v_cap_join constant text := $part$
        -- the room the tightest cap leaves the contact (NULL: no cap)
        left join lateral (
            select min(c.max_messages - (
                       select count(*) from {contact_sends} cs
                       join {outbox} o on o.id = cs.outbox_id and o.contact_id = cs.contact_id
                       -- no upper bound: a dispatcher that started earlier and waited for the
                       -- contact's lock counts what the one before it queued at a later p_now
                       where cs.contact_id = g.contact_id and cs.queued_at > p_now - c.per
                         and o.status <> 'cancelled')) as room
            from {frequency_caps} c
            where v_caps and not g.transactional
        ) rm on true$part$;
    v_plain constant text := replace(replace(replace(replace(replace(replace(replace(v_statement,
        '{due_rows}', v_due_rows), '{cap_columns}', 'false as held, 0 as cap_queued'), '{cap_join}', ''),
        '{variants_on}', 'false'), '{skip}', 'false'), '{exit}', 'false'), '{judged_ctes}', '');
    v_judged constant text := replace(replace(replace(replace(replace(replace(replace(v_statement,
        '{cap_columns}', v_cap_columns), '{cap_join}', v_cap_join), '{judged_ctes}', v_judged_ctes),
        '{variants_on}', 'v_variants'),
        -- by primary key; no ORDER BY: ordered, the plan walked the whole due index to find them
        '{due_rows}', $part$e.id = any (v_claimed)$part$),
        '{skip}', 'coalesce(g.id = any (v_skip), false)'), '{exit}', 'coalesce(g.id = any (v_exit), false)');
    v_variables constant text[] := array['p_now', 'p_limit', 'p_after_due', 'p_after_id', 'v_header', 'v_footer',
        'v_text_header', 'v_text_footer', 'v_unsubscribe_url', 'v_unsubscribe_key', 'v_public_url', 'v_link_key',
        'v_mailto', 'v_domain', 'v_claimed', 'v_skip', 'v_exit', 'v_caps', 'v_near', 'v_variants'];
    -- for EXECUTE: no INTO, the shard's tables as %1$s..%11$s, the variables as $n
    v_shard_plain text;
    v_shard_judged text;
    v_shard_claim text;
    -- shared by both functions: their settings, variables, and the batch's start
    v_settings constant text := $part$
set search_path = ''
-- Planning this statement costs about as much as running it for a few hundred rows: plan it
-- once per session. A batch touches at most p_limit rows, so the one plan must look them up by
-- key whatever the table sizes: a generic plan cannot see p_limit, and a sequential scan,
-- sort, hash or merge join would read whole tables in every batch (cost growing with history).
set plan_cache_mode = force_generic_plan
-- The generic plan's estimates are large enough to trigger JIT compilation, which then costs
-- more than the whole batch (140 ms per batch at 1M due): batches are small, never JIT them.
set jit = off
set enable_seqscan = off
set enable_sort = off
set enable_hashjoin = off
set enable_mergejoin = off
-- a Materialize of a whole index, planned while the outbox was small, was rescanned for every row
set enable_material = off
$part$;
    v_declarations constant text := $part$
    v_queued integer;
    -- what every body is rendered inside (drip.mail_settings), read once per batch
    v_header text;
    v_footer text;
    v_text_header text;
    v_text_footer text;
    v_unsubscribe_url text;
    v_unsubscribe_key bytea[];
    v_public_url text;
    v_link_key bytea[];
    v_mailto text;
    v_domain text;
    -- conditions (the judged variant): the batch claimed, and the outcome of its conditions
    v_judged boolean;
    v_claimed bigint[];
    v_skip bigint[];
    v_exit bigint[];
    -- frequency caps (behaviour 24): whether any exists, and where the batch runs (NULL: here)
    v_caps boolean;
    v_near regclass;
    -- experiments (behaviour 25): whether any step has an active variant
    v_variants boolean;
$part$;
    v_prologue constant text := $part$
    -- Shared with every other batch, exclusive against drip.save_steps: a batch never reads the
    -- steps of a sequence whose steps and enrollment positions are being renumbered.
    perform pg_advisory_xact_lock_shared(drip.steps_lock_key());
    select m.brand_header, m.brand_footer, m.unsubscribe_url, m.unsubscribe_key, m.public_url, m.link_key,
           m.unsubscribe_mailto, coalesce(m.sender_domain, 'pgdrip')
    into v_header, v_footer, v_unsubscribe_url, v_unsubscribe_key, v_public_url, v_link_key, v_mailto, v_domain
    from drip.mail_settings m;
    v_text_header := case when v_header = '' then '' else drip.html_to_text(v_header) || E'\n' end;
    v_text_footer := case when v_footer = '' then '' else E'\n' || drip.html_to_text(v_footer) end;
    -- the judged variant only where some condition can apply
    v_caps := exists (select from drip.frequency_caps);
    v_variants := exists (select from drip.step_variants v where v.active);
    v_judged := v_caps or v_variants
                or exists (select from drip.sequence_steps st where st.send_if is not null and st.active)
                or exists (select from drip.sequences s where s.exit_condition is not null and s.active);
$part$;
    v_tables constant text[] := array['enrollments', 'contacts', 'outbox', 'sequences', 'sequence_steps', 'step_stats',
                                      'events', 'topic_unsubscribes', 'contact_sends', 'frequency_caps', 'step_variants'];
begin
    -- dispatch_batch: the tables by name
    execute replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        replace(replace(replace(replace($function$
create or replace function drip.dispatch_batch(
    p_now timestamptz, p_limit integer, p_after_due timestamptz default null, p_after_id bigint default null,
    out claimed integer, out last_due timestamptz, out last_id bigint, out queued integer
)
language plpgsql volatile
{settings}
as $$
declare
{declarations}
begin
    if drip.is_distributed() then
        -- Citus: one batch of up to p_limit in every shard at once (no cursor: each shard's batch
        -- starts at its front)
        -- by EXECUTE with literals: this function's generic plans are refused by Citus's planner
        execute format('select coalesce(sum(r[1]), 0), coalesce(sum(r[2]), 0) from (select '
                       'drip.dispatch_shard(k.tableoid, %L, %s) as r from drip.shard_keys k) shards', p_now, p_limit)
        into claimed, v_queued;
        if v_queued > 0 then
            perform pg_notify('drip_outbox', '');
        end if;
        queued := v_queued;
        return;
    end if;
{prologue}
    if v_judged then
        {claim};
        if v_caps then
            v_claimed := drip.cap_claim(v_claimed, p_now, null);
        end if;
        select j.skip_ids, j.exit_ids into v_skip, v_exit from drip.judge_batch(v_claimed, p_now, null) j;
{judged};
    else
{plain};
    end if;
    if v_queued > 0 then
        perform pg_notify('drip_outbox', '');
    end if;
    queued := v_queued;
end
$$;
$function$, '{judged}', v_judged), '{plain}', v_plain), '{claim}', v_claim), '{enrollments}', 'drip.enrollments'),
        '{contacts}', 'drip.contacts'), '{outbox}', 'drip.outbox'), '{sequences}', 'drip.sequences'),
        '{sequence_steps}', 'drip.sequence_steps'), '{step_stats}', 'drip.step_stats'), '{events}', 'drip.events'),
        '{topic_unsubscribes}', 'drip.topic_unsubscribes'), '{contact_sends}', 'drip.contact_sends'),
        '{frequency_caps}', 'drip.frequency_caps'), '{step_variants}', 'drip.step_variants'), '{settings}', v_settings),
        '{declarations}', v_declarations), '{prologue}', v_prologue);

    -- dispatch_shard: the shard's tables as %1$s..%11$s and the variables as $n, for EXECUTE
    -- (a % of the statement itself, the modulo of the arm's bucket, is doubled for format())
    v_shard_plain := replace(replace(v_plain, E'    into claimed, v_queued, last_due, last_id\n', ''), '%', '%%');
    v_shard_judged := replace(replace(v_judged, E'    into claimed, v_queued, last_due, last_id\n', ''), '%', '%%');
    v_shard_claim := replace(replace(v_claim, ' into v_claimed', ''), '%', '%%');
    for i in 1 .. cardinality(v_tables) loop
        v_shard_plain := replace(v_shard_plain, '{' || v_tables[i] || '}', '%' || i || '$s');
        v_shard_judged := replace(v_shard_judged, '{' || v_tables[i] || '}', '%' || i || '$s');
        v_shard_claim := replace(v_shard_claim, '{' || v_tables[i] || '}', '%' || i || '$s');
    end loop;
    for i in 1 .. cardinality(v_variables) loop
        v_shard_plain := regexp_replace(v_shard_plain, '\m' || v_variables[i] || '\M', '$' || i, 'g');
        v_shard_judged := regexp_replace(v_shard_judged, '\m' || v_variables[i] || '\M', '$' || i, 'g');
        v_shard_claim := regexp_replace(v_shard_claim, '\m' || v_variables[i] || '\M', '$' || i, 'g');
    end loop;
    execute replace(replace(replace(replace(replace(replace($function$
create or replace function drip.dispatch_shard(p_near regclass, p_now timestamptz, p_limit integer)
returns integer[]
language plpgsql volatile
{settings}
-- reads the reference tables (sequences, steps, settings) from inside a shard: see drip.route_events
set citus.allow_nested_distributed_execution = on
as $$
-- @plpgsql_check_options: extra_warnings = off
-- (the statement's cursor columns are read into variables that a shard's batch does not use)
declare
{declarations}
    v_claimed_count integer;
    v_last_due timestamptz;
    v_last_id bigint;
    p_after_due constant timestamptz := null;
    p_after_id constant bigint := null;
    v_tables constant text[] := array[drip.local_table(p_near, 'enrollments'), drip.local_table(p_near, 'contacts'),
        drip.local_table(p_near, 'outbox'), drip.local_table(p_near, 'sequences'),
        drip.local_table(p_near, 'sequence_steps'), drip.local_table(p_near, 'step_stats'),
        drip.local_table(p_near, 'events'), drip.local_table(p_near, 'topic_unsubscribes'),
        drip.local_table(p_near, 'contact_sends'), drip.local_table(p_near, 'frequency_caps'),
        drip.local_table(p_near, 'step_variants')];
begin
{prologue}
    v_near := p_near;
    if v_judged then
        execute format({shard_claim}, v_tables[1], v_tables[2], v_tables[3], v_tables[4], v_tables[5], v_tables[6],
                       v_tables[7], v_tables[8], v_tables[9], v_tables[10], v_tables[11])
        into v_claimed
        using p_now, p_limit, p_after_due, p_after_id;
        if v_caps then
            v_claimed := drip.cap_claim(v_claimed, p_now, p_near);
        end if;
        select j.skip_ids, j.exit_ids into v_skip, v_exit from drip.judge_batch(v_claimed, p_now, p_near) j;
    end if;
    execute format(case when v_judged then {shard_judged} else {shard_plain} end, v_tables[1], v_tables[2],
                   v_tables[3], v_tables[4], v_tables[5], v_tables[6], v_tables[7], v_tables[8], v_tables[9],
                   v_tables[10], v_tables[11])
    into v_claimed_count, v_queued, v_last_due, v_last_id
    using p_now, p_limit, p_after_due, p_after_id, v_header, v_footer, v_text_header, v_text_footer, v_unsubscribe_url,
          v_unsubscribe_key, v_public_url, v_link_key, v_mailto, v_domain, v_claimed, v_skip, v_exit, v_caps, v_near,
          v_variants;
    return array[v_claimed_count, v_queued];
end
$$;
$function$, '{shard_claim}', quote_literal(v_shard_claim)), '{shard_judged}', quote_literal(v_shard_judged)),
        '{shard_plain}', quote_literal(v_shard_plain)), '{settings}', v_settings),
        '{declarations}', v_declarations), '{prologue}', v_prologue);
end
$compile$;
