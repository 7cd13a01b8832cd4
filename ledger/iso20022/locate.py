"""Element paths for error messages: ``/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[3]/IntrBkSttlmAmt``.

A path names each element by its local name, with a 1-based index among its siblings of the same
name only where there are several (as XPath would), so it reads like the message's documentation
and a person can find the element in any editor. Paths are computed only for problems; a
``Locator`` is made per message and caches each parent's children once, so a message with
thousands of bad transactions still reports in linear time.
"""

from __future__ import annotations

import re

from lxml import etree

from ledger.iso20022.xml import local_name

__all__ = ["Locator"]

_STEP = re.compile(r"\*(?:\[(\d+)\])?")


class _Children:
    __slots__ = ("elements", "index", "steps")

    def __init__(self, parent: etree._Element) -> None:
        self.elements = [c for c in parent if isinstance(c.tag, str)]
        counts: dict[str, int] = {}
        for child in self.elements:
            counts[child.tag] = counts.get(child.tag, 0) + 1
        seen: dict[str, int] = {}
        self.steps: list[str] = []
        for child in self.elements:
            seen[child.tag] = seen.get(child.tag, 0) + 1
            name = local_name(child)
            self.steps.append(f"{name}[{seen[child.tag]}]" if counts[child.tag] > 1 else name)
        # the proxies stay alive in ``elements``, so identity is stable while this object lives
        self.index = {id(c): i for i, c in enumerate(self.elements)}


class Locator:
    """Paths of the elements under ``root``; ``root`` itself is ``/<its local name>``."""

    def __init__(self, root: etree._Element) -> None:
        self._root = root
        self._children: dict[str, _Children] = {}

    def _of(self, path: str, parent: etree._Element) -> _Children:
        children = self._children.get(path)
        if children is None:
            children = self._children[path] = _Children(parent)
        return children

    @property
    def root_path(self) -> str:
        return "/" + local_name(self._root)

    def path(self, element: etree._Element) -> str:
        """The path of ``element``, an element under this locator's root."""
        chain: list[etree._Element] = []
        node: etree._Element | None = element
        while node is not None and node != self._root:
            chain.append(node)
            node = node.getparent()
        if node is None:
            raise ValueError("the element is not under this locator's root")
        path, parent = self.root_path, self._root
        for child in reversed(chain):
            children = self._of(path, parent)
            index = children.index.get(id(child))
            if index is None:  # another proxy of the same node
                index = next(i for i, c in enumerate(children.elements) if c == child)
            path, parent = f"{path}/{children.steps[index]}", children.elements[index]
        return path

    def resolve(self, xpath: str) -> tuple[str, etree._Element] | None:
        """The path and element of libxml2's ``/*/*[2]/*`` form of a node under the root, if found."""
        steps = xpath.split("/")[1:]
        if not steps or _STEP.fullmatch(steps[0]) is None:
            return None
        path, element = self.root_path, self._root
        for step in steps[1:]:
            match = _STEP.fullmatch(step)
            if match is None:
                return None
            position = int(match.group(1) or 1) - 1
            children = self._of(path, element)
            if position >= len(children.elements):
                return None
            path, element = f"{path}/{children.steps[position]}", children.elements[position]
        return path, element
