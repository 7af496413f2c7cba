"""`python -m glossdb` is the `glossdb` command."""

from .cli import main

main()
