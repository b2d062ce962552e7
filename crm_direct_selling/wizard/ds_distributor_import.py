import base64
import csv
import datetime
import io
import logging
import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

IMPORT_COLUMNS = [
    ("type", "distributor or customer (default: distributor)"),
    ("code", "distributor code, unique per company (empty: from the sequence)"),
    ("name", "full name (required)"),
    (
        "sponsor_code",
        "code of the sponsor: an existing distributor or any distributor row of the file",
    ),
    (
        "referrer_code",
        "customers: code of the distributor credited with their purchases",
    ),
    ("email", "email address"),
    ("phone", "phone number"),
    ("street", "street"),
    ("city", "city"),
    ("zip", "zip code"),
    ("country_code", "ISO country code, e.g. US"),
    ("enrollment_date", "distributors: enrollment date, YYYY-MM-DD"),
    ("birthday", "birthday, YYYY-MM-DD"),
]
BATCH = 5000
# one address, no display name: fast enough for 100k rows (email_normalize parses RFC 2822 headers)
EMAIL_RE = re.compile(
    r"^[^@\s,;<>\"'()\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
# what the wizard refuses to read: a file or a cell it cannot hold, a date it would misread
MAX_FILE_SIZE = 64 * 1024 * 1024  # bytes: ~600,000 rows of CSV
MAX_CELL_LENGTH = 1000  # characters
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab, LF, CR are fine
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
MIN_DATE = datetime.date(1900, 1, 1)


class Formula(str):
    """The text of an XLSX formula cell (``=...``), told apart from text that merely
    starts with ``=``: the wizard imports values, never formulas."""

    __slots__ = ()


def _shown(value, size=40):
    """``value`` short enough to quote in an error message."""
    text = str(value)
    return text if len(text) <= size else text[:size] + "..."


class DsDistributorImport(models.TransientModel):
    _name = "ds.distributor.import"
    _description = "Import Distributors and Customers"

    file_data = fields.Binary(string="File", required=True)
    file_name = fields.Char()
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    columns_help = fields.Text(
        string="Columns",
        readonly=True,
        default=lambda self: self._default_columns_help(),
    )
    result = fields.Text(readonly=True)

    @api.model
    def _default_columns_help(self):
        return "\n".join(f"{name}: {desc}" for name, desc in IMPORT_COLUMNS)

    # ------------------------------------------------------------------ reading
    def _read_rows(self):
        """Return a list of (row_number, dict) from the XLSX or CSV file; the first row holds the headers."""
        raw = base64.b64decode(self.file_data or b"")
        if len(raw) > MAX_FILE_SIZE:
            raise UserError(
                _(
                    "The file is too large: %(size)s MB (at most %(max)s MB). Split it "
                    "into several files.",
                    size=round(len(raw) / 1024 / 1024, 1),
                    max=MAX_FILE_SIZE // 1024 // 1024,
                )
            )
        name = (self.file_name or "").lower()
        if name.endswith(".csv") or (
            not name.endswith((".xlsx", ".xlsm")) and not raw.startswith(b"PK")
        ):
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as e:
                raise UserError(_("The CSV file must be UTF-8 encoded.")) from e
            sample = text[:4096]
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            # no cell can be longer than the file: an over-long cell is refused below,
            # by row and column, not by the csv module (Odoo's server raises it too)
            if csv.field_size_limit() < MAX_FILE_SIZE:
                csv.field_size_limit(MAX_FILE_SIZE)
            reader = csv.reader(io.StringIO(text), dialect)
            try:
                rows = list(reader)
            except csv.Error as e:
                raise UserError(
                    _(
                        "Cannot read the CSV file (line %(line)s): %(err)s",
                        line=reader.line_num,
                        err=e,
                    )
                ) from e
        else:
            rows = self._read_xlsx(raw)
        if not rows:
            raise UserError(_("The file is empty."))
        headers = [str(h or "").strip().lower() for h in rows[0]]
        known = {c for c, _d in IMPORT_COLUMNS}
        unknown = [_shown(h) for h in headers if h and h not in known]
        if unknown:
            raise UserError(
                _(
                    "Unknown column(s): %(cols)s. Expected: %(exp)s",
                    cols=", ".join(unknown),
                    exp=", ".join(sorted(known)),
                )
            )
        if "name" not in headers:
            raise UserError(_("The file has no 'name' column."))
        result = []
        for idx, row in enumerate(rows[1:], start=2):
            if not any(v not in (None, "") for v in row):
                continue
            result.append(
                (
                    idx,
                    {
                        h: row[i] if i < len(row) else None
                        for i, h in enumerate(headers)
                        if h
                    },
                )
            )
        return result

    def _read_xlsx(self, raw):
        """Rows of the first sheet; formula cells (which hold no value we could trust:
        openpyxl never computes them) come as ``Formula`` and are refused by row."""
        import openpyxl

        try:
            # not data_only: a formula must be seen as a formula, not as its cached
            # value (None in any file not saved by a spreadsheet program)
            wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True)
            rows = [
                [Formula(c.value) if c.data_type == "f" else c.value for c in r]
                for r in wb.worksheets[0].iter_rows()
            ]
            wb.close()
        except Exception as e:  # noqa: BLE001 - any parsing error is a bad file for the user
            raise UserError(_("Cannot read the XLSX file: %s", e)) from e
        return rows

    def _cell_errors(self, rows):
        """Cells no import can hold: formulas, over-long text, control characters
        (NUL...). Returns {row number: errors}; the offending values are shortened or
        cleaned in the rows so that the other checks quote them safely."""
        result = {}
        for rownum, row in rows:
            errs = []
            for col, value in row.items():
                if not isinstance(value, str):
                    continue
                if isinstance(value, Formula):
                    errs.append(
                        _(
                            "column '%(col)s' holds a formula (%(formula)s), not a "
                            "value: save the file with the values",
                            col=col,
                            formula=_shown(value),
                        )
                    )
                elif len(value) > MAX_CELL_LENGTH:
                    errs.append(
                        _(
                            "column '%(col)s' is %(len)s characters long (at most "
                            "%(max)s)",
                            col=col,
                            len=len(value),
                            max=MAX_CELL_LENGTH,
                        )
                    )
                    row[col] = _shown(value)
                elif CONTROL_RE.search(value):
                    errs.append(
                        _(
                            "column '%(col)s' contains a control character (such as "
                            "NUL)",
                            col=col,
                        )
                    )
                    row[col] = CONTROL_RE.sub("\ufffd", value)
            if errs:
                result[rownum] = errs
        return result

    @staticmethod
    def _str(value):
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()

    @staticmethod
    def _date(value):
        """Return (date or None, ok): a date cell, or text that is exactly YYYY-MM-DD."""
        if value in (None, ""):
            return None, True
        if isinstance(value, datetime.datetime):
            return value.date(), True
        if isinstance(value, datetime.date):
            return value, True
        if not isinstance(value, str) or isinstance(value, Formula):
            return None, False
        text = value.strip()
        if not DATE_RE.fullmatch(text):
            return None, False
        try:
            return datetime.date.fromisoformat(text), True
        except ValueError:
            return None, False

    def _date_range_error(self, fname, value, today):
        """Why the date ``value`` of column ``fname`` is not plausible: none before
        1900, none to come (the message is only built for a bad row)."""
        label = _("enrollment date") if fname == "enrollment_date" else _("birthday")
        if value < MIN_DATE:
            return _("%(field)s %(date)s is before 1900", field=label, date=value)
        return _("%(field)s %(date)s is in the future", field=label, date=value)

    # ------------------------------------------------------------------ validation
    @api.model
    def _contact_vals(self, parsed_row, company):
        """Contact fields shared by distributor and customer rows."""
        p = parsed_row
        return {
            "name": p["name"],
            "email": p["email"] or False,
            "phone": p["phone"] or False,
            "street": p["street"] or False,
            "city": p["city"] or False,
            "zip": p["zip"] or False,
            "country_id": p["country_id"] or False,
            "ds_birthday": p["birthday"] or False,
            "company_id": company.id,
        }

    def _validate_row(self, rownum, row, existing, file_codes, countries, today=None):
        """Check one row; return (list of error texts, parsed values)."""
        errs = []
        today = today or fields.Date.context_today(self)
        rtype = (self._str(row.get("type")) or "distributor").lower()
        name = self._str(row.get("name"))
        code = self._str(row.get("code"))
        sponsor_code = self._str(row.get("sponsor_code"))
        referrer_code = self._str(row.get("referrer_code"))
        email = self._str(row.get("email"))
        if rtype not in ("distributor", "customer"):
            errs.append(_("unknown type '%s' (distributor or customer)", rtype))
        if not name:
            errs.append(_("missing name"))
        if email and not EMAIL_RE.match(email):
            errs.append(_("bad email '%s'", email))
        enroll, ok = self._date(row.get("enrollment_date"))
        if not ok:
            errs.append(
                _(
                    "bad enrollment date '%s' (expected YYYY-MM-DD)",
                    _shown(row.get("enrollment_date")),
                )
            )
        birthday, ok = self._date(row.get("birthday"))
        if not ok:
            errs.append(
                _(
                    "bad birthday '%s' (expected YYYY-MM-DD)",
                    _shown(row.get("birthday")),
                )
            )
        for fname, value in (("enrollment_date", enroll), ("birthday", birthday)):
            if value and not MIN_DATE <= value <= today:
                errs.append(self._date_range_error(fname, value, today))
        country = self._str(row.get("country_code")).upper()
        if country and country not in countries:
            errs.append(_("unknown country code '%s'", country))
        if rtype == "distributor":
            errs += self._validate_sponsorship(
                rownum, code, sponsor_code, existing, file_codes
            )
        if (
            referrer_code
            and referrer_code not in existing
            and referrer_code not in file_codes
        ):
            errs.append(_("unknown referrer '%s'", referrer_code))
        return errs, {
            "row": rownum,
            "type": rtype,
            "name": name,
            "code": code,
            "sponsor_code": sponsor_code,
            "referrer_code": referrer_code,
            "email": email,
            "phone": self._str(row.get("phone")),
            "street": self._str(row.get("street")),
            "city": self._str(row.get("city")),
            "zip": self._str(row.get("zip")),
            "country_id": countries.get(country) if country else False,
            "enrollment_date": enroll,
            "birthday": birthday,
        }

    def _validate_sponsorship(self, rownum, code, sponsor_code, existing, file_codes):
        """Code uniqueness and sponsor checks of a distributor row."""
        errs = []
        if code and code in existing:
            errs.append(
                _(
                    "duplicate code '%s': a distributor with this code already exists",
                    code,
                )
            )
        elif code and len(file_codes.get(code, [])) > 1:
            others = [str(n) for n in file_codes[code] if n != rownum]
            errs.append(
                _(
                    "duplicate code '%(code)s' (also on row %(rows)s)",
                    code=code,
                    rows=", ".join(others),
                )
            )
        if not sponsor_code:
            return errs
        if sponsor_code == code:
            errs.append(_("sponsor loop: the distributor sponsors themself"))
        elif sponsor_code not in existing and sponsor_code not in file_codes:
            errs.append(_("unknown sponsor '%s'", sponsor_code))
        elif existing.get(sponsor_code, (None, None))[1] == "terminated":
            errs.append(_("sponsor '%s' is terminated", sponsor_code))
        return errs

    def _validate(self, rows):
        company = self.company_id
        errors = []
        parsed = []
        file_codes = {}
        # first: no unreadable value goes further (PostgreSQL refuses NUL, for one)
        cell_errors = self._cell_errors(rows)
        for rownum, row in rows:
            code = self._str(row.get("code"))
            rtype = (self._str(row.get("type")) or "distributor").lower()
            if rtype == "distributor" and code:
                file_codes.setdefault(code, []).append(rownum)
        wanted = set(file_codes)
        wanted |= {self._str(r.get("sponsor_code")) for _n, r in rows} | {
            self._str(r.get("referrer_code")) for _n, r in rows
        }
        wanted.discard("")
        existing = {}
        if wanted:
            for code, did, state in self.env.execute_query(
                SQL(
                    "SELECT code, id, state FROM ds_distributor WHERE company_id = %s AND code = ANY(%s)",
                    company.id,
                    list(wanted),
                )
            ):
                existing[code] = (did, state)
        countries = {c.code.upper(): c.id for c in self.env["res.country"].search([])}
        today = fields.Date.context_today(self)
        for rownum, row in rows:
            errs, vals = self._validate_row(
                rownum, row, existing, file_codes, countries, today=today
            )
            errs = cell_errors.get(rownum, []) + errs
            if errs:
                errors.append((rownum, errs))
            parsed.append(vals)
        # sponsor loops inside the file (iterative walk, no recursion)
        sponsor_of = {
            p["code"]: p["sponsor_code"]
            for p in parsed
            if p["type"] == "distributor"
            and p["code"]
            and len(file_codes.get(p["code"], [])) == 1
        }
        state = {}  # code -> 1 visiting, 2 done (no loop), 3 in loop
        for start in sponsor_of:
            if start in state:
                continue
            path, seen = [], {}
            node = start
            while node in sponsor_of and node not in state and node not in seen:
                seen[node] = len(path)
                path.append(node)
                node = sponsor_of[node]
            if node in seen:  # cycle found: path[seen[node]:]
                cycle = path[seen[node] :]
                for c in cycle:
                    state[c] = 3
                for c in path[: seen[node]]:
                    state[c] = 2
            else:
                for c in path:
                    state[c] = 2
        loop_rows = {
            p["row"]: p
            for p in parsed
            if state.get(p["code"]) == 3
            and p["type"] == "distributor"
            and p["sponsor_code"] != p["code"]
        }
        if loop_rows:
            by_row = dict(errors)
            for rownum, p in loop_rows.items():
                by_row.setdefault(rownum, []).append(
                    _(
                        "sponsor loop: '%(code)s' is in the downline of its sponsor '%(sponsor)s'",
                        code=p["code"],
                        sponsor=p["sponsor_code"],
                    )
                )
            errors = sorted(by_row.items())
        return parsed, errors, existing

    # ------------------------------------------------------------------ import
    def action_import(self):
        self.ensure_one()
        rows = self._read_rows()
        parsed, errors, existing = self._validate(rows)
        if errors:
            lines = []
            for n, errs in errors:
                lines.append(
                    self.env._(
                        "Row %(row)s: %(reasons)s", row=n, reasons="; ".join(errs)
                    )
                )
            raise UserError(
                _(
                    "Nothing was imported: %(count)s bad row(s).\n%(lines)s",
                    count=len(errors),
                    lines="\n".join(lines),
                )
            )
        company = self.company_id
        ctx = dict(
            self.env.context,
            tracking_disable=True,
            mail_create_nolog=True,
            mail_notrack=True,
            mail_create_nosubscribe=True,
        )
        Distributor = (
            self.env["ds.distributor"].with_company(company).with_context(**ctx)
        )
        Partner = self.env["res.partner"].with_context(**ctx)
        dist_rows = [p for p in parsed if p["type"] == "distributor"]
        cust_rows = [p for p in parsed if p["type"] == "customer"]
        code_to_id = {code: v[0] for code, v in existing.items()}
        new_ids = []
        pending_sponsor = []
        for start in range(0, len(dist_rows), BATCH):
            chunk = dist_rows[start : start + BATCH]
            vals_list = []
            for p in chunk:
                vals = self._contact_vals(p, company)
                if p["code"]:
                    vals["code"] = p["code"]
                if p["enrollment_date"]:
                    vals["enrollment_date"] = p["enrollment_date"]
                if p["sponsor_code"] in existing:
                    vals["sponsor_id"] = existing[p["sponsor_code"]][0]
                vals_list.append(vals)
            records = Distributor._ds_create_sql(vals_list, update_paths=False)
            for p, rec in zip(chunk, records, strict=True):
                new_ids.append(rec.id)
                code_to_id[rec.code] = rec.id
                if p["code"]:
                    code_to_id[p["code"]] = rec.id
                if p["sponsor_code"] and p["sponsor_code"] not in existing:
                    pending_sponsor.append((rec.id, p["sponsor_code"]))
        if pending_sponsor:
            Distributor.flush_model()
            pairs = [(did, code_to_id[code]) for did, code in pending_sponsor]
            for start in range(0, len(pairs), 10000):
                chunk = pairs[start : start + 10000]
                self.env.cr.execute(
                    SQL(
                        """
                    UPDATE ds_distributor d SET sponsor_id = v.sponsor
                      FROM (SELECT unnest(%s::int[]) AS id, unnest(%s::int[]) AS sponsor) v
                     WHERE v.id = d.id
                    """,
                        [c[0] for c in chunk],
                        [c[1] for c in chunk],
                    )
                )
            Distributor.invalidate_model(["sponsor_id", "frontline_ids"])
        Distributor._ds_update_paths(new_ids)
        customers = Partner.browse()
        for start in range(0, len(cust_rows), BATCH):
            chunk = cust_rows[start : start + BATCH]
            customers |= Partner.create(
                [
                    dict(
                        self._contact_vals(p, company),
                        ds_referrer_id=code_to_id.get(p["referrer_code"]) or False,
                        customer_rank=1,
                    )
                    for p in chunk
                ]
            )
        self.result = _(
            "%(d)s distributor(s) and %(c)s customer(s) imported.",
            d=len(new_ids),
            c=len(customers),
        )
        _logger.info("ds.distributor.import: %s", self.result)
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
