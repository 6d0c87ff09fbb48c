"""Constants of the EcoStruxure integration."""

from typing import Final

DOMAIN: Final = "ecostruxure"

CONF_SUBSCRIPTION_KEY: Final = "subscription_key"
CONF_TECHNICAL_TOKEN: Final = "technical_token"
CONF_BASE_URL: Final = "base_url"
CONF_ADVANCED: Final = "advanced"
