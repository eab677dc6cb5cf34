from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render

from tucai.accounts.selectors import user_can
from tucai.campaigns.models import Campaign


def get_campaign_for(request, code: str, perm: str = "campaign.view") -> Campaign:
    """The campaign with ``code`` if the signed-in user holds ``perm`` at its institution (else 403)."""
    campaign = get_object_or_404(Campaign.objects.select_related("institution"), code=code)
    if not user_can(user=request.user, institution_id=campaign.institution_id, perm=perm):
        raise PermissionDenied
    return campaign


@login_required
def campaign_detail(request, code: str):
    campaign = get_campaign_for(request, code)
    inst = campaign.institution_id
    perms_map = {
        "office": user_can(user=request.user, institution_id=inst, perm="roster.import"),
        "capture": user_can(user=request.user, institution_id=inst, perm="checkin.perform"),
        # a class monitor (班长) follows their own class's progress and make-up list
        "class_progress": user_can(user=request.user, institution_id=inst, perm="progress.view_class"),
        "fees": user_can(user=request.user, institution_id=inst, perm="fees.view"),
        "handoff": user_can(user=request.user, institution_id=inst, perm="handoff.build"),
        "proofing": user_can(user=request.user, institution_id=inst, perm="proofing.manage"),
    }
    students_active = campaign.students.filter(status="active").count()
    return render(request, "campaigns/detail.html",
                  {"campaign": campaign, "perms_map": perms_map, "students_active": students_active})
