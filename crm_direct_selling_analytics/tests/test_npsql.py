"""The numeric columns read from PostgreSQL into numpy by binary COPY (training and scoring
of the decision models) equal what the ordinary cursor returns, NULLs and wrong types are
refused, and the binary COPY written back reads the same values again."""

import numpy as np

from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

from ..tools.npsql import read_columns, write_columns


@tagged("post_install", "-at_install")
class TestNpSql(TransactionCase):
    QUERY = SQL(
        """SELECT g::int8, (g * 7 - 3000)::int4, (g / 3.0 - 41.5)::float8,
                  (CASE WHEN mod(g, 5) = 0 THEN -1e300 ELSE g * 1e-7 END)::float8
             FROM generate_series(1, 5000) g ORDER BY g"""
    )

    def test_same_values_as_the_cursor(self):
        columns = read_columns(
            self.env.cr, self.QUERY, ["int8", "int4", "float8", "float8"]
        )
        rows = self.env.execute_query(self.QUERY)
        self.assertEqual(len(columns[0]), 5000)
        for i, column in enumerate(columns):
            expected = np.array([row[i] for row in rows])
            self.assertTrue(np.array_equal(column, expected), f"column {i + 1}")
        self.assertEqual(columns[0].dtype, np.int64)
        self.assertEqual(columns[1].dtype, np.int32)
        self.assertEqual(columns[2].dtype, np.float64)

    def test_empty_result(self):
        columns = read_columns(
            self.env.cr,
            SQL("SELECT 1::int8, 2.0::float8 WHERE FALSE"),
            ["int8", "float8"],
        )
        self.assertEqual([len(c) for c in columns], [0, 0])

    def test_null_and_wrong_types_refused(self):
        with self.assertRaisesRegex(ValueError, "NULL"):
            read_columns(
                self.env.cr,
                SQL(
                    "SELECT g::int8, NULLIF(g, 2)::float8 FROM generate_series(1, 3) g"
                ),
                ["int8", "float8"],
            )
        with self.assertRaises(ValueError):
            read_columns(
                self.env.cr,
                SQL("SELECT g::int4 FROM generate_series(1, 3) g"),
                ["float8"],
            )

    def test_write_then_read(self):
        self.env.cr.execute(
            "CREATE TEMPORARY TABLE npsql_t (a int4, b float8, c int8) ON COMMIT DROP"
        )
        a = np.arange(-50, 50, dtype=np.int32)
        b = np.linspace(-1.5, 3.25, 100)
        c = np.arange(100, dtype=np.int64) * 10**12
        self.assertEqual(
            write_columns(
                self.env.cr,
                "npsql_t",
                [("a", "int4", a), ("b", "float8", b), ("c", "int8", c)],
            ),
            100,
        )
        back = read_columns(
            self.env.cr,
            SQL("SELECT a, b, c FROM npsql_t ORDER BY a"),
            ["int4", "float8", "int8"],
        )
        for written, read in zip((a, b, c), back, strict=True):
            self.assertTrue(np.array_equal(written, read))
