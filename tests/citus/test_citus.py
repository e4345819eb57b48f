"""pgdrip on Citus (issue 14): the layout `pgdrip migrate` makes, enrollment in the writer's
transaction, and the concurrency guarantees, with real concurrent connections to the
coordinator. Skipped, with the reason, where no cluster is given (tests/citus/conftest.py)."""

import psycopg
from psycopg.rows import dict_row

from pgdrip.migrate import migrate
from tests.citus.conftest import CITUS_DSN
from tests.cluster import add_citus, create_database, drop_database
from tests.helpers import add_contacts, add_sequence, add_tag, dispatch, run_together, tag_everyone


def on_connections(dsn: str, n: int, work) -> list[BaseException]:
    """work(conn, i) on n connections of their own, released together (tests.helpers.run_together)."""
    def one(i: int) -> None:
        with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
            work(conn, i)

    return run_together(n, one)


def test_migrate_distributes_contacts_and_their_rows_and_makes_configuration_reference_tables(cdb):
    layout = {r["t"]: (r["partmethod"], r["colocationid"]) for r in cdb.execute(
        "select logicalrelid::regclass::text t, partmethod, colocationid from pg_dist_partition")}
    contacts_group = layout["drip.contacts"][1]
    for table in ("contacts", "contact_tags", "group_members", "purchases", "link_clicks", "enrollments", "outbox",
                  "step_stats", "clicks", "unsubscribes", "pruned_enrollments", "sent_links", "shard_keys"):
        assert layout[f"drip.{table}"] == ("h", contacts_group), table
    for table in ("sequences", "sequence_steps", "tags", "groups", "sweeps", "runners", "mail_settings"):
        assert layout[f"drip.{table}"][0] == "n", table
    shards = cdb.execute("select count(*) n from pg_dist_shard where logicalrelid = 'drip.contacts'::regclass")
    assert cdb.execute("select count(*) n from drip.shard_keys").fetchone()["n"] == shards.fetchone()["n"]
    # migrating again changes nothing and fails on nothing
    migrate(cdb.info.dsn)


def test_tagging_enrolls_in_the_writers_transaction(cdb):
    add_sequence(cdb, "tag_added", "vip")
    add_contacts(cdb, 200)
    vip = add_tag(cdb, "vip")
    with cdb.transaction():
        tag_everyone(cdb, vip)
        assert cdb.execute("select count(*) n from drip.enrollments").fetchone()["n"] == 200
        cdb.execute("rollback")
    assert cdb.execute("select count(*) n from drip.enrollments").fetchone()["n"] == 0
    tag_everyone(cdb, vip)
    assert cdb.execute("select count(*) n from drip.enrollments where status = 'active'").fetchone()["n"] == 200
    # fire_trigger on the coordinator enrolls inside the contact's shard
    add_sequence(cdb, "after_purchase", None, name="buyers")
    assert cdb.execute("select drip.fire_trigger('after_purchase', 7, 'x') n").fetchone()["n"] == 1


def test_eight_writers_tagging_one_contact_make_one_enrollment(cdb):
    add_sequence(cdb, "tag_added", None)
    add_contacts(cdb, 1)
    contact = cdb.execute("select id from drip.contacts").fetchone()["id"]
    tags = [add_tag(cdb, f"t{i}") for i in range(8)]
    errors = on_connections(cdb.info.dsn, 8, lambda conn, i: conn.execute(
        "insert into drip.contact_tags (contact_id, tag_id) values (%s, %s)", (contact, tags[i])))
    assert not errors, errors
    assert cdb.execute("select count(*) n from drip.contact_tags").fetchone()["n"] == 8
    assert cdb.execute("select count(*) n from drip.enrollments").fetchone()["n"] == 1


def test_four_dispatchers_over_every_shard_queue_each_step_once(cdb):
    add_sequence(cdb, "tag_added", None, steps=[(0, "one", "<p>1</p>"), (0, "two", "<p>2</p>")])
    add_contacts(cdb, 3000)
    tag_everyone(cdb, add_tag(cdb, "x"))
    spread = cdb.execute("select count(distinct get_shard_id_for_distribution_column('drip.enrollments', "
                         "contact_id)) n from drip.enrollments").fetchone()["n"]
    assert spread == cdb.execute("select count(*) n from drip.shard_keys").fetchone()["n"]
    errors = on_connections(cdb.info.dsn, 4, lambda conn, i: dispatch(conn))
    assert not errors, errors
    row = cdb.execute("select count(*) n, count(distinct (enrollment_id, step_id)) pairs from drip.outbox").fetchone()
    assert row["n"] == row["pairs"]
    assert row["n"] >= 3000  # every enrollment's first step, some second steps by later rounds
    dispatch(cdb)
    dispatch(cdb)
    row = cdb.execute("select count(*) n, count(distinct (enrollment_id, step_id)) pairs from drip.outbox").fetchone()
    assert row["n"] == row["pairs"] == 6000
    assert cdb.execute("select count(*) n from drip.enrollments where status = 'completed'").fetchone()["n"] == 3000
    report = cdb.execute("select sum(queued) q from drip.step_report").fetchone()
    assert report["q"] == 6000


def test_two_runners_claim_disjoint_rows_and_unsubscribed_mail_is_never_handed_out(cdb):
    add_sequence(cdb, "tag_added", None)
    add_contacts(cdb, 1000)
    tag_everyone(cdb, add_tag(cdb, "x"))
    dispatch(cdb)
    cdb.execute("update drip.contacts set unsubscribed_at = now() where id <= 100")
    claimed: dict[int, list[int]] = {0: [], 1: []}

    def drain(conn: psycopg.Connection, i: int) -> None:
        while True:
            rows = conn.execute("select id, contact_id from drip.claim_outbox(%s, 37, 60)", (f"r{i}",)).fetchall()
            if not rows:
                return
            claimed[i].extend(r["id"] for r in rows)
            assert all(r["contact_id"] > 100 for r in rows)
            assert len(rows) <= 37

    errors = on_connections(cdb.info.dsn, 2, drain)
    assert not errors, errors
    assert not set(claimed[0]) & set(claimed[1])
    assert len(claimed[0]) + len(claimed[1]) == 900
    states = {r["status"]: r["n"] for r in cdb.execute("select status, count(*) n from drip.outbox group by 1")}
    assert states == {"sending": 900, "cancelled": 100}


def test_a_claim_never_leases_beyond_its_limit_when_shards_run_empty_between_rounds(cdb):
    """Mail waits in 3 of the 32 shards only: the first round finds 29 shards empty, and the
    second shares what is still wanted over the 3 left. Its rotating offset, carried from the
    32-shard round, once pointed past them and handed out a share too many (a claim of 37
    leased 38 or 39)."""
    add_sequence(cdb, "tag_added", None)
    add_contacts(cdb, 3000)
    shards = [r["s"] for r in cdb.execute(
        "select get_shard_id_for_distribution_column('drip.contacts', id) s from drip.contacts "
        "group by 1 order by 1 limit 3")]
    x = add_tag(cdb, "x")
    cdb.execute("insert into drip.contact_tags (contact_id, tag_id) select id, %s from drip.contacts "
                "where get_shard_id_for_distribution_column('drip.contacts', id) = any (%s)", (x, shards))
    dispatch(cdb)
    waiting = cdb.execute("select count(*) n from drip.outbox").fetchone()["n"]
    assert waiting > 200  # about 94 in each of the 3 shards
    for limit in (37, 36, 35, 50):
        rows = cdb.execute("select id from drip.claim_outbox('r', %s, 60)", (limit,)).fetchall()
        assert len(rows) == limit
    assert cdb.execute("select count(*) n from drip.outbox where status = 'sending'").fetchone()["n"] == 158


def test_prune_deletes_old_mail_whatever_node_range_its_ids_come_from(cdb):
    """Dispatch on the workers gives each node's rows ids from its own range: the rows of the
    node with the higher range are made old here, and the lower range's (more than one batch of
    5,000) young. A walk in id order stopped at the first young batch and kept every old row."""
    add_sequence(cdb, "tag_added", None)
    add_contacts(cdb, 12000)
    tag_everyone(cdb, add_tag(cdb, "x"))
    dispatch(cdb)
    cdb.execute("update drip.outbox set status = 'sent'")
    high = cdb.execute("select max(id) >> 48 r from drip.outbox").fetchone()["r"]
    cdb.execute("update drip.outbox set created_at = now() - interval '1 year' where id >> 48 = %s", (high,))
    ranges = {r["r"]: r["n"] for r in cdb.execute("select id >> 48 r, count(*) n from drip.outbox group by 1")}
    assert len(ranges) == 2 and min(ranges.values()) > 5000, ranges
    cdb.execute("call drip.prune(interval '180 days')")
    left = {r["r"]: r["n"] for r in cdb.execute("select id >> 48 r, count(*) n from drip.outbox group by 1")}
    assert left == {r: n for r, n in ranges.items() if r != high}


def test_an_existing_single_node_install_is_distributed_by_migrate_with_its_data_kept():
    name = "drip_citus_move"
    dsn = create_database(CITUS_DSN, name, with_citus=False)
    try:
        migrate(dsn)  # plain PostgreSQL: nothing distributed
        with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as db:
            add_sequence(db, "tag_added", "vip", steps=[(0, "one", "<p>1</p>"), (24, "two", "<p>2</p>")])
            add_contacts(db, 500)
            tag_everyone(db, add_tag(db, "vip"))
            dispatch(db)
            assert db.execute("select count(*) n from drip.outbox").fetchone()["n"] == 500
        add_citus(CITUS_DSN, dsn)
        migrate(dsn)
        with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as db:
            assert db.execute("select drip.is_distributed() d").fetchone()["d"]
            counts = db.execute("select (select count(*) from drip.contacts) c, "
                                "(select count(*) from drip.enrollments) e, "
                                "(select count(*) from drip.outbox) o").fetchone()
            assert counts == {"c": 500, "e": 500, "o": 500}
            dispatch(db, hours=25)  # the second step, from the distributed tables
            assert db.execute("select count(*) n from drip.outbox").fetchone()["n"] == 1000
            add_contacts(db, 10, prefix="new")
            db.execute("insert into drip.contact_tags (contact_id, tag_id) "
                       "select c.id, 1 from drip.contacts c where c.email like 'new%'")
            assert db.execute("select count(*) n from drip.enrollments").fetchone()["n"] == 510
    finally:
        drop_database(CITUS_DSN, name)
