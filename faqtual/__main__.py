"""``python -m faqtual``."""

from faqtual.cli import main

if __name__ == "__main__":
    main()
