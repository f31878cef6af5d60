"""Fill a database with a synthetic graph of the seeded one's shape.

    python bench/generate.py --models 100k --database-url sqlite:///bench-100k.db

The same as `paperkg bench generate`; the code lives in `api/generate.py`, so the wheel has it.
"""

import sys

from api.bench_cli import app

if __name__ == "__main__":
    app(["generate", *sys.argv[1:]])
