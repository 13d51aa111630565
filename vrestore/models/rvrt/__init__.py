"""RVRT (Recurrent Video Restoration Transformer, NeurIPS 2022) with the official checkpoints."""
