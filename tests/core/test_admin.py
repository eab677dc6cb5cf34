"""The admin: office staff see only their institution, every write is audited, service-owned records are read-only."""

import pytest

from tests.conftest import make_user
from tucai.audit.models import AuditEntry


@pytest.fixture
def office_staff(institution):
    user = make_user("office-staff", institution=institution, role="office")
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def other_student(db):
    from tucai.campaigns.models import Campaign, Department, Institution, SchoolClass, Student

    other = Institution.objects.create(code="other", name="另一所学院")
    camp = Campaign.objects.create(institution=other, code="other-2024", name="别校", graduation_year=2024,
                                   capture_start="2023-03-03", capture_end="2023-03-03")
    dep = Department.objects.create(institution=other, name="别院")
    cls = SchoolClass.objects.create(campaign=camp, department=dep, name="别班")
    return Student.objects.create(campaign=camp, school_class=cls, student_no="X1", name="外校生",
                                  doc_number="11010519491231002X")


@pytest.mark.django_db
def test_office_staff_see_only_their_institution(client, office_staff, make_student, other_student):
    mine = make_student(name="本校生")
    client.force_login(office_staff)
    body = client.get("/admin/campaigns/student/").content.decode()
    assert "本校生" in body and "外校生" not in body
    assert client.get(f"/admin/campaigns/student/{mine.pk}/change/").status_code == 200
    assert client.get(f"/admin/campaigns/student/{other_student.pk}/change/").status_code in (302, 403, 404)


@pytest.mark.django_db
def test_admin_edit_of_campaign_fee_is_audited(client, office_staff, campaign):
    client.force_login(office_staff)
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update(institution=campaign.institution_id, fee_per_student_fen=2500,
                capture_start="2023-03-03", capture_end="2023-03-03", notice_date="")
    r = client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="campaign.update")
    assert entry.changes["fee_per_student_fen"] == [2000, 2500] and entry.actor == office_staff


@pytest.mark.django_db
def test_bulk_delete_in_the_admin_is_audited(client, office_staff, make_student):
    s1, s2 = make_student(), make_student()
    client.force_login(office_staff)
    r = client.post("/admin/campaigns/student/", {"action": "delete_selected", "_selected_action": [s1.pk, s2.pk],
                                                  "post": "yes"})
    assert r.status_code == 302
    deleted = AuditEntry.objects.filter(action="student.delete").values_list("entity_id", flat=True)
    assert sorted(deleted) == sorted([str(s1.pk), str(s2.pk)])


@pytest.mark.django_db
def test_service_owned_records_are_read_only(client, office_staff):
    client.force_login(office_staff)
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    assert client.get("/admin/stations/shot/add/").status_code == 403


@pytest.mark.django_db
def test_operators_without_staff_flag_cannot_enter_the_admin(client, operator_user):
    client.force_login(operator_user)
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["ticket", "ticketcounter", "checkinscan", "capturecode"])
def test_numbers_and_scans_cannot_be_edited_or_deleted_in_the_admin(client, django_user_model, model):
    # Deleting a counter or adding a ticket by hand would break number allocation for the room.
    admin_user = django_user_model.objects.create_superuser("root", password="pw-Tucai-2024!")
    client.force_login(admin_user)
    assert client.get(f"/admin/capture/{model}/").status_code == 200
    assert client.get(f"/admin/capture/{model}/add/").status_code == 403
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    from django.apps import apps

    ma = django_admin.site._registry[apps.get_model("capture", model)]
    request = RequestFactory().get("/")
    request.user = admin_user
    assert not ma.has_change_permission(request) and not ma.has_delete_permission(request)
