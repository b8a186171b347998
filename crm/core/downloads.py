import os

from django.http import FileResponse, Http404


def file_download(field_file) -> FileResponse:
    """Serve a stored file as an attachment. Callers load its owner through the owner's
    selector first, so a document is readable exactly when its record is."""
    if not field_file:
        raise Http404
    try:
        handle = field_file.open("rb")
    except FileNotFoundError:
        raise Http404
    return FileResponse(handle, as_attachment=True, filename=os.path.basename(field_file.name))
