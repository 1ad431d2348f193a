"""Keccak-256 for the modelId (spec.md §Artifact format: "modelId = keccak256(artifact bytes) …
with Ethereum's Keccak-256 (original Keccak padding, not SHA3-256)").

Hand-written because Python's standard library has only FIPS-202 SHA3 (``hashlib.sha3_256``),
whose padding appends the domain bits ``01`` before the ``10*1`` pad (first pad byte ``0x06``);
Ethereum's Keccak-256 is the pre-standard Keccak with plain ``10*1`` padding (first pad byte
``0x01``). Same permutation, different digest. This is the readable textbook Keccak-f[1600];
speed is irrelevant here (one hash per artifact).
"""

RATE_BYTES = 136  # 1600 − 2·256 bits of capacity = 1088 bits
MASK64 = (1 << 64) - 1

# Round constants RC[i] of the ι step.
ROUND_CONSTANTS = [
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]

# Rotation offsets r[x][y] of the ρ step.
ROTATIONS = [
    [0, 36, 3, 41, 18],
    [1, 44, 10, 45, 2],
    [62, 6, 43, 15, 61],
    [28, 55, 25, 21, 56],
    [27, 20, 39, 8, 14],
]


def _rotl(v: int, n: int) -> int:
    return ((v << n) | (v >> (64 - n))) & MASK64 if n else v


def keccak_f1600(a: list) -> None:
    """The permutation, in place on the 5×5 lanes ``a[x][y]`` (64-bit ints)."""
    for rc in ROUND_CONSTANTS:
        # θ
        c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rotl(c[(x + 1) % 5], 1) for x in range(5)]
        for x in range(5):
            for y in range(5):
                a[x][y] ^= d[x]
        # ρ and π
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = _rotl(a[x][y], ROTATIONS[x][y])
        # χ
        for x in range(5):
            for y in range(5):
                a[x][y] = b[x][y] ^ ((~b[(x + 1) % 5][y]) & b[(x + 2) % 5][y])
        # ι
        a[0][0] ^= rc


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (original padding ``0x01 … 0x80``), the Ethereum hash."""
    padded = bytearray(data)
    padded.append(0x01)
    while len(padded) % RATE_BYTES:
        padded.append(0x00)
    padded[-1] |= 0x80
    a = [[0] * 5 for _ in range(5)]
    for off in range(0, len(padded), RATE_BYTES):
        block = padded[off : off + RATE_BYTES]
        for i in range(RATE_BYTES // 8):
            lane = int.from_bytes(block[8 * i : 8 * i + 8], "little")
            a[i % 5][i // 5] ^= lane
        keccak_f1600(a)
    out = b"".join(a[i % 5][i // 5].to_bytes(8, "little") for i in range(4))
    return out
