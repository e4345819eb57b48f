-- Third round of trust (issue 18): drip.prune walks finished mail and clicks by time, not by id
-- (on Citus each node gives ids from its own range, so id order is not the order rows were made
-- in). The same edits are in sql/schema; tests/migration proves the two agree.

-- index outbox_finished: finished mail by (created_at, id)
create index outbox_finished on drip.outbox (created_at, id) where status in ('sent', 'failed', 'cancelled');

-- index clicks_time: clicks by (clicked_at, id)
create index clicks_time on drip.clicks (clicked_at, id);
