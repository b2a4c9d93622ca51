"""The `assistant` command: one module per command group."""
