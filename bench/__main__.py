"""``python -m bench COMMAND``: the maintained harness's entry point.

    python -m bench reproduce [--fresh] [--sets ...]   # the headline table, checked

Each benchmark script is also runnable on its own (``python -m bench.NAME``; the table in
bench/README.md lists them), and finished studies live in bench/studies/.
"""

from __future__ import annotations

import sys

COMMANDS = {"reproduce": "bench.reproduce"}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(f"usage: python -m bench {{{','.join(COMMANDS)}}} [options]", file=sys.stderr)
        return 2
    from importlib import import_module

    return import_module(COMMANDS[sys.argv[1]]).main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
