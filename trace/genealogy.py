"""Lot genealogy: one step back, one step forward, the whole upstream tree, the journey.

Transformation events link input lots to output lots (TCVN 12850:2019, the GS1
Global Traceability Standard). The upstream closure is one recursive CTE, which
SQLite and PostgreSQL both run, so a lot with a thousand ancestors costs a few
queries rather than a thousand.

An event that a later event corrects no longer counts: the correction replaces
it, in the tree and in the journey alike.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased, lazyload, selectinload

from .models import Event, EventLot, Facility, Lot, LotRole

K = TypeVar("K", bound=Hashable)

# A lot's product, place and owner are few distinct rows shared by many lots:
# one SELECT each beats joining them onto every lot row of a deep genealogy.
_LOT_PARTS = (selectinload(Lot.product), selectinload(Lot.facility), selectinload(Lot.owner))
# Loader options for events shown with their lots (journey, export).
EVENT_PARTS = (
    selectinload(Event.lots).selectinload(EventLot.lot).options(*_LOT_PARTS),
    selectinload(Event.facility),
    selectinload(Event.organisation),
)

# Roles in which a lot is what an event is about, rather than consumed by it.
_SUBJECT_ROLES = (LotRole.OBJECT, LotRole.PARENT, LotRole.CHILD, LotRole.OUTPUT)


@dataclass(frozen=True, slots=True)
class LotLink:
    """A lot one transformation away, with the event and the quantity it moved."""

    lot: Lot
    event: Event
    quantity: Decimal | None
    unit: str | None


@dataclass(frozen=True, slots=True)
class LotInput:
    """One input of a lot in its upstream tree: what went in, through which event."""

    event: Event
    quantity: Decimal | None
    unit: str | None
    tree: LotTree


@dataclass(frozen=True, slots=True)
class LotTree:
    """A lot and, recursively, the lots it was made from.

    Lots shared by several branches (a diamond) are the same ``LotTree`` object,
    so the tree has one node per lot however the genealogy branches.
    """

    lot: Lot
    inputs: tuple[LotInput, ...]

    @property
    def is_raw(self) -> bool:
        """Made from nothing recorded here: harvested or bought in."""
        return not self.inputs

    def walk(self) -> Iterator[LotTree]:
        """Every lot of the tree once, this one first, depth first."""
        seen: set[int] = set()
        stack: list[LotTree] = [self]
        while stack:
            node = stack.pop()
            if node.lot.id in seen:
                continue
            seen.add(node.lot.id)
            yield node
            stack.extend(link.tree for link in reversed(node.inputs))

    @property
    def raw_materials(self) -> list[Lot]:
        """The leaves: raw-material lots, each with its facility (farm or area)."""
        return [node.lot for node in self.walk() if node.is_raw and node is not self]

    @property
    def facilities(self) -> list[Facility]:
        found: dict[int, Facility] = {}
        for node in self.walk():
            if node.lot.facility is not None:
                found.setdefault(node.lot.facility.id, node.lot.facility)
        return list(found.values())

    def __len__(self) -> int:
        return sum(1 for _ in self.walk())

    def to_json(self) -> dict[str, Any]:
        """Flat lots and edges: a thousand generations would not nest in JSON parsers."""
        lots: list[dict[str, Any]] = []
        edges: list[dict[str, Any]] = []
        for node in self.walk():
            lots.append(_lot_json(node.lot, raw=node.is_raw))
            edges.extend(
                {
                    "input": link.tree.lot.code,
                    "output": node.lot.code,
                    "event": link.event.event_id,
                    "quantity": _number(link.quantity),
                    "unit": link.unit,
                }
                for link in node.inputs
            )
        return {"lot": self.lot.code, "lots": lots, "edges": edges}


def _number(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _lot_json(lot: Lot, *, raw: bool) -> dict[str, Any]:
    facility = lot.facility
    return {
        "code": lot.code,
        "item": lot.description,
        "raw_material": raw,
        "facility": facility.code if facility else None,
        "facility_name": facility.name if facility else None,
        "facility_kind": facility.kind.value if facility else None,
        "planting_area_code": facility.planting_area_code if facility else None,
    }


def _not_corrected(event_id: Any) -> ColumnElement[bool]:
    correction = aliased(Event)
    return ~exists().where(correction.corrects_id == event_id)


def _transformation_pairs() -> tuple[type[EventLot], type[EventLot], Select[int, int]]:
    """(output link, input link, a SELECT joining them on one effective event)."""
    out, inp = aliased(EventLot), aliased(EventLot)
    pairs = (
        select(out.lot_id.label("output_id"), inp.lot_id.label("input_id"))
        .select_from(out)
        .join(inp, and_(inp.event_id == out.event_id, inp.role == LotRole.INPUT))
        .where(out.role == LotRole.OUTPUT, _not_corrected(out.event_id))
    )
    return out, inp, pairs


def upstream_ids_cte(lot_ids: Iterable[int]) -> Any:
    """A CTE of the given lots and every lot they were made from, transitively."""
    seeds = select(Lot.id.label("lot_id")).where(Lot.id.in_(list(lot_ids)))
    closure = seeds.cte("upstream", recursive=True)
    out, inp, pairs = _transformation_pairs()
    step = pairs.with_only_columns(inp.lot_id).join(closure, out.lot_id == closure.c.lot_id)
    # UNION, not UNION ALL: a lot reached twice is kept once, so diamonds stay cheap.
    return closure.union(step)


def downstream_ids_cte(lot_ids: Iterable[int]) -> Any:
    """A CTE of the given lots and every lot made from them, transitively."""
    seeds = select(Lot.id.label("lot_id")).where(Lot.id.in_(list(lot_ids)))
    closure = seeds.cte("downstream", recursive=True)
    out, inp, pairs = _transformation_pairs()
    step = pairs.with_only_columns(out.lot_id).join(closure, inp.lot_id == closure.c.lot_id)
    return closure.union(step)


def upstream_lot_ids(session: Session, lot: Lot) -> set[int]:
    """``lot`` and all its ancestors."""
    cte = upstream_ids_cte([lot.id])
    return set(session.scalars(select(cte.c.lot_id)))


def related_lot_ids(session: Session, lot: Lot) -> set[int]:
    """``lot``, its ancestors and its descendants."""
    up, down = upstream_ids_cte([lot.id]), downstream_ids_cte([lot.id])
    return set(session.scalars(select(up.c.lot_id).union(select(down.c.lot_id))))


def _links(session: Session, lot: Lot, *, back: bool) -> list[LotLink]:
    mine, other = aliased(EventLot), aliased(EventLot)
    mine_role, other_role = (
        (LotRole.OUTPUT, LotRole.INPUT) if back else (LotRole.INPUT, LotRole.OUTPUT)
    )
    rows = session.execute(
        select(other, Event)
        .join(mine, and_(mine.event_id == other.event_id, mine.role == mine_role))
        .join(Event, Event.id == other.event_id)
        .where(mine.lot_id == lot.id, other.role == other_role, _not_corrected(Event.id))
        .order_by(Event.event_time, Event.id, other.id)
    ).all()
    return [LotLink(link.lot, event, link.quantity, link.unit) for link, event in rows]


def one_step_back(session: Session, lot: Lot) -> list[LotLink]:
    """The lots ``lot`` was made from, by the transformations that made it."""
    return _links(session, lot, back=True)


def one_step_forward(session: Session, lot: Lot) -> list[LotLink]:
    """The lots made from ``lot``."""
    return _links(session, lot, back=False)


def upstream_tree(session: Session, lot: Lot) -> LotTree:
    """``lot`` and everything it was made from, down to the raw-material lots."""
    cte = upstream_ids_cte([lot.id])
    out, inp, pairs = _transformation_pairs()
    edges = session.execute(
        pairs.with_only_columns(out.lot_id, inp.lot_id, inp.event_id, inp.quantity, inp.unit)
        .where(out.lot_id.in_(select(cte.c.lot_id)))
        .order_by(out.lot_id, inp.event_id, inp.id)
    ).all()
    lot_ids = {lot.id} | {e[1] for e in edges}
    lots = {
        x.id: x
        for x in session.scalars(select(Lot).where(Lot.id.in_(lot_ids)).options(*_LOT_PARTS))
    }
    event_ids = {e[2] for e in edges}
    # The tree names each event; it does not need every event's own lot list.
    events = {
        x.id: x
        for x in session.scalars(
            select(Event).where(Event.id.in_(event_ids)).options(lazyload(Event.lots))
        )
    }
    inputs: dict[int, list[tuple[int, int, Decimal | None, str | None]]] = {}
    for output_id, input_id, event_id, quantity, unit in edges:
        inputs.setdefault(output_id, []).append((input_id, event_id, quantity, unit))
    return _build_tree(lot.id, inputs, lots, events)


def _build_tree(
    root: int,
    inputs: Mapping[int, Sequence[tuple[int, int, Decimal | None, str | None]]],
    lots: Mapping[int, Lot],
    events: Mapping[int, Event],
) -> LotTree:
    # Bottom-up without recursion: a chain of a thousand lots would exceed
    # Python's recursion limit.
    built: dict[int, LotTree] = {}
    for lot_id in _post_order(root, {k: [i[0] for i in v] for k, v in inputs.items()}):
        built[lot_id] = LotTree(
            lots[lot_id],
            tuple(
                LotInput(events[event_id], quantity, unit, built[input_id])
                for input_id, event_id, quantity, unit in inputs.get(lot_id, ())
            ),
        )
    return built[root]


def _post_order(root: K, children: Mapping[K, Sequence[K]]) -> list[K]:
    order: list[K] = []
    done: set[K] = set()
    stack: list[tuple[K, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            if node not in done:
                done.add(node)
                order.append(node)
            continue
        if node in done:
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in children.get(node, ()) if child not in done)
    return order


def journey(session: Session, lot: Lot) -> list[Event]:
    """What happened to ``lot`` and to what it was made from, oldest first.

    From the harvest in the raw-material area to the shop: every event about
    the lot itself (including a distributor receiving it), and the events that
    harvested, moved or made its ancestors. Events that turned an ancestor into
    some other lot are left out: they are another product's story.
    """
    ancestors = select(upstream_ids_cte([lot.id]).c.lot_id)
    touching = select(EventLot.event_id).where(
        or_(
            EventLot.lot_id == lot.id,
            and_(EventLot.lot_id.in_(ancestors), EventLot.role.in_(_SUBJECT_ROLES)),
        )
    )
    return list(
        session.scalars(
            select(Event)
            .where(Event.id.in_(touching), _not_corrected(Event.id))
            .order_by(Event.event_time, Event.id)
            .options(*EVENT_PARTS)
        )
    )


def events_touching(
    session: Session, lot_ids: Iterable[int], *, corrected_too: bool = False
) -> list[Event]:
    """Every event with any of these lots in any role, oldest first.

    Events that a later one corrects are left out unless ``corrected_too``.
    """
    touching = select(EventLot.event_id).where(EventLot.lot_id.in_(list(lot_ids)))
    query = (
        select(Event)
        .where(Event.id.in_(touching))
        .order_by(Event.event_time, Event.id)
        .options(*EVENT_PARTS)
    )
    if not corrected_too:
        query = query.where(_not_corrected(Event.id))
    return list(session.scalars(query))


def descendant_edges(session: Session, lot_ids: Iterable[int]) -> list[tuple[int, int, int]]:
    """(input lot, output lot, event) of every effective transformation below these lots.

    What the importer needs to tell whether new transformations would close a
    loop through records already stored.
    """
    ids = list(lot_ids)
    if not ids:
        return []
    cte = downstream_ids_cte(ids)
    out, inp, pairs = _transformation_pairs()
    rows = session.execute(
        pairs.with_only_columns(inp.lot_id, out.lot_id, out.event_id).where(
            inp.lot_id.in_(select(cte.c.lot_id))
        )
    )
    return [(i, o, e) for i, o, e in rows]


_DONE: Any = object()


def find_cycle(graph: Mapping[K, Iterable[K]]) -> list[K] | None:
    """A loop in ``graph`` (node -> successors) as [a, b, ..., a], or None if acyclic."""
    colour: dict[K, int] = {}  # 1: on the current path, 2: finished
    for start in graph:
        if colour.get(start):
            continue
        path: list[K] = [start]
        iters: list[Iterator[K]] = [iter(graph.get(start, ()))]
        colour[start] = 1
        while iters:
            nxt = next(iters[-1], _DONE)
            if nxt is _DONE:
                colour[path.pop()] = 2
                iters.pop()
            elif colour.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif not colour.get(nxt):
                colour[nxt] = 1
                path.append(nxt)
                iters.append(iter(graph.get(nxt, ())))
    return None


__all__ = [
    "EVENT_PARTS",
    "LotInput",
    "LotLink",
    "LotTree",
    "descendant_edges",
    "downstream_ids_cte",
    "events_touching",
    "find_cycle",
    "journey",
    "one_step_back",
    "one_step_forward",
    "related_lot_ids",
    "upstream_ids_cte",
    "upstream_lot_ids",
    "upstream_tree",
]
