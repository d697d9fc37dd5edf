"""A background job's page: its progress, and its file once written (scan exports).

Stamp requests show their own jobs on the request's page; this one serves the
rest. The page refreshes itself while the job runs: no JavaScript needed.
"""

from __future__ import annotations

from flask import abort, current_app, render_template, send_file
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ocop.stamps.parts import FileDigest, is_intact
from ocop.workflows.exports import export_name, export_path
from ocop.workflows.jobs import Progress
from ocop.workflows.models import Job, JobKind, JobStatus

from ..database import request_session
from . import bp
from .access import ensure_own, requires

REFRESH_SECONDS = 3


def _job_or_404(job_id: int) -> Job:
    job = request_session().get(Job, job_id)
    if job is None or job.kind is not JobKind.ANALYTICS_CSV:
        abort(404)
    ensure_own(job.organisation_id)
    return job


def _ready(job: Job) -> bool:
    if job.status is not JobStatus.DONE:
        return False
    path = export_path(current_app.config["OCOP"].instance / "outputs", job.id)
    return is_intact(path, FileDigest(job.file_size or 0, job.file_sha256 or ""))


@bp.get("/jobs/<int:job_id>")
@requires("jobs.view")
def job(job_id: int) -> tuple[str, int]:
    found = _job_or_404(job_id)
    progress = Progress.of(found)
    ready = _ready(found)
    lost = found.status is JobStatus.DONE and not ready
    page = render_template(
        "console/job_detail.html",
        job=found,
        p=progress,
        ready=ready,
        lost=lost,
        name=export_name(found),
        refresh=REFRESH_SECONDS if found.active else None,
    )
    return page, 200 if ready or not found.active else 202


@bp.get("/jobs/<int:job_id>/download")
@requires("jobs.view")
def job_download(job_id: int) -> Response | tuple[str, int]:
    found = _job_or_404(job_id)
    if not _ready(found):
        title = _("Tệp chưa sẵn sàng")
        detail = _("Tệp xuất này chưa xong, hoặc đã mất; hãy xuất lại từ trang phân tích.")
        return render_template("error.html", status=409, title=title, detail=detail), 409
    path = export_path(current_app.config["OCOP"].instance / "outputs", found.id)
    response = send_file(
        path, mimetype="text/csv", as_attachment=True, download_name=export_name(found),
        conditional=False, etag=False,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
