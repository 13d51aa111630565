"""Training: recipes (config), on-the-fly degraded samples (data), the loop with exact resume, checkpoints."""
