"""The bulk settings of the bonus engine and the volume step on real PostgreSQL sessions:
temp_buffers is raised for the temp tables of millions of rows only where PostgreSQL allows
it (a session that has not used a temporary table yet) and only upwards."""

import psycopg2

from odoo.sql_db import connection_info_for
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name

from odoo.addons.crm_direct_selling.engine import sql as engine_sql


class _Session:
    """A PostgreSQL session of its own (the Odoo pool reuses sessions that already used
    temporary tables), with the ``execute(SQL)`` the function under test calls."""

    def __init__(self, dbname, temp_buffers):
        _name, info = connection_info_for(dbname)
        info["options"] = f"-c temp_buffers={temp_buffers}"
        self.cnx = psycopg2.connect(**info)

    def execute(self, query):
        with self.cnx.cursor() as cur:
            cur.execute(query.code, query.params)

    def value(self, query):
        with self.cnx.cursor() as cur:
            cur.execute(query)
            return cur.fetchone()[0]

    def close(self):
        self.cnx.rollback()
        self.cnx.close()


@tagged("post_install", "-at_install")
class TestEngineSettings(BaseCase):
    def setUp(self):
        super().setUp()
        self.dbname = get_db_name()

    def session(self, temp_buffers):
        session = _Session(self.dbname, temp_buffers)
        self.addCleanup(session.close)
        return session

    def test_raised_in_a_fresh_session_for_the_transaction(self):
        s = self.session("8MB")
        engine_sql.try_temp_buffers(s)
        self.assertEqual(s.value("SHOW temp_buffers"), "1GB")
        s.value(
            "CREATE TEMP TABLE ds_t_settings AS SELECT 1 AS x; SELECT COUNT(*) FROM ds_t_settings"
        )
        s.cnx.rollback()
        # transaction-local: the session's own value comes back after the transaction
        self.assertEqual(s.value("SHOW temp_buffers"), "8MB")

    def test_left_alone_once_a_temp_table_was_used(self):
        s = self.session("8MB")
        s.value(
            "CREATE TEMP TABLE ds_t_used AS SELECT 1 AS x; SELECT COUNT(*) FROM ds_t_used"
        )
        s.cnx.commit()
        # PostgreSQL would refuse the change here: the function must not try it
        engine_sql.try_temp_buffers(s)
        self.assertEqual(s.value("SHOW temp_buffers"), "8MB")

    def test_never_lowered(self):
        s = self.session("2GB")
        engine_sql.try_temp_buffers(s)
        self.assertEqual(s.value("SHOW temp_buffers"), "2GB")
