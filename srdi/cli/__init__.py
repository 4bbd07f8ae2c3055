"""The `srdi` command line (typer). Commands call domain functions and flows; no rules here."""
