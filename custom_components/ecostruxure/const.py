"""Constants of the EcoStruxure integration."""

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "ecostruxure"
LOGGER: Final = logging.getLogger(__package__)
MANUFACTURER: Final = "Schneider Electric"

# Which cloud an entry reads. Entries made before IT Expert existed had none; async_migrate_entry
# writes it (config entry 1.2).
CONF_SERVICE: Final = "service"
SERVICE_FACILITY_EXPERT: Final = "facility_expert"
SERVICE_IT_EXPERT: Final = "it_expert"

CONF_SUBSCRIPTION_KEY: Final = "subscription_key"
CONF_TECHNICAL_TOKEN: Final = "technical_token"
CONF_BASE_URL: Final = "base_url"
CONF_ADVANCED: Final = "advanced"
CONF_SITES: Final = "sites"
CONF_API_KEY: Final = "api_key"  # IT Expert
CONF_ORGANIZATIONS: Final = "organizations"  # IT Expert
CONF_SCAN_INTERVAL: Final = "scan_interval"
CONF_HISTORY_DAYS: Final = "history_days"
CONF_MEASUREMENT_STATISTICS: Final = "measurement_statistics"

DEFAULT_SCAN_INTERVAL: Final = 60
MIN_SCAN_INTERVAL: Final = 30
MAX_SCAN_INTERVAL: Final = 3600
# Days of energy history imported on first setup (and by the import action), at most.
DEFAULT_HISTORY_DAYS: Final = 30
MAX_HISTORY_DAYS: Final = 365
# The asset tree changes when someone edits the site in Facility Expert: rarely.
TOPOLOGY_REFRESH_INTERVAL: Final = timedelta(hours=6)
# A site whose newest value is older than this is shown as disconnected.
STALE_AFTER: Final = timedelta(hours=1)
# The alarm request of a cycle starts a little before the previous one, for clock skew.
ALARM_WINDOW_MARGIN: Final = timedelta(minutes=5)
MAX_ALARM_WINDOW: Final = timedelta(days=1)

# The event types of the alarm event entities, both services.
ALARM_RAISED: Final = "alarm_raised"
ALARM_CLEARED: Final = "alarm_cleared"

# IT Expert entries are named by their first organization; their unique id carries the service
# so that it can never meet a Facility Expert site id.
IT_UNIQUE_ID: Final = "it_expert:{}"

# Facility Expert operations the service may disable for an account (503 ComplianceRelated).
OPERATIONS: Final = ("latest_values", "alarms")
# A disabled operation is asked again this often, until it works.
OPERATION_DISABLED_RETRY: Final = timedelta(hours=1)


def operation_disabled_issue_id(entry_id: str, operation: str) -> str:
    """The repair issue of a disabled operation: per entry, since accounts differ."""
    return f"operation_disabled_{operation}_{entry_id}"
