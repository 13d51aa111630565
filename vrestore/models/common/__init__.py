"""Building blocks shared by several architectures: optical flow, warping, deformable conv, residual blocks."""
