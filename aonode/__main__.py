"""`python -m aonode` is the `aonode` command."""

from aonode.cli import main

main()
