-- drip.distribute(p_shard_count integer default null) returns integer
-- Lays the drip schema out on Citus (docs/SCALE_OUT.md), keeping the data; `pgdrip migrate` calls
-- it when the citus extension is installed, then re-applies sql/functions and sql/triggers.
-- Contacts are distributed by id, every contact-scoped table by contact_id in the same shards;
-- configuration becomes reference tables. Keys and unique indexes gain contact_id, and the
-- reference checks and cascades that triggers did become foreign keys. Incremental: a table
-- already laid out is left alone. Returns how many tables it laid out.
create or replace function drip.distribute(p_shard_count integer default null) returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
    -- contact-scoped, co-located with drip.contacts (listed in the order they are laid out)
    v_distributed constant text[] := array['contacts', 'contact_tags', 'group_members', 'purchases', 'link_clicks',
        'enrollments', 'outbox', 'pruned_enrollments', 'step_stats', 'clicks', 'unsubscribes', 'events', 'segment_members',
        'topic_unsubscribes', 'contact_sends', 'sent_links', 'shard_keys'];
    v_reference constant text[] := array['time_zones', 'tags', 'groups', 'topics', 'frequency_caps', 'sequences',
        'sequence_steps', 'step_variants', 'sweeps', 'runners',
        'mail_settings', 'send_rate', 'bot_user_agents', 'admin_sessions'];
    -- the triggers whose work foreign keys do on Citus (they query other tables from a shard)
    v_replaced constant text[] := array['contact_tags__check_refs_insert', 'contact_tags__check_refs_update',
        'group_members__check_refs_insert', 'group_members__check_refs_update', 'contacts__forget',
        'tags__forget', 'groups__forget', 'sequences__protect', 'events__check_refs_insert', 'events__check_refs_update',
        'topic_unsubscribes__check_refs_insert', 'topic_unsubscribes__check_refs_update', 'topics__forget'];
    v_table text;
    v_count integer := 0;
begin
    perform 'PRAGMA:DISABLE:CHECK';  -- Citus's functions: absent where plpgsql_check runs
    if not exists (select from pg_catalog.pg_extension where extname = 'citus') then
        raise exception 'the citus extension is not installed in this database'
            using errcode = '55000', hint = 'create extension citus (on the coordinator, with the workers added) first.';
    end if;
    if p_shard_count is not null and p_shard_count < 1 then
        raise exception 'p_shard_count must be 1 or more' using errcode = '22023', column = 'p_shard_count';
    end if;
    -- triggers on distributed tables; DDL after the copies in one transaction
    perform pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    perform pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);
    if p_shard_count is not null then
        perform pg_catalog.set_config('citus.shard_count', p_shard_count::text, true);
    end if;

    foreach v_table in array v_reference loop
        continue when drip.citus_table(v_table);
        -- rows are copied to every node: no trigger of ours may see them arrive again
        perform drip.drop_triggers(v_table, null);
        execute format('select create_reference_table(%L)', 'drip.' || v_table);
        v_count := v_count + 1;
    end loop;

    if not drip.citus_table('contacts') then
        -- Foreign keys between tables go before, and come back after (distributed to distributed
        -- only between co-located tables, and never inline).
        alter table drip.purchases drop constraint if exists purchases_contact_id_fkey;
        alter table drip.link_clicks drop constraint if exists link_clicks_contact_id_fkey;
        -- every key and unique index includes the distribution column
        drop index drip.contacts_email_key;  -- see docs/SCALE_OUT.md: email uniqueness
        create index if not exists contacts_email on drip.contacts (lower(email));
        drop index drip.outbox_enrollment_step;
        create unique index outbox_enrollment_step on drip.outbox (enrollment_id, step_id, contact_id);
        alter table drip.step_stats alter column contact_id set not null;
    end if;

    -- every key includes the distribution column: tables keyed by id alone get (contact_id, id)
    -- (here, not with contacts above: a table added by a later release is laid out on its own)
    foreach v_table in array array['enrollments', 'outbox', 'purchases', 'link_clicks', 'clicks', 'events'] loop
        continue when drip.citus_table(v_table);
        execute format('alter table drip.%I drop constraint %I, add primary key (contact_id, id)',
                       v_table, v_table || '_pkey');
        execute format('create index if not exists %I on drip.%I (id)', v_table || '_id', v_table);
    end loop;

    foreach v_table in array v_distributed loop
        continue when drip.citus_table(v_table);
        -- rows are copied into the shards: no trigger of ours may see them arrive again
        perform drip.drop_triggers(v_table, null);
        if v_table = 'contacts' then
            perform create_distributed_table('drip.contacts', 'id');
        elsif v_table = 'shard_keys' then
            perform create_distributed_table('drip.shard_keys', 'key', colocate_with => 'drip.contacts');
        else
            perform create_distributed_table('drip.' || v_table, 'contact_id', colocate_with => 'drip.contacts');
        end if;
        v_count := v_count + 1;
    end loop;

    foreach v_table in array v_distributed[2:] loop
        -- the report's counters outlive the contacts they counted
        continue when v_table in ('shard_keys', 'step_stats');
        perform drip.add_foreign_key(v_table, 'contact_id', 'contacts', 'on delete cascade');
    end loop;
    perform drip.add_foreign_key('contact_tags', 'tag_id', 'tags', 'on delete cascade');
    perform drip.add_foreign_key('group_members', 'group_id', 'groups', 'on delete cascade');
    perform drip.add_foreign_key('topic_unsubscribes', 'topic_id', 'topics', 'on delete cascade');
    perform drip.add_foreign_key('enrollments', 'sequence_id', 'sequences', '');
    foreach v_table in array v_replaced loop
        perform drip.drop_triggers(null, v_table);
    end loop;

    -- Citus connects to the workers as the current user: our roles (NOLOGIN on the coordinator,
    -- where applications SET ROLE to them) must be able to log in there
    perform run_command_on_workers(format('alter role %I login', r.rolname))
    from pg_catalog.pg_roles r where r.rolname in ('drip_app', 'drip_runner', 'drip_admin');

    perform drip.refresh_shard_keys();
    return v_count;
end
$$;
comment on function drip.distribute(integer) is
    'Lays the drip schema out on Citus, keeping the data: contacts and their rows co-located by contact, configuration as reference tables.';
