# ruff: noqa: I001
from . import test_campaign_assignment
from . import test_campaign_channels
from . import test_campaign_measure
from . import test_derived_tables
from . import test_reports
from . import test_rfm_segment
from . import test_segment_messaging
