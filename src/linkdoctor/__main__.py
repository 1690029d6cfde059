"""``python -m linkdoctor``."""

from linkdoctor.cli import main

if __name__ == "__main__":
    main()
