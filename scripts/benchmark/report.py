"""The figures as Markdown tables, and the targets they are held against."""

from collections.abc import Sequence
from dataclasses import dataclass
import os
from pathlib import Path
import platform

from homeassistant import const as ha_const

from .measure import median
from .polling import VARIED_FRACTION, SizeFigures
from .stream import KEEPS_UP, StreamFigures

MIB = 1024
# Issue 16's polling targets, at the top size.
POLLING_BLOCK_MAX = 0.025
WALL_RATIO_MAX = 1.3
CPU_RATIO_MAX = 2


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, columns padded so that it also reads as plain text."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def machine() -> str:
    """CPU model, cores, memory, and the versions measured."""
    cpu = "unknown CPU"
    memory = 0
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    if cpuinfo.exists():
        for row in cpuinfo.read_text(encoding="utf-8").splitlines():
            if row.startswith("model name"):
                cpu = row.partition(":")[2].strip()
                break
    if meminfo.exists():
        for row in meminfo.read_text(encoding="utf-8").splitlines():
            if row.startswith("MemTotal:"):
                memory = int(row.split()[1])
                break
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory / MIB / MIB:.0f} GiB RAM; "
        f"Python {platform.python_version()}, Home Assistant {ha_const.__version__}"
    )


def _size(figures: SizeFigures) -> str:
    size = f"{figures.sites} × {figures.assets_per_site}"
    return f"{size}, {figures.latency * 1000:g} ms away" if figures.latency else size


def _ms(seconds: float) -> str:
    # A decimal for small figures: 0.4 ms and 4 ms are not the same "0".
    return f"{seconds * 1000:.1f}" if seconds < 0.01 else f"{seconds * 1000:.0f}"


def _block(loop: float, gc: float) -> str:
    """The longest block, and the longest garbage collection (part of some block)."""
    return f"{_ms(loop)} ({_ms(gc)})"


def _growth_per_entity(figures: SizeFigures) -> float:
    """KiB of resident memory per entity, setup against the baseline."""
    growth = figures.rss_after_setup_kib - figures.rss_baseline_kib
    return growth / max(figures.entities, 1)


def setup_table(sizes: Sequence[SizeFigures]) -> str:
    """Entities, setup time and memory per size."""
    rows = [
        [
            _size(f),
            " + ".join(map(str, f.entries)),
            f"{f.entities:,}" + ("" if f.entities == f.entities_expected else " (!)"),
            f"{f.setup_wall:.1f}",
            f"{f.setup_cpu:.1f}",
            _ms(f.setup_longest_callback),
            _block(f.setup_loop_block, f.setup_gc_pause),
            f"{f.rss_baseline_kib / MIB:.0f}",
            f"{f.rss_after_setup_kib / MIB:.0f}",
            f"{_growth_per_entity(f):.1f}",
            f"{f.rss_after_cycles_kib / MIB:.0f}",
            f"{f.peak_rss_kib / MIB:.0f}",
        ]
        for f in sizes
    ]
    return table(
        [
            "sites × assets",
            "sites per entry",
            "entities",
            "setup s",
            "setup CPU s",
            "setup longest callback ms",
            "setup longest block ms (GC)",
            "RSS before MiB",
            "RSS after setup MiB",
            "KiB / entity",
            "RSS after cycles MiB",
            "peak RSS MiB",
        ],
        rows,
    )


def cycle_table(sizes: Sequence[SizeFigures]) -> str:
    """Wall and CPU time of a cycle, against the bare client."""
    rows = []
    for f in sizes:
        wall = [c.wall for c in f.integration]
        cpu = [c.cpu for c in f.integration]
        bare_wall = [c.wall for c in f.bare]
        bare_cpu = [c.cpu for c in f.bare]
        rows.append(
            [
                _size(f),
                f"{_ms(median(wall))} / {_ms(max(wall, default=0))}",
                f"{_ms(median(cpu))} / {_ms(max(cpu, default=0))}",
                f"{_ms(median(bare_wall))} / {_ms(max(bare_wall, default=0))}",
                f"{_ms(median(bare_cpu))} / {_ms(max(bare_cpu, default=0))}",
                f"{_ratio(median(wall), median(bare_wall))}",
                f"{_ratio(median(cpu), median(bare_cpu))}",
                _ms(max((c.longest_callback for c in f.integration), default=0)),
                _block(
                    max((c.loop_block for c in f.integration), default=0),
                    max((c.gc_pause for c in f.integration), default=0),
                ),
            ]
        )
    return table(
        [
            "sites × assets",
            "wall ms (median / max)",
            "CPU ms",
            "bare wall ms",
            "bare CPU ms",
            "wall ratio",
            "CPU ratio",
            "longest callback ms",
            "longest block ms (GC)",
        ],
        rows,
    )


def http_table(sizes: Sequence[SizeFigures]) -> str:
    """Requests, bytes and state writes of a cycle."""
    rows = []
    for f in sizes:
        cycles = f.integration
        operations: dict[str, int] = {}
        for cycle in cycles:
            for name, count in cycle.by_operation.items():
                operations[name] = max(operations.get(name, 0), count)
        rows.append(
            [
                _size(f),
                f"{median([c.requests for c in cycles]):.0f} ({2 * f.sites})",
                ", ".join(f"{name} {count}" for name, count in sorted(operations.items())),
                f"{median([c.bytes_sent for c in cycles]) / 1024:.0f}",
                str(max((c.peak_in_flight for c in cycles), default=0)),
                str(sum(c.rejected_busy for c in cycles)),
                f"{median([c.changed_values for c in cycles]):.0f}",
                f"{median([c.changed_entities for c in cycles]):.0f}",
                f"{median([c.state_writes for c in cycles]):.0f}",
                f"{f.idle_state_writes} ({f.first_cycle_state_writes})",
            ]
        )
    return table(
        [
            "sites × assets",
            "requests (2 × sites)",
            "by operation (max)",
            "KiB sent",
            "peak in flight",
            "429s",
            f"values changed ({VARIED_FRACTION:.0%})",
            "of enabled entities",
            "state writes",
            "writes, nothing changed (1st cycle)",
        ],
        rows,
    )


def _suffixed(figures: SizeFigures) -> str:
    whole = figures.entity_ids
    share = f"{figures.suffixed_ids / whole:.0%}" if whole else "n/a"
    return f"{figures.suffixed_ids:,} ({share})"


def ids_table(sizes: Sequence[SizeFigures], before: Sequence[SizeFigures]) -> str:
    """Suffixed entity ids and setup cost per size: the site's name first, and HA's own rule."""
    by_size = {(f.sites, f.assets_per_site): f for f in before}
    rows = []
    for f in sizes:
        old = by_size.get((f.sites, f.assets_per_site))
        rows.append(
            [
                _size(f),
                f"{f.entity_ids:,}",
                _suffixed(f),
                "—" if old is None else _suffixed(old),
                f"{f.setup_wall:.1f}" + ("" if old is None else f" / {old.setup_wall:.1f}"),
                f"{f.setup_cpu:.1f}" + ("" if old is None else f" / {old.setup_cpu:.1f}"),
            ]
        )
    return table(
        [
            "sites × assets",
            "entity ids",
            "suffixed, site's name first",
            "suffixed, Home Assistant's rule",
            "setup s (site's name / HA's rule)",
            "setup CPU s (site's name / HA's rule)",
        ],
        rows,
    )


def stream_table(stream: StreamFigures) -> str:
    """The rates tried, what was processed and what it cost."""
    rows = [
        [
            f"{r.offered:,}",
            f"{r.sent:,.0f}",
            f"{r.processed:,.0f}",
            f"{r.state_writes:,.0f}",
            f"{r.cpu_percent:.0f}",
            f"{r.simulator_cpu_percent:.0f}",
            _ms(r.longest_callback),
            _block(r.loop_block, r.gc_pause),
            str(r.drops),
            "yes" if r.keeps_up else "no",
        ]
        for r in stream.rates
    ]
    return table(
        [
            "offered /s",
            "sent /s",
            "processed /s",
            "state writes /s",
            "CPU % (HA process)",
            "CPU % (simulator)",
            "longest callback ms",
            "longest block ms (GC)",
            "drops",
            f"keeps up (≥ {KEEPS_UP:.0%})",
        ],
        rows,
    )


@dataclass(frozen=True, slots=True)
class Target:
    """A target, the figure measured, and whether it is met (None: not measured)."""

    name: str
    figure: str
    met: bool | None


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}" if reference else "n/a"


def targets(
    sizes: Sequence[SizeFigures],
    remote: SizeFigures | None,
    stream: StreamFigures | None,
    *,
    ids_before: Sequence[SizeFigures] = (),
) -> list[Target]:
    """The targets of issues #8 and #16, each with its figure.

    `sizes` are measured on loopback; `remote` (the top size with the service's latency)
    counts for the requests only: its times are the network's. `ids_before` are sizes set up
    with Home Assistant's own entity-id rule.
    """
    found: list[Target] = []
    counted = [*sizes, remote] if remote is not None else list(sizes)
    requests = [(f, [c.requests for c in f.integration]) for f in counted]
    found.append(
        Target(
            "HTTP requests per cycle exactly 2 × sites",
            "; ".join(
                f"{_size(f)}: {min(r, default=0)}–{max(r, default=0)} for {2 * f.sites}"
                for f, r in requests
            ),
            all(all(n == 2 * f.sites for n in r) for f, r in requests),
        )
    )
    found.extend(_cost_targets(sizes))
    proportional = []
    for f in sizes:
        writes = median([c.state_writes for c in f.integration])
        changed = median([c.changed_entities for c in f.integration])
        ok = abs(writes - changed) <= 0.1 * changed + 1 and f.idle_state_writes <= 0.01 * (
            f.entities
        )
        proportional.append((f, writes, changed, ok))
    found.append(
        Target(
            "state writes proportional to changed values, not to entities",
            "; ".join(
                f"{_size(f)}: {w:.0f} writes for {c:.0f} changed of {f.entities:,} "
                f"({f.idle_state_writes} when nothing changed)"
                for f, w, c, _ in proportional
            ),
            all(ok for *_, ok in proportional),
        )
    )
    if sizes:
        top = sizes[-1]
        pause = max((c.gc_pause for c in top.integration), default=0)
        for name, attribute, what, extra in (
            (
                "no event-loop block over 25 ms at the top size: polling, one callback",
                "longest_callback",
                "longest callback",
                "",
            ),
            (
                "the same, callbacks back to back (a due timer's wait)",
                "loop_block",
                "longest wait",
                "",
            ),
            (
                "polling, the integration's own work (callbacks no collection struck)",
                "longest_callback_no_gc",
                "longest",
                f"; longest garbage collection {_ms(pause)} ms",
            ),
        ):
            longest = max((getattr(c, attribute) for c in top.integration), default=0)
            found.append(
                Target(
                    name,
                    f"{_size(top)}: {what} {_ms(longest)} ms{extra}",
                    longest < POLLING_BLOCK_MAX,
                )
            )
        found.append(
            Target(
                "no event-loop block over 50 ms during setup at the top size",
                f"{_size(top)}: longest callback {_ms(top.setup_longest_callback)} ms, "
                f"wait {_ms(top.setup_loop_block)} ms; longest garbage collection "
                f"{_ms(top.setup_gc_pause)} ms",
                max(top.setup_longest_callback, top.setup_loop_block) <= 0.050,
            )
        )
        found.append(
            Target(
                "the same, the integration's own work (callbacks no collection struck)",
                f"{_size(top)}: longest {_ms(top.setup_longest_callback_no_gc)} ms",
                top.setup_longest_callback_no_gc <= 0.050,
            )
        )
        found.append(
            Target(
                "what one full garbage collection of the process costs (information)",
                f"Home Assistant alone: {_ms(top.full_gc_baseline)} ms for "
                f"{top.gc_objects_baseline:,} objects; after setup of {_size(top)}: "
                f"{_ms(top.full_gc_after_setup)} ms for {top.gc_objects_after_setup:,}",
                None,
            )
        )
        found.append(
            Target(
                "setup of the top size within 10 s",
                f"{_size(top)}: {top.setup_wall:.1f} s for {top.entities:,} entities",
                top.setup_wall <= 10,
            )
        )
        found.extend(_ids_targets(sizes, ids_before))
    found.append(_memory_target(sizes))
    found.append(_flat_memory_target(sizes))
    if stream is not None:
        kept = [r.offered for r in stream.rates if r.keeps_up]
        at_100 = next((r for r in stream.rates if r.offered == 100), None)
        found.append(
            Target(
                "IT Expert stream: measurements per second kept up with (information)",
                f"up to {max(kept, default=0):,}/s"
                + (f"; {at_100.cpu_percent:.1f} % CPU at 100/s" if at_100 is not None else ""),
                None,
            )
        )
        found.append(_stream_block_target(stream))
    return found


def _versus_bare(figures: SizeFigures, kind: str) -> float:
    """Integration over bare client, medians of the cycles; `kind` is wall or cpu."""
    ours = median([getattr(c, kind) for c in figures.integration])
    return ours / (median([getattr(c, kind) for c in figures.bare]) or 1e-9)


def _paired(figures: SizeFigures) -> str:
    """The CPU ratio cycle by cycle, each against the bare cycle run just before it.

    A shared machine's speed drifts over a run; a pair runs within a second, at one speed.
    """
    ratios = [
        ours.cpu / (bare.cpu or 1e-9)
        for ours, bare in zip(figures.integration, figures.bare, strict=True)
    ]
    if len(ratios) < 2:
        return ""
    return (
        f" (cycle by cycle against the bare cycle just before: median {median(ratios):.2f}, "
        f"{min(ratios):.2f}–{max(ratios):.2f})"
    )


def _cost_targets(sizes: Sequence[SizeFigures]) -> list[Target]:
    """Issue 16: at the top size, wall and CPU per cycle against the bare client; parsing."""
    if not sizes:
        return []
    top = sizes[-1]
    wall, cpu = _versus_bare(top, "wall"), _versus_bare(top, "cpu")
    others = "; ".join(
        f"{_size(f)}: {_versus_bare(f, 'wall'):.2f} wall, {_versus_bare(f, 'cpu'):.2f} CPU"
        for f in sizes[:-1]
    )
    smaller = f" (smaller: {others})" if others else ""
    parsing = top.parsing
    orjson = "no orjson" if parsing.orjson is None else f"orjson {_ms(parsing.orjson)} ms"
    return [
        Target(
            f"integration / bare wall time per cycle < {WALL_RATIO_MAX} at the top size",
            f"{_size(top)}: {wall:.2f}{smaller}",
            wall < WALL_RATIO_MAX,
        ),
        Target(
            f"integration / bare CPU time per cycle < {CPU_RATIO_MAX} at the top size",
            f"{_size(top)}: {cpu:.2f}{_paired(top)}",
            cpu < CPU_RATIO_MAX,
        ),
        Target(
            "decoding and parsing a cycle's latest values (information, CPU)",
            f"{_size(top)}: {parsing.values:,} values; decoding: json {_ms(parsing.json)} ms, "
            f"{orjson}; parsing into models {_ms(parsing.parse)} ms",
            None,
        ),
    ]


def _ids_targets(sizes: Sequence[SizeFigures], before: Sequence[SizeFigures]) -> list[Target]:
    """No suffixed entity id; what the site's name saved during setup (information)."""
    found = [
        Target(
            "no entity id needs a numeric suffix",
            "; ".join(
                f"{_size(f)}: {f.suffixed_ids:,} of {f.entity_ids:,}"
                + "".join(
                    f" ({old.suffixed_ids:,} with Home Assistant's rule)"
                    for old in before
                    if (old.sites, old.assets_per_site) == (f.sites, f.assets_per_site)
                )
                for f in sizes
            ),
            all(f.suffixed_ids == 0 for f in sizes),
        )
    ]
    top = sizes[-1]
    old = next(
        (f for f in before if (f.sites, f.assets_per_site) == (top.sites, top.assets_per_site)),
        None,
    )
    if old is not None:
        found.append(
            Target(
                "setup time the site's name in entity ids saved (information)",
                f"{_size(top)}: {old.setup_wall - top.setup_wall:.1f} s wall, "
                f"{old.setup_cpu - top.setup_cpu:.1f} s CPU "
                f"({old.setup_wall:.1f} → {top.setup_wall:.1f} s)",
                None,
            )
        )
    return found


# Issue #16: a fast stream must not stall Home Assistant.
STREAM_TARGET_RATE = 10_000
STREAM_TARGET_BLOCK = 0.025


def _stream_block_target(stream: StreamFigures) -> Target:
    """No block over 25 ms at 10,000 readings/s: callback, timer wait and GC pause."""
    name = (
        f"IT Expert stream at {STREAM_TARGET_RATE:,} readings/s: no block over "
        f"{_ms(STREAM_TARGET_BLOCK)} ms"
    )
    rate = next((r for r in stream.rates if r.offered == STREAM_TARGET_RATE), None)
    if rate is None:
        behind = next((r for r in stream.rates if not r.keeps_up), None)
        if behind is None:
            return Target(name, f"not measured (rates up to {STREAM_TARGET_RATE:,} needed)", None)
        return Target(name, f"fell behind at {behind.offered:,}/s", False)
    longest = max(rate.longest_callback, rate.loop_block, rate.gc_pause)
    return Target(
        name,
        f"longest callback {_ms(rate.longest_callback)} ms, wait {_ms(rate.loop_block)} ms, "
        f"GC {_ms(rate.gc_pause)} ms ({rate.young_collections} young, "
        f"{rate.full_collections} full collections in {rate.seconds:.0f} s)"
        + ("" if rate.keeps_up else "; fell behind"),
        longest <= STREAM_TARGET_BLOCK and rate.keeps_up,
    )


def _memory_target(sizes: Sequence[SizeFigures]) -> Target:
    """Linear: the two largest sizes cost the same per entity, within 25 %."""
    name = "memory growth linear in entities"
    if len(sizes) < 2:
        return Target(name, "needs two sizes", None)
    middle, top = sorted(sizes, key=lambda f: f.entities)[-2:]
    per_middle, per_top = _growth_per_entity(middle), _growth_per_entity(top)
    return Target(
        name,
        f"{per_middle:.1f} KiB/entity at {middle.entities:,} entities, "
        f"{per_top:.1f} at {top.entities:,} (within 25 %)",
        abs(per_top - per_middle) <= 0.25 * per_middle,
    )


def _flat_memory_target(sizes: Sequence[SizeFigures]) -> Target:
    """Flat over cycles: resident memory after the cycles within 5 % of after setup."""
    name = "memory flat over polling cycles (within 5 % of after setup)"
    if not sizes:
        return Target(name, "no size measured", None)
    growth = [
        (f, (f.rss_after_cycles_kib - f.rss_after_setup_kib) / max(f.rss_after_setup_kib, 1))
        for f in sizes
    ]
    return Target(
        name,
        "; ".join(
            f"{_size(f)}: {f.rss_after_setup_kib / MIB:.0f} → {f.rss_after_cycles_kib / MIB:.0f} "
            f"MiB ({share:+.1%}) over {len(f.integration)} cycles"
            for f, share in growth
        ),
        all(share <= 0.05 for _, share in growth),
    )


def targets_table(found: Sequence[Target]) -> str:
    """The targets as a table."""
    verdicts = {True: "met", False: "MISSED", None: "—"}
    return table(
        ["target", "measured", "result"],
        [[t.name, t.figure, verdicts[t.met]] for t in found],
    )
