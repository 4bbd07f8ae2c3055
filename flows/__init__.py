"""Prefect flows: compose the batch steps in tasks/ into pipeline steps and scheduled sweeps."""
