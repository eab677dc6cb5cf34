from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from tucai.accounts.selectors import user_institutions


@login_required
def home(request):
    return render(request, "core/home.html", {"institutions": user_institutions(user=request.user)})
