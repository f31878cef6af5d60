"""The seed: the chapter's slide deck (verbatim), the overlay, the reference facts, the loader."""

from pathlib import Path

SEED_DIR = Path(__file__).parent
DECK_PATH = SEED_DIR / "000_3f210a6317e0abc3.txt"
OVERLAY_PATH = SEED_DIR / "overlay.yaml"
REFERENCE_PATH = SEED_DIR / "reference" / "llm_facts.yaml"
