import pytest

from tests.conftest import make_user


@pytest.mark.django_db
def test_office_sees_preparation_and_capture_links(client, campaign, office_user):
    client.force_login(office_user)
    r = client.get(f"/c/{campaign.code}/")
    assert r.status_code == 200
    body = r.content.decode()
    assert f"/c/{campaign.code}/roster/" in body and f"/c/{campaign.code}/schedule/" in body
    assert "/stations/" in body


@pytest.mark.django_db
def test_operator_sees_capture_links_but_not_roster(client, campaign, operator_user):
    client.force_login(operator_user)
    body = client.get(f"/c/{campaign.code}/").content.decode()
    assert f"/c/{campaign.code}/roster/" not in body
    assert "/stations/" in body


@pytest.mark.django_db
def test_user_of_another_institution_is_refused(client, campaign):
    from tucai.campaigns.models import Institution

    other = Institution.objects.create(code="other", name="另一所学院")
    client.force_login(make_user("stranger", institution=other, role="office"))
    assert client.get(f"/c/{campaign.code}/").status_code == 403
