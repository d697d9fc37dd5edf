"""The system of record: value-chain records, their import, genealogy and EPCIS export.

Other packages import from here (or from the named modules); names with a
leading underscore are internal.
"""

from .epcis import epcis_document
from .errors import (
    ConflictingRecord,
    DatabaseNotReady,
    GenealogyCycle,
    ImportFileError,
    InvalidGtin,
    InvalidRecord,
    NotFound,
    TraceError,
)
from .genealogy import (
    LotInput,
    LotLink,
    LotTree,
    journey,
    one_step_back,
    one_step_forward,
    upstream_tree,
)
from .gtin import Gln, Gtin
from .importer import ImportSummary, import_records, load_import_file, load_sample
from .queries import (
    LotSummary,
    certificates_of,
    find_lot,
    latest_ocop_certificate,
    list_lots,
    record_recall,
    valid_ocop_certificate,
)

__all__ = [
    "ConflictingRecord",
    "DatabaseNotReady",
    "GenealogyCycle",
    "Gln",
    "Gtin",
    "ImportFileError",
    "ImportSummary",
    "InvalidGtin",
    "InvalidRecord",
    "LotInput",
    "LotLink",
    "LotSummary",
    "LotTree",
    "NotFound",
    "TraceError",
    "certificates_of",
    "epcis_document",
    "find_lot",
    "import_records",
    "journey",
    "latest_ocop_certificate",
    "list_lots",
    "load_import_file",
    "load_sample",
    "one_step_back",
    "one_step_forward",
    "record_recall",
    "upstream_tree",
    "valid_ocop_certificate",
]
