"""Sources: where snapshots come from (files, cluster dumps, the demo, live clusters)."""
