"""Building blocks shared by the recurrent video models (PGDENet, RVRT): optical flow, warping, deformable conv."""
