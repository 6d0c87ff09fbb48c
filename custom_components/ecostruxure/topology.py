"""Trees of the services' objects, ordered for the device registry.

Both walks are linear in the number of items, whatever the depth of the tree: a service may
send a parent chain thousands deep, and a walk per item up to the root would be quadratic.
"""

from collections.abc import Callable, Iterable, Mapping


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
        in_chain: set[str] = set()  # the chain as a set: membership in constant time
        current: str | None = start
        while current is not None and current in by_key and current not in placed:
            if current in in_chain:
                break  # a loop: what is already in the chain is placed from here
            chain.append(current)
            in_chain.add(current)
            current = parent(by_key[current])
        for item_key in reversed(chain):
            placed.add(item_key)
            ordered.append(by_key[item_key])
    return ordered


def nearest_matching[T](
    by_key: Mapping[str, T], *, parent: Callable[[T], str | None], match: Callable[[T], bool]
) -> dict[str, str | None]:
    """For every key, the key of the nearest item that `match`es up its chain, or None.

    The chain starts with the item itself. Each item is visited once: a walk stops at the
    first item already answered, and the answer is handed down the walked chain. A loop in
    the data is cut where it closes.
    """
    nearest: dict[str, str | None] = {}
    for start in by_key:
        chain: list[str] = []
        in_chain: set[str] = set()
        found: str | None = None
        current: str | None = start
        while current is not None and current in by_key:
            if current in nearest:
                found = nearest[current]
                break
            if current in in_chain:
                break  # a loop without a match closes here
            if match(by_key[current]):
                found = current
                break
            chain.append(current)
            in_chain.add(current)
            current = parent(by_key[current])
        if found is not None and found not in nearest:
            nearest[found] = found
        for item_key in chain:
            nearest[item_key] = found
    return nearest
