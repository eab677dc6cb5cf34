"""Who may see and do what, scoped to an institution."""

from __future__ import annotations

from django.db.models import QuerySet

from tucai.accounts.models import Membership, Role, User
from tucai.core.errors import PermissionDenied

# What each role may do. Superusers may do everything.
PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OFFICE: frozenset({
        "campaign.view", "campaign.edit", "roster.import", "roster.export", "schedule.edit", "student.view_full_id",
        "checkin.perform", "queue.operate", "station.operate", "photo.override", "progress.view", "audit.view",
        "fees.record", "fees.view", "fees.void", "handoff.build", "proofing.manage",
    }),
    # The capture unit's staff take the class money on site (NOTICE2024: 班长…统一以班为单位交新华社相关工作人员)
    # and make-up students pay them; voiding a payment is left to the office.
    Role.OPERATOR: frozenset({
        "campaign.view", "checkin.perform", "queue.operate", "station.operate", "photo.override", "progress.view",
        "fees.record", "fees.view",
    }),
    Role.MONITOR: frozenset({"campaign.view", "progress.view_class"}),
    Role.STUDENT: frozenset(),
}


def user_roles(*, user: User, institution_id: int) -> set[str]:
    if not user.is_authenticated:
        return set()
    return set(Membership.objects.filter(user=user, institution_id=institution_id).values_list("role", flat=True))


def user_can(*, user: User, institution_id: int, perm: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(perm in PERMISSIONS.get(role, ()) for role in user_roles(user=user, institution_id=institution_id))


def require(*, user: User, institution_id: int, perm: str) -> None:
    """Raise :class:`PermissionDenied` unless ``user`` holds ``perm`` at the institution."""
    if not user_can(user=user, institution_id=institution_id, perm=perm):
        raise PermissionDenied()


def user_class_scope(*, user: User, campaign, perm: str) -> frozenset[int] | None:
    """Which classes of ``campaign`` ``user`` may follow: ``None`` for all of them (holders of ``perm``),
    the classes a monitor (班长) looks after (``progress.view_class`` and their memberships' class), or
    :class:`PermissionDenied`. A monitor chases their own classmates, not other classes' names."""
    if user_can(user=user, institution_id=campaign.institution_id, perm=perm):
        return None
    if user_can(user=user, institution_id=campaign.institution_id, perm="progress.view_class"):
        ids = frozenset(Membership.objects.filter(
            user=user, institution_id=campaign.institution_id, role=Role.MONITOR,
            school_class__campaign=campaign).values_list("school_class_id", flat=True))
        if ids:
            return ids
    raise PermissionDenied()


def user_sees_full_id(*, user: User, institution_id: int) -> bool:
    """Operators of the capture unit see ID numbers masked; office staff see them whole."""
    return user_can(user=user, institution_id=institution_id, perm="student.view_full_id")


def user_institutions(*, user: User) -> QuerySet:
    from tucai.campaigns.models import Institution

    if not user.is_authenticated:
        return Institution.objects.none()
    if user.is_superuser:
        return Institution.objects.all()
    return Institution.objects.filter(memberships__user=user).distinct()
