import base64
import json
import re

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import DsPortalCommon


@tagged("post_install", "-at_install")
class TestDsTraining(DsPortalCommon):
    """eLearning for distributors: onboarding at enrolment, courses gated by rank,
    completion seen by the leader, training criteria of segments."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        Channel = env["slide.channel"]
        Slide = env["slide.slide"]
        cls.onboarding = Channel.create(
            {
                "name": "DST Onboarding",
                "is_published": True,
                "visibility": "public",
                "enroll": "public",
            }
        )
        cls.onboarding_slides = Slide.create(
            [
                {
                    "name": f"DST Welcome {i}",
                    "channel_id": cls.onboarding.id,
                    "slide_category": "article",
                    "html_content": f"<p>DST welcome lesson {i}</p>",
                    "is_published": True,
                }
                for i in (1, 2)
            ]
        )
        cls.silver_course = Channel.create(
            {
                "name": "DST Silver Leadership",
                "is_published": True,
                "visibility": "public",
                "enroll": "public",
                "ds_min_rank_id": cls.rank_silver.id,
            }
        )
        # a preview slide: website_slides shows previews to non-members, the rank does not
        cls.silver_slide = Slide.create(
            {
                "name": "DST Silver secrets",
                "channel_id": cls.silver_course.id,
                "slide_category": "article",
                "html_content": "<p>DST-SILVER-CONTENT</p>",
                "is_published": True,
                "is_preview": True,
            }
        )
        cls.company.ds_onboarding_channel_ids = [Command.set(cls.onboarding.ids)]
        cls.env.ref("base.user_admin").password = "admin"  # noqa: S105

    # ------------------------------------------------------------------ helpers
    def _json(self, route, params):
        response = self.url_open(
            route,
            data=json.dumps(
                {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200, response.text[:300])
        body = response.json()
        return body.get("result"), body.get("error")

    def _call_kw(self, model, method, args, kwargs=None):
        return self._json(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    def _memberships(self, channel, partners):
        return (
            self.env["slide.channel.partner"]
            .sudo()
            .search(
                [("channel_id", "=", channel.id), ("partner_id", "in", partners.ids)]
            )
        )

    def _complete(self, user, slides):
        """Complete ``slides`` as ``user`` through website_slides' JSON route."""
        self.authenticate(user.login, user.login)
        for slide in slides:
            result, error = self._json(
                "/slides/slide/set_completed", {"slide_id": slide.id}
            )
            self.assertFalse(error, error)
            self.assertNotIn("error", result or {})

    # ------------------------------------------------------------------ onboarding
    def test_enrolment_joins_onboarding(self):
        """A distributor created by the back office (JSON-RPC create) joins the
        onboarding course; a portal user granted afterwards reads its content."""
        self.authenticate("admin", "admin")
        new_id, error = self._call_kw(
            "ds.distributor",
            "create",
            [{"name": "DST Newbie", "email": "dst.newbie@example.com"}],
        )
        self.assertFalse(error, error)
        newbie = self.env["ds.distributor"].browse(new_id)
        membership = self._memberships(self.onboarding, newbie.partner_id)
        self.assertEqual(membership.member_status, "joined")
        self.assertTrue(membership.active)
        self.assertIn(newbie.partner_id, self.onboarding.message_partner_ids)
        self.assertFalse(self._memberships(self.silver_course, newbie.partner_id))

        # the portal user comes later: the membership is the partner's
        result, error = self._json(
            "/web/dataset/call_button",
            {
                "model": "ds.distributor",
                "method": "action_ds_grant_portal",
                "args": [[newbie.id]],
                "kwargs": {},
            },
        )
        self.assertFalse(error, error)
        user = newbie.partner_id.user_ids
        self.assertEqual(len(user), 1)
        user.sudo().password = user.login
        self.authenticate(user.login, user.login)
        response = self.url_open(f"/slides/slide/{self.onboarding_slides[0].id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("DST welcome lesson 1", response.text)
        response = self.url_open("/slides/all")
        self.assertIn("DST Onboarding", response.text)

    def _import_csv(self, n, prefix):
        lines = ["code,name,sponsor_code,email"]
        lines += [
            f"{prefix}{i},{prefix} Member {i},{self.lana.code},{prefix.lower()}{i}@example.com"
            for i in range(n)
        ]
        return base64.b64encode("\n".join(lines).encode())

    def test_import_joins_onboarding_set_based(self):
        """The import wizard (pressed as the web client does) enrols every imported
        distributor in the onboarding course, with a number of queries that does not
        grow with the rows."""
        self.authenticate("admin", "admin")
        wizard_id, error = self._call_kw(
            "ds.distributor.import",
            "create",
            [{"file_data": self._import_csv(3, "DSTA").decode(), "file_name": "a.csv"}],
        )
        self.assertFalse(error, error)
        result, error = self._json(
            "/web/dataset/call_button",
            {
                "model": "ds.distributor.import",
                "method": "action_import",
                "args": [[wizard_id]],
                "kwargs": {},
            },
        )
        self.assertFalse(error, error)
        imported = self.env["ds.distributor"].search([("code", "=like", "DSTA%")])
        self.assertEqual(len(imported), 3)
        members = self._memberships(self.onboarding, imported.partner_id)
        self.assertEqual(members.partner_id, imported.partner_id)
        self.assertEqual(set(members.mapped("member_status")), {"joined"})

        # set-based: 5 rows and 60 rows cost the same number of queries
        counts = []
        for n, prefix in ((2, "DSTW"), (5, "DSTB"), (60, "DSTC")):
            wizard = self.env["ds.distributor.import"].create(
                {"file_data": self._import_csv(n, prefix), "file_name": "b.csv"}
            )
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            wizard.action_import()
            self.env.flush_all()
            counts.append(self.env.cr.sql_log_count - before)
            imported = self.env["ds.distributor"].search(
                [("code", "=like", f"{prefix}%")]
            )
            self.assertEqual(len(imported), n)
            self.assertEqual(
                len(self._memberships(self.onboarding, imported.partner_id)), n
            )
        # the first import warms caches up
        self.assertEqual(counts[1], counts[2], counts)

    def test_onboarding_cannot_require_rank(self):
        with self.assertRaises(ValidationError):
            self.onboarding.ds_min_rank_id = self.rank_gold
        with self.assertRaises(ValidationError):
            self.company.ds_onboarding_channel_ids = [
                Command.link(self.silver_course.id)
            ]

    # ------------------------------------------------------------------ rank gating
    @mute_logger("odoo.http", "odoo.addons.base.models.ir_rule")
    def test_rank_gate_refused_below_rank(self):
        """Fay (bronze) is refused the silver course over HTTP and JSON-RPC: join,
        page of the content, HTML content, read and search of its slides."""
        self.authenticate(self.user_fay.login, self.user_fay.login)
        result, error = self._json(
            "/slides/channel/join", {"channel_id": self.silver_course.id}
        )
        self.assertTrue(error)
        self.assertIn("DSP Silver", error["data"]["message"])
        self.assertFalse(self._memberships(self.silver_course, self.fay.partner_id))

        response = self.url_open(f"/slides/slide/{self.silver_slide.id}")
        self.assertNotIn("DST-SILVER-CONTENT", response.text)
        self.assertIn("no_rights", response.url)

        response = self.url_open(f"/slides/embed/{self.silver_slide.id}")
        self.assertNotIn("DST-SILVER-CONTENT", response.text)

        result, error = self._json(
            "/slides/slide/get_html_content", {"slide_id": self.silver_slide.id}
        )
        self.assertNotIn("DST-SILVER-CONTENT", json.dumps(result))

        result, error = self._call_kw(
            "slide.slide", "read", [[self.silver_slide.id], ["html_content"]]
        )
        self.assertEqual(error["data"]["name"], "odoo.exceptions.AccessError")
        result, error = self._call_kw(
            "slide.slide",
            "search_read",
            [[("channel_id", "=", self.silver_course.id)], ["name"]],
        )
        self.assertFalse(error, error)
        self.assertEqual(result, [])
        # the join method itself, called with the rights of a back-office enrolment
        with self.assertRaises(ValidationError):
            self.silver_course.sudo()._action_add_members(self.fay.partner_id)
        with self.assertRaises(ValidationError):
            self.env["slide.channel.partner"].sudo().create(
                {
                    "channel_id": self.silver_course.id,
                    "partner_id": self.fay.partner_id.id,
                }
            )
        # the course list shows the course locked with the rank needed
        page = self.url_open("/slides/all").text
        self.assertIn("o_ds_course_locked", page)
        self.assertIn("Locked: rank DSP Silver needed", page)
        page = self.url_open(f"/slides/{self.silver_course.id}").text
        self.assertIn("Reach the rank", page)
        self.assertNotIn("o_wslides_js_course_join_link", page)

    @mute_logger("odoo.http")
    def test_rank_gate_refused_to_customers_and_visitors(self):
        self.authenticate(self.user_consumer.login, self.user_consumer.login)
        result, error = self._json(
            "/slides/channel/join", {"channel_id": self.silver_course.id}
        )
        self.assertTrue(error)
        self.authenticate(None, None)
        response = self.url_open(f"/slides/slide/{self.silver_slide.id}")
        self.assertNotIn("DST-SILVER-CONTENT", response.text)

    def test_rank_gate_allowed_at_rank(self):
        """Lana (silver) joins over HTTP and reads the content over HTTP and JSON-RPC."""
        self.authenticate(self.user_lana.login, self.user_lana.login)
        page = self.url_open("/slides/all").text
        self.assertNotIn("o_ds_course_locked", page)
        result, error = self._json(
            "/slides/channel/join", {"channel_id": self.silver_course.id}
        )
        self.assertFalse(error, error)
        self.assertEqual(
            self._memberships(self.silver_course, self.lana.partner_id).member_status,
            "joined",
        )
        response = self.url_open(f"/slides/slide/{self.silver_slide.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("DST-SILVER-CONTENT", response.text)
        result, error = self._call_kw(
            "slide.slide", "read", [[self.silver_slide.id], ["html_content"]]
        )
        self.assertFalse(error, error)
        self.assertIn("DST-SILVER-CONTENT", result[0]["html_content"])

    def test_rank_gate_highest_rank_counts(self):
        """The highest rank reached opens the course, even in a month paid below it."""
        self.fay.sudo().write({"highest_rank_id": self.rank_gold.id})
        self.authenticate(self.user_fay.login, self.user_fay.login)
        result, error = self._json(
            "/slides/channel/join", {"channel_id": self.silver_course.id}
        )
        self.assertFalse(error, error)
        self.assertTrue(self._memberships(self.silver_course, self.fay.partner_id))

    def test_rank_gate_auto_enrol_group(self):
        """A gated course enrolling the portal group automatically: granting portal
        access to a distributor below the rank still works and leaves them out; one at
        the rank joins."""
        self.silver_course.enroll_group_ids = [
            Command.set(self.env.ref("base.group_portal").ids)
        ]
        self.assertNotIn(self.fay.partner_id, self.silver_course.partner_ids)
        self.assertIn(self.lana.partner_id, self.silver_course.partner_ids)
        low = self.env["ds.distributor"].create(
            {"name": "DST Low", "email": "dst.low@example.com"}
        )
        high = self.env["ds.distributor"].create(
            {
                "name": "DST High",
                "email": "dst.high@example.com",
                "highest_rank_id": self.rank_gold.id,
            }
        )
        (low | high).action_ds_grant_portal()
        self.assertTrue(low.partner_id.user_ids)
        self.assertFalse(self._memberships(self.silver_course, low.partner_id))
        self.assertTrue(self._memberships(self.silver_course, high.partner_id))

    # ------------------------------------------------------------------ leader view
    def test_leader_sees_downline_completion(self):
        self.onboarding._action_add_members(self.fay.partner_id | self.bob.partner_id)
        self._complete(self.user_fay, self.onboarding_slides)
        self.assertEqual(
            self._memberships(self.onboarding, self.fay.partner_id).member_status,
            "completed",
        )
        self.authenticate(self.user_lana.login, self.user_lana.login)
        page = self.url_open(f"/my/network/{self.fay.id}").text
        self.assertIn('o_ds_member_onboarding">100%', page)
        self.assertIn('o_ds_member_courses_done">1<', page)
        self.assertIn("DST Onboarding", page)
        page = self.url_open(f"/my/network/{self.dan.id}").text
        self.assertIn('o_ds_member_onboarding">0%', page)
        self.assertIn("No course joined yet.", page)
        page = self.url_open("/my/network").text
        self.assertIn("100%", page)
        # a member of another branch: not found, their courses never shown
        response = self.url_open(f"/my/network/{self.bob.id}")
        self.assertEqual(response.status_code, 404)
        self.assertNotIn("DST Onboarding", response.text)
        self.authenticate(self.user_sam.login, self.user_sam.login)
        self.assertEqual(self.url_open(f"/my/network/{self.fay.id}").status_code, 404)
        # back office: the distributor form's figures
        self.assertEqual(self.fay.ds_onboarding_completion, 100)
        self.assertEqual(self.fay.ds_course_completed_count, 1)
        self.assertEqual(self.bob.ds_onboarding_completion, 0)
        self.assertEqual(self.bob.ds_course_count, 1)
        action = self.fay.action_ds_view_courses()
        self.assertEqual(
            self.env["slide.channel.partner"].search(action["domain"]).channel_id,
            self.onboarding,
        )

    # ------------------------------------------------------------------ my training
    def _my_training_rows(self, page):
        """[(course id, completion %)] of the own-course rows, in page order, and the
        ids of the locked rows."""
        rows = re.findall(
            r'<tr class="o_ds_training_course[^"]*" data-course-id="(\d+)">.*?'
            r'o_ds_training_completion">(\d+)%',
            page,
            re.S,
        )
        locked = re.findall(
            r'class="o_ds_training_locked" data-course-id="(\d+)"', page
        )
        return [(int(c), int(p)) for c, p in rows], [int(c) for c in locked]

    def test_my_training_own_courses_completion_and_locked(self):
        """/my/training lists Fay's own courses with her completion, the onboarding
        first, and the silver course locked with the rank needed; never a course only
        Lana follows, nor an unpublished course (website_slides' rules)."""
        Channel = self.env["slide.channel"]
        Slide = self.env["slide.slide"]
        basics = Channel.create(
            {
                "name": "DST A Product Basics",  # sorts before the onboarding course
                "is_published": True,
                "visibility": "public",
                "enroll": "public",
                "sequence": 1,
            }
        )
        basics_slides = Slide.create(
            [
                {
                    "name": f"DST Basics {i}",
                    "channel_id": basics.id,
                    "slide_category": "article",
                    "html_content": f"<p>DST basics {i}</p>",
                    "is_published": True,
                }
                for i in (1, 2)
            ]
        )
        lana_only = Channel.create(
            {
                "name": "DST Lana Only",
                "is_published": True,
                "visibility": "public",
                "enroll": "public",
            }
        )
        draft = Channel.create(
            {"name": "DST Draft Course", "is_published": False, "enroll": "public"}
        )
        self.onboarding.sequence = 50
        self.onboarding._action_add_members(self.fay.partner_id)
        (basics | draft)._action_add_members(self.fay.partner_id)
        lana_only._action_add_members(self.lana.partner_id)
        self._complete(self.user_fay, self.onboarding_slides)
        self._complete(self.user_fay, basics_slides[0])

        self.authenticate(self.user_fay.login, self.user_fay.login)
        response = self.url_open("/my/training")
        self.assertEqual(response.status_code, 200)
        page = response.text
        rows, locked = self._my_training_rows(page)
        self.assertEqual(rows, [(self.onboarding.id, 100), (basics.id, 50)])
        self.assertEqual(locked, self.silver_course.ids)
        self.assertRegex(page, r'o_ds_training_rank">DSP Silver<')
        self.assertIn('o_ds_training_done">1<', page)
        self.assertNotIn("DST Lana Only", page)
        self.assertNotIn("DST Draft Course", page)
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["ds_training_count"]}
        )
        self.assertEqual(counters, {"ds_training_count": 2})
        home = self.url_open("/my").text
        self.assertIn('href="/my/training"', home)

        # Lana (silver): the onboarding course of her company (not joined: she was
        # enrolled before it was set), her own course; the silver course is not locked
        self.authenticate(self.user_lana.login, self.user_lana.login)
        page = self.url_open("/my/training").text
        rows, locked = self._my_training_rows(page)
        self.assertEqual(rows, [(self.onboarding.id, 0), (lana_only.id, 0)])
        self.assertIn("Not joined", page)
        self.assertEqual(locked, [])
        self.assertNotIn("DST A Product Basics", page)

        # a visitor is sent to log in
        self.authenticate(None, None)
        response = self.url_open("/my/training", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])

    # ------------------------------------------------------------------ segments
    def test_segment_training_criteria(self):
        self.onboarding._action_add_members(
            self.fay.partner_id | self.dan.partner_id | self.lana.partner_id
        )
        self.silver_course._action_add_members(self.lana.partner_id)
        self._complete(self.user_fay, self.onboarding_slides)
        self._complete(self.user_lana, self.silver_slide)
        Segment = self.env["ds.segment"]
        done = Segment.create({"name": "DST onboarded", "ds_onboarding": "completed"})
        not_done = Segment.create(
            {"name": "DST not onboarded", "ds_onboarding": "not_completed"}
        )
        silver = Segment.create(
            {
                "name": "DST silver course",
                "ds_course_completed_ids": [Command.set(self.silver_course.ids)],
            }
        )
        self.authenticate("admin", "admin")
        result, error = self._json(
            "/web/dataset/call_button",
            {
                "model": "ds.segment",
                "method": "action_refresh",
                "args": [(done | not_done | silver).ids],
                "kwargs": {},
            },
        )
        self.assertFalse(error, error)
        members = {
            segment: set(
                self.env["ds.segment.member"]
                .search([("segment_id", "=", segment.id)])
                .partner_id.ids
            )
            for segment in (done, not_done, silver)
        }
        self.assertEqual(members[done], set(self.fay.partner_id.ids))
        self.assertEqual(done.member_count, 1)
        self.assertEqual(members[silver], set(self.lana.partner_id.ids))
        distributors = self.env["ds.distributor"].search(
            [("company_id", "=", self.company.id)]
        )
        expected = set(distributors.partner_id.filtered("active").ids) - set(
            self.fay.partner_id.ids
        )
        self.assertEqual(members[not_done], expected)
        self.assertIn(self.dan.partner_id.id, members[not_done])
        self.assertNotIn(self.consumer_partner.id, members[not_done])

        # an onboarding criterion needs onboarding courses
        self.company.ds_onboarding_channel_ids = [Command.clear()]
        with self.assertRaises(ValidationError):
            Segment.create({"name": "DST nothing", "ds_onboarding": "completed"})
        # cleared after the segment was saved: nobody completed, nothing fails
        (done | not_done).action_refresh()
        self.assertEqual(done.member_count, 0)
        self.assertEqual(not_done.member_count, len(expected) + 1)

    # ------------------------------------------------------------------ tour
    def test_training_tour(self):
        """A new distributor sees the onboarding course joined and the silver course
        locked with the rank needed."""
        newbie = self.env["ds.distributor"].create(
            {
                "name": "DST Tour Newbie",
                "email": "dst.tour@example.com",
                "sponsor_id": self.lana.id,
            }
        )
        self.env["res.users"].with_context(no_reset_password=True).create(
            {
                "login": "dst_tour",
                "password": "dst_tour",
                "partner_id": newbie.partner_id.id,
                "groups_id": [Command.set(self.env.ref("base.group_portal").ids)],
            }
        )
        self.start_tour("/my", "ds_training_tour", login="dst_tour")
