"""The database-level guard of the placement tree of ``ds.distributor`` (binary / matrix plans).

The same design as the sponsor tree's guard (genealogy_guard.py), on the placement columns
``placement_parent_id``, ``placement_path``, ``placement_depth``:

* the statement trigger ``ds_placement_record`` (AFTER INSERT / UPDATE, transition tables)
  records the distributors whose placement parent, path, depth or company changed and *touches*
  (writes without changing) their placement parents, so that two changes that could interact
  (a loop, two recruits into the same slot of one parent, a recruit under a moving subtree)
  always write a common row: the second one waits for the first and fails with a serialization
  failure, which Odoo retries with a fresh snapshot;
* the deferred constraint trigger ``ds_placement_validate`` checks at COMMIT that every recorded
  placed distributor's path and depth follow its placement parent (and its placement children
  follow it), that an unplaced distributor (holding tank: path NULL) has no parent, and that the
  parent belongs to the same company. A consistent tree has no loop.

Statements that write no placement column of a row that is or was placed return at once (a
company without a placement plan never pays for the transition-table join). Slot uniqueness is
a unique constraint on (placement_parent_id, placement_slot) (see ds_distributor_placement.py).
"""

from odoo.tools import SQL

GUARD_DDL = """
CREATE UNLOGGED TABLE IF NOT EXISTS ds_placement_check (
    xid bigint NOT NULL,
    distributor_id integer NOT NULL
);
CREATE INDEX IF NOT EXISTS ds_placement_check_xid_idx ON ds_placement_check (xid);
CREATE UNLOGGED TABLE IF NOT EXISTS ds_placement_tx (xid bigint PRIMARY KEY);

CREATE OR REPLACE FUNCTION ds_placement_record() RETURNS trigger LANGUAGE plpgsql
    SET enable_hashjoin = on SET enable_mergejoin = on
    AS $fn$
DECLARE
    changed integer;
    placement_changed text := '(n.placement_parent_id IS DISTINCT FROM o.placement_parent_id
                                OR n.placement_depth IS DISTINCT FROM o.placement_depth
                                OR n.company_id IS DISTINCT FROM o.company_id
                                OR n.placement_path IS DISTINCT FROM o.placement_path)';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ds_new WHERE placement_path IS NOT NULL
                                          OR placement_parent_id IS NOT NULL) THEN
        IF TG_OP = 'INSERT' THEN
            RETURN NULL;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM ds_old WHERE placement_path IS NOT NULL
                                              OR placement_parent_id IS NOT NULL) THEN
            RETURN NULL;
        END IF;
    END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE 'INSERT INTO ds_placement_check (xid, distributor_id)
                 SELECT txid_current(), n.id FROM ds_new n
                  WHERE n.placement_path IS NOT NULL OR n.placement_parent_id IS NOT NULL';
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed = 0 THEN
            RETURN NULL;
        END IF;
        EXECUTE 'UPDATE ds_distributor d SET placement_path = d.placement_path
                   FROM (SELECT placement_parent_id AS id FROM ds_new
                          WHERE placement_parent_id IS NOT NULL
                         EXCEPT
                         SELECT id FROM ds_new) t
                  WHERE d.id = t.id';
    ELSE
        EXECUTE 'INSERT INTO ds_placement_check (xid, distributor_id)
                 SELECT txid_current(), n.id
                   FROM ds_new n JOIN ds_old o ON o.id = n.id
                  WHERE ' || placement_changed;
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed = 0 THEN
            RETURN NULL;
        END IF;
        EXECUTE 'UPDATE ds_distributor d SET placement_path = d.placement_path
                   FROM (SELECT n.placement_parent_id AS id
                           FROM ds_new n JOIN ds_old o ON o.id = n.id
                          WHERE n.placement_parent_id IS NOT NULL AND ' || placement_changed || '
                         EXCEPT
                         SELECT id FROM ds_new) t
                  WHERE d.id = t.id';
    END IF;
    INSERT INTO ds_placement_tx (xid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION ds_placement_validate() RETURNS trigger LANGUAGE plpgsql
    SET enable_hashjoin = on SET enable_mergejoin = on
    AS $fn$
DECLARE
    bad integer;
BEGIN
    SELECT d.id INTO bad
      FROM (SELECT DISTINCT distributor_id FROM ds_placement_check WHERE xid = NEW.xid) c
      JOIN ds_distributor d ON d.id = c.distributor_id
 LEFT JOIN ds_distributor p ON p.id = d.placement_parent_id
     WHERE (d.placement_path IS NULL AND d.placement_parent_id IS NOT NULL)
        OR (d.placement_path IS NOT NULL
            AND (d.placement_path IS DISTINCT FROM
                     COALESCE(p.placement_path, '') || d.id || '/'
                 OR d.placement_depth IS DISTINCT FROM COALESCE(p.placement_depth + 1, 0)
                 OR (p.id IS NOT NULL AND p.placement_path IS NULL)
                 OR (p.id IS NOT NULL AND p.company_id != d.company_id)))
     LIMIT 1;
    IF bad IS NULL THEN
        SELECT ch.id INTO bad
          FROM (SELECT DISTINCT distributor_id FROM ds_placement_check WHERE xid = NEW.xid) c
          JOIN ds_distributor d ON d.id = c.distributor_id
          JOIN ds_distributor ch ON ch.placement_parent_id = d.id
         WHERE ch.placement_path IS DISTINCT FROM d.placement_path || ch.id || '/'
         LIMIT 1;
    END IF;
    DELETE FROM ds_placement_check WHERE xid = NEW.xid;
    DELETE FROM ds_placement_tx WHERE xid = NEW.xid;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION USING
            MESSAGE = 'Placement guard: distributor ' || bad || ' would be committed with a'
                      || ' placement path that does not follow its placement parent (a'
                      || ' placement loop or a stale path); nothing was saved.',
            ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS ds_placement_record_insert ON ds_distributor;
CREATE TRIGGER ds_placement_record_insert AFTER INSERT ON ds_distributor
    REFERENCING NEW TABLE AS ds_new
    FOR EACH STATEMENT EXECUTE FUNCTION ds_placement_record();
DROP TRIGGER IF EXISTS ds_placement_record_update ON ds_distributor;
CREATE TRIGGER ds_placement_record_update AFTER UPDATE ON ds_distributor
    REFERENCING OLD TABLE AS ds_old NEW TABLE AS ds_new
    FOR EACH STATEMENT EXECUTE FUNCTION ds_placement_record();
DROP TRIGGER IF EXISTS ds_placement_validate ON ds_placement_tx;
CREATE CONSTRAINT TRIGGER ds_placement_validate AFTER INSERT ON ds_placement_tx
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ds_placement_validate();
"""


def install(cr):
    """Create (or refresh) the placement guard's tables and triggers."""
    cr.execute(SQL(GUARD_DDL))
