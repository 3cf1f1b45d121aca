"""Whole-file integrity of a bottle, checked before any parser or runtime reads it.

ONNX and GGUF have no checksum of their own, so a flipped byte in a weight loads silently
and a truncated header can upset a C++ loader. Those bottles carry a seal: a metadata string
`distill.integrity` holding the digest of the whole file as written with that string still
zeroed. Checking it needs no parsing (the entry is found by its encoded key), so a corrupted
or truncated file is refused before onnx, onnxruntime, gguf-py or llama.cpp touch it.
A .pt is a zip whose members carry CRC-32s; those are checked instead.

This guards against accidents, not attackers (who can re-seal); `distill verify` compares the
weights with the digests recorded at bottling.
"""
import struct
import zipfile
from pathlib import Path

from ..errors import DistillError
from ..hashing import digest

SEAL_KEY = "distill.integrity"
UNSEALED = "0" * 32  # same length as an xxh3-128 hex digest, so sealing rewrites bytes in place


def onnx_entry_prefix() -> bytes:
    """A metadata_props entry as protobuf writes it: key (field 1) then a 32-byte value (field 2)."""
    key = SEAL_KEY.encode()
    return b"\x0a" + bytes([len(key)]) + key + b"\x12\x20"


def gguf_entry_prefix() -> bytes:
    """A GGUF key/value: u64 key length, key, u32 type (8 = string), u64 string length."""
    key = SEAL_KEY.encode()
    return struct.pack("<Q", len(key)) + key + struct.pack("<IQ", 8, 32)


def _seal_offset(data: bytes, prefix: bytes) -> int | None:
    at = data.find(prefix)
    if at < 0 or data.find(prefix, at + 1) >= 0 or at + len(prefix) + 32 > len(data):
        return None
    return at + len(prefix)


def seal(path: Path, prefix: bytes):
    """Write the digest of the file (seal zeroed) into its seal, in place."""
    data = bytearray(Path(path).read_bytes())
    at = _seal_offset(data, prefix)
    if at is None or data[at:at + 32] != UNSEALED.encode():
        raise ValueError(f"{path}: no unsealed {SEAL_KEY} entry to fill in")
    data[at:at + 32] = digest(bytes(data)).encode()
    with open(path, "r+b") as f:
        f.seek(at)
        f.write(data[at:at + 32])


def has_seal(path: Path, prefix: bytes) -> bool:
    with open(path, "rb") as f:
        return prefix in f.read()


def check_sealed(path: Path, prefix: bytes, kind: str):
    """Raise one clear DistillError unless the file is byte for byte what was bottled."""
    data = bytearray(Path(path).read_bytes())
    at = _seal_offset(data, prefix)
    if at is None:
        raise DistillError(f"{path}: not a Distillarium {kind} Spirit, or truncated/corrupted "
                           f"({len(data):,} bytes, no {SEAL_KEY} seal found)")
    recorded = bytes(data[at:at + 32]).decode("ascii", "replace")
    data[at:at + 32] = UNSEALED.encode()
    if digest(bytes(data)) != recorded:
        raise DistillError(f"{path}: corrupted {kind} Spirit: its bytes no longer match the integrity "
                           f"digest sealed in at bottling ({len(data):,} bytes); re-copy or re-bottle it")


def check_zip(path: Path):
    """A .pt is a zip: every member's CRC-32 must match (torch.load itself does not check them)."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except Exception as err:  # noqa: BLE001 - any broken archive is one line
        raise DistillError(f"{path}: not a loadable .pt Spirit, truncated or corrupted "
                           f"({type(err).__name__}: {str(err).splitlines()[0][:120] if str(err) else 'unreadable'})") from None
    if bad is not None:
        raise DistillError(f"{path}: corrupted .pt Spirit: member {bad} fails its CRC-32 check; re-copy or re-bottle it")
