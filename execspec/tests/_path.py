"""Put ``execspec/`` on the import path and locate the repository's vectors."""

import os
import sys

EXECSPEC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(EXECSPEC)
VECTORS = os.path.join(REPO, "docs", "spec", "vectors")
CONSENSUS = os.path.join(REPO, "docs", "spec")
if EXECSPEC not in sys.path:
    sys.path.insert(0, EXECSPEC)
