"""`rasa …` with this project's Rasa patches applied first (app/rasa_patches.py).

`eldercare serve` starts the Rasa server as `python -m app.rasa_server run …`; the arguments
are Rasa's own.
"""
from __future__ import annotations

from app import rasa_patches


def main() -> None:
    rasa_patches.apply()
    from rasa.__main__ import main as rasa_main
    rasa_main()


if __name__ == "__main__":
    main()
