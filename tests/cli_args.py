"""Command lines for the CLI tests: global options go before the command.

``ledgerlearn`` takes the chain, deployment, key and store options once, at the root
(``ledgerlearn --backend rpc --rpc-url URL --manifest F model show NAME``). The tests build
option lists once per fixture and splice them in anywhere; :func:`argv` moves them in front
of the command, as a user would type them.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["argv"]

_VALUED = {"--backend", "--rpc-url", "--manifest", "--password-file", "--account", "--store-root"}
_FLAGS = {"--dev-accounts"}
_RENAMED = {"--root": "--store-root"}
# Commands whose own --keystore names the identity's keystore, not the signing account's.
_OWN_KEYSTORE = {("did", "new"), ("vrf", "key"), ("vrf", "prove")}


def argv(args: Sequence[str]) -> list[str]:
    """Return ``args`` with the global options moved before the command."""
    tokens = [_RENAMED.get(token, token) for token in args]
    own_keystore = tuple(tokens[:2]) in _OWN_KEYSTORE
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token in _VALUED or (token == "--keystore" and not own_keystore):
            front += tokens[index : index + 2]
            index += 2
        elif token in _FLAGS:
            front.append(token)
            index += 1
        else:
            rest.append(token)
            index += 1
    return [*front, *rest]
