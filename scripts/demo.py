"""The main job: real Home Assistant 2026.11 with the integration, on the simulator.

`scripts/demo` runs this with the development environment's Python. It keeps everything under
`.demo/` (ignored by git): a virtual environment with Home Assistant 2026.11.0 and its
frontend, and a configuration directory that is onboarded, has a demo user, links this
repository's integration, holds a config entry for the simulator and a dashboard. The browser
test drives the same pieces (`HomeAssistantDemo`) in a temporary directory.
"""

import argparse
import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
from typing import Any

import aiohttp

from simulator import ITExpertConfig, Simulator, SimulatorConfig, SimulatorServer

ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = ROOT / ".demo"
HA_VERSION = "2026.11.0"
USERNAME = "demo"
PASSWORD = "ecostruxure-demo"  # a local demo account on loopback, printed to the user
CLIENT_ID = "http://127.0.0.1/"
# The integrations the demo configuration loads, besides ours (no default_config: it would pull
# in discovery, cloud and media integrations a demo of this one does not need).
INTEGRATIONS = ("frontend", "config", "energy", "history", "logbook", "recorder", "person")
# Home Assistant imports these to describe services to the frontend, loaded or not
# (helpers/service.py, _base_components): their requirements must be there too.
IMPORTED_BY_CORE = (
    "ai_task",
    "alarm_control_panel",
    "assist_satellite",
    "calendar",
    "camera",
    "climate",
    "cover",
    "fan",
    "humidifier",
    "light",
    "lock",
    "media_player",
    "notify",
    "remote",
    "siren",
    "todo",
    "update",
    "vacuum",
    "water_heater",
)

CONFIGURATION = """\
# Written by scripts/demo.
homeassistant:
  name: EcoStruxure demo
  unit_system: metric
  time_zone: Europe/Paris
  currency: EUR
  country: FR
  language: en
logger:
  default: warning
  logs:
    custom_components.ecostruxure: info
{integrations}
"""


def say(message: str) -> None:
    """Print a line of the demo's progress."""
    print(f"demo: {message}", flush=True)


def demo_python() -> Path:
    """The Python of the demo's own environment."""
    return DEMO_DIR / "venv" / "bin" / "python"


def ensure_environment() -> Path:
    """Create the Home Assistant 2026.11.0 environment once; seconds when it exists."""
    python = demo_python()
    stamp = DEMO_DIR / "venv" / ".demo-stamp"
    wanted = f"homeassistant=={HA_VERSION} {' '.join(INTEGRATIONS + IMPORTED_BY_CORE)}"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    uv = Path(sys.executable).with_name("uv")  # Home Assistant depends on uv: it is here
    base_python = str(getattr(sys, "_base_executable", sys.executable))
    say(f"installing Home Assistant {HA_VERSION} into {python.parent.parent}")
    subprocess.run(
        [uv, "venv", "-q", "--allow-existing", "--python", base_python, DEMO_DIR / "venv"],
        check=True,
    )
    install: list[str | Path] = [uv, "pip", "install", "-q", "--python", python]
    subprocess.run([*install, f"homeassistant=={HA_VERSION}"], check=True)
    # Install what the demo's integrations need now, not at Home Assistant's first start.
    requirements = subprocess.run(
        [python, "-c", _REQUIREMENTS_OF, *INTEGRATIONS, *IMPORTED_BY_CORE],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    # A few have no wheel for Python 3.14 yet and compile: point the compiler at the headers
    # of the interpreter (the Debian layout keeps pyconfig.h under an arch directory).
    include = Path(base_python).resolve().parent.parent / "include"
    env = {**os.environ, "CPATH": f"{include}:{os.environ.get('CPATH', '')}".rstrip(":")}
    subprocess.run([*install, *requirements], check=True, env=env)
    stamp.write_text(wanted)
    return python


# Run by the demo's Python: the requirements of integrations and of their dependencies.
_REQUIREMENTS_OF = """
import json, sys
from pathlib import Path
import homeassistant.components as components
base, seen, found = Path(components.__file__).parent, set(), set()
def visit(domain):
    if domain in seen or not (base / domain / "manifest.json").exists():
        return
    seen.add(domain)
    manifest = json.loads((base / domain / "manifest.json").read_text())
    found.update(manifest.get("requirements", []))
    for other in manifest.get("dependencies", []) + manifest.get("after_dependencies", []):
        visit(other)
for domain in sys.argv[1:]:
    visit(domain)
print(" ".join(sorted(found)))
"""


def prepare_config(config_dir: Path, port: int) -> None:
    """Write configuration.yaml and link this repository's integration."""
    config_dir.mkdir(parents=True, exist_ok=True)
    integrations = "\n".join(f"{name}:" for name in INTEGRATIONS)
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION.format(port=port, integrations=integrations)
    )
    # Home Assistant 2026.11 keeps the HTTP settings in storage (YAML is migrated, then must be
    # confirmed in the UI): write them there as the confirmed ("stable") configuration.
    storage = config_dir / ".storage"
    storage.mkdir(exist_ok=True)
    (storage / "http").write_text(
        json.dumps(
            {
                "version": 3,
                "minor_version": 1,
                "key": "http",
                "data": {
                    "stable": {
                        "server_port": port,
                        "server_host": ["127.0.0.1"],
                        "cors_allowed_origins": [],
                        "login_attempts_threshold": -1,
                        "ip_ban_enabled": True,
                        "ssl_profile": "intermediate_v6",
                        "use_x_frame_options": True,
                        "created_at": "2026-11-01T00:00:00+00:00",
                        "error": None,
                        "error_message": None,
                    },
                    "pending": None,
                    "yaml_migration_done": True,
                },
            },
            indent=2,
        )
    )
    custom = config_dir / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / "ecostruxure"
    if not link.is_symlink():
        if link.exists():
            shutil.rmtree(link)
        link.symlink_to(ROOT / "custom_components" / "ecostruxure", target_is_directory=True)


@dataclass
class HomeAssistantDemo:
    """A `hass` process on loopback, and what it takes to set it up over its API."""

    config_dir: Path
    port: int
    python: Path = field(default_factory=demo_python)
    process: subprocess.Popen[bytes] | None = None
    token: str | None = None

    @property
    def url(self) -> str:
        """Where the frontend is."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        """Home Assistant's log of this run."""
        return self.config_dir / "home-assistant.log"

    def start(self) -> None:
        """Start `hass` in its own process group (so that stopping it stops all of it)."""
        self.process = subprocess.Popen(
            [
                self.python,
                "-m",
                "homeassistant",
                "--config",
                self.config_dir,
                "--log-file",
                self.log_file,
                "--log-no-color",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        """Stop `hass` cleanly (SIGTERM, then SIGKILL after 60 s); nothing keeps running."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    async def wait_ready(self, session: aiohttp.ClientSession, within: float = 300) -> None:
        """Wait until the HTTP server answers (the first start installs nothing: see setup)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"hass exited early; see {self.log_file}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{self.url}/manifest.json") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(1)
        raise TimeoutError(f"Home Assistant did not start within {within:.0f} s")

    async def onboard(self, session: aiohttp.ClientSession) -> None:
        """Create the demo user and finish onboarding, as the first-run wizard would."""
        async with session.get(f"{self.url}/api/onboarding") as response:
            if response.status == 404:  # onboarding finished: its views are gone
                return
            done = {step["step"] for step in await response.json() if step["done"]}
        if "user" not in done:
            async with session.post(
                f"{self.url}/api/onboarding/users",
                json={
                    "client_id": CLIENT_ID,
                    "name": "Demo",
                    "username": USERNAME,
                    "password": PASSWORD,
                    "language": "en",
                },
            ) as response:
                response.raise_for_status()
                code = (await response.json())["auth_code"]
            self.token = await self._token(
                session, {"grant_type": "authorization_code", "code": code}
            )
        headers = {"Authorization": f"Bearer {await self.login(session)}"}
        for step, body in (
            ("core_config", {}),
            ("analytics", {}),
            ("integration", {"client_id": CLIENT_ID, "redirect_uri": CLIENT_ID}),
        ):
            if step not in done:
                async with session.post(
                    f"{self.url}/api/onboarding/{step}", json=body, headers=headers
                ) as response:
                    response.raise_for_status()

    async def _token(self, session: aiohttp.ClientSession, grant: dict[str, str]) -> str:
        async with session.post(
            f"{self.url}/auth/token", data={**grant, "client_id": CLIENT_ID}
        ) as response:
            response.raise_for_status()
            return str((await response.json())["access_token"])

    async def login(self, session: aiohttp.ClientSession) -> str:
        """An access token of the demo user (through the login flow, as the frontend does)."""
        if self.token:
            return self.token
        async with session.post(
            f"{self.url}/auth/login_flow",
            json={
                "client_id": CLIENT_ID,
                "handler": ["homeassistant", None],
                "redirect_uri": CLIENT_ID,
            },
        ) as response:
            flow = await response.json()
        async with session.post(
            f"{self.url}/auth/login_flow/{flow['flow_id']}",
            json={"client_id": CLIENT_ID, "username": USERNAME, "password": PASSWORD},
        ) as response:
            result = await response.json()
        self.token = await self._token(
            session, {"grant_type": "authorization_code", "code": result["result"]}
        )
        return self.token

    async def api(
        self, session: aiohttp.ClientSession, method: str, path: str, body: Any = None
    ) -> Any:
        """Call the REST API as the demo user."""
        headers = {"Authorization": f"Bearer {await self.login(session)}"}
        async with session.request(
            method, f"{self.url}/api/{path}", json=body, headers=headers
        ) as response:
            response.raise_for_status()
            return await response.json()

    async def websocket(
        self, session: aiohttp.ClientSession, *messages: dict[str, Any]
    ) -> list[Any]:
        """Send websocket commands as the demo user; return their results."""
        results = []
        async with session.ws_connect(f"{self.url}/api/websocket") as socket:
            await socket.receive_json()  # auth_required
            await socket.send_json({"type": "auth", "access_token": await self.login(session)})
            await socket.receive_json()  # auth_ok
            for number, message in enumerate(messages, start=1):
                await socket.send_json({"id": number, **message})
                while (answer := await socket.receive_json()).get("id") != number:
                    pass
                if not answer.get("success", False):
                    raise RuntimeError(f"{message['type']} failed: {answer.get('error')}")
                results.append(answer.get("result"))
        return results

    async def add_entry(
        self, session: aiohttp.ClientSession, simulator: SimulatorServer
    ) -> dict[str, Any]:
        """Add the integration for the simulator, through the config flow, with every site."""
        entries = await self.api(session, "GET", "config/config_entries/entry?domain=ecostruxure")
        # The entry remembers the simulator's address: another --simulator-port needs a new one.
        marker = self.config_dir / ".demo-simulator"
        if entries and marker.exists() and marker.read_text() == simulator.base_url:
            return dict(entries[0])
        for entry in entries:
            await self.api(session, "DELETE", f"config/config_entries/entry/{entry['entry_id']}")
        marker.write_text(simulator.base_url)
        flow = await self.api(
            session, "POST", "config/config_entries/flow", {"handler": "ecostruxure"}
        )
        # The flow starts with a menu of the two services.
        await self.api(
            session,
            "POST",
            f"config/config_entries/flow/{flow['flow_id']}",
            {"next_step_id": "facility_expert"},
        )
        step = await self.api(
            session,
            "POST",
            f"config/config_entries/flow/{flow['flow_id']}",
            {
                "subscription_key": simulator.simulator.subscription_key,
                "technical_token": simulator.simulator.technical_token,
                "advanced": {"base_url": simulator.base_url},
            },
        )
        if step.get("step_id") != "sites":
            raise RuntimeError(f"The config flow did not accept the simulator: {step}")
        done = await self.api(
            session,
            "POST",
            f"config/config_entries/flow/{flow['flow_id']}",
            {"sites": [site.id for site in simulator.simulator.sites]},
        )
        return dict(done["result"])

    async def add_it_expert_entry(
        self, session: aiohttp.ClientSession, simulator: SimulatorServer
    ) -> None:
        """Add an IT Expert entry for the simulator's partner key, with every organization."""
        entries = await self.api(session, "GET", "config/config_entries/entry?domain=ecostruxure")
        if len(entries) > 1:
            return  # kept from a previous run: add_entry removes both when the simulator moved
        it = simulator.simulator.it_expert
        flow = await self.api(
            session, "POST", "config/config_entries/flow", {"handler": "ecostruxure"}
        )
        flow_url = f"config/config_entries/flow/{flow['flow_id']}"
        await self.api(session, "POST", flow_url, {"next_step_id": "it_expert"})
        step = await self.api(
            session,
            "POST",
            flow_url,
            {
                "api_key": it.config.partner_all_key,
                "advanced": {"base_url": simulator.it_base_url},
            },
        )
        if step.get("step_id") != "organizations":
            raise RuntimeError(f"The IT Expert flow did not accept the simulator: {step}")
        await self.api(
            session, "POST", flow_url, {"organizations": [o.id for o in it.organizations]}
        )

    async def add_dashboard(self, session: aiohttp.ClientSession) -> str:
        """A dashboard of the simulated buildings; returns its path."""
        devices, entities, states, dashboards = await self.websocket(
            session,
            {"type": "config/device_registry/list"},
            {"type": "config/entity_registry/list"},
            {"type": "get_states"},
            {"type": "lovelace/dashboards/list"},
        )
        device_classes = {s["entity_id"]: s["attributes"].get("device_class") for s in states}
        config = build_dashboard(devices, entities, device_classes)
        messages: list[dict[str, Any]] = []
        if not any(board["url_path"] == "ecostruxure-demo" for board in dashboards):
            messages.append(
                {
                    "type": "lovelace/dashboards/create",
                    "url_path": "ecostruxure-demo",
                    "title": "Buildings",
                    "icon": "mdi:office-building",
                    "show_in_sidebar": True,
                    "require_admin": False,
                    "mode": "storage",
                }
            )
        messages.append(
            {"type": "lovelace/config/save", "url_path": "ecostruxure-demo", "config": config}
        )
        await self.websocket(session, *messages)
        return "ecostruxure-demo"


def build_dashboard(
    devices: list[dict[str, Any]],
    entities: list[dict[str, Any]],
    device_classes: dict[str, str | None],
) -> Any:
    """A sections dashboard per site: alarms, energy and power per feeder, comfort per room."""
    ours = [e for e in entities if e["platform"] == "ecostruxure" and not e["disabled_by"]]
    by_device: dict[str, list[dict[str, Any]]] = {}
    for entity in ours:
        by_device.setdefault(entity["device_id"], []).append(entity)
    device_by_id = {d["id"]: d for d in devices}
    sites = [d for d in devices if d["model"] == "Site" and d["id"] in by_device]

    def site_of(device: dict[str, Any]) -> str | None:
        seen = set()
        while device and device["id"] not in seen:
            seen.add(device["id"])
            if device["model"] == "Site":
                return str(device["id"])
            device = device_by_id.get(device["via_device_id"] or "", {})
        return None

    def pick(device_id: str, key: str) -> list[str]:
        return [
            e["entity_id"]
            for e in by_device.get(device_id, [])
            if e["translation_key"] == key or e["entity_id"].split(".")[0] == key
        ]

    views = []
    for site in sites:
        members = [d for d in devices if site_of(d) == site["id"] and d["id"] in by_device]
        alarms = [
            e["entity_id"]
            for d in members
            for e in by_device[d["id"]]
            if e["entity_id"].startswith("binary_sensor.")
            and e["translation_key"] not in {None, "site_problem"}
        ]
        site_entities = by_device[site["id"]]
        overview = [e["entity_id"] for e in site_entities]
        energy_cards, comfort_cards = [], []
        for device in members:
            names = {e["translation_key"]: e["entity_id"] for e in by_device[device["id"]]}
            if "active_energy" in names:
                power = [
                    e["entity_id"]
                    for e in by_device[device["id"]]
                    if e["translation_key"] == "active_power"
                ]
                energy_cards.append(
                    {"type": "tile", "entity": names["active_energy"], "name": device["name"]}
                )
                if power:
                    energy_cards.append(
                        {"type": "tile", "entity": power[0], "name": device["name"]}
                    )
            comfort = [
                e["entity_id"]
                for e in by_device[device["id"]]
                if e["entity_id"].startswith("sensor.")
                and device_classes.get(e["entity_id"])
                in {"temperature", "humidity", "carbon_dioxide"}
                and e["translation_key"] is None
            ]
            if comfort:
                comfort_cards.append(
                    {"type": "entities", "title": device["name"], "entities": comfort}
                )
        views.append(
            {
                "title": site["name"],
                "type": "sections",
                "sections": [
                    {"title": "Site", "cards": [{"type": "entities", "entities": overview}]},
                    {
                        "title": "Active alarms",
                        "cards": [
                            {
                                "type": "entity-filter",
                                "entities": alarms,
                                "conditions": [{"condition": "state", "state": "on"}],
                                "card": {"type": "entities", "title": "Active alarms"},
                                "show_empty": True,
                            }
                        ],
                    },
                    {"title": "Energy and power per feeder", "cards": energy_cards},
                    {"title": "Comfort per room", "cards": comfort_cards},
                ],
            }
        )
    return {"title": "Buildings", "views": views}


@contextlib.asynccontextmanager
async def running_simulator(config: SimulatorConfig, port: int) -> AsyncIterator[SimulatorServer]:
    """The simulator on loopback, running in real time."""
    async with SimulatorServer(Simulator(config), port=port) as server:
        yield server


async def run(args: argparse.Namespace) -> None:
    """Start everything, print where to look, and wait for Ctrl-C."""
    # Ctrl-C and `kill` stop the demo: Home Assistant goes down with it.
    # Explicit for SIGINT too: a process started in the background inherits it ignored.
    task = asyncio.current_task()
    if task is not None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, task.cancel)
    config_dir = DEMO_DIR / "config"
    if args.fresh and config_dir.exists():
        shutil.rmtree(config_dir)
    python = ensure_environment()
    prepare_config(config_dir, args.port)
    simulator_config = SimulatorConfig(
        sites=args.sites,
        assets_per_site=args.assets,
        alarms_per_site_per_hour=args.alarms,
        # IT Expert sensors report every 30 s rather than 5 min: values show up quickly.
        it_expert=ITExpertConfig(report_seconds=30),
    )
    async with (
        running_simulator(simulator_config, args.simulator_port) as simulator,
        aiohttp.ClientSession() as session,
    ):
        hass = HomeAssistantDemo(config_dir, args.port, python)
        say(f"simulator on {simulator.base_url}; starting Home Assistant {HA_VERSION}")
        hass.start()
        try:
            await hass.wait_ready(session)
            await hass.onboard(session)
            await hass.add_entry(session, simulator)
            await hass.add_it_expert_entry(session, simulator)
            dashboard = await hass.add_dashboard(session)
            print(
                f"\nHome Assistant {HA_VERSION} with EcoStruxure on the simulator:\n"
                f"  open      {hass.url}/{dashboard}\n"
                f"  user      {USERNAME}\n  password  {PASSWORD}\n"
                f"  simulator {simulator.control_url} (see docs/simulator.md)\n"
                f"  log       {hass.log_file}\n"
                "Stop with Ctrl-C: Home Assistant and the simulator stop with it.",
                flush=True,
            )
            if hass.process is not None:
                await asyncio.to_thread(hass.process.wait)
            say(f"Home Assistant stopped; see {hass.log_file}")
        finally:
            hass.stop()


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run until interrupted."""
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__)
    parser.add_argument("--sites", type=int, default=1, help="simulated sites (default 1)")
    parser.add_argument("--assets", type=int, default=12, help="assets per site (default 12)")
    parser.add_argument(
        "--alarms", type=float, default=20, help="alarms a site raises per hour (default 20)"
    )
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant's port")
    parser.add_argument("--simulator-port", type=int, default=8765)
    parser.add_argument("--fresh", action="store_true", help="start from a new configuration")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(run(args))
    say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
