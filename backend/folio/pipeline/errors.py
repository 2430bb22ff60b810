"""The pipeline's errors: bad documents and settings, with codes the CLI and the API reuse."""

from __future__ import annotations

from folio.errors import FolioError


class PipelineError(FolioError):
    """Base of every expected pipeline failure: the document or the settings."""

    code = "pipeline_error"
    http_status = 422


class InputError(PipelineError):
    """The document itself cannot be processed as given."""

    code = "invalid_input"


class EmptyFile(InputError):
    code = "empty_file"


class NotAPdf(InputError):
    code = "not_a_pdf"
    http_status = 415


class DamagedPdf(InputError):
    code = "damaged_pdf"


class PasswordRequired(InputError):
    code = "password_required"


class WrongPassword(InputError):
    code = "wrong_password"


class NoPages(InputError):
    code = "no_pages"


class TooManyPages(InputError):
    code = "too_many_pages"
    http_status = 413


class FileTooLarge(InputError):
    code = "file_too_large"
    http_status = 413


class InvalidSettings(PipelineError):
    """Processing settings that cannot work together (for example min words above the limit)."""

    code = "invalid_settings"
    http_status = 400


class DocumentTooComplex(InputError):
    """Reading the document broke a bound: memory, time or a page budget."""

    code = "document_too_complex"


class PageTooComplex(DocumentTooComplex):
    """One page broke a budget; `page` is its number. Extraction skips it and goes on."""

    code = "page_too_complex"

    def __init__(self, page: int, message: str) -> None:
        super().__init__(message)
        self.page = page

    def __reduce__(self) -> tuple[object, ...]:
        # Crosses a process boundary (the sandbox's pipe): pickle both arguments.
        return (type(self), (self.page, self.message))


class OcrUnavailable(InputError):
    """A page needs OCR and Tesseract, or the data of the document's language, is missing."""

    code = "ocr_unavailable"


class NoText(InputError):
    """No page of the document gave any text: no text layer, and OCR off or found nothing."""

    code = "no_text"


class ExtractionStopped(Exception):
    """Extraction was asked to stop between two pages (a cancel): not an error of the input."""
