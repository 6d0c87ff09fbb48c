"""Trees of the services' objects, ordered for the device registry."""

from collections.abc import Callable, Iterable


def parents_first[T](
    items: Iterable[T], *, key: Callable[[T], str], parent: Callable[[T], str | None]
) -> list[T]:
    """`items` with every parent before its children (a device needs its parent's id).

    A parent that is not among `items` is ignored, and a loop in the data is cut where it
    closes, so any input gives every item exactly once.
    """
    by_key = {key(item): item for item in items}
    ordered: list[T] = []
    placed: set[str] = set()
    for start in by_key:
        chain: list[str] = []
        current: str | None = start
        while current is not None and current in by_key and current not in placed:
            if current in chain:
                break  # a loop: what is already in the chain is placed from here
            chain.append(current)
            current = parent(by_key[current])
        for item_key in reversed(chain):
            placed.add(item_key)
            ordered.append(by_key[item_key])
    return ordered
