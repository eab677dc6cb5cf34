from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from tucai.accounts.selectors import user_institutions


@login_required
def home(request):
    return render(request, "core/home.html", {"institutions": user_institutions(user=request.user)})


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the icon (no 404 per page view).
    Resolved per request: the static storage's manifest may not exist when the URLconf loads."""
    from django.http import HttpResponsePermanentRedirect
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("tucai/favicon.svg"))
