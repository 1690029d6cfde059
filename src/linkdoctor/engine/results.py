"""A finished crawl's results: a :class:`ResultView` over the links of its state
(:mod:`linkdoctor.engine.state`), each :class:`CheckResult` built when it is read, so a report streams
from the state instead of holding one result per link at once.

Over a state kept outside memory (``outside_memory``: a distributed crawl's, in Redis), the view holds no
object per result either: the results it picks by category are kept as positions, and its problems are
grouped on disk (:mod:`linkdoctor.problems_on_disk`).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any, TypeVar, overload

from linkdoctor.models import Alike, Category, CheckResult, Referrer
from linkdoctor.problems import Problem
from linkdoctor.problems_on_disk import group_on_disk

T = TypeVar("T")
_CATEGORIES: tuple[Category, ...] = tuple(Category)


class ResultView(Sequence[CheckResult]):
    """Results built from ``items`` by ``build`` each time they are read: a sequence (compares equal to a
    tuple of the same results, pickles and copies as one) that holds one reference per result, not one
    result. ``Report.results`` of a crawl is one.

    >>> from linkdoctor.models import Category
    >>> view = ResultView(["https://e.org/"], lambda url: CheckResult(url, Category.OK))
    >>> view == (CheckResult("https://e.org/", Category.OK),)
    True
    """

    __slots__ = ("_alike", "_build", "_category", "_items", "_located", "_memo", "outside_memory")

    def __init__(
        self,
        items: Sequence[Any],
        build: Callable[[Any], CheckResult],
        category: Callable[[Any], Category] | None = None,
        located: Callable[[Any], tuple[str, Sequence[Referrer]]] | None = None,
        alike: Callable[[Sequence[Any]], Alike | None] | None = None,
        *,
        outside_memory: bool = False,
    ) -> None:
        self._items = items
        self._build = build
        # An item's verdict, its URL and referrers, and whether items are alike, without building results.
        self._category = category
        self._located = located
        self._alike = alike
        self._memo: dict[str, Any] = {}
        # Items read from a store outside memory: what is derived from all of them is kept outside it too.
        self.outside_memory = outside_memory

    @property
    def grouper(self) -> Callable[[Iterable[CheckResult]], Sequence[Problem]] | None:
        """How :func:`~linkdoctor.problems.group_problems` groups these results: on disk when they are
        outside memory, else in memory (None)."""
        return group_on_disk if self.outside_memory else None

    def urls_and_referrers(self) -> Iterator[tuple[str, Sequence[Referrer]]]:
        """Each result's URL and referrers, in order; by ``located`` when given, without building them."""
        if self._located is not None:
            return map(self._located, self._items)
        return ((result.url, result.referrers) for result in self)

    def alike(self, indices: Sequence[int]) -> Alike | None:
        """The results at ``indices`` as :data:`~linkdoctor.models.Alike`, by ``alike`` when given (None
        when they are not alike, or it is not given)."""
        if self._alike is None:
            return None
        items = self._items
        return self._alike([items[index] for index in indices])

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()``, once per view: what several readers of one report derive from it (its problems)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[no-any-return]

    def categories(self) -> Iterator[Category]:
        """Each result's category, in order: by ``category`` when given, read once per view (a byte each)."""
        verdict = self._category
        if verdict is None:
            return (result.category for result in self)
        kept = self.memo(
            "categories", lambda: array("B", (_CATEGORIES.index(verdict(item)) for item in self._items))
        )
        return map(_CATEGORIES.__getitem__, kept)

    def of_categories(self, categories: Collection[Category]) -> ResultView:
        """The results of ``categories``: picked by ``category`` when given, so the others are never built
        (outside memory, picked by their positions, so the items are not held either)."""
        if self._category is None:
            return ResultView(
                [item for item in self._items if self._build(item).category in categories], self._build
            )
        if "categories" in self._memo:
            positions = array(
                "q", (i for i, category in enumerate(self.categories()) if category in categories)
            )
        else:  # one pass reads the items for both (a store outside memory reads them once)
            verdict, kept, positions = self._category, array("B"), array("q")
            for i, item in enumerate(self._items):
                category = verdict(item)
                kept.append(_CATEGORIES.index(category))
                if category in categories:
                    positions.append(i)
            self._memo["categories"] = kept
        items = self._items
        picked = _Picked(items, positions) if self.outside_memory else [items[i] for i in positions]
        return ResultView(
            picked,
            self._build,
            self._category,
            self._located,
            self._alike,
            outside_memory=self.outside_memory,
        )

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> CheckResult: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[CheckResult, ...]: ...
    def __getitem__(self, index: int | slice) -> CheckResult | tuple[CheckResult, ...]:
        if isinstance(index, slice):
            return tuple(map(self._build, self._items[index]))
        return self._build(self._items[index])

    def __iter__(self) -> Iterator[CheckResult]:
        return map(self._build, self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (ResultView, tuple, list)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"ResultView({len(self)} results)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (tuple, (tuple(self),))


class _Picked(Sequence[Any]):
    """The items of ``items`` at ``positions`` (ascending), read from ``items`` each time."""

    __slots__ = ("_items", "_positions")

    def __init__(self, items: Sequence[Any], positions: array[int]) -> None:
        self._items = items
        self._positions = positions

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self._items[i] for i in self._positions[index]]
        return self._items[self._positions[index]]

    def __iter__(self) -> Iterator[Any]:
        return map(self._items.__getitem__, self._positions)
