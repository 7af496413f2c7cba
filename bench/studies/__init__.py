"""Finished studies: each answered one question on SciFact train (or a fixed sample) and is
kept runnable (``python -m bench.studies.NAME``) so its figure can be checked; what each
found is in bench/README.md. None of them is part of the maintained harness."""
