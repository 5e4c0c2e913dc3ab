# Placeholder until the browser-editor issue lands.
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def document_list(request):
    return HttpResponse("Documents")


@login_required
def document_edit(request, document_id):
    return HttpResponse(f"Document {document_id}")
