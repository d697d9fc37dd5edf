"""Signed stamps: the token, issuance, printable outputs, verification and scans."""

from .errors import StampError
from .issuance import IssuedStamp, generate_stamps, open_batch, parse_count, void_batch
from .models import BatchStatus, ScanLog, StampBatch, StampScan
from .offline import OfflineResult, Reason, VerdictStatus, verify_offline
from .pin import PinSecret
from .scans import ScanSummary, claim_pin, record_scan
from .serial import Serial
from .token import StampToken
from .verify import ScanContext, Verdict, Verifier

__all__ = [
    "BatchStatus",
    "IssuedStamp",
    "OfflineResult",
    "PinSecret",
    "Reason",
    "ScanContext",
    "ScanLog",
    "ScanSummary",
    "Serial",
    "StampBatch",
    "StampError",
    "StampScan",
    "StampToken",
    "Verdict",
    "VerdictStatus",
    "Verifier",
    "claim_pin",
    "generate_stamps",
    "open_batch",
    "parse_count",
    "record_scan",
    "verify_offline",
    "void_batch",
]
