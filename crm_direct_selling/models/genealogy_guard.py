"""The database-level guard of the genealogy (sponsor tree) of ``ds.distributor``.

Concurrent genealogy changes are kept apart by row conflicts, which PostgreSQL's REPEATABLE READ
(Odoo's isolation level) turns into serialization failures that Odoo retries for web requests:

* a move writes the moved distributor and its whole subtree (the path rewrite) and *touches*
  (writes, without changing it) its new sponsor;
* a new distributor touches its sponsor.

Two changes that could interact always write a common row: a loop needs the new sponsor Y to be
moved into the moved subtree X meanwhile, which rewrites Y's row that the move of X touched; a
recruit under a node of a moving subtree touches a row the move rewrites; two moves of nested
subtrees rewrite common rows. The second of two such transactions waits for the first and then
fails with a serialization failure (or a deadlock, when the rows were taken in opposite order),
and its retry reads the real tree. Changes that do not interact (most moves, recruits under
different sponsors) run side by side.

The touching is done by the trigger ``ds_genealogy_record`` (AFTER INSERT / UPDATE, per
statement) for every writer, raw SQL included: it records the distributors whose sponsor, path,
depth or company changed and touches their sponsors. The deferred constraint trigger
``ds_genealogy_validate`` then checks at COMMIT that each recorded distributor's ``parent_path``
and ``depth`` follow its sponsor and that their children follow them. With the committed tree
consistent before, every committed tree is consistent, and a consistent tree has no loop (a
path is strictly longer than its sponsor's). Moves also lock the rows they read, in id order
(:func:`lock_rows`), before their loop check: a stale snapshot fails at once, and two moves
take their rows in the same order.
"""

from odoo.tools import SQL

GUARD_DDL = """
DROP TABLE IF EXISTS ds_genealogy_lock;
CREATE UNLOGGED TABLE IF NOT EXISTS ds_genealogy_check (
    xid bigint NOT NULL,
    distributor_id integer NOT NULL
);
CREATE INDEX IF NOT EXISTS ds_genealogy_check_xid_idx ON ds_genealogy_check (xid);
CREATE UNLOGGED TABLE IF NOT EXISTS ds_genealogy_tx (xid bigint PRIMARY KEY);

CREATE OR REPLACE FUNCTION ds_genealogy_record() RETURNS trigger LANGUAGE plpgsql
    -- its own planner settings: the recursive path update turns hash and merge joins off
    SET enable_hashjoin = on SET enable_mergejoin = on
    AS $fn$
DECLARE
    changed integer;
    genealogy_changed text := '(n.sponsor_id IS DISTINCT FROM o.sponsor_id
                                OR n.depth IS DISTINCT FROM o.depth
                                OR n.company_id IS DISTINCT FROM o.company_id
                                OR n.parent_path IS DISTINCT FROM o.parent_path)';
BEGIN
    -- Record the changed rows; when there are any, touch their sponsors that the statement
    -- did not write and mark the transaction for the check at commit. The touch fires this
    -- trigger again, which records nothing and stops there. Dynamic statements: planned for
    -- the actual size of the transition tables each time (a plan cached for the touch's few
    -- rows would probe thousands of rows one by one).
    IF TG_OP = 'INSERT' THEN
        EXECUTE 'INSERT INTO ds_genealogy_check (xid, distributor_id)
                 SELECT txid_current(), n.id FROM ds_new n';
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed = 0 THEN
            RETURN NULL;
        END IF;
        EXECUTE 'UPDATE ds_distributor d SET parent_path = d.parent_path
                   FROM (SELECT sponsor_id AS id FROM ds_new WHERE sponsor_id IS NOT NULL
                         EXCEPT
                         SELECT id FROM ds_new) t
                  WHERE d.id = t.id';
    ELSE
        EXECUTE 'INSERT INTO ds_genealogy_check (xid, distributor_id)
                 SELECT txid_current(), n.id
                   FROM ds_new n JOIN ds_old o ON o.id = n.id
                  WHERE ' || genealogy_changed;
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed = 0 THEN
            RETURN NULL;
        END IF;
        EXECUTE 'UPDATE ds_distributor d SET parent_path = d.parent_path
                   FROM (SELECT n.sponsor_id AS id
                           FROM ds_new n JOIN ds_old o ON o.id = n.id
                          WHERE n.sponsor_id IS NOT NULL AND ' || genealogy_changed || '
                         EXCEPT
                         SELECT id FROM ds_new) t
                  WHERE d.id = t.id';
    END IF;
    INSERT INTO ds_genealogy_tx (xid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ds_genealogy_validate() RETURNS trigger LANGUAGE plpgsql
    -- its own planner settings: the recursive path update turns hash and merge joins off
    SET enable_hashjoin = on SET enable_mergejoin = on
    AS $fn$
DECLARE
    bad integer;
BEGIN
    SELECT d.id INTO bad
      FROM (SELECT DISTINCT distributor_id FROM ds_genealogy_check WHERE xid = NEW.xid) c
      JOIN ds_distributor d ON d.id = c.distributor_id
 LEFT JOIN ds_distributor s ON s.id = d.sponsor_id
     WHERE d.parent_path IS DISTINCT FROM COALESCE(s.parent_path, '') || d.id || '/'
        OR d.depth IS DISTINCT FROM COALESCE(s.depth + 1, 0)
     LIMIT 1;
    IF bad IS NULL THEN
        SELECT ch.id INTO bad
          FROM (SELECT DISTINCT distributor_id FROM ds_genealogy_check WHERE xid = NEW.xid) c
          JOIN ds_distributor d ON d.id = c.distributor_id
          JOIN ds_distributor ch ON ch.sponsor_id = d.id
         WHERE ch.parent_path IS DISTINCT FROM d.parent_path || ch.id || '/'
         LIMIT 1;
    END IF;
    DELETE FROM ds_genealogy_check WHERE xid = NEW.xid;
    DELETE FROM ds_genealogy_tx WHERE xid = NEW.xid;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION USING
            MESSAGE = 'Genealogy guard: distributor ' || bad || ' would be committed with a parent'
                      || ' path that does not follow its sponsor (a sponsor loop or a stale path);'
                      || ' nothing was saved.',
            ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS ds_genealogy_record_insert ON ds_distributor;
CREATE TRIGGER ds_genealogy_record_insert AFTER INSERT ON ds_distributor
    REFERENCING NEW TABLE AS ds_new
    FOR EACH STATEMENT EXECUTE FUNCTION ds_genealogy_record();
DROP TRIGGER IF EXISTS ds_genealogy_record_update ON ds_distributor;
CREATE TRIGGER ds_genealogy_record_update AFTER UPDATE ON ds_distributor
    REFERENCING OLD TABLE AS ds_old NEW TABLE AS ds_new
    FOR EACH STATEMENT EXECUTE FUNCTION ds_genealogy_record();
DROP TRIGGER IF EXISTS ds_genealogy_validate ON ds_genealogy_tx;
CREATE CONSTRAINT TRIGGER ds_genealogy_validate AFTER INSERT ON ds_genealogy_tx
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ds_genealogy_validate();
"""


def install(cr):
    """Create (or refresh) the guard's tables and triggers."""
    cr.execute(SQL(GUARD_DDL))


def lock_rows(cr, ids):
    """Lock the distributors ``ids`` for this transaction, in id order (see module doc).

    Waits while another transaction writes them; raises a serialization failure (which Odoo
    retries for web requests) when one of them was changed since this transaction began.
    """
    ids = sorted({i for i in ids if i})
    if ids:
        cr.execute(
            SQL(
                "SELECT id FROM ds_distributor WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                ids,
            )
        )


def moved_users(cr):
    """True when a distributor whose path changed in this transaction has a user (their
    record rules, cached per user, hold their path prefix)."""
    cr.execute(
        SQL(
            """SELECT 1 FROM ds_genealogy_check c
                 JOIN ds_distributor d ON d.id = c.distributor_id
                 JOIN res_users u ON u.partner_id = d.partner_id
                WHERE c.xid = txid_current()
                LIMIT 1"""
        )
    )
    return bool(cr.fetchone())
