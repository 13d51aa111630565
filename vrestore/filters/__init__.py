"""Classical video filters that a model variant may run on its input (no learned weights, NumPy/OpenCV)."""
