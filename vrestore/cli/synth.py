"""`vrestore synth`: degraded copies of clean videos (being written)."""
