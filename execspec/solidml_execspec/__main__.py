"""``python3 -m solidml_execspec replay DIR_OR_FILES…`` | ``diff DIR``."""

import sys

from .replay import replay_files

USAGE = "usage: python3 -m solidml_execspec replay DIR_OR_FILE… | diff DIR"


def main(argv):
    if len(argv) < 2 or argv[0] not in ("replay", "diff"):
        print(USAGE, file=sys.stderr)
        return 2
    if argv[0] == "replay":
        passed, total, failures = replay_files(argv[1:])
        return 0 if passed == total and not failures else 1
    # diff: randomized cases (CPU outputs) — every mismatch and every rejection is a disagreement
    passed, total, failures = replay_files(argv[1:], verbose=False, label="diff")
    for path, r in failures:
        print(f"DISAGREE {path} {r.name}: {r.detail}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
