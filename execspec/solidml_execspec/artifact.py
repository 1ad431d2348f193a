"""spec.md §Artifact format: decoding, encoding and the modelId."""

from __future__ import annotations

from . import postcard
from .errors import ValidationError
from .keccak import keccak256
from .model import MODEL, Model

MAGIC = b"SOLIDML\x00"  # 53 4F 4C 49 44 4D 4C 00
FORMAT_VERSION = 1
HEADER_LEN = 10  # magic (8) + version (u16 little-endian)
MAX_ARTIFACT_BYTES = 256 * 1024 * 1024  # 268 435 456


def decode(artifact: bytes) -> Model:
    """``decode``: accept an artifact only if, in this order,

    1. its length is at most ``MAX_ARTIFACT_BYTES``;
    2. it is at least 10 bytes long and starts with the magic;
    3. the version is 1;
    4. postcard decodes a ``Model`` from bytes 10.. with no trailing bytes;
    5. the model passes validation;
    6. re-encoding the decoded model gives back exactly bytes 10.. (canonical encoding).
    """
    from .validate import validate

    if len(artifact) > MAX_ARTIFACT_BYTES:
        raise ValidationError("artifact.size", f"artifact of {len(artifact)} bytes exceeds {MAX_ARTIFACT_BYTES}")
    if len(artifact) < HEADER_LEN or artifact[:8] != MAGIC:
        raise ValidationError("artifact.magic", "not a SolidML artifact (missing the magic)")
    version = int.from_bytes(artifact[8:10], "little")
    if version != FORMAT_VERSION:
        raise ValidationError("artifact.version", f"artifact format version {version} is not supported")
    body = artifact[HEADER_LEN:]
    try:
        model, used = postcard.decode(MODEL, body)
    except postcard.DecodeError as e:
        raise ValidationError("artifact.decode", f"artifact is truncated or malformed: {e}") from e
    if used != len(body):
        raise ValidationError("artifact.decode", f"artifact has {len(body) - used} trailing bytes after the model")
    validate(model)
    if postcard.encode(MODEL, model) != body:
        raise ValidationError("artifact.canonical", "artifact is not in canonical encoding")
    return model


def encode(model: Model) -> bytes:
    """``encode``: validate, then magic, version, postcard bytes; ``TooLarge`` over the limit."""
    from .validate import validate

    validate(model)
    out = MAGIC + FORMAT_VERSION.to_bytes(2, "little") + postcard.encode(MODEL, model)
    if len(out) > MAX_ARTIFACT_BYTES:
        raise ValidationError("artifact.size", "TooLarge")
    return out


def model_id(artifact: bytes) -> bytes:
    """modelId ``= keccak256(artifact bytes)``, the whole artifact including magic and version."""
    return keccak256(artifact)
