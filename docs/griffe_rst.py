"""Griffe extension for the API reference: Sphinx roles in docstrings become Markdown code spans.

medsynth's docstrings are Google style but mention other objects with Sphinx roles
(``:class:`~medsynth.io.Volume```, ``:func:`resolve```) and reST literals (````x````). mkdocstrings
renders Markdown, so without this the roles would show as raw text. Loaded by ``mkdocs.yml``
(``extensions: [docs/griffe_rst.py:SphinxRoles]``); the docstrings themselves are not changed.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|obj|exc|const):`~?([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")


def md_docstring(text: str) -> str:
    """``:class:`~a.b.C``` -> ```C```; ``:func:`f``` -> ```f```; ````x```` -> ```x```."""
    text = _ROLE.sub(lambda m: f"`{m.group(1).rsplit('.', 1)[-1] if '~' in m.group(0) else m.group(1)}`", text)
    return _LITERAL.sub(r"`\1`", text)


class SphinxRoles(Extension):
    """Rewrite every docstring's Sphinx roles and reST literals as Markdown code spans."""

    def on_object(self, *, obj: Object, **kwargs: Any) -> None:
        """Run once per object, after the tree is built."""
        if obj.docstring is not None:
            obj.docstring.value = md_docstring(obj.docstring.value)
