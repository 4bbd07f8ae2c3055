"""The running pipeline: the due steps in order, the Prefect tasks around them, and blocked steps."""
