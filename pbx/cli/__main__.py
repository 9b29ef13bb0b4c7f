"""`python -m pbx.cli`: the `pbx` command (so the daemon is started in the background, and tests run it)."""

from pbx.cli import main

if __name__ == "__main__":
    main()
