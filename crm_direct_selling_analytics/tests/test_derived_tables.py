import psycopg2

from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from .common import DsAnalyticsCommon

TABLES = {
    "ds_partner_rfm": ("ds_partner_rfm_partner_company_key", "company_id"),
    "ds_segment_member": ("ds_segment_member_segment_partner_key", "segment_id"),
    "ds_campaign_member": ("ds_campaign_member_campaign_partner_key", "campaign_id"),
}


@tagged("post_install", "-at_install")
class TestAnalyticsDerivedTables(DsAnalyticsCommon):
    """ds.partner.rfm, ds.segment.member and ds.campaign.member have tables without foreign keys
    (crm_direct_selling's derived_table.py): their ondelete rules are applied by the ORM."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls._customer("Alice")
        cls.bob = cls._customer("Bob")
        cls.dist = cls._distributor("Dist", rank_id=cls.rank_2.id)
        cls._invoice(cls.alice, "2026-06-20", 100.0)
        cls._invoice(cls.bob, "2026-05-20", 50.0)
        cls._invoice(cls.dist.partner_id, "2026-06-01", 80.0, pv=60.0)
        cls.env["ds.partner.rfm"]._refresh_company(cls.company, date_to=cls.today)
        # Zed never bought (a partner that can be deleted): an RFM row written by hand
        cls.zed = cls._customer("Zed")
        cls.env.cr.execute(
            SQL(
                """INSERT INTO ds_partner_rfm (partner_id, company_id, rfm_band, r_score, f_score, m_score)
                   VALUES (%s, %s, 'lost', 1, 1, 1)""",
                cls.zed.id,
                cls.company.id,
            )
        )
        cls.people = cls.alice | cls.bob | cls.dist.partner_id | cls.zed
        cls.segment = cls._segment_of(cls.people)
        cls.campaign = cls.env["ds.campaign"].create(
            {"name": "Spring", "segment_id": cls.segment.id, "seed": "spring"}
        )
        cls.campaign.action_assign()

    def _count(self, table, where):
        self.env.flush_all()
        self.env.cr.execute(
            SQL("SELECT COUNT(*) FROM %s WHERE %s", SQL.identifier(table), where)
        )
        return self.env.cr.fetchone()[0]

    def _constraints(self, table, kind):
        self.env.cr.execute(
            SQL(
                """SELECT conname FROM pg_constraint
                    WHERE conrelid = %s::regclass AND contype = %s ORDER BY conname""",
                table,
                kind,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def test_no_foreign_keys_one_unique_constraint(self):
        for table, (unique, _parent) in TABLES.items():
            self.assertEqual(self._constraints(table, "f"), [], table)
            self.assertEqual(self._constraints(table, "u"), [unique], table)
        self.assertEqual(
            self._count("ds_partner_rfm", SQL("partner_id = ANY(%s)", self.people.ids)),
            4,
        )
        self.assertEqual(len(self.segment.member_ids), 4)
        self.assertEqual(len(self.campaign.member_ids), 4)

    def test_unique_rows(self):
        duplicates = {
            "ds_partner_rfm": SQL(
                "INSERT INTO ds_partner_rfm (partner_id, company_id) VALUES (%s, %s)",
                self.alice.id,
                self.company.id,
            ),
            "ds_segment_member": SQL(
                "INSERT INTO ds_segment_member (segment_id, partner_id) VALUES (%s, %s)",
                self.segment.id,
                self.alice.id,
            ),
            "ds_campaign_member": SQL(
                """INSERT INTO ds_campaign_member (campaign_id, partner_id, "group")
                   VALUES (%s, %s, 'target')""",
                self.campaign.id,
                self.alice.id,
            ),
        }
        for table, query in duplicates.items():
            with (
                self.subTest(table=table),
                self.assertRaises(psycopg2.errors.UniqueViolation),
                mute_logger("odoo.sql_db"),
                self.env.cr.savepoint(),
            ):
                self.env.cr.execute(query)

    def test_partner_unlink_deletes_its_rows(self):
        zed_id = self.zed.id
        self.assertEqual(self.zed.ds_segment_member_ids.segment_id, self.segment)
        self.zed.unlink()
        for table in TABLES:
            self.assertEqual(
                self._count(table, SQL("partner_id = %s", zed_id)), 0, table
            )
        self.assertEqual(
            self._count("ds_partner_rfm", SQL("partner_id = %s", self.alice.id)), 1
        )
        self.assertEqual(self.segment.member_ids.partner_id, self.people - self.zed)
        self.assertEqual(self.campaign.member_ids.partner_id, self.people - self.zed)

    def test_segment_and_campaign_unlink_delete_their_members(self):
        other = self._segment_of(self.alice | self.bob, name="Other")
        other_id, campaign_id = other.id, self.campaign.id
        self.assertEqual(
            self._count("ds_segment_member", SQL("segment_id = %s", other_id)), 2
        )
        other.unlink()
        self.assertEqual(
            self._count("ds_segment_member", SQL("segment_id = %s", other_id)), 0
        )
        self.campaign.unlink()
        self.assertEqual(
            self._count("ds_campaign_member", SQL("campaign_id = %s", campaign_id)), 0
        )
        self.assertEqual(len(self.segment.member_ids), 4)

    def test_rank_unlink_clears_member_ranks(self):
        member = self.campaign.member_ids.filtered(
            lambda m: m.partner_id == self.dist.partner_id
        )
        self.assertEqual(member.rank_id, self.rank_2)
        rank_id = self.rank_2.id
        self.dist.write({"rank_id": False, "highest_rank_id": False})
        self.rank_2.unlink()
        self.assertEqual(
            self._count("ds_campaign_member", SQL("rank_id = %s", rank_id)), 0
        )
        self.assertFalse(member.rank_id)
        self.assertEqual(len(self.campaign.member_ids), 4)

    def test_merge_partners_moves_their_rows(self):
        """Merging contacts (Odoo's merge wizard) moves the RFM, segment and campaign rows of
        the merged contacts to the one kept, where it has none; the others go."""
        newbie = self._customer("Newbie")
        group = self.campaign.member_ids.filtered(
            lambda m: m.partner_id == self.alice
        ).group
        merge = self.env["base.partner.merge.automatic.wizard"]
        merge._merge((self.alice | newbie).ids, newbie, extra_checks=False)
        self.assertFalse(self.alice.exists())
        for table in TABLES:
            self.assertEqual(
                self._count(table, SQL("partner_id = %s", newbie.id)), 1, table
            )
        self.assertEqual(
            self.campaign.member_ids.filtered(lambda m: m.partner_id == newbie).group,
            group,
        )
        # both have rows: the kept contact keeps its own, the merged one's are deleted
        merge._merge((self.bob | self.zed).ids, self.zed, extra_checks=False)
        for table in TABLES:
            self.assertEqual(
                self._count(table, SQL("partner_id = %s", self.zed.id)), 1, table
            )
            self.assertEqual(
                self._count(table, SQL("partner_id = %s", self.bob.id)), 0, table
            )
        self.assertEqual(
            set(self.segment.member_ids.partner_id.ids),
            {newbie.id, self.dist.partner_id.id, self.zed.id},
        )
        self.assertEqual(len(self.campaign.member_ids), 3)
