"""Visual comparisons: side-by-side/grid/split-screen videos and still-frame grids (``vrestore compare``)."""
