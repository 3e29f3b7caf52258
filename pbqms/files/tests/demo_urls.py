"""The project's URLs plus one page holding the upload-ahead input, for the browser test."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from pbqms.urls import urlpatterns as project

PAGE = """{% extends "base.html" %}{% load pbqms_files %}
{% block content %}<section class="card form-card"><h1>附件示例</h1>
<form method="post" class="form" id="record">
  <label>党组织 <input name="unit" value="B03"></label>
  {% file_upload "B01" "pdf,image" %}
  {% include "files/_list.html" with files=files %}
</form></section>{% endblock %}"""


@login_required
def demo(request: HttpRequest) -> HttpResponse:
    from pbqms.files.models import StoredFile

    template = engines["django"].from_string(PAGE)
    return HttpResponse(template.render({"files": StoredFile.objects.filter(owner="demo:1")}, request))


urlpatterns = [path("files-demo/", demo), *project]
