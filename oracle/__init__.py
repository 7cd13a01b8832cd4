"""Oracle committee node: nets a closed cycle's obligations and settles it with the committee.

``netting`` is the pure clearing engine (no chain), ``proofs`` the OpenZeppelin-compatible Merkle
trees, ``node`` the committee member that watches the chain and approves results, ``cli`` the
``oracle`` command.
"""

__version__ = "0.1.0"
