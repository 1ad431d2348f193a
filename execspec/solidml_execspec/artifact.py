"""spec.md §Artifact format: decoding, encoding and the modelId.

Version 2 of the text defines artifacts of format versions 1 and 2:

    bytes 0..8   magic  "SOLIDML\\0"
    bytes 8..10  format version, u16 little-endian: 1 or 2
    bytes 10..   version 1: the Model body (postcard), nothing after it
                 version 2: the Model body, then its input_quant (a postcard sequence of
                            InputQuant), nothing after it

A model whose ``input_quant`` is empty is encoded as version 1, one whose list is non-empty as
version 2, so every model has exactly one artifact (and version-1 models keep their bytes).

Version 3 of the text (``I16``/``I32``, DenseWide) left §Artifact format as it was: the format
versions are still 1 and 2 (step 3), chosen by ``input_quant`` alone, so a DenseWide model is a
version-1 artifact, although "an artifact of version ``v`` is accepted, computed and priced by
version ``v`` of this text" (GAPS.md §33).
"""

from __future__ import annotations

from . import postcard
from .errors import ValidationError
from .keccak import keccak256
from .model import INPUT_QUANT_LIST, MODEL, Model

MAGIC = b"SOLIDML\x00"  # 53 4F 4C 49 44 4D 4C 00
FORMAT_VERSIONS = (1, 2)  # the artifact format versions the text (versions 2 and 3) defines
HEADER_LEN = 10  # magic (8) + version (u16 little-endian)
MAX_ARTIFACT_BYTES = 256 * 1024 * 1024  # 268 435 456


def format_version(model: Model) -> int:
    """The version a model's artifact has: 1 when ``input_quant`` is empty, else 2."""
    return 2 if model.input_quant else 1


def _bytes(model: Model) -> bytes:
    """Magic, the version the list calls for, the postcard body and (version 2) the list."""
    version = format_version(model)
    out = MAGIC + version.to_bytes(2, "little") + postcard.encode(MODEL, model)
    if version == 2:
        out += postcard.encode(INPUT_QUANT_LIST, model.input_quant)
    return out


def decode(artifact: bytes) -> Model:
    """``decode``: accept an artifact only if, in this order,

    1. ``[artifact.size]`` its length is at most ``MAX_ARTIFACT_BYTES``;
    2. ``[artifact.magic]`` it is at least 10 bytes long and starts with the magic;
    3. ``[artifact.version]`` the version is 1 or 2;
    4. ``[artifact.decode]`` postcard decodes a ``Model`` from bytes 10.. and, in version 2,
       then a sequence of ``InputQuant`` (in version 1 the list is empty), with no trailing
       bytes;
    5. the model passes validation;
    6. ``[artifact.canonical]`` re-encoding the decoded model, with the version its
       ``input_quant`` calls for, gives back exactly the artifact's bytes (this rejects
       over-long varints, and a version-2 artifact whose list is empty).
    """
    from .validate import validate

    if len(artifact) > MAX_ARTIFACT_BYTES:
        raise ValidationError("artifact.size", f"artifact of {len(artifact)} bytes exceeds {MAX_ARTIFACT_BYTES}")
    if len(artifact) < HEADER_LEN or artifact[:8] != MAGIC:
        raise ValidationError("artifact.magic", "not a SolidML artifact (missing the magic)")
    version = int.from_bytes(artifact[8:10], "little")
    if version not in FORMAT_VERSIONS:
        raise ValidationError("artifact.version", f"artifact format version {version} is not supported")
    body = artifact[HEADER_LEN:]
    try:
        model, used = postcard.decode(MODEL, body)
        if version == 2:
            input_quant, more = postcard.decode(INPUT_QUANT_LIST, body[used:])
            model.input_quant = input_quant
            used += more
    except postcard.DecodeError as e:
        raise ValidationError("artifact.decode", f"artifact is truncated or malformed: {e}") from e
    if used != len(body):
        raise ValidationError("artifact.decode", f"artifact has {len(body) - used} trailing bytes after the model")
    validate(model)
    if _bytes(model) != artifact:
        raise ValidationError("artifact.canonical", "artifact is not in canonical encoding")
    return model


def encode(model: Model) -> bytes:
    """``encode``: validate, then magic, version (1 when ``input_quant`` is empty, else 2), the
    postcard body and (version 2) the list; ``TooLarge`` over the limit."""
    from .validate import validate

    validate(model)
    out = _bytes(model)
    if len(out) > MAX_ARTIFACT_BYTES:
        raise ValidationError("artifact.size", "TooLarge")
    return out


def model_id(artifact: bytes) -> bytes:
    """modelId ``= keccak256(artifact bytes)``, the whole artifact including magic and version."""
    return keccak256(artifact)
