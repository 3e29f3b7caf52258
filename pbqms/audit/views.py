from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def log(request):  # placeholder until the capability's views land
    return HttpResponse("audit")
