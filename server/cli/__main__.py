"""``python -m server.cli``: the same as the ``leadvault`` command."""

from server.cli import main

main()
