# ruff: noqa: I001
from . import ds_report_pareto
from . import ds_report_churn
from . import ds_report_cohort
from . import ds_report_campaign_response
from . import ds_report_income
