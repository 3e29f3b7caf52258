from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def import_page(request):  # placeholder until the capability's views land
    return HttpResponse("roster")
