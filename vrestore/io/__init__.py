"""Reading and writing videos and frame folders. The only package that imports PyAV (``av``).

Import the submodules you need (``vrestore.io.reader``, ``vrestore.io.writer``, ``vrestore.io.probe``);
this package itself imports nothing heavy so that ``vrestore.io.info`` stays cheap. Array <-> tensor
conversion lives in ``vrestore.convert`` (shared by io-free engine code and the writers' callers).
"""
