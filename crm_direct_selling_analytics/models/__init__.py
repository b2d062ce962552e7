# ruff: noqa: I001  (load order matters: the XLSX mixin before the models inheriting it)
from . import res_company
from . import res_config_settings
from . import ds_report_xlsx_mixin
from . import ds_partner_rfm
from . import ds_segment
from . import ds_segment_member
from . import ds_campaign
from . import ds_campaign_sequential
from . import ds_campaign_subgroup
from . import ds_campaign_member
from . import ds_rank
from . import res_partner
from . import mailing_mailing
from . import loyalty_program
from . import loyalty_card
from . import ds_campaign_mailing
from . import res_partner_mailing
