"""Domain steps. Modules here are plain Python acting on sets of rows; ``tasks.pipeline.prefect_tasks`` wraps
the batch steps as Prefect tasks for the flows in ``flows/``."""
