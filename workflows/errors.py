"""Errors of the workflows. The edges catch the domain base class and say the message
in the reader's language."""

from __future__ import annotations

from ocop.trace.errors import DomainError, Renderable


class WorkflowError(DomainError):
    """Base of every error a workflow raises on purpose; ``str()`` is for the user."""

    code = "workflow_error"


class InvalidInput(WorkflowError):
    """A form or request field is wrong; ``field`` names it when one can be named."""

    code = "invalid_input"

    def __init__(
        self, message: str | Renderable, /, field: str | None = None, **params: object
    ) -> None:
        super().__init__(message, **params)
        self.field = field


class SignInRefused(WorkflowError):
    """Wrong email or password, a locked or disabled account: one message for all."""

    code = "sign_in_refused"


class WeakPassword(InvalidInput):
    """A new password that does not meet the policy."""

    code = "weak_password"


class AccountExists(WorkflowError):
    """An account with this email is already there."""

    code = "account_exists"


class AccountState(WorkflowError):
    """The account is not in a state that allows this (already disabled, your own)."""

    code = "account_state"


class OutOfScope(WorkflowError):
    """The organisation is not governed by the acting officer's council (access.Actor.governs)."""

    code = "out_of_scope"


class TokenRefused(WorkflowError):
    """An API token that is missing, unknown or revoked."""

    code = "token_refused"


# --- records edited in the console ---


class AlreadyRecorded(WorkflowError):
    """A "new" form names a record that exists with other content: change it on its page."""

    code = "already_recorded"


class NotApproved(InvalidInput):
    """The product has not been approved by an authority yet."""

    code = "not_approved"


class FacilityCodeTaken(InvalidInput):
    """A new facility's code is already someone's: creating must never update."""

    code = "facility_code_taken"


# --- stamp requests ---


class RequestRefused(WorkflowError):
    """A stamp request that cannot be made or decided as asked; ``field`` names the input."""

    code = "request_refused"

    def __init__(
        self, message: str | Renderable, /, field: str | None = None, **params: object
    ) -> None:
        super().__init__(message, **params)
        self.field = field


class RequestConflict(RequestRefused):
    """The request is no longer in the state the action needs (decided already, say)."""

    code = "request_conflict"


class IssuanceFailed(WorkflowError):
    """An approved request whose batch could not be issued; the request says why."""

    code = "issuance_failed"


# --- receiving ---


class ReceivingRefused(WorkflowError):
    """A receipt that cannot be recorded as asked."""

    code = "receiving_refused"


class NothingToReceive(ReceivingRefused):
    """No lot of the delivery passed the check (or none of those chosen did)."""

    code = "nothing_to_receive"


class PhotoTooLarge(ReceivingRefused):
    """Photos over the pixel budget, refused before any is decoded."""

    code = "photo_too_large"


class ReceiptConflict(ReceivingRefused):
    """The receipt's id was already used for a different receipt."""

    code = "receipt_conflict"


# --- fake-stamp reports ---


class ReportRefused(WorkflowError):
    """A report cannot be handled as asked (already handled, a note too long)."""

    code = "report_refused"


class ReportAlreadyHandled(ReportRefused):
    """Someone handled this report before."""

    code = "report_already_handled"


class NotAStamp(ReportRefused):
    """A report about text that does not even parse as a stamp code: there is nothing to report."""

    code = "not_a_stamp"


class UnknownStamp(WorkflowError):
    """No batch with this number, or no stamp with this index in it."""

    code = "unknown_stamp"


# --- confirmations (recall, void, revoke, reject) ---


class ConfirmationMissing(WorkflowError):
    """An irreversible action sent without its confirmation step (an old form, a forged post)."""

    code = "confirmation_missing"


class ConfirmationStale(WorkflowError):
    """The facts confirmed (batches, stamps, status) are no longer what the action changes."""

    code = "confirmation_stale"

# --- product photos ---


class PhotoRefused(WorkflowError):
    """An uploaded product photo that is not kept; nothing of it is stored."""

    code = "photo_refused"


class PhotoEmpty(PhotoRefused):
    code = "photo_empty"


class PhotoTooBig(PhotoRefused):
    """More bytes than a product photo may have."""

    code = "photo_too_big"


class PhotoNotAnImage(PhotoRefused):
    """Not a JPEG, PNG or WebP by its own first bytes (an SVG, a document, a program)."""

    code = "photo_not_an_image"


class PhotoTooManyPixels(PhotoRefused):
    """A picture whose header claims more pixels than we decode (a decompression bomb)."""

    code = "photo_too_many_pixels"


class PhotoDamaged(PhotoRefused):
    """A picture that starts right but cannot be decoded to the end (truncated, corrupt)."""

    code = "photo_damaged"


class TooManyPhotos(PhotoRefused):
    code = "too_many_photos"


class PhotoNotFound(PhotoRefused):
    code = "photo_not_found"
