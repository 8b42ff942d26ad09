"""``python -m seedkit`` runs the CLI, so a fresh interpreter can be pointed at it directly."""

from seedkit.entry import main

main()
