"""Where the tests find the repository and the shared folder CI lays beside the clone."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLES = SHARED / "samples"
XSD = SHARED / "xsd"
