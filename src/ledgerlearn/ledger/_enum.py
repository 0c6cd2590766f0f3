"""Solidity enums in Python: the base of the generated :mod:`ledgerlearn.ledger.enums`.

A Solidity enum is a ``uint8`` in the ABI; its Python twin is an ``IntEnum`` with the same
members in the same order, so a value read from a contract converts with ``Enum(value)``
and a member passes to a contract function as the integer it is. ``label`` gives the
lower-case name people and JSON documents use (``NotSampled`` → ``not-sampled``).

Trust assumption: none; the members come from the compiler's AST of our own contracts.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Self

__all__ = ["SolidityEnum"]


class SolidityEnum(IntEnum):
    """An ``IntEnum`` mirroring a Solidity enum."""

    @property
    def label(self) -> str:
        """The member's name in lower case, words joined by ``-`` (``not-sampled``)."""
        return self.name.lower().replace("_", "-")

    @classmethod
    def parse(cls, text: str) -> Self:
        """Return the member whose :attr:`label` or name is ``text`` (any case).

        Parameters
        ----------
        text
            ``"not-sampled"``, ``"NOT_SAMPLED"`` or ``"not_sampled"``.

        Returns
        -------
        Self
            The member.

        Raises
        ------
        ValueError
            If no member has that name; the message lists the valid ones.
        """
        wanted = text.strip().lower().replace("_", "-")
        for member in cls:
            if member.label == wanted:
                return member
        choices = ", ".join(member.label for member in cls)
        raise ValueError(f"{text!r} is not a {cls.__name__}; use one of {choices}")

    def __str__(self) -> str:
        return self.label
