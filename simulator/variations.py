"""Contract variations: answers that differ from the simulator's usual ones, and are still valid.

The simulator's default answers are exactly what our parsers expect, which is how bugs that
only a different (conforming) service shows can hide. Each knob of `Variations` makes it answer
in another way the contracts allow (docs/facility-expert-contract.md,
docs/it-expert-contract.md and the parsers' own promises): pages smaller than asked, lists bare
or wrapped, optional fields null or missing, unknown enum values, odd ids, timestamps in other
offsets, fields in another order, IT sensors without a `type`. Knobs are chosen per test, by
name, or seeded at random; `python -m simulator --variations SPEC` takes the same names.

Most knobs rewrite a JSON answer after the handler made it (`Variations.rewrite`), so the data
stay those of the seed; page caps and odd ids change how the answers are made.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta, timezone
import os
import random
import re
from typing import Final

from .building import Json
from .signals import unit_interval

# Optional fields per the contract and the parsers, by API: may be null or missing. Fields that
# carry the data's structure (parentId, gatewayId, deviceId) or that things are named by
# (site and asset names, IT labels) stay: without them the answer is valid but says other things.
FE_OPTIONAL_FIELDS: Final = frozenset(
    {
        "address",
        "latitude",
        "longitude",
        "lastCommunication",
        "siteCategory",
        "serialNumber",
        "firmwareVersion",
        "functionalName",
        "manufacturer",
        "model",
        "commercialReference",
        "phase",
        "context",
        "siteId",
        "severity",
        "label",
        "message",
        "acknowledged",
        "timeZone",
        "connectionStatus",
        "unit",
    }
)
IT_OPTIONAL_FIELDS: Final = frozenset(
    {"address", "modelName", "serialNumber", "message", "locationId"}
)
# Enum values no client knows today (the sets are open).
UNKNOWN_ASSET_TYPE: Final = "hydrogen_fuel_cell"
UNKNOWN_QUANTITY: Final = "irradiance"
UNKNOWN_ALARM_TYPE: Final = "hydrogen_leak"
UNKNOWN_SEVERITY: Final = "catastrophic"
UNKNOWN_IT_SENSOR_TYPE: Final = "FLUX_DENSITY"
# Offsets timestamps are written in under `mixed_offsets`: the same instants, other clocks.
_OFFSETS: Final = tuple(
    timezone(timedelta(minutes=m)) for m in (0, 330, -180, 840, -570, 60, 345, -720)
)
_TIMESTAMP: Final = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$", re.ASCII
)
# Characters an opaque id may hold that a careless client would break on.
ODD_ID_CHARACTERS: Final = "/+=:?ü"


@dataclass(frozen=True, slots=True)
class Variations:
    """How the simulator's answers differ from its defaults (all off: the defaults)."""

    page_cap: int | None = None  # at most this many items a page, whatever `limit` asks
    bare_lists: bool = False  # FE lists bare (no wrapper, no total); IT organizations wrapped
    nulls: bool = False  # optional fields null
    missing: bool = False  # optional fields left out
    unknown_enums: bool = False  # unknown asset type, quantity, alarm type, severity, IT type
    odd_ids: bool = False  # ids with / + = : ? and non-ASCII (IT: not the organizations')
    mixed_offsets: bool = False  # timestamps in varied UTC offsets (the same instants)
    shuffled_fields: bool = False  # object fields in another (seeded) order
    it_sensors_untyped: bool = False  # IT sensors without `type`
    seed: int = 0  # what shuffles fields and picks offsets

    def __post_init__(self) -> None:
        """Refuse a cap no service could have."""
        if self.page_cap is not None and self.page_cap < 1:
            raise ValueError("page_cap must be at least 1")

    @property
    def active(self) -> bool:
        """Whether any knob is on."""
        return self != Variations(seed=self.seed)

    @classmethod
    def random(cls, seed: int) -> Variations:
        """Each knob on or off at random, reproducibly from `seed`."""
        chooser = random.Random(f"variations:{seed}")
        flags = {
            f.name: chooser.random() < 0.5
            for f in fields(cls)
            if f.name not in ("page_cap", "seed")
        }
        cap = chooser.choice((None, 1, 2, 3, 7))
        return Variations(page_cap=cap, seed=seed, **flags)

    @classmethod
    def parse(cls, spec: str) -> Variations:
        """Variations from a comma-separated list of preset or knob names.

        `default`, `all`, `random:SEED`, any name of PRESETS, a knob name (dashes or
        underscores), `page-cap=N` and `seed=N`; later names add to earlier ones.
        """
        result = Variations()
        for raw in (part.strip() for part in spec.split(",")):
            if not raw:
                continue
            name, _, value = raw.partition("=")
            name = name.replace("_", "-").lower()
            if name.startswith("random:") or name == "random":
                result = Variations.random(int(name.partition(":")[2] or value or "0"))
                continue
            if name in PRESETS:
                result = _merge(result, PRESETS[name])
            elif name == "page-cap":
                result = replace(result, page_cap=int(value))
            elif name == "seed":
                result = replace(result, seed=int(value))
            elif name.replace("-", "_") in _FLAGS:
                result = replace(result, **{name.replace("-", "_"): True})
            else:
                known = ", ".join(sorted({*PRESETS, *(f.replace("_", "-") for f in _FLAGS)}))
                raise ValueError(f"Unknown variation {raw!r}; known: {known}, page-cap=N")
        return result

    # --- ids -------------------------------------------------------------------------------

    def site_id(self, plain: str) -> str:
        """A Facility Expert id as this variation writes it (the plain one unless odd_ids)."""
        return odd_id(plain) if self.odd_ids else plain

    # --- answers ----------------------------------------------------------------------------

    def rewrite(self, body: object, *, it: bool, operation: str) -> object:
        """The JSON answer of `operation` (a route name) as this variation sends it."""
        if it:
            if self.bare_lists and operation == "listOrganizations" and isinstance(body, list):
                body = {"organizations": [{"id": item} for item in body]}
            if self.it_sensors_untyped or self.unknown_enums:
                body = _walk(body, self._it_sensor)
            optional = IT_OPTIONAL_FIELDS
        else:
            if self.unknown_enums and operation == "list_alarms" and isinstance(body, dict):
                body = _walk(body, _unknown_severity)
            optional = FE_OPTIONAL_FIELDS
        if self.nulls or self.missing:
            body = _walk(body, lambda obj: self._optional(obj, optional))
        if self.mixed_offsets:
            body = self._offsets(body)
        if self.shuffled_fields:
            body = _walk(body, self._shuffle)
        if not it and self.bare_lists and isinstance(body, dict):
            # The contract allows a bare list for every list; the time series need the cursor.
            for key in ("sites", "assets", "values", "alarms"):
                if isinstance(body.get(key), list):
                    return body[key]
        return body

    def _optional(self, obj: dict[str, object], names: frozenset[str]) -> dict[str, object]:
        present = [name for name in obj if name in names]
        if self.missing and self.nulls:
            # Both: one field in two left out, the others null.
            return {
                k: (None if k in present else v)
                for i, (k, v) in enumerate(obj.items())
                if not (k in present and i % 2)
            }
        if self.missing:
            return {k: v for k, v in obj.items() if k not in present}
        return {k: (None if k in present else v) for k, v in obj.items()}

    def _it_sensor(self, obj: dict[str, object]) -> dict[str, object]:
        if "deviceId" not in obj or "valueType" not in obj:
            return obj  # not a sensor
        if self.it_sensors_untyped:
            return {k: v for k, v in obj.items() if k != "type"}
        return {**obj, "type": UNKNOWN_IT_SENSOR_TYPE}

    def _shuffle(self, obj: dict[str, object]) -> dict[str, object]:
        keys = sorted(obj)
        random.Random(f"{self.seed}:{','.join(keys)}").shuffle(keys)
        return {key: obj[key] for key in keys}

    def _offsets(self, value: object, seen: list[int] | None = None) -> object:
        # `seen` counts the timestamps so far: equal instants get different offsets too.
        seen = [0] if seen is None else seen
        if isinstance(value, dict):
            return {k: self._offsets(v, seen) for k, v in value.items()}
        if isinstance(value, list):
            return [self._offsets(v, seen) for v in value]
        if isinstance(value, str) and _TIMESTAMP.match(value):
            seen[0] += 1
            moment = datetime.fromisoformat(value)
            zone = _OFFSETS[int(unit_interval(self.seed, value, seen[0]) * len(_OFFSETS))]
            return moment.astimezone(zone).isoformat()
        return value


def odd_id(plain: str) -> str:
    """`plain` (a prefix, a dash, then at least 12 characters) spelled with odd characters."""
    prefix, _, rest = plain.partition("-")
    return f"{prefix}/{rest[:4]}+{rest[4:8]}={rest[8:]}:?{ODD_ID_CHARACTERS[-1]}"


def unknown_asset(site_id: str, parent_id: str | None, variations: Variations) -> Json:
    """An asset of a kind, quantity and alarm type no client knows, for `unknown_enums`."""
    return {
        "id": variations.site_id(f"as-unknown{site_id[-8:]}"),
        "name": "Pile à combustible",
        "type": UNKNOWN_ASSET_TYPE,
        "parentId": parent_id,
        "measurements": [
            {
                "id": unknown_measurement_id(site_id, variations),
                "name": "Irradiance",
                "quantity": UNKNOWN_QUANTITY,
                "unit": "W/m²",
            }
        ],
        "alarmTypes": [UNKNOWN_ALARM_TYPE],
    }


def unknown_measurement_id(site_id: str, variations: Variations) -> str:
    """The id of the unknown asset's measurement."""
    return variations.site_id(f"ms-unknown{site_id[-8:]}")


def _unknown_severity(obj: dict[str, object]) -> dict[str, object]:
    return {**obj, "severity": UNKNOWN_SEVERITY} if "activatedAt" in obj else obj


def _walk(value: object, change: Callable[[dict[str, object]], dict[str, object]]) -> object:
    """Apply `change` to every object of a JSON value, innermost first."""
    if isinstance(value, dict):
        return change({k: _walk(v, change) for k, v in value.items()})
    if isinstance(value, list):
        return [_walk(v, change) for v in value]
    return value


def _merge(first: Variations, second: Variations) -> Variations:
    changed = {
        f.name: getattr(second, f.name)
        for f in fields(Variations)
        if getattr(second, f.name) != getattr(Variations(), f.name)
    }
    return replace(first, **changed)


_FLAGS: Final = frozenset(f.name for f in fields(Variations) if f.name not in ("page_cap", "seed"))

PRESETS: Final[Mapping[str, Variations]] = {
    "default": Variations(),
    "small-pages": Variations(page_cap=2),
    "bare-lists": Variations(bare_lists=True),
    "nulls": Variations(nulls=True),
    "missing": Variations(missing=True),
    "unknown-enums": Variations(unknown_enums=True),
    "odd-ids": Variations(odd_ids=True),
    "mixed-offsets": Variations(mixed_offsets=True),
    "shuffled": Variations(shuffled_fields=True),
    "untyped-sensors": Variations(it_sensors_untyped=True),
    "all": Variations(
        page_cap=2,
        bare_lists=True,
        nulls=True,
        missing=True,
        unknown_enums=True,
        odd_ids=True,
        mixed_offsets=True,
        shuffled_fields=True,
        it_sensors_untyped=True,
    ),
}

# More random draws for the variation suites, on demand: SIMULATOR_VARIATIONS_SEEDS=5,17.
EXTRA_DRAWS: Final = [
    f"random:{int(seed)}"
    for seed in os.environ.get("SIMULATOR_VARIATIONS_SEEDS", "").split(",")
    if seed.strip()
]
