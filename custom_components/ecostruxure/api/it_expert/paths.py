"""Where the EcoStruxure IT Expert API lives: every path template and header, in one place.

The base URL, the organization, inventory, alarm and measurement paths are those of Schneider
Electric's public samples; the sensor paths are inferred by analogy (see
docs/it-expert-contract.md). The simulator routes on these very strings.
"""

from typing import Final

DEFAULT_BASE_URL: Final = "https://api.ecostruxureit.com/rest/v1"

ORGANIZATIONS: Final = "/organizations"
INVENTORY: Final = "/organizations/{organization_id}/inventory"
INVENTORY_CHANGES: Final = "/organizations/{organization_id}/inventory-changes/{offset}"
DEVICE: Final = "/organizations/{organization_id}/inventory/{device_id}"
ALARMS: Final = "/organizations/{organization_id}/alarms"
ALARM_CHANGES: Final = "/organizations/{organization_id}/alarm-changes/{offset}"
SENSORS: Final = "/organizations/{organization_id}/sensors"
SENSOR_CHANGES: Final = "/organizations/{organization_id}/sensor-changes/{offset}"
LIVE_MEASUREMENTS: Final = "/organizations/{organization_id}/measurements/live"
SIMULATED_LIVE_MEASUREMENTS: Final = "/organizations/{organization_id}/measurements/live-simulator"
REPLAY_MEASUREMENTS: Final = "/organizations/{organization_id}/measurements/replay"

HEADER_AUTHORIZATION: Final = "Authorization"
AUTHORIZATION_SCHEME: Final = "bearer"

# Changes are kept about a day: an older offset silently misses changes, so a full list
# is taken instead.
CHANGES_RETENTION_HOURS: Final = 24
