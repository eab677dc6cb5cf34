"""Admin building blocks shared by every app.

* :class:`TucaiAdmin` — every save, delete, bulk delete and inline change writes an audit entry (old and
  new values), and a non-superuser (office staff, ``is_staff``) sees and edits only rows of the
  institutions where they hold the office role. ``scope`` names the path from the model to its
  institution.
* :class:`ReadOnlyAdmin` — records that only services may write (queue tickets, counters, scans, shots,
  the audit log): visible, never added, changed or deleted through the admin.
"""

from __future__ import annotations

from django.contrib import admin

from tucai.accounts.models import Membership, Role
from tucai.audit.services import audit_record, snapshot


def office_institution_ids(request) -> set[int]:
    """Institutions where the signed-in user holds the office role (cached on the request)."""
    cached = getattr(request, "_tucai_office_institutions", None)
    if cached is None:
        cached = set(Membership.objects.filter(user=request.user, role=Role.OFFICE)
                     .values_list("institution_id", flat=True)) if request.user.is_authenticated else set()
        request._tucai_office_institutions = cached
    return cached


def _institution_id_of(obj, scope: str) -> int | None:
    target = obj
    for part in scope.split("__"):
        target = getattr(target, part, None)
        if target is None:
            return None
    return target if isinstance(target, int) else target.pk


class ScopedMixin:
    scope: str = "institution"          # path from the model to campaigns.Institution

    def _allowed(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        inst = office_institution_ids(request)
        if not inst or not request.user.is_staff:
            return False
        return obj is None or _institution_id_of(obj, self.scope) in inst

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.scope}__in": office_institution_ids(request)})

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Offer only related rows of the user's own institutions.
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and not request.user.is_superuser:
            related = db_field.related_model
            path = RELATED_SCOPES.get(related._meta.label)
            if path is not None:
                field.queryset = field.queryset.filter(**{f"{path}__in": office_institution_ids(request)})
        return field


# How each scoped model reaches its institution (used to filter foreign-key choices).
RELATED_SCOPES = {
    "campaigns.Institution": "pk",
    "campaigns.Campaign": "institution",
    "campaigns.Department": "institution",
    "campaigns.Room": "institution",
    "campaigns.SchoolClass": "campaign__institution",
    "campaigns.Student": "campaign__institution",
    "campaigns.TimeSlot": "campaign__institution",
}


class AuditedMixin:
    """Audit entries for every write made through the admin."""

    def _audit(self, request, action: str, obj, changes: dict, note: str = "admin") -> None:
        audit_record(actor=request.user, action=f"{obj._meta.model_name}.{action}", obj=obj, changes=changes,
                     note=note)

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else {}
        super().save_model(request, obj, form, change)
        after = snapshot(obj)
        changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
        if changes or not change:
            self._audit(request, "update" if change else "create", obj, changes)

    def delete_model(self, request, obj):
        self._audit(request, "delete", obj, {k: [v, None] for k, v in snapshot(obj).items()})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The changelist's "delete selected" bypasses delete_model.
        for obj in queryset:
            self._audit(request, "delete", obj, {k: [v, None] for k, v in snapshot(obj).items()}, note="admin bulk")
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        before = {f.instance.pk: snapshot(f.instance.__class__.objects.get(pk=f.instance.pk))
                  for f in formset.forms if f.instance.pk and f.has_changed()}
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            self._audit(request, "delete", obj, {k: [v, None] for k, v in snapshot(obj).items()}, note="admin inline")
            obj.delete()
        for obj in instances:
            old = before.get(obj.pk, {})
            obj.save()
            after = snapshot(obj)
            self._audit(request, "update" if old else "create", obj,
                        {k: [old.get(k), v] for k, v in after.items() if old.get(k) != v}, note="admin inline")
        formset.save_m2m()


class TucaiAdmin(AuditedMixin, ScopedMixin, admin.ModelAdmin):
    pass


class ReadOnlyAdmin(ScopedMixin, admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
