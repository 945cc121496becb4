"""PDF (.pdf): the extracted text of every page, pages separated by a blank line; the title from the
document info when it has one.

A damaged, encrypted or image-only PDF is a ``Failure`` saying which, never an exception from pypdf.

Example:
    >>> load_pdf(Path("report.pdf"), Path("report.pdf").read_bytes()).title   # doctest: +SKIP
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

from corpus.article import Article
from corpus.loaders.common import Failure, clean, exc_reason
from corpus.loaders.titles import title_for


def load_pdf(path: Path, data: bytes) -> Article:
    from pypdf import PdfReader

    if b"%PDF-" not in data[:1024]:
        raise Failure("broken PDF (no %PDF- header)")
    pypdf_log = logging.getLogger("pypdf")
    previous = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # pypdf warns on every small repair; the failure reason is enough
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Failure("encrypted PDF (needs a password)")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        info_title = _pdf_title(reader)
    except Failure:
        raise
    except Exception as exc:  # pypdf raises many kinds on damaged files; any of them means "broken"
        raise Failure(f"broken PDF ({exc_reason(exc)})") from None
    finally:
        pypdf_log.setLevel(previous)
    text = "\n\n".join(page for page in pages if page)
    if not text.strip():
        raise Failure("PDF has no extractable text (scanned images?)")
    return Article.from_text(text, title=info_title or title_for(text), path=str(path))


def _pdf_title(reader) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # a damaged info dictionary should not lose the text
        return None
    return clean(title) if isinstance(title, str) else None
