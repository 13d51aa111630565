"""``python -m vrestore``."""

from vrestore.cli import main

if __name__ == "__main__":
    main()
