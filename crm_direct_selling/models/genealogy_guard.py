"""The database-level guard of the genealogy (sponsor tree) of ``ds.distributor``.

Every genealogy change (a distributor created, a sponsor changed, a path rewritten) must run in a
transaction that first took the company's genealogy lock with :func:`lock`: one UPSERT of the
company's row in ``ds_genealogy_lock``. Under PostgreSQL's REPEATABLE READ (Odoo's isolation level)
that single write does two things at once:

* it serialises genealogy changes of one company: a second transaction waits for the first;
* it refuses to go on with a stale snapshot: when another genealogy change was committed after this
  transaction's snapshot was taken, the UPSERT fails with a serialization failure, which Odoo
  retries for web requests. After a successful lock, the transaction's snapshot holds every committed
  genealogy change, so its loop check and its path rewrite read the real tree.

Two triggers make the rule impossible to forget, SQL writers included:

* ``ds_genealogy_record`` (AFTER INSERT / UPDATE, per statement) records the distributors whose
  sponsor, path, depth or company changed, and raises at once when the transaction does not hold the
  lock of their company;
* ``ds_genealogy_validate`` (a DEFERRED constraint trigger on the lock row, so at COMMIT) checks that
  each recorded distributor's ``parent_path``/``depth`` follow its sponsor and that their children
  follow them. With the committed tree consistent before, this makes every committed tree consistent;
  and a consistent tree has no loop (a path is strictly longer than its sponsor's).
"""

from odoo.tools import SQL

GUARD_DDL = """
CREATE TABLE IF NOT EXISTS ds_genealogy_lock (
    company_id integer PRIMARY KEY,
    version bigint NOT NULL DEFAULT 1,
    locked_xid bigint,
    changed_at timestamp without time zone
);
CREATE UNLOGGED TABLE IF NOT EXISTS ds_genealogy_check (
    xid bigint NOT NULL,
    distributor_id integer NOT NULL,
    company_id integer
);
CREATE INDEX IF NOT EXISTS ds_genealogy_check_xid_idx ON ds_genealogy_check (xid);

CREATE OR REPLACE FUNCTION ds_genealogy_record() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    unlocked integer;
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH ins AS (
            INSERT INTO ds_genealogy_check (xid, distributor_id, company_id)
            SELECT txid_current(), n.id, n.company_id FROM ds_new n
            RETURNING company_id
        )
        SELECT i.company_id INTO unlocked
          FROM (SELECT DISTINCT company_id FROM ins) i
     LEFT JOIN ds_genealogy_lock l ON l.company_id = i.company_id AND l.locked_xid = txid_current()
         WHERE l.company_id IS NULL
         LIMIT 1;
    ELSE
        WITH ins AS (
            INSERT INTO ds_genealogy_check (xid, distributor_id, company_id)
            SELECT txid_current(), n.id, n.company_id
              FROM ds_new n JOIN ds_old o ON o.id = n.id
             WHERE n.sponsor_id IS DISTINCT FROM o.sponsor_id
                OR n.parent_path IS DISTINCT FROM o.parent_path
                OR n.depth IS DISTINCT FROM o.depth
                OR n.company_id IS DISTINCT FROM o.company_id
            RETURNING company_id
        )
        SELECT i.company_id INTO unlocked
          FROM (SELECT DISTINCT company_id FROM ins) i
     LEFT JOIN ds_genealogy_lock l ON l.company_id = i.company_id AND l.locked_xid = txid_current()
         WHERE l.company_id IS NULL
         LIMIT 1;
    END IF;
    IF unlocked IS NOT NULL THEN
        RAISE EXCEPTION USING
            MESSAGE = 'Genealogy guard: the genealogy of company ' || unlocked
                      || ' was changed without its genealogy lock; the change is refused.',
            ERRCODE = 'check_violation',
                  HINT = 'Call ds.distributor._ds_genealogy_lock() before changing sponsors or paths.';
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ds_genealogy_validate() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    bad integer;
BEGIN
    IF NEW.locked_xid IS DISTINCT FROM txid_current() THEN
        RETURN NULL;
    END IF;
    SELECT d.id INTO bad
      FROM (SELECT DISTINCT distributor_id FROM ds_genealogy_check WHERE xid = txid_current()) c
      JOIN ds_distributor d ON d.id = c.distributor_id
 LEFT JOIN ds_distributor s ON s.id = d.sponsor_id
     WHERE d.parent_path IS DISTINCT FROM COALESCE(s.parent_path, '') || d.id || '/'
        OR d.depth IS DISTINCT FROM COALESCE(s.depth + 1, 0)
     LIMIT 1;
    IF bad IS NULL THEN
        SELECT ch.id INTO bad
          FROM (SELECT DISTINCT distributor_id FROM ds_genealogy_check WHERE xid = txid_current()) c
          JOIN ds_distributor d ON d.id = c.distributor_id
          JOIN ds_distributor ch ON ch.sponsor_id = d.id
         WHERE ch.parent_path IS DISTINCT FROM d.parent_path || ch.id || '/'
         LIMIT 1;
    END IF;
    DELETE FROM ds_genealogy_check WHERE xid = txid_current();
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
DROP TRIGGER IF EXISTS ds_genealogy_validate ON ds_genealogy_lock;
CREATE CONSTRAINT TRIGGER ds_genealogy_validate AFTER INSERT OR UPDATE ON ds_genealogy_lock
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ds_genealogy_validate();
"""


def install(cr):
    """Create (or refresh) the lock table, the check table and the guard triggers."""
    cr.execute(SQL(GUARD_DDL))


def lock(cr, company_ids):
    """Take the genealogy lock of ``company_ids`` for the current transaction (see module doc).

    Waits while another transaction holds it; raises a serialization failure (which Odoo retries
    for web requests) when another genealogy change was committed since this transaction began.
    """
    for company_id in sorted({cid for cid in company_ids if cid}):
        cr.execute(
            SQL(
                """INSERT INTO ds_genealogy_lock AS l (company_id, locked_xid, changed_at)
                   VALUES (%s, txid_current(), now() at time zone 'UTC')
                   ON CONFLICT (company_id) DO UPDATE
                      SET version = l.version + 1, locked_xid = EXCLUDED.locked_xid,
                          changed_at = EXCLUDED.changed_at""",
                company_id,
            )
        )
