"""`python -m nnsym` runs the command line."""

from nnsym.cli import entry_point

if __name__ == "__main__":
    entry_point()
