"""The peers nnsym is measured against, each written in its own idiom."""
