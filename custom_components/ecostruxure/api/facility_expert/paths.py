"""Where the Facility Expert Data API lives: the inferred part of the contract, in one place.

The vendor documents the two auth headers, the RFC 7807 errors and the connection limit; it
does not publish the base URL, the paths or the parameters. They are modelled on Schneider
Electric's sibling APIs (see docs/facility-expert-contract.md). A correction is a one-line change
here: the client and the simulator both read these templates.
"""

from typing import Final

DEFAULT_BASE_URL: Final = "https://api.exchange.se.com/ecostruxure/facility-expert/v1"

# Path templates, relative to the base URL. The `{site_id}` placeholders are also valid
# aiohttp route patterns, so the simulator routes on these very strings.
SITES: Final = "/sites"
SITE: Final = "/sites/{site_id}"
ASSETS: Final = "/sites/{site_id}/assets"
LATEST_VALUES: Final = "/sites/{site_id}/measurements/latest"
TIME_SERIES: Final = "/sites/{site_id}/timeseries"
ALARMS: Final = "/sites/{site_id}/alarms"

# Documented by the vendor.
HEADER_SUBSCRIPTION_KEY: Final = "Authorization"
HEADER_TECHNICAL_TOKEN: Final = "apikey"
MAX_SIMULTANEOUS_CONNECTIONS: Final = 10

# Inferred limits.
PAGE_LIMIT_DEFAULT: Final = 50
PAGE_LIMIT_MAX: Final = 200
TIME_SERIES_MAX_MEASUREMENTS: Final = 20
TIME_SERIES_INTERVALS: Final = ("raw", "15min", "hour", "day")
ALARM_STATUSES: Final = ("active", "cleared", "all")
